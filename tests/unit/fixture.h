/*
 * fixture.h - shared helpers of the unit tests: ZIP archives built in memory
 * (well-formed ones with libzip, malformed ones by hand), ios over memory
 * that can be made to fail, and deterministic content.
 *
 * The hand builder, fx_zip_build(), writes local headers, data, central
 * records and end records itself and remembers where each part went, so a
 * malformed case is "build a good archive, then poke one field".  The
 * FX_LH_*, FX_CD_*, FX_EOCD* constants are the field offsets of APPNOTE
 * 4.3.7, 4.3.12, 4.3.14, 4.3.15 and 4.3.16.
 *
 * Every helper aborts the test (a cmocka failure) on out of memory or on a
 * libzip error, so callers never check for NULL.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ozx.h"

/* Signatures. */
#define FX_SIG_LH 0x04034b50u
#define FX_SIG_DD 0x08074b50u
#define FX_SIG_CD 0x02014b50u
#define FX_SIG_EOCD 0x06054b50u
#define FX_SIG_EOCD64 0x06064b50u
#define FX_SIG_LOC 0x07064b50u

/* Local header fields (APPNOTE 4.3.7). */
#define FX_LH_VERSION 4
#define FX_LH_FLAGS 6
#define FX_LH_METHOD 8
#define FX_LH_TIME 10
#define FX_LH_DATE 12
#define FX_LH_CRC 14
#define FX_LH_CSIZE 18
#define FX_LH_USIZE 22
#define FX_LH_NLEN 26
#define FX_LH_XLEN 28
#define FX_LH_NAME 30

/* Central directory record fields (APPNOTE 4.3.12). */
#define FX_CD_MADE 4
#define FX_CD_VERSION 6
#define FX_CD_FLAGS 8
#define FX_CD_METHOD 10
#define FX_CD_TIME 12
#define FX_CD_DATE 14
#define FX_CD_CRC 16
#define FX_CD_CSIZE 20
#define FX_CD_USIZE 24
#define FX_CD_NLEN 28
#define FX_CD_XLEN 30
#define FX_CD_CLEN 32
#define FX_CD_DISK 34
#define FX_CD_IATTR 36
#define FX_CD_EATTR 38
#define FX_CD_LHOFF 42
#define FX_CD_NAME 46

/* End of central directory record fields (APPNOTE 4.3.16). */
#define FX_EOCD_DISK 4
#define FX_EOCD_CDDISK 6
#define FX_EOCD_NDISK 8
#define FX_EOCD_N 10
#define FX_EOCD_CDSIZE 12
#define FX_EOCD_CDOFF 16
#define FX_EOCD_CLEN 20
#define FX_EOCD_LEN 22

/* ZIP64 end record (4.3.14) and its locator (4.3.15). */
#define FX_EOCD64_RECSIZE 4
#define FX_EOCD64_DISK 16
#define FX_EOCD64_CDDISK 20
#define FX_EOCD64_NDISK 24
#define FX_EOCD64_N 32
#define FX_EOCD64_CDSIZE 40
#define FX_EOCD64_CDOFF 48
#define FX_EOCD64_LEN 56
#define FX_LOC_DISK 4
#define FX_LOC_OFF 8
#define FX_LOC_NDISKS 16
#define FX_LOC_LEN 20

/* The DOS time every hand-built entry carries: 2020-01-02 03:04:06. */
#define FX_DOS_TIME ((3u << 11) | (4u << 5) | (6u / 2))
#define FX_DOS_DATE (((2020u - 1980u) << 9) | (1u << 5) | 2u)
#define FX_DOS_EPOCH ((int64_t)1577934246)

/* ---- a growing byte buffer with little-endian writers ---------------- */

struct fx_buf {
	unsigned char *p;
	size_t len;
	size_t cap;
};

void fx_buf_init(struct fx_buf *b);
void fx_buf_release(struct fx_buf *b);
/* Hand over the bytes (malloc'd, never NULL); b is empty afterwards. */
unsigned char *fx_buf_take(struct fx_buf *b, size_t *len);
void fx_put(struct fx_buf *b, const void *p, size_t n);
void fx_put_str(struct fx_buf *b, const char *s);
void fx_put_fill(struct fx_buf *b, unsigned char c, size_t n);
void fx_le16(struct fx_buf *b, uint64_t v);
void fx_le32(struct fx_buf *b, uint64_t v);
void fx_le64(struct fx_buf *b, uint64_t v);

void fx_poke16(unsigned char *p, uint64_t v);
void fx_poke32(unsigned char *p, uint64_t v);
void fx_poke64(unsigned char *p, uint64_t v);
uint16_t fx_peek16(const unsigned char *p);
uint32_t fx_peek32(const unsigned char *p);
uint64_t fx_peek64(const unsigned char *p);

/* ---- single records, every field as given ----------------------------- */

/* The fields of a local header or central record, written verbatim. */
struct fx_hdr {
	uint16_t made;	  /* central only */
	uint16_t version; /* version needed to extract */
	uint16_t flags;
	uint16_t method;
	uint16_t time, date;
	uint32_t crc;
	uint32_t csize, usize;
	const void *name;
	size_t name_len;
	const void *extra;
	size_t extra_len;
	const void *comment; /* central only */
	size_t comment_len;
	uint16_t disk;	 /* central only */
	uint32_t eattr;	 /* central only */
	uint32_t lh_off; /* central only */
};

void fx_put_lh(struct fx_buf *b, const struct fx_hdr *h);
void fx_put_cd(struct fx_buf *b, const struct fx_hdr *h);
void fx_put_eocd(struct fx_buf *b, uint16_t disk, uint16_t cd_disk,
		 uint16_t n_disk, uint16_t n, uint32_t cd_size, uint32_t cd_off,
		 const void *comment, size_t comment_len);
/* A ZIP64 end record with ext_len bytes of extensible data after it. */
void fx_put_eocd64(struct fx_buf *b, uint64_t n, uint64_t cd_size,
		   uint64_t cd_off, const void *ext, size_t ext_len);
void fx_put_locator(struct fx_buf *b, uint64_t eocd64_off, uint32_t ndisks);

/* ---- whole archives, by hand ------------------------------------------ */

enum fx_zip64 {
	FX_Z64_NONE = 0,  /* 32-bit fields only */
	FX_Z64_LOCAL = 1, /* Python force_zip64: LH sizes 0xffffffff + extra,
			     central directory plain */
	FX_Z64_FULL = 2,  /* LH and central sizes and offset all 0xffffffff,
			     the values in ZIP64 extra fields */
};

enum fx_dd {
	FX_DD_NONE = 0,
	FX_DD_SIG = 1,	 /* flag bit 3, descriptor with its signature */
	FX_DD_NOSIG = 2, /* flag bit 3, descriptor without a signature */
};

/* One entry for fx_zip_build() or fx_libzip_build(). */
struct fx_ent {
	const char *name; /* name_len bytes, or strlen(name) if 0 */
	size_t name_len;
	const void *data; /* uncompressed content */
	size_t len;
	uint16_t method;    /* 0 stored, 8 deflated by zlib, other: data stored
			    verbatim under that method number */
	bool raw_blocks;    /* method 8: zlib level 0 (stored blocks), so a
			    flipped content byte keeps the stream valid */
	const void *packed; /* method 8: this raw DEFLATE stream of
			       packed_len bytes as is, not zlib's */
	size_t packed_len;
	uint16_t flags; /* extra general purpose flags (both headers) */
	enum fx_dd dd;
	const void *lh_extra; /* extra bytes after any ZIP64 field */
	size_t lh_extra_len;
	const void *cd_extra;
	size_t cd_extra_len;
};

struct fx_opts {
	enum fx_zip64 zip64;
	bool eocd64;		/* write a ZIP64 end record and locator (always
				   done when the counts do not fit) */
	bool eocd_real;		/* with eocd64: keep the real values in the
				   classic record instead of 0xffff/0xffffffff */
	const void *eocd64_ext; /* ZIP64 extensible data */
	size_t eocd64_ext_len;
	const void *comment;
	size_t comment_len;
	size_t prefix; /* junk bytes before the first local header;
			  offsets are adjusted for them */
};

/* A hand-built archive and where its parts are. */
struct fx_zip {
	unsigned char *p;
	size_t len;
	size_t n;
	size_t *lh_off;	  /* per entry: local header */
	size_t *data_off; /* per entry: first stored byte */
	size_t *csize;	  /* per entry: stored bytes */
	uint32_t *crc;	  /* per entry: CRC-32 of the content */
	size_t *cd_rec;	  /* per entry: central record */
	size_t cd_off, cd_size;
	size_t eocd64_off, loc_off; /* 0 if absent */
	size_t eocd_off;
};

void fx_zip_build(struct fx_zip *z, const struct fx_ent *e, size_t n,
		  const struct fx_opts *o);
void fx_zip_release(struct fx_zip *z);

/* ---- whole archives, by libzip (the oracle) -------------------------- */

/*
 * A well-formed archive written by libzip: names ending in '/' become
 * zip_dir_add() directories, method is 0 or 8.  comment may be NULL.
 * Returns a malloc'd buffer.
 */
unsigned char *fx_libzip_build(const struct fx_ent *e, size_t n,
			       const char *comment, size_t *len);

/*
 * Copy buf with n junk bytes in front.  With adjust, every central local
 * header offset and the EOCD's directory offset grow by n, so the archive
 * stays valid; without, they are left as they were.  Classic archives only.
 */
unsigned char *fx_prepend(const unsigned char *buf, size_t len, size_t n,
			  bool adjust, size_t *out_len);

/* ---- opening archives ------------------------------------------------- */

/* An archive opened from memory, with the io and its context kept alive. */
struct fx_arc {
	unsigned char *buf;
	size_t len;
	struct ozx_mem mem;
	struct ozx_io io;
	struct ozx_archive *a; /* NULL if the open failed */
	struct ozx_diag d;
	int ret; /* what ozx_archive_open_io() returned */
};

/* Open buf[0..len) (the fx_arc takes it over); a->ret says how it went. */
struct fx_arc *fx_arc_open(unsigned char *buf, size_t len);
/* As fx_arc_open, on a copy of the bytes. */
struct fx_arc *fx_arc_open_copy(const void *buf, size_t len);
/* As fx_arc_open, but cmocka-fail unless the open succeeded. */
struct fx_arc *fx_arc_open_ok(unsigned char *buf, size_t len);
void fx_arc_free(struct fx_arc *fa);

/* Visible node at path, cmocka-failing if there is none. */
uint32_t fx_node(const struct ozx_archive *a, const char *path);

/* ---- ios ------------------------------------------------------------ */

/*
 * An io wrapping another that fails on its fail_at-th call (1-based, 0:
 * never) and every call after it when sticky, returning err; and that
 * reads nothing at or beyond short_from (a file truncated under us).
 */
struct fx_faulty {
	struct ozx_io inner;
	atomic_uint calls;
	unsigned fail_at;
	bool sticky;
	int err;
	uint64_t short_from;
};
struct ozx_io fx_io_faulty(struct fx_faulty *f, const struct ozx_io *inner);

/*
 * A huge virtual file: size bytes of zeros except tail[0..tail_len) at its
 * end.  For archives claiming more than memory holds.
 */
struct fx_sparse {
	uint64_t size;
	const unsigned char *tail;
	size_t tail_len;
};
struct ozx_io fx_io_sparse(struct fx_sparse *s);

/* ---- content -------------------------------------------------------- */

/* xorshift64*: deterministic, never 0 for a nonzero seed. */
uint64_t fx_rand(uint64_t *state);
/* Uniform-ish in [0, n) (n > 0). */
uint64_t fx_rand_below(uint64_t *state, uint64_t n);
/* Incompressible bytes from seed. */
void fx_fill_random(void *p, size_t n, uint64_t seed);
/* Compressible text-like bytes from seed (deflate finds matches). */
void fx_fill_text(void *p, size_t n, uint64_t seed);
/* malloc'd versions of the two. */
unsigned char *fx_random_bytes(size_t n, uint64_t seed);
unsigned char *fx_text_bytes(size_t n, uint64_t seed);

uint32_t fx_crc32(const void *p, size_t n);
/* Raw DEFLATE of p (level 0..9 or -1 for zlib's default); malloc'd. */
unsigned char *fx_deflate(const void *p, size_t n, int level, size_t *out_len);

/*
 * Read node of a through ozx_file_read() and compare with want[0..size):
 * the whole entry, then nreads random (offset, length) pairs including
 * reads crossing and past the end, then the edge cases.  cmocka-fails on
 * the first difference.
 */
void fx_check_reads(struct ozx_archive *a, uint32_t node,
		    const unsigned char *want, size_t size, unsigned nreads,
		    uint64_t seed);

#endif /* FIXTURE_H */
