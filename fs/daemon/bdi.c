/*
 * bdi.c - the mount's readahead window.
 *
 * The kernel reads a FUSE file ahead in windows of its backing device's
 * read_ahead_kb, 128 KiB unless set; each window is one READ request, one
 * round trip to the daemon.  A FUSE daemon can make the window smaller in
 * INIT (max_readahead), never larger.  Only a write to
 * /sys/class/bdi/MAJ:MIN/read_ahead_kb raises it, which takes root (a
 * user namespace's root cannot: sysfs belongs to the initial one).
 *
 * Measured (scripts/bench, 2 CPUs, 200 shards of 4-16 MiB in order, first
 * touch): 607 MB/s with 128 KiB, 838 with 512 KiB, 2,116 with 1 MiB (one
 * request per max_write of 1 MiB), 1,625 with 2 MiB; random byte ranges
 * inside the shards are unchanged.  So the default is 1 MiB, as large as
 * one request.
 *
 * The backing device of a FUSE mount is its anonymous st_dev ("0:39"),
 * read with AT_STATX_DONT_SYNC: that needs no request, so it works before
 * the session serves its first one.
 */
#include "config.h"

#include "bdi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ozxfs.h"

int ozxfs_mount_dev(const char *path, dev_t *dev)
{
	struct statx stx;

	if (statx(AT_FDCWD, path,
		  AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT | AT_SYMLINK_NOFOLLOW,
		  STATX_TYPE, &stx))
		return -errno;
	*dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

/* Write "kib\n" to the sysfs file path.  Returns 0 or -errno. */
static int write_kib(const char *path, unsigned kib)
{
	char v[16];
	int fd, len, ret = 0;

	len = snprintf(v, sizeof(v), "%u\n", kib);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, v, (size_t)len) != len)
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int ozxfs_bdi_set_readahead(const char *mountpoint, unsigned kib, bool explicit)
{
	char path[64];
	dev_t dev;
	int ret;

	ret = ozxfs_mount_dev(mountpoint, &dev);
	if (ret == 0) {
		snprintf(path, sizeof(path),
			 "/sys/class/bdi/%u:%u/read_ahead_kb", major(dev),
			 minor(dev));
		ret = write_kib(path, kib);
	} else {
		snprintf(path, sizeof(path), "the mount's read_ahead_kb");
	}
	if (ret == 0) {
		fuse_log(FUSE_LOG_INFO, "readahead %u KiB (%s)\n", kib, path);
		return 0;
	}
	fuse_log(explicit ? FUSE_LOG_NOTICE : FUSE_LOG_INFO,
		 "readahead stays the kernel's: cannot write %s: %s%s\n", path,
		 strerror(-ret),
		 ret == -EACCES || ret == -EPERM || ret == -EROFS ?
			 " (root can; see ozxfs(1), PERFORMANCE)" :
			 "");
	return ret;
}
