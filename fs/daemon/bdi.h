/*
 * bdi.h - the mount's backing device: its st_dev, and its readahead window
 * (-o readahead=SIZE), see bdi.c.
 */
#ifndef OZXFS_BDI_H
#define OZXFS_BDI_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * st_dev of what path shows, read without asking any FUSE daemon (ours
 * included, which may not serve yet): statx(2) with AT_STATX_DONT_SYNC.
 * Returns 0, or the -errno of statx.
 */
int ozxfs_mount_dev(const char *path, dev_t *dev);

/*
 * Set the readahead window of the tree mounted on mountpoint (just
 * mounted, before the session serves) to kib KiB, by writing the
 * read_ahead_kb of its backing device in sysfs.  Says what happened in the
 * log: INFO when set, and when it could not be set, NOTICE if asked
 * (explicit, -o readahead given) or INFO if only the default.  Returns 0
 * when set, or -errno (the mount works either way).
 */
int ozxfs_bdi_set_readahead(const char *mountpoint, unsigned kib,
			    bool explicit);

#endif /* OZXFS_BDI_H */
