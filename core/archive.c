/*
 * archive.c - the archive handle: open, the accessors of ozx.h, reopen
 * and release.
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_i.h"
#include "zipfmt.h"

static void init_locks(struct ozx_archive *a)
{
	pthread_mutex_init(&a->seen_lock, NULL);
	for (unsigned i = 0; i < OZX_NSTRIPES; i++) {
		pthread_mutex_init(&a->lock[i], NULL);
		pthread_cond_init(&a->cond[i], NULL);
	}
	pthread_mutex_init(&a->cpu_lock, NULL);
	pthread_cond_init(&a->cpu_cond, NULL);
	atomic_init(&a->cancelled, false);
}

/*
 * The comment, and the ZIP64 extensible data when it is no longer than a
 * comment may be: the RFC-9 layer (rfc9.c) reads its JSON from either.
 */
static int read_comment(struct ozx_archive *a, const struct ozx_eocd *e)
{
	int ret;

	a->comment = malloc((size_t)e->comment_len + 1);
	if (!a->comment)
		return -ENOMEM;
	ret = ozx_io_read_full(&a->io, a->comment, e->comment_len,
			       e->comment_off);
	if (ret)
		return ret;
	a->comment[e->comment_len] = '\0';
	a->info.comment = a->comment;
	a->info.comment_len = e->comment_len;
	if (e->ext_len == 0 || e->ext_len > OZX_COMMENT_MAX)
		return 0;
	a->ext = malloc((size_t)e->ext_len);
	if (!a->ext)
		return -ENOMEM;
	ret = ozx_io_read_full(&a->io, a->ext, (size_t)e->ext_len, e->ext_off);
	if (ret)
		return ret;
	a->info.ext_data = a->ext;
	a->info.ext_len = (size_t)e->ext_len;
	return 0;
}

/* Open from io; st (may be NULL) describes the file behind it. */
static int archive_open(const struct ozx_io *io, uint64_t size,
			const struct stat *st, struct ozx_archive **out,
			struct ozx_diag *diag)
{
	struct ozx_archive *a;
	struct ozx_eocd e;
	int ret;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->io = *io;
	a->fd = -1;
	if (st)
		a->st = *st;
	a->verify = true;
	a->info.size = size;
	init_locks(a);
	ozx_zcache_init(&a->zc, OZX_INFLATE_CACHE_DEFAULT);
	/* Before the first read: a change during the open is then seen by
	 * the first read after it. */
	ret = ozx_change_init(a);
	if (ret)
		goto out_free_archive;
	ret = ozx_eocd_find(&a->io, size, &e, diag);
	if (ret)
		goto out_free_archive;
	/* The directory is read next, window by window: a URL fetches the
	 * part its first request did not bring in one more. */
	ozx_io_willneed(&a->io, e.cd_offset, e.cd_size);
	a->info.cd_offset = e.cd_offset;
	a->info.cd_size = e.cd_size;
	a->info.zip64 = e.zip64;
	if (e.trailing) {
		a->info.warn |= OZX_WARN_TRAILING;
		a->info.trailing_bytes = e.trailing;
	}
	if (e.shift) {
		a->info.warn |= OZX_WARN_PREPENDED;
		a->info.prepended_bytes = e.shift;
	}
	ret = read_comment(a, &e);
	if (ret)
		goto out_free_archive;
	ret = ozx_cdir_parse(a, &e, diag);
	if (ret)
		goto out_free_archive;
	ret = ozx_tree_build(a, diag);
	if (ret)
		goto out_free_archive;
	*out = a;
	return 0;

out_free_archive:
	ozx_archive_free(a);
	return ret;
}

int ozx_archive_open_io(const struct ozx_io *io, uint64_t size,
			struct ozx_archive **out, struct ozx_diag *diag)
{
	return archive_open(io, size, NULL, out, diag);
}

int ozx_archive_open(const char *path, struct ozx_archive **out,
		     struct ozx_diag *diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return -errno;
	return ozx_archive_open_fd(fd, path, out, diag);
}

int ozx_archive_open_fd(int fd, const char *path, struct ozx_archive **out,
			struct ozx_diag *diag)
{
	struct ozx_archive *a;
	struct ozx_io io;
	struct stat st;
	char *copy;
	int ret;

	*out = NULL;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		ret = ozx_diag_fail(diag, OZX_R_NOT_REGULAR, 0, -EINVAL);
		goto out_close_fd;
	}
	copy = strdup(path);
	if (!copy) {
		ret = -ENOMEM;
		goto out_close_fd;
	}
	io = ozx_io_fd(fd);
	ret = archive_open(&io, (uint64_t)st.st_size, &st, &a, diag);
	if (ret)
		goto out_free_copy;
	a->fd = fd;
	a->path = copy;
	*out = a;
	return 0;

out_free_copy:
	free(copy);
out_close_fd:
	close(fd);
	return ret;
}

void ozx_archive_free(struct ozx_archive *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < OZX_NSTRIPES; i++) {
		pthread_mutex_destroy(&a->lock[i]);
		pthread_cond_destroy(&a->cond[i]);
	}
	pthread_mutex_destroy(&a->seen_lock);
	pthread_mutex_destroy(&a->cpu_lock);
	pthread_cond_destroy(&a->cpu_cond);
	ozx_zcache_release(&a->zc);
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a->comment);
	free(a->ext);
	free(a->nodes);
	free(a->names);
	free(a->buckets);
	free(a);
}

const struct ozx_info *ozx_archive_info(const struct ozx_archive *a)
{
	return &a->info;
}

const struct ozx_io *ozx_archive_io(const struct ozx_archive *a)
{
	return &a->io;
}

void ozx_archive_set_verify(struct ozx_archive *a, bool verify)
{
	a->verify = verify;
}

void ozx_archive_set_inflate_cache(struct ozx_archive *a, size_t bytes)
{
	a->zc.cap = bytes;
}

void ozx_archive_set_cpu_limit(struct ozx_archive *a, unsigned n)
{
	a->cpu_limit = n;
}

void ozx_archive_cancel(struct ozx_archive *a)
{
	/* Only the store: this runs in signal handlers.  Nobody is woken
	 * here, nor needs to be: see ozx.h. */
	atomic_store(&a->cancelled, true);
}

int ozx_cpu_get(struct ozx_archive *a)
{
	int ret = 0;

	if (!a->cpu_limit)
		return ozx_cancelled(a) ? -ECANCELED : 0;
	pthread_mutex_lock(&a->cpu_lock);
	while (!ozx_cancelled(a) && a->cpu_busy >= a->cpu_limit)
		pthread_cond_wait(&a->cpu_cond, &a->cpu_lock);
	if (ozx_cancelled(a)) {
		/* Pass the wake-up on: the next waiter leaves too. */
		pthread_cond_signal(&a->cpu_cond);
		ret = -ECANCELED;
	} else {
		a->cpu_busy++;
	}
	pthread_mutex_unlock(&a->cpu_lock);
	return ret;
}

void ozx_cpu_put(struct ozx_archive *a)
{
	if (!a->cpu_limit)
		return;
	pthread_mutex_lock(&a->cpu_lock);
	a->cpu_busy--;
	pthread_cond_signal(&a->cpu_cond);
	pthread_mutex_unlock(&a->cpu_lock);
}

void ozx_archive_zstats(const struct ozx_archive *a, struct ozx_zstats *zs)
{
	struct ozx_zcache *c = (struct ozx_zcache *)&a->zc;

	pthread_mutex_lock(&c->lock);
	zs->cap = c->cap;
	zs->used = c->used;
	zs->hits = c->hits;
	zs->builds = c->builds;
	zs->evictions = c->evictions;
	zs->decoded = atomic_load(&c->decoded);
	pthread_mutex_unlock(&c->lock);
}

void ozx_archive_set_fail_cb(struct ozx_archive *a, ozx_fail_fn fn, void *ctx)
{
	a->fail_fn = fn;
	a->fail_ctx = ctx;
}

void ozx_archive_set_warn_cb(struct ozx_archive *a, ozx_fail_fn fn, void *ctx)
{
	a->warn_fn = fn;
	a->warn_ctx = ctx;
}

enum ozx_reason ozx_file_tolerated(const struct ozx_archive *a, uint32_t node)
{
	uint32_t s;

	if (node >= a->nnodes)
		return OZX_R_NONE;
	s = atomic_load(&((struct ozx_node *)&a->nodes[node])->st);
	if ((s & ST_TRAILING) && (s & ST_CRC_MASK) == OZX_CRC_VERIFIED)
		return OZX_R_ENTRY_TRAILING;
	return OZX_R_NONE;
}

const char *ozx_file_warning(const struct ozx_archive *a, uint32_t node)
{
	enum ozx_reason r = ozx_file_tolerated(a, node);

	return r ? ozx_reason_text(r) : NULL;
}

const char *ozx_warn_text(enum ozx_warn w)
{
	switch (w) {
	case OZX_WARN_TRAILING:
		return "bytes after the end record, not covered by its "
		       "comment length (ignored, as Python, unzip and bsdtar "
		       "do)";
	case OZX_WARN_PREPENDED:
		return "bytes before the archive, not counted by its offsets "
		       "(a self-extracting stub?): every offset shifted, every "
		       "local header found there";
	case OZX_WARN_COUNT_WRAPPED:
		return "more than 65535 entries without ZIP64: the end record "
		       "holds the count modulo 65536, the central directory "
		       "was walked to its end";
	case OZX_WARN_UNICODE_PATH:
		return "names that are not UTF-8 shown as their Info-ZIP "
		       "Unicode Path extra field says (its CRC-32 matches)";
	}
	return "";
}

char *ozx_warn_describe(const struct ozx_info *info, enum ozx_warn w, char *buf,
			size_t size)
{
	const char *t = ozx_warn_text(w);

	switch (w) {
	case OZX_WARN_TRAILING:
		snprintf(buf, size, "%" PRIu64 " %s", info->trailing_bytes, t);
		break;
	case OZX_WARN_PREPENDED:
		snprintf(buf, size, "%" PRIu64 " %s", info->prepended_bytes, t);
		break;
	case OZX_WARN_COUNT_WRAPPED:
		snprintf(buf, size,
			 "%" PRIu32 " entries, %" PRIu32
			 " in the end record: %s",
			 info->nrecords, info->count_stored, t);
		break;
	case OZX_WARN_UNICODE_PATH:
		snprintf(buf, size, "%s: %" PRIu32 " entr%s", t,
			 info->nunicode_paths,
			 info->nunicode_paths == 1 ? "y" : "ies");
		break;
	default:
		snprintf(buf, size, "%s", t);
	}
	return buf;
}

void ozx_archive_set_change_cb(struct ozx_archive *a, ozx_change_fn fn,
			       void *ctx)
{
	a->change_fn = fn;
	a->change_ctx = ctx;
}

int ozx_archive_reopen(const struct ozx_archive *a)
{
	struct stat st, ours;
	char proc[64];
	int fd, err;

	if (a->fd < 0)
		return -EBADF;
	/* Through /proc the new description is of our very inode, even if
	 * the path was renamed over or unlinked since. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT && errno != EACCES)
		return -errno;
	/* No /proc: the path, if it still names our inode.  Comparing size
	 * and mtime too would refuse after a mere touch(1); a change of the
	 * bytes is what every read checks, through either descriptor. */
	fd = open(a->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || fstat(a->fd, &ours)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (st.st_dev != ours.st_dev || st.st_ino != ours.st_ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int ozx_node_stat(const struct ozx_archive *a, uint32_t node,
		  struct ozx_stat *st)
{
	const struct ozx_node *n;
	uint32_t s;

	if (node >= a->nnodes)
		return -ENOENT;
	n = &a->nodes[node];
	s = atomic_load(&((struct ozx_node *)n)->st);
	memset(st, 0, sizeof(*st));
	st->kind = (enum ozx_kind)node_kind(n);
	st->mtime = n->mtime;
	st->record = node >= 1 && node <= a->info.nrecords ? node - 1 :
							     OZX_NONE;
	if (st->kind == OZX_KIND_DIR) {
		/* A directory keeps its directory record's node in size. */
		st->record = n->size ? (uint32_t)n->size - 1 : OZX_NONE;
		st->nlink = 2 + (uint32_t)(n->x >> 32);
		return 0;
	}
	st->nlink = 1;
	st->size = n->size;
	st->comp_size = n->comp_size;
	st->crc32 = n->crc;
	st->method = n->method;
	st->encrypted = n->bits & NODE_ENCRYPTED;
	st->lh_offset = node_lho(n);
	st->crc_state = (enum ozx_crc_state)(s & ST_CRC_MASK);
	return 0;
}

const char *ozx_node_name(const struct ozx_archive *a, uint32_t node,
			  size_t *len)
{
	const struct ozx_node *n;

	if (node >= a->nnodes)
		return NULL;
	n = &a->nodes[node];
	if (node_kind(n) == OZX_KIND_HIDDEN) {
		*len = n->name_len;
		return a->names + n->name_off;
	}
	return ozx_node_component(a, n, len);
}

uint32_t ozx_node_parent(const struct ozx_archive *a, uint32_t node)
{
	if (node >= a->nnodes)
		return OZX_NONE;
	return a->nodes[node].parent;
}

ssize_t ozx_node_path(const struct ozx_archive *a, uint32_t node, char *buf,
		      size_t size)
{
	const struct ozx_node *n;
	size_t len = 0, clen;
	uint32_t i;

	if (node >= a->nnodes)
		return -ENOENT;
	n = &a->nodes[node];
	if (node_kind(n) == OZX_KIND_HIDDEN) {
		if (size <= n->name_len)
			return -ERANGE;
		memcpy(buf, a->names + n->name_off, n->name_len);
		buf[n->name_len] = '\0';
		return n->name_len;
	}
	/* Measure, then fill from the end. */
	for (i = node; i != OZX_ROOT; i = a->nodes[i].parent) {
		ozx_node_component(a, &a->nodes[i], &clen);
		len += clen + (len ? 1 : 0);
	}
	if (size <= len)
		return -ERANGE;
	buf[len] = '\0';
	size_t end = len;
	for (i = node; i != OZX_ROOT; i = a->nodes[i].parent) {
		const char *c = ozx_node_component(a, &a->nodes[i], &clen);

		if (end != len)
			buf[--end] = '/';
		end -= clen;
		memcpy(buf + end, c, clen);
	}
	return (ssize_t)len;
}

char *ozx_escape(const char *name, size_t len, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)name;
	size_t o = 0;

	if (size == 0)
		return buf;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		size_t k = c >= 0x80 ? ozx_utf8_seq(s + i, len - i) : 1;

		if (c >= 0x80 && k > 0) {
			/* a whole valid multi-byte character */
			if (o + k >= size)
				break;
			memcpy(buf + o, s + i, k);
			o += k;
			i += k - 1;
		} else if (c >= 0x20 && c != 0x7f && c != '\\' && c < 0x80) {
			if (o + 1 >= size)
				break;
			buf[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

const char *ozx_method_name(uint16_t method, char buf[8])
{
	if (method == 0)
		return "stored";
	if (method == 8)
		return "deflate";
	snprintf(buf, 8, "%u", (unsigned)method);
	return buf;
}

int ozx_record_name(const struct ozx_archive *a, uint32_t node, char *buf,
		    size_t size, const char **name, size_t *len)
{
	struct ozx_stat st;
	ssize_t n;

	if (ozx_node_stat(a, node, &st) || st.record == OZX_NONE)
		return -ENOENT;
	if (st.kind == OZX_KIND_HIDDEN) {
		*name = ozx_node_name(a, node, len);
		return *name ? 0 : -ENOENT;
	}
	/* A visible record's name passed every check, so its path is
	 * exactly its name. */
	n = ozx_node_path(a, node, buf, size);
	if (n < 0)
		return (int)n;
	*name = buf;
	*len = (size_t)n;
	return 0;
}
