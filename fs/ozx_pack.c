/*
 * ozx_pack.c - ozx pack: a Zarr directory tree into an .ozx archive laid
 * out as RFC-9 recommends, with libzip.
 *
 * Layout.  Every entry STORED.  The root zarr.json first, then the other
 * zarr.json breadth first (by depth, then by path, '/' sorting before every
 * other byte so that siblings stay in their parents' order); in a Zarr v2
 * tree .zgroup, .zattrs, .zarray and .zmetadata take that place, in that
 * order within a directory.  Then every other file and every empty
 * directory ("name/"), sorted the same way.  Local headers and central
 * directory come in the same order, since libzip writes both in index
 * order.  The archive comment is
 *	{"ome":{"version":"V","zipFile":{"centralDirectory":{"jsonFirst":true}}}}
 * without a trailing NUL.  libzip writes the ZIP64 end records only when
 * the archive needs them (more than 65535 entries, or offsets or sizes
 * past 4 GiB); libzip 1.7 cannot be asked for them otherwise.
 *
 * Reproducible.  The same tree gives the same bytes: one fixed time on
 * every entry (--mtime, else SOURCE_DATE_EPOCH, else 1980-01-01 00:00:00
 * UTC), converted to DOS time in UTC whatever TZ says; Unix attributes
 * normalised to 0644 for files and 0755 for directories; no extra fields
 * (libzip adds none for a source that reports no file attributes, and the
 * "version made by" is libzip's own constant); a stable order.  Only
 * --mtime=keep brings the files' own times in.
 *
 * Never a half-written archive at OUT.  libzip's own file source would
 * write a temporary file and rename it over OUT at the end, but through a
 * FILE in small writes, without fsync and replacing whatever OUT has
 * become meanwhile.  The archive is written through a source of our own
 * instead (struct out): a temporary file beside OUT (mkstemp,
 * "OUT.XXXXXX"), written in large pwrite(2)s, fsync'ed, then renamed to
 * OUT in one step; without --force with renameat2(RENAME_NOREPLACE), so an
 * OUT that appeared while packing is kept too.  On any failure, or on
 * SIGINT, SIGTERM or SIGHUP (the file sources stop reading), zip_close()
 * fails, libzip rolls back, and the temporary file is removed.
 *
 * The tree is walked once (collecting names and sizes, refusing what
 * cannot be packed before anything is written), then each file is read
 * during zip_close() through our own libzip source, which checks that the
 * file is still the one walked, reads it in large blocks, names the path
 * in any error, counts progress and stops on a signal.
 */
#include "config.h"

#include "ozx_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "rfc9check.h"

#define DOS_EPOCH     INT64_C(315532800)  /* 1980-01-01 00:00:00 UTC */
#define DOS_END	      INT64_C(4354819198) /* 2107-12-31 23:59:58 UTC */
#define READ_BLOCK    (1u << 20)
#define ROOT_JSON_MAX (64u << 20)
#define VERSION_MAX   15 /* what the core keeps of ome.version */

static const char pack_usage[] =
    "usage: ozx pack [options] DIR OUT.ozx\n"
    "\n"
    "Pack the Zarr hierarchy rooted at DIR (which holds its root\n"
    "zarr.json) into OUT.ozx as RFC-9 recommends: entries stored, the\n"
    "zarr.json first and breadth first, the rest sorted, and the comment\n"
    "{\"ome\":{\"version\":...,\"zipFile\":{\"centralDirectory\":{"
    "\"jsonFirst\":true}}}}.\n"
    "The same tree always gives the same bytes.\n"
    "\n"
    "  -f, --force           replace OUT if it exists\n"
    "      --any             pack a tree without a root zarr.json too\n"
    "      --ome-version=V   the OME-Zarr version for the comment (default:\n"
    "                        attributes.ome.version of DIR/zarr.json)\n"
    "      --mtime=T         the time of every entry: seconds since the "
    "epoch,\n"
    "                        @seconds, YYYY-MM-DD[THH:MM[:SS]] (UTC), or "
    "'keep'\n"
    "                        for each file's own (default: SOURCE_DATE_EPOCH,\n"
    "                        else 1980-01-01T00:00:00)\n"
    "  -q, --quiet           no progress line\n"
    "  -h, --help            show this help\n";

enum rank {
	RANK_ZARR_JSON,
	RANK_ZGROUP,
	RANK_ZATTRS,
	RANK_ZARRAY,
	RANK_ZMETADATA,
	RANK_OTHER,
};

struct pent {
	char *name; /* ZIP name; a directory's ends in '/' */
	uint64_t size;
	int64_t mtime; /* the file's own */
	dev_t dev;     /* of the file read (a symlink's target) */
	ino_t ino;
	unsigned depth; /* '/'s in name, a directory's trailing one aside */
	unsigned char rank;
	bool dir;
};

struct pack {
	/* options */
	bool force, any, quiet, keep_mtime;
	int64_t mtime;
	const char *ome_version;

	const char *dir_arg;
	char *dir_esc;
	const char *out_esc;
	int rootfd;
	char *root_real; /* realpath of DIR */
	size_t root_real_len;
	struct {
		dev_t dev;
		ino_t ino;
	} stack[OZX_MAX_DEPTH + 2]; /* the directories being walked */
	unsigned nstack;

	struct pent *v;
	size_t n, cap;
	uint64_t total_bytes;

	/* while zip_close() reads the files */
	unsigned char *buf;
	size_t nfiles, files_done;
	uint64_t bytes_done;
	struct tool_progress prog;
	char *err; /* what went wrong inside a source callback */
};

/* One file being read by libzip. */
struct src {
	struct pack *p;
	const struct pent *e;
	int fd;
	uint64_t done;
	size_t have, at; /* p->buf[at..have) not handed out yet */
	bool eof;	 /* read(2) said so */
	zip_error_t error;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Record the first error (printf-style) met inside a callback. */
static void __attribute__((format(printf, 2, 3)))
set_err(struct pack *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err)
		return;
	va_start(ap, fmt);
	if (vasprintf(&p->err, fmt, ap) < 0)
		p->err = NULL;
	va_end(ap);
}

/* ---- the walk ---- */

static unsigned char rank_of(const char *base)
{
	static const char *const meta[] = {
	    [RANK_ZARR_JSON] = "zarr.json",  [RANK_ZGROUP] = ".zgroup",
	    [RANK_ZATTRS] = ".zattrs",	     [RANK_ZARRAY] = ".zarray",
	    [RANK_ZMETADATA] = ".zmetadata",
	};

	for (unsigned char r = 0; r < RANK_OTHER; r++)
		if (!strcmp(base, meta[r]))
			return r;
	return RANK_OTHER;
}

static int add_entry(struct pack *p, const char *name, size_t len,
		     const struct stat *st, bool dir, unsigned depth,
		     const char *base)
{
	struct pent *e;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;

		e = realloc(p->v, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		p->v = e;
		p->cap = cap;
	}
	e = &p->v[p->n];
	e->name = malloc(len + 2);
	if (!e->name)
		return -ENOMEM;
	memcpy(e->name, name, len);
	if (dir)
		e->name[len++] = '/';
	e->name[len] = '\0';
	e->size = dir ? 0 : (uint64_t)st->st_size;
	e->mtime = st->st_mtim.tv_sec;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->depth = depth;
	e->dir = dir;
	e->rank = dir ? RANK_OTHER : rank_of(base);
	p->n++;
	if (!dir) {
		p->nfiles++;
		p->total_bytes += e->size;
	}
	return 0;
}

/* Where the symlink rel (below DIR) leads, if it stays in the tree:
 * 0, or -EXDEV naming the target in *target (allocated), or -errno. */
static int symlink_inside(struct pack *p, const char *rel, char **target)
{
	char *full, *real;

	*target = NULL;
	if (asprintf(&full, "%s/%s", p->root_real, rel) < 0)
		return -ENOMEM;
	real = realpath(full, NULL);
	free(full);
	if (!real)
		return -errno;
	if (strncmp(real, p->root_real, p->root_real_len) ||
	    (real[p->root_real_len] != '/' && real[p->root_real_len] != '\0')) {
		*target = real;
		return -EXDEV;
	}
	free(real);
	return 0;
}

/* "DIR/rel" made printable, for messages (free with tool_esc_free). */
static char *shown(const struct pack *p, const char *rel, size_t len)
{
	char *e = tool_esc(rel, len), *s;

	if (asprintf(&s, "%s%s%s", p->dir_esc, len ? "/" : "", e) < 0)
		return e;
	tool_esc_free(e);
	return s;
}

static const char *kind_of(mode_t mode)
{
	return S_ISCHR(mode)	? "character device"
	       : S_ISBLK(mode)	? "block device"
	       : S_ISFIFO(mode) ? "FIFO"
	       : S_ISSOCK(mode) ? "socket"
				: "special file";
}

static int walk(struct pack *p, int dirfd, char *rel, size_t rel_len,
		unsigned depth);

/*
 * One name, base, in the directory dirfd; rel[0..rel_len) is its path
 * below DIR.  Adds what it finds to p (*added: something was added here).
 * Returns 0, or -errno after a message naming the path.
 */
static int walk_one(struct pack *p, int dirfd, const char *base, char *rel,
		    size_t rel_len, unsigned depth, bool *added)
{
	char *e = shown(p, rel, rel_len), *target, *te;
	struct stat st;
	size_t before;
	int ret = 0, fd;

	*added = false;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		ret = -errno;
		tool_err("cannot stat '%s': %s", e, strerror(-ret));
		goto out_free_e;
	}
	if (S_ISLNK(st.st_mode)) {
		ret = symlink_inside(p, rel, &target);
		if (ret == -EXDEV) {
			te = tool_esc(target, strlen(target));
			tool_err("'%s' is a symlink that leads out of the tree "
				 "(to '%s'): not packed",
				 e, te);
			tool_esc_free(te);
			free(target);
			goto out_free_e;
		}
		if (!ret && fstatat(dirfd, base, &st, 0))
			ret = -errno;
		if (ret) {
			tool_err("cannot follow the symlink '%s': %s", e,
				 strerror(-ret));
			goto out_free_e;
		}
	}
	if (S_ISREG(st.st_mode)) {
		/* Unreadable files are refused now, before any writing. */
		if (faccessat(dirfd, base, R_OK, AT_EACCESS)) {
			ret = -errno;
			tool_err("cannot read '%s': %s", e, strerror(-ret));
			goto out_free_e;
		}
		*added = true;
		ret = add_entry(p, rel, rel_len, &st, false, depth, base);
		goto out_free_e;
	}
	if (!S_ISDIR(st.st_mode)) {
		tool_err("'%s' is a %s: only regular files and directories can "
			 "be packed",
			 e, kind_of(st.st_mode));
		ret = -EINVAL;
		goto out_free_e;
	}
	for (unsigned i = 0; i < p->nstack; i++) {
		if (p->stack[i].dev == st.st_dev &&
		    p->stack[i].ino == st.st_ino) {
			tool_err("'%s' leads back to a directory it is in (a "
				 "symlink loop): not packed",
				 e);
			ret = -ELOOP;
			goto out_free_e;
		}
	}
	fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		tool_err("cannot open the directory '%s': %s", e,
			 strerror(-ret));
		goto out_free_e;
	}
	p->stack[p->nstack].dev = st.st_dev;
	p->stack[p->nstack].ino = st.st_ino;
	p->nstack++;
	before = p->n;
	ret = walk(p, fd, rel, rel_len, depth + 1);
	p->nstack--;
	/* An empty directory needs a record of its own to exist. */
	if (!ret && p->n == before) {
		*added = true;
		ret = add_entry(p, rel, rel_len, &st, true, depth, base);
	}
out_free_e:
	tool_esc_free(e);
	return ret;
}

/*
 * The directory open at dirfd (taken over); rel[0..rel_len) is its path
 * below DIR ("" for DIR itself), in a buffer of OZX_MAX_PATH + 1 bytes.
 */
static int walk(struct pack *p, int dirfd, char *rel, size_t rel_len,
		unsigned depth)
{
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	dir = fdopendir(dirfd);
	if (!dir) {
		ret = -errno;
		close(dirfd);
		return ret;
	}
	for (;;) {
		const char *why = NULL;
		size_t blen, len;
		bool added;
		char *pe, *be;

		errno = 0;
		d = readdir(dir);
		if (!d) {
			ret = -errno;
			if (ret) {
				pe = shown(p, rel, rel_len);
				tool_err("cannot list '%s': %s", pe,
					 strerror(-ret));
				tool_esc_free(pe);
			}
			break;
		}
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		/* What ozxfs would hide, and ZIP readers choke on. */
		blen = strlen(d->d_name);
		len = rel_len + (rel_len ? 1 : 0) + blen;
		if (len > OZX_MAX_PATH)
			why = "path longer than 4095 bytes";
		else if (depth >= OZX_MAX_DEPTH)
			why = "path deeper than 128 components";
		else if (!ozxfs_utf8_valid(d->d_name, blen))
			why = "the name is not valid UTF-8, which ZIP readers "
			      "need";
		if (why) {
			pe = shown(p, rel, rel_len);
			be = tool_esc(d->d_name, blen);
			tool_err("'%s/%s': %s", pe, be, why);
			tool_esc_free(be);
			tool_esc_free(pe);
			ret = -EINVAL;
			break;
		}
		if (rel_len)
			rel[rel_len] = '/';
		memcpy(rel + len - blen, d->d_name, blen + 1);
		ret = walk_one(p, dirfd, d->d_name, rel, len, depth, &added);
		rel[rel_len] = '\0';
		if (ret)
			break;
		if (added && !(p->n % 4096))
			tool_progress(&p->prog, "scanning '%s': %zu files",
				      p->dir_esc, p->nfiles);
	}
	closedir(dir);
	return ret;
}

/* ---- order ---- */

/* Compare paths with '/' before every other byte: a tree's order. */
static int pathcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	for (size_t i = 0;; i++) {
		unsigned ca = i < alen ? (unsigned char)a[i] : 0;
		unsigned cb = i < blen ? (unsigned char)b[i] : 0;

		ca = i >= alen ? 0 : ca == '/' ? 1 : ca + 2;
		cb = i >= blen ? 0 : cb == '/' ? 1 : cb + 2;
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca == 0)
			return 0;
	}
}

static size_t dir_len(const char *name)
{
	const char *slash = strrchr(name, '/');

	return slash ? (size_t)(slash - name) : 0;
}

static int pent_cmp(const void *x, const void *y)
{
	const struct pent *a = x, *b = y;
	bool ma = a->rank != RANK_OTHER, mb = b->rank != RANK_OTHER;
	int c;

	if (ma != mb)
		return ma ? -1 : 1;
	if (!ma)
		return pathcmp(a->name, strlen(a->name), b->name,
			       strlen(b->name));
	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	c = pathcmp(a->name, dir_len(a->name), b->name, dir_len(b->name));
	if (c)
		return c;
	return (int)a->rank - (int)b->rank;
}

/* ---- the root and the comment ---- */

static bool version_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > VERSION_MAX)
		return false;
	return strspn(v, "0123456789abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+-_") == n;
}

/* attributes.ome.version of DIR/zarr.json into v ("" if none).
 * Returns 0, or -EINVAL if the file is not a JSON object, or -errno. */
static int root_version(struct pack *p, char *v, size_t size)
{
	static const char *const path[] = {"attributes", "ome", "version",
					   NULL};
	struct ozxfs_json_res res;
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, ret = 0;

	v[0] = '\0';
	fd = openat(p->rootfd, "zarr.json", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close_fd;
	}
	if ((uint64_t)st.st_size > ROOT_JSON_MAX) {
		ret = -EFBIG;
		goto out_close_fd;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out_close_fd;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out_free_buf;
		}
		got += (size_t)n;
	}
	if (ozxfs_json_parse(buf, got, path, v, size, &res) ||
	    res.top != OZXFS_JSON_OBJECT)
		ret = -EINVAL;
	else if (res.kind != OZXFS_JSON_STRING || res.truncated)
		v[0] = '\0';
out_free_buf:
	free(buf);
out_close_fd:
	close(fd);
	return ret;
}

static bool root_has(struct pack *p, const char *name)
{
	struct stat st;

	return fstatat(p->rootfd, name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/*
 * Decide what kind of root DIR is and the comment to write (*comment
 * allocated, or NULL for none).  Returns 0 or -1 after a message.
 */
static int plan_root(struct pack *p, char **comment)
{
	char zv[64];
	const char *v = p->ome_version;
	bool v3 = root_has(p, "zarr.json");
	int ret;

	*comment = NULL;
	if (v3) {
		ret = root_version(p, zv, sizeof(zv));
		if (ret == -EINVAL && !p->any) {
			tool_err(
			    "'%s/zarr.json' is not a JSON object: not the root "
			    "of a Zarr hierarchy (use --any to pack it anyway)",
			    p->dir_esc);
			return -1;
		}
		if (ret && ret != -EINVAL) {
			tool_err("cannot read '%s/zarr.json': %s", p->dir_esc,
				 ret == -EFBIG ? "larger than 64 MiB"
					       : strerror(-ret));
			return -1;
		}
		if (v && zv[0] && strcmp(v, zv))
			tool_warn(
			    "--ome-version=%s, but '%s/zarr.json' says %s", v,
			    p->dir_esc, zv);
		if (!v && zv[0])
			v = zv;
		if (!v && !ret)
			tool_warn(
			    "'%s/zarr.json' has no attributes.ome.version: no "
			    "RFC-9 comment written (give --ome-version)",
			    p->dir_esc);
	} else if (root_has(p, ".zgroup") || root_has(p, ".zarray")) {
		tool_warn(
		    "'%s' is a Zarr v2 hierarchy: RFC-9 wants a root zarr.json "
		    "(Zarr v3); 'ozx check' will report the archive",
		    p->dir_esc);
	} else if (!p->any) {
		tool_err("no 'zarr.json' in '%s': not the root of a Zarr "
			 "hierarchy (use --any to pack it anyway)",
			 p->dir_esc);
		return -1;
	}
	if (!v)
		return 0;
	if (!version_ok(v)) {
		char *e = tool_esc(v, strlen(v));

		tool_err("'%s' is not an OME-Zarr version this tool writes (1 "
			 "to %d of [0-9A-Za-z.+_-])",
			 e, VERSION_MAX);
		tool_esc_free(e);
		return -1;
	}
	ret = v3 ? asprintf(comment,
			    "{\"ome\":{\"version\":\"%s\",\"zipFile\":{"
			    "\"centralDirectory\":{\"jsonFirst\":true}}}}",
			    v)
		 : asprintf(comment, "{\"ome\":{\"version\":\"%s\"}}", v);
	if (ret < 0) {
		*comment = NULL;
		tool_err("out of memory");
		return -1;
	}
	return 0;
}

/* ---- the libzip source of one file ---- */

static zip_int64_t src_fail(struct src *s, int ze, int err, const char *what)
{
	char *e = shown(s->p, s->e->name, strlen(s->e->name));

	set_err(s->p, "%s '%s': %s", what, e, strerror(err));
	tool_esc_free(e);
	zip_error_set(&s->error, ze, err);
	return -1;
}

static zip_int64_t src_open(struct src *s)
{
	struct stat st;

	if (stop_signal) {
		set_err(s->p, "interrupted");
		zip_error_set(&s->error, ZIP_ER_CANCELLED, 0);
		return -1;
	}
	s->fd =
	    openat(s->p->rootfd, s->e->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (s->fd < 0)
		return src_fail(s, ZIP_ER_OPEN, errno, "cannot open");
	if (fstat(s->fd, &st))
		return src_fail(s, ZIP_ER_READ, errno, "cannot stat");
	if (st.st_dev != s->e->dev || st.st_ino != s->e->ino ||
	    (uint64_t)st.st_size != s->e->size) {
		char *e = shown(s->p, s->e->name, strlen(s->e->name));

		set_err(s->p, "'%s' changed while being packed", e);
		tool_esc_free(e);
		zip_error_set(&s->error, ZIP_ER_CHANGED, 0);
		return -1;
	}
	if (s->e->size > READ_BLOCK)
		posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->done = 0;
	s->have = s->at = 0;
	s->eof = false;
	s->p->files_done++;
	tool_progress(
	    &s->p->prog, "packing '%s': %zu of %zu files (%" PRIu64 "%%)",
	    s->p->out_esc, s->p->files_done, s->p->nfiles,
	    s->p->total_bytes ? 100 * s->p->bytes_done / s->p->total_bytes
			      : 100);
	return 0;
}

/*
 * Fill the block buffer.  The file must end exactly at its walked size:
 * the last read asks for one byte more, so a file that grew is caught
 * without a read of its own.
 */
static zip_int64_t src_fill(struct src *s)
{
	uint64_t left = s->e->size - s->done;
	size_t want = left < READ_BLOCK ? (size_t)left + 1 : READ_BLOCK;
	const char *what;
	ssize_t n;
	char *e;

	if (stop_signal) {
		set_err(s->p, "interrupted");
		zip_error_set(&s->error, ZIP_ER_CANCELLED, 0);
		return -1;
	}
	if (left == 0 && s->eof)
		return 0;
	do
		n = read(s->fd, s->p->buf, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return src_fail(s, ZIP_ER_READ, errno, "cannot read");
	if ((uint64_t)n > left) {
		what = "grew";
		goto out_changed;
	}
	if (n == 0 && left > 0) {
		what = "shrank";
		goto out_changed;
	}
	/* A short read of a regular file is its end. */
	s->eof = (size_t)n < want;
	s->have = (size_t)n;
	s->at = 0;
	s->done += (uint64_t)n;
	s->p->bytes_done += (uint64_t)n;
	return n;

out_changed:
	e = shown(s->p, s->e->name, strlen(s->e->name));
	set_err(s->p, "'%s' %s while being packed", e, what);
	tool_esc_free(e);
	zip_error_set(&s->error, ZIP_ER_CHANGED, 0);
	return -1;
}

static zip_int64_t src_cb(void *ud, void *data, zip_uint64_t len,
			  zip_source_cmd_t cmd)
{
	struct src *s = ud;
	zip_int64_t n;

	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		return src_open(s);
	case ZIP_SOURCE_READ:
		if (s->at == s->have) {
			n = src_fill(s);
			if (n <= 0)
				return n;
		}
		n = (zip_int64_t)(s->have - s->at < len ? s->have - s->at
							: len);
		memcpy(data, s->p->buf + s->at, (size_t)n);
		s->at += (size_t)n;
		return n;
	case ZIP_SOURCE_CLOSE:
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return 0;
	case ZIP_SOURCE_STAT: {
		zip_stat_t *st =
		    ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &s->error);

		if (!st)
			return -1;
		zip_stat_init(st);
		st->size = s->e->size;
		st->valid = ZIP_STAT_SIZE;
		return sizeof(*st);
	}
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&s->error, data, len);
	case ZIP_SOURCE_FREE:
		if (s->fd >= 0)
			close(s->fd);
		zip_error_fini(&s->error);
		free(s);
		return 0;
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(
		    ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
		    ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
		    ZIP_SOURCE_SUPPORTS, -1);
	default:
		zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

/* ---- writing ---- */

/* What libzip's error says, in our words. */
static const char *zip_why(zip_error_t *ze)
{
	if (zip_error_system_type(ze) == ZIP_ET_SYS)
		return strerror(zip_error_code_system(ze));
	return zip_error_strerror(ze);
}

static int add_all(struct pack *p, zip_t *za, const char *comment)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct pent *e = &p->v[i];
		zip_uint32_t attr;
		zip_int64_t idx;
		time_t t = (time_t)(p->keep_mtime ? e->mtime : p->mtime);

		if (p->keep_mtime)
			t = t < DOS_EPOCH ? DOS_EPOCH
			    : t > DOS_END ? DOS_END
					  : t;
		if (e->dir) {
			idx = zip_dir_add(za, e->name, ZIP_FL_ENC_UTF_8);
			/* drwxr-xr-x, and the MS-DOS directory bit */
			attr = (zip_uint32_t)(S_IFDIR | 0755) << 16 | 0x10;
		} else {
			struct src *s = calloc(1, sizeof(*s));
			zip_source_t *zs;

			if (!s)
				return -ENOMEM;
			s->p = p;
			s->e = e;
			s->fd = -1;
			zip_error_init(&s->error);
			zs = zip_source_function(za, src_cb, s);
			if (!zs) {
				free(s);
				return -ENOMEM;
			}
			idx = zip_file_add(za, e->name, zs, ZIP_FL_ENC_UTF_8);
			if (idx < 0)
				zip_source_free(zs);
			attr = (zip_uint32_t)(S_IFREG | 0644) << 16;
		}
		if (idx < 0 ||
		    zip_set_file_compression(za, (zip_uint64_t)idx,
					     ZIP_CM_STORE, 0) ||
		    zip_file_set_mtime(za, (zip_uint64_t)idx, t, 0) ||
		    zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0,
						     ZIP_OPSYS_UNIX, attr)) {
			char *n = tool_esc(e->name, strlen(e->name));

			set_err(p, "cannot add '%s': %s", n,
				zip_why(zip_get_error(za)));
			tool_esc_free(n);
			return -EIO;
		}
	}
	if (comment && zip_set_archive_comment(za, comment,
					       (zip_uint16_t)strlen(comment))) {
		set_err(p, "cannot set the archive comment: %s",
			zip_why(zip_get_error(za)));
		return -EIO;
	}
	return 0;
}

/* Move tmp to out: atomically, and over an existing out only if force. */
static int commit(const char *tmp, const char *out, bool force)
{
	if (force)
		return rename(tmp, out) ? -errno : 0;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A file system without RENAME_NOREPLACE: link(2) never replaces. */
	if (link(tmp, out))
		return -errno;
	unlink(tmp);
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Refuse an OUT inside DIR: the walk would meet it, or its temporary. */
static int out_outside_tree(struct pack *p, const char *out)
{
	char *d = dir_of(out), *real;
	int ret = 0;

	if (!d)
		return -ENOMEM;
	real = realpath(d, NULL);
	if (!real) {
		ret = -errno;
		free(d);
		return ret;
	}
	if (!strncmp(real, p->root_real, p->root_real_len) &&
	    (real[p->root_real_len] == '/' || real[p->root_real_len] == '\0'))
		ret = -EXDEV;
	free(real);
	free(d);
	return ret;
}

/*
 * The archive file, as a libzip source of our own.  libzip writes an entry
 * as: local header, data in 8 KiB pieces, a seek back to rewrite the local
 * header with the sizes and CRC, a seek forward.  Through a FILE that is
 * several small write(2)s and lseek(2)s per entry; here the bytes of the
 * last WBUF of the file are kept in memory, a seek back into them costs
 * nothing, and the file is written in WBUF pwrite(2)s.
 */
#define WBUF (4u << 20)

struct out {
	struct pack *p;
	const char *path; /* OUT */
	char *tmp;	  /* the temporary file beside it, while writing */
	int fd;
	unsigned char *buf; /* the file's bytes [boff, boff + blen) */
	uint64_t boff;
	size_t blen;
	uint64_t pos; /* libzip's write position */
	zip_error_t error;
};

static zip_int64_t out_fail(struct out *o, int ze, int err, const char *what)
{
	char *e = tool_esc(o->path, strlen(o->path));

	set_err(o->p, "%s '%s': %s", what, e, strerror(err));
	tool_esc_free(e);
	zip_error_set(&o->error, ze, err);
	return -1;
}

static int out_flush(struct out *o)
{
	size_t done = 0;

	while (done < o->blen) {
		ssize_t n = pwrite(o->fd, o->buf + done, o->blen - done,
				   (off_t)(o->boff + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	o->boff += o->blen;
	o->blen = 0;
	return 0;
}

static zip_int64_t out_write(struct out *o, const void *data, size_t n)
{
	int ret;

	if (o->pos >= o->boff && o->pos <= o->boff + o->blen &&
	    o->pos - o->boff + n <= WBUF) {
		size_t at = (size_t)(o->pos - o->boff);

		memcpy(o->buf + at, data, n);
		if (at + n > o->blen)
			o->blen = at + n;
		o->pos += n;
		return (zip_int64_t)n;
	}
	ret = out_flush(o);
	if (ret)
		return out_fail(o, ZIP_ER_WRITE, -ret, "cannot write");
	o->boff = o->pos;
	if (n >= WBUF) {
		for (size_t done = 0; done < n;) {
			ssize_t k = pwrite(o->fd, (const char *)data + done,
					   n - done, (off_t)(o->pos + done));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return out_fail(o, ZIP_ER_WRITE, errno,
						"cannot write");
			done += (size_t)k;
		}
		o->pos += n;
		o->boff = o->pos;
		return (zip_int64_t)n;
	}
	memcpy(o->buf, data, n);
	o->blen = n;
	o->pos += n;
	return (zip_int64_t)n;
}

static zip_int64_t out_begin(struct out *o)
{
	mode_t mask;

	if (asprintf(&o->tmp, "%s.XXXXXX", o->path) < 0) {
		o->tmp = NULL;
		zip_error_set(&o->error, ZIP_ER_MEMORY, 0);
		return -1;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		free(o->tmp);
		o->tmp = NULL;
		return out_fail(o, ZIP_ER_TMPOPEN, errno,
				"cannot create a temporary file beside");
	}
	/* mkstemp makes it 0600; an archive is as readable as any file. */
	mask = umask(0);
	umask(mask);
	fchmod(o->fd, 0666 & ~mask);
	o->boff = o->pos = 0;
	o->blen = 0;
	return 0;
}

static void out_rollback(struct out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
}

static zip_int64_t out_commit(struct out *o)
{
	char *d;
	int ret, fd;

	ret = out_flush(o);
	if (ret)
		return out_fail(o, ZIP_ER_WRITE, -ret, "cannot write");
	if (fsync(o->fd))
		return out_fail(o, ZIP_ER_WRITE, errno, "cannot write");
	ret = close(o->fd);
	o->fd = -1;
	if (ret)
		return out_fail(o, ZIP_ER_CLOSE, errno, "cannot write");
	ret = commit(o->tmp, o->path, o->p->force);
	if (ret == -EEXIST) {
		char *e = tool_esc(o->path, strlen(o->path));

		set_err(
		    o->p,
		    "'%s' appeared while packing: not replaced (use --force)",
		    e);
		tool_esc_free(e);
		zip_error_set(&o->error, ZIP_ER_EXISTS, 0);
		return -1;
	}
	if (ret)
		return out_fail(o, ZIP_ER_RENAME, -ret,
				"cannot rename the temporary file to");
	free(o->tmp);
	o->tmp = NULL;
	/* The rename itself is durable once the directory is. */
	d = dir_of(o->path);
	fd = d ? open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(d);
	return 0;
}

static zip_int64_t out_cb(void *ud, void *data, zip_uint64_t len,
			  zip_source_cmd_t cmd)
{
	struct out *o = ud;

	switch (cmd) {
	case ZIP_SOURCE_STAT:
		/* "No such file": libzip then makes a new archive. */
		zip_error_set(&o->error, ZIP_ER_READ, ENOENT);
		return -1;
	case ZIP_SOURCE_BEGIN_WRITE:
		return out_begin(o);
	case ZIP_SOURCE_WRITE:
		return out_write(o, data, (size_t)len);
	case ZIP_SOURCE_SEEK_WRITE: {
		zip_source_args_seek_t *a = ZIP_SOURCE_GET_ARGS(
		    zip_source_args_seek_t, data, len, &o->error);
		uint64_t end = o->boff + o->blen;
		int64_t base;

		if (!a)
			return -1;
		base = a->whence == SEEK_SET   ? 0
		       : a->whence == SEEK_CUR ? (int64_t)o->pos
		       : a->whence == SEEK_END ? (int64_t)end
					       : -1;
		if (base < 0 || base + a->offset < 0) {
			zip_error_set(&o->error, ZIP_ER_INVAL, 0);
			return -1;
		}
		o->pos = (uint64_t)(base + a->offset);
		return 0;
	}
	case ZIP_SOURCE_TELL_WRITE:
		return (zip_int64_t)o->pos;
	case ZIP_SOURCE_COMMIT_WRITE:
		return out_commit(o);
	case ZIP_SOURCE_ROLLBACK_WRITE:
		out_rollback(o);
		return 0;
	case ZIP_SOURCE_REMOVE:
		/* An archive without entries is never committed: nothing. */
		return 0;
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&o->error, data, len);
	case ZIP_SOURCE_FREE:
		out_rollback(o);
		zip_error_fini(&o->error);
		return 0;
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(
		    ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
		    ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
		    ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS,
		    ZIP_SOURCE_BEGIN_WRITE, ZIP_SOURCE_COMMIT_WRITE,
		    ZIP_SOURCE_ROLLBACK_WRITE, ZIP_SOURCE_WRITE,
		    ZIP_SOURCE_SEEK_WRITE, ZIP_SOURCE_TELL_WRITE,
		    ZIP_SOURCE_REMOVE, -1);
	default:
		/* Reading a new archive back is never asked for. */
		zip_error_set(&o->error, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

static int write_archive(struct pack *p, const char *path, const char *comment)
{
	struct out o = {.p = p, .path = path, .fd = -1};
	char *e = tool_esc(path, strlen(path));
	zip_source_t *zs;
	zip_error_t ze;
	zip_t *za;
	int ret = -EIO;

	zip_error_init(&o.error);
	zip_error_init(&ze);
	o.buf = malloc(WBUF);
	if (!o.buf) {
		tool_err("out of memory");
		goto out_free;
	}
	zs = zip_source_function_create(out_cb, &o, &ze);
	if (!zs) {
		tool_err("cannot write '%s': %s", e, zip_why(&ze));
		goto out_free;
	}
	za = zip_open_from_source(zs, ZIP_CREATE, &ze);
	if (!za) {
		tool_err("cannot write '%s': %s", e, zip_why(&ze));
		zip_source_free(zs);
		goto out_free;
	}
	tool_progress_init(&p->prog, p->quiet);
	ret = add_all(p, za, comment);
	if (ret == 0 && zip_close(za) == 0) {
		tool_progress_end(&p->prog);
		goto out_free; /* zip_close freed the source */
	}
	tool_progress_end(&p->prog);
	if (ret == -ENOMEM)
		set_err(p, "out of memory");
	/* A callback's message names its file; libzip's does not. */
	if (p->err)
		tool_err("%s", p->err);
	else
		tool_err("cannot write '%s': %s", e,
			 zip_why(zip_get_error(za)));
	zip_discard(za); /* rolls back: the temporary file goes */
	ret = -EIO;
out_free:
	zip_error_fini(&ze);
	free(o.buf);
	tool_esc_free(e);
	return ret;
}

/* ---- options ---- */

static int parse_mtime(const char *s, int64_t *t, bool *keep)
{
	struct tm tm = {0};
	char *end;
	long long v;

	*keep = false;
	if (!strcmp(s, "keep")) {
		*keep = true;
		return 0;
	}
	if (*s == '@')
		s++;
	if (*s >= '0' && *s <= '9' && !strchr(s, '-')) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end)
			return -EINVAL;
		*t = v;
	} else {
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end && (*end == 'T' || *end == ' '))
			end = strptime(end + 1, "%H:%M", &tm);
		if (end && *end == ':')
			end = strptime(end + 1, "%S", &tm);
		if (end && *end == 'Z')
			end++;
		if (!end || *end)
			return -EINVAL;
		*t = (int64_t)timegm(&tm);
	}
	if (*t < DOS_EPOCH || *t > DOS_END)
		return -ERANGE;
	return 0;
}

static void pack_release(struct pack *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	free(p->buf);
	free(p->root_real);
	free(p->err);
	tool_esc_free(p->dir_esc);
	if (p->rootfd >= 0)
		close(p->rootfd);
}

int cmd_pack(int argc, char **argv)
{
	enum { OPT_ANY = 256, OPT_OME_VERSION, OPT_MTIME };
	static const struct option longopts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"any", no_argument, NULL, OPT_ANY},
	    {"ome-version", required_argument, NULL, OPT_OME_VERSION},
	    {"mtime", required_argument, NULL, OPT_MTIME},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pack p = {.rootfd = -1, .mtime = DOS_EPOCH};
	struct sigaction sa = {.sa_handler = on_signal};
	const char *mtime_arg = NULL, *out, *sde;
	char rel[OZX_MAX_PATH + 1] = "";
	char *comment = NULL, *oe;
	struct stat st;
	int opt, ret, fd;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:fqh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			p.force = true;
			break;
		case OPT_ANY:
			p.any = true;
			break;
		case OPT_OME_VERSION:
			p.ome_version = optarg;
			break;
		case OPT_MTIME:
			mtime_arg = optarg;
			break;
		case 'q':
			p.quiet = true;
			break;
		case 'h':
			fputs(pack_usage, stdout);
			return TOOL_EXIT_OK;
		case ':':
			tool_err("pack: '%s' wants an argument (see 'ozx pack "
				 "--help')",
				 argv[optind - 1]);
			return TOOL_EXIT_USAGE;
		default:
			tool_err(
			    "pack: unknown option '%s' (see 'ozx pack --help')",
			    argv[optind - 1]);
			return TOOL_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		tool_err("pack: wants a directory and an archive name (see "
			 "'ozx pack --help')");
		return TOOL_EXIT_USAGE;
	}
	p.dir_arg = argv[optind];
	out = argv[optind + 1];
	sde = getenv("SOURCE_DATE_EPOCH");
	if (!mtime_arg && sde && *sde) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(sde, &end, 10);
		if (errno || *end || v < 0) {
			tool_err("pack: SOURCE_DATE_EPOCH=%s is not seconds "
				 "since the epoch",
				 sde);
			return TOOL_EXIT_USAGE;
		}
		/* Clamped to what ZIP can store, as reproducible builds do. */
		p.mtime = v < DOS_EPOCH ? DOS_EPOCH : v > DOS_END ? DOS_END : v;
	}
	if (mtime_arg) {
		ret = parse_mtime(mtime_arg, &p.mtime, &p.keep_mtime);
		if (ret) {
			tool_err(
			    "pack: --mtime=%s: %s", mtime_arg,
			    ret == -ERANGE
				? "outside what ZIP can store (1980 to 2107)"
				: "not seconds, @seconds, "
				  "YYYY-MM-DD[THH:MM[:SS]] or keep");
			return TOOL_EXIT_USAGE;
		}
	}
	/* ZIP keeps local time; ours is UTC, whatever TZ the host has. */
	setenv("TZ", "UTC0", 1);
	tzset();

	p.dir_esc = tool_esc(p.dir_arg, strlen(p.dir_arg));
	oe = tool_esc(out, strlen(out));
	p.out_esc = oe;
	ret = TOOL_EXIT_FAIL;
	if (!p.force && lstat(out, &st) == 0) {
		tool_err("'%s' exists: not replaced (use --force)", oe);
		goto out_release;
	}
	if (p.force && stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		tool_err("'%s' is a directory", oe);
		goto out_release;
	}
	p.rootfd = open(p.dir_arg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.rootfd < 0) {
		tool_err("cannot open the directory '%s': %s", p.dir_esc,
			 strerror(errno));
		goto out_release;
	}
	p.root_real = realpath(p.dir_arg, NULL);
	if (!p.root_real) {
		tool_err("cannot resolve '%s': %s", p.dir_esc, strerror(errno));
		goto out_release;
	}
	p.root_real_len = strlen(p.root_real);
	if (p.root_real_len == 1) /* DIR is "/": every path is inside */
		p.root_real_len = 0;
	if (out_outside_tree(&p, out) == -EXDEV) {
		tool_err(
		    "'%s' would be inside the tree '%s': write it elsewhere",
		    oe, p.dir_esc);
		goto out_release;
	}
	if (plan_root(&p, &comment))
		goto out_release;
	if (fstat(p.rootfd, &st) == 0) {
		p.stack[0].dev = st.st_dev;
		p.stack[0].ino = st.st_ino;
		p.nstack = 1;
	}
	tool_progress_init(&p.prog, p.quiet);
	fd = dup(p.rootfd);
	ret = fd < 0 ? -errno : walk(&p, fd, rel, 0, 0);
	tool_progress_end(&p.prog);
	if (ret) {
		if (ret == -ENOMEM || fd < 0)
			tool_err("cannot walk '%s': %s", p.dir_esc,
				 strerror(-ret));
		ret = TOOL_EXIT_FAIL;
		goto out_release;
	}
	if (p.n == 0) {
		tool_err("nothing to pack in '%s'", p.dir_esc);
		ret = TOOL_EXIT_FAIL;
		goto out_release;
	}
	qsort(p.v, p.n, sizeof(*p.v), pent_cmp);
	p.buf = malloc(READ_BLOCK);
	if (!p.buf) {
		tool_err("out of memory");
		ret = TOOL_EXIT_FAIL;
		goto out_release;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	ret = write_archive(&p, out, comment) ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
out_release:
	pack_release(&p);
	free(comment);
	tool_esc_free(oe);
	if (stop_signal) {
		/* Cleaned up: now die of the signal, as the caller expects. */
		signal(stop_signal, SIG_DFL);
		raise(stop_signal);
	}
	return ret;
}
