/*
 * cdir.c - the central directory, streamed through a bounded buffer into
 * the node table.  Node i+1 is central record i (node 0 is the root); the
 * directories implied by names are appended later by tree.c.
 *
 * Every length is checked against the bytes actually left in the
 * directory before it is used, ZIP64 extra fields are read only for the
 * fields whose 32-bit value is the 0xffffffff sentinel (APPNOTE 4.5.3, in
 * the order usize, csize, offset, disk), and the number of records was
 * bounded by the directory's size in eocd.c before anything was allocated.
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive_i.h"
#include "cursor.h"
#include "zipfmt.h"

#define CD_WINDOW (1u << 20)

/* A window onto the central directory, refilled with pread. */
struct cd_reader {
	const struct ozx_io *io;
	uint64_t next; /* archive offset of the byte after buf[len - 1] */
	uint64_t end;  /* archive offset where the directory ends */
	unsigned char *buf;
	size_t cap, len, pos;
};

/* Make need bytes available at buf + pos.  Returns 0, -EINVAL when the
 * directory has fewer, or -errno. */
static int cd_need(struct cd_reader *r, size_t need)
{
	size_t keep = r->len - r->pos, want;
	int ret;

	if (keep >= need)
		return 0;
	if (need > r->cap || need - keep > r->end - r->next)
		return -EINVAL;
	memmove(r->buf, r->buf + r->pos, keep);
	r->pos = 0;
	r->len = keep;
	want = r->cap - keep;
	if (want > r->end - r->next)
		want = (size_t)(r->end - r->next);
	ret = ozx_io_read_full(r->io, r->buf + keep, want, r->next);
	if (ret)
		return ret;
	r->next += want;
	r->len += want;
	return 0;
}

int ozx_names_add(struct ozx_archive *a, const char *s, size_t len,
		  uint32_t *off)
{
	/* s may point into the names themselves (a directory's component
	 * taken from a record's name): keep it as an offset across realloc. */
	bool inside = a->names && s >= a->names && s < a->names + a->names_len;
	size_t s_off = inside ? (size_t)(s - a->names) : 0;

	if (a->names_len + len + 1 > UINT32_MAX)
		return -EFBIG;
	if (a->names_len + len + 1 > a->names_cap) {
		uint64_t cap = a->names_cap ? a->names_cap : 4096;
		char *p;

		while (cap < a->names_len + len + 1)
			cap *= 2;
		if (cap > (uint64_t)UINT32_MAX + 1)
			cap = (uint64_t)UINT32_MAX + 1;
		p = realloc(a->names, cap);
		if (!p)
			return -ENOMEM;
		a->names = p;
		a->names_cap = cap;
		if (inside)
			s = a->names + s_off;
	}
	memcpy(a->names + a->names_len, s, len);
	a->names[a->names_len + len] = '\0';
	*off = (uint32_t)a->names_len;
	a->names_len += len + 1;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* MS-DOS date and time (no time zone: taken as UTC), absurd fields
 * clamped into range. */
static uint32_t dos_to_unix(uint16_t date, uint16_t time)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };
	unsigned y = 1980 + (date >> 9), mo = (date >> 5) & 15, d = date & 31;
	unsigned h = time >> 11, mi = (time >> 5) & 63, s = (time & 31) * 2;

	mo = mo < 1 ? 1 : mo > 12 ? 12 : mo;
	d = d < 1 ? 1 : d > mdays[mo - 1] ? mdays[mo - 1] : d;
	h = h > 23 ? 23 : h;
	mi = mi > 59 ? 59 : mi;
	s = s > 59 ? 59 : s;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;

	/* Times are kept in 32 unsigned bits: 1970 to 2106. */
	return t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* An Info-ZIP Unicode Path extra field whose CRC-32 matches the raw name
 * (name NULL: none). */
struct upath {
	const unsigned char *raw;
	size_t raw_len;
	const unsigned char *name;
	size_t len;
};

/* Walk the extra fields of one record: ZIP64 sizes, the extended
 * timestamp, the Unicode Path.  Returns 0 or -EINVAL with diag. */
static int parse_extra(const unsigned char *p, size_t len, struct ozx_node *n,
		       uint32_t usize32, uint32_t csize32, uint32_t lho32,
		       uint16_t disk16, uint64_t *lho, struct upath *up,
		       uint64_t rec_off, struct ozx_diag *diag)
{
	struct ozx_cursor c = ozx_cursor_make(p, len);
	bool need64 = usize32 == OZX_U32_MAX || csize32 == OZX_U32_MAX ||
		      lho32 == OZX_U32_MAX || disk16 == OZX_U16_MAX;
	bool have64 = false;

	/* Fewer than 4 bytes left is padding some writers add (zipalign). */
	while (ozx_cursor_left(&c) >= 4) {
		uint16_t id = ozx_cursor_u16(&c), sz = ozx_cursor_u16(&c);
		struct ozx_cursor f;

		if (sz > ozx_cursor_left(&c))
			return ozx_diag_fail(diag, OZX_R_EXTRA_OVERRUN, rec_off,
					     -EINVAL);
		f = ozx_cursor_make(ozx_cursor_take(&c, sz), sz);
		if (id == OZX_EXTRA_ZIP64 && need64 && !have64) {
			have64 = true;
			if (usize32 == OZX_U32_MAX)
				n->size = ozx_cursor_u64(&f);
			if (csize32 == OZX_U32_MAX)
				n->comp_size = ozx_cursor_u64(&f);
			if (lho32 == OZX_U32_MAX)
				*lho = ozx_cursor_u64(&f);
			if (disk16 == OZX_U16_MAX && ozx_cursor_u32(&f) != 0)
				return ozx_diag_fail(diag, OZX_R_MULTI_DISK,
						     rec_off, -EINVAL);
			if (!f.ok)
				have64 = false;
		} else if (id == OZX_EXTRA_UPATH && sz > 5 && !up->name) {
			const unsigned char *v = ozx_cursor_take(&f, 5);

			/* version 1, the CRC-32 of the raw name, the name */
			if (v[0] == 1 &&
			    ozx_le32(v + 1) ==
				    ozx_crc32(0, up->raw, up->raw_len)) {
				up->len = sz - 5u;
				up->name = ozx_cursor_take(&f, up->len);
			}
		} else if (id == OZX_EXTRA_UT && sz >= 5) {
			uint8_t flags = *ozx_cursor_take(&f, 1);
			int32_t t = (int32_t)ozx_cursor_u32(&f);

			if (flags & 1)
				n->mtime = t < 0 ? 0 : (uint32_t)t;
		}
	}
	if (need64 && !have64)
		return ozx_diag_fail(diag, OZX_R_ZIP64_EXTRA, rec_off, -EINVAL);
	return 0;
}

/*
 * The name of node n: the raw name, unless it is not UTF-8 (nor has a NUL
 * in it) and a Unicode Path extra gives a UTF-8 one; then that, and after
 * it the raw name for the local header check (node_lh_name).  The tree
 * applies its name rules to whichever it is.  Returns 0 or -errno.
 */
static int add_name(struct ozx_archive *a, struct ozx_node *n,
		    const struct upath *up)
{
	unsigned char len2[2] = { (unsigned char)up->raw_len,
				  (unsigned char)(up->raw_len >> 8) };
	uint32_t off;
	int ret;

	/* A raw name past OZX_MAX_PATH stays the name, and is hidden: the
	 * local header check reads the name into a buffer of that bound. */
	if (!up->name || up->len == 0 || up->raw_len > OZX_MAX_PATH ||
	    ozx_utf8_valid((const char *)up->raw, up->raw_len) ||
	    memchr(up->raw, '\0', up->raw_len) ||
	    !ozx_utf8_valid((const char *)up->name, up->len)) {
		n->name_len = (uint16_t)up->raw_len;
		return ozx_names_add(a, (const char *)up->raw, up->raw_len,
				     &n->name_off);
	}
	ret = ozx_names_add(a, (const char *)up->name, up->len, &n->name_off);
	if (!ret)
		ret = ozx_names_add(a, (const char *)len2, 2, &off);
	if (!ret) /* right after the two bytes: their NUL is dropped */
		a->names_len--;
	if (!ret)
		ret = ozx_names_add(a, (const char *)up->raw, up->raw_len,
				    &off);
	if (ret)
		return ret;
	n->name_len = (uint16_t)up->len;
	atomic_store(&n->st, ST_UPATH);
	a->info.nunicode_paths++;
	a->info.warn |= OZX_WARN_UNICODE_PATH;
	return 0;
}

/* Parse the record at r->buf + r->pos into node n. */
static int parse_record(struct ozx_archive *a, struct cd_reader *r,
			uint64_t shift, struct ozx_node *n,
			struct ozx_diag *diag)
{
	uint64_t rec_off = r->next - (r->len - r->pos);
	struct ozx_cursor c;
	uint16_t flags, method, mtime, mdate, nlen, xlen, clen, disk;
	uint32_t crc, csize32, usize32, lho32;
	struct upath up = { 0 };
	uint64_t lho;
	int ret;

	ret = cd_need(r, OZX_CENTRAL_LEN);
	if (ret)
		return ret == -EINVAL ? ozx_diag_fail(diag, OZX_R_CD_OVERRUN,
						      rec_off, -EINVAL) :
					ret;
	c = ozx_cursor_make(r->buf + r->pos, OZX_CENTRAL_LEN);
	if (ozx_cursor_u32(&c) != OZX_SIG_CENTRAL)
		return ozx_diag_fail(diag, OZX_R_CD_SIG, rec_off, -EINVAL);
	ozx_cursor_skip(&c, 4); /* versions made by and needed */
	flags = ozx_cursor_u16(&c);
	method = ozx_cursor_u16(&c);
	mtime = ozx_cursor_u16(&c);
	mdate = ozx_cursor_u16(&c);
	crc = ozx_cursor_u32(&c);
	csize32 = ozx_cursor_u32(&c);
	usize32 = ozx_cursor_u32(&c);
	nlen = ozx_cursor_u16(&c);
	xlen = ozx_cursor_u16(&c);
	clen = ozx_cursor_u16(&c);
	disk = ozx_cursor_u16(&c);
	ozx_cursor_skip(&c, 6); /* internal and external attributes */
	lho32 = ozx_cursor_u32(&c);

	ret = cd_need(r, OZX_CENTRAL_LEN + (size_t)nlen + xlen + clen);
	if (ret)
		return ret == -EINVAL ? ozx_diag_fail(diag, OZX_R_CD_OVERRUN,
						      rec_off, -EINVAL) :
					ret;
	memset(n, 0, sizeof(*n));
	n->crc = crc;
	n->comp_size = csize32;
	n->size = usize32;
	n->mtime = dos_to_unix(mdate, mtime);
	n->method = method > 254 ? 255 : (uint8_t)method;
	n->parent = OZX_NONE;
	n->sibling = OZX_NONE;
	n->hnext = OZX_NONE;
	if (flags & (OZX_FLAG_ENCRYPTED | OZX_FLAG_STRONG_ENC))
		n->bits |= NODE_ENCRYPTED;
	if (disk != 0 && disk != OZX_U16_MAX)
		return ozx_diag_fail(diag, OZX_R_MULTI_DISK, rec_off, -EINVAL);
	lho = lho32;
	up.raw = r->buf + r->pos + OZX_CENTRAL_LEN;
	up.raw_len = nlen;
	ret = parse_extra(r->buf + r->pos + OZX_CENTRAL_LEN + nlen, xlen, n,
			  usize32, csize32, lho32, disk, &lho, &up, rec_off,
			  diag);
	if (ret)
		return ret;
	/* shift < 2^48 (eocd.c): no wrap. */
	if (lho >= OZX_MAX_ARCHIVE || lho + shift >= OZX_MAX_ARCHIVE)
		return ozx_diag_fail(diag, OZX_R_DATA_RANGE, rec_off, -EINVAL);
	n->x = lho + shift;
	ret = add_name(a, n, &up);
	if (ret)
		return ret == -EFBIG ? ozx_diag_fail(diag, OZX_R_TOO_LARGE,
						     rec_off, -EFBIG) :
				       ret;
	r->pos += OZX_CENTRAL_LEN + (size_t)nlen + xlen + clen;
	return 0;
}

static int cmp_lho(const void *pa, const void *pb, void *ctx)
{
	const struct ozx_node *nodes = ctx;
	uint64_t x = node_lho(&nodes[*(const uint32_t *)pa]);
	uint64_t y = node_lho(&nodes[*(const uint32_t *)pb]);

	return x < y ? -1 : x > y;
}

/*
 * Entries may not overlap each other nor the central directory: in order
 * of local header offset, each needs at least its local header, its name
 * and its compressed data before the next begins.  The room left over
 * bounds the local header's extra field, which read.c checks when it
 * reads the header.  This is what stops the overlapping-entry zip bomb.
 */
static int check_overlap(struct ozx_archive *a, uint64_t cd_offset,
			 struct ozx_diag *diag)
{
	uint32_t n = a->info.nrecords, i;
	uint32_t *order;
	bool sorted = true;
	int ret = 0;

	if (n == 0)
		return 0;
	order = malloc(sizeof(*order) * n);
	if (!order)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		order[i] = i + 1;
		if (i && node_lho(&a->nodes[i + 1]) < node_lho(&a->nodes[i]))
			sorted = false;
	}
	if (!sorted)
		qsort_r(order, n, sizeof(*order), cmp_lho, a->nodes);
	for (i = 0; i < n; i++) {
		struct ozx_node *e = &a->nodes[order[i]];
		uint64_t lho = node_lho(e);
		uint64_t next = i + 1 < n ? node_lho(&a->nodes[order[i + 1]]) :
					    cd_offset;
		uint64_t end, room;
		size_t nlen;

		node_lh_name(a, e, &nlen);
		end = lho + OZX_LOCAL_LEN + nlen;

		/* lho < 2^48 and comp_size < 2^64: test before adding. */
		if (lho >= cd_offset || end > cd_offset ||
		    e->comp_size > cd_offset - end) {
			ret = ozx_diag_fail(diag, OZX_R_DATA_RANGE, lho,
					    -EINVAL);
			break;
		}
		end += e->comp_size;
		if (end > next) {
			ret = ozx_diag_fail(diag, OZX_R_OVERLAP, lho, -EINVAL);
			break;
		}
		room = next - end;
		e->x = lho | (room > 0xffff ? UINT64_C(0xffff) : room)
				     << LHO_BITS;
	}
	free(order);
	return ret;
}

/*
 * Bytes before the archive: the shift came from where the central
 * directory is, and must hold for every entry too, or the archive is not
 * what the shift says (never a guess per entry).
 */
static int check_shifted(struct ozx_archive *a, struct ozx_diag *diag)
{
	unsigned char sig[4];
	uint32_t i;
	int ret;

	for (i = 1; i <= a->info.nrecords; i++) {
		uint64_t lho = node_lho(&a->nodes[i]);

		ret = ozx_io_read_full(&a->io, sig, 4, lho);
		if (ret)
			return ret;
		if (ozx_le32(sig) != OZX_SIG_LOCAL)
			return ozx_diag_fail(diag, OZX_R_SHIFT, lho, -EINVAL);
	}
	return 0;
}

/*
 * More records than the end record's count: writers without ZIP64 store
 * the count modulo 65536.  Read on to the end of the directory (its size
 * and offset were exact); the walk is the count when it agrees modulo
 * 65536.  Returns 0, or -EINVAL/-EFBIG with diag, or -errno.
 */
static int walk_wrapped(struct ozx_archive *a, struct cd_reader *r,
			uint64_t shift, struct ozx_diag *diag)
{
	uint64_t max =
		(r->end - r->next + (r->len - r->pos)) / OZX_CENTRAL_LEN +
		a->info.nrecords;
	uint32_t n = a->info.nrecords;
	int ret;

	if (max > OZX_MAX_ENTRIES)
		max = OZX_MAX_ENTRIES;
	while (r->len - r->pos != 0 || r->next != r->end) {
		if (n >= max)
			return ozx_diag_fail(diag, OZX_R_TOO_MANY_ENTRIES,
					     r->next - (r->len - r->pos),
					     -EFBIG);
		if (n + 1 >= a->nodes_cap) {
			uint64_t cap = (uint64_t)a->nodes_cap * 2;
			struct ozx_node *p;

			if (cap > max + 1)
				cap = max + 1;
			p = realloc(a->nodes, sizeof(*p) * (size_t)cap);
			if (!p)
				return -ENOMEM;
			a->nodes = p;
			a->nodes_cap = (uint32_t)cap;
		}
		ret = parse_record(a, r, shift, &a->nodes[n + 1], diag);
		/* What follows the counted records is not records. */
		if (ret == -EINVAL)
			return ozx_diag_fail(diag, OZX_R_COUNT_MISMATCH,
					     r->next - (r->len - r->pos),
					     -EINVAL);
		if (ret)
			return ret;
		n++;
	}
	if ((n - a->info.nrecords) % 65536 != 0)
		return ozx_diag_fail(diag, OZX_R_COUNT_MISMATCH, r->next,
				     -EINVAL);
	a->info.count_stored = a->info.nrecords;
	a->info.nrecords = n;
	a->nnodes = n + 1;
	a->info.warn |= OZX_WARN_COUNT_WRAPPED;
	return 0;
}

int ozx_cdir_parse(struct ozx_archive *a, const struct ozx_eocd *e,
		   struct ozx_diag *diag)
{
	struct cd_reader r = { 0 };
	uint32_t i;
	int ret = 0;

	a->info.nrecords = (uint32_t)e->nrecords;
	a->nodes_cap = a->info.nrecords + 1;
	a->nodes = calloc(a->nodes_cap, sizeof(*a->nodes));
	if (!a->nodes)
		return -ENOMEM;
	a->nnodes = a->info.nrecords + 1;

	r.io = &a->io;
	r.next = e->cd_offset;
	r.end = e->cd_offset + e->cd_size;
	r.cap = e->cd_size < CD_WINDOW ? (size_t)e->cd_size : CD_WINDOW;
	if (r.cap) {
		r.buf = malloc(r.cap);
		if (!r.buf)
			return -ENOMEM;
	}
	for (i = 0; i < a->info.nrecords; i++) {
		ret = parse_record(a, &r, e->shift, &a->nodes[i + 1], diag);
		if (ret)
			goto out_free_buf;
	}
	if (r.len - r.pos != 0 || r.next != r.end) {
		/* Only a 16-bit count can have wrapped. */
		if (e->zip64) {
			ret = ozx_diag_fail(diag, OZX_R_COUNT_MISMATCH,
					    r.next - (r.len - r.pos), -EINVAL);
			goto out_free_buf;
		}
		ret = walk_wrapped(a, &r, e->shift, diag);
		if (ret)
			goto out_free_buf;
	}
	ret = check_overlap(a, e->cd_offset, diag);
	if (ret == 0 && e->shift)
		ret = check_shifted(a, diag);
out_free_buf:
	free(r.buf);
	return ret;
}
