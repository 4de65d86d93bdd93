/*
 * opts.h - the command line of ozxfs: its own options, the two operands,
 * and the mount(8)/fstab options it accepts and ignores.
 */
#ifndef OZXFS_OPTS_H
#define OZXFS_OPTS_H

#include "ozxfs.h"

/*
 * Take ozxfs's options and the archive operand out of args, leaving the
 * mount point and everything meant for libfuse in it, then check every
 * value.  With -h or -V, stops before checking (see opts->show_*).  Returns
 * 0, or -1 after printing why the command line is unusable (exit status
 * OZXFS_EXIT_USAGE).  Call ozxfs_opts_free() in either case.
 */
int ozxfs_opts_parse(struct fuse_args *args, struct ozxfs_opts *opts);

/* Free what ozxfs_opts_parse() allocated. */
void ozxfs_opts_free(struct ozxfs_opts *opts);

/* Print --help to stdout: ozxfs's part, then libfuse's. */
void ozxfs_opts_help(const char *progname);

/* Print --version to stdout. */
void ozxfs_opts_version(void);

#endif /* OZXFS_OPTS_H */
