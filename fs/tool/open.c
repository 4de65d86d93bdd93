/*
 * open.c - the archive an ozx command names: a path, or a URL
 * (http://, https://, s3://) read through the core's remote io (see
 * tool.h).  For a URL, messages show it without user info or query
 * string, and the remote io's own messages (a retry given up, the object
 * replaced) go to stderr as warnings.
 */
#include "config.h"

#include "tool.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tool_url_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= OZX_LOG_WARNING)
		tool_warn("%s", msg);
}

int tool_archive_open(const char *arg, bool anonymous, struct ozx_archive **a,
		      struct ozx_remote **r, struct ozx_diag *diag)
{
	struct ozx_remote_opts o;
	struct ozx_remote_err err = { 0 };
	char shown[1024];
	char *e;
	int ret;

	*r = NULL;
	if (!ozx_is_url(arg))
		return ozx_archive_open(arg, a, diag);
	ozx_remote_opts_init(&o);
	o.log = tool_url_log;
	o.anonymous = anonymous;
	ret = source_open_url(arg, &o, r, a, diag, &err);
	if (ret == 0 || ((ret == -EINVAL || ret == -EFBIG) && !err.msg[0]))
		return ret;
	ozx_url_redact(arg, shown, sizeof(shown));
	e = tool_esc(shown, strlen(shown));
	tool_err("cannot open '%s': %s", e,
		 err.msg[0] ? err.msg : strerror(-ret));
	tool_esc_free(e);
	return TOOL_OPEN_SAID;
}

void tool_archive_close(struct ozx_archive *a, struct ozx_remote *r)
{
	ozx_archive_free(a);
	ozx_remote_free(r);
}

char *tool_shown(const char *arg)
{
	char shown[1024];

	if (!ozx_is_url(arg))
		return tool_esc(arg, strlen(arg));
	ozx_url_redact(arg, shown, sizeof(shown));
	return tool_esc(shown, strlen(shown));
}
