/*
 * inflate_idx.c - random access into DEFLATE entries.
 *
 * A DEFLATE stream can only be decoded from its start: every block may
 * refer back up to 32 KiB into the output before it.  Following zlib's
 * examples/zran.c, the first full pass over an entry (the CRC check, or
 * the first read) stops at block boundaries with Z_BLOCK and, about every
 * `span` bytes of output, records an access point: the input position,
 * the bits of the previous input byte not yet consumed, and the 32 KiB
 * window that precedes the point (inflateGetDictionary).  A later read at
 * offset `off` primes a fresh inflate state with the nearest point at or
 * before `off` and decodes at most two spans plus the read's own length.
 * Points sit at block boundaries where they can; but DEFLATE puts no limit
 * on a block's output (zlib's blocks of very repetitive data hold several
 * MiB, a hostile stream can be one block of a GiB), so once a block has
 * run two spans past the last point, the pass takes a mid-block point
 * instead: a copy of the whole inflate state (inflateCopy: Huffman tables,
 * bit buffer and window), which a read copies again to resume from.
 *
 * Memory is bounded by a cap on all access-point windows together (the
 * archive's inflate cache): the span of an entry is chosen so that its
 * index takes at most a quarter of the cap, whatever the entry's size,
 * and whole indices are evicted least-recently-used.  An index in use is
 * pinned by a reference count; an evicted entry is simply rebuilt.
 * Entries no larger than one span have no index: they are decoded from
 * their start, which costs the same.
 *
 * Threads: one mutex guards the cache's map and LRU list and is never
 * held while inflating.  The first reader of an entry without an index
 * puts a placeholder in the map and builds; readers of the same entry wait
 * for it on a condition variable, readers of other entries do not.  Each
 * thread keeps its own z_stream and buffers (a pthread key), so a read
 * allocates nothing once the thread has warmed up.  A pass that decodes
 * more than OZX_CPU_SMALL bytes holds one of the archive's CPU tokens, and
 * never while it waits for anything else, and stops when the archive is
 * cancelled (checked every OUT_CHUNK of output).
 *
 * Every pass checks the stream against the declared sizes: output beyond
 * the uncompressed size, a stream that ends early, input beyond the
 * compressed size and corrupt blocks all fail the entry.  Unused bytes
 * after the end of a complete stream, within the compressed size, fail it
 * too unless the output's CRC-32 matches: then the bytes served are
 * verified, the entry is served, and the tolerance is reported once
 * (ST_TRAILING, the archive's warn callback).
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "archive_i.h"

/* Index builds a read makes before it gives up (each lost to a change). */
#define OZX_INFLATE_TRIES 4
#define WINSIZE 32768u
#define IN_CHUNK (64u << 10)
#define OUT_CHUNK (128u << 10)
#define MIN_SPAN (UINT64_C(1) << 20)

struct zpoint {
	uint64_t out; /* uncompressed offset of the point */
	uint64_t in;  /* compressed offset of the first whole byte */
	uint8_t bits; /* unused bits of the byte before in, 0..7 */
	uint16_t wlen;
	unsigned char *window; /* at a block boundary, else NULL */
	z_stream *state;       /* mid-block: the inflate state, else NULL */
};

/* What a mid-block point counts against the cap: its window plus the
 * rest of zlib's inflate state (about 7 KiB, opaque). */
#define STATE_BYTES (WINSIZE + 8192u)

struct ozx_zidx {
	uint32_t node;
	bool building; /* a placeholder: some thread is building it */
	bool dropped;  /* out of the cache, freed with its last ref */
	int refs;
	uint64_t gen; /* the archive's generation its build began in */
	size_t bytes; /* what it counts against the cap */
	struct ozx_zidx *hnext;
	struct ozx_zidx *prev, *next; /* LRU list, most recent first */
	uint32_t npoints, cap;
	struct zpoint *pts;
};

/* Per-thread decoding state. */
struct zscratch {
	z_stream z;
	unsigned char in[IN_CHUNK];
	unsigned char out[OUT_CHUNK];
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_err;

static void scratch_free(void *p)
{
	struct zscratch *s = p;

	inflateEnd(&s->z);
	free(s);
}

static void scratch_key_make(void)
{
	scratch_key_err = pthread_key_create(&scratch_key, scratch_free);
}

static struct zscratch *scratch(void)
{
	struct zscratch *s;

	pthread_once(&scratch_once, scratch_key_make);
	if (scratch_key_err)
		return NULL;
	s = pthread_getspecific(scratch_key);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (inflateInit2(&s->z, -MAX_WBITS) != Z_OK) {
		free(s);
		return NULL;
	}
	if (pthread_setspecific(scratch_key, s)) {
		scratch_free(s);
		return NULL;
	}
	return s;
}

static uint64_t span_of(const struct ozx_archive *a, uint64_t size)
{
	uint64_t maxpts = a->zc.cap / 4 / WINSIZE, span;

	if (maxpts < 1)
		maxpts = 1;
	span = size / maxpts + 1;
	return span < MIN_SPAN ? MIN_SPAN : span;
}

void ozx_zcache_free_index(struct ozx_zidx *x)
{
	if (!x)
		return;
	for (uint32_t i = 0; i < x->npoints; i++) {
		free(x->pts[i].window);
		if (x->pts[i].state) {
			inflateEnd(x->pts[i].state);
			free(x->pts[i].state);
		}
	}
	free(x->pts);
	free(x);
}

/* Room for one more point.  0 or -ENOMEM. */
static int grow_points(struct ozx_zidx *x)
{
	if (x->npoints == x->cap) {
		uint32_t cap = x->cap ? x->cap * 2 : 16;
		struct zpoint *np = realloc(x->pts, sizeof(*np) * cap);

		if (!np)
			return -ENOMEM;
		x->pts = np;
		x->cap = cap;
	}
	return 0;
}

/* A point at a block boundary: the window before it, and the bits. */
static int add_point(struct ozx_zidx *x, z_stream *z, uint64_t out, uint64_t in)
{
	struct zpoint *p;
	unsigned char *w;
	uInt wlen = WINSIZE;

	if (grow_points(x))
		return -ENOMEM;
	w = malloc(WINSIZE);
	if (!w)
		return -ENOMEM;
	if (inflateGetDictionary(z, w, &wlen) != Z_OK) {
		free(w);
		return -ENOMEM;
	}
	p = &x->pts[x->npoints++];
	p->out = out;
	p->in = in;
	p->bits = (uint8_t)(z->data_type & 7);
	p->wlen = (uint16_t)wlen;
	p->window = w;
	p->state = NULL;
	x->bytes += WINSIZE + sizeof(*p);
	return 0;
}

/* A point inside a block: a copy of the whole inflate state. */
static int add_state_point(struct ozx_zidx *x, z_stream *z, uint64_t out,
			   uint64_t in)
{
	struct zpoint *p;
	z_stream *c;

	if (grow_points(x))
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (inflateCopy(c, z) != Z_OK) {
		free(c);
		return -ENOMEM;
	}
	p = &x->pts[x->npoints++];
	p->out = out;
	p->in = in;
	p->bits = 0; /* in the state's bit buffer */
	p->wlen = 0;
	p->window = NULL;
	p->state = c;
	x->bytes += STATE_BYTES + sizeof(*c) + sizeof(*p);
	return 0;
}

/* Feed input: refill z->next_in from the entry (through the buffer in of
 * IN_CHUNK bytes) when it is empty.  Returns 0, 1 when the entry's
 * compressed bytes are exhausted, -EIO. */
static int feed(z_stream *z, unsigned char *in, const struct ozx_io *io,
		uint64_t data_off, uint64_t comp_size, uint64_t *in_pos)
{
	size_t want;

	if (z->avail_in)
		return 0;
	if (*in_pos >= comp_size)
		return 1;
	want = comp_size - *in_pos < IN_CHUNK ? (size_t)(comp_size - *in_pos) :
						IN_CHUNK;
	if (ozx_io_read_full(io, in, want, data_off + *in_pos))
		return -EIO;
	*in_pos += want;
	z->next_in = in;
	z->avail_in = (uInt)want;
	return 0;
}

/* Unused bytes after a complete stream whose CRC-32 matched: remember,
 * and say so once per entry (an evicted index is rebuilt by this pass). */
static void note_trailing(struct ozx_archive *a, uint32_t node)
{
	uint32_t old = atomic_fetch_or(&a->nodes[node].st, ST_TRAILING);

	if (!(old & ST_TRAILING) && a->warn_fn)
		a->warn_fn(a->warn_ctx, node,
			   ozx_reason_text(OZX_R_ENTRY_TRAILING));
}

int ozx_inflate_whole(struct ozx_archive *a, uint32_t node,
		      const struct ozx_io *io, uint64_t data_off,
		      unsigned char *keep, uint32_t *crc,
		      struct ozx_zidx **index, enum ozx_reason *f)
{
	const struct ozx_node *n = &a->nodes[node];
	struct zscratch *s = scratch();
	struct ozx_zidx *x = NULL;
	uint64_t in_pos = 0, out = 0, last = 0, span = span_of(a, n->size);
	bool big = n->size > OZX_CPU_SMALL;
	int zr = Z_OK, ret = 0;

	*f = OZX_R_NONE;
	if (index)
		*index = NULL;
	if (!s)
		return -ENOMEM;
	if (big) {
		ret = ozx_cpu_get(a);
		if (ret)
			return ret;
	}
	if (index && n->size > span) {
		x = calloc(1, sizeof(*x));
		if (!x) {
			ret = -ENOMEM;
			goto out_put_cpu;
		}
		x->node = node;
		x->gen = ozx_gen(a);
	}
	inflateReset(&s->z);
	s->z.avail_in = 0; /* the last use's input is not ours */
	*crc = 0;
	while (zr != Z_STREAM_END) {
		size_t got;

		if (big && ozx_cancelled(a)) {
			ret = -ECANCELED;
			break;
		}
		ret = feed(&s->z, s->in, io, data_off, n->comp_size, &in_pos);
		if (ret < 0) {
			*f = OZX_R_ENTRY_IO;
			ret = 0;
			break;
		}
		s->z.next_out = s->out;
		s->z.avail_out = OUT_CHUNK;
		zr = inflate(&s->z, x ? Z_BLOCK : Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			*f = OZX_R_ENTRY_INFLATE;
			break;
		}
		got = OUT_CHUNK - s->z.avail_out;
		/* No progress with room to write: out of input, or stuck. */
		if (zr == Z_BUF_ERROR && got == 0) {
			*f = ret > 0 ? OZX_R_ENTRY_SHORT : OZX_R_ENTRY_INFLATE;
			ret = 0;
			break;
		}
		ret = 0;
		if (got > n->size - out) {
			*f = OZX_R_ENTRY_LONG;
			break;
		}
		*crc = ozx_crc32(*crc, s->out, got);
		if (keep)
			memcpy(keep + out, s->out, got);
		out += got;
		/* At the end of a block header that is not the last block;
		 * or inside a block that has gone on for too long. */
		if (x && (s->z.data_type & 128) && !(s->z.data_type & 64) &&
		    out - last >= span) {
			ret = add_point(x, &s->z, out, in_pos - s->z.avail_in);
			if (ret)
				break;
			last = out;
		} else if (x && out - last >= 2 * span && out < n->size) {
			ret = add_state_point(x, &s->z, out,
					      in_pos - s->z.avail_in);
			if (ret)
				break;
			last = out;
		}
	}
	if (!ret && *f == OZX_R_NONE) {
		if (out != n->size)
			*f = OZX_R_ENTRY_SHORT;
		else if ((s->z.avail_in || in_pos != n->comp_size) &&
			 *crc != n->crc)
			*f = OZX_R_ENTRY_INFLATE; /* data after the end of the stream */
		else if (s->z.avail_in || in_pos != n->comp_size)
			note_trailing(a, node);
	}
	if (ret || *f != OZX_R_NONE) {
		ozx_zcache_free_index(x);
		x = NULL;
	}
	if (index)
		*index = x;
out_put_cpu:
	if (big)
		ozx_cpu_put(a);
	return ret;
}

/* The cache: map node -> index, LRU order, bytes used. */

static struct ozx_zidx **slot(struct ozx_zcache *c, uint32_t node)
{
	struct ozx_zidx **p = &c->map[node % OZX_ZMAP];

	while (*p && (*p)->node != node)
		p = &(*p)->hnext;
	return p;
}

static void lru_unlink(struct ozx_zcache *c, struct ozx_zidx *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		c->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		c->tail = x->prev;
	x->prev = x->next = NULL;
}

static void lru_front(struct ozx_zcache *c, struct ozx_zidx *x)
{
	x->next = c->head;
	x->prev = NULL;
	if (c->head)
		c->head->prev = x;
	c->head = x;
	if (!c->tail)
		c->tail = x;
}

/*
 * Take x out of the map and the LRU list: an index built in an older
 * generation, whose access points may hold bytes of before a change
 * (change.c).  Freed now, or by its last reference.
 */
static void drop(struct ozx_zcache *c, struct ozx_zidx *x)
{
	*slot(c, x->node) = x->hnext;
	lru_unlink(c, x);
	c->used -= x->bytes;
	if (x->refs == 0)
		ozx_zcache_free_index(x);
	else
		x->dropped = true;
}

static bool stale(struct ozx_archive *a, const struct ozx_zidx *x)
{
	return x->gen != atomic_load(&a->gen);
}

/* Evict unreferenced indices, oldest first, until under the cap. */
static void evict(struct ozx_zcache *c)
{
	struct ozx_zidx *x = c->tail;

	while (c->used > c->cap && x) {
		struct ozx_zidx *prev = x->prev;

		if (x->refs == 0 && !x->building) {
			*slot(c, x->node) = x->hnext;
			lru_unlink(c, x);
			c->used -= x->bytes;
			c->evictions++;
			ozx_zcache_free_index(x);
		}
		x = prev;
	}
}

void ozx_zcache_init(struct ozx_zcache *c, size_t cap)
{
	memset(c, 0, sizeof(*c));
	atomic_init(&c->decoded, 0);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->cap = cap;
}

void ozx_zcache_release(struct ozx_zcache *c)
{
	struct ozx_zidx *x = c->head;

	while (x) {
		struct ozx_zidx *next = x->next;

		ozx_zcache_free_index(x);
		x = next;
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
}

/* Take node's placeholder, if it has one, out of the map (lock held). */
static void unplace(struct ozx_zcache *c, uint32_t node)
{
	struct ozx_zidx **p = slot(c, node);

	if (*p && (*p)->building) {
		struct ozx_zidx *ph = *p;

		*p = ph->hnext;
		lru_unlink(c, ph);
		free(ph);
	}
}

/* Offer a freshly built index to the cache (which takes it), replacing a
 * placeholder if there is one.  Returns true if x went in (a reference the
 * caller set in x->refs keeps it from eviction), false if another index of
 * the entry was there already, or x was built across a change of the
 * archive, and x was freed. */
bool ozx_zcache_put(struct ozx_archive *a, struct ozx_zidx *x)
{
	struct ozx_zcache *c = &a->zc;
	struct ozx_zidx *old;

	pthread_mutex_lock(&c->lock);
	old = *slot(c, x->node);
	if (old && !old->building) {
		if (!stale(a, old))
			goto out_free_index; /* somebody else's: keep theirs */
		drop(c, old);
	}
	unplace(c, x->node);
	if (stale(a, x)) {
		/* Its waiters build again, in the new generation. */
		pthread_cond_broadcast(&c->cond);
		goto out_free_index;
	}
	x->hnext = c->map[x->node % OZX_ZMAP];
	c->map[x->node % OZX_ZMAP] = x;
	lru_front(c, x);
	c->used += x->bytes;
	evict(c);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return true;

out_free_index:
	pthread_mutex_unlock(&c->lock);
	ozx_zcache_free_index(x);
	return false;
}

/* Drop our placeholder after a failed build. */
static void drop_placeholder(struct ozx_zcache *c, uint32_t node)
{
	pthread_mutex_lock(&c->lock);
	unplace(c, node);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Get the entry's index with a reference held, or NULL with *build set
 * when the caller is to build it (a placeholder now marks that). */
static struct ozx_zidx *get(struct ozx_archive *a, uint32_t node, bool *build,
			    int *err)
{
	struct ozx_zcache *c = &a->zc;
	struct ozx_zidx *x;

	*build = false;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		x = *slot(c, node);
		if (!x)
			break;
		if (!x->building && stale(a, x)) {
			drop(c, x);
			continue;
		}
		if (!x->building) {
			x->refs++;
			lru_unlink(c, x);
			lru_front(c, x);
			c->hits++;
			pthread_mutex_unlock(&c->lock);
			return x;
		}
		pthread_cond_wait(&c->cond, &c->lock);
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		*err = -ENOMEM;
	} else {
		x->node = node;
		x->gen = ozx_gen(a);
		x->building = true;
		x->hnext = c->map[node % OZX_ZMAP];
		c->map[node % OZX_ZMAP] = x;
		lru_front(c, x);
		c->builds++;
		*build = true;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void put_ref(struct ozx_zcache *c, struct ozx_zidx *x)
{
	pthread_mutex_lock(&c->lock);
	x->refs--;
	if (x->dropped && x->refs == 0)
		ozx_zcache_free_index(x);
	evict(c);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Decode [off, off + len) of node starting from point p (NULL: the stream
 * start), adding what it decodes on the way to the cache's count.
 */
static ssize_t decode_from(struct ozx_archive *a, uint32_t node,
			   const struct ozx_io *io, uint64_t data_off,
			   const struct zpoint *p, unsigned char *buf,
			   size_t len, uint64_t off, enum ozx_reason *f)
{
	const struct ozx_node *n = &a->nodes[node];
	uint64_t decoded = 0;
	struct zscratch *s = scratch();
	z_stream copy, *z;
	uint64_t in_pos = 0, out = 0, start = 0;
	size_t done = 0;
	ssize_t ret;
	int zr = Z_OK, r;
	bool big;

	if (!s)
		return -ENOMEM;
	if (p)
		start = p->out;
	/* Long only for a read far from an access point, or of a big entry
	 * with no index at all (inflate_cache=0). */
	big = off - start + len > OZX_CPU_SMALL;
	if (big) {
		ret = ozx_cpu_get(a);
		if (ret)
			return ret;
	}
	z = &s->z;
	if (p && p->state) {
		/* Mid-block: resume from a copy of the saved state. */
		memset(&copy, 0, sizeof(copy));
		if (inflateCopy(&copy, p->state) != Z_OK) {
			ret = -ENOMEM;
			goto out_put_cpu;
		}
		z = &copy;
	} else {
		inflateReset(z);
	}
	z->avail_in = 0; /* the last use's input is not ours */
	if (p) {
		in_pos = p->in;
		out = p->out;
	}
	if (p && p->window) {
		if (p->bits) {
			unsigned char b;

			if (ozx_io_read_full(io, &b, 1, data_off + p->in - 1)) {
				*f = OZX_R_ENTRY_IO;
				ret = 0;
				goto out;
			}
			inflatePrime(z, p->bits, b >> (8 - p->bits));
		}
		inflateSetDictionary(z, p->window, p->wlen);
	}
	ret = 0;
	while (done < len) {
		size_t got, from;

		if (zr == Z_STREAM_END) {
			*f = OZX_R_ENTRY_SHORT;
			goto out;
		}
		if (big && ozx_cancelled(a)) {
			ret = -ECANCELED;
			goto out;
		}
		r = feed(z, s->in, io, data_off, n->comp_size, &in_pos);
		if (r < 0) {
			*f = OZX_R_ENTRY_IO;
			goto out;
		}
		z->next_out = s->out;
		z->avail_out = OUT_CHUNK;
		zr = inflate(z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			*f = OZX_R_ENTRY_INFLATE;
			goto out;
		}
		got = OUT_CHUNK - z->avail_out;
		decoded += got;
		if (zr == Z_BUF_ERROR && got == 0) {
			*f = r > 0 ? OZX_R_ENTRY_SHORT : OZX_R_ENTRY_INFLATE;
			goto out;
		}
		if (got > n->size - out) {
			*f = OZX_R_ENTRY_LONG;
			goto out;
		}
		if (out + got > off) {
			from = out < off ? (size_t)(off - out) : 0;
			size_t k = got - from;

			if (k > len - done)
				k = len - done;
			memcpy(buf + done, s->out + from, k);
			done += k;
		}
		out += got;
	}
	ret = (ssize_t)done;
out:
	if (z == &copy)
		inflateEnd(&copy);
	atomic_fetch_add_explicit(&a->zc.decoded, decoded,
				  memory_order_relaxed);
out_put_cpu:
	if (big)
		ozx_cpu_put(a);
	return ret;
}

ssize_t ozx_inflate_read(struct ozx_archive *a, uint32_t node,
			 const struct ozx_io *io, uint64_t data_off,
			 unsigned char *buf, size_t len, uint64_t off,
			 enum ozx_reason *f)
{
	const struct ozx_node *n = &a->nodes[node];
	struct ozx_zidx *x;
	const struct zpoint *p = NULL;
	uint32_t crc, lo, hi;
	bool build;
	int err = 0, tries = 0;
	ssize_t r;

	*f = OZX_R_NONE;
	if (n->size <= span_of(a, n->size))
		return decode_from(a, node, io, data_off, NULL, buf, len, off,
				   f);
again:
	x = get(a, node, &build, &err);
	if (!x && build) {
		err = ozx_inflate_whole(a, node, io, data_off, NULL, &crc, &x,
					f);
		if (err || *f != OZX_R_NONE) {
			drop_placeholder(&a->zc, node);
			return err;
		}
		/* A CRC mismatch is the verifier's business (verify=entry
		 * checked before we got here; verify=none trusts). */
		x->refs = 1;
		/* Lost a race, or built across a change: ours was freed.
		 * Try again, a bounded number of times: an archive that
		 * keeps changing faster than a pass must not keep a read
		 * here (found in review: this recursed without bound). */
		if (!ozx_zcache_put(a, x)) {
			if (++tries >= OZX_INFLATE_TRIES)
				return -EIO;
			goto again;
		}
	}
	if (!x)
		return err;
	/* The last point at or before off. */
	lo = 0;
	hi = x->npoints;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x->pts[mid].out <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0)
		p = &x->pts[lo - 1];
	r = decode_from(a, node, io, data_off, p, buf, len, off, f);
	put_ref(&a->zc, x);
	return r;
}
