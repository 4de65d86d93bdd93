/*
 * read.c - serving an entry's bytes: the local header check, CRC-32
 * verification shared between threads, STORED reads with pread and
 * DEFLATE reads with zlib's raw inflate.
 *
 * Each entry has one atomic state word (archive_i.h).  Verification moves
 * it from UNVERIFIED to VERIFYING by compare-and-swap, so exactly one
 * thread verifies; the others wait on a condition variable of the entry's
 * stripe and then see VERIFIED or FAILED.  FAILED is final and reported
 * through the fail callback exactly once, by the thread that set it.
 * VERIFIED holds for one generation of the archive (change.c): with verify
 * on, every read asks for the archive's stamp after its preads, and if it
 * changed, the entry is verified again, and read again, before a byte of
 * it is served.
 *
 * A small entry is verified and served by the same read: the caller's
 * buffer receives the entry (with its local header, in one pread, where
 * it fits), is checked, and the requested range is served from where it
 * lies in the buffer (ozx_file_read_at) or moved to its front
 * (ozx_file_read).
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "archive_i.h"
#include "cursor.h"
#include "zipfmt.h"

#define CHUNK (256u << 10)

/* Passes over an entry in a row that each see the archive change before
 * a read gives up with EIO (the next read tries again). */
#define OZX_CHANGE_TRIES 4

static struct ozx_node *file_node(struct ozx_archive *a, uint32_t node,
				  int *err)
{
	struct ozx_node *n;

	*err = 0;
	if (node >= a->nnodes) {
		*err = -ENOENT;
		return NULL;
	}
	n = &a->nodes[node];
	switch (node_kind(n)) {
	case OZX_KIND_FILE:
		return n;
	case OZX_KIND_DIR:
		*err = -EISDIR;
		return NULL;
	default:
		*err = -ENOENT;
		return NULL;
	}
}

static void wake(struct ozx_archive *a, uint32_t node)
{
	unsigned s = node % OZX_NSTRIPES;

	pthread_mutex_lock(&a->lock[s]);
	pthread_cond_broadcast(&a->cond[s]);
	pthread_mutex_unlock(&a->lock[s]);
}

/*
 * Mark the entry unusable for reason f; report it if we were first.  A
 * failed read of the archive (OZX_R_ENTRY_IO) is not the entry's fault and may pass
 * (a disk or network error): it fails this read only, and the next one
 * tries again.
 */
static int fail_entry(struct ozx_archive *a, uint32_t node, enum ozx_reason f)
{
	struct ozx_node *n = &a->nodes[node];
	uint32_t old = atomic_load(&n->st), new;

	if (f == OZX_R_ENTRY_IO)
		return -EIO;
	do {
		if ((old & ST_CRC_MASK) == OZX_CRC_FAILED)
			return -EIO;
		new = (old & ~(ST_CRC_MASK | ST_FAIL_MASK)) | OZX_CRC_FAILED |
		      (uint32_t)(f - OZX_R_ENTRY_BASE) << ST_FAIL_SHIFT;
	} while (!atomic_compare_exchange_weak(&n->st, &old, new));
	if ((old & ST_CRC_MASK) == OZX_CRC_VERIFYING)
		wake(a, node);
	if (a->fail_fn)
		a->fail_fn(a->fail_ctx, node, ozx_reason_text(f));
	return -EIO;
}

/* The 64-bit sizes in a local header's extra field x[0..xlen). */
static int lh_zip64(const unsigned char *x, uint16_t xlen, uint32_t usize32,
		    uint32_t csize32, uint64_t *usize, uint64_t *csize)
{
	struct ozx_cursor c = ozx_cursor_make(x, xlen);

	while (ozx_cursor_left(&c) >= 4) {
		uint16_t id = ozx_cursor_u16(&c), sz = ozx_cursor_u16(&c);
		struct ozx_cursor f =
			ozx_cursor_make(ozx_cursor_take(&c, sz), sz);

		if (!c.ok)
			break;
		if (id != OZX_EXTRA_ZIP64)
			continue;
		/* Local ZIP64 extras hold both sizes (APPNOTE 4.5.3). */
		if (usize32 == OZX_U32_MAX)
			*usize = ozx_cursor_u64(&f);
		if (csize32 == OZX_U32_MAX)
			*csize = ozx_cursor_u64(&f);
		return f.ok ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/*
 * The bytes of a local header to read at once: the fixed part, the name
 * and as much of the extra field as the entry has room for (all of it in
 * the usual case; the ZIP64 sizes are there).
 */
static size_t lh_span(const struct ozx_archive *a, const struct ozx_node *n)
{
	size_t nlen;

	node_lh_name(a, n, &nlen);
	return OZX_LOCAL_LEN + nlen + (size_t)(n->x >> LHO_BITS);
}

/*
 * Check the local header of node, whose first have bytes (at least the
 * fixed part and the name) are in b; the extra field is read from io where
 * it goes past them.  On success marks the entry resolved and sets
 * *data_off.  Returns 0, -ENOMEM, or -EIO (the entry failed).
 */
static int check_local(struct ozx_archive *a, uint32_t node,
		       const struct ozx_io *io, const unsigned char *b,
		       size_t have, uint64_t *data_off)
{
	struct ozx_node *n = &a->nodes[node];
	struct ozx_cursor c = ozx_cursor_make(b, OZX_LOCAL_LEN);
	uint64_t lho = node_lho(n), usize, csize;
	uint16_t flags, method, nlen, xlen,
		max_x = (uint16_t)(n->x >> LHO_BITS);
	uint32_t csize32, usize32, old, new;
	const char *lh_name;
	size_t lh_len;
	int ret;

	if (ozx_cursor_u32(&c) != OZX_SIG_LOCAL)
		return fail_entry(a, node, OZX_R_ENTRY_LH_SIG);
	ozx_cursor_skip(&c, 2); /* version needed */
	flags = ozx_cursor_u16(&c);
	method = ozx_cursor_u16(&c);
	ozx_cursor_skip(&c, 8); /* time, date, CRC-32 */
	csize32 = ozx_cursor_u32(&c);
	usize32 = ozx_cursor_u32(&c);
	nlen = ozx_cursor_u16(&c);
	xlen = ozx_cursor_u16(&c);
	lh_name = node_lh_name(a, n, &lh_len);
	if (nlen != lh_len || memcmp(b + OZX_LOCAL_LEN, lh_name, nlen))
		return fail_entry(a, node, OZX_R_ENTRY_LH_NAME);
	if (method != n->method)
		return fail_entry(a, node, OZX_R_ENTRY_LH_METHOD);
	if (flags & (OZX_FLAG_ENCRYPTED | OZX_FLAG_STRONG_ENC))
		return fail_entry(a, node, OZX_R_ENTRY_ENCRYPTED);
	if (xlen > max_x)
		return fail_entry(a, node, OZX_R_ENTRY_OVERLAP);
	/* With a data descriptor the local sizes may be zero; the central
	 * directory's are the ones that count. */
	if (!(flags & OZX_FLAG_DESCRIPTOR)) {
		usize = usize32;
		csize = csize32;
		if (usize32 == OZX_U32_MAX || csize32 == OZX_U32_MAX) {
			size_t at = OZX_LOCAL_LEN + nlen;
			unsigned char *x = NULL;

			if (at + xlen > have) {
				x = malloc(xlen ? xlen : 1);
				if (!x)
					return -ENOMEM;
				if (ozx_io_read_full(io, x, xlen, lho + at)) {
					free(x);
					return fail_entry(a, node,
							  OZX_R_ENTRY_IO);
				}
			}
			ret = lh_zip64(x ? x : b + at, xlen, usize32, csize32,
				       &usize, &csize);
			free(x);
			if (ret)
				return fail_entry(a, node,
						  OZX_R_ENTRY_LH_SIZES);
		}
		if (usize != n->size || csize != n->comp_size)
			return fail_entry(a, node, OZX_R_ENTRY_LH_SIZES);
	}
	/*
	 * Record the extra length once: set, not OR'd, and only while no
	 * other thread has (found in review: two resolvers on either side
	 * of a change could OR two lengths into one that is neither).  The
	 * offset returned is the one this thread read; a verification
	 * against the CRC still decides whether its bytes are served.
	 */
	old = atomic_load(&n->st);
	do {
		if (old & ST_RESOLVED)
			break;
		new = (old & ~ST_LEXTRA_MASK) | ST_RESOLVED |
		      (uint32_t)xlen << ST_LEXTRA_SHIFT;
	} while (!atomic_compare_exchange_weak(&n->st, &old, new));
	*data_off = lho + OZX_LOCAL_LEN + nlen + xlen;
	return 0;
}

/* Checks that need no read: method, encryption, sizes.  0 or -EIO. */
static int check_central(struct ozx_archive *a, uint32_t node)
{
	struct ozx_node *n = &a->nodes[node];

	if (n->bits & NODE_ENCRYPTED)
		return fail_entry(a, node, OZX_R_ENTRY_ENCRYPTED);
	if (n->method != OZX_METHOD_STORE && n->method != OZX_METHOD_DEFLATE)
		return fail_entry(a, node, OZX_R_ENTRY_METHOD);
	/* DEFLATE cannot expand more than 1032:1; STORED not at all. */
	if ((n->method == OZX_METHOD_DEFLATE &&
	     n->size / 1032 > n->comp_size) ||
	    (n->method == OZX_METHOD_STORE && n->size != n->comp_size))
		return fail_entry(a, node,
				  n->method ? OZX_R_ENTRY_RATIO :
					      OZX_R_ENTRY_STORED_SIZE);
	return 0;
}

/*
 * First use: the checks of the central record, then len bytes from the
 * local header on read into b (at least the header and its name) and the
 * header checked.  Returns as check_local().
 */
static int read_local(struct ozx_archive *a, uint32_t node,
		      const struct ozx_io *io, unsigned char *b, size_t len,
		      uint64_t *data_off)
{
	int ret = check_central(a, node);

	if (ret)
		return ret;
	if (ozx_io_read_full(io, b, len, node_lho(&a->nodes[node])))
		return fail_entry(a, node, OZX_R_ENTRY_IO);
	return check_local(a, node, io, b, len, data_off);
}

/*
 * Read and check the local header on first use; *data_off is where the
 * entry's bytes start.  Returns 0, -ENOMEM, or -EIO (the entry failed).
 */
static int resolve(struct ozx_archive *a, uint32_t node,
		   const struct ozx_io *io, uint64_t *data_off)
{
	struct ozx_node *n = &a->nodes[node];
	uint32_t st = atomic_load(&n->st);
	unsigned char b[OZX_LOCAL_LEN + OZX_MAX_PATH + 64];
	size_t span = lh_span(a, n);

	if ((st & ST_CRC_MASK) == OZX_CRC_FAILED)
		return -EIO;
	if (st & ST_RESOLVED) {
		*data_off = node_lho(n) + span - (size_t)(n->x >> LHO_BITS) +
			    (st >> ST_LEXTRA_SHIFT & 0xffff);
		return 0;
	}
	return read_local(a, node, io, b, span < sizeof(b) ? span : sizeof(b),
			  data_off);
}

/*
 * A STORED entry not yet resolved whose local header and bytes fit in
 * buf[0..cap): read both with one pread, check the header, and set *at to
 * where the bytes start in buf.  Returns 0, 1 if it does not apply (the
 * caller reads the usual way), -ENOMEM, or -EIO (the entry failed).
 */
static int read_with_header(struct ozx_archive *a, uint32_t node,
			    const struct ozx_io *io, unsigned char *buf,
			    size_t cap, size_t *at)
{
	struct ozx_node *n = &a->nodes[node];
	size_t span = lh_span(a, n);
	uint64_t data_off;
	int ret;

	if (!buf || n->method != OZX_METHOD_STORE ||
	    (atomic_load(&n->st) & ST_RESOLVED) || n->size > cap ||
	    span > cap - n->size)
		return 1;
	ret = read_local(a, node, io, buf, span + (size_t)n->size, &data_off);
	if (ret)
		return ret;
	*at = (size_t)(data_off - node_lho(n));
	return 0;
}

/*
 * Stream the STORED entry through the CRC: into out (room for the whole
 * entry) if given, else through scratch (scratch_len bytes; allocated
 * here if too small to be worth it).  A big entry's pass holds a CPU
 * token and stops when the archive is cancelled.
 */
static int crc_stored(struct ozx_archive *a, const struct ozx_io *io,
		      uint64_t data_off, uint64_t size, unsigned char *out,
		      unsigned char *scratch, size_t scratch_len, uint32_t *crc)
{
	unsigned char *buf = out ? out : scratch, *own = NULL;
	bool big = size > OZX_CPU_SMALL;
	size_t chunk = CHUNK;
	uint64_t done = 0;
	int ret = 0;

	if (big) {
		ret = ozx_cpu_get(a);
		if (ret)
			return ret;
	}
	if (!out && scratch && scratch_len >= CHUNK) {
		chunk = scratch_len;
	} else if (!out) {
		buf = own = malloc(size < CHUNK ? (size_t)size + 1 : CHUNK);
		if (!buf) {
			ret = -ENOMEM;
			goto out_put_cpu;
		}
	}
	*crc = 0;
	/* Ask the disk for the whole entry at once: measured from a cold
	 * cache, 1.5 GB/s with one hint over the entry, 0.5-0.7 GB/s with
	 * a hint that moves four chunks ahead of the reads. */
	if (size > chunk)
		ozx_io_willneed(io, data_off, size);
	while (done < size) {
		size_t k = size - done < chunk ? (size_t)(size - done) : chunk;
		unsigned char *p = out ? out + done : buf;

		if (big && ozx_cancelled(a)) {
			ret = -ECANCELED;
			break;
		}
		ret = ozx_io_read_full(io, p, k, data_off + done);
		if (ret)
			break;
		*crc = ozx_crc32(*crc, p, k);
		done += k;
	}
	free(own);
out_put_cpu:
	if (big)
		ozx_cpu_put(a);
	return ret;
}

/*
 * One pass of verify() over the entry's bytes; as verify(), but leaves the
 * state alone unless the entry fails.
 */
static int verify_pass(struct ozx_archive *a, uint32_t node,
		       const struct ozx_io *io, unsigned char *keep, size_t cap,
		       size_t *at)
{
	struct ozx_node *n = &a->nodes[node];
	unsigned char *whole = keep && cap >= n->size ? keep : NULL;
	uint64_t data_off;
	uint32_t crc;
	int ret;

	*at = SIZE_MAX;
	/* A small STORED entry: header and bytes in one read. */
	ret = read_with_header(a, node, io, keep, cap, at);
	if (ret == 0) {
		crc = ozx_crc32(0, keep + *at, (size_t)n->size);
	} else if (ret == 1) {
		/* A large entry's local header and bytes in one request to
		 * a remote archive (and one hint to the disk), not two: the
		 * header's read would cost a round trip of its own. */
		if (!(atomic_load(&n->st) & ST_RESOLVED) &&
		    n->comp_size > CHUNK)
			ozx_io_willneed(io, node_lho(n),
					lh_span(a, n) + n->comp_size);
		ret = resolve(a, node, io, &data_off);
		if (ret == 0 && n->method == OZX_METHOD_STORE) {
			ret = crc_stored(a, io, data_off, n->size, whole, keep,
					 keep ? cap : 0, &crc);
			if (ret && ret != -ENOMEM && ret != -ECANCELED)
				ret = fail_entry(a, node, OZX_R_ENTRY_IO);
		} else if (ret == 0) {
			struct ozx_zidx *x = NULL;
			enum ozx_reason f;

			ret = ozx_inflate_whole(a, node, io, data_off, whole,
						&crc, &x, &f);
			if (ret == 0 && f != OZX_R_NONE)
				ret = fail_entry(a, node, f);
			else if (ret == 0 && x && crc == n->crc)
				(void)ozx_zcache_put(a, x); /* or it is freed */
			else
				ozx_zcache_free_index(x);
		}
		if (ret == 0 && whole)
			*at = 0;
	}
	if (ret == 0 && crc != n->crc)
		ret = fail_entry(a, node, OZX_R_ENTRY_CRC);
	if (ret)
		*at = SIZE_MAX;
	return ret;
}

/*
 * Leave VERIFYING after a pass begun in generation g that returned *ret:
 * for VERIFIED, or (out of memory, a failed read of the archive, or
 * cancelled: let a later read try again) UNVERIFIED; but never undo a
 * FAILED, which fail_entry set in the pass or another thread set meanwhile
 * (from resolve on another path).  Returns false, the entry still VERIFYING, if the pass
 * succeeded but a change was taken in since g (change.c): the bytes it
 * checked may not be the archive's now, and it is to be done again --
 * unless this was the last try, which then ends with *ret -EIO.
 */
static bool verify_commit(struct ozx_archive *a, uint32_t node, int *ret,
			  uint64_t g, bool last)
{
	struct ozx_node *n = &a->nodes[node];
	unsigned s = node % OZX_NSTRIPES;
	uint32_t st;

	pthread_mutex_lock(&a->lock[s]);
	if (*ret == 0 && atomic_load(&a->gen) != g) {
		if (!last) {
			pthread_mutex_unlock(&a->lock[s]);
			return false;
		}
		*ret = -EIO;
	}
	st = atomic_load(&n->st);
	while ((st & ST_CRC_MASK) == OZX_CRC_VERIFYING &&
	       !atomic_compare_exchange_weak(
		       &n->st, &st,
		       (st & ~ST_CRC_MASK) | (*ret == 0 ? OZX_CRC_VERIFIED :
							  OZX_CRC_UNVERIFIED)))
		;
	pthread_cond_broadcast(&a->cond[s]);
	pthread_mutex_unlock(&a->lock[s]);
	return true;
}

/*
 * Verify the entry, once per generation.  keep, when not NULL, is room for
 * cap bytes: if the entry fits, its bytes are left there, starting at *at
 * (else keep is the scratch buffer of a STORED entry's CRC pass).  Returns
 * 0 when verified, with *at SIZE_MAX unless keep holds the bytes; -EIO when
 * the entry failed, the archive read failed or the archive kept changing;
 * -ENOMEM.
 */
static int verify(struct ozx_archive *a, uint32_t node, const struct ozx_io *io,
		  unsigned char *keep, size_t cap, size_t *at)
{
	struct ozx_node *n = &a->nodes[node];
	unsigned s = node % OZX_NSTRIPES;
	uint32_t st;
	int ret, tries;

	*at = SIZE_MAX;
	for (;;) {
		st = atomic_load(&n->st);
		switch (st & ST_CRC_MASK) {
		case OZX_CRC_VERIFIED:
			return 0;
		case OZX_CRC_FAILED:
			return -EIO;
		case OZX_CRC_VERIFYING:
			pthread_mutex_lock(&a->lock[s]);
			while ((atomic_load(&n->st) & ST_CRC_MASK) ==
			       OZX_CRC_VERIFYING)
				pthread_cond_wait(&a->cond[s], &a->lock[s]);
			pthread_mutex_unlock(&a->lock[s]);
			continue;
		}
		if (atomic_compare_exchange_weak(&n->st, &st,
						 (st & ~ST_CRC_MASK) |
							 OZX_CRC_VERIFYING))
			break;
	}

	for (tries = 1;; tries++) {
		uint64_t g = ozx_gen(a);

		ret = verify_pass(a, node, io, keep, cap, at);
		/*
		 * The stamp after the pass says whether it read the bytes of
		 * generation g.  Not after a FAILED: that is final, as the
		 * bytes read differed from what the archive declares,
		 * whatever made them differ.
		 */
		if ((atomic_load(&n->st) & ST_CRC_MASK) != OZX_CRC_FAILED) {
			int chk = ozx_gen_check(a, io, g);

			if (chk == -ESTALE && tries < OZX_CHANGE_TRIES)
				continue;
			if (chk && !ret)
				ret = -EIO;
		}
		if (verify_commit(a, node, &ret, g,
				  tries >= OZX_CHANGE_TRIES)) {
			if (ret)
				*at = SIZE_MAX;
			return ret;
		}
	}
}

int ozx_file_verify(struct ozx_archive *a, uint32_t node,
		    const struct ozx_io *io)
{
	size_t at;
	int err;

	if (!file_node(a, node, &err))
		return err == -EISDIR ? -ENOENT : err;
	return verify(a, node, io ? io : &a->io, NULL, 0, &at);
}

int ozx_file_data_offset(struct ozx_archive *a, uint32_t node,
			 const struct ozx_io *io, uint64_t *off)
{
	int err;

	if (!file_node(a, node, &err))
		return err == -EISDIR ? -ENOENT : err;
	return resolve(a, node, io ? io : &a->io, off);
}

/*
 * [off, off + len) of the entry, len > 0 and within it, from where its
 * local header (checked on first use) says its bytes are.
 */
static ssize_t read_bytes(struct ozx_archive *a, uint32_t node,
			  const struct ozx_io *io, void *buf, size_t len,
			  uint64_t off)
{
	struct ozx_node *n = &a->nodes[node];
	uint64_t data_off;
	int ret;

	ret = resolve(a, node, io, &data_off);
	if (ret)
		return ret;
	if (n->method == OZX_METHOD_DEFLATE) {
		enum ozx_reason f;
		ssize_t r = ozx_inflate_read(a, node, io, data_off, buf, len,
					     off, &f);

		if (r >= 0 && f != OZX_R_NONE)
			return fail_entry(a, node, f);
		return r;
	}
	/* STORED; a short read means the archive shrank under us. */
	if (ozx_io_read_full(io, buf, len, data_off + off))
		return -EIO;
	return (ssize_t)len;
}

ssize_t ozx_file_read_whole(struct ozx_archive *a, uint32_t node,
			    const struct ozx_io *io, void *buf, size_t cap,
			    size_t len, uint64_t off, size_t *at, size_t *whole)
{
	struct ozx_node *n;
	size_t want, got;
	ssize_t r;
	int ret;

	*at = 0;
	*whole = SIZE_MAX;
	n = file_node(a, node, &ret);
	if (!n)
		return ret;
	if (!io)
		io = &a->io;
	if (len > cap)
		len = cap;
	want = off >= n->size	   ? 0 :
	       n->size - off < len ? (size_t)(n->size - off) :
				     len;
	if (!a->verify) {
		if ((atomic_load(&n->st) & ST_CRC_MASK) == OZX_CRC_FAILED)
			return -EIO;
		if (want == 0)
			return 0;
		ret = read_with_header(a, node, io, buf, cap, &got);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			*at = got + (size_t)off;
			return (ssize_t)want;
		}
		return read_bytes(a, node, io, buf, want, off);
	}
	for (int tries = 1;; tries++) {
		uint64_t g = ozx_gen(a);

		/* If the whole entry fits, verify through the caller's
		 * buffer: one read serves both (and the pass checked the
		 * stamp after it). */
		ret = verify(a, node, io, want ? buf : NULL, cap, &got);
		if (ret)
			return ret;
		if (got != SIZE_MAX) {
			/* The pass of this call matched the CRC over exactly
			 * these bytes, in a generation still current when it
			 * committed: buf holds the verified entry. */
			*whole = got;
			*at = got + (size_t)off;
			return (ssize_t)want;
		}
		if (want == 0)
			return 0;
		r = read_bytes(a, node, io, buf, want, off);
		/* The bytes are those verified only if the source still
		 * looks as it did in generation g (change.c); else the
		 * entry is verified again and read again. */
		ret = ozx_gen_check(a, io, g);
		if (ret == 0)
			return r;
		if (ret != -ESTALE || tries >= OZX_CHANGE_TRIES)
			return -EIO;
	}
}

ssize_t ozx_file_read_at(struct ozx_archive *a, uint32_t node,
			 const struct ozx_io *io, void *buf, size_t cap,
			 size_t len, uint64_t off, size_t *at)
{
	size_t whole;

	return ozx_file_read_whole(a, node, io, buf, cap, len, off, at, &whole);
}

ssize_t ozx_file_read(struct ozx_archive *a, uint32_t node,
		      const struct ozx_io *io, void *buf, size_t len,
		      uint64_t off)
{
	size_t at;
	ssize_t n = ozx_file_read_at(a, node, io, buf, len, len, off, &at);

	if (n > 0 && at)
		memmove(buf, (unsigned char *)buf + at, (size_t)n);
	return n;
}

enum ozx_reason ozx_file_fail(const struct ozx_archive *a, uint32_t node)
{
	uint32_t st;

	if (node >= a->nnodes)
		return OZX_R_NONE;
	st = atomic_load(&a->nodes[node].st);
	if ((st & ST_CRC_MASK) != OZX_CRC_FAILED)
		return OZX_R_NONE;
	return (enum ozx_reason)(OZX_R_ENTRY_BASE +
				 ((st & ST_FAIL_MASK) >> ST_FAIL_SHIFT));
}

const char *ozx_file_failure(const struct ozx_archive *a, uint32_t node)
{
	enum ozx_reason r = ozx_file_fail(a, node);

	return r ? ozx_reason_text(r) : NULL;
}
