/*
 * ops.c - the FUSE low-level operations: each one turns a request into a
 * core call and sends exactly one reply.
 *
 * Inode numbers.  The core numbers the archive's nodes densely from 0 (the
 * root, OZX_ROOT) and never renumbers nor reuses them while the archive is
 * open, so the inode of node n is simply n + 1: the root is FUSE_ROOT_ID,
 * inode 0 (which a lookup reply reads as "no such name") is never issued,
 * and an inode maps back to its node by one subtraction and one bounds
 * check.  Nothing is created by lookup nor destroyed by forget, so lookup
 * counts need no bookkeeping: forget and forget_multi just reply none.
 * Hidden nodes have numbers too, but lookup and readdir never hand them out.
 *
 * A folder of archives (folder.c) numbers its own directories below 2^32
 * and gives each archive version a base, instance << 32: node n of it is
 * base + n + 1 (struct ozxfs_arc), and the ops below reach an archive
 * through arc_get(), which opens it if need be and holds it for the
 * request.  There lookups and FORGETs are counted per archive version,
 * so that a removed or replaced archive stays open while the kernel
 * holds its inodes; the folder's own nodes are answered by folder.c.
 *
 * Caching.  The archive is immutable, so the kernel may keep everything for
 * as long as it likes: entry and attribute timeouts are DBL_MAX (libfuse
 * clamps them to ULONG_MAX seconds, the kernel to its largest jiffy
 * offset), missing names are cached negative entries, open sets keep_cache
 * and opendir cache_readdir.
 *
 * Opening.  By default the first open answers ENOSYS, and from then on the
 * kernel opens files without a request (zero-message opens, with
 * FOPEN_KEEP_CACHE) and sends no release: reads come with fi->fh == 0 and
 * go through the archive's shared descriptor.  That is safe, since every
 * read is a pread(2) and no seek state exists, and it halves the requests
 * of a small chunk file (lookup and read instead of lookup, open, read and
 * release): scripts/bench measured 2x the first-touch and 3.5x the
 * second-pass rate for 22 KB files.  The mount is ro, so the VFS refuses
 * opens for writing before they could reach us.  The kernel never reads an
 * empty file, so only its open can check its entry: an archive with empty
 * files keeps served opens (a folder, whose archives are not known at init,
 * checks empty files at their lookup instead); so does -o idle_timeout, for
 * which an open served from the kernel's cache must still count as a use.
 *
 * Otherwise (-o fd_per_open, -o idle_timeout, empty files, or a kernel
 * without zero-message opens) every open reaches the daemon and gets a
 * descriptor of its own (so its own readahead state in the kernel), up to
 * a budget; past it, or when the process is out of descriptors, it reads
 * through the archive's shared descriptor.  Data goes through one buffer per worker thread, allocated
 * on its first read: no allocation per read.
 *
 * Storing.  The read that finds an entry unverified reads all of it, to
 * check its CRC-32, before it serves a byte (core/read.c).  When that pass
 * read the entry into our buffer and its CRC matched (ozx_file_read_whole
 * says so: exactly the bytes checked, never before the match), and the
 * read is at offset 0 (a reader of the whole file; one that starts
 * elsewhere, such as at a shard's index at its end, may want little of
 * it), the read stores the rest of the entry into the kernel's page cache
 * (fuse_lowlevel_notify_store) before it replies, so that the reads that
 * follow, by any reader, find it there: the archive's bytes are read once,
 * not once for the CRC and again for each read, and a DEFLATE entry is
 * inflated once, not again from an access point for each read.  Before
 * the reply, not after: measured, storing after it lost 5-7% against no
 * store, as the reader runs ahead of the store into reads of its own.
 *
 * The pages of this read are left out: the kernel holds them locked until
 * our reply, and a store into a locked page waits for it.  Pages of other
 * reads in flight are locked too: the store waits for their replies, which
 * other workers send (the verification they waited for is done) -- so
 * nothing is stored when the session runs on one thread (-s).  An entry
 * that fits the worker's buffer costs no memory; a bigger one, up to
 * -o store_max, a buffer of its size for the pass (rounded up to 2 MiB),
 * and such buffers hold at most store_max bytes across the mount at once
 * (64 MiB by default): past that, or for a bigger entry, reads go as
 * before.  What the kernel keeps was verified; a change of the archive
 * later is seen by the reads that still reach the daemon, as for pages the
 * kernel cached by reading them.
 */
#include "config.h"

#include "ops.h"
#include "folder.h"
#include "xattr.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* See the caching note above. */
#define OZXFS_TIMEOUT DBL_MAX

/*
 * st_blksize, the preferred I/O size: stdio and Python size their buffers
 * from it.  64 KiB makes such readers issue few requests (the kernel's
 * readahead merges them further), yet stays small for programs that keep a
 * buffer per open file with thousands of chunk files open.
 */
#define OZXFS_BLKSIZE 65536

/* statfs block size; f_blocks counts the archive's bytes in these. */
#define OZXFS_STATFS_BSIZE 4096

/*
 * An open file reading through a descriptor of its own (fi->fh), or, in a
 * folder, through its archive's (fd -1): it keeps its archive open.
 */
struct ozxfs_file {
	int fd;
	struct ozx_io io;
	struct ozxfs_arc *arc; /* a folder's archive, held until release */
	struct ozxfs_file *prev, *next; /* in ozxfs.files */
};

static struct ozxfs *ozxfs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static fuse_ino_t ino_of(const struct ozxfs_arc *arc, uint32_t node)
{
	return arc->base + (fuse_ino_t)node + 1;
}

static int node_of(const struct ozxfs_arc *arc, fuse_ino_t ino, uint32_t *node)
{
	if (ino <= arc->base || ino - arc->base - 1 >= arc->info->nnodes)
		return -ENOENT;
	*node = (uint32_t)(ino - arc->base - 1);
	return 0;
}

/*
 * The archive and node of inode ino, for one request: 0, or -errno (a
 * folder's archive that cannot be opened).  Every success is paired with
 * arc_put().  A folder's own nodes (ozxfs_folder_node) never come here.
 */
static int arc_get(struct ozxfs *fs, fuse_ino_t ino, struct ozxfs_arc **arc,
		   uint32_t *node)
{
	if (!fs->folder) {
		*arc = &fs->arc;
		return node_of(&fs->arc, ino, node);
	}
	return ozxfs_folder_get(fs->folder, ino, arc, node);
}

static void arc_put(struct ozxfs *fs, struct ozxfs_arc *arc)
{
	if (fs->folder)
		ozxfs_folder_put(fs->folder, arc);
}

/* Whether a folder answers for ino itself (its directories, and the
 * roots of its archives when only their attributes are asked). */
static bool folder_owns(const struct ozxfs *fs, fuse_ino_t ino, bool roots)
{
	return fs->folder && (ozxfs_folder_node(ino) ||
			      (roots && ozxfs_folder_arc_root(ino)));
}

/* Attributes of a visible node; -ENOENT for anything else. */
static int node_attr(const struct ozxfs_arc *arc, uint32_t node,
		     struct stat *st)
{
	const struct ozxfs *fs = arc->fs;
	struct ozx_stat os;
	uint64_t size;
	int ret;

	ret = ozx_node_stat(arc->archive, node, &os);
	if (ret)
		return ret;
	memset(st, 0, sizeof(*st));
	switch (os.kind) {
	case OZX_KIND_FILE:
		st->st_mode = S_IFREG | 0444;
		break;
	case OZX_KIND_DIR:
		st->st_mode = S_IFDIR | 0555;
		break;
	default:
		return -ENOENT;
	}
	st->st_ino = ino_of(arc, node);
	st->st_nlink = os.nlink ? os.nlink : 1;
	st->st_uid = fs->opts.uid;
	st->st_gid = fs->opts.gid;
	/* A hostile DEFLATE entry may declare any size; off_t cannot. */
	size = os.size > INT64_MAX ? INT64_MAX : os.size;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)(size / 512 + (size % 512 != 0));
	st->st_blksize = OZXFS_BLKSIZE;
	st->st_mtime = (time_t)os.mtime;
	st->st_atime = st->st_mtime;
	st->st_ctime = st->st_mtime;
	return 0;
}

static int node_entry(const struct ozxfs_arc *arc, uint32_t node,
		      struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino_of(arc, node);
	e->attr_timeout = OZXFS_TIMEOUT;
	e->entry_timeout = OZXFS_TIMEOUT;
	return node_attr(arc, node, &e->attr);
}

/*
 * This worker thread's buffer of fs->io_size bytes, allocated on first use
 * and freed by the key's destructor when the thread ends.
 */
static void *thread_buf(struct ozxfs *fs)
{
	void *buf = pthread_getspecific(fs->buf_key);

	if (buf)
		return buf;
	buf = malloc(fs->io_size);
	if (!buf)
		return NULL;
	if (pthread_setspecific(fs->buf_key, buf)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The errno for a failed core call.  A pass that SIGTERM cut short
 * (-ECANCELED) answers what the reader is about to see anyway, that the
 * daemon is going (ENOTCONN), and not EIO, which would call the entry bad.
 */
static int err_of(long ret)
{
	return ret == -ECANCELED ? ENOTCONN : (int)-ret;
}

static bool log_first(atomic_bool *flag)
{
	return !atomic_exchange(flag, true);
}

/*
 * A descriptor of arc's archive for an open file of its own, counted in
 * fs->fd_count, or -1 to read through the archive's shared descriptor.
 */
static int file_fd(struct ozxfs_arc *arc)
{
	struct ozxfs *fs = arc->fs;
	int fd;

	/* A URL has no descriptor to reopen: its io is shared, and it
	 * keeps no state per reader (its cache and readahead are its own). */
	if (fs->remote)
		return -1;
	if (atomic_fetch_add(&fs->fd_count, 1) >= fs->fd_budget) {
		atomic_fetch_sub(&fs->fd_count, 1);
		if (log_first(&fs->logged_budget))
			fuse_log(FUSE_LOG_NOTICE,
				 "%u files open on '%s': more share the "
				 "archive's descriptor\n",
				 fs->fd_budget, arc->esc);
		return -1;
	}
	fd = ozx_archive_reopen(arc->archive);
	if (fd < 0) {
		atomic_fetch_sub(&fs->fd_count, 1);
		if (fd == -EMFILE || fd == -ENFILE) {
			if (log_first(&fs->logged_budget))
				fuse_log(FUSE_LOG_NOTICE,
					 "out of descriptors: more files on "
					 "'%s' share its descriptor\n",
					 arc->esc);
		} else if (log_first(&fs->logged_reopen)) {
			/* Deleted or renamed over, and no /proc: our
			 * descriptor still holds it. */
			fuse_log(FUSE_LOG_WARNING,
				 "cannot reopen archive '%s': %s: files share "
				 "the archive's descriptor\n",
				 arc->esc, strerror(-fd));
		}
		return -1;
	}
	return fd;
}

/*
 * The file handle for a new open: a descriptor of its own, or NULL (0 in
 * fi->fh) to read through the archive's shared descriptor; in a folder
 * always a handle (fd -1 for the shared descriptor), which takes over the
 * caller's hold on the archive.  Returns 0, or -ENOMEM in a folder.
 * The archive changing since the mount is no reason to refuse: reads
 * check that, through either descriptor.
 */
static int file_open(struct ozxfs_arc *arc, struct ozxfs_file **out)
{
	struct ozxfs *fs = arc->fs;
	int fd = file_fd(arc);

	*out = NULL;
	if (fd < 0 && !fs->folder)
		return 0;
	/* A folder's open file holds its archive open: a handle even for
	 * the shared descriptor. */
	*out = malloc(sizeof(**out));
	if (!*out) {
		if (fd >= 0) {
			close(fd);
			atomic_fetch_sub(&fs->fd_count, 1);
		}
		return fs->folder ? -ENOMEM : 0;
	}
	(*out)->fd = fd;
	(*out)->io = ozx_io_fd(fd);
	(*out)->arc = fs->folder ? arc : NULL;
	if (fd < 0)
		return 0;
	pthread_mutex_lock(&fs->files_lock);
	(*out)->prev = NULL;
	(*out)->next = fs->files;
	if (fs->files)
		fs->files->prev = *out;
	fs->files = *out;
	pthread_mutex_unlock(&fs->files_lock);
	return 0;
}

static void file_close(struct ozxfs *fs, struct ozxfs_file *f)
{
	if (!f)
		return;
	if (f->arc)
		ozxfs_folder_put(fs->folder, f->arc);
	if (f->fd < 0) {
		free(f);
		return;
	}
	pthread_mutex_lock(&fs->files_lock);
	if (f->prev)
		f->prev->next = f->next;
	else
		fs->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&fs->files_lock);
	close(f->fd);
	free(f);
	atomic_fetch_sub(&fs->fd_count, 1);
}

/* The node's path, made printable, for messages. */
#define ESC_MAX (4 * OZX_MAX_PATH + 1)
static void node_esc(const struct ozxfs_arc *arc, uint32_t node,
		     char esc[ESC_MAX])
{
	char path[OZX_MAX_PATH + 1];
	ssize_t len = ozx_node_path(arc->archive, node, path, sizeof(path));

	if (len < 0)
		snprintf(esc, ESC_MAX, "#%u", (unsigned)node);
	else
		ozx_escape(path, (size_t)len, esc, ESC_MAX);
}

void ozxfs_ll_changed(void *ctx)
{
	const struct ozxfs_arc *arc = ctx;

	fuse_log(FUSE_LOG_WARNING, "archive '%s' changed since mount: %s\n",
		 arc->esc,
		 arc->fs->opts.verify ?
			 "entries are verified again before they "
			 "are read" :
			 "verify=none serves its bytes as they are");
}

/* One line about an entry: "entry 'NAME' in 'ARCHIVE' is WHAT: WHY". */
static void log_entry(const struct ozxfs_arc *arc, enum fuse_log_level level,
		      uint32_t node, const char *what, const char *why)
{
	char esc[ESC_MAX];

	node_esc(arc, node, esc);
	fuse_log(level, "entry '%s' in '%s' is %s: %s\n", esc, arc->esc, what,
		 why);
}

void ozxfs_ll_fail(void *ctx, uint32_t node, const char *why)
{
	log_entry(ctx, FUSE_LOG_ERR, node, "unusable", why);
}

void ozxfs_ll_warn(void *ctx, uint32_t node, const char *why)
{
	log_entry(ctx, FUSE_LOG_WARNING, node, "served", why);
}

/*
 * A read of node failed with EIO: log why if the entry is unusable (the
 * fail callback did, once) or, if the archive read failed (a disk or
 * network error, or the file shrank; the next read tries again), say so at
 * most once a second, counting the failures not logged in between.
 */
static void log_read_error(const struct ozxfs_arc *arc, uint32_t node)
{
	struct ozxfs *fs = arc->fs;
	struct timespec ts;
	char esc[ESC_MAX], more[64] = "";
	long long last;
	unsigned skipped;

	if (ozx_file_fail(arc->archive, node))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	last = atomic_load(&fs->io_log_sec);
	if (ts.tv_sec <= last ||
	    !atomic_compare_exchange_strong(&fs->io_log_sec, &last,
					    (long long)ts.tv_sec)) {
		atomic_fetch_add(&fs->io_unlogged, 1);
		return;
	}
	skipped = atomic_exchange(&fs->io_unlogged, 0);
	if (skipped)
		snprintf(more, sizeof(more),
			 " (and %u reads since the last message)", skipped);
	node_esc(arc, node, esc);
	fuse_log(FUSE_LOG_ERR,
		 "reading entry '%s' of '%s' failed: archive read failed or "
		 "came up short%s\n",
		 esc, arc->esc, more);
}

/* Whether any visible file is empty (one pass over the node table). */
static bool has_empty_file(const struct ozxfs *fs)
{
	struct ozx_stat st;

	for (uint32_t i = 0; i < fs->info->nnodes; i++)
		if (ozx_node_stat(fs->archive, i, &st) == 0 &&
		    st.kind == OZX_KIND_FILE && st.size == 0)
			return true;
	return false;
}

static void ozxfs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	const unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			      FUSE_CAP_READDIRPLUS;
	struct ozxfs *fs = userdata;

	/* Before any other request, so no worker thread reads it earlier. */
	fs->served_open = fs->opts.fd_per_open || fs->opts.idle_timeout ||
			  !(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) ||
			  (!fs->folder && has_empty_file(fs));
	fuse_log(FUSE_LOG_NOTICE, "%s\n",
		 fs->served_open ? "opens: each open file has a descriptor "
				   "of its own" :
				   "opens: zero-message, reads through the "
				   "archive's descriptor");
	/*
	 * max_write also sets the largest read (libfuse derives max_pages
	 * from it): 1 MiB reads, which the per-thread buffers hold.
	 * conn->max_read stays 0 (no limit of ours): libfuse 3.14 fails the
	 * INIT with EPROTO unless it equals the max_read= mount option.  The
	 * readahead window is the smaller of ours and the kernel's (its bdi
	 * read_ahead_kb), and libfuse already starts from the kernel's.
	 */
	if (conn->max_write > OZXFS_MAX_IO)
		conn->max_write = OZXFS_MAX_IO;
	/*
	 * The kernel takes the smaller of this and the bdi's read_ahead_kb,
	 * which main() has raised if it could (bdi.c): ask for as much.
	 */
	if (fs->readahead_set)
		conn->max_readahead = fs->opts.readahead_kib << 10;
	/*
	 * Parallel lookups and readdirs in one directory, and every listing
	 * served with attributes (READDIRPLUS), so that "ls -l" or find(1)
	 * costs no LOOKUP per name.  Not the kernel's auto mode: that sends
	 * plain READDIR after a directory's first buffer, and a LOOKUP for
	 * each name after it.  Measured on 1,000,002 entries: find+stat
	 * 16.9 s with auto, 2.7 s without; "ls -f -R" (names only) 1.2 s
	 * with auto, 2.9 s without.
	 */
	conn->want |= want & conn->capable;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	/* Nothing ever changes, so there is nothing to invalidate. */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
}

static void ozxfs_ll_destroy(void *userdata)
{
	/* main() frees everything once the session loop has returned. */
	(void)userdata;
}

/*
 * The kernel never asks for a byte of an empty file: its entry is checked
 * when it is opened, or a defect would go unseen.  0 or -errno.
 */
static int check_empty(const struct ozxfs_arc *arc, uint32_t node)
{
	uint64_t off;

	return arc->fs->opts.verify ?
		       ozx_file_verify(arc->archive, node, NULL) :
		       ozx_file_data_offset(arc->archive, node, NULL, &off);
}

/*
 * A folder takes zero-message opens whatever its archives hold, so the
 * lookup of an empty file checks it instead of its open (and readdirplus
 * leaves such files to a lookup).
 */
static bool empty_unchecked(const struct ozxfs *fs, const struct stat *st)
{
	return fs->folder && !fs->served_open && S_ISREG(st->st_mode) &&
	       st->st_size == 0;
}

static void ozxfs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ozxfs *fs = ozxfs_of(req);
	struct fuse_entry_param e;
	struct ozxfs_arc *arc;
	size_t len = strlen(name);
	uint32_t dir, node;
	int ret;

	ozxfs_idle_touch(fs);
	if (len > OZX_MAX_COMPONENT) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if (folder_owns(fs, parent, false)) {
		ozxfs_folder_lookup(req, fs->folder, parent, name);
		return;
	}
	ret = arc_get(fs, parent, &arc, &dir);
	if (ret)
		goto out_err;
	ret = ozx_lookup(arc->archive, dir, name, len, &node);
	if (ret == -ENOENT) {
		/* The name will never appear: let the kernel remember. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = OZXFS_TIMEOUT;
		fuse_reply_entry(req, &e);
		goto out_put;
	}
	if (!ret)
		ret = node_entry(arc, node, &e);
	if (!ret && empty_unchecked(fs, &e.attr))
		ret = check_empty(arc, node);
	if (ret)
		goto out_put_err;
	if (fs->folder)
		ozxfs_folder_ref(arc, 1);
	fuse_reply_entry(req, &e);
out_put:
	arc_put(fs, arc);
	return;
out_put_err:
	arc_put(fs, arc);
out_err:
	fuse_reply_err(req, err_of(ret));
}

static void ozxfs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct ozxfs *fs = ozxfs_of(req);

	if (fs->folder)
		ozxfs_folder_forget(fs->folder, ino, nlookup);
	fuse_reply_none(req);
}

static void ozxfs_ll_forget_multi(fuse_req_t req, size_t count,
				  struct fuse_forget_data *forgets)
{
	struct ozxfs *fs = ozxfs_of(req);

	for (size_t i = 0; fs->folder && i < count; i++)
		ozxfs_folder_forget(fs->folder, forgets[i].ino,
				    forgets[i].nlookup);
	fuse_reply_none(req);
}

/* The attributes of an archive's inode ino; 0 or -errno. */
static int ino_attr(struct ozxfs *fs, fuse_ino_t ino, struct stat *st)
{
	struct ozxfs_arc *arc;
	uint32_t node;
	int ret;

	ret = arc_get(fs, ino, &arc, &node);
	if (ret)
		return ret;
	ret = node_attr(arc, node, st);
	arc_put(fs, arc);
	return ret;
}

static void ozxfs_ll_getattr(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	struct ozxfs *fs = ozxfs_of(req);
	struct stat st;
	int ret;

	ozxfs_idle_touch(fs);
	(void)fi;
	if (folder_owns(fs, ino, true)) {
		ozxfs_folder_getattr(req, fs->folder, ino);
		return;
	}
	ret = ino_attr(fs, ino, &st);
	if (ret) {
		fuse_reply_err(req, err_of(ret));
		return;
	}
	fuse_reply_attr(req, &st, OZXFS_TIMEOUT);
}

static void ozxfs_ll_open(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct ozxfs *fs = ozxfs_of(req);
	struct ozxfs_file *f = NULL;
	struct ozxfs_arc *arc;
	struct stat st;
	uint32_t node;
	int ret;

	ozxfs_idle_touch(fs);
	if ((fi->flags & O_ACCMODE) != O_RDONLY ||
	    (fi->flags & (O_TRUNC | O_APPEND))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (folder_owns(fs, ino, false)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	ret = arc_get(fs, ino, &arc, &node);
	if (ret) {
		fuse_reply_err(req, err_of(ret));
		return;
	}
	ret = node_attr(arc, node, &st);
	if (!ret && S_ISDIR(st.st_mode))
		ret = -EISDIR;
	if (!ret && st.st_size == 0)
		ret = check_empty(arc, node);
	if (!ret && !fs->served_open) {
		/* From now on the kernel opens files without asking. */
		ret = -ENOSYS;
	}
	/* A folder's file takes over the hold on its archive (file_close
	 * lets go of it). */
	if (!ret)
		ret = file_open(arc, &f);
	if (ret || !f || !f->arc)
		arc_put(fs, arc);
	if (ret) {
		fuse_reply_err(req, err_of(ret));
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = 1;
	/* -ENOENT: the open was interrupted and release will not come. */
	if (fuse_reply_open(req, fi) == -ENOENT)
		file_close(fs, f);
}

/* Entry buffers come in huge pages (see huge_alloc). */
#define STORE_ALIGN ((size_t)2 << 20)

/*
 * len bytes (a multiple of STORE_ALIGN) aligned to STORE_ALIGN, asked to
 * be backed by transparent huge pages, or NULL.  Fresh 4 KiB pages cost a
 * fault each as the pass first writes them: measured on this VM, 150-240
 * MB/s for fresh 4 KiB pages, 11-15 GB/s for huge pages after the first.
 */
static void *huge_alloc(size_t len)
{
	char *p = mmap(NULL, len + STORE_ALIGN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
	     *q;
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	q = (char *)(((uintptr_t)p + STORE_ALIGN - 1) & ~(STORE_ALIGN - 1));
	head = (size_t)(q - p);
	if (head)
		munmap(p, head);
	munmap(q + len, STORE_ALIGN - head);
	(void)madvise(q, len, MADV_HUGEPAGE);
	return q;
}

/*
 * A buffer for a read of node that is to verify the entry and store it
 * ("Storing" above): NULL unless the entry is unverified and bigger than
 * the worker's buffer, and store_max leaves room for its buffer (its size
 * rounded up to 2 MiB) besides the buffers held now.  Sets *cap to the
 * entry's size and *len to the buffer's; store_put() gives it back.
 */
static void *store_get(struct ozxfs *fs, struct ozxfs_arc *arc, uint32_t node,
		       size_t *cap, size_t *len)
{
	size_t max = fs->opts.store_max, held;
	struct ozx_stat st;
	void *p;

	if (!fs->opts.verify || fs->single || !max ||
	    ozx_node_stat(arc->archive, node, &st) ||
	    st.crc_state != OZX_CRC_UNVERIFIED || st.size <= fs->io_size ||
	    st.size > max)
		return NULL;
	*len = ((size_t)st.size + STORE_ALIGN - 1) & ~(STORE_ALIGN - 1);
	if (*len > max)
		return NULL;
	held = atomic_load(&fs->store_held);
	do {
		if (*len > max - held)
			return NULL;
	} while (!atomic_compare_exchange_weak(&fs->store_held, &held,
					       held + *len));
	p = huge_alloc(*len);
	if (!p) {
		atomic_fetch_sub(&fs->store_held, *len);
		return NULL;
	}
	/* Room for the entry alone: its pass then reads it in chunks and
	 * checks each while it is in the CPU's cache, rather than in one
	 * read with its local header and the whole CRC after it. */
	*cap = (size_t)st.size;
	return p;
}

static void store_put(struct ozxfs *fs, void *p, size_t cap)
{
	munmap(p, cap);
	atomic_fetch_sub(&fs->store_held, cap);
}

/* Store bytes [from, to) of inode ino, found at bytes + from. */
static void store_range(struct ozxfs *fs, fuse_ino_t ino, const char *bytes,
			uint64_t from, uint64_t to)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(to - from);
	int ret;

	if (from >= to)
		return;
	bv.buf[0].mem = (void *)(bytes + from);
	ret = fuse_lowlevel_notify_store(fs->se, ino, (off_t)from, &bv, 0);
	if (ret && log_first(&fs->logged_store))
		fuse_log(FUSE_LOG_NOTICE,
			 "cannot store entries into the page cache: %s\n",
			 strerror(-ret));
}

/*
 * The entry of node, all size bytes of it at bytes, verified: store what
 * lies outside the pages of the read [off, off + len) being served.  A
 * store may wait for the reply to another read (its pages are locked),
 * which needs a worker: at most half the workers store at once, so that
 * such replies always find one.
 */
static void store_entry(struct ozxfs *fs, fuse_ino_t ino, const char *bytes,
			uint64_t size, uint64_t off, size_t len)
{
	uint64_t page = fs->page_size, lo = off & ~(page - 1),
		 hi = (off + len + page - 1) & ~(page - 1);

	/* Nothing outside this read (most small files): no shared counter. */
	if (lo == 0 && hi >= size)
		return;
	if (atomic_fetch_add(&fs->storing, 1) < OZXFS_MAX_WORKERS / 2) {
		store_range(fs, ino, bytes, 0, lo < size ? lo : size);
		store_range(fs, ino, bytes, hi, size);
	}
	atomic_fetch_sub(&fs->storing, 1);
}

/*
 * Storing ahead.  Reads at offset 0 each of a node just after the one
 * read before it (within AHEAD_GAP nodes: the directories between),
 * AHEAD_RUN in a row, are a reader walking the archive in order: cp -r,
 * tar, rsync, a Zarr reader over an array's chunks (one such pair among
 * random reads happens now and then; two in a row, hardly ever).  After
 * replying, the last of them then verifies the small files
 * that follow and stores each whole into the page cache, at most
 * AHEAD_FILES files and AHEAD_BYTES bytes, so that the reader finds them
 * there and sends no READ for them.  The kernel takes a store only for an
 * inode it holds (one it was told of by a listing or a lookup): the first
 * it refuses ends the run, so without a listing this costs one verified
 * file.  A large entry ends it too (its own read stores it), and a file
 * read before is passed over.  One store ahead runs at a time per archive,
 * within the half of the workers that may store; not for -s, verify=none,
 * store_max=0, or a URL (each file would be a request).
 */
#define AHEAD_GAP 16u
#define AHEAD_RUN 2u
#define AHEAD_FILES 256u
#define AHEAD_BYTES ((size_t)8 << 20)

static void store_ahead(struct ozxfs *fs, struct ozxfs_arc *arc, uint32_t node)
{
	uint32_t last = atomic_exchange(&arc->last, node), m;
	size_t bytes = 0, at, whole;
	unsigned files = 0;
	struct ozx_stat st;
	char *buf;
	ssize_t n;

	if (node <= last || node - last > AHEAD_GAP) {
		atomic_store(&arc->run, 0);
		return;
	}
	if (atomic_fetch_add(&arc->run, 1) + 1 < AHEAD_RUN || fs->single ||
	    !fs->opts.verify || !fs->opts.store_max || fs->remote ||
	    atomic_exchange(&arc->ahead, true))
		return;
	buf = thread_buf(fs);
	if (!buf) {
		atomic_store(&arc->ahead, false);
		return;
	}
	if (atomic_fetch_add(&fs->storing, 1) >= OZXFS_MAX_WORKERS / 2)
		goto out;
	for (m = node + 1; m < arc->info->nnodes && files < AHEAD_FILES &&
			   bytes < AHEAD_BYTES;
	     m++) {
		struct fuse_bufvec bv;

		if (ozx_node_stat(arc->archive, m, &st) ||
		    st.kind == OZX_KIND_DIR)
			continue;
		if (st.kind != OZX_KIND_FILE || st.size > fs->io_size)
			break;
		if (st.crc_state != OZX_CRC_UNVERIFIED || st.size == 0)
			continue;
		n = ozx_file_read_whole(arc->archive, m, NULL, buf, fs->io_size,
					(size_t)st.size, 0, &at, &whole);
		if (n < 0)
			break;
		if (whole == SIZE_MAX)
			continue; /* verified by another read meanwhile */
		bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT((size_t)st.size);
		bv.buf[0].mem = buf + whole;
		if (fuse_lowlevel_notify_store(fs->se, arc->base + m + 1, 0,
					       &bv, 0))
			break;
		atomic_store(&arc->last, m);
		files++;
		bytes += (size_t)st.size;
	}
out:
	atomic_fetch_sub(&fs->storing, 1);
	atomic_store(&arc->ahead, false);
}

static void ozxfs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	struct ozxfs *fs = ozxfs_of(req);
	struct ozxfs_file *f = (struct ozxfs_file *)(uintptr_t)fi->fh;
	void *buf, *big = NULL, *held = NULL;
	size_t cap = size, at, whole, held_len = 0;
	struct ozxfs_arc *arc;
	struct ozx_stat st;
	uint32_t node;
	ssize_t n;

	ozxfs_idle_touch(fs);
	if (folder_owns(fs, ino, false) || off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	n = arc_get(fs, ino, &arc, &node);
	if (n) {
		fuse_reply_err(req, n == -ENOENT ? EINVAL : err_of(n));
		return;
	}
	if (size <= fs->io_size && off == 0 &&
	    (held = store_get(fs, arc, node, &cap, &held_len))) {
		buf = held;
	} else if (size <= fs->io_size) {
		buf = thread_buf(fs);
		cap = fs->io_size;
	} else {
		/* Cannot happen (init caps reads at io_size); stay correct. */
		buf = big = malloc(size);
	}
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		goto out_put;
	}
	/* The whole buffer, so that a small entry's local header and bytes
	 * come in one pread. */
	n = ozx_file_read_whole(arc->archive, node,
				f && f->fd >= 0 ? &f->io : NULL, buf, cap, size,
				(uint64_t)off, &at, &whole);
	if (n >= 0 && whole != SIZE_MAX && off == 0 && !fs->single &&
	    fs->opts.store_max && ozx_node_stat(arc->archive, node, &st) == 0)
		store_entry(fs, ino, (char *)buf + whole, st.size,
			    (uint64_t)off, size);
	if (n < 0)
		fuse_reply_err(req, err_of(n));
	else
		fuse_reply_buf(req, (char *)buf + at, (size_t)n);
	if (n == -EIO)
		log_read_error(arc, node);
	free(big);
	if (held)
		store_put(fs, held, held_len);
	if (n >= 0 && off == 0)
		store_ahead(fs, arc, node);
out_put:
	arc_put(fs, arc);
}

static void ozxfs_ll_release(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	ozxfs_idle_touch(ozxfs_of(req));
	(void)ino;
	file_close(ozxfs_of(req), (struct ozxfs_file *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void ozxfs_ll_opendir(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	struct ozxfs *fs = ozxfs_of(req);
	struct stat st;
	int ret;

	ozxfs_idle_touch(fs);
	if (folder_owns(fs, ino, false)) {
		ozxfs_folder_opendir(req, fs->folder, ino, fi);
		return;
	}
	ret = ino_attr(fs, ino, &st);
	if (!ret && !S_ISDIR(st.st_mode))
		ret = -ENOTDIR;
	if (ret) {
		fuse_reply_err(req, err_of(ret));
		return;
	}
	/* Cache the listing, and keep it across opendirs (FOPEN_KEEP_CACHE
	 * does matter for directories with cache_readdir, whatever the
	 * libfuse 3.14 comment says). */
	fi->fh = 0;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/*
 * Directory offsets: 0 is ".", 1 is "..", and 2 + c is the core's cursor c
 * (below 2^33), so any offset the kernel hands back resumes exactly there.
 * Each entry is given the offset of the one after it.
 */
static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, bool plus)
{
	struct ozxfs *fs = ozxfs_of(req);
	struct fuse_entry_param e;
	size_t used = 0, n;
	struct ozxfs_arc *arc;
	uint32_t dir, node;
	uint64_t refs = 0;
	const char *name;
	size_t len;
	char *buf;
	off_t next;
	int ret;

	ret = arc_get(fs, ino, &arc, &dir);
	if (ret)
		goto out_err;
	if (off < 0) {
		ret = -EINVAL;
		goto out_put;
	}
	buf = thread_buf(fs);
	if (!buf) {
		ret = -ENOMEM;
		goto out_put;
	}
	if (size > fs->io_size)
		size = fs->io_size;

	for (;;) {
		if (off == 0) {
			node = dir;
			name = ".";
			next = 1;
		} else if (off == 1) {
			node = ozx_node_parent(arc->archive, dir);
			if (node == OZX_NONE)
				node = dir; /* the root's ".." is outside */
			name = "..";
			next = 2;
		} else {
			uint64_t cursor = (uint64_t)off - 2;

			ret = ozx_dir_next(arc->archive, dir, &cursor, &node);
			if (ret == 0)
				break;
			if (ret < 0)
				goto out_put;
			name = ozx_node_name(arc->archive, node, &len);
			next = (off_t)(cursor + 2);
		}
		ret = node_entry(arc, node, &e);
		if (ret || !name)
			goto out_put_eio;
		if (plus && empty_unchecked(fs, &e.attr))
			e.ino = 0;
		if (plus)
			n = fuse_add_direntry_plus(req, buf + used, size - used,
						   name, &e, next);
		else
			n = fuse_add_direntry(req, buf + used, size - used,
					      name, &e.attr, next);
		if (n > size - used)
			break;
		used += n;
		/* The kernel counts a lookup for each entry but . and .. */
		refs += plus && off >= 2 && e.ino;
		off = next;
	}
	if (fs->folder && refs)
		ozxfs_folder_ref(arc, refs);
	fuse_reply_buf(req, buf, used);
	arc_put(fs, arc);
	return;
out_put_eio:
	/* The core listed a node it cannot describe: an internal error. */
	ret = -EIO;
out_put:
	arc_put(fs, arc);
out_err:
	fuse_reply_err(req, err_of(ret));
}

static void ozxfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			     off_t off, struct fuse_file_info *fi)
{
	ozxfs_idle_touch(ozxfs_of(req));
	if (fi->fh)
		ozxfs_folder_readdir(req, fi->fh, size, off, false);
	else
		readdir_common(req, ino, size, off, false);
}

static void ozxfs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
				 off_t off, struct fuse_file_info *fi)
{
	ozxfs_idle_touch(ozxfs_of(req));
	if (fi->fh)
		ozxfs_folder_readdir(req, fi->fh, size, off, true);
	else
		readdir_common(req, ino, size, off, true);
}

static void ozxfs_ll_releasedir(fuse_req_t req, fuse_ino_t ino,
				struct fuse_file_info *fi)
{
	ozxfs_idle_touch(ozxfs_of(req));
	(void)ino;
	ozxfs_folder_releasedir(fi->fh);
	fuse_reply_err(req, 0);
}

static void ozxfs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	const struct ozx_info *info = ozxfs_of(req)->info;
	struct statvfs sv;

	ozxfs_idle_touch(ozxfs_of(req));
	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = OZXFS_STATFS_BSIZE;
	sv.f_frsize = OZXFS_STATFS_BSIZE;
	/* A folder: its archives are counted nowhere. */
	if (info) {
		sv.f_blocks =
			(fsblkcnt_t)((info->size + OZXFS_STATFS_BSIZE - 1) /
				     OZXFS_STATFS_BSIZE);
		sv.f_files = info->nnodes;
	}
	sv.f_namemax = OZX_MAX_COMPONENT;
	sv.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
	fuse_reply_statfs(req, &sv);
}

static void ozxfs_ll_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct ozxfs *fs = ozxfs_of(req);
	struct stat st;
	int ret;

	ozxfs_idle_touch(fs);
	if (folder_owns(fs, ino, true)) {
		/* The folder's own nodes are all directories. */
		fuse_reply_err(req, mask & W_OK ? EROFS : 0);
		return;
	}
	ret = ino_attr(fs, ino, &st);
	if (!ret && (mask & W_OK))
		ret = -EROFS;
	/* Everyone may read everything; only directories are searchable. */
	if (!ret && (mask & X_OK) && !S_ISDIR(st.st_mode))
		ret = -EACCES;
	fuse_reply_err(req, err_of(ret));
}

/* Reply to getxattr/listxattr with what xattr.c returned into buf. */
static void reply_xattr(fuse_req_t req, ssize_t ret, const char *buf,
			size_t size)
{
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)ret);
	else
		fuse_reply_buf(req, buf, (size_t)ret);
}

/*
 * getxattr (name) and listxattr (name NULL) share everything but the call
 * into xattr.c and what a node without attributes answers.
 */
static void xattr_op(fuse_req_t req, fuse_ino_t ino, const char *name,
		     size_t size)
{
	struct ozxfs *fs = ozxfs_of(req);
	char *buf = size ? thread_buf(fs) : NULL;
	struct ozxfs_arc *arc;
	uint32_t node;
	ssize_t ret;

	ozxfs_idle_touch(fs);
	if (size > fs->io_size)
		size = fs->io_size;
	ret = size && !buf ? -ENOMEM : -ENOSYS;
	/* A folder's directories have none; an archive's root that cannot
	 * be opened has user.ozx.error. */
	if (ret == -ENOSYS && folder_owns(fs, ino, false))
		ret = -ENOENT;
	else if (ret == -ENOSYS && folder_owns(fs, ino, true))
		ret = ozxfs_folder_xattr(fs->folder, ino, name, buf, size);
	if (ret == -ENOSYS) {
		ret = arc_get(fs, ino, &arc, &node);
		if (!ret) {
			ret = name ? ozxfs_xattr_get(arc->archive, node, name,
						     buf, size) :
				     ozxfs_xattr_list(arc->archive, node, buf,
						      size);
			arc_put(fs, arc);
		}
	}
	if (ret == -ENOENT)
		ret = name ? -ENODATA : 0;
	reply_xattr(req, ret, buf, size);
}

static void ozxfs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			      size_t size)
{
	xattr_op(req, ino, name, size);
}

static void ozxfs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	xattr_op(req, ino, NULL, size);
}

/*
 * Everything below would change the archive: EROFS.  The mount is ro, so
 * the kernel refuses these itself; they reach the daemon once root has
 * remounted it rw (mount -o remount,rw).  write, fallocate and
 * copy_file_range too: with zero-message opens (see "Opening") the kernel
 * then opens a file for writing without asking.  tests/mount/readonly.sh
 * checks both.
 */

static void ozxfs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			     int to_set, struct fuse_file_info *fi)
{
	(void)ino;
	(void)attr;
	(void)to_set;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			   mode_t mode, dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			   mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_symlink(fuse_req_t req, const char *link,
			     fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			    fuse_ino_t newparent, const char *newname,
			    unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
			  const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			   size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			    mode_t mode, struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			      const char *value, size_t size, int flags)
{
	(void)ino;
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_removexattr(fuse_req_t req, fuse_ino_t ino,
				 const char *name)
{
	(void)ino;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			       off_t offset, off_t length,
			       struct fuse_file_info *fi)
{
	(void)ino;
	(void)mode;
	(void)offset;
	(void)length;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void ozxfs_ll_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
				     off_t off_in, struct fuse_file_info *fi_in,
				     fuse_ino_t ino_out, off_t off_out,
				     struct fuse_file_info *fi_out, size_t len,
				     int flags)
{
	(void)ino_in;
	(void)off_in;
	(void)fi_in;
	(void)ino_out;
	(void)off_out;
	(void)fi_out;
	(void)len;
	(void)flags;
	fuse_reply_err(req, EROFS);
}

static const struct fuse_lowlevel_ops ozxfs_ll_ops = {
	.init = ozxfs_ll_init,
	.destroy = ozxfs_ll_destroy,
	.lookup = ozxfs_ll_lookup,
	.forget = ozxfs_ll_forget,
	.forget_multi = ozxfs_ll_forget_multi,
	.getattr = ozxfs_ll_getattr,
	.open = ozxfs_ll_open,
	.read = ozxfs_ll_read,
	.release = ozxfs_ll_release,
	.opendir = ozxfs_ll_opendir,
	.readdir = ozxfs_ll_readdir,
	.readdirplus = ozxfs_ll_readdirplus,
	.releasedir = ozxfs_ll_releasedir,
	.statfs = ozxfs_ll_statfs,
	.access = ozxfs_ll_access,
	.getxattr = ozxfs_ll_getxattr,
	.listxattr = ozxfs_ll_listxattr,
	.setattr = ozxfs_ll_setattr,
	.mknod = ozxfs_ll_mknod,
	.mkdir = ozxfs_ll_mkdir,
	.unlink = ozxfs_ll_unlink,
	.rmdir = ozxfs_ll_rmdir,
	.symlink = ozxfs_ll_symlink,
	.rename = ozxfs_ll_rename,
	.link = ozxfs_ll_link,
	.write = ozxfs_ll_write,
	.create = ozxfs_ll_create,
	.setxattr = ozxfs_ll_setxattr,
	.removexattr = ozxfs_ll_removexattr,
	.fallocate = ozxfs_ll_fallocate,
	.copy_file_range = ozxfs_ll_copy_file_range,
};

struct fuse_session *ozxfs_ll_session_new(struct fuse_args *args,
					  struct ozxfs *fs)
{
	struct fuse_session *se;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	if (page <= 0)
		page = 4096;
	/* The kernel's largest read: max_write rounded up to whole pages. */
	fs->io_size = ((size_t)OZXFS_MAX_IO + (size_t)page - 1) / (size_t)page *
		      (size_t)page;
	fs->page_size = (size_t)page;
	ret = pthread_key_create(&fs->buf_key, free);
	if (ret) {
		fuse_log(FUSE_LOG_ERR, "cannot create a thread key: %s\n",
			 strerror(ret));
		return NULL;
	}
	pthread_mutex_init(&fs->files_lock, NULL);
	fs->files = NULL;
	se = fuse_session_new(args, &ozxfs_ll_ops, sizeof(ozxfs_ll_ops), fs);
	fs->se = se;
	if (!se) {
		pthread_mutex_destroy(&fs->files_lock);
		pthread_key_delete(fs->buf_key);
	}
	return se;
}

void ozxfs_ll_session_destroy(struct fuse_session *se, struct ozxfs *fs)
{
	fuse_session_destroy(se);
	/* Files whose release never came (lazily unmounted while open). */
	while (fs->files)
		file_close(fs, fs->files);
	pthread_mutex_destroy(&fs->files_lock);
	/* Workers freed theirs on exit; -s served from this thread. */
	free(pthread_getspecific(fs->buf_key));
	pthread_setspecific(fs->buf_key, NULL);
	pthread_key_delete(fs->buf_key);
}
