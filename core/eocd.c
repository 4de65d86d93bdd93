/*
 * eocd.c - find the end of the central directory, and trust none of it.
 *
 * A ZIP archive is read from its end.  The classic end record (EOCD, 22
 * bytes) is followed only by the archive comment, at most 65535 bytes, so
 * it lies in the last 22 + 65535 bytes; its signature may also occur
 * inside the comment or in entry data.  We scan that whole window, last
 * signature first, and test every candidate for consistency: the central
 * directory it describes must end exactly where the end record (or the
 * ZIP64 end record) begins, once one global shift is allowed for bytes
 * before the archive, and must start with a central record's signature.
 *
 * Readers do not agree on which end record is the archive's.  Python's
 * zipfile (so zarr's ZipStore), Info-ZIP unzip and Go take the last
 * signature; Java and earlier versions of this library take the
 * one whose comment reaches exactly to the end of the file; streaming
 * readers follow the local headers from the start.  We take the last
 * consistent end record, which is what the first kind reads, and refuse
 * the archive as ambiguous when another consistent end record could be
 * somebody else's choice: one whose comment reaches the end of the file,
 * or one that does not lie between the start of ours and its central
 * directory (where an archive stored in an archive lies: data, not a
 * rival), or an empty one after ours (Python lists nothing there).  A
 * second archive hidden in the comment is therefore refused, whatever its
 * comment length says.
 *
 * Tolerated, each with a warning in struct ozx_eocd: bytes after the end
 * record that its comment length does not cover (padding, an appended
 * signature), and bytes before the archive that the writer did not count
 * in its offsets (a self-extracting stub, `cat stub a.zip`).  The shift is
 * one number for the whole archive, computed from where the central
 * directory really is (Python's "concat"); cdir.c applies it to every
 * entry and confirms it against every local header's signature.
 *
 * ZIP64 adds a locator (20 bytes) just before the EOCD that points at a
 * ZIP64 end record.  Where the classic fields hold their sentinels
 * (0xffff, 0xffffffff) the ZIP64 values rule; where they do not, both must
 * agree.  Every offset is checked against the file before it is followed.
 * When bytes were prepended, the locator's offset is short by the shift:
 * the ZIP64 end record is then looked for where it must be if it has no
 * extensible data (56 bytes before the locator, where Python looks).
 *
 * When no candidate is consistent, the one whose comment reaches the end
 * of the file is checked field by field, so the refusal names the field
 * that is wrong.  Work is bounded: at most one pass over the 64 KiB
 * window, and a few small reads per signature in it.
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive_i.h"
#include "cursor.h"
#include "zipfmt.h"

/* Read len bytes at off, from the tail buffer where they lie in it. */
static int tail_read(const struct ozx_io *io, const unsigned char *tail,
		     size_t tlen, uint64_t base, void *buf, size_t len,
		     uint64_t off)
{
	if (off >= base && off - base <= tlen && len <= tlen - (off - base)) {
		memcpy(buf, tail + (off - base), len);
		return 0;
	}
	return ozx_io_read_full(io, buf, len, off);
}

/* Read the ZIP64 end record at rec_off, which must end where the locator
 * at loc_off begins.  Returns 1 if it is there, 0 if not, or -errno. */
static int read_eocd64_at(const struct ozx_io *io, const unsigned char *tail,
			  size_t tlen, uint64_t base, uint64_t rec_off,
			  uint64_t loc_off, unsigned char *b)
{
	int ret;

	if (rec_off > loc_off || loc_off - rec_off < OZX_EOCD64_LEN)
		return 0;
	ret = tail_read(io, tail, tlen, base, b, OZX_EOCD64_LEN, rec_off);
	if (ret)
		return ret;
	return ozx_le32(b) == OZX_SIG_EOCD64;
}

/*
 * Read the ZIP64 locator before the EOCD at eocd_off, if there is one,
 * and the ZIP64 end record it points at, rec_off + shift in the file.
 * shift is UINT64_MAX when still unknown: then the record is taken where
 * the locator says, or else right before the locator (bytes prepended),
 * and *shift is set.  Returns 0 (e->zip64 says whether one was found) or
 * -errno, with diag filled in only when diag is not NULL.
 */
static int read_zip64(const struct ozx_io *io, const unsigned char *tail,
		      size_t tlen, uint64_t base, uint64_t eocd_off,
		      uint64_t *shift, struct ozx_eocd *e, uint64_t *cd_end,
		      struct ozx_diag *diag)
{
	unsigned char b[OZX_EOCD64_LEN];
	struct ozx_cursor c;
	uint64_t loc_off, rec_off, rec_size, n_this, at;
	uint32_t disk, cd_disk, ndisks;
	bool known;
	int ret;

	if (eocd_off < OZX_LOC64_LEN)
		return 0;
	loc_off = eocd_off - OZX_LOC64_LEN;
	ret = tail_read(io, tail, tlen, base, b, OZX_LOC64_LEN, loc_off);
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
		return ozx_diag_fail(diag, OZX_R_MULTI_DISK, loc_off, -EINVAL);
	known = *shift != UINT64_MAX;
	if (known &&
	    (rec_off > UINT64_MAX - *shift || rec_off + *shift > loc_off ||
	     loc_off - rec_off - *shift < OZX_EOCD64_LEN))
		return ozx_diag_fail(diag, OZX_R_LOC64_RANGE, loc_off, -EINVAL);
	at = known ? rec_off + *shift : rec_off;
	ret = read_eocd64_at(io, tail, tlen, base, at, loc_off, b);
	/* Not where the locator says: bytes prepended?  Then right before
	 * the locator, if it has no extensible data. */
	if (!known && ret == 0 && loc_off >= OZX_EOCD64_LEN &&
	    loc_off - OZX_EOCD64_LEN > rec_off) {
		at = loc_off - OZX_EOCD64_LEN;
		ret = read_eocd64_at(io, tail, tlen, base, at, loc_off, b);
	}
	if (ret < 0)
		return ret;
	if (ret == 0)
		return ozx_diag_fail(diag, OZX_R_LOC64_TARGET,
				     known ? at : rec_off, -EINVAL);
	if (!known)
		*shift = at - rec_off;
	c = ozx_cursor_make(b, OZX_EOCD64_LEN);
	ozx_cursor_skip(&c, 4);
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
	if (rec_size < OZX_EOCD64_LEN - 12 || rec_size != loc_off - at - 12)
		return ozx_diag_fail(diag, OZX_R_EOCD64_MALFORMED, at, -EINVAL);
	if (disk != 0 || cd_disk != 0 || n_this != e->nrecords)
		return ozx_diag_fail(diag, OZX_R_MULTI_DISK, at, -EINVAL);
	e->zip64 = true;
	e->ext_off = at + OZX_EOCD64_LEN;
	e->ext_len = rec_size - (OZX_EOCD64_LEN - 12);
	*cd_end = at;
	return 0;
}

/*
 * Read and check the end record at tail[pos] into e, its directory moved
 * by shift (UINT64_MAX: unknown, find it from where the directory ends).
 * With diag NULL this is the consistency test of a candidate and says
 * nothing.  Returns 0 or -EINVAL/-EFBIG with diag, or -errno.
 */
static int read_eocd(const struct ozx_io *io, const unsigned char *tail,
		     size_t tlen, uint64_t base, size_t pos, uint64_t shift,
		     struct ozx_eocd *e, struct ozx_diag *diag)
{
	struct ozx_cursor c = ozx_cursor_make(tail + pos, OZX_EOCD_LEN);
	uint64_t cd_end, n_this;
	uint16_t disk, cd_disk, n16_this, n16, clen;
	uint32_t size32, off32;
	int ret;

	memset(e, 0, sizeof(*e));
	ozx_cursor_skip(&c, 4);
	disk = ozx_cursor_u16(&c);
	cd_disk = ozx_cursor_u16(&c);
	n16_this = ozx_cursor_u16(&c);
	n16 = ozx_cursor_u16(&c);
	size32 = ozx_cursor_u32(&c);
	off32 = ozx_cursor_u32(&c);
	clen = ozx_cursor_u16(&c);

	e->eocd_off = base + pos;
	e->comment_off = e->eocd_off + OZX_EOCD_LEN;
	e->comment_len = clen;
	cd_end = e->eocd_off;
	ret = read_zip64(io, tail, tlen, base, e->eocd_off, &shift, e, &cd_end,
			 diag);
	if (ret)
		return ret;
	if (e->zip64) {
		/* A classic field that is not its sentinel must agree. */
		if ((n16 != OZX_U16_MAX && n16 != e->nrecords) ||
		    (size32 != OZX_U32_MAX && size32 != e->cd_size) ||
		    (off32 != OZX_U32_MAX && off32 != e->cd_offset))
			return ozx_diag_fail(diag, OZX_R_EOCD64_DISAGREE,
					     e->eocd_off, -EINVAL);
		if ((disk != OZX_U16_MAX && disk != 0) ||
		    (cd_disk != OZX_U16_MAX && cd_disk != 0) ||
		    (n16_this != OZX_U16_MAX && n16 != OZX_U16_MAX &&
		     n16_this != n16))
			return ozx_diag_fail(diag, OZX_R_MULTI_DISK,
					     e->eocd_off, -EINVAL);
	} else {
		n_this = n16_this;
		e->nrecords = n16;
		e->cd_size = size32;
		e->cd_offset = off32;
		if (disk != 0 || cd_disk != 0 || n_this != e->nrecords)
			return ozx_diag_fail(diag, OZX_R_MULTI_DISK,
					     e->eocd_off, -EINVAL);
	}
	/* Where the directory really ends tells the shift, if unknown. */
	if (shift == UINT64_MAX)
		shift = e->cd_offset <= cd_end &&
					e->cd_size <= cd_end - e->cd_offset ?
				cd_end - e->cd_offset - e->cd_size :
				0;
	if (e->cd_offset > cd_end - shift ||
	    e->cd_size > cd_end - shift - e->cd_offset)
		return ozx_diag_fail(diag, OZX_R_CD_RANGE, e->cd_offset,
				     -EINVAL);
	if (e->cd_offset + e->cd_size + shift != cd_end)
		return ozx_diag_fail(diag, OZX_R_CD_END,
				     e->cd_offset + e->cd_size, -EINVAL);
	e->cd_offset += shift;
	e->shift = shift;
	if (e->nrecords > e->cd_size / OZX_CENTRAL_LEN)
		return ozx_diag_fail(diag, OZX_R_COUNT_IMPOSSIBLE, e->eocd_off,
				     -EINVAL);
	if (e->nrecords > OZX_MAX_ENTRIES)
		return ozx_diag_fail(diag, OZX_R_TOO_MANY_ENTRIES, e->eocd_off,
				     -EFBIG);
	return 0;
}

/*
 * Is the end record at tail[pos] consistent?  Its fields pass read_eocd
 * and its directory starts with a central record where it says; an empty
 * directory confirms no shift, so it must need none.  Returns 1 (e
 * filled in), 0, or -errno.
 */
static int consistent(const struct ozx_io *io, const unsigned char *tail,
		      size_t tlen, uint64_t base, size_t pos,
		      struct ozx_eocd *e)
{
	unsigned char sig[4];
	int ret;

	ret = read_eocd(io, tail, tlen, base, pos, UINT64_MAX, e, NULL);
	if (ret == -EINVAL || ret == -EFBIG)
		return 0;
	if (ret)
		return ret;
	if (e->cd_size == 0)
		return e->shift == 0;
	ret = tail_read(io, tail, tlen, base, sig, 4, e->cd_offset);
	if (ret)
		return ret == -EIO ? 0 : ret;
	return ozx_le32(sig) == OZX_SIG_CENTRAL;
}

/* Does the comment of the end record at tail[i] reach exactly to the end
 * of the file? */
static bool exact_comment(const unsigned char *tail, size_t tlen, size_t i)
{
	size_t clen = (size_t)tail[i + 20] | (size_t)tail[i + 21] << 8;

	return i + OZX_EOCD_LEN + clen == tlen;
}

/*
 * Would Python's zipfile read a directory from the end record at
 * tail[pos], though it fails our checks?  It ignores the disk fields and
 * the count, and takes the directory to end where the record begins: so
 * yes when the directory is empty (it lists nothing), when a central
 * record's signature stands where its size says the directory starts, or
 * when a ZIP64 locator stands before it.  Returns 1, 0, or -errno.
 */
static int python_reads(const struct ozx_io *io, const unsigned char *tail,
			size_t tlen, uint64_t base, size_t pos)
{
	uint64_t at = base + pos, size = ozx_le32(tail + pos + 12);
	unsigned char sig[4];
	int ret;

	if (size == 0)
		return 1;
	if (at >= OZX_LOC64_LEN) {
		ret = tail_read(io, tail, tlen, base, sig, 4,
				at - OZX_LOC64_LEN);
		if (ret)
			return ret == -EIO ? 0 : ret;
		if (ozx_le32(sig) == OZX_SIG_LOC64)
			return 1;
	}
	if (size > at)
		return 0;
	ret = tail_read(io, tail, tlen, base, sig, 4, at - size);
	if (ret)
		return ret == -EIO ? 0 : ret;
	return ozx_le32(sig) == OZX_SIG_CENTRAL;
}

/*
 * Choose among the end records in the tail: the last consistent one,
 * unless another consistent one is a rival (see the top of the file).
 * Returns 1 with *e set, 0 when none is consistent, or -errno.
 */
static int choose(const struct ozx_io *io, const unsigned char *tail,
		  size_t tlen, uint64_t base, struct ozx_eocd *e,
		  struct ozx_diag *diag)
{
	struct ozx_eocd k;
	size_t i;
	bool found = false, last = true, last_rival = false;
	int ret;

	for (i = tlen - OZX_EOCD_LEN + 1; i-- > 0;) {
		if (ozx_le32(tail + i) != OZX_SIG_EOCD)
			continue;
		ret = consistent(io, tail, tlen, base, i, found ? &k : e);
		if (ret < 0)
			return ret;
		/*
		 * The last signature with a whole record after it is what
		 * Python's zipfile (so zarr's ZipStore) and unzip take,
		 * whatever our stricter checks say of it (disk fields, the
		 * count, a missing ZIP64 target, an empty directory that
		 * confirms no shift): if they would read a directory from
		 * it and it is not the one we take, the archive is
		 * ambiguous.  (Found in review: an end record failing one of
		 * our checks hid a second archive.)
		 */
		if (last && !ret) {
			int py = python_reads(io, tail, tlen, base, i);

			if (py < 0)
				return py;
			last_rival = py;
		}
		last = false;
		if (!ret)
			continue;
		if (!found) {
			if (last_rival)
				return ozx_diag_fail(diag, OZX_R_AMBIGUOUS,
						     base + i, -EINVAL);
			found = true;
			continue;
		}
		/* k lies before e: harmless only inside e's entry data. */
		if (exact_comment(tail, tlen, i) || k.eocd_off < e->shift ||
		    k.eocd_off + OZX_EOCD_LEN > e->cd_offset)
			return ozx_diag_fail(diag, OZX_R_AMBIGUOUS, k.eocd_off,
					     -EINVAL);
	}
	return found;
}

/* No consistent end record: find the one whose comment reaches the end
 * of the file, to say what is wrong with it.  Returns -EINVAL with the
 * diag filled in, 0 with *pos, or -errno. */
static int scan_tail(const struct ozx_io *io, const unsigned char *tail,
		     size_t tlen, uint64_t base, size_t *pos,
		     struct ozx_diag *diag)
{
	unsigned char head[4];
	size_t i, nplausible = 0, last_sig = SIZE_MAX;

	for (i = tlen - OZX_EOCD_LEN + 1; i-- > 0;) {
		if (ozx_le32(tail + i) != OZX_SIG_EOCD)
			continue;
		if (last_sig == SIZE_MAX)
			last_sig = i;
		if (exact_comment(tail, tlen, i) && nplausible++ == 0)
			*pos = i;
	}
	if (nplausible > 1)
		return ozx_diag_fail(diag, OZX_R_AMBIGUOUS, base + *pos,
				     -EINVAL);
	if (nplausible == 1)
		return 0;
	if (last_sig != SIZE_MAX)
		return ozx_diag_fail(diag, OZX_R_COMMENT_LENGTH,
				     base + last_sig, -EINVAL);
	if (ozx_io_read_full(io, head, 4, 0) == 0 &&
	    ozx_le32(head) == OZX_SIG_LOCAL)
		return ozx_diag_fail(diag, OZX_R_TRUNCATED, base + tlen,
				     -EINVAL);
	return ozx_diag_fail(diag, OZX_R_NOT_ZIP, 0, -EINVAL);
}

int ozx_eocd_find(const struct ozx_io *io, uint64_t size, struct ozx_eocd *e,
		  struct ozx_diag *diag)
{
	unsigned char *tail;
	size_t tlen, pos = 0;
	uint64_t base, end;
	int ret;

	memset(e, 0, sizeof(*e));
	if (size >= OZX_MAX_ARCHIVE)
		return ozx_diag_fail(diag, OZX_R_TOO_LARGE, size, -EFBIG);
	if (size < OZX_EOCD_LEN) {
		unsigned char head[4];

		if (size >= 4 && ozx_io_read_full(io, head, 4, 0) == 0 &&
		    ozx_le32(head) == OZX_SIG_LOCAL)
			return ozx_diag_fail(diag, OZX_R_TRUNCATED, size,
					     -EINVAL);
		return ozx_diag_fail(diag, OZX_R_NOT_ZIP, 0, -EINVAL);
	}
	tlen = size < OZX_EOCD_LEN + OZX_COMMENT_MAX ?
		       (size_t)size :
		       OZX_EOCD_LEN + OZX_COMMENT_MAX;
	base = size - tlen;
	tail = malloc(tlen);
	if (!tail)
		return -ENOMEM;
	ret = ozx_io_read_full(io, tail, tlen, base);
	if (ret)
		goto out_free_tail;
	ret = choose(io, tail, tlen, base, e, diag);
	if (ret < 0)
		goto out_free_tail;
	if (ret == 0) {
		/* Say what is wrong with the most plausible one. */
		ret = scan_tail(io, tail, tlen, base, &pos, diag);
		if (ret == 0)
			ret = read_eocd(io, tail, tlen, base, pos, 0, e, diag);
		if (ret == 0) /* consistent after all?  Cannot be. */
			ret = ozx_diag_fail(diag, OZX_R_CD_SIG, e->cd_offset,
					    -EINVAL);
		goto out_free_tail;
	}
	ret = 0;
	end = e->comment_off + e->comment_len;
	if (end > size)
		ret = ozx_diag_fail(diag, OZX_R_COMMENT_LENGTH, e->eocd_off,
				    -EINVAL);
	else
		e->trailing = size - end;
out_free_tail:
	free(tail);
	return ret;
}
