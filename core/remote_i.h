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

#include "ozx_remote.h"

/*
 * The block cache: blocks of bsize bytes at multiples of bsize (the last
 * of the object shorter), at most cap bytes in all, least recently used
 * evicted first.  A block is filled before it is inserted and never
 * changes after, so readers copy out of it without the lock, holding a
 * reference; a referenced block is never evicted nor freed.
 */
struct ozx_blk {
	uint64_t idx;
	size_t len;
	unsigned refs;
	bool cached;                  /* in the map and the LRU list */
	struct ozx_blk *hnext;        /* same hash bucket */
	struct ozx_blk *prev, *next;  /* LRU list, head most recent */
	unsigned char data[];
};

struct ozx_bcache {
	pthread_mutex_t lock;
	size_t cap, used, bsize;
	struct ozx_blk **map;
	size_t nmap; /* a power of two */
	struct ozx_blk *head, *tail;
	uint64_t hits, misses, evictions;
};

int ozx_bcache_init(struct ozx_bcache *c, size_t cap, size_t bsize);
void ozx_bcache_release(struct ozx_bcache *c);
/* The block idx with a reference taken (a hit), or NULL (a miss). */
struct ozx_blk *ozx_bcache_get(struct ozx_bcache *c, uint64_t idx);
/* Whether block idx is cached (no reference, no statistics). */
bool ozx_bcache_has(struct ozx_bcache *c, uint64_t idx);
/* A new block of len bytes for index idx, with a reference, counted in
 * the cache's bytes (least recently used blocks evicted to make room);
 * NULL if the cache cannot make room or memory is short. */
struct ozx_blk *ozx_bcache_alloc(struct ozx_bcache *c, uint64_t idx,
				 size_t len);
/* Insert a filled block from ozx_bcache_alloc (dropped if another thread
 * inserted the same index meanwhile); the reference stays the caller's. */
void ozx_bcache_insert(struct ozx_bcache *c, struct ozx_blk *b);
/* Give back a reference; a block from alloc never inserted is freed. */
void ozx_bcache_put(struct ozx_bcache *c, struct ozx_blk *b);

/* s3.c: what an s3:// URL turns into. */
struct ozx_s3 {
	char *url;      /* the https:// (or endpoint) URL of the object */
	char *sigv4;    /* "aws:amz:REGION:s3", NULL when anonymous */
	char *userpwd;  /* "KEY_ID:SECRET", NULL when anonymous */
	char *token;    /* "x-amz-security-token: ...", or NULL */
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
