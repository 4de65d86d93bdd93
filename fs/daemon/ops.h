/*
 * ops.h - the FUSE low-level operations of ozxfs and what they need set up.
 */
#ifndef OZXFS_OPS_H
#define OZXFS_OPS_H

#include "ozxfs.h"

/*
 * A session serving fs (whose archive is open) with ozxfs's operations,
 * from the libfuse arguments args.  Also creates the per-thread read
 * buffers' key.  Returns NULL after libfuse or this function has logged
 * why (an unknown option, most likely).
 */
struct fuse_session *ozxfs_ll_session_new(struct fuse_args *args,
					  struct ozxfs *fs);

/* Destroy a session from ozxfs_ll_session_new() and its buffers. */
void ozxfs_ll_session_destroy(struct fuse_session *se, struct ozxfs *fs);

/*
 * For ozx_archive_set_fail_cb(a, ozxfs_ll_fail, arc), arc the archive's
 * struct ozxfs_arc: log an entry found unusable (the core calls it once
 * per entry).
 */
void ozxfs_ll_fail(void *ctx, uint32_t node, const char *why);
/* For ozx_archive_set_warn_cb(a, ozxfs_ll_warn, arc): log an entry served
 * with a tolerance (ozx_file_warning), once. */
void ozxfs_ll_warn(void *ctx, uint32_t node, const char *why);

/*
 * For ozx_archive_set_change_cb(a, ozxfs_ll_changed, arc): log that the
 * archive file changed (the core calls it once per change it notices).
 */
void ozxfs_ll_changed(void *ctx);

#endif /* OZXFS_OPS_H */
