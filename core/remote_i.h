/*
 * remote_i.h - the inside of the remote io (remote.c), shared with its
 * block cache (bcache.c), its S3 addressing (s3.c) and the unit tests.
 */
#ifndef OZX_REMOTE_I_H
#define OZX_REMOTE_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ozx_remote.h"

/*
 * The block cache: blocks of bsize bytes at multiples of bsize (the last
 * of the object shorter), at most cap bytes in all, least recently used
 * evicted first.  A block is in the map from its allocation on, loading
 * until its fetch ends: then it is ready (and never changes again, so
 * readers copy out of it without the lock, holding a reference) or
 * aborted (taken out).  A reader of a loading block waits for the end of
 * that fetch instead of fetching the same bytes again: the kernel's
 * readahead sends neighbouring reads at once, and they would otherwise
 * fetch each other's blocks.  A referenced block is never evicted nor
 * freed.
 */
struct ozx_blk {
	uint64_t idx;
	size_t len;
	unsigned refs;
	bool cached;		     /* in the map and the LRU list */
	bool loading;		     /* its fetch has not ended */
	struct ozx_blk *hnext;	     /* same hash bucket */
	struct ozx_blk *prev, *next; /* LRU list, head most recent */
	unsigned char data[];
};

struct ozx_bcache {
	pthread_mutex_t lock;
	pthread_cond_t done; /* a fetch ended (ready or aborted) */
	size_t cap, used, bsize;
	struct ozx_blk **map;
	size_t nmap; /* a power of two */
	struct ozx_blk *head, *tail;
	struct ozx_blk *spare; /* blocks' memory to reuse, through next */
	uint64_t hits, misses, evictions;
	uint64_t fresh; /* blocks' memory allocated, not reused */
};

int ozx_bcache_init(struct ozx_bcache *c, size_t cap, size_t bsize);
void ozx_bcache_release(struct ozx_bcache *c);
/* The ready block idx with a reference taken (a hit; a loading one is
 * waited for), or NULL (a miss, or its fetch was aborted). */
struct ozx_blk *ozx_bcache_get(struct ozx_bcache *c, uint64_t idx);
/* Whether block idx is in the map, ready or loading (no reference, no
 * statistics). */
bool ozx_bcache_has(struct ozx_bcache *c, uint64_t idx);
/* A new loading block of len bytes for index idx, in the map, with a
 * reference, counted in the cache's bytes (least recently used blocks
 * evicted to make room).  NULL if idx is in the map already (*present
 * true), or if the cache cannot make room or memory is short. */
struct ozx_blk *ozx_bcache_alloc(struct ozx_bcache *c, uint64_t idx, size_t len,
				 bool *present);
/* The loading block b was filled: ready for all.  Or its fetch failed:
 * out of the map.  Either way the caller's reference stays. */
void ozx_bcache_ready(struct ozx_bcache *c, struct ozx_blk *b);
void ozx_bcache_abort(struct ozx_bcache *c, struct ozx_blk *b);
/* Give back a reference; an aborted block goes with its last one. */
void ozx_bcache_put(struct ozx_bcache *c, struct ozx_blk *b);

/* remote.c: the remote io's pread, known by io.c, which gives it the
 * core's hints (ozx_io_willneed) through ozx_remote_willneed. */
ssize_t ozx_remote_pread(void *ctx, void *buf, size_t len, uint64_t off);
void ozx_remote_willneed(void *ctx, uint64_t off, uint64_t len);

/* s3.c: what an s3:// URL turns into. */
struct ozx_s3 {
	char *url;     /* the https:// (or endpoint) URL of the object */
	char *sigv4;   /* "aws:amz:REGION:s3", NULL when anonymous */
	char *userpwd; /* "KEY_ID:SECRET", NULL when anonymous */
	char *token;   /* "x-amz-security-token: ...", or NULL */
};
/* Fill s from an s3://bucket/key URL and the environment.  0, -EINVAL
 * (err->msg says why), -ENOMEM. */
int ozx_s3_resolve(const char *url, bool anonymous, struct ozx_s3 *s,
		   struct ozx_remote_err *err);
/* Free and wipe (the secret) what resolve filled. */
void ozx_s3_release(struct ozx_s3 *s);
/* The key percent-encoded for a URL path (unreserved and '/' kept);
 * malloc'd, NULL without memory. */
char *ozx_s3_encode_key(const char *key);

#endif
