/*
 * folder.c - a folder of archives as the source of a mount.
 *
 * What is shown.  The folder's directories (not those whose name starts
 * with a dot), and each regular file NAME.ozx or NAME.zip in them (or a
 * symbolic link to one) as a directory NAME.ozx holding the archive's
 * tree.  Nothing else: not other files, not dot-files, and so never the
 * temporary file "OUT.XXXXXX" of an ozx pack in progress, which the rename
 * that ends the pack turns into an archive at once.
 *
 * Nodes and inodes.  Each directory and archive name the folder has shown
 * gets a node of its own, for the life of the mount: its inode number is
 * its index + 1 (FUSE_ROOT_ID the folder itself), below 2^32.  An archive
 * file as it is (device, inode, size, mtime) is an instance; a lookup of
 * NAME.ozx that finds other identities than last time makes a new
 * instance.  Instances are numbered from 1 and never reused, and node n
 * of instance i has inode (i << 32) + n + 1, so an inode always means the
 * same bytes, and the new version of a replaced archive has new inode
 * numbers from its root down: the kernel never mixes its cached entries
 * of the two.  Instances live as long as the mount (about 150 bytes each,
 * plus the path): only their archives are released.
 *
 * Live.  The folder's entries and attributes time out after
 * FOLDER_TIMEOUT, and missing names as well, so that a new, replaced or
 * removed archive is seen within that; every opendir lists the directory
 * anew.  Inside an archive everything is cached for good, as for a
 * single archive.
 *
 * Lazy and bounded.  An archive is opened and indexed by the first request
 * that needs its tree (a lookup or listing inside it, a read), not by
 * the lookup of its name.  At most max_archives archives are open, with
 * at most archive_memory bytes of indexes (an estimate: 64 bytes per node
 * plus the central directory) and DEFLATE access points (as the core
 * counts them), summed at each open; past either, the least recently used
 * are released: their index freed, their descriptor closed.  An instance
 * released and used again is opened again by its path, and must be the
 * same file (device, inode, size and mtime); otherwise its inodes answer
 * ESTALE.  Not while the kernel holds references to its inodes (lookups
 * less FORGETs), for with zero-message opens a file may be open on them
 * that the daemon never hears of: such an instance, when released, keeps
 * a descriptor of its file (it is held) and is opened again from it, so an
 * open file keeps reading the bytes it opened even after its archive was
 * removed or replaced.  Each release also asks the kernel to drop the
 * archive's directory entry (notify_inval_entry): what no open file pins
 * is forgotten then, and the last FORGET closes the descriptor.  Entries
 * in use then stay (until memory is short, even once unused), so at most
 * HELD_MAX instances are held, the least recently used let go first: past
 * that many other releases, a file left open on a released archive reads
 * on only while its path names the same file.  An instance a request
 * is using is not released, nor one with files open through served opens
 * (-o fd_per_open, idle_timeout).
 *
 * Threads.  A request holds its instance (busy) without a lock: it counts
 * itself in busy, then loads the archive; the release takes the archive
 * out first, then looks at busy, and puts it back if anyone came.  Both
 * sequentially consistent, so either the request sees no archive (and
 * takes the lock to open it again) or the release sees the request.
 * Everything else (nodes, the list of open instances, opening) is under
 * the folder's lock, and opening and indexing an archive happens outside
 * it: other archives are served meanwhile.
 */
#include "config.h"

#include "folder.h"
#include "esc.h"
#include "ops.h"
#include "xattr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Seconds for which the kernel may trust a folder's entry or attributes. */
#define FOLDER_TIMEOUT 1.0

/* Instances by number: INST_CHUNKS chunks of INST_CHUNK pointers. */
#define INST_CHUNK 4096u
#define INST_CHUNKS 65536u

/* Descriptors kept for released archives at most (see the top). */
#define HELD_MAX 8u

/* The memory an open archive's index takes, roughly (see the top). */
#define NODE_BYTES 64u
#define ARCHIVE_BYTES 4096u

enum fkind { FN_DIR, FN_ARC };

/* A directory or an archive name of the folder. */
struct fnode {
	char *path; /* relative to the folder, "" for the folder */
	fuse_ino_t ino;
	enum fkind kind;     /* under the lock */
	struct inst *cur;    /* FN_ARC: the instance last looked up */
	struct fnode *hnext; /* in its hash chain */
};

/* One version of one archive file. */
struct inst {
	struct ozxfs_arc arc; /* first: ozxfs_folder_put() casts back */
	/* The archive while open (arc.archive then is the same). */
	_Atomic(struct ozx_archive *) live;
	struct fnode *fn;
	struct ozx_stamp stamp;
	struct timespec mtime;
	atomic_uint busy;	  /* requests and open files using it */
	_Atomic uint64_t nlookup; /* the kernel's references to it */
	_Atomic uint64_t used;	  /* the folder's tick when last used */
	/* Under the folder's lock. */
	size_t mem;
	int fd; /* held: a descriptor of its file; otherwise -1 */
	bool opening, broken, logged, skip;
	char *why; /* broken: why, for user.ozx.error (then immutable) */
	struct inst *prev, *next; /* in the list of open or held ones */
};

struct ozxfs_folder {
	struct ozxfs *fs;
	int dirfd;
	const char *root; /* fs->archive_path */
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* an instance finished opening */
	struct fnode **nodes; /* by inode - 1 */
	size_t nnodes, cap;
	struct fnode **hash; /* by path */
	size_t hsize;
	_Atomic(uint64_t) ninst;
	_Atomic(struct inst *) *chunk[INST_CHUNKS];
	struct inst *open; /* open instances */
	unsigned nopen;
	struct inst *held; /* released ones that hold a descriptor */
	unsigned nheld;
	_Atomic uint64_t tick; /* advanced by each open */
	atomic_bool cancelled;
	/* Directory entries for the kernel to drop, under the lock. */
	struct inval {
		fuse_ino_t parent;
		struct inval *next;
		char name[];
	} * inval, **inval_tail;
};

/* An opendir's listing (fi->fh). */
struct listing {
	size_t n, cap;
	struct lent {
		char *name;
		fuse_ino_t ino;
		mode_t mode;
	} * e;
};

static struct ozx_stamp stamp_of(const struct stat *st)
{
	struct ozx_stamp s = {
		.dev = (uint64_t)st->st_dev,
		.ino = (uint64_t)st->st_ino,
		.size = (uint64_t)st->st_size,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
			    st->st_mtim.tv_nsec,
	};
	return s;
}

static bool stamp_eq(const struct ozx_stamp *a, const struct ozx_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

static bool is_archive_name(const char *name)
{
	size_t len = strlen(name);

	return len > 4 && (!strcmp(name + len - 4, ".ozx") ||
			   !strcmp(name + len - 4, ".zip"));
}

/* dir/name into out (PATH_MAX bytes); -ENAMETOOLONG. */
static int join(const char *dir, const char *name, char *out)
{
	int n = *dir ? snprintf(out, PATH_MAX, "%s/%s", dir, name) :
		       snprintf(out, PATH_MAX, "%s", name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/*
 * What the folder shows at rel (its last component name): FN_DIR, FN_ARC,
 * or -ENOENT (nothing, or nothing shown), -errno; *st its attributes.
 */
static int classify(const struct ozxfs_folder *f, const char *rel,
		    const char *name, struct stat *st)
{
	if (name[0] == '.')
		return -ENOENT;
	if (fstatat(f->dirfd, rel, st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOTDIR ? -ENOENT : -errno;
	/* A link to an archive, but to no directory: no loops. */
	if (S_ISLNK(st->st_mode) &&
	    (fstatat(f->dirfd, rel, st, 0) || !S_ISREG(st->st_mode)))
		return -ENOENT;
	if (S_ISDIR(st->st_mode))
		return FN_DIR;
	if (S_ISREG(st->st_mode) && is_archive_name(name))
		return FN_ARC;
	return -ENOENT;
}

/* The hash of s[0..len). */
static size_t hash_of(const char *s, size_t len)
{
	size_t h = 14695981039346656037u;

	while (len--)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* Under the lock: the node of path[0..len), or NULL. */
static struct fnode *fnode_find(const struct ozxfs_folder *f, const char *path,
				size_t len)
{
	struct fnode *fn;

	for (fn = f->hash[hash_of(path, len) & (f->hsize - 1)]; fn;
	     fn = fn->hnext)
		if (!strncmp(fn->path, path, len) && !fn->path[len])
			break;
	return fn;
}

/* Under the lock: the node of path, made if need be; NULL if out of
 * memory. */
static struct fnode *fnode_get(struct ozxfs_folder *f, const char *path,
			       enum fkind kind)
{
	struct fnode *fn, **slot;

	fn = fnode_find(f, path, strlen(path));
	if (fn) {
		fn->kind = kind;
		return fn;
	}
	if (f->nnodes == f->cap) {
		size_t cap = f->cap * 2;
		struct fnode **nodes = realloc(f->nodes, cap * sizeof(*nodes));
		struct fnode **hash = calloc(cap, sizeof(*hash));

		if (!nodes || !hash) {
			free(hash);
			if (nodes)
				f->nodes = nodes;
			return NULL;
		}
		f->nodes = nodes;
		f->cap = cap;
		/* Keep the chains short: as many heads as nodes fit. */
		free(f->hash);
		f->hash = hash;
		f->hsize = cap;
		for (size_t i = 0; i < f->nnodes; i++) {
			slot = &hash[hash_of(nodes[i]->path,
					     strlen(nodes[i]->path)) &
				     (cap - 1)];
			nodes[i]->hnext = *slot;
			*slot = nodes[i];
		}
	}
	fn = calloc(1, sizeof(*fn));
	if (!fn || !(fn->path = strdup(path))) {
		free(fn);
		return NULL;
	}
	fn->kind = kind;
	fn->ino = (fuse_ino_t)f->nnodes + 1;
	f->nodes[f->nnodes++] = fn;
	slot = &f->hash[hash_of(path, strlen(path)) & (f->hsize - 1)];
	fn->hnext = *slot;
	*slot = fn;
	return fn;
}

/*
 * The node of a folder inode, and its kind now, or NULL.  Nodes are never
 * freed (their kind changes when a directory and an archive swap names).
 */
static struct fnode *fnode_at(struct ozxfs_folder *f, fuse_ino_t ino,
			      enum fkind *kind)
{
	struct fnode *fn = NULL;

	pthread_mutex_lock(&f->lock);
	if (ino >= 1 && ino <= f->nnodes) {
		fn = f->nodes[ino - 1];
		*kind = fn->kind;
	}
	pthread_mutex_unlock(&f->lock);
	return fn;
}

static struct inst *inst_of(struct ozxfs_folder *f, uint64_t id)
{
	_Atomic(struct inst *) *chunk;

	if (id == 0 || id >= (uint64_t)INST_CHUNK * INST_CHUNKS)
		return NULL;
	chunk = f->chunk[id / INST_CHUNK];
	return chunk ? atomic_load(&chunk[id % INST_CHUNK]) : NULL;
}

/* Under the lock: a new instance of fn's archive as st shows it. */
static struct inst *inst_new(struct ozxfs_folder *f, struct fnode *fn,
			     const struct stat *st)
{
	uint64_t id = atomic_load(&f->ninst) + 1;
	struct inst *in;
	char *path;

	if (id >= (uint64_t)INST_CHUNK * INST_CHUNKS)
		return NULL;
	if (!f->chunk[id / INST_CHUNK]) {
		f->chunk[id / INST_CHUNK] =
			calloc(INST_CHUNK, sizeof(*f->chunk[0]));
		if (!f->chunk[id / INST_CHUNK])
			return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	if (asprintf(&path, "%s/%s", f->root, fn->path) < 0) {
		free(in);
		return NULL;
	}
	in->arc.esc = esc_dup(path, strlen(path));
	free(path);
	if (!in->arc.esc) {
		free(in);
		return NULL;
	}
	in->arc.fs = f->fs;
	in->arc.base = (fuse_ino_t)id << 32;
	in->fd = -1;
	in->fn = fn;
	in->stamp = stamp_of(st);
	in->mtime = st->st_mtim;
	atomic_store(&f->chunk[id / INST_CHUNK][id % INST_CHUNK], in);
	atomic_store(&f->ninst, id);
	return in;
}

/* The memory of an open instance now: its index and DEFLATE access
 * points. */
static size_t inst_mem(const struct inst *in)
{
	struct ozx_zstats zs;

	ozx_archive_zstats(in->arc.archive, &zs);
	return in->mem + zs.used;
}

/* Under the lock: in into, or out of, the list at *head. */
static void list_add(struct inst **head, struct inst *in)
{
	in->prev = NULL;
	in->next = *head;
	if (*head)
		(*head)->prev = in;
	*head = in;
}

static void list_del(struct inst **head, struct inst *in)
{
	if (in->prev)
		in->prev->next = in->next;
	else
		*head = in->next;
	if (in->next)
		in->next->prev = in->prev;
}

/* Under the lock: close the descriptor held instance in keeps. */
static void unhold(struct ozxfs_folder *f, struct inst *in)
{
	list_del(&f->held, in);
	f->nheld--;
	close(in->fd);
	in->fd = -1;
}

/* The least recently used instance of the list at head but skip, or NULL. */
static struct inst *lru(struct inst *head, const struct inst *skip)
{
	struct inst *in, *v = NULL;

	for (in = head; in; in = in->next)
		if (in != skip && !in->skip &&
		    (!v || atomic_load(&in->used) < atomic_load(&v->used)))
			v = in;
	return v;
}

/*
 * Ask the kernel to drop the directory entries queued, not under the lock
 * (see inval_queue()).
 */
static void inval_drain(struct ozxfs_folder *f)
{
	struct inval *iv;

	for (;;) {
		pthread_mutex_lock(&f->lock);
		iv = f->inval;
		if (iv) {
			f->inval = iv->next;
			if (!f->inval)
				f->inval_tail = &f->inval;
		}
		pthread_mutex_unlock(&f->lock);
		if (!iv)
			return;
		/* -ENOENT if the kernel holds no such entry: nothing to do. */
		fuse_lowlevel_notify_inval_entry(f->fs->se, iv->parent,
						 iv->name, strlen(iv->name));
		free(iv);
	}
}

/*
 * Under the lock: queue fn's directory entry for the kernel to drop, by
 * the request that released it once it has let go of the lock.  Safe in a
 * request: the kernel locks the entry's directory, a folder directory,
 * and a request that opens archives is never one on a folder directory
 * (nor on the archive released: it is not busy).  At worst (out of memory)
 * the entry stays until the kernel drops it of itself, and the held
 * descriptor with it.
 */
static void inval_queue(struct ozxfs_folder *f, const struct fnode *fn)
{
	const char *slash = strrchr(fn->path, '/');
	const char *name = slash ? slash + 1 : fn->path;
	const struct fnode *dir =
		fnode_find(f, fn->path, slash ? (size_t)(slash - fn->path) : 0);
	struct inval *iv;

	if (!dir)
		return;
	iv = malloc(sizeof(*iv) + strlen(name) + 1);
	if (!iv)
		return;
	iv->parent = dir->ino;
	iv->next = NULL;
	strcpy(iv->name, name);
	*f->inval_tail = iv;
	f->inval_tail = &iv->next;
}

/*
 * Under the lock: whether in, open as a, may be released.  Not if a
 * request is using it; if the kernel holds references to its inodes, only
 * with a descriptor of its file to keep (*fd; otherwise -1; see the top).
 */
static bool releasable(struct inst *in, const struct ozx_archive *a, int *fd)
{
	*fd = -1;
	if (atomic_load(&in->busy))
		return false;
	if (!atomic_load(&in->nlookup))
		return true;
	*fd = ozx_archive_reopen(a);
	if (*fd >= 0)
		return true;
	*fd = -1;
	return false;
}

/* Under the lock: released in keeps fd, its file (see the top). */
static void hold(struct ozxfs_folder *f, struct inst *in, int fd)
{
	in->fd = fd;
	list_add(&f->held, in);
	if (++f->nheld > HELD_MAX)
		unhold(f, lru(f->held, NULL));
	inval_queue(f, in->fn);
}

/* Under the lock: release open archives (not keep) past the limits. */
static void evict(struct ozxfs_folder *f, struct inst *keep)
{
	const struct ozxfs_opts *o = &f->fs->opts;
	struct ozx_archive *a;
	struct inst *in, *v;
	size_t mem = 0;
	int fd;

	for (in = f->open; in; in = in->next)
		mem += inst_mem(in);
	while (f->nopen > o->max_archives || mem > o->archive_memory) {
		v = lru(f->open, keep);
		if (!v)
			break;
		v->skip = true;
		a = atomic_exchange(&v->live, NULL);
		if (!releasable(v, a, &fd)) {
			atomic_store(&v->live, a);
			continue;
		}
		v->skip = false;
		list_del(&f->open, v);
		f->nopen--;
		mem -= inst_mem(v);
		ozx_archive_free(a);
		if (fd >= 0)
			hold(f, v, fd);
	}
	for (in = f->open; in; in = in->next)
		in->skip = false;
}

/*
 * Open in's archive from held (a descriptor of its file, which this
 * takes) or, if -1, by its path: the same file, or -ESTALE.  An archive
 * that is not usable is -EIO with *why set (to free).
 */
static int inst_load(struct ozxfs_folder *f, struct inst *in, int held,
		     struct ozx_archive **out, char **why)
{
	const struct ozxfs *fs = f->fs;
	struct ozx_diag diag = { 0 };
	struct ozx_archive *a;
	const struct ozx_io *io;
	struct ozx_stamp now;
	char *path;
	int ret;

	*out = NULL;
	*why = NULL;
	if (asprintf(&path, "%s/%s", f->root, in->fn->path) < 0) {
		if (held >= 0)
			close(held);
		return -ENOMEM;
	}
	ret = held >= 0 ? ozx_archive_open_fd(held, path, &a, &diag) :
			  ozx_archive_open(path, &a, &diag);
	free(path);
	if (ret == -EINVAL || ret == -EFBIG) {
		if (asprintf(why, "%s (at offset %llu)",
			     diag.what ? diag.what : strerror(-ret),
			     (unsigned long long)diag.off) < 0)
			*why = NULL;
		return *why ? -EIO : -ENOMEM;
	}
	if (ret)
		return ret == -ENOENT ? -ESTALE : ret;
	io = ozx_archive_io(a);
	if (io->stamp(io->ctx, &now) || !stamp_eq(&now, &in->stamp)) {
		ozx_archive_free(a);
		return -ESTALE;
	}
	ozx_archive_set_verify(a, fs->opts.verify);
	ozx_archive_set_inflate_cache(a, fs->opts.inflate_cache);
	ozx_archive_set_fail_cb(a, ozxfs_ll_fail, &in->arc);
	ozx_archive_set_change_cb(a, ozxfs_ll_changed, &in->arc);
	ozx_archive_set_warn_cb(a, ozxfs_ll_warn, &in->arc);
	ozx_archive_set_cpu_limit(a, fs->cpu_limit);
	if (atomic_load(&f->cancelled))
		ozx_archive_cancel(a);
	*out = a;
	return 0;
}

/* Open in's archive (in is held by the caller); 0 or as folder_get. */
static int inst_open(struct ozxfs_folder *f, struct inst *in)
{
	struct ozx_archive *a;
	bool log = false;
	char *why;
	int held, ret;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		if (atomic_load(&in->live)) {
			pthread_mutex_unlock(&f->lock);
			return 0;
		}
		if (in->broken) {
			pthread_mutex_unlock(&f->lock);
			return -EIO;
		}
		if (!in->opening)
			break;
		pthread_cond_wait(&f->cond, &f->lock);
	}
	in->opening = true;
	held = in->fd;
	if (held >= 0) {
		list_del(&f->held, in);
		f->nheld--;
		in->fd = -1;
	}
	pthread_mutex_unlock(&f->lock);

	ret = inst_load(f, in, held, &a, &why);

	pthread_mutex_lock(&f->lock);
	in->opening = false;
	if (!ret) {
		const struct ozx_info *info = ozx_archive_info(a);

		in->arc.archive = a;
		in->arc.info = info;
		in->mem = (size_t)info->cd_size +
			  (size_t)info->nnodes * NODE_BYTES + ARCHIVE_BYTES;
		list_add(&f->open, in);
		f->nopen++;
		atomic_store(&in->used, atomic_fetch_add(&f->tick, 1) + 1);
		atomic_store(&in->live, a);
		evict(f, in);
	} else if (why) {
		in->broken = true;
		in->why = why;
	}
	log = ret && !in->logged;
	in->logged = in->logged || ret;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	inval_drain(f);
	if (log && in->broken)
		fuse_log(FUSE_LOG_ERR, "'%s' is not a usable archive: %s\n",
			 in->arc.esc, in->why);
	else if (log)
		fuse_log(FUSE_LOG_WARNING, "cannot open archive '%s': %s\n",
			 in->arc.esc,
			 ret == -ESTALE ? "removed or replaced since" :
					  strerror(-ret));
	return ret;
}

int ozxfs_folder_get(struct ozxfs_folder *f, fuse_ino_t ino,
		     struct ozxfs_arc **arc, uint32_t *node)
{
	struct inst *in = inst_of(f, ino >> 32);
	uint32_t n = (uint32_t)ino;
	uint64_t t;
	int ret;

	if (!in || n == 0)
		return -ENOENT;
	atomic_fetch_add(&in->busy, 1);
	if (!atomic_load(&in->live)) {
		ret = inst_open(f, in);
		if (ret) {
			atomic_fetch_sub(&in->busy, 1);
			return ret;
		}
	}
	/* Least recently used by opens: a store only when one came since. */
	t = atomic_load_explicit(&f->tick, memory_order_relaxed);
	if (atomic_load_explicit(&in->used, memory_order_relaxed) != t)
		atomic_store_explicit(&in->used, t, memory_order_relaxed);
	if (n - 1 >= in->arc.info->nnodes) {
		atomic_fetch_sub(&in->busy, 1);
		return -ENOENT;
	}
	*arc = &in->arc;
	*node = n - 1;
	return 0;
}

void ozxfs_folder_put(struct ozxfs_folder *f, struct ozxfs_arc *arc)
{
	(void)f;
	atomic_fetch_sub(&((struct inst *)arc)->busy, 1);
}

void ozxfs_folder_ref(struct ozxfs_arc *arc, uint64_t n)
{
	atomic_fetch_add(&((struct inst *)arc)->nlookup, n);
}

void ozxfs_folder_forget(struct ozxfs_folder *f, fuse_ino_t ino, uint64_t n)
{
	struct inst *in = inst_of(f, ino >> 32);
	uint64_t old;

	if (!in)
		return;
	/* Never below 0: a count too high only keeps an archive open. */
	old = atomic_load(&in->nlookup);
	while (!atomic_compare_exchange_weak(&in->nlookup, &old,
					     old > n ? old - n : 0))
		;
	if (old > n)
		return;
	/* The last: a descriptor held for the kernel's references is not
	 * needed any more, unless a lookup came since. */
	pthread_mutex_lock(&f->lock);
	if (in->fd >= 0 && !atomic_load(&in->nlookup))
		unhold(f, in);
	pthread_mutex_unlock(&f->lock);
}

static void dir_attr(const struct ozxfs_folder *f, fuse_ino_t ino,
		     const struct timespec *mtime, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFDIR | 0555;
	/* Not the count of subdirectories: "unknown" to find(1). */
	st->st_nlink = 1;
	st->st_uid = f->fs->opts.uid;
	st->st_gid = f->fs->opts.gid;
	st->st_blksize = 65536;
	st->st_mtim = *mtime;
	st->st_atim = *mtime;
	st->st_ctim = *mtime;
}

void ozxfs_folder_lookup(fuse_req_t req, struct ozxfs_folder *f,
			 fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct fnode *dir, *fn;
	enum fkind dkind;
	char rel[PATH_MAX];
	struct inst *in;
	struct stat st;
	int kind;

	dir = fnode_at(f, parent, &dkind);
	if (!dir || dkind != FN_DIR) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.entry_timeout = FOLDER_TIMEOUT;
	e.attr_timeout = FOLDER_TIMEOUT;
	kind = join(dir->path, name, rel);
	if (!kind)
		kind = classify(f, rel, name, &st);
	if (kind == -ENOENT) {
		/* Remembered for FOLDER_TIMEOUT: it may appear. */
		fuse_reply_entry(req, &e);
		return;
	}
	if (kind < 0) {
		fuse_reply_err(req, -kind);
		return;
	}
	pthread_mutex_lock(&f->lock);
	fn = fnode_get(f, rel, (enum fkind)kind);
	if (fn && kind == FN_ARC) {
		struct ozx_stamp s = stamp_of(&st);

		in = fn->cur;
		if (!in || !stamp_eq(&in->stamp, &s)) {
			in = inst_new(f, fn, &st);
			if (in)
				fn->cur = in;
		}
		if (in) {
			e.ino = in->arc.base + 1;
			/* This version's root never changes. */
			e.attr_timeout = DBL_MAX;
			atomic_fetch_add(&in->nlookup, 1);
		}
	} else if (fn) {
		e.ino = fn->ino;
	}
	pthread_mutex_unlock(&f->lock);
	if (!e.ino) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	dir_attr(f, e.ino, &st.st_mtim, &e.attr);
	fuse_reply_entry(req, &e);
}

/* The attributes of folder node fn now; 0 or -ENOENT. */
static int fnode_stat(struct ozxfs_folder *f, const struct fnode *fn,
		      struct stat *st)
{
	struct stat now;

	if (*fn->path ? fstatat(f->dirfd, fn->path, &now, AT_SYMLINK_NOFOLLOW) :
			fstat(f->dirfd, &now))
		return -ENOENT;
	if (!S_ISDIR(now.st_mode))
		return -ENOENT;
	dir_attr(f, fn->ino, &now.st_mtim, st);
	return 0;
}

void ozxfs_folder_getattr(fuse_req_t req, struct ozxfs_folder *f,
			  fuse_ino_t ino)
{
	struct fnode *fn;
	enum fkind kind;
	struct inst *in;
	struct stat st;

	if (ozxfs_folder_arc_root(ino)) {
		in = inst_of(f, ino >> 32);
		if (!in) {
			fuse_reply_err(req, ENOENT);
			return;
		}
		dir_attr(f, ino, &in->mtime, &st);
		fuse_reply_attr(req, &st, DBL_MAX);
		return;
	}
	fn = fnode_at(f, ino, &kind);
	if (!fn || kind != FN_DIR || fnode_stat(f, fn, &st)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_attr(req, &st, FOLDER_TIMEOUT);
}

static int listing_add(struct listing *l, const char *name, fuse_ino_t ino)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct lent *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name)
		return -ENOMEM;
	l->e[l->n].ino = ino;
	l->e[l->n].mode = S_IFDIR;
	l->n++;
	return 0;
}

void ozxfs_folder_releasedir(uint64_t fh)
{
	struct listing *l = (struct listing *)(uintptr_t)fh;

	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	free(l);
}

/* Every name of fn's directory that the folder shows, into l. */
static int list_dir(struct ozxfs_folder *f, const struct fnode *fn,
		    struct listing *l)
{
	char rel[PATH_MAX];
	struct dirent *d;
	struct fnode *c;
	struct stat st;
	int fd, kind, ret = 0;
	DIR *dir;

	fd = openat(f->dirfd, *fn->path ? fn->path : ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -ENOMEM;
	}
	ret = listing_add(l, ".", fn->ino);
	if (!ret)
		ret = listing_add(l, "..", fn->ino);
	while (!ret && (d = readdir(dir))) {
		if (d->d_name[0] == '.' || join(fn->path, d->d_name, rel))
			continue;
		if (d->d_type == DT_DIR)
			kind = FN_DIR;
		else if (d->d_type == DT_REG)
			kind = is_archive_name(d->d_name) ? FN_ARC : -ENOENT;
		else
			kind = classify(f, rel, d->d_name, &st);
		if (kind < 0)
			continue;
		pthread_mutex_lock(&f->lock);
		c = fnode_get(f, rel, (enum fkind)kind);
		pthread_mutex_unlock(&f->lock);
		ret = c ? listing_add(l, d->d_name, c->ino) : -ENOMEM;
	}
	closedir(dir);
	return ret;
}

void ozxfs_folder_opendir(fuse_req_t req, struct ozxfs_folder *f,
			  fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct listing *l;
	enum fkind kind;
	struct fnode *fn = fnode_at(f, ino, &kind);
	int ret;

	if (!fn || kind != FN_DIR) {
		fuse_reply_err(req, fn ? ENOTDIR : ENOENT);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = list_dir(f, fn, l);
	if (ret) {
		ozxfs_folder_releasedir((uintptr_t)l);
		fuse_reply_err(req, ret == -ENOTDIR || ret == -ELOOP ? ENOENT :
								       -ret);
		return;
	}
	/* Listed anew by each opendir: archives come and go. */
	fi->fh = (uint64_t)(uintptr_t)l;
	fi->cache_readdir = 0;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi) == -ENOENT)
		ozxfs_folder_releasedir(fi->fh);
}

/*
 * Offsets are indexes into the listing.  With plus, entries carry no
 * inode (e.ino 0): the kernel then only lists them, and looks a name up
 * when it is used, which is where the folder decides what it is now.
 */
void ozxfs_folder_readdir(fuse_req_t req, uint64_t fh, size_t size, off_t off,
			  bool plus)
{
	const struct listing *l = (const struct listing *)(uintptr_t)fh;
	struct fuse_entry_param e;
	size_t used = 0, n;
	char *buf;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(&e, 0, sizeof(e));
	for (size_t i = (size_t)off; i < l->n; i++) {
		e.attr.st_ino = l->e[i].ino;
		e.attr.st_mode = l->e[i].mode;
		if (plus)
			n = fuse_add_direntry_plus(req, buf + used, size - used,
						   l->e[i].name, &e,
						   (off_t)i + 1);
		else
			n = fuse_add_direntry(req, buf + used, size - used,
					      l->e[i].name, &e.attr,
					      (off_t)i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

ssize_t ozxfs_folder_xattr(struct ozxfs_folder *f, fuse_ino_t ino,
			   const char *name, char *buf, size_t size)
{
	static const char names[] = "user.ozx.error";
	struct inst *in = inst_of(f, ino >> 32);
	struct ozxfs_arc *arc;
	uint32_t node;
	int ret;

	if (!in)
		return -ENOENT;
	/* Not ours, and not worth opening the archive for (ls -l asks for
	 * security.selinux of every name it lists). */
	if (name && strncmp(name, "user.ozx.", strlen("user.ozx.")))
		return -ENODATA;
	/* Whether it opens is known once it was tried. */
	ret = ozxfs_folder_get(f, ino, &arc, &node);
	if (!ret) {
		ozxfs_folder_put(f, arc);
		return -ENOSYS;
	}
	pthread_mutex_lock(&f->lock);
	if (!in->broken) {
		pthread_mutex_unlock(&f->lock);
		return ret;
	}
	pthread_mutex_unlock(&f->lock);
	if (!name)
		return ozxfs_xattr_reply(names, sizeof(names), buf, size);
	if (strcmp(name, names))
		return -ENODATA;
	return ozxfs_xattr_reply(in->why, strlen(in->why), buf, size);
}

void ozxfs_folder_cancel(struct ozxfs_folder *f)
{
	uint64_t n = atomic_load(&f->ninst);
	struct ozx_archive *a;
	struct inst *in;

	/* Archives opened from now on are cancelled as they open. */
	atomic_store(&f->cancelled, true);
	for (uint64_t id = 1; id <= n; id++) {
		in = inst_of(f, id);
		if (!in)
			continue;
		/* Held as a request holds it (see the top): evict() cannot
		 * free it under us.  Lock-free atomics only. */
		atomic_fetch_add(&in->busy, 1);
		a = atomic_load(&in->live);
		if (a)
			ozx_archive_cancel(a);
		atomic_fetch_sub(&in->busy, 1);
	}
}

int ozxfs_folder_new(struct ozxfs *fs, const char *path,
		     struct ozxfs_folder **out)
{
	struct ozxfs_folder *f;
	int ret;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fs = fs;
	f->root = path;
	f->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0) {
		ret = -errno;
		goto out_free;
	}
	f->cap = f->hsize = 1024;
	f->nodes = calloc(f->cap, sizeof(*f->nodes));
	f->hash = calloc(f->hsize, sizeof(*f->hash));
	if (!f->nodes || !f->hash) {
		ret = -ENOMEM;
		goto out_close;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->inval_tail = &f->inval;
	if (!fnode_get(f, "", FN_DIR)) {
		ret = -ENOMEM;
		goto out_destroy;
	}
	*out = f;
	return 0;
out_destroy:
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
out_close:
	free(f->nodes);
	free(f->hash);
	close(f->dirfd);
out_free:
	free(f);
	return ret;
}

void ozxfs_folder_free(struct ozxfs_folder *f)
{
	struct inval *iv;
	struct inst *in;

	if (!f)
		return;
	for (uint64_t id = 1; id <= atomic_load(&f->ninst); id++) {
		in = inst_of(f, id);
		ozx_archive_free(atomic_load(&in->live));
		if (in->fd >= 0)
			close(in->fd);
		free(in->why);
		free((char *)in->arc.esc);
		free(in);
	}
	for (size_t i = 0; i < INST_CHUNKS; i++)
		free(f->chunk[i]);
	while ((iv = f->inval)) {
		f->inval = iv->next;
		free(iv);
	}
	for (size_t i = 0; i < f->nnodes; i++) {
		free(f->nodes[i]->path);
		free(f->nodes[i]);
	}
	free(f->nodes);
	free(f->hash);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	close(f->dirfd);
	free(f);
}
