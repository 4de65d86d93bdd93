#include "config.h"

#include "fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>
#include <zlib.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

static void *fx_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	assert_non_null(p);
	return p;
}

/* ---- byte buffer ------------------------------------------------------ */

void fx_buf_init(struct fx_buf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void fx_buf_release(struct fx_buf *b)
{
	free(b->p);
	fx_buf_init(b);
}

unsigned char *fx_buf_take(struct fx_buf *b, size_t *len)
{
	unsigned char *p = b->p ? b->p : fx_xmalloc(1);

	*len = b->len;
	fx_buf_init(b);
	return p;
}

static void fx_reserve(struct fx_buf *b, size_t n)
{
	size_t cap;

	if (b->cap - b->len >= n)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	b->p = realloc(b->p, cap);
	assert_non_null(b->p);
	b->cap = cap;
}

void fx_put(struct fx_buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	fx_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void fx_put_str(struct fx_buf *b, const char *s)
{
	fx_put(b, s, strlen(s));
}

void fx_put_fill(struct fx_buf *b, unsigned char c, size_t n)
{
	if (!n)
		return;
	fx_reserve(b, n);
	memset(b->p + b->len, c, n);
	b->len += n;
}

static void fx_le(struct fx_buf *b, uint64_t v, unsigned n)
{
	unsigned char tmp[8];
	unsigned i;

	for (i = 0; i < n; i++)
		tmp[i] = (unsigned char)(v >> (8 * i));
	fx_put(b, tmp, n);
}

void fx_le16(struct fx_buf *b, uint64_t v)
{
	fx_le(b, v, 2);
}

void fx_le32(struct fx_buf *b, uint64_t v)
{
	fx_le(b, v, 4);
}

void fx_le64(struct fx_buf *b, uint64_t v)
{
	fx_le(b, v, 8);
}

static void fx_poke(unsigned char *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void fx_poke16(unsigned char *p, uint64_t v)
{
	fx_poke(p, v, 2);
}

void fx_poke32(unsigned char *p, uint64_t v)
{
	fx_poke(p, v, 4);
}

void fx_poke64(unsigned char *p, uint64_t v)
{
	fx_poke(p, v, 8);
}

static uint64_t fx_peek(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint16_t fx_peek16(const unsigned char *p)
{
	return (uint16_t)fx_peek(p, 2);
}

uint32_t fx_peek32(const unsigned char *p)
{
	return (uint32_t)fx_peek(p, 4);
}

uint64_t fx_peek64(const unsigned char *p)
{
	return fx_peek(p, 8);
}

/* ---- records ------------------------------------------------------------ */

void fx_put_lh(struct fx_buf *b, const struct fx_hdr *h)
{
	fx_le32(b, FX_SIG_LH);
	fx_le16(b, h->version);
	fx_le16(b, h->flags);
	fx_le16(b, h->method);
	fx_le16(b, h->time);
	fx_le16(b, h->date);
	fx_le32(b, h->crc);
	fx_le32(b, h->csize);
	fx_le32(b, h->usize);
	fx_le16(b, h->name_len);
	fx_le16(b, h->extra_len);
	fx_put(b, h->name, h->name_len);
	fx_put(b, h->extra, h->extra_len);
}

void fx_put_cd(struct fx_buf *b, const struct fx_hdr *h)
{
	fx_le32(b, FX_SIG_CD);
	fx_le16(b, h->made);
	fx_le16(b, h->version);
	fx_le16(b, h->flags);
	fx_le16(b, h->method);
	fx_le16(b, h->time);
	fx_le16(b, h->date);
	fx_le32(b, h->crc);
	fx_le32(b, h->csize);
	fx_le32(b, h->usize);
	fx_le16(b, h->name_len);
	fx_le16(b, h->extra_len);
	fx_le16(b, h->comment_len);
	fx_le16(b, h->disk);
	fx_le16(b, 0); /* internal attributes */
	fx_le32(b, h->eattr);
	fx_le32(b, h->lh_off);
	fx_put(b, h->name, h->name_len);
	fx_put(b, h->extra, h->extra_len);
	fx_put(b, h->comment, h->comment_len);
}

void fx_put_eocd(struct fx_buf *b, uint16_t disk, uint16_t cd_disk,
		 uint16_t n_disk, uint16_t n, uint32_t cd_size, uint32_t cd_off,
		 const void *comment, size_t comment_len)
{
	fx_le32(b, FX_SIG_EOCD);
	fx_le16(b, disk);
	fx_le16(b, cd_disk);
	fx_le16(b, n_disk);
	fx_le16(b, n);
	fx_le32(b, cd_size);
	fx_le32(b, cd_off);
	fx_le16(b, comment_len);
	fx_put(b, comment, comment_len);
}

void fx_put_eocd64(struct fx_buf *b, uint64_t n, uint64_t cd_size,
		   uint64_t cd_off, const void *ext, size_t ext_len)
{
	fx_le32(b, FX_SIG_EOCD64);
	fx_le64(b, 44 + ext_len); /* size of the rest of the record */
	fx_le16(b, 45);		  /* version made by */
	fx_le16(b, 45);		  /* version needed */
	fx_le32(b, 0);		  /* this disk */
	fx_le32(b, 0);		  /* disk of the central directory */
	fx_le64(b, n);
	fx_le64(b, n);
	fx_le64(b, cd_size);
	fx_le64(b, cd_off);
	fx_put(b, ext, ext_len);
}

void fx_put_locator(struct fx_buf *b, uint64_t eocd64_off, uint32_t ndisks)
{
	fx_le32(b, FX_SIG_LOC);
	fx_le32(b, 0);
	fx_le64(b, eocd64_off);
	fx_le32(b, ndisks);
}

/* ---- the hand builder ----------------------------------------------- */

static size_t fx_name_len(const struct fx_ent *e)
{
	return e->name_len ? e->name_len : strlen(e->name);
}

static uint16_t version_needed(const struct fx_opts *o, const struct fx_ent *e)
{
	if (o->zip64 != FX_Z64_NONE)
		return 45;
	return e->method == 8 ? 20 : 10;
}

void fx_zip_build(struct fx_zip *z, const struct fx_ent *e, size_t n,
		  const struct fx_opts *o)
{
	static const struct fx_opts none;
	struct fx_buf b, x;
	bool need64;
	size_t i;

	if (!o)
		o = &none;
	memset(z, 0, sizeof(*z));
	z->n = n;
	z->lh_off = fx_xmalloc(n * sizeof(*z->lh_off));
	z->data_off = fx_xmalloc(n * sizeof(*z->data_off));
	z->csize = fx_xmalloc(n * sizeof(*z->csize));
	z->crc = fx_xmalloc(n * sizeof(*z->crc));
	z->cd_rec = fx_xmalloc(n * sizeof(*z->cd_rec));
	fx_buf_init(&b);
	fx_buf_init(&x);
	fx_put_fill(&b, 'J', o->prefix);

	for (i = 0; i < n; i++) {
		const struct fx_ent *ei = &e[i];
		struct fx_hdr h = { 0 };
		unsigned char *packed = NULL;
		const void *stored = ei->data;
		size_t csize = ei->len;
		uint32_t crc = fx_crc32(ei->data, ei->len);

		if (ei->method == 8 && ei->packed) {
			stored = ei->packed;
			csize = ei->packed_len;
		} else if (ei->method == 8) {
			packed = fx_deflate(ei->data, ei->len,
					    ei->raw_blocks ? 0 : -1, &csize);
			stored = packed;
		}
		z->lh_off[i] = b.len;
		z->csize[i] = csize;
		z->crc[i] = crc;

		h.version = version_needed(o, ei);
		h.flags = ei->flags | (ei->dd ? 8 : 0);
		h.method = ei->method;
		h.time = FX_DOS_TIME;
		h.date = FX_DOS_DATE;
		h.crc = ei->dd ? 0 : crc;
		h.csize = ei->dd ? 0 : (uint32_t)csize;
		h.usize = ei->dd ? 0 : (uint32_t)ei->len;
		h.name = ei->name;
		h.name_len = fx_name_len(ei);
		x.len = 0;
		if (o->zip64 != FX_Z64_NONE) {
			fx_le16(&x, 0x0001);
			fx_le16(&x, 16);
			fx_le64(&x, ei->dd ? 0 : ei->len);
			fx_le64(&x, ei->dd ? 0 : csize);
			h.csize = 0xffffffff;
			h.usize = 0xffffffff;
		}
		fx_put(&x, ei->lh_extra, ei->lh_extra_len);
		h.extra = x.p;
		h.extra_len = x.len;
		fx_put_lh(&b, &h);
		z->data_off[i] = b.len;
		fx_put(&b, stored, csize);
		if (ei->dd) {
			if (ei->dd == FX_DD_SIG)
				fx_le32(&b, FX_SIG_DD);
			fx_le32(&b, crc);
			if (o->zip64 != FX_Z64_NONE) {
				fx_le64(&b, csize);
				fx_le64(&b, ei->len);
			} else {
				fx_le32(&b, csize);
				fx_le32(&b, ei->len);
			}
		}
		free(packed);
	}

	z->cd_off = b.len;
	for (i = 0; i < n; i++) {
		const struct fx_ent *ei = &e[i];
		struct fx_hdr h = { 0 };

		z->cd_rec[i] = b.len;
		h.made = (3 << 8) | 63;
		h.version = version_needed(o, ei);
		h.flags = ei->flags | (ei->dd ? 8 : 0);
		h.method = ei->method;
		h.time = FX_DOS_TIME;
		h.date = FX_DOS_DATE;
		h.crc = z->crc[i];
		h.csize = (uint32_t)z->csize[i];
		h.usize = (uint32_t)ei->len;
		h.name = ei->name;
		h.name_len = fx_name_len(ei);
		h.lh_off = (uint32_t)z->lh_off[i];
		h.eattr = h.name_len && ei->name[h.name_len - 1] == '/' ?
				  0x41ed0010u :
				  0x81a40000u;
		x.len = 0;
		if (o->zip64 == FX_Z64_FULL) {
			fx_le16(&x, 0x0001);
			fx_le16(&x, 24);
			fx_le64(&x, ei->len);
			fx_le64(&x, z->csize[i]);
			fx_le64(&x, z->lh_off[i]);
			h.csize = 0xffffffff;
			h.usize = 0xffffffff;
			h.lh_off = 0xffffffff;
		}
		fx_put(&x, ei->cd_extra, ei->cd_extra_len);
		h.extra = x.p;
		h.extra_len = x.len;
		fx_put_cd(&b, &h);
	}
	z->cd_size = b.len - z->cd_off;

	need64 = o->eocd64 || n >= 0xffff || z->cd_off >= 0xffffffff ||
		 z->cd_size >= 0xffffffff;
	if (need64) {
		z->eocd64_off = b.len;
		fx_put_eocd64(&b, n, z->cd_size, z->cd_off, o->eocd64_ext,
			      o->eocd64_ext_len);
		z->loc_off = b.len;
		fx_put_locator(&b, z->eocd64_off, 1);
	}
	z->eocd_off = b.len;
	if (need64 && !o->eocd_real)
		fx_put_eocd(&b, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff,
			    o->comment, o->comment_len);
	else
		fx_put_eocd(&b, 0, 0, n >= 0xffff ? 0xffff : (uint16_t)n,
			    n >= 0xffff ? 0xffff : (uint16_t)n,
			    (uint32_t)z->cd_size, (uint32_t)z->cd_off,
			    o->comment, o->comment_len);
	fx_buf_release(&x);
	z->p = fx_buf_take(&b, &z->len);
}

void fx_zip_release(struct fx_zip *z)
{
	free(z->p);
	free(z->lh_off);
	free(z->data_off);
	free(z->csize);
	free(z->crc);
	free(z->cd_rec);
	memset(z, 0, sizeof(*z));
}

/* ---- libzip --------------------------------------------------------- */

unsigned char *fx_libzip_build(const struct fx_ent *e, size_t n,
			       const char *comment, size_t *len)
{
	zip_error_t err;
	zip_source_t *src;
	zip_stat_t st;
	zip_t *za;
	unsigned char *out;
	size_t i;

	zip_error_init(&err);
	src = zip_source_buffer_create(NULL, 0, 0, &err);
	assert_non_null(src);
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
	assert_non_null(za);
	for (i = 0; i < n; i++) {
		size_t nlen = fx_name_len(&e[i]);
		char *name = fx_xmalloc(nlen + 1);
		zip_int64_t idx;

		memcpy(name, e[i].name, nlen);
		name[nlen] = '\0';
		if (nlen && name[nlen - 1] == '/') {
			idx = zip_dir_add(za, name, ZIP_FL_ENC_GUESS);
		} else {
			zip_source_t *s =
				zip_source_buffer(za, e[i].data, e[i].len, 0);

			assert_non_null(s);
			idx = zip_file_add(za, name, s, ZIP_FL_ENC_GUESS);
			if (idx < 0)
				zip_source_free(s);
		}
		assert_true(idx >= 0);
		assert_int_equal(zip_set_file_compression(
					 za, (zip_uint64_t)idx,
					 e[i].method == 8 ? ZIP_CM_DEFLATE :
							    ZIP_CM_STORE,
					 0),
				 0);
		assert_int_equal(zip_file_set_mtime(za, (zip_uint64_t)idx,
						    (time_t)FX_DOS_EPOCH, 0),
				 0);
		free(name);
	}
	if (comment)
		assert_int_equal(
			zip_set_archive_comment(za, comment,
						(zip_uint16_t)strlen(comment)),
			0);
	assert_int_equal(zip_close(za), 0);

	assert_int_equal(zip_source_open(src), 0);
	zip_stat_init(&st);
	assert_int_equal(zip_source_stat(src, &st), 0);
	assert_true(st.valid & ZIP_STAT_SIZE);
	out = fx_xmalloc(st.size);
	assert_int_equal(zip_source_read(src, out, st.size),
			 (zip_int64_t)st.size);
	zip_source_close(src);
	zip_source_free(src);
	*len = st.size;
	return out;
}

unsigned char *fx_prepend(const unsigned char *buf, size_t len, size_t n,
			  bool adjust, size_t *out_len)
{
	unsigned char *out = fx_xmalloc(len + n);
	size_t eocd, pos, cd_off, i, count;

	assert_true(len >= FX_EOCD_LEN);
	/* The last signature whose comment reaches EOF exactly. */
	for (eocd = len - FX_EOCD_LEN;; eocd--) {
		if (fx_peek32(buf + eocd) == FX_SIG_EOCD &&
		    eocd + FX_EOCD_LEN + fx_peek16(buf + eocd + FX_EOCD_CLEN) ==
			    len)
			break;
		assert_true(eocd > 0);
	}
	memset(out, 'J', n);
	memcpy(out + n, buf, len);
	*out_len = len + n;
	if (!adjust)
		return out;
	count = fx_peek16(buf + eocd + FX_EOCD_N);
	cd_off = fx_peek32(buf + eocd + FX_EOCD_CDOFF);
	assert_true(cd_off != 0xffffffff && count != 0xffff);
	fx_poke32(out + n + eocd + FX_EOCD_CDOFF, cd_off + n);
	for (i = 0, pos = cd_off; i < count; i++) {
		const unsigned char *r = buf + pos;

		assert_true(pos + FX_CD_NAME <= eocd);
		assert_int_equal(fx_peek32(r), FX_SIG_CD);
		assert_true(fx_peek32(r + FX_CD_LHOFF) != 0xffffffff);
		fx_poke32(out + n + pos + FX_CD_LHOFF,
			  fx_peek32(r + FX_CD_LHOFF) + n);
		pos += FX_CD_NAME + fx_peek16(r + FX_CD_NLEN) +
		       fx_peek16(r + FX_CD_XLEN) + fx_peek16(r + FX_CD_CLEN);
	}
	return out;
}

/* ---- opening -------------------------------------------------------- */

struct fx_arc *fx_arc_open(unsigned char *buf, size_t len)
{
	struct fx_arc *fa = fx_xmalloc(sizeof(*fa));

	memset(fa, 0, sizeof(*fa));
	fa->buf = buf;
	fa->len = len;
	fa->mem.p = buf;
	fa->mem.len = len;
	fa->io = ozx_io_mem(&fa->mem);
	fa->a = (struct ozx_archive *)&fa->a; /* must be overwritten */
	fa->ret = ozx_archive_open_io(&fa->io, len, &fa->a, &fa->d);
	return fa;
}

struct fx_arc *fx_arc_open_copy(const void *buf, size_t len)
{
	unsigned char *p = fx_xmalloc(len);

	if (len)
		memcpy(p, buf, len);
	return fx_arc_open(p, len);
}

struct fx_arc *fx_arc_open_ok(unsigned char *buf, size_t len)
{
	struct fx_arc *fa = fx_arc_open(buf, len);

	if (fa->ret)
		print_error("open failed: %d (%s at %llu)\n", fa->ret,
			    fa->d.what ? fa->d.what : "no diag",
			    (unsigned long long)fa->d.off);
	assert_int_equal(fa->ret, 0);
	assert_non_null(fa->a);
	return fa;
}

void fx_arc_free(struct fx_arc *fa)
{
	if (!fa)
		return;
	if (fa->ret == 0)
		ozx_archive_free(fa->a);
	free(fa->buf);
	free(fa);
}

uint32_t fx_node(const struct ozx_archive *a, const char *path)
{
	uint32_t node = OZX_NONE;
	int ret = ozx_lookup_path(a, path, &node);

	if (ret)
		print_error("lookup of '%s' failed: %d\n", path, ret);
	assert_int_equal(ret, 0);
	assert_int_not_equal(node, OZX_NONE);
	return node;
}

/* ---- ios ------------------------------------------------------------ */

static ssize_t fx_faulty_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct fx_faulty *f = ctx;
	unsigned k = atomic_fetch_add(&f->calls, 1) + 1;

	if (f->fail_at && (k == f->fail_at || (f->sticky && k > f->fail_at)))
		return f->err;
	if (off >= f->short_from)
		return 0;
	if (len > f->short_from - off)
		len = (size_t)(f->short_from - off);
	return f->inner.pread(f->inner.ctx, buf, len, off);
}

static int fx_faulty_stamp(void *ctx, struct ozx_stamp *st)
{
	struct fx_faulty *f = ctx;

	return f->inner.stamp(f->inner.ctx, st);
}

struct ozx_io fx_io_faulty(struct fx_faulty *f, const struct ozx_io *inner)
{
	struct ozx_io io = { fx_faulty_pread, f,
			     inner->stamp ? fx_faulty_stamp : NULL };

	f->inner = *inner;
	atomic_init(&f->calls, 0);
	f->fail_at = 0;
	f->sticky = false;
	f->err = -EIO;
	f->short_from = UINT64_MAX;
	return io;
}

static ssize_t fx_sparse_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct fx_sparse *s = ctx;
	uint64_t tail_off = s->size - s->tail_len;
	size_t i;

	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = (size_t)(s->size - off);
	for (i = 0; i < len; i++) {
		uint64_t at = off + i;

		((unsigned char *)buf)[i] =
			at >= tail_off ? s->tail[at - tail_off] : 0;
	}
	return (ssize_t)len;
}

struct ozx_io fx_io_sparse(struct fx_sparse *s)
{
	struct ozx_io io = { fx_sparse_pread, s, NULL };

	return io;
}

/* ---- content -------------------------------------------------------- */

uint64_t fx_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t fx_rand_below(uint64_t *state, uint64_t n)
{
	return fx_rand(state) % n;
}

void fx_fill_random(void *p, size_t n, uint64_t seed)
{
	unsigned char *c = p;
	uint64_t s = seed * 2 + 1;
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = (unsigned char)(fx_rand(&s) >> 56);
}

void fx_fill_text(void *p, size_t n, uint64_t seed)
{
	static const char *const words[] = {
		"zarr",	       "ome",	"chunk",
		"array",       "group", "{\"shape\": [",
		"1024",	       "512, ", "\"dtype\": \"uint16\"",
		"], ",	       "\n",	"attributes",
		"multiscales", "0.5",	"axes",
		"\"t\", ",
	};
	unsigned char *c = p;
	uint64_t s = seed * 2 + 1;
	size_t i = 0;

	while (i < n) {
		const char *w = words[fx_rand_below(&s, 16)];
		size_t wl = strlen(w);

		if (wl > n - i)
			wl = n - i;
		memcpy(c + i, w, wl);
		i += wl;
		if (i < n && fx_rand_below(&s, 4) == 0)
			c[i++] = (unsigned char)fx_rand(&s);
	}
}

unsigned char *fx_random_bytes(size_t n, uint64_t seed)
{
	unsigned char *p = fx_xmalloc(n);

	fx_fill_random(p, n, seed);
	return p;
}

unsigned char *fx_text_bytes(size_t n, uint64_t seed)
{
	unsigned char *p = fx_xmalloc(n);

	fx_fill_text(p, n, seed);
	return p;
}

uint32_t fx_crc32(const void *p, size_t n)
{
	return (uint32_t)crc32_z(0, p, n);
}

unsigned char *fx_deflate(const void *p, size_t n, int level, size_t *out_len)
{
	z_stream zs;
	unsigned char *out;
	size_t cap;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, level, Z_DEFLATED, -15, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	cap = deflateBound(&zs, (uLong)n) + 16;
	out = fx_xmalloc(cap);
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* ---- reads ------------------------------------------------------------ */

static void fx_check_one(struct ozx_archive *a, uint32_t node,
			 const unsigned char *want, size_t size,
			 unsigned char *buf, size_t len, uint64_t off)
{
	size_t expect = off >= size ? 0 : (size - off < len ? size - off : len);
	ssize_t got = ozx_file_read(a, node, NULL, buf, len, off);

	if (got != (ssize_t)expect)
		print_error("node %u: read(len %zu, off %llu) of a %zu-byte "
			    "entry gave %zd, expected %zu\n",
			    node, len, (unsigned long long)off, size, got,
			    expect);
	assert_int_equal(got, (ssize_t)expect);
	if (expect)
		assert_memory_equal(buf, want + off, expect);
}

void fx_check_reads(struct ozx_archive *a, uint32_t node,
		    const unsigned char *want, size_t size, unsigned nreads,
		    uint64_t seed)
{
	size_t maxlen = (size < 100000 ? size : 100000) + 64;
	unsigned char *buf = fx_xmalloc(size + 64);
	uint64_t s = seed | 1;
	unsigned k;

	fx_check_one(a, node, want, size, buf, size + 64, 0);
	fx_check_one(a, node, want, size, buf, size, 0);
	for (k = 0; k < nreads; k++) {
		uint64_t off = fx_rand_below(&s, size + 17);
		size_t len = (size_t)fx_rand_below(&s, maxlen);

		/* a third of the reads end exactly at or just past the end */
		if (k % 3 == 2 && off < size)
			len = (size_t)(size - off) + (size_t)(k % 2);
		fx_check_one(a, node, want, size, buf, len, off);
	}
	fx_check_one(a, node, want, size, buf, 0, 0);
	fx_check_one(a, node, want, size, buf, 1, size);
	fx_check_one(a, node, want, size, buf, 16, size + 1000);
	fx_check_one(a, node, want, size, buf, 16, UINT64_MAX - 4);
	fx_check_one(a, node, want, size, buf, 16, UINT64_MAX);
	if (size) {
		fx_check_one(a, node, want, size, buf, 10, size - 1);
		fx_check_one(a, node, want, size, buf, 1, 0);
	}
	free(buf);
}
