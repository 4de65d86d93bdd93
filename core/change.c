/*
 * change.c - noticing that the archive changed under the handle.
 *
 * The archive is assumed immutable, and the read path checks that, cheaply:
 * after its preads, a read asks the io for the source's stamp (for a file,
 * fstat(2): device, inode, size, mtime) and compares it with the stamp last
 * seen.  A write(2) moves the mtime before it copies a byte, so a stamp
 * taken after the pread that is still the one last seen proves that the
 * bytes read are old bytes: those the entry's CRC-32 was checked against.
 * What this cannot see: a writer that puts the mtime back, a write within
 * the same timestamp tick as the stamp last seen, a write(2) still copying
 * when its change is taken in, stores through a shared writable mmap(2)
 * to a page already dirty (the mtime moves when a clean page is first
 * written, not on later stores), and file systems whose attributes may lag
 * their data (NFS and other network file systems).  ozxfs(1) says so.
 *
 * A new stamp is a change, taken in once: the generation moves on, every
 * VERIFIED entry drops back to UNVERIFIED and every local header is to be
 * read again, so each entry is checked against its CRC-32 again before
 * more of its bytes are served.  The CRC decides: an entry whose bytes
 * changed fails for good, an untouched one (touch(1), a change elsewhere
 * in the file) is served as before.  Not a sticky error for the whole
 * archive: a touch would then break the mount for nothing.
 *
 * Locking.  Readers compare with the seen stamp without a lock, as readers
 * of a seqlock whose sequence is the generation (odd while the stamp is
 * rewritten).  Whoever takes a change in holds seen_lock and every stripe
 * lock of the archive while it moves the generation and clears the
 * verdicts; read.c commits a VERIFIED under its stripe's lock, and only
 * if the generation is still the one its pass began in.  So a verification
 * either commits before the clearing, and is cleared, or sees the new
 * generation and reads again.
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>

#include "archive_i.h"

static void put(_Atomic uint64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static void seen_store(struct ozx_archive *a, const struct ozx_stamp *s)
{
	put(&a->seen_dev, s->dev);
	put(&a->seen_ino, s->ino);
	put(&a->seen_size, s->size);
	put(&a->seen_mtime, (uint64_t)s->mtime_ns);
}

/* Whether s is the stamp seen in generation g (even): 1 if it is, 0 if
 * not, -ESTALE if the generation is no longer g. */
static int seen_in(struct ozx_archive *a, const struct ozx_stamp *s, uint64_t g)
{
	bool same;

	if (atomic_load_explicit(&a->gen, memory_order_acquire) != g)
		return -ESTALE;
	same = get(&a->seen_mtime) == (uint64_t)s->mtime_ns &&
	       get(&a->seen_size) == s->size && get(&a->seen_ino) == s->ino &&
	       get(&a->seen_dev) == s->dev;
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&a->gen, memory_order_relaxed) != g)
		return -ESTALE;
	return same;
}

/* Drop every verdict VERIFIED and every resolved local header. */
static void forget_verdicts(struct ozx_archive *a)
{
	for (uint32_t i = 0; i < a->nnodes; i++) {
		struct ozx_node *n = &a->nodes[i];
		uint32_t old = atomic_load(&n->st), new;

		do {
			new = old & ~(ST_RESOLVED | ST_LEXTRA_MASK);
			if ((old & ST_CRC_MASK) == OZX_CRC_VERIFIED)
				new = (new & ~ST_CRC_MASK) | OZX_CRC_UNVERIFIED;
		} while (new != old &&
			 !atomic_compare_exchange_weak(&n->st, &old, new));
	}
}

/* Take in the change to stamp s, unless another thread just did.
 * Returns 1 if this call did. */
static int take_in(struct ozx_archive *a, const struct ozx_stamp *s)
{
	uint64_t g;
	int took = 0;

	pthread_mutex_lock(&a->seen_lock);
	g = atomic_load(&a->gen);
	if (seen_in(a, s, g) == 0) {
		for (unsigned i = 0; i < OZX_NSTRIPES; i++)
			pthread_mutex_lock(&a->lock[i]);
		atomic_store_explicit(&a->gen, g + 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		seen_store(a, s);
		forget_verdicts(a);
		atomic_store_explicit(&a->gen, g + 2, memory_order_release);
		for (unsigned i = OZX_NSTRIPES; i-- > 0;)
			pthread_mutex_unlock(&a->lock[i]);
		took = 1;
	}
	pthread_mutex_unlock(&a->seen_lock);
	if (took && a->change_fn)
		a->change_fn(a->change_ctx);
	return took;
}

int ozx_change_init(struct ozx_archive *a)
{
	struct ozx_stamp s;
	int ret;

	atomic_init(&a->gen, 0);
	if (!a->io.stamp)
		return 0;
	ret = a->io.stamp(a->io.ctx, &s);
	if (ret)
		return ret;
	seen_store(a, &s);
	return 0;
}

uint64_t ozx_gen(struct ozx_archive *a)
{
	uint64_t g = atomic_load_explicit(&a->gen, memory_order_acquire);

	if (g & 1) {
		/* A change is being taken in, under this lock. */
		pthread_mutex_lock(&a->seen_lock);
		g = atomic_load(&a->gen);
		pthread_mutex_unlock(&a->seen_lock);
	}
	return g;
}

int ozx_gen_check(struct ozx_archive *a, const struct ozx_io *io, uint64_t g)
{
	struct ozx_stamp s;
	int ret;

	if (!io->stamp)
		return atomic_load(&a->gen) == g ? 0 : -ESTALE;
	ret = io->stamp(io->ctx, &s);
	if (ret)
		return ret;
	ret = seen_in(a, &s, g);
	if (ret == 0)
		take_in(a, &s);
	return ret == 1 ? 0 : -ESTALE;
}

int ozx_archive_check(struct ozx_archive *a)
{
	struct ozx_stamp s;
	int ret;

	if (!a->io.stamp)
		return 0;
	ret = a->io.stamp(a->io.ctx, &s);
	if (ret)
		return ret;
	do
		ret = seen_in(a, &s, ozx_gen(a));
	while (ret == -ESTALE);
	return ret ? 0 : take_in(a, &s);
}
