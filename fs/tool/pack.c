/*
 * pack.c - ozx pack: a Zarr directory tree into an .ozx archive laid
 * out as RFC-9 recommends, written by a small ZIP writer of its own.
 *
 * Layout.  Every entry STORED.  The root zarr.json first, then the other
 * zarr.json breadth first (by depth, then by path, '/' sorting before every
 * other byte so that siblings stay in their parents' order); in a Zarr v2
 * tree .zgroup, .zattrs, .zarray and .zmetadata take that place, in that
 * order within a directory.  Then every other file and every empty
 * directory ("name/"), sorted the same way.  Local headers and central
 * directory come in the same order.  ZIP64 throughout: a ZIP64 extra field
 * in every local header and central record, and the ZIP64 end record and
 * locator, whatever the size, as RFC-9 recommends.  The archive comment is
 *	{"ome":{"version":"V","zipFile":{"centralDirectory":{"jsonFirst":true}}}}
 * without a trailing NUL.
 *
 * Why not libzip, which this tool used before: libzip 1.7 writes ZIP64
 * records only when an archive needs them (more than 65535 entries, or a
 * size or offset past 4 GiB) and cannot be asked for them otherwise, so
 * `ozx check` warned about every small archive `ozx pack` wrote.  With
 * only STORED entries the records are few and simple (put_entry,
 * put_cdir); Python's zipfile, libzip, Info-ZIP unzip and bsdtar read the
 * result (tests/tool/pack.sh).
 *
 * Reproducible.  The same tree gives the same bytes: one fixed time on
 * every entry (--mtime, else SOURCE_DATE_EPOCH, else 1980-01-01 00:00:00
 * UTC), converted to DOS time in UTC whatever TZ says; Unix attributes
 * normalised to 0644 for files and 0755 for directories; no extra field
 * but ZIP64's; a stable order.  Only --mtime=keep brings the files' own
 * times in.
 *
 * Never a half-written archive at OUT: a temporary file beside OUT
 * (mkstemp, "OUT.XXXXXX"), written in large pwrite(2)s, fsync'ed, then
 * renamed to OUT in one step; without --force with
 * renameat2(RENAME_NOREPLACE), so an OUT that appeared while packing is
 * kept too.  On any failure, or on SIGINT, SIGTERM or SIGHUP, the
 * temporary file is removed.
 *
 * The tree is walked once (collecting names and sizes, refusing what
 * cannot be packed before anything is written), then each file is read
 * in large blocks, checked to be still the one walked, its CRC-32
 * computed on the way and written back into its local header.
 */
#include "config.h"

#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "rfc9.h"
#include "zipfmt.h"

#define DOS_EPOCH INT64_C(315532800) /* 1980-01-01 00:00:00 UTC */
#define DOS_END INT64_C(4354819198)  /* 2107-12-31 23:59:58 UTC */
#define READ_BLOCK (1u << 20)
#define VERSION_MAX 15 /* what the core keeps of ome.version */

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
	uint32_t crc; /* once written */
	uint64_t lho; /* where its local header is */
};

struct pack {
	/* options */
	bool force, any, quiet, keep_mtime;
	int64_t mtime;
	const char *ome_version;

	const char *dir_arg;
	char *dir_esc;
	char *out_esc;
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

	/* while writing */
	unsigned char *buf; /* READ_BLOCK bytes of a file */
	size_t nfiles, files_done;
	uint64_t bytes_done;
	struct tool_progress prog;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* ---- the walk ---- */

static unsigned char rank_of(const char *base)
{
	static const char *const meta[] = {
		[RANK_ZARR_JSON] = "zarr.json",	 [RANK_ZGROUP] = ".zgroup",
		[RANK_ZATTRS] = ".zattrs",	 [RANK_ZARRAY] = ".zarray",
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
	return S_ISCHR(mode)  ? "character device" :
	       S_ISBLK(mode)  ? "block device" :
	       S_ISFIFO(mode) ? "FIFO" :
	       S_ISSOCK(mode) ? "socket" :
				"special file";
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
		else if (!ozx_utf8_valid(d->d_name, blen))
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
	if ((uint64_t)st.st_size > OZX_RFC9_ROOT_JSON_MAX) {
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
	if (ozx_rfc9_zarr_json(buf, got, v, size) != OZX_RFC9_ZARR_OBJECT)
		ret = -EINVAL;
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
				 ret == -EFBIG ? "larger than 64 MiB" :
						 strerror(-ret));
			return -1;
		}
		if (v && zv[0] && strcmp(v, zv))
			tool_warn(
				"--ome-version=%s, but '%s/zarr.json' says %s",
				v, p->dir_esc, zv);
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
			    v) :
		   asprintf(comment, "{\"ome\":{\"version\":\"%s\"}}", v);
	if (ret < 0) {
		*comment = NULL;
		tool_err("out of memory");
		return -1;
	}
	return 0;
}

/* ---- the archive file ---- */

/*
 * The records.  Every entry has a ZIP64 extra field in its local header
 * (both sizes, as APPNOTE 4.5.3 wants there) and in its central record
 * (sizes and local header offset), with the 32-bit fields set to
 * 0xffffffff so that every reader takes the 64-bit values; the end is
 * the ZIP64 end record, its locator and the end record with the comment.
 * The 16- and 32-bit fields of the end record hold the true counts when
 * they fit, for readers that know no ZIP64.  Names are flagged UTF-8 (bit
 * 11; the walk refused any other).  "Made by" is Unix 4.5, so the mode
 * bits in the external attributes count.  Nothing varies but the tree.
 */
#define ZIP64_VERSION 45u /* 4.5: what reading ZIP64 records needs */
#define MADE_BY_UNIX (3u << 8 | ZIP64_VERSION)
#define FLAG_UTF8 0x0800u
#define LOCAL_EXTRA 20u	  /* id, size, then 2 x 8 bytes */
#define CENTRAL_EXTRA 28u /* id, size, then 3 x 8 bytes */
#define CRC_AT 14u	  /* the CRC-32 in a local header */
#define HEADER_MAX (OZX_CENTRAL_LEN + OZX_MAX_PATH + 1 + CENTRAL_EXTRA)
#define WBUF (4u << 20)

/* The archive being written: a temporary file beside OUT, through a
 * buffer of WBUF bytes written in large pwrite(2)s. */
struct out {
	const char *path; /* OUT */
	const char *esc;  /* OUT, printable */
	char *tmp;	  /* the temporary file, while it exists */
	int fd;
	unsigned char *buf; /* the file's bytes [boff, boff + blen) */
	uint64_t boff;
	size_t blen;
};

static unsigned char *le16(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	return b + 2;
}

static unsigned char *le32(unsigned char *b, uint32_t v)
{
	return le16(le16(b, v & 0xffff), v >> 16);
}

static unsigned char *le64(unsigned char *b, uint64_t v)
{
	return le32(le32(b, (uint32_t)v), (uint32_t)(v >> 32));
}

static uint64_t out_pos(const struct out *o)
{
	return o->boff + o->blen;
}

static int pwrite_all(int fd, const void *data, size_t n, uint64_t off)
{
	for (size_t done = 0; done < n;) {
		ssize_t k = pwrite(fd, (const char *)data + done, n - done,
				   (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		done += (size_t)k;
	}
	return 0;
}

static int out_flush(struct out *o)
{
	int ret = pwrite_all(o->fd, o->buf, o->blen, o->boff);

	if (ret)
		return ret;
	o->boff += o->blen;
	o->blen = 0;
	return 0;
}

/*
 * Append n bytes.  A piece is never split between the file and the
 * buffer, so a header is wholly in one of them when out_patch comes back
 * to it.  Returns 0 or -errno.
 */
static int out_write(struct out *o, const void *data, size_t n)
{
	int ret;

	if (o->blen + n > WBUF) {
		ret = out_flush(o);
		if (ret)
			return ret;
	}
	if (n >= WBUF) {
		ret = pwrite_all(o->fd, data, n, o->boff);
		if (ret)
			return ret;
		o->boff += n;
		return 0;
	}
	memcpy(o->buf + o->blen, data, n);
	o->blen += n;
	return 0;
}

/* Overwrite n bytes at off, inside a piece written before. */
static int out_patch(struct out *o, uint64_t off, const void *data, size_t n)
{
	if (off >= o->boff) {
		memcpy(o->buf + (off - o->boff), data, n);
		return 0;
	}
	return pwrite_all(o->fd, data, n, off);
}

static int write_failed(const struct out *o, int ret)
{
	tool_err("cannot write '%s': %s", o->esc, strerror(-ret));
	return ret;
}

static int64_t entry_time(const struct pack *p, const struct pent *e)
{
	int64_t t = p->keep_mtime ? e->mtime : p->mtime;

	return t < DOS_EPOCH ? DOS_EPOCH : t > DOS_END ? DOS_END : t;
}

/*
 * What local header and central record share: version needed, flags,
 * method, DOS time and date (UTC, whatever TZ says), CRC-32, sizes.
 */
static unsigned char *common_fields(unsigned char *b, const struct pack *p,
				    const struct pent *e)
{
	time_t t = (time_t)entry_time(p, e);
	struct tm tm;

	gmtime_r(&t, &tm);
	b = le16(b, ZIP64_VERSION);
	b = le16(b, FLAG_UTF8);
	b = le16(b, OZX_METHOD_STORE);
	b = le16(b,
		 (uint32_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2));
	b = le16(b, (uint32_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 |
			       tm.tm_mday));
	b = le32(b, e->crc);
	b = le32(b, OZX_U32_MAX);
	return le32(b, OZX_U32_MAX);
}

/* The name, then the ZIP64 extra field of xlen bytes up to the sizes:
 * what both headers end with (a central record adds the offset). */
static unsigned char *name_and_sizes(unsigned char *b, const struct pent *e,
				     size_t nlen, uint32_t xlen)
{
	memcpy(b, e->name, nlen);
	b += nlen;
	b = le16(b, OZX_EXTRA_ZIP64);
	b = le16(b, xlen - 4);
	b = le64(b, e->size);
	return le64(b, e->size);
}

static size_t local_header(unsigned char *h, const struct pack *p,
			   const struct pent *e)
{
	size_t nlen = strlen(e->name);
	unsigned char *b = h;

	b = le32(b, OZX_SIG_LOCAL);
	b = common_fields(b, p, e);
	b = le16(b, (uint32_t)nlen);
	b = le16(b, LOCAL_EXTRA);
	b = name_and_sizes(b, e, nlen, LOCAL_EXTRA);
	return (size_t)(b - h);
}

static size_t central_record(unsigned char *h, const struct pack *p,
			     const struct pent *e)
{
	size_t nlen = strlen(e->name);
	unsigned char *b = h;

	b = le32(b, OZX_SIG_CENTRAL);
	b = le16(b, MADE_BY_UNIX);
	b = common_fields(b, p, e);
	b = le16(b, (uint32_t)nlen);
	b = le16(b, CENTRAL_EXTRA);
	b = le16(b, 0); /* comment */
	b = le16(b, 0); /* disk */
	b = le16(b, 0); /* internal attributes */
	/* rw-r--r-- or rwxr-xr-x, and the MS-DOS directory bit */
	b = le32(b, e->dir ? (uint32_t)(S_IFDIR | 0755) << 16 | 0x10 :
			     (uint32_t)(S_IFREG | 0644) << 16);
	b = le32(b, OZX_U32_MAX);
	b = name_and_sizes(b, e, nlen, CENTRAL_EXTRA);
	b = le64(b, e->lho);
	return (size_t)(b - h);
}

static int interrupted(void)
{
	tool_err("interrupted");
	return -EINTR;
}

/*
 * The data of file e, checked to be still the one walked, into the
 * archive; its CRC-32 into e->crc.  The file must end exactly at its
 * walked size: the last read asks for one byte more, so a file that grew
 * is caught without a read of its own.  Returns 0 or -errno after a
 * message naming the file (or OUT).
 */
static int put_data(struct pack *p, struct out *o, struct pent *e)
{
	char *name = shown(p, e->name, strlen(e->name));
	uLong crc = crc32(0, NULL, 0);
	uint64_t left = e->size;
	const char *what = NULL;
	struct stat st;
	int fd, ret = 0;

	fd = openat(p->rootfd, e->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		tool_err("cannot open '%s': %s", name, strerror(-ret));
		goto out_free_name;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		tool_err("cannot stat '%s': %s", name, strerror(-ret));
		goto out_close_fd;
	}
	if (st.st_dev != e->dev || st.st_ino != e->ino ||
	    (uint64_t)st.st_size != e->size) {
		what = "changed";
		goto out_changed;
	}
	if (e->size > READ_BLOCK)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	p->files_done++;
	tool_progress(
		&p->prog, "packing '%s': %zu of %zu files (%" PRIu64 "%%)",
		p->out_esc, p->files_done, p->nfiles,
		p->total_bytes ? 100 * p->bytes_done / p->total_bytes : 100);
	for (;;) {
		size_t want = left < READ_BLOCK ? (size_t)left + 1 : READ_BLOCK;
		ssize_t n;

		/* No SA_RESTART: a signal ends a read with EINTR. */
		if (stop_signal) {
			ret = interrupted();
			break;
		}
		n = read(fd, p->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			tool_err("cannot read '%s': %s", name, strerror(-ret));
			break;
		}
		if ((uint64_t)n > left) {
			what = "grew";
			goto out_changed;
		}
		if (n == 0 && left > 0) {
			what = "shrank";
			goto out_changed;
		}
		crc = crc32_z(crc, p->buf, (size_t)n);
		ret = out_write(o, p->buf, (size_t)n);
		if (ret) {
			write_failed(o, ret);
			break;
		}
		left -= (uint64_t)n;
		p->bytes_done += (uint64_t)n;
		/* A short read of a regular file is its end. */
		if (left == 0 && (size_t)n < want)
			break;
	}
	e->crc = (uint32_t)crc;
	goto out_close_fd;

out_changed:
	tool_err("'%s' %s while being packed", name, what);
	ret = -EAGAIN;
out_close_fd:
	close(fd);
out_free_name:
	tool_esc_free(name);
	return ret;
}

/* Local header, data, then the CRC-32 into the header. */
static int put_entry(struct pack *p, struct out *o, struct pent *e,
		     unsigned char *h)
{
	unsigned char crc[4];
	int ret;

	e->lho = out_pos(o);
	e->crc = 0;
	ret = out_write(o, h, local_header(h, p, e));
	if (ret)
		return write_failed(o, ret);
	if (e->dir)
		return 0;
	ret = put_data(p, o, e);
	if (ret)
		return ret;
	le32(crc, e->crc);
	ret = out_patch(o, e->lho + CRC_AT, crc, sizeof(crc));
	return ret ? write_failed(o, ret) : 0;
}

/* The central directory and the three end records. */
static int put_cdir(struct pack *p, struct out *o, const char *comment,
		    unsigned char *h)
{
	uint64_t cd_off = out_pos(o), cd_size, end64;
	size_t clen = comment ? strlen(comment) : 0;
	unsigned char *b = h;
	int ret;

	for (size_t i = 0; i < p->n; i++) {
		ret = out_write(o, h, central_record(h, p, &p->v[i]));
		if (ret)
			return write_failed(o, ret);
	}
	end64 = out_pos(o);
	cd_size = end64 - cd_off;
	b = le32(b, OZX_SIG_EOCD64);
	b = le64(b, OZX_EOCD64_LEN - 12); /* what follows this field */
	b = le16(b, MADE_BY_UNIX);
	b = le16(b, ZIP64_VERSION);
	b = le32(b, 0); /* this disk */
	b = le32(b, 0); /* the disk of the central directory */
	b = le64(b, p->n);
	b = le64(b, p->n);
	b = le64(b, cd_size);
	b = le64(b, cd_off);
	b = le32(b, OZX_SIG_LOC64);
	b = le32(b, 0);
	b = le64(b, end64);
	b = le32(b, 1); /* disks */
	b = le32(b, OZX_SIG_EOCD);
	b = le16(b, 0);
	b = le16(b, 0);
	b = le16(b, p->n < OZX_U16_MAX ? (uint32_t)p->n : OZX_U16_MAX);
	b = le16(b, p->n < OZX_U16_MAX ? (uint32_t)p->n : OZX_U16_MAX);
	b = le32(b, cd_size < OZX_U32_MAX ? (uint32_t)cd_size : OZX_U32_MAX);
	b = le32(b, cd_off < OZX_U32_MAX ? (uint32_t)cd_off : OZX_U32_MAX);
	b = le16(b, (uint32_t)clen);
	ret = out_write(o, h, (size_t)(b - h));
	if (!ret && clen)
		ret = out_write(o, comment, clen);
	return ret ? write_failed(o, ret) : 0;
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

static int out_begin(struct out *o)
{
	mode_t mask;

	if (asprintf(&o->tmp, "%s.XXXXXX", o->path) < 0) {
		o->tmp = NULL;
		tool_err("out of memory");
		return -ENOMEM;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		int ret = -errno;

		free(o->tmp);
		o->tmp = NULL;
		tool_err("cannot create a temporary file beside '%s': %s",
			 o->esc, strerror(-ret));
		return ret;
	}
	/* mkstemp makes it 0600; an archive is as readable as any file. */
	mask = umask(0);
	umask(mask);
	fchmod(o->fd, 0666 & ~mask);
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

/* Flush, fsync, rename the temporary file to OUT.  Returns 0 or -errno
 * after a message. */
static int out_commit(struct out *o, bool force)
{
	char *d;
	int ret, fd;

	ret = out_flush(o);
	if (!ret && fsync(o->fd))
		ret = -errno;
	if (ret)
		return write_failed(o, ret);
	ret = close(o->fd);
	o->fd = -1;
	if (ret)
		return write_failed(o, -errno);
	ret = commit(o->tmp, o->path, force);
	if (ret == -EEXIST) {
		tool_err("'%s' appeared while packing: not replaced (use "
			 "--force)",
			 o->esc);
		return ret;
	}
	if (ret) {
		tool_err("cannot rename the temporary file to '%s': %s", o->esc,
			 strerror(-ret));
		return ret;
	}
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

/* Returns 0, or -errno after a message; OUT is then untouched. */
static int write_archive(struct pack *p, const char *path, const char *comment)
{
	struct out o = { .path = path, .esc = p->out_esc, .fd = -1 };
	unsigned char *h = malloc(HEADER_MAX);
	int ret;

	o.buf = malloc(WBUF);
	if (!h || !o.buf) {
		tool_err("out of memory");
		ret = -ENOMEM;
		goto out_free;
	}
	ret = out_begin(&o);
	if (ret)
		goto out_free;
	tool_progress_init(&p->prog, p->quiet);
	for (size_t i = 0; i < p->n && !ret; i++)
		ret = stop_signal ? interrupted() :
				    put_entry(p, &o, &p->v[i], h);
	if (!ret)
		ret = put_cdir(p, &o, comment, h);
	tool_progress_end(&p->prog);
	if (!ret && stop_signal)
		ret = interrupted();
	if (!ret)
		ret = out_commit(&o, p->force);
	out_rollback(&o); /* the temporary file, if it is still there */
out_free:
	free(o.buf);
	free(h);
	return ret;
}

/* ---- options ---- */

static int parse_mtime(const char *s, int64_t *t, bool *keep)
{
	struct tm tm = { 0 };
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
	tool_esc_free(p->dir_esc);
	tool_esc_free(p->out_esc);
	if (p->rootfd >= 0)
		close(p->rootfd);
}

/* SOURCE_DATE_EPOCH, clamped to what ZIP can store; 0 or -EINVAL. */
static int parse_sde(const char *sde, int64_t *t)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(sde, &end, 10);
	if (errno || *end || v < 0)
		return -EINVAL;
	/* Clamped to what ZIP can store, as reproducible builds do. */
	*t = v < DOS_EPOCH ? DOS_EPOCH : v > DOS_END ? DOS_END : v;
	return 0;
}

/*
 * The command line into p, and OUT into *out.  Returns -1 to go on, else
 * the exit status (--help, or a usage error, said).
 */
static int pack_parse(int argc, char **argv, struct pack *p, const char **out)
{
	enum { OPT_ANY = 256, OPT_OME_VERSION, OPT_MTIME };
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "any", no_argument, NULL, OPT_ANY },
		{ "ome-version", required_argument, NULL, OPT_OME_VERSION },
		{ "mtime", required_argument, NULL, OPT_MTIME },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mtime_arg = NULL, *sde;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:fqh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			p->force = true;
			break;
		case OPT_ANY:
			p->any = true;
			break;
		case OPT_OME_VERSION:
			p->ome_version = optarg;
			break;
		case OPT_MTIME:
			mtime_arg = optarg;
			break;
		case 'q':
			p->quiet = true;
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
	p->dir_arg = argv[optind];
	*out = argv[optind + 1];
	sde = getenv("SOURCE_DATE_EPOCH");
	if (!mtime_arg && sde && *sde && parse_sde(sde, &p->mtime)) {
		tool_err("pack: SOURCE_DATE_EPOCH=%s is not seconds since the "
			 "epoch",
			 sde);
		return TOOL_EXIT_USAGE;
	}
	if (mtime_arg) {
		ret = parse_mtime(mtime_arg, &p->mtime, &p->keep_mtime);
		if (ret) {
			tool_err(
				"pack: --mtime=%s: %s", mtime_arg,
				ret == -ERANGE ?
					"outside what ZIP can store (1980 to 2107)" :
					"not seconds, @seconds, "
					"YYYY-MM-DD[THH:MM[:SS]] or keep");
			return TOOL_EXIT_USAGE;
		}
	}
	return -1;
}

/*
 * What must hold before the walk: OUT may be written (not there, or
 * --force and no directory), DIR opens, OUT is not inside DIR, and the
 * root is what was asked (plan_root, which makes the comment).  0, or -1
 * with the reason said.
 */
static int pack_preflight(struct pack *p, const char *out, char **comment)
{
	struct stat st;

	if (!p->force && lstat(out, &st) == 0) {
		tool_err("'%s' exists: not replaced (use --force)", p->out_esc);
		return -1;
	}
	if (p->force && stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		tool_err("'%s' is a directory", p->out_esc);
		return -1;
	}
	p->rootfd = open(p->dir_arg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->rootfd < 0) {
		tool_err("cannot open the directory '%s': %s", p->dir_esc,
			 strerror(errno));
		return -1;
	}
	p->root_real = realpath(p->dir_arg, NULL);
	if (!p->root_real) {
		tool_err("cannot resolve '%s': %s", p->dir_esc,
			 strerror(errno));
		return -1;
	}
	p->root_real_len = strlen(p->root_real);
	if (p->root_real_len == 1) /* DIR is "/": every path is inside */
		p->root_real_len = 0;
	if (out_outside_tree(p, out) == -EXDEV) {
		tool_err(
			"'%s' would be inside the tree '%s': write it elsewhere",
			p->out_esc, p->dir_esc);
		return -1;
	}
	if (plan_root(p, comment))
		return -1;
	return 0;
}

/* Every entry of DIR into p->v, in the archive's order.  0 or -1 (said). */
static int pack_walk(struct pack *p)
{
	char rel[OZX_MAX_PATH + 1] = "";
	struct stat st;
	int ret, fd;

	if (fstat(p->rootfd, &st) == 0) {
		p->stack[0].dev = st.st_dev;
		p->stack[0].ino = st.st_ino;
		p->nstack = 1;
	}
	tool_progress_init(&p->prog, p->quiet);
	fd = dup(p->rootfd);
	ret = fd < 0 ? -errno : walk(p, fd, rel, 0, 0);
	tool_progress_end(&p->prog);
	if (ret) {
		if (ret == -ENOMEM || fd < 0)
			tool_err("cannot walk '%s': %s", p->dir_esc,
				 strerror(-ret));
		return -1;
	}
	if (p->n == 0) {
		tool_err("nothing to pack in '%s'", p->dir_esc);
		return -1;
	}
	qsort(p->v, p->n, sizeof(*p->v), pent_cmp);
	return 0;
}

/*
 * Write the archive (write_archive), with SIGINT, SIGTERM and SIGHUP
 * caught so that it can clean up first.  0 or -1 (said).
 */
static int pack_write(struct pack *p, const char *out, const char *comment)
{
	struct sigaction sa = { .sa_handler = on_signal };

	p->buf = malloc(READ_BLOCK);
	if (!p->buf) {
		tool_err("out of memory");
		return -1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return write_archive(p, out, comment) ? -1 : 0;
}

int cmd_pack(int argc, char **argv)
{
	struct pack p = { .rootfd = -1, .mtime = DOS_EPOCH };
	const char *out;
	char *comment = NULL;
	int ret;

	ret = pack_parse(argc, argv, &p, &out);
	if (ret >= 0)
		return ret;
	p.dir_esc = tool_esc(p.dir_arg, strlen(p.dir_arg));
	p.out_esc = tool_esc(out, strlen(out));
	if (pack_preflight(&p, out, &comment) || pack_walk(&p) ||
	    pack_write(&p, out, comment))
		ret = TOOL_EXIT_FAIL;
	else
		ret = TOOL_EXIT_OK;
	pack_release(&p);
	free(comment);
	if (stop_signal) {
		/* Cleaned up: now die of the signal, as the caller expects. */
		signal(stop_signal, SIG_DFL);
		raise(stop_signal);
	}
	return ret;
}
