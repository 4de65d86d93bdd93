/*
 * bcache.c - the remote io's block cache (remote_i.h): a hash of aligned
 * blocks and a least-recently-used list under one mutex.  Only bookkeeping
 * happens under the lock; copying a block's bytes is done by the holder of
 * a reference, without it.  The cap is strict: a block is allocated only
 * when evicting unreferenced blocks makes room for it, so memory never
 * exceeds cap plus the blocks' headers, whatever the number of threads.
 *
 * A block's memory, once had, is kept: an evicted or dropped block goes on
 * a free list and the next block allocated takes it, so a cache that
 * cycles writes into pages it holds.  Fresh pages are what copying into a
 * block costs most (measured on a 2-CPU VM: touching 64 MiB of new pages
 * 165 ms, writing them again 3 ms).  Every block has room for bsize bytes,
 * so the free list and the blocks in use together hold at most cap / bsize
 * + 1 blocks (only an object's last block is shorter than bsize).
 */
#include "config.h"

#include "remote_i.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot(const struct ozx_bcache *c, uint64_t idx)
{
	/* Fibonacci hashing: consecutive blocks spread over the map. */
	return (size_t)((idx * UINT64_C(0x9e3779b97f4a7c15)) >> 32) &
	       (c->nmap - 1);
}

int ozx_bcache_init(struct ozx_bcache *c, size_t cap, size_t bsize)
{
	size_t want = cap / bsize + 1;

	c->cap = cap;
	c->bsize = bsize;
	c->used = 0;
	c->head = c->tail = c->spare = NULL;
	c->hits = c->misses = c->evictions = c->fresh = 0;
	for (c->nmap = 16; c->nmap < want; c->nmap *= 2)
		;
	c->map = calloc(c->nmap, sizeof(*c->map));
	if (!c->map)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done, NULL);
	return 0;
}

void ozx_bcache_release(struct ozx_bcache *c)
{
	struct ozx_blk *b, *next;

	if (!c->map)
		return;
	for (b = c->head; b; b = next) {
		next = b->next;
		free(b);
	}
	for (b = c->spare; b; b = next) {
		next = b->next;
		free(b);
	}
	free(c->map);
	c->map = NULL;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->done);
}

static struct ozx_blk *find(struct ozx_bcache *c, uint64_t idx)
{
	struct ozx_blk *b;

	for (b = c->map[slot(c, idx)]; b; b = b->hnext)
		if (b->idx == idx)
			return b;
	return NULL;
}

static void lru_unlink(struct ozx_bcache *c, struct ozx_blk *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		c->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		c->tail = b->prev;
	b->prev = b->next = NULL;
}

static void lru_push(struct ozx_bcache *c, struct ozx_blk *b)
{
	b->prev = NULL;
	b->next = c->head;
	if (c->head)
		c->head->prev = b;
	c->head = b;
	if (!c->tail)
		c->tail = b;
}

static void unhash(struct ozx_bcache *c, struct ozx_blk *b)
{
	struct ozx_blk **pp = &c->map[slot(c, b->idx)];

	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	b->hnext = NULL;
}

/* Keep b's memory for the next block.  Called with the lock held. */
static void spare(struct ozx_bcache *c, struct ozx_blk *b)
{
	b->prev = NULL;
	b->next = c->spare;
	c->spare = b;
}

struct ozx_blk *ozx_bcache_get(struct ozx_bcache *c, uint64_t idx)
{
	struct ozx_blk *b;

	pthread_mutex_lock(&c->lock);
	b = find(c, idx);
	if (b) {
		b->refs++;
		/* Our reference keeps it from being freed while we wait. */
		while (b->loading)
			pthread_cond_wait(&c->done, &c->lock);
		if (b->cached) {
			lru_unlink(c, b);
			lru_push(c, b);
			c->hits++;
		} else {
			/* Aborted: a miss after all. */
			if (--b->refs == 0) {
				c->used -= b->len;
				spare(c, b);
			}
			b = NULL;
			c->misses++;
		}
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return b;
}

bool ozx_bcache_has(struct ozx_bcache *c, uint64_t idx)
{
	bool has;

	pthread_mutex_lock(&c->lock);
	has = find(c, idx) != NULL;
	pthread_mutex_unlock(&c->lock);
	return has;
}

/* Evict unreferenced blocks from the cold end until len more bytes fit.
 * Called with the lock held.  Whether they fit. */
static bool make_room(struct ozx_bcache *c, size_t len)
{
	struct ozx_blk *b = c->tail, *prev;

	while (c->used + len > c->cap && b) {
		prev = b->prev;
		if (b->refs == 0) {
			lru_unlink(c, b);
			unhash(c, b);
			c->used -= b->len;
			c->evictions++;
			spare(c, b);
		}
		b = prev;
	}
	return c->used + len <= c->cap;
}

/* Memory for a block: a spare one, else new.  Called with the lock held. */
static struct ozx_blk *blk_mem(struct ozx_bcache *c)
{
	struct ozx_blk *b = c->spare;

	if (!b) {
		b = malloc(sizeof(*b) + c->bsize);
		c->fresh += b != NULL;
		return b;
	}
	c->spare = b->next;
	return b;
}

struct ozx_blk *ozx_bcache_alloc(struct ozx_bcache *c, uint64_t idx, size_t len,
				 bool *present)
{
	struct ozx_blk *b = NULL;
	size_t s;

	*present = false;
	if (len == 0 || len > c->bsize)
		return NULL;
	pthread_mutex_lock(&c->lock);
	if (find(c, idx))
		*present = true;
	else if (make_room(c, len))
		b = blk_mem(c);
	if (b) {
		c->used += len;
		b->idx = idx;
		b->len = len;
		b->refs = 1;
		b->cached = true;
		b->loading = true;
		s = slot(c, idx);
		b->hnext = c->map[s];
		c->map[s] = b;
		lru_push(c, b);
	}
	pthread_mutex_unlock(&c->lock);
	return b;
}

void ozx_bcache_ready(struct ozx_bcache *c, struct ozx_blk *b)
{
	pthread_mutex_lock(&c->lock);
	b->loading = false;
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->lock);
}

void ozx_bcache_abort(struct ozx_bcache *c, struct ozx_blk *b)
{
	pthread_mutex_lock(&c->lock);
	lru_unlink(c, b);
	unhash(c, b);
	b->cached = false;
	b->loading = false;
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->lock);
}

void ozx_bcache_put(struct ozx_bcache *c, struct ozx_blk *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&c->lock);
	if (--b->refs == 0 && !b->cached) {
		c->used -= b->len;
		spare(c, b);
	}
	pthread_mutex_unlock(&c->lock);
}
