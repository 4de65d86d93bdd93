/*
 * idle.h - -o idle_timeout=SECONDS: a timer thread that unmounts the tree
 * once nobody has used it for SECONDS (see idle.c).
 */
#ifndef OZXFS_IDLE_H
#define OZXFS_IDLE_H

#include "ozxfs.h"

/*
 * Start the timer for fs, whose tree is mounted on mountpoint (an absolute
 * path), with fs->opts.idle_timeout > 0.  Call it after fuse_daemonize()
 * (a fork keeps no threads) and before the session loop.  Sets *out to the
 * timer, or NULL on failure.  Returns 0, -ENOMEM, or the -errno of stat(2)
 * of the mount point or of pthread_create(3).
 */
int ozxfs_idle_new(struct ozxfs *fs, const char *mountpoint,
		   struct ozxfs_idle **out);

/*
 * Stop the timer and free it: returns once its thread has ended (an
 * unmount in progress completes first).  NULL is a no-op.
 */
void ozxfs_idle_free(struct ozxfs_idle *idle);

#endif /* OZXFS_IDLE_H */
