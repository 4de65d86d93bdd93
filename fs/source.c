/*
 * source.c - see source.h.
 */
#include "config.h"

#include "source.h"

#include <stddef.h>

int source_open_url(const char *url, const struct ozx_remote_opts *o,
		    struct ozx_remote **remote, struct ozx_archive **archive,
		    struct ozx_diag *diag, struct ozx_remote_err *err)
{
	struct ozx_remote *r;
	struct ozx_io io;
	int ret;

	*remote = NULL;
	*archive = NULL;
	ret = ozx_remote_open(url, o, &r, err);
	if (ret)
		return ret;
	io = ozx_remote_io(r);
	/* The archive keeps a copy of io, whose ctx is r: r outlives it. */
	ret = ozx_archive_open_io(&io, ozx_remote_size(r), archive, diag);
	if (ret) {
		ozx_remote_free(r);
		return ret;
	}
	*remote = r;
	return 0;
}
