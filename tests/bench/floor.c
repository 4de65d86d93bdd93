/*
 * floor.c - the FUSE floor of scripts/bench: a low-level FUSE daemon that
 * serves the names and sizes of a dataset from memory and does nothing
 * else, so that what ozxfs costs above FUSE itself shows as a ratio.
 *
 *   floor [FUSE options] SIZES MOUNTPOINT
 *
 * SIZES is the "SIZE NAME" listing that scripts/mkbench-data writes next to
 * an archive (OUT.ozx.sizes); directories are implied by the names.  Every
 * file holds the same deterministic bytes: the byte at offset o is
 * pattern[o % 256], so a read is one reply straight out of a static buffer,
 * with no archive, no index, no CRC and no copy.
 *
 * Everything else is as ozxfs does it (fs/daemon/ops.c, main.c), so that
 * the two differ only in the work of serving a read: the same mount options
 * (ro, default_permissions), timeouts of DBL_MAX, cached negative lookups,
 * zero-message opens (the first open answers ENOSYS; with no such kernel,
 * opens are served with keep_cache), cache_readdir, READDIRPLUS always
 * (not auto), 1 MiB requests (max_write), the bdi's read_ahead_kb raised to
 * 1 MiB when root may, and the multithreaded loop with up to 256 workers
 * and as many idle ones as cpus_usable() grants (fs/cpus.c, linked in).
 * ozxfs keeps served opens for an archive with empty files; the floor does
 * not, since it checks nothing.
 *
 * Inode of node n is n + 1, the root (node 0) is FUSE_ROOT_ID; nothing is
 * ever renumbered, so forget needs no op (libfuse replies none).
 *
 * Build (scripts/bench does): cc -O2 -D_GNU_SOURCE -IDIR_WITH_CONFIG_H
 *   -Ifs -o floor tests/bench/floor.c fs/cpus.c $(pkg-config --cflags
 *   --libs fuse3)
 */
#define FUSE_USE_VERSION 312

#include "cpus.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FLOOR_MAX_IO (1u << 20)	  /* OZXFS_MAX_IO */
#define FLOOR_MAX_THREADS 256u	  /* OZXFS_MAX_THREADS */
#define FLOOR_MAX_WORKERS 256u	  /* OZXFS_MAX_WORKERS */
#define FLOOR_READAHEAD_KIB 1024u /* OZXFS_READAHEAD_DEFAULT_KIB */
#define FLOOR_BLKSIZE 65536	  /* OZXFS_BLKSIZE */
#define FLOOR_MTIME 1735689600	  /* 2025-01-01, as mkbench-data's */

struct node {
	const char *name; /* one component, in the loaded listing */
	uint64_t size;
	uint32_t parent;
	uint32_t kid0, nkids; /* a directory's children: kids[kid0..] */
	bool dir;
};

struct floor {
	char *text; /* the listing, cut into components in place */
	struct node *nodes;
	uint32_t n;
	uint32_t *kids;
	uint32_t *hash; /* (parent, name) -> node + 1, open addressing */
	size_t hmask;
	bool served_open;
	bool readahead_set;
};

/* Files are this pattern from offset % 256 on: a read is one reply. */
static unsigned char pattern[FLOOR_MAX_IO + 256];

static struct floor *floor_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static size_t name_hash(uint32_t parent, const char *name)
{
	size_t h = 14695981039346656037u ^ parent;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211u;
	return h;
}

/* The hash slot of (parent, name): its node's, or the empty one to fill. */
static uint32_t *slot_of(const struct floor *fl, uint32_t parent,
			 const char *name)
{
	size_t i = name_hash(parent, name) & fl->hmask;

	for (;; i = (i + 1) & fl->hmask) {
		const struct node *nd;

		if (!fl->hash[i])
			return &fl->hash[i];
		nd = &fl->nodes[fl->hash[i] - 1];
		if (nd->parent == parent && !strcmp(nd->name, name))
			return &fl->hash[i];
	}
}

static int node_of(const struct floor *fl, fuse_ino_t ino, uint32_t *node)
{
	if (ino < FUSE_ROOT_ID || ino - FUSE_ROOT_ID >= fl->n)
		return -ENOENT;
	*node = (uint32_t)(ino - FUSE_ROOT_ID);
	return 0;
}

/* Add one "SIZE NAME" line (NUL-terminated, cut in place).  0 or -errno. */
static int add_line(struct floor *fl, char *line)
{
	uint32_t parent = 0, *slot;
	unsigned long long size;
	char *name, *next;
	bool last;

	errno = 0;
	size = strtoull(line, &name, 10);
	if (errno || name == line || *name != ' ' || size > INT64_MAX)
		return -EINVAL;
	for (name++;; name = next + 1) {
		next = strchr(name, '/');
		last = !next;
		if (next)
			*next = '\0';
		if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
			return -EINVAL;
		slot = slot_of(fl, parent, name);
		if (*slot) {
			/* A file's name again, or used as a directory. */
			if (last || !fl->nodes[*slot - 1].dir)
				return -EEXIST;
		} else {
			fl->nodes[fl->n] =
				(struct node){ .name = name,
					       .size = last ? size : 0,
					       .parent = parent,
					       .dir = !last };
			*slot = ++fl->n;
		}
		parent = *slot - 1;
		if (last)
			return 0;
	}
}

/* Each directory's children, in listing order, in one array. */
static int link_kids(struct floor *fl)
{
	uint32_t at = 0;

	fl->kids = malloc(((size_t)fl->n + 1) * sizeof(*fl->kids));
	if (!fl->kids)
		return -ENOMEM;
	for (uint32_t i = 1; i < fl->n; i++)
		fl->nodes[fl->nodes[i].parent].nkids++;
	for (uint32_t i = 0; i < fl->n; i++) {
		fl->nodes[i].kid0 = at;
		at += fl->nodes[i].nkids;
		fl->nodes[i].nkids = 0;
	}
	for (uint32_t i = 1; i < fl->n; i++) {
		struct node *p = &fl->nodes[fl->nodes[i].parent];

		fl->kids[p->kid0 + p->nkids++] = i;
	}
	return 0;
}

static void floor_release(struct floor *fl)
{
	free(fl->kids);
	free(fl->hash);
	free(fl->nodes);
	free(fl->text);
}

/* Load the listing at path into fl (zeroed).  0 or -errno. */
static int floor_load(struct floor *fl, const char *path)
{
	size_t len = 0, cap = 1 << 16, bound = 2, hsize = 1;
	char *line, *nl;
	ssize_t got;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = -ENOMEM;
	fl->text = malloc(cap);
	if (!fl->text)
		goto out_close;
	while ((got = read(fd, fl->text + len, cap - len - 1)) > 0) {
		len += (size_t)got;
		if (len + 1 == cap) {
			char *more = realloc(fl->text, cap * 2);

			if (!more)
				goto out_close;
			fl->text = more;
			cap *= 2;
		}
	}
	ret = got < 0 ? -errno : 0;
	if (ret)
		goto out_close;
	fl->text[len] = '\0';
	/* Each component is at most one node: bound the table by them. */
	for (size_t i = 0; i < len; i++)
		bound += fl->text[i] == '/' || fl->text[i] == '\n';
	if (bound >= UINT32_MAX / 2) {
		ret = -EFBIG;
		goto out_close;
	}
	while (hsize < 2 * bound)
		hsize *= 2;
	ret = -ENOMEM;
	fl->nodes = calloc(bound, sizeof(*fl->nodes));
	fl->hash = calloc(hsize, sizeof(*fl->hash));
	if (!fl->nodes || !fl->hash)
		goto out_close;
	fl->hmask = hsize - 1;
	fl->nodes[0] = (struct node){ .name = "", .dir = true };
	fl->n = 1;
	for (line = fl->text; *line; line = nl) {
		nl = line + strcspn(line, "\n");
		if (*nl)
			*nl++ = '\0';
		ret = *line ? add_line(fl, line) : 0;
		if (ret) {
			fprintf(stderr, "floor: bad line '%s' in '%s': %s\n",
				line, path, strerror(-ret));
			goto out_close;
		}
	}
	ret = link_kids(fl);
out_close:
	if (close(fd) && !ret)
		ret = -errno;
	if (ret)
		floor_release(fl);
	return ret;
}

static void node_attr(const struct floor *fl, uint32_t node, struct stat *st)
{
	const struct node *nd = &fl->nodes[node];

	memset(st, 0, sizeof(*st));
	st->st_ino = node + FUSE_ROOT_ID;
	st->st_mode = nd->dir ? S_IFDIR | 0555 : S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = (off_t)nd->size;
	st->st_blocks = (blkcnt_t)((nd->size + 511) / 512);
	st->st_blksize = FLOOR_BLKSIZE;
	st->st_mtime = FLOOR_MTIME;
	st->st_atime = st->st_mtime;
	st->st_ctime = st->st_mtime;
}

static void node_entry(const struct floor *fl, uint32_t node,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = node + FUSE_ROOT_ID;
	e->attr_timeout = DBL_MAX;
	e->entry_timeout = DBL_MAX;
	node_attr(fl, node, &e->attr);
}

static void floor_init(void *userdata, struct fuse_conn_info *conn)
{
	const unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			      FUSE_CAP_READDIRPLUS;
	struct floor *fl = userdata;

	fl->served_open = !(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT);
	if (conn->max_write > FLOOR_MAX_IO)
		conn->max_write = FLOOR_MAX_IO;
	if (fl->readahead_set)
		conn->max_readahead = FLOOR_READAHEAD_KIB << 10;
	conn->want |= want & conn->capable;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
}

static void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct floor *fl = floor_of(req);
	struct fuse_entry_param e;
	uint32_t dir, *slot;

	if (node_of(fl, parent, &dir)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!fl->nodes[dir].dir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	slot = slot_of(fl, dir, name);
	if (*slot) {
		node_entry(fl, *slot - 1, &e);
	} else {
		/* A negative entry, cached as long as the others. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = DBL_MAX;
	}
	fuse_reply_entry(req, &e);
}

static void floor_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct floor *fl = floor_of(req);
	struct stat st;
	uint32_t node;

	(void)fi;
	if (node_of(fl, ino, &node)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	node_attr(fl, node, &st);
	fuse_reply_attr(req, &st, DBL_MAX);
}

static void floor_open(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct floor *fl = floor_of(req);
	uint32_t node;

	if ((fi->flags & O_ACCMODE) != O_RDONLY ||
	    (fi->flags & (O_TRUNC | O_APPEND))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (node_of(fl, ino, &node)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (fl->nodes[node].dir) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (!fl->served_open) {
		/* From now on the kernel opens files without asking. */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct floor *fl = floor_of(req);
	uint64_t fsize;
	uint32_t node;

	(void)fi;
	if (node_of(fl, ino, &node)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (fl->nodes[node].dir) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fsize = fl->nodes[node].size;
	if ((uint64_t)off >= fsize)
		size = 0;
	else if (size > fsize - (uint64_t)off)
		size = (size_t)(fsize - (uint64_t)off);
	/* The kernel asks for at most max_write (FLOOR_MAX_IO) at once. */
	if (size > FLOOR_MAX_IO)
		size = FLOOR_MAX_IO;
	fuse_reply_buf(req, (const char *)pattern + ((uint64_t)off & 255),
		       size);
}

static void floor_opendir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct floor *fl = floor_of(req);
	uint32_t node;

	if (node_of(fl, ino, &node)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!fl->nodes[node].dir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->fh = 0;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/* Offsets as ozxfs's: 0 is ".", 1 is "..", 2 + c the c-th child. */
static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, bool plus)
{
	struct floor *fl = floor_of(req);
	struct fuse_entry_param e;
	const struct node *nd;
	size_t used = 0, n;
	uint32_t dir, node;
	const char *name;
	char *buf;

	if (node_of(fl, ino, &dir)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	nd = &fl->nodes[dir];
	if (!nd->dir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size > FLOOR_MAX_IO)
		size = FLOOR_MAX_IO;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (; (uint64_t)off < (uint64_t)nd->nkids + 2; off++) {
		if (off < 2) {
			node = off == 0 ? dir : nd->parent;
			name = off == 0 ? "." : "..";
		} else {
			node = fl->kids[nd->kid0 + (uint32_t)(off - 2)];
			name = fl->nodes[node].name;
		}
		node_entry(fl, node, &e);
		if (plus)
			n = fuse_add_direntry_plus(req, buf + used, size - used,
						   name, &e, off + 1);
		else
			n = fuse_add_direntry(req, buf + used, size - used,
					      name, &e.attr, off + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void floor_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, false);
}

static void floor_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			      off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, true);
}

static const struct fuse_lowlevel_ops floor_ops = {
	.init = floor_init,
	.lookup = floor_lookup,
	.getattr = floor_getattr,
	.open = floor_open,
	.read = floor_read,
	.opendir = floor_opendir,
	.readdir = floor_readdir,
	.readdirplus = floor_readdirplus,
};

/* Raise the mount's read_ahead_kb as ozxfs does (bdi.c).  0 or -errno. */
static int set_readahead(const char *mountpoint)
{
	struct statx stx;
	char path[64], v[16];
	int fd, len, ret = 0;

	if (statx(AT_FDCWD, mountpoint,
		  AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT | AT_SYMLINK_NOFOLLOW,
		  STATX_TYPE, &stx))
		return -errno;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb",
		 stx.stx_dev_major, stx.stx_dev_minor);
	len = snprintf(v, sizeof(v), "%u\n", FLOOR_READAHEAD_KIB);
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

/* The first argument that is not an option is the listing. */
static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	const char **sizes = data;

	(void)outargs;
	if (key == FUSE_OPT_KEY_NONOPT && !*sizes) {
		*sizes = arg;
		return 0;
	}
	return 1;
}

static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *cmd,
		 unsigned threads)
{
	struct fuse_loop_config *cfg;
	int ret;

	if (cmd->singlethread)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)cmd->clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, FLOOR_MAX_WORKERS);
	fuse_loop_cfg_set_idle_threads(cfg, cmd->max_idle_threads != UINT_MAX ?
						    cmd->max_idle_threads :
						    threads);
	ret = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = { 0 };
	struct fuse_session *se;
	struct floor fl = { 0 };
	const char *sizes = NULL;
	int ret, status = 1;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)((i & 255) * 167 + 13);
	if (fuse_opt_parse(&args, &sizes, NULL, opt_proc) ||
	    fuse_opt_add_arg(&args, "-oro,nosuid,nodev,default_permissions,"
				    "fsname=ozxfs-floor,subtype=floor") ||
	    fuse_parse_cmdline(&args, &cmd))
		goto out_free_args;
	if (!sizes || !cmd.mountpoint || cmd.show_help || cmd.show_version) {
		fprintf(stderr,
			"usage: floor [FUSE options] SIZES MOUNTPOINT\n");
		goto out_free_cmd;
	}
	ret = floor_load(&fl, sizes);
	if (ret) {
		fprintf(stderr, "floor: cannot load '%s': %s\n", sizes,
			strerror(-ret));
		goto out_free_cmd;
	}
	se = fuse_session_new(&args, &floor_ops, sizeof(floor_ops), &fl);
	if (!se)
		goto out_release;
	if (fuse_set_signal_handlers(se))
		goto out_destroy_session;
	if (fuse_session_mount(se, cmd.mountpoint))
		goto out_remove_handlers;
	/* Before the session serves: INIT reads readahead_set. */
	fl.readahead_set = set_readahead(cmd.mountpoint) == 0;
	if (fuse_daemonize(cmd.foreground))
		goto out_unmount;
	status = serve(se, &cmd,
		       cmd.singlethread ? 1 : cpus_usable(FLOOR_MAX_THREADS)) ?
			 1 :
			 0;
out_unmount:
	fuse_session_unmount(se);
out_remove_handlers:
	fuse_remove_signal_handlers(se);
out_destroy_session:
	fuse_session_destroy(se);
out_release:
	floor_release(&fl);
out_free_cmd:
	free(cmd.mountpoint);
out_free_args:
	fuse_opt_free_args(&args);
	return status;
}
