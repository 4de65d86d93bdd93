/*
 * url.c - the daemon's archive behind a URL: the remote io's messages go
 * to fuse_log, its failures at open to an exit status of their own.
 *
 * Secrets.  Credentials come from the environment or a file, never the
 * command line; what is shown (messages, the fsname in /proc/mounts, the
 * user.ozx.* attributes, which never name the source) is the URL without
 * user info or query string, made printable.
 */
#include "config.h"

#include "url.h"
#include "esc.h"
#include "source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void url_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fuse_log((enum fuse_log_level)level, "%s\n", msg);
}

int ozxfs_open_url(struct ozxfs *fs)
{
	const char *arg = fs->opts.archive_arg;
	struct ozx_remote_opts o = fs->opts.remote;
	struct ozx_remote_stats st;
	struct ozx_remote_err err = { 0 };
	struct ozx_diag diag = { 0 };
	char shown[1024];
	int ret;

	/* The name to show, before anything can fail. */
	ozx_url_redact(arg, shown, sizeof(shown));
	fs->archive_path = strdup(shown);
	fs->archive_esc = esc_dup(shown, strlen(shown));
	if (!fs->archive_path || !fs->archive_esc) {
		fuse_log(FUSE_LOG_ERR, "out of memory\n");
		return OZXFS_EXIT_UNREADABLE;
	}

	o.log = url_log;
	o.log_ctx = fs;
	ret = source_open_url(arg, &o, &fs->remote, &fs->archive, &diag, &err);
	if (ret == -EINVAL && err.msg[0]) {
		fuse_log(FUSE_LOG_ERR, "cannot open archive '%s': %s\n",
			 fs->archive_esc, err.msg);
		return OZXFS_EXIT_UNREADABLE;
	}
	if (ret == -EINVAL || ret == -EFBIG) {
		fuse_log(FUSE_LOG_ERR,
			 "'%s' is not a usable archive: %s (at offset %llu)\n",
			 fs->archive_esc,
			 diag.what ? diag.what : strerror(-ret),
			 (unsigned long long)diag.off);
		return OZXFS_EXIT_UNUSABLE;
	}
	if (ret) {
		fuse_log(FUSE_LOG_ERR, "cannot open archive '%s': %s\n",
			 fs->archive_esc,
			 err.msg[0] ? err.msg : strerror(-ret));
		return ret == -ENOENT || ret == -EACCES ? OZXFS_EXIT_REFUSED :
							  OZXFS_EXIT_UNREADABLE;
	}
	fs->info = ozx_archive_info(fs->archive);
	ozx_remote_stats(fs->remote, &st);
	fuse_log(FUSE_LOG_INFO,
		 "archive '%s': %llu bytes, indexed with %llu requests\n",
		 fs->archive_esc,
		 (unsigned long long)ozx_remote_size(fs->remote),
		 (unsigned long long)st.requests);
	if (!ozx_remote_pinned_by(fs->remote))
		fuse_log(FUSE_LOG_WARNING,
			 "the server sent no ETag nor Last-Modified for '%s': "
			 "a replacement of the same size goes unnoticed\n",
			 fs->archive_esc);
	return OZXFS_EXIT_OK;
}
