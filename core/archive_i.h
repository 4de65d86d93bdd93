/*
 * archive_i.h - the inside of struct ozx_archive, shared by the core's
 * modules and by nobody else.
 *
 * Memory budget: one struct ozx_node (56 bytes) and 4 to 8 bytes of hash
 * buckets (a power of two, at least one per two nodes) per node, and the
 * names, each stored once and NUL-terminated.  Nodes are:
 *   - one per central-directory record, with its whole name: 64 bytes
 *     plus name length + 1;
 *   - one per implied directory, with its last component only: 64 bytes
 *     plus component length + 1.  The components of the directories a
 *     name implies are disjoint pieces of that name, so implied names
 *     together never take more than the records' names;
 *   - at most OZX_IMPLIED_PER_RECORD (4) implied directories per record
 *     plus OZX_IMPLIED_EXTRA (65,536) in all (tree.c refuses an archive
 *     past that as soon as it gets there).
 * So at most 320 bytes plus twice the name per record, plus 4 MiB.  While
 * the tree is built, the order of creation (4 bytes per node, grown by
 * doubling) and the node table's growth slack come on top; both are given
 * back before the open returns.  The central directory itself is streamed
 * through a bounded buffer and never kept.
 */
#ifndef OZX_ARCHIVE_I_H
#define OZX_ARCHIVE_I_H

#include <libdeflate.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ozx.h"

/* Node kinds and flags, packed into ozx_node.bits. */
#define NODE_KIND_MASK 0x03u
#define NODE_ENCRYPTED 0x04u
#define NODE_WHY_SHIFT 3 /* 5 bits: OZX_R_NAME_* - OZX_R_NAME_BASE */
#define OZX_R_NAME_BASE (OZX_R_NAME_EMPTY - 1)

/* Dynamic per-entry state, packed into the atomic ozx_node.st. */
#define ST_CRC_MASK 0x03u /* enum ozx_crc_state */
#define ST_RESOLVED 0x04u /* local header read and checked */
#define ST_FAIL_SHIFT 3	  /* 5 bits: OZX_R_ENTRY_* - OZX_R_ENTRY_BASE */
#define OZX_R_ENTRY_BASE (OZX_R_ENTRY_CRC - 1)
#define ST_FAIL_MASK (0x1fu << ST_FAIL_SHIFT)
#define ST_LEXTRA_SHIFT 8 /* 16 bits: the local header's extra length */
#define ST_LEXTRA_MASK (0xffffu << ST_LEXTRA_SHIFT)
#define ST_TRAILING (1u << 24) /* unused bytes after the DEFLATE stream */
#define ST_UPATH (1u << 25)    /* name from an Info-ZIP Unicode Path extra */

/* Files: local header offset in the low 48 bits, and in the high 16 the
 * most extra bytes its local header may have before the data would run
 * into what follows it (found at open, checked when the header is read). */
#define LHO_BITS 48
#define LHO_MASK ((UINT64_C(1) << LHO_BITS) - 1)
#define OZX_MAX_ARCHIVE (UINT64_C(1) << LHO_BITS)

struct ozx_node {
	/* files: lho | max_lextra << 48; dirs: first child | nsubdirs << 32 */
	uint64_t x;
	uint64_t comp_size;
	uint64_t size;
	uint32_t crc;
	uint32_t mtime;
	uint32_t name_off; /* into ozx_archive.names */
	uint32_t parent;
	uint32_t sibling; /* next child of the same parent, or OZX_NONE */
	uint32_t hnext;	  /* next node in the same hash bucket, or OZX_NONE */
	_Atomic uint32_t st;
	uint16_t name_len;
	uint8_t method;
	uint8_t bits;
};

/* Each group of reasons fits the 5 bits the node keeps of it. */
_Static_assert(OZX_R_NAME_SHADOWED - OZX_R_NAME_BASE < 32 &&
		       OZX_R_ENTRY_STORED_SIZE - OZX_R_ENTRY_BASE < 32,
	       "reasons do not fit the node");

/* reason.c: fill in diag (may be NULL) with r at off; returns err. */
int ozx_diag_fail(struct ozx_diag *diag, enum ozx_reason r, uint64_t off,
		  int err);

#define OZX_NSTRIPES 64
#define OZX_ZMAP 256

/* inflate_idx.c: access-point indices of DEFLATE entries, LRU-bounded. */
struct ozx_zidx;
struct ozx_zcache {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a build finished or was dropped */
	size_t cap, used;
	struct ozx_zidx *map[OZX_ZMAP];
	struct ozx_zidx *head, *tail;
	uint64_t hits, builds, evictions;
	_Atomic uint64_t decoded; /* output decoded by reads (no lock) */
};

struct ozx_archive {
	struct ozx_io io;
	int fd;		/* -1 when opened from an io */
	char *path;	/* NULL when opened from an io */
	struct stat st; /* of fd at open, to notice changes */
	struct ozx_info info;
	char *comment;
	char *ext; /* ZIP64 extensible data (info.ext_data) */

	struct ozx_node *nodes;
	uint32_t nnodes, nodes_cap;
	char *names;
	uint64_t names_len, names_cap;
	uint32_t *buckets;
	uint32_t nbuckets; /* a power of two */
	uint64_t seed;

	bool verify;
	ozx_fail_fn fail_fn;
	void *fail_ctx;

	/*
	 * The source's identity as last seen (change.c), and its generation:
	 * even, odd while a change is being taken in (a seqlock for seen),
	 * two more per change.  A verdict VERIFIED holds for the generation
	 * it was reached in; taking in a change clears them all.
	 */
	pthread_mutex_t seen_lock;
	_Atomic uint64_t seen_dev, seen_ino, seen_size, seen_mtime;
	_Atomic uint64_t gen;
	ozx_change_fn change_fn;
	void *change_ctx;
	ozx_fail_fn warn_fn;
	void *warn_ctx;
	/* Threads waiting for another thread's verification of an entry. */
	pthread_mutex_t lock[OZX_NSTRIPES];
	pthread_cond_t cond[OZX_NSTRIPES];
	struct ozx_zcache zc;

	/* CPU tokens (ozx_cpu_get): at most cpu_limit long passes at once,
	 * 0 for no limit.  cpu_cond: a token came back, or cancelled. */
	pthread_mutex_t cpu_lock;
	pthread_cond_t cpu_cond;
	unsigned cpu_limit, cpu_busy;
	/* ozx_archive_cancel() was called (set from a signal handler). */
	atomic_bool cancelled;
};

/* change.c: take the source's first stamp (at open); 0 or -errno. */
int ozx_change_init(struct ozx_archive *a);
/* The generation now (even: waits out a change being taken in). */
uint64_t ozx_gen(struct ozx_archive *a);
/* After reading through io: 0 if the bytes read are those of generation
 * g (the stamp is the one last seen, and no change was taken in since g),
 * -ESTALE if not (the caller reads again), -errno if the stamp failed. */
int ozx_gen_check(struct ozx_archive *a, const struct ozx_io *io, uint64_t g);

/*
 * Passes over more bytes than this (CRC passes, inflation, index builds)
 * hold a CPU token; shorter ones, a small entry's check or most reads,
 * never wait for one, so they keep their latency while big entries are
 * being verified.  4 MiB is 0.3 ms of CRC-32 and 10-20 ms of inflation.
 */
#define OZX_CPU_SMALL ((uint64_t)4 << 20)

/* archive.c: take a CPU token for a long pass (waiting for one if all are
 * taken), and give it back.  0, or -ECANCELED once cancelled. */
int ozx_cpu_get(struct ozx_archive *a);
void ozx_cpu_put(struct ozx_archive *a);

/* Whether ozx_archive_cancel() was called: long passes ask every chunk. */
static inline bool ozx_cancelled(const struct ozx_archive *a)
{
	return atomic_load_explicit(&a->cancelled, memory_order_relaxed);
}

/* eocd.c */
struct ozx_eocd {
	uint64_t eocd_off; /* the classic end record */
	uint64_t cd_offset;
	uint64_t cd_size;
	uint64_t nrecords;
	bool zip64;
	uint64_t comment_off;
	uint16_t comment_len;
	uint64_t ext_off; /* ZIP64 extensible data sector */
	uint64_t ext_len;
	uint64_t shift;	   /* bytes before the archive that its offsets
			       * do not count (cd_offset includes them) */
	uint64_t trailing; /* bytes after the comment */
};
int ozx_eocd_find(const struct ozx_io *io, uint64_t size, struct ozx_eocd *e,
		  struct ozx_diag *diag);

/* io.c: a hint that [off, off + len) will be read soon (for an fd:
 * posix_fadvise WILLNEED, which starts reading it from disk; for a URL,
 * one request for as much of it as the cache holds); no-op otherwise. */
void ozx_io_willneed(const struct ozx_io *io, uint64_t off, uint64_t len);

/* io.c: read exactly len bytes at off; -EIO when the file is shorter. */
int ozx_io_read_full(const struct ozx_io *io, void *buf, size_t len,
		     uint64_t off);

/* cdir.c: parse the central directory into a->nodes[1..nrecords]. */
int ozx_cdir_parse(struct ozx_archive *a, const struct ozx_eocd *e,
		   struct ozx_diag *diag);
int ozx_names_add(struct ozx_archive *a, const char *s, size_t len,
		  uint32_t *off);

/* tree.c: validate names, build the tree, the hash and child lists. */
int ozx_tree_build(struct ozx_archive *a, struct ozx_diag *diag);

/* inflate_idx.c */
void ozx_zcache_init(struct ozx_zcache *c, size_t cap);
void ozx_zcache_release(struct ozx_zcache *c);
bool ozx_zcache_put(struct ozx_archive *a, struct ozx_zidx *x);
void ozx_zcache_free_index(struct ozx_zidx *x); /* NULL: no-op */
/* One pass over the whole entry: CRC-32 of the output, sizes checked,
 * the output copied to keep (room for the entry) when not NULL, and an
 * index built into *index when index is not NULL and the entry is big.
 * Returns 0 with *f OZX_R_NONE, 0 with *f the entry's failure, or -errno. */
int ozx_inflate_whole(struct ozx_archive *a, uint32_t node,
		      const struct ozx_io *io, uint64_t data_off,
		      unsigned char *keep, uint32_t *crc,
		      struct ozx_zidx **index, enum ozx_reason *f);
/* len bytes at off (within the entry).  Returns bytes, 0 with *f set, or
 * -errno. */
ssize_t ozx_inflate_read(struct ozx_archive *a, uint32_t node,
			 const struct ozx_io *io, uint64_t data_off,
			 unsigned char *buf, size_t len, uint64_t off,
			 enum ozx_reason *f);

/*
 * CRC-32 (the ZIP one, as zlib's crc32) of p[0..n) continuing crc; 0 starts.
 * libdeflate's: 16 GB/s here against 6.9 for zlib's crc32_z, and every
 * byte served passes through it once.
 */
static inline uint32_t ozx_crc32(uint32_t crc, const void *p, size_t n)
{
	return libdeflate_crc32(crc, p, n);
}

static inline unsigned node_kind(const struct ozx_node *n)
{
	return n->bits & NODE_KIND_MASK;
}

static inline uint64_t node_lho(const struct ozx_node *n)
{
	return n->x & LHO_MASK;
}

/*
 * The name the entry's local header carries.  A name taken from a
 * Unicode Path extra (ST_UPATH, set before the handle is shared) is
 * followed in the names, after its NUL, by the raw name's length (two
 * bytes, little-endian) and the raw name.
 */
static inline const char *node_lh_name(const struct ozx_archive *a,
				       const struct ozx_node *n, size_t *len)
{
	const unsigned char *p =
		(const unsigned char *)a->names + n->name_off + n->name_len + 1;

	if (!(atomic_load(&((struct ozx_node *)n)->st) & ST_UPATH)) {
		*len = n->name_len;
		return a->names + n->name_off;
	}
	*len = (size_t)p[0] | (size_t)p[1] << 8;
	return (const char *)p + 2;
}

/* The visible name of n: what follows the last '/' of its stored name. */
const char *ozx_node_component(const struct ozx_archive *a,
			       const struct ozx_node *n, size_t *len);

#endif
