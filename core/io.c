/*
 * io.c - where archive bytes come from: a file descriptor read with
 * pread(2) (its stamp from fstat(2), see change.c), or memory (a URL:
 * remote.c).  Neither
 * keeps a position, so any number of threads may read through one io at
 * once.
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_i.h"
#include "remote_i.h"

static ssize_t fd_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	int fd = (int)(intptr_t)ctx;
	size_t done = 0;

	if (off > (uint64_t)INT64_MAX)
		return -EINVAL;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* One fstat(2) after the preads of each read (change.c): measured, one
 * syscall more per FUSE read request beside read, pread and writev, and
 * cheaper than the pread. */
static int fd_stamp(void *ctx, struct ozx_stamp *s)
{
	struct stat st;

	if (fstat((int)(intptr_t)ctx, &st))
		return -errno;
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	s->size = (uint64_t)st.st_size;
	s->mtime_ns =
		(int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

struct ozx_io ozx_io_fd(int fd)
{
	struct ozx_io io = { fd_pread, (void *)(intptr_t)fd, fd_stamp };

	return io;
}

static ssize_t mem_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct ozx_mem *m = ctx;
	size_t n;

	if (off >= m->len)
		return 0;
	n = m->len - (size_t)off;
	if (n > len)
		n = len;
	memcpy(buf, m->p + off, n);
	return (ssize_t)n;
}

struct ozx_io ozx_io_mem(struct ozx_mem *mem)
{
	struct ozx_io io = { mem_pread, mem, NULL };

	return io;
}

void ozx_io_willneed(const struct ozx_io *io, uint64_t off, uint64_t len)
{
	/* Known by their pread, not by a member of struct ozx_io: callers
	 * fill that struct member by member, and a new one would be left
	 * uninitialised. */
	if (io->pread == fd_pread && off <= (uint64_t)INT64_MAX &&
	    len <= (uint64_t)INT64_MAX - off)
		(void)posix_fadvise((int)(intptr_t)io->ctx, (off_t)off,
				    (off_t)len, POSIX_FADV_WILLNEED);
	else if (io->pread == ozx_remote_pread)
		ozx_remote_willneed(io->ctx, off, len);
}

int ozx_io_read_full(const struct ozx_io *io, void *buf, size_t len,
		     uint64_t off)
{
	ssize_t n = io->pread(io->ctx, buf, len, off);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}
