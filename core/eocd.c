/*
 * eocd.c - find the end of the central directory, and trust none of it.
 *
 * A ZIP archive is read from its end.  The classic end record (EOCD, 22
 * bytes) is followed only by the archive comment, at most 65535 bytes, so
 * it lies in the last 22 + 65535 bytes; its signature may also occur
 * inside the comment or in entry data.  We scan that whole window and call
 * a signature plausible only when its comment length reaches exactly to
 * the end of the file.  None plausible: not a ZIP (or a truncated one, if
 * the file still starts with a local header; or a wrong comment length, if
 * a signature was there).  More than one plausible: somebody hid a second
 * archive in the comment; the archive is ambiguous and refused, because
 * two readers could see two different trees.
 *
 * ZIP64 adds a locator (20 bytes) just before the EOCD that points at a
 * ZIP64 end record.  Where the classic fields hold their sentinels
 * (0xffff, 0xffffffff) the ZIP64 values rule; where they do not, both must
 * agree.  Every offset is checked against the file before it is followed.
 *
 * Finally the central directory must end exactly where the end records
 * begin.  Archives with bytes prepended (self-extracting style) work when
 * the writer adjusted its offsets, which is what makes them line up; when
 * it did not, the offsets all point at the wrong bytes, and we refuse
 * rather than guess a shift.
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive_i.h"
#include "cursor.h"
#include "zipfmt.h"

static int fail(struct ozx_diag *diag, const char *what, uint64_t off,
		int err)
{
	if (diag) {
		diag->what = what;
		diag->off = off;
	}
	return err;
}

/* Read the ZIP64 locator before the EOCD at eocd_off, if there is one,
 * and the ZIP64 end record it points at.  Returns 0 (e->zip64 says
 * whether one was found) or -errno. */
static int read_zip64(const struct ozx_io *io, uint64_t eocd_off,
		      struct ozx_eocd *e, uint64_t *cd_end,
		      struct ozx_diag *diag)
{
	unsigned char b[OZX_EOCD64_LEN];
	struct ozx_cursor c;
	uint64_t loc_off, rec_off, rec_size, n_this;
	uint32_t disk, cd_disk, ndisks;
	int ret;

	if (eocd_off < OZX_LOC64_LEN)
		return 0;
	loc_off = eocd_off - OZX_LOC64_LEN;
	ret = ozx_io_read_full(io, b, OZX_LOC64_LEN, loc_off);
	if (ret)
		return ret;
	c = ozx_cursor_make(b, OZX_LOC64_LEN);
	if (ozx_cursor_u32(&c) != OZX_SIG_LOC64)
		return 0;
	disk = ozx_cursor_u32(&c);
	rec_off = ozx_cursor_u64(&c);
	ndisks = ozx_cursor_u32(&c);
	/* Some writers put 0 disks here; both mean a single-disk archive. */
	if (disk != 0 || ndisks > 1)
		return fail(diag, "multi-disk archive", loc_off, -EINVAL);
	if (rec_off > loc_off || loc_off - rec_off < OZX_EOCD64_LEN)
		return fail(diag, "ZIP64 locator out of range", loc_off,
			    -EINVAL);
	ret = ozx_io_read_full(io, b, OZX_EOCD64_LEN, rec_off);
	if (ret)
		return ret;
	c = ozx_cursor_make(b, OZX_EOCD64_LEN);
	if (ozx_cursor_u32(&c) != OZX_SIG_EOCD64)
		return fail(diag,
			    "ZIP64 locator does not point at a ZIP64 end record",
			    rec_off, -EINVAL);
	rec_size = ozx_cursor_u64(&c);
	ozx_cursor_skip(&c, 4); /* versions made by and needed */
	disk = ozx_cursor_u32(&c);
	cd_disk = ozx_cursor_u32(&c);
	n_this = ozx_cursor_u64(&c);
	e->nrecords = ozx_cursor_u64(&c);
	e->cd_size = ozx_cursor_u64(&c);
	e->cd_offset = ozx_cursor_u64(&c);
	/* The record's size excludes its first 12 bytes; it must end where
	 * the locator begins. */
	if (rec_size < OZX_EOCD64_LEN - 12 ||
	    rec_size != loc_off - rec_off - 12)
		return fail(diag, "ZIP64 end record malformed", rec_off,
			    -EINVAL);
	if (disk != 0 || cd_disk != 0 || n_this != e->nrecords)
		return fail(diag, "multi-disk archive", rec_off, -EINVAL);
	e->zip64 = true;
	e->ext_off = rec_off + OZX_EOCD64_LEN;
	e->ext_len = rec_size - (OZX_EOCD64_LEN - 12);
	*cd_end = rec_off;
	return 0;
}

/* Scan the tail of the file for a plausible EOCD.  Returns 0 with *pos
 * the EOCD's offset in tail, or -EINVAL with the diag filled in. */
static int scan_tail(const struct ozx_io *io, const unsigned char *tail,
		     size_t tlen, uint64_t base, size_t *pos,
		     struct ozx_diag *diag)
{
	unsigned char head[4];
	size_t i, nplausible = 0, last_sig = SIZE_MAX;

	for (i = tlen - OZX_EOCD_LEN + 1; i-- > 0;) {
		size_t clen;

		if (ozx_le32(tail + i) != OZX_SIG_EOCD)
			continue;
		if (last_sig == SIZE_MAX)
			last_sig = i;
		clen = (size_t)tail[i + 20] | (size_t)tail[i + 21] << 8;
		if (i + OZX_EOCD_LEN + clen == tlen) {
			if (nplausible++ == 0)
				*pos = i;
		}
	}
	if (nplausible > 1)
		return fail(diag,
			    "several end of central directory records: ambiguous archive",
			    base + *pos, -EINVAL);
	if (nplausible == 1)
		return 0;
	if (last_sig != SIZE_MAX)
		return fail(diag,
			    "end of central directory record has a wrong comment length",
			    base + last_sig, -EINVAL);
	if (ozx_io_read_full(io, head, 4, 0) == 0 &&
	    ozx_le32(head) == OZX_SIG_LOCAL)
		return fail(diag,
			    "truncated archive: no end of central directory record",
			    base + tlen, -EINVAL);
	return fail(diag, "not a ZIP archive: no end of central directory record",
		    0, -EINVAL);
}

int ozx_eocd_find(const struct ozx_io *io, uint64_t size,
		  struct ozx_eocd *e, struct ozx_diag *diag)
{
	unsigned char *tail;
	struct ozx_cursor c;
	size_t tlen, pos = 0;
	uint64_t base, cd_end, n_this;
	uint16_t disk, cd_disk, n16_this, n16, clen;
	uint32_t size32, off32;
	int ret;

	memset(e, 0, sizeof(*e));
	if (size >= OZX_MAX_ARCHIVE)
		return fail(diag, "archive too large", size, -EFBIG);
	if (size < OZX_EOCD_LEN) {
		unsigned char head[4];

		if (size >= 4 && ozx_io_read_full(io, head, 4, 0) == 0 &&
		    ozx_le32(head) == OZX_SIG_LOCAL)
			return fail(diag,
				    "truncated archive: no end of central directory record",
				    size, -EINVAL);
		return fail(diag,
			    "not a ZIP archive: no end of central directory record",
			    0, -EINVAL);
	}
	tlen = size < OZX_EOCD_LEN + OZX_COMMENT_MAX
		       ? (size_t)size
		       : OZX_EOCD_LEN + OZX_COMMENT_MAX;
	base = size - tlen;
	tail = malloc(tlen);
	if (!tail)
		return -ENOMEM;
	ret = ozx_io_read_full(io, tail, tlen, base);
	if (ret)
		goto out_free_tail;
	ret = scan_tail(io, tail, tlen, base, &pos, diag);
	if (ret)
		goto out_free_tail;

	c = ozx_cursor_make(tail + pos, OZX_EOCD_LEN);
	ozx_cursor_skip(&c, 4);
	disk = ozx_cursor_u16(&c);
	cd_disk = ozx_cursor_u16(&c);
	n16_this = ozx_cursor_u16(&c);
	n16 = ozx_cursor_u16(&c);
	size32 = ozx_cursor_u32(&c);
	off32 = ozx_cursor_u32(&c);
	clen = ozx_cursor_u16(&c);
	free(tail);

	e->eocd_off = base + pos;
	e->comment_off = e->eocd_off + OZX_EOCD_LEN;
	e->comment_len = clen;
	cd_end = e->eocd_off;
	ret = read_zip64(io, e->eocd_off, e, &cd_end, diag);
	if (ret)
		return ret;
	if (e->zip64) {
		/* A classic field that is not its sentinel must agree. */
		if ((n16 != OZX_U16_MAX && n16 != e->nrecords) ||
		    (size32 != OZX_U32_MAX && size32 != e->cd_size) ||
		    (off32 != OZX_U32_MAX && off32 != e->cd_offset))
			return fail(diag,
				    "ZIP64 and classic end records disagree",
				    e->eocd_off, -EINVAL);
		if ((disk != OZX_U16_MAX && disk != 0) ||
		    (cd_disk != OZX_U16_MAX && cd_disk != 0) ||
		    (n16_this != OZX_U16_MAX && n16 != OZX_U16_MAX &&
		     n16_this != n16))
			return fail(diag, "multi-disk archive", e->eocd_off,
				    -EINVAL);
	} else {
		n_this = n16_this;
		e->nrecords = n16;
		e->cd_size = size32;
		e->cd_offset = off32;
		if (disk != 0 || cd_disk != 0 || n_this != e->nrecords)
			return fail(diag, "multi-disk archive", e->eocd_off,
				    -EINVAL);
	}
	if (e->cd_offset > cd_end || e->cd_size > cd_end - e->cd_offset)
		return fail(diag, "central directory out of range",
			    e->cd_offset, -EINVAL);
	if (e->cd_offset + e->cd_size != cd_end)
		return fail(diag,
			    "central directory does not end where the end record begins",
			    e->cd_offset + e->cd_size, -EINVAL);
	if (e->nrecords > e->cd_size / OZX_CENTRAL_LEN)
		return fail(diag,
			    "entry count impossible for central directory size",
			    e->eocd_off, -EINVAL);
	if (e->nrecords > OZX_MAX_ENTRIES)
		return fail(diag, "too many entries", e->eocd_off, -EFBIG);
	return 0;

out_free_tail:
	free(tail);
	return ret;
}
