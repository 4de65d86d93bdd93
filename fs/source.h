/*
 * source.h - opening the archive a command line names, for the daemon and
 * the ozx tool alike: a path, or a URL (http://, https://, s3://) read
 * through the core's remote io.
 */
#ifndef OZXFS_SOURCE_H
#define OZXFS_SOURCE_H

#include "ozx.h"
#include "ozx_remote.h"

/*
 * Open the archive at url with the remote io (o may be NULL: defaults)
 * and index it.  On success sets *remote and *archive: free the archive
 * first, then the remote.  Returns 0, or as ozx_remote_open() (err says
 * more), or as ozx_archive_open_io() (diag says more).
 */
int source_open_url(const char *url, const struct ozx_remote_opts *o,
		    struct ozx_remote **remote, struct ozx_archive **archive,
		    struct ozx_diag *diag, struct ozx_remote_err *err);

#endif /* OZXFS_SOURCE_H */
