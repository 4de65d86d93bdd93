/*
 * test_read.c - the read path: many threads at once, CRC verification
 * before any byte is served (and reported once), the verify switch, the
 * per-entry CRC state, io failures at every single pread, and reopening
 * a path-opened archive.
 */
#include "config.h"

#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#define NTHREADS 8

/* ---- a corpus of entries ------------------------------------------ */

struct corpus {
	size_t n;
	struct fx_ent *e;
	char (*names)[16];
	struct fx_zip z;
};

/* n entries "e/NNN": STORED and DEFLATE alternately, random and text
 * content, sizes 0 .. max. */
static void corpus_build(struct corpus *c, size_t n, size_t max)
{
	uint64_t s = 77;
	size_t i;

	c->n = n;
	c->e = calloc(n, sizeof(*c->e));
	c->names = calloc(n, sizeof(*c->names));
	assert_non_null(c->e);
	assert_non_null(c->names);
	for (i = 0; i < n; i++) {
		size_t len = i == 0 ? 0 : (size_t)fx_rand_below(&s, max + 1);

		snprintf(c->names[i], sizeof(c->names[i]), "e/%03u",
			 (unsigned)(i % 1000));
		c->e[i].name = c->names[i];
		c->e[i].len = len;
		c->e[i].method = i % 2 ? 8 : 0;
		c->e[i].data = i % 3 ? fx_text_bytes(len, i) :
				       fx_random_bytes(len, i);
	}
	fx_zip_build(&c->z, c->e, n, NULL);
}

static void corpus_release(struct corpus *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free((void *)c->e[i].data);
	free(c->e);
	free(c->names);
	fx_zip_release(&c->z);
}

/* ---- counting fail callback ----------------------------------------- */

struct failcount {
	atomic_uint calls;
	_Atomic(const char *) why;
	atomic_uint node;
};

static void count_fail(void *ctx, uint32_t node, const char *why)
{
	struct failcount *f = ctx;

	atomic_fetch_add(&f->calls, 1);
	atomic_store(&f->why, why);
	atomic_store(&f->node, node);
}

/* ---- concurrency ---------------------------------------------------- */

struct worker {
	struct ozx_archive *a;
	const struct corpus *c;
	const uint32_t *nodes;
	pthread_barrier_t *bar;
	atomic_uint *bad;
	uint64_t seed;
	unsigned nreads;
	bool verify_too; /* also call ozx_file_verify now and then */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = malloc(70000);
	uint64_t s = w->seed;
	unsigned k;

	pthread_barrier_wait(w->bar);
	for (k = 0; buf && k < w->nreads; k++) {
		size_t i = (size_t)fx_rand_below(&s, w->c->n);
		const struct fx_ent *e = &w->c->e[i];
		uint64_t off = fx_rand_below(&s, e->len + 10);
		size_t len = (size_t)fx_rand_below(&s, 70000);
		size_t want = off >= e->len	 ? 0 :
			      e->len - off < len ? (size_t)(e->len - off) :
						   len;
		ssize_t got;

		if (w->verify_too && k % 17 == 0 &&
		    ozx_file_verify(w->a, w->nodes[i], NULL) != 0)
			atomic_fetch_add(w->bad, 1);
		got = ozx_file_read(w->a, w->nodes[i], NULL, buf, len, off);
		if (got != (ssize_t)want ||
		    (want &&
		     memcmp(buf, (const unsigned char *)e->data + off, want)))
			atomic_fetch_add(w->bad, 1);
	}
	if (!buf)
		atomic_fetch_add(w->bad, 1);
	free(buf);
	return NULL;
}

static void run_workers(struct ozx_archive *a, const struct corpus *c,
			unsigned nreads, bool verify_too)
{
	pthread_t th[NTHREADS];
	struct worker w[NTHREADS];
	pthread_barrier_t bar;
	atomic_uint bad;
	uint32_t *nodes = malloc(c->n * sizeof(*nodes));
	size_t i;

	assert_non_null(nodes);
	for (i = 0; i < c->n; i++)
		nodes[i] = fx_node(a, c->names[i]);
	atomic_init(&bad, 0);
	assert_int_equal(pthread_barrier_init(&bar, NULL, NTHREADS), 0);
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .a = a,
					.c = c,
					.nodes = nodes,
					.bar = &bar,
					.bad = &bad,
					.seed = 1000 + i,
					.nreads = nreads,
					.verify_too = verify_too };
		assert_int_equal(
			pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	free(nodes);
	assert_int_equal(atomic_load(&bad), 0);
}

/* 8 threads reading random ranges of 40 entries at once (verification
 * racing on first use) all get the right bytes. */
static void test_concurrent_reads(void **state)
{
	struct corpus c;
	struct fx_arc *fa;
	struct failcount f = { 0 };
	size_t i;

	(void)state;
	corpus_build(&c, 40, 100000);
	fa = fx_arc_open_copy(c.z.p, c.z.len);
	assert_int_equal(fa->ret, 0);
	ozx_archive_set_fail_cb(fa->a, count_fail, &f);
	run_workers(fa->a, &c, 150, true);
	assert_int_equal(atomic_load(&f.calls), 0);
	for (i = 0; i < c.n; i++) {
		struct ozx_stat st;

		assert_int_equal(ozx_node_stat(fa->a,
					       fx_node(fa->a, c.names[i]), &st),
				 0);
		assert_true(st.crc_state == OZX_CRC_VERIFIED ||
			    st.crc_state == OZX_CRC_UNVERIFIED);
	}
	fx_arc_free(fa);
	corpus_release(&c);
}

/* The same with verification off: no shared state to race on, and
 * DEFLATE ranges served straight from the stream. */
static void test_concurrent_reads_unverified(void **state)
{
	struct corpus c;
	struct fx_arc *fa;

	(void)state;
	corpus_build(&c, 40, 100000);
	fa = fx_arc_open_copy(c.z.p, c.z.len);
	assert_int_equal(fa->ret, 0);
	ozx_archive_set_verify(fa->a, false);
	run_workers(fa->a, &c, 150, false);
	fx_arc_free(fa);
	corpus_release(&c);
}

/* ---- verification --------------------------------------------------- */

/* "x" STORED (size bytes, byte at corrupt_at flipped unless SIZE_MAX),
 * "y" DEFLATE fine. */
static struct fx_arc *open_one(size_t size, size_t corrupt_at, uint16_t method,
			       unsigned char **content)
{
	unsigned char *d = fx_random_bytes(size, 31);
	unsigned char *t = fx_text_bytes(5000, 32);
	struct fx_ent e[] = {
		{ .name = "x",
		  .data = d,
		  .len = size,
		  .method = method,
		  .raw_blocks = true },
		{ .name = "y", .data = t, .len = 5000, .method = 8 },
	};
	struct fx_zip z;
	struct fx_arc *fa;

	fx_zip_build(&z, e, 2, NULL);
	if (corrupt_at != SIZE_MAX) {
		/* DEFLATE stored blocks: 5 header bytes before the content */
		size_t at = z.data_off[0] + corrupt_at + (method == 8 ? 5 : 0);

		assert_int_equal(z.p[at], d[corrupt_at]);
		z.p[at] ^= 0x10;
	}
	fa = fx_arc_open(z.p, z.len);
	z.p = NULL; /* the fx_arc owns it now */
	fx_zip_release(&z);
	assert_int_equal(fa->ret, 0);
	if (content)
		*content = d;
	else
		free(d);
	free(t);
	return fa;
}

/* With verify on, a corrupt STORED entry fails on its first read
 * whatever the offset and length, even one at or past its end: no byte
 * of it is served. */
static void test_verify_first_read_any_offset(void **state)
{
	static const uint64_t offs[] = { 0, 1, 50000, 99999, 100000, 300000 };
	static const size_t lens[] = { 1, 4096, 200000 };
	unsigned char *buf = malloc(200000);
	size_t i, j;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			/* the last byte is the bad one: far from most reads */
			struct fx_arc *fa = open_one(100000, 99999, 0, NULL);
			uint32_t x = fx_node(fa->a, "x");
			ssize_t got = ozx_file_read(fa->a, x, NULL, buf,
						    lens[j], offs[i]);

			if (got != -EIO)
				print_error("read(len %zu, off %llu) of a "
					    "corrupt entry gave %zd\n",
					    lens[j],
					    (unsigned long long)offs[i], got);
			assert_int_equal(got, -EIO);
			assert_string_equal(ozx_file_failure(fa->a, x),
					    "CRC-32 mismatch");
			fx_arc_free(fa);
		}
	}
	free(buf);
}

/* The same for a corrupt DEFLATE entry (stream still valid). */
static void test_verify_first_read_deflate(void **state)
{
	unsigned char buf[64];
	struct fx_arc *fa = open_one(50000, 49000, 8, NULL);
	uint32_t x = fx_node(fa->a, "x");

	(void)state;
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 10, 0), -EIO);
	assert_int_equal(ozx_file_fail(fa->a, x), OZX_R_ENTRY_CRC);
	assert_string_equal(ozx_file_failure(fa->a, x), "CRC-32 mismatch");
	fx_arc_free(fa);
}

struct race {
	struct ozx_archive *a;
	uint32_t node;
	pthread_barrier_t *bar;
	atomic_uint *eio;
	uint64_t off;
};

static void *race_main(void *arg)
{
	struct race *r = arg;
	unsigned char buf[512];

	pthread_barrier_wait(r->bar);
	if (ozx_file_read(r->a, r->node, NULL, buf, sizeof(buf), r->off) ==
	    -EIO)
		atomic_fetch_add(r->eio, 1);
	return NULL;
}

/* 8 threads hit a corrupt entry at the same moment: all get -EIO, and
 * the fail callback runs exactly once, naming the entry. */
static void test_fail_cb_once_concurrent(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 20; round++) {
		struct fx_arc *fa =
			open_one(300000, 1000, round % 2 ? 8 : 0, NULL);
		struct failcount f;
		pthread_t th[NTHREADS];
		struct race r[NTHREADS];
		pthread_barrier_t bar;
		atomic_uint eio;
		uint32_t x = fx_node(fa->a, "x");
		int i;

		atomic_init(&f.calls, 0);
		atomic_init(&f.why, NULL);
		atomic_init(&f.node, OZX_NONE);
		atomic_init(&eio, 0);
		ozx_archive_set_fail_cb(fa->a, count_fail, &f);
		assert_int_equal(pthread_barrier_init(&bar, NULL, NTHREADS), 0);
		for (i = 0; i < NTHREADS; i++) {
			r[i] = (struct race){ fa->a, x, &bar, &eio,
					      (uint64_t)i * 37000 };
			assert_int_equal(pthread_create(&th[i], NULL, race_main,
							&r[i]),
					 0);
		}
		for (i = 0; i < NTHREADS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&bar);
		assert_int_equal(atomic_load(&eio), NTHREADS);
		assert_int_equal(atomic_load(&f.calls), 1);
		assert_int_equal(atomic_load(&f.node), x);
		assert_string_equal(atomic_load(&f.why), "CRC-32 mismatch");
		fx_arc_free(fa);
	}
}

/* With verify off the corrupt STORED entry serves its (wrong) bytes, as
 * stored; ozx_file_verify still finds it out, and from then on it
 * fails. */
static void test_verify_off_serves_bytes(void **state)
{
	unsigned char *want;
	struct fx_arc *fa = open_one(100000, 99999, 0, &want);
	uint32_t x = fx_node(fa->a, "x");
	unsigned char *buf = malloc(100000);
	struct failcount f = { 0 };
	struct ozx_stat st;

	(void)state;
	assert_non_null(buf);
	ozx_archive_set_verify(fa->a, false);
	ozx_archive_set_fail_cb(fa->a, count_fail, &f);
	want[99999] ^= 0x10; /* what the archive holds */
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 100000, 0), 100000);
	assert_memory_equal(buf, want, 100000);
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 10, 99995), 5);
	assert_memory_equal(buf, want + 99995, 5);
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_UNVERIFIED);
	assert_null(ozx_file_failure(fa->a, x));
	assert_int_equal(atomic_load(&f.calls), 0);

	assert_int_equal(ozx_file_verify(fa->a, x, NULL), -EIO);
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_FAILED);
	assert_string_equal(ozx_file_failure(fa->a, x), "CRC-32 mismatch");
	assert_int_equal(atomic_load(&f.calls), 1);
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 10, 0), -EIO);
	assert_int_equal(atomic_load(&f.calls), 1);
	fx_arc_free(fa);
	free(want);
	free(buf);
}

/* ozx_file_verify: 0 for sound entries (again and again), -EIO for the
 * corrupt one, -ENOENT for what is not a file. */
static void test_file_verify(void **state)
{
	struct fx_arc *fa = open_one(70000, SIZE_MAX, 8, NULL);
	uint32_t x = fx_node(fa->a, "x"), y = fx_node(fa->a, "y");

	(void)state;
	assert_int_equal(ozx_file_verify(fa->a, x, NULL), 0);
	assert_int_equal(ozx_file_verify(fa->a, x, NULL), 0);
	assert_int_equal(ozx_file_verify(fa->a, y, ozx_archive_io(fa->a)), 0);
	assert_int_equal(ozx_file_verify(fa->a, OZX_ROOT, NULL), -ENOENT);
	assert_int_equal(ozx_file_verify(fa->a, 1000, NULL), -ENOENT);
	fx_arc_free(fa);
	fa = open_one(70000, 3, 0, NULL);
	x = fx_node(fa->a, "x");
	assert_int_equal(ozx_file_verify(fa->a, x, NULL), -EIO);
	assert_int_equal(ozx_file_verify(fa->a, x, NULL), -EIO);
	assert_int_equal(ozx_file_verify(fa->a, fx_node(fa->a, "y"), NULL), 0);
	fx_arc_free(fa);
}

static void *verify_main(void *arg)
{
	struct fx_arc *fa = arg;

	return (void *)(intptr_t)ozx_file_verify(fa->a, fx_node(fa->a, "x"),
						 NULL);
}

/* Issue 14: long passes take turns under a CPU limit (four threads, one
 * turn: all finish); after ozx_archive_cancel() a big entry's pass ends
 * with -ECANCELED and leaves the entry unverified and not failed, while a
 * small entry, which needs no turn, is still checked and served. */
static void test_cpu_limit_and_cancel(void **state)
{
	size_t big = (size_t)(5 << 20);
	unsigned char buf[16];
	struct failcount fc = { 0 };
	struct ozx_stat st;
	pthread_t th[4];
	void *ret;

	(void)state;
	for (uint16_t method = 0; method <= 8; method += 8) {
		struct fx_arc *fa = open_one(big, SIZE_MAX, method, NULL);
		uint32_t x = fx_node(fa->a, "x"), y = fx_node(fa->a, "y");

		ozx_archive_set_cpu_limit(fa->a, 1);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(pthread_create(&th[i], NULL,
							verify_main, fa),
					 0);
		for (unsigned i = 0; i < 4; i++) {
			pthread_join(th[i], &ret);
			assert_int_equal((intptr_t)ret, 0);
		}
		fx_arc_free(fa);

		fa = open_one(big, SIZE_MAX, method, NULL);
		x = fx_node(fa->a, "x");
		y = fx_node(fa->a, "y");
		ozx_archive_set_cpu_limit(fa->a, 1);
		ozx_archive_set_fail_cb(fa->a, count_fail, &fc);
		ozx_archive_cancel(fa->a);
		assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 16, 100),
				 -ECANCELED);
		assert_int_equal(ozx_file_verify(fa->a, x, NULL), -ECANCELED);
		assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
		assert_int_equal(st.crc_state, OZX_CRC_UNVERIFIED);
		assert_int_equal(ozx_file_read(fa->a, y, NULL, buf, 16, 100),
				 16);
		assert_int_equal(ozx_node_stat(fa->a, y, &st), 0);
		assert_int_equal(st.crc_state, OZX_CRC_VERIFIED);
		assert_int_equal(atomic_load(&fc.calls), 0);
		fx_arc_free(fa);
	}
}

/* crc_state: UNVERIFIED at open; VERIFIED after a first read (verify on)
 * or ozx_file_verify; FAILED once found corrupt; reads with verify off
 * leave it alone. */
static void test_crc_state_transitions(void **state)
{
	unsigned char buf[16];
	struct ozx_stat st;
	struct fx_arc *fa = open_one(20000, SIZE_MAX, 0, NULL);
	uint32_t x = fx_node(fa->a, "x"), y = fx_node(fa->a, "y");

	(void)state;
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_UNVERIFIED);
	assert_int_equal(ozx_node_stat(fa->a, y, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_UNVERIFIED);
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 16, 100), 16);
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_VERIFIED);
	assert_int_equal(ozx_node_stat(fa->a, y, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_UNVERIFIED);
	assert_int_equal(ozx_file_verify(fa->a, y, NULL), 0);
	assert_int_equal(ozx_node_stat(fa->a, y, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_VERIFIED);
	fx_arc_free(fa);

	fa = open_one(20000, SIZE_MAX, 8, NULL);
	x = fx_node(fa->a, "x");
	ozx_archive_set_verify(fa->a, false);
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 16, 100), 16);
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_UNVERIFIED);
	assert_int_equal(ozx_file_verify(fa->a, x, NULL), 0);
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_VERIFIED);
	fx_arc_free(fa);

	fa = open_one(20000, 5, 0, NULL);
	x = fx_node(fa->a, "x");
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 16, 100), -EIO);
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_FAILED);
	fx_arc_free(fa);
}

/* A whole-entry first read at an offset (the entry is verified through
 * the caller's buffer, then the range moved to its front). */
static void test_first_read_whole_at_offset(void **state)
{
	unsigned char *want;
	unsigned char *buf = malloc(30000);
	size_t k;

	(void)state;
	assert_non_null(buf);
	for (k = 0; k < 2; k++) {
		struct fx_arc *fa = open_one(20000, SIZE_MAX, k ? 8 : 0, &want);
		uint32_t x = fx_node(fa->a, "x");

		assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 30000,
					       12345),
				 20000 - 12345);
		assert_memory_equal(buf, want + 12345, 20000 - 12345);
		fx_arc_free(fa);
		free(want);
	}
	free(buf);
}

/* ozx_file_read_whole (issue 17): the read whose pass verified the entry
 * into a buffer with room for it says where all of it lies; a later read,
 * a buffer too small, verification off and a corrupt entry say SIZE_MAX. */
static void test_read_whole(void **state)
{
	unsigned char *want, *buf = malloc(30000);
	size_t at, whole, k;
	struct fx_arc *fa;
	uint32_t x;

	(void)state;
	assert_non_null(buf);
	for (k = 0; k < 2; k++) {
		fa = open_one(20000, SIZE_MAX, k ? 8 : 0, &want);
		x = fx_node(fa->a, "x");
		assert_int_equal(ozx_file_read_whole(fa->a, x, NULL, buf, 30000,
						     100, 5000, &at, &whole),
				 100);
		assert_true(whole != SIZE_MAX);
		assert_memory_equal(buf + whole, want, 20000);
		assert_memory_equal(buf + at, want + 5000, 100);
		assert_int_equal(ozx_file_read_whole(fa->a, x, NULL, buf, 30000,
						     100, 0, &at, &whole),
				 100);
		assert_true(whole == SIZE_MAX);
		assert_memory_equal(buf + at, want, 100);
		fx_arc_free(fa);

		fa = open_one(20000, SIZE_MAX, k ? 8 : 0, NULL);
		x = fx_node(fa->a, "x");
		assert_int_equal(ozx_file_read_whole(fa->a, x, NULL, buf, 4096,
						     100, 0, &at, &whole),
				 100);
		assert_true(whole == SIZE_MAX);
		assert_memory_equal(buf + at, want, 100);
		fx_arc_free(fa);

		fa = open_one(20000, SIZE_MAX, k ? 8 : 0, NULL);
		x = fx_node(fa->a, "x");
		ozx_archive_set_verify(fa->a, false);
		assert_int_equal(ozx_file_read_whole(fa->a, x, NULL, buf, 30000,
						     100, 0, &at, &whole),
				 100);
		assert_true(whole == SIZE_MAX);
		fx_arc_free(fa);
		free(want);
	}
	fa = open_one(20000, 5, 0, NULL);
	x = fx_node(fa->a, "x");
	assert_int_equal(ozx_file_read_whole(fa->a, x, NULL, buf, 30000, 100, 0,
					     &at, &whole),
			 -EIO);
	assert_true(whole == SIZE_MAX);
	fx_arc_free(fa);
	free(buf);
}

/* An io that holds the first reader of the data region until released,
 * to look at an entry while it is being verified. */
struct gate {
	struct ozx_io inner;
	uint64_t from;
	pthread_mutex_t m;
	pthread_cond_t c;
	bool entered, open;
};

static ssize_t gate_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct gate *g = ctx;

	if (off + len > g->from) {
		pthread_mutex_lock(&g->m);
		g->entered = true;
		pthread_cond_broadcast(&g->c);
		while (!g->open)
			pthread_cond_wait(&g->c, &g->m);
		pthread_mutex_unlock(&g->m);
	}
	return g->inner.pread(g->inner.ctx, buf, len, off);
}

struct reader {
	struct ozx_archive *a;
	uint32_t node;
	const unsigned char *want;
	bool ok;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	unsigned char buf[1000];

	r->ok = ozx_file_read(r->a, r->node, NULL, buf, sizeof(buf), 5000) ==
			(ssize_t)sizeof(buf) &&
		!memcmp(buf, r->want + 5000, sizeof(buf));
	return NULL;
}

/* While one thread verifies an entry its state is VERIFYING; a second
 * reader waits for it; both get the right bytes. */
static void test_crc_state_verifying(void **state)
{
	unsigned char *d = fx_random_bytes(100000, 8);
	struct fx_ent e[] = { { .name = "x", .data = d, .len = 100000 } };
	struct fx_zip z;
	struct fx_mem_gate {
		struct ozx_mem mem;
		struct gate g;
	} mg;
	struct ozx_io io;
	struct ozx_archive *a;
	struct ozx_stat st;
	struct reader r1, r2;
	pthread_t t1, t2;
	uint32_t x;

	(void)state;
	fx_zip_build(&z, e, 1, NULL);
	mg.mem.p = z.p;
	mg.mem.len = z.len;
	mg.g.inner = ozx_io_mem(&mg.mem);
	mg.g.from = UINT64_MAX;
	mg.g.entered = false;
	mg.g.open = false;
	pthread_mutex_init(&mg.g.m, NULL);
	pthread_cond_init(&mg.g.c, NULL);
	io.pread = gate_pread;
	io.ctx = &mg.g;
	io.stamp = NULL;
	assert_int_equal(ozx_archive_open_io(&io, z.len, &a, NULL), 0);
	x = fx_node(a, "x");
	mg.g.from = z.data_off[0] + 50000; /* the middle of the entry */
	r1 = (struct reader){ a, x, d, false };
	r2 = r1;
	assert_int_equal(pthread_create(&t1, NULL, reader_main, &r1), 0);
	pthread_mutex_lock(&mg.g.m);
	while (!mg.g.entered)
		pthread_cond_wait(&mg.g.c, &mg.g.m);
	pthread_mutex_unlock(&mg.g.m);
	assert_int_equal(ozx_node_stat(a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_VERIFYING);
	assert_int_equal(pthread_create(&t2, NULL, reader_main, &r2), 0);
	pthread_mutex_lock(&mg.g.m);
	mg.g.open = true;
	pthread_cond_broadcast(&mg.g.c);
	pthread_mutex_unlock(&mg.g.m);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_true(r1.ok);
	assert_true(r2.ok);
	assert_int_equal(ozx_node_stat(a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_VERIFIED);
	ozx_archive_free(a);
	pthread_mutex_destroy(&mg.g.m);
	pthread_cond_destroy(&mg.g.c);
	fx_zip_release(&z);
	free(d);
}

/* ---- ozx_file_read_at: header and bytes in one pread ------------------ */

/*
 * Entries: "s" STORED with a ZIP64 local extra (the sizes live there),
 * "t" STORED, "d" DEFLATE, "n" STORED whose local header names another
 * file.  Opened through a counting io.
 */
struct at_arc {
	struct fx_zip z;
	struct fx_ent e[4];
	struct ozx_mem mem;
	struct ozx_io inner, io;
	struct fx_faulty f;
	struct ozx_archive *a;
};

static void at_open(struct at_arc *t, size_t size, bool verify)
{
	static const char *const names[] = { "s", "t", "d", "n" };
	struct fx_opts o = { .zip64 = FX_Z64_LOCAL };
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < 4; i++) {
		t->e[i].name = names[i];
		t->e[i].len = size;
		t->e[i].data = fx_random_bytes(size, 40 + (unsigned)i);
		t->e[i].method = i == 2 ? 8 : 0;
	}
	fx_zip_build(&t->z, t->e, 4, &o);
	/* "n": a local header name that is not the central one */
	t->z.p[t->z.lh_off[3] + 30] = 'm';
	t->mem.p = t->z.p;
	t->mem.len = t->z.len;
	t->inner = ozx_io_mem(&t->mem);
	t->io = fx_io_faulty(&t->f, &t->inner);
	assert_int_equal(ozx_archive_open_io(&t->io, t->z.len, &t->a, NULL), 0);
	ozx_archive_set_verify(t->a, verify);
}

static void at_close(struct at_arc *t)
{
	size_t i;

	ozx_archive_free(t->a);
	for (i = 0; i < 4; i++)
		free((void *)t->e[i].data);
	fx_zip_release(&t->z);
}

/* Preads of one ozx_file_read_at(); checks the bytes it returns. */
static unsigned at_read(struct at_arc *t, const char *name, size_t cap,
			size_t len, uint64_t off, ssize_t expect)
{
	size_t i = (size_t)(strchr("stdn", name[0]) - "stdn"), at = 99999;
	unsigned char *buf = malloc(cap);
	unsigned before = atomic_load(&t->f.calls);
	ssize_t got;

	assert_non_null(buf);
	got = ozx_file_read_at(t->a, fx_node(t->a, name), NULL, buf, cap, len,
			       off, &at);
	assert_int_equal(got, expect);
	if (got > 0) {
		assert_true(at + (size_t)got <= cap);
		assert_memory_equal(buf + at,
				    (const unsigned char *)t->e[i].data + off,
				    (size_t)got);
	}
	free(buf);
	return atomic_load(&t->f.calls) - before;
}

/* A small STORED entry read with room to spare costs one pread, ZIP64
 * local extra included; then plain reads; other methods unchanged. */
static void test_read_at_one_pread(void **state)
{
	struct at_arc t;
	int verify;

	(void)state;
	for (verify = 0; verify < 2; verify++) {
		at_open(&t, 5000, verify);
		/* first read, part of the entry, room for all: 1 pread */
		assert_int_equal(at_read(&t, "s", 65536, 4096, 0, 4096), 1);
		assert_int_equal(ozx_node_stat(t.a, fx_node(t.a, "s"),
					       &(struct ozx_stat){ 0 }),
				 0);
		/* the rest: resolved (and verified), so 1 plain pread */
		assert_int_equal(at_read(&t, "s", 65536, 4096, 4096, 904), 1);
		/* at an offset, first read: still 1 */
		assert_int_equal(at_read(&t, "t", 65536, 100, 1234, 100), 1);
		/* On a fresh archive: one byte too little room for header
		 * and bytes costs two preads (header, then the bytes or the
		 * CRC pass into the buffer); exactly enough, one. */
		at_close(&t);
		at_open(&t, 5000, verify);
		{
			size_t span_s = t.z.data_off[0] - t.z.lh_off[0];
			size_t span_t = t.z.data_off[1] - t.z.lh_off[1];

			/* no room after the data: the next header follows */
			assert_int_equal(t.z.lh_off[1],
					 t.z.data_off[0] + t.z.csize[0]);
			assert_int_equal(t.z.lh_off[2],
					 t.z.data_off[1] + t.z.csize[1]);
			assert_int_equal(at_read(&t, "t", 5000 + span_t - 1,
						 100, 0, 100),
					 2);
			assert_int_equal(at_read(&t, "s", 5000 + span_s, 100, 0,
						 100),
					 1);
		}
		/* DEFLATE: correct, whatever it costs */
		assert_true(at_read(&t, "d", 65536, 5000, 0, 5000) >= 1);
		/* the local header is still checked on this path */
		at_read(&t, "n", 65536, 5000, 0, -EIO);
		assert_string_equal(ozx_file_failure(t.a, fx_node(t.a, "n")),
				    "local header name differs from central "
				    "directory");
		at_close(&t);
	}
	/* verify on: the one pread also verified the entry */
	at_open(&t, 5000, true);
	assert_int_equal(at_read(&t, "s", 65536, 10, 0, 10), 1);
	{
		struct ozx_stat st;

		assert_int_equal(ozx_node_stat(t.a, fx_node(t.a, "s"), &st), 0);
		assert_int_equal(st.crc_state, OZX_CRC_VERIFIED);
	}
	/* a flipped byte in the data fails the CRC through this path */
	t.z.p[t.z.data_off[1] + 4999] ^= 1;
	at_read(&t, "t", 65536, 10, 0, -EIO);
	assert_string_equal(ozx_file_failure(t.a, fx_node(t.a, "t")),
			    "CRC-32 mismatch");
	at_close(&t);
}

/* A STORED entry larger than the read's buffer: the CRC pass streams
 * through that buffer (no allocation), then the read fills it. */
static void test_verify_through_scratch(void **state)
{
	const size_t size = 1u << 20, cap = 300u << 10;
	unsigned char *want;
	struct fx_arc *fa = open_one(size, SIZE_MAX, 0, &want);
	unsigned char *buf = malloc(cap);
	uint32_t x = fx_node(fa->a, "x");
	struct ozx_stat st;
	size_t at = 1;

	(void)state;
	assert_non_null(buf);
	memset(buf, 0x5a, cap);
	assert_int_equal(ozx_file_read_at(fa->a, x, NULL, buf, cap, 4096,
					  500000, &at),
			 4096);
	assert_memory_equal(buf + at, want + 500000, 4096);
	assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
	assert_int_equal(st.crc_state, OZX_CRC_VERIFIED);
	/* and a corrupt one fails the same way, through the buffer */
	fx_arc_free(fa);
	free(want);
	fa = open_one(size, size - 7, 0, &want);
	x = fx_node(fa->a, "x");
	assert_int_equal(
		ozx_file_read_at(fa->a, x, NULL, buf, cap, 4096, 0, &at), -EIO);
	assert_string_equal(ozx_file_failure(fa->a, x), "CRC-32 mismatch");
	fx_arc_free(fa);
	free(want);
	free(buf);
}

/* ---- io failures ---------------------------------------------------- */

/*
 * Fail the Nth pread, for every N until the whole job (open, then read
 * every entry whole and in part) no longer reaches N preads: each step
 * either works or says -EIO, never crashes, never serves wrong bytes.
 */
static void nth_pread_fails(bool sticky, bool verify)
{
	struct corpus c;
	struct ozx_mem mem;
	struct ozx_io inner, io;
	struct fx_faulty f;
	unsigned n, opened_ok = 0, eio = 0;
	unsigned char *buf = malloc(70000);

	assert_non_null(buf);
	corpus_build(&c, 6, 60000);
	mem.p = c.z.p;
	mem.len = c.z.len;
	inner = ozx_io_mem(&mem);
	for (n = 1;; n++) {
		struct ozx_archive *a = (struct ozx_archive *)&a;
		struct ozx_diag d = { 0 };
		size_t i;
		int ret;

		io = fx_io_faulty(&f, &inner);
		f.fail_at = n;
		f.sticky = sticky;
		ret = ozx_archive_open_io(&io, c.z.len, &a, &d);
		if (ret) {
			if (ret != -EIO)
				print_error("pread %u failing: open gave %d "
					    "(%s)\n",
					    n, ret, d.what ? d.what : "");
			assert_int_equal(ret, -EIO);
			assert_null(a);
			continue;
		}
		opened_ok++;
		ozx_archive_set_verify(a, verify);
		for (i = 0; i < c.n; i++) {
			uint32_t x = fx_node(a, c.names[i]);
			const struct fx_ent *e = &c.e[i];
			uint64_t off = e->len / 3;
			ssize_t got;

			got = ozx_file_read(a, x, NULL, buf, 1000, off);
			if (got >= 0) {
				size_t want = e->len - off < 1000 ?
						      (size_t)(e->len - off) :
						      1000;

				assert_int_equal(got, (ssize_t)want);
				assert_memory_equal(
					buf,
					(const unsigned char *)e->data + off,
					want);
			} else {
				const char *why = ozx_file_failure(a, x);

				/* a failed read is not the entry's fault */
				assert_int_equal(got, -EIO);
				assert_null(why);
				eio++;
			}
		}
		/* The fault passes: every entry reads, every byte right. */
		f.fail_at = 0;
		for (i = 0; i < c.n; i++) {
			uint32_t x = fx_node(a, c.names[i]);
			const struct fx_ent *e = &c.e[i];
			uint64_t off = e->len / 3;
			size_t want = e->len - off < 1000 ?
					      (size_t)(e->len - off) :
					      1000;

			assert_int_equal(ozx_file_read(a, x, NULL, buf, 1000,
						       off),
					 (ssize_t)want);
			assert_memory_equal(
				buf, (const unsigned char *)e->data + off,
				want);
		}
		ozx_archive_free(a);
		if (atomic_load(&f.calls) < n)
			break; /* the fault was never reached: all done */
	}
	assert_true(opened_ok > 0);
	assert_true(eio > 0);
	assert_true(n > 5);
	free(buf);
	corpus_release(&c);
}

/* A single failing pread, at every possible point, verify on. */
static void test_io_fail_nth(void **state)
{
	(void)state;
	nth_pread_fails(false, true);
}

/* Every pread from the Nth on fails, verify on. */
static void test_io_fail_from_nth(void **state)
{
	(void)state;
	nth_pread_fails(true, true);
}

/* A single failing pread at every point, verify off. */
static void test_io_fail_nth_unverified(void **state)
{
	(void)state;
	nth_pread_fails(false, false);
}

/* An archive that shrinks under us: reads of the lost part fail with
 * -EIO and the entry says why; an open over too short an io fails. */
static void test_io_short(void **state)
{
	struct corpus c;
	struct ozx_mem mem;
	struct ozx_io inner, io;
	struct fx_faulty f;
	struct ozx_archive *a = (struct ozx_archive *)&a;
	unsigned char buf[100];
	uint32_t x;
	uint64_t off;

	(void)state;
	corpus_build(&c, 4, 5000);
	mem.p = c.z.p;
	mem.len = c.z.len;
	inner = ozx_io_mem(&mem);
	io = fx_io_faulty(&f, &inner);
	assert_int_equal(ozx_archive_open_io(&io, c.z.len, &a, NULL), 0);
	x = fx_node(a, c.names[2]);
	assert_true(c.e[2].len > 100);
	f.short_from = c.z.data_off[2] + 10;
	assert_int_equal(ozx_file_read(a, x, NULL, buf, 100, 0), -EIO);
	assert_int_equal(ozx_file_read(a, x, NULL, buf, 100, 0), -EIO);
	/* not the entry's fault: nothing recorded against it */
	assert_null(ozx_file_failure(a, x));
	/* entries before the cut still read */
	x = fx_node(a, c.names[1]);
	assert_int_equal(ozx_file_read(a, x, NULL, buf, 100, 0), 100);
	assert_memory_equal(buf, c.e[1].data, 100);
	assert_int_equal(ozx_file_data_offset(a, x, NULL, &off), 0);
	assert_int_equal(off, c.z.data_off[1]);
	/* the file grows back: the entry reads again */
	f.short_from = UINT64_MAX;
	x = fx_node(a, c.names[2]);
	assert_int_equal(ozx_file_read(a, x, NULL, buf, 100, 0), 100);
	assert_memory_equal(buf, c.e[2].data, 100);
	ozx_archive_free(a);

	/* an io that ends before the size given */
	io = fx_io_faulty(&f, &inner);
	f.short_from = c.z.len - 1;
	a = (struct ozx_archive *)&a;
	assert_int_equal(ozx_archive_open_io(&io, c.z.len, &a, NULL), -EIO);
	assert_null(a);
	corpus_release(&c);
}

/* The io given to ozx_file_read is the one used: a failing one fails the
 * read, a good one (another copy) serves it. */
static void test_read_through_given_io(void **state)
{
	unsigned char *want;
	struct fx_arc *fa = open_one(10000, SIZE_MAX, 0, &want);
	struct ozx_mem copy = { fa->buf, fa->len };
	struct ozx_io good = ozx_io_mem(&copy), bad;
	struct fx_faulty f;
	unsigned char buf[100];
	uint32_t x = fx_node(fa->a, "x"), y = fx_node(fa->a, "y");

	(void)state;
	assert_ptr_equal(ozx_archive_io(fa->a)->ctx, fa->io.ctx);
	bad = fx_io_faulty(&f, &good);
	f.fail_at = 1;
	f.sticky = true;
	assert_int_equal(ozx_file_read(fa->a, y, &bad, buf, 100, 0), -EIO);
	assert_true(atomic_load(&f.calls) > 0);
	assert_int_equal(ozx_file_read(fa->a, x, &good, buf, 100, 50), 100);
	assert_memory_equal(buf, want + 50, 100);
	fx_arc_free(fa);
	free(want);
}

/* ---- DEFLATE access points ------------------------------------------ */

/* n DEFLATE entries "e/NNN" of size bytes of text each (raw_blocks: as
 * stored blocks). */
static void corpus_build_big(struct corpus *c, size_t n, size_t size,
			     bool raw_blocks)
{
	size_t i;

	c->n = n;
	c->e = calloc(n, sizeof(*c->e));
	c->names = calloc(n, sizeof(*c->names));
	assert_non_null(c->e);
	assert_non_null(c->names);
	for (i = 0; i < n; i++) {
		snprintf(c->names[i], sizeof(c->names[i]), "e/%03u",
			 (unsigned)(i % 1000));
		c->e[i].name = c->names[i];
		c->e[i].len = size;
		c->e[i].method = 8;
		c->e[i].raw_blocks = raw_blocks;
		c->e[i].data = fx_text_bytes(size, 100 + i);
	}
	fx_zip_build(&c->z, c->e, n, NULL);
}

/* Read entry i of c at a random in-range offset; 0 if right. */
static int random_read(struct ozx_archive *a, const struct corpus *c, size_t i,
		       uint64_t *s, unsigned char *buf)
{
	const struct fx_ent *e = &c->e[i];
	uint64_t off = fx_rand_below(s, e->len);
	size_t len = 1 + (size_t)fx_rand_below(s, 70000);
	size_t want = e->len - off < len ? (size_t)(e->len - off) : len;
	ssize_t got =
		ozx_file_read(a, fx_node(a, c->names[i]), NULL, buf, len, off);

	if (got != (ssize_t)want) {
		print_error("%s: read(len %zu, off %llu) gave %zd, expected "
			    "%zu\n",
			    c->names[i], len, (unsigned long long)off, got,
			    want);
		return -1;
	}
	return memcmp(buf, (const unsigned char *)e->data + off, want) ? -1 : 0;
}

/* Large DEFLATE entries read at random offsets through access points:
 * one index built per entry on its first read, found by every later
 * read. */
static void test_deflate_index_random_access(void **state)
{
	struct corpus c;
	struct fx_arc *fa;
	struct ozx_zstats zs;
	unsigned char *buf = malloc(70000);
	uint64_t s = 5;
	unsigned k;

	(void)state;
	assert_non_null(buf);
	corpus_build_big(&c, 2, 3u << 20, false);
	fa = fx_arc_open_copy(c.z.p, c.z.len);
	assert_int_equal(fa->ret, 0);
	ozx_archive_set_verify(fa->a, false);
	for (k = 0; k < 60; k++)
		assert_int_equal(random_read(fa->a, &c, k % 2, &s, buf), 0);
	/* the very ends */
	fx_check_reads(fa->a, fx_node(fa->a, c.names[0]), c.e[0].data,
		       c.e[0].len, 10, 3);
	ozx_archive_zstats(fa->a, &zs);
	assert_int_equal(zs.cap, OZX_INFLATE_CACHE_DEFAULT);
	assert_int_equal(zs.builds, 2);
	assert_int_equal(zs.evictions, 0);
	assert_true(zs.hits >= 58);
	assert_true(zs.used > 0 && zs.used <= zs.cap);
	fx_arc_free(fa);

	/* verify on: the verifying pass may build the index itself */
	fa = fx_arc_open_copy(c.z.p, c.z.len);
	assert_int_equal(fa->ret, 0);
	for (k = 0; k < 20; k++)
		assert_int_equal(random_read(fa->a, &c, k % 2, &s, buf), 0);
	ozx_archive_zstats(fa->a, &zs);
	assert_true(zs.builds <= 2);
	assert_true(zs.used > 0 && zs.used <= zs.cap);
	fx_arc_free(fa);
	corpus_release(&c);
	free(buf);
}

/* A cache too small for all the indices evicts the least recently used
 * ones and rebuilds them when needed; reads stay right, also from 8
 * threads at once. */
static void test_deflate_index_evictions(void **state)
{
	struct corpus c;
	struct fx_arc *fa;
	struct ozx_zstats zs;
	unsigned char *buf = malloc(70000);
	uint64_t s = 9;
	unsigned k;
	int v;

	(void)state;
	assert_non_null(buf);
	corpus_build_big(&c, 10, 3u << 19, false); /* 1.5 MiB each */
	for (v = 0; v < 2; v++) {
		fa = fx_arc_open_copy(c.z.p, c.z.len);
		assert_int_equal(fa->ret, 0);
		ozx_archive_set_verify(fa->a, v);
		ozx_archive_set_inflate_cache(fa->a, 256u << 10);
		for (k = 0; k < 20; k++)
			assert_int_equal(
				random_read(fa->a, &c, k % 10, &s, buf), 0);
		ozx_archive_zstats(fa->a, &zs);
		assert_int_equal(zs.cap, 256u << 10);
		assert_true(zs.used <= zs.cap);
		if (!v) {
			/* 10 indices of at least 32 KiB do not fit */
			assert_true(zs.evictions > 0);
			assert_true(zs.builds > 10);
		}
		run_workers(fa->a, &c, v ? 6 : 12, v);
		ozx_archive_zstats(fa->a, &zs);
		assert_true(zs.used <= zs.cap);
		fx_arc_free(fa);
	}
	corpus_release(&c);
	free(buf);
}

/* No cache at all: every read decodes from the stream's start, and is
 * still right. */
static void test_deflate_index_no_cache(void **state)
{
	struct corpus c;
	struct fx_arc *fa;
	struct ozx_zstats zs;
	unsigned char *buf = malloc(70000);
	uint64_t s = 11;
	unsigned k;

	(void)state;
	assert_non_null(buf);
	corpus_build_big(&c, 2, 3u << 19, false);
	fa = fx_arc_open_copy(c.z.p, c.z.len);
	assert_int_equal(fa->ret, 0);
	ozx_archive_set_verify(fa->a, false);
	ozx_archive_set_inflate_cache(fa->a, 0);
	for (k = 0; k < 10; k++)
		assert_int_equal(random_read(fa->a, &c, k % 2, &s, buf), 0);
	ozx_archive_zstats(fa->a, &zs);
	assert_int_equal(zs.used, 0);
	fx_arc_free(fa);
	corpus_release(&c);
	free(buf);
}

/* Offset in a raw DEFLATE stream of stored blocks of the first block
 * header at or after from. */
static size_t stored_block_at(const unsigned char *p, size_t len, size_t from)
{
	size_t pos = 0;

	while (pos + 5 <= len) {
		size_t blen = fx_peek16(p + pos + 1);

		assert_true(p[pos] <= 1); /* BTYPE 00, byte-aligned */
		assert_int_equal(blen ^ 0xffff, fx_peek16(p + pos + 3));
		if (pos >= from)
			return pos;
		pos += 5 + blen;
	}
	fail();
	return 0;
}

/* Bits into a raw DEFLATE stream, least significant first. */
struct bitw {
	unsigned char *p;
	size_t nbits;
};

static void put_bits(struct bitw *w, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, w->nbits++)
		if (v >> i & 1)
			w->p[w->nbits / 8] |=
				(unsigned char)(1u << (w->nbits % 8));
}

/* A Huffman code: most significant bit first. */
static void put_code(struct bitw *w, uint32_t code, unsigned n)
{
	while (n--)
		put_bits(w, code >> n & 1, 1);
}

/*
 * One fixed-Huffman block, the only one, of 1 + 258 * k zero bytes: a
 * literal 0, then k matches of length 258 at distance 1.  DEFLATE allows
 * it; zlib's deflate never writes blocks near this long.
 */
static unsigned char *one_block_zeros(size_t k, size_t *len)
{
	struct bitw w = { calloc(1, (3 + 8 + 13 * k + 7) / 8 + 1), 0 };

	assert_non_null(w.p);
	put_bits(&w, 1, 1);    /* BFINAL */
	put_bits(&w, 1, 2);    /* BTYPE 01: fixed codes */
	put_code(&w, 0x30, 8); /* literal 0 */
	for (size_t i = 0; i < k; i++) {
		put_code(&w, 0xc5, 8); /* length 258: symbol 285 */
		put_code(&w, 0, 5);    /* distance 1: code 0 */
	}
	put_code(&w, 0, 7); /* end of block: symbol 256 */
	*len = (w.nbits + 7) / 8;
	return w.p;
}

/*
 * A DEFLATE entry that is one block of 33 MB: the index takes points
 * inside the block (copies of the inflate state), so a read anywhere
 * decodes about two spans (1 MiB each here), not everything before it.
 */
static void test_deflate_one_huge_block(void **state)
{
	const size_t k = 130000, size = 1 + 258 * k, len = 65536;
	const size_t bound = 2 * (1u << 20) + 2 * (128u << 10) + len;
	size_t plen;
	unsigned char *zeros = calloc(1, size), *packed, *buf = malloc(len);
	struct fx_ent e = { .name = "z", .len = size, .method = 8 };
	static const double where[] = { 0.99, 0.5, 0.01, 0.75, 0.999 };
	struct ozx_zstats zs;
	struct fx_zip z;
	struct fx_arc *fa;
	uint32_t x;

	(void)state;
	assert_non_null(zeros);
	assert_non_null(buf);
	packed = one_block_zeros(k, &plen);
	e.data = zeros;
	e.packed = packed;
	e.packed_len = plen;
	fx_zip_build(&z, &e, 1, NULL);
	fa = fx_arc_open(z.p, z.len);
	z.p = NULL;
	fx_zip_release(&z);
	assert_int_equal(fa->ret, 0);
	x = fx_node(fa->a, "z");
	/* the first read verifies the entry and builds its index */
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, len, 0),
			 (ssize_t)len);
	assert_memory_equal(buf, zeros, len);
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		uint64_t off = (uint64_t)(where[i] * (double)(size - len)), d;

		ozx_archive_zstats(fa->a, &zs);
		d = zs.decoded;
		memset(buf, 0xaa, len);
		assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, len, off),
				 (ssize_t)len);
		assert_memory_equal(buf, zeros, len);
		ozx_archive_zstats(fa->a, &zs);
		if (zs.decoded - d > bound)
			print_error("read at %llu decoded %llu bytes, bound "
				    "%zu\n",
				    (unsigned long long)off,
				    (unsigned long long)(zs.decoded - d),
				    bound);
		assert_true(zs.decoded - d <= bound);
	}
	assert_int_equal(zs.builds, 0); /* verify built it, no read did */
	fx_arc_free(fa);
	free(packed);
	free(zeros);
	free(buf);
}

/* A DEFLATE entry corrupt late in its stream: with verify off, reads of
 * the part before the damage may be served, reads past it fail, and the
 * entry ends up failed with the reason. */
static void test_deflate_corrupt_late_unverified(void **state)
{
	struct corpus c;
	struct fx_arc *fa;
	unsigned char *buf = malloc(70000);
	uint32_t x;
	size_t at;
	ssize_t got;

	(void)state;
	assert_non_null(buf);
	corpus_build_big(&c, 1, 3u << 20, true);
	at = stored_block_at(c.z.p + c.z.data_off[0], c.z.csize[0],
			     c.z.csize[0] - 200000);
	/* LEN no longer matches NLEN: "invalid stored block lengths" */
	c.z.p[c.z.data_off[0] + at + 3] ^= 0x01;
	fa = fx_arc_open_copy(c.z.p, c.z.len);
	assert_int_equal(fa->ret, 0);
	ozx_archive_set_verify(fa->a, false);
	x = fx_node(fa->a, c.names[0]);
	got = ozx_file_read(fa->a, x, NULL, buf, 1000, 0);
	if (got >= 0) {
		assert_int_equal(got, 1000);
		assert_memory_equal(buf, c.e[0].data, 1000);
	} else {
		assert_int_equal(got, -EIO);
	}
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 1000,
				       c.e[0].len - 1000),
			 -EIO);
	assert_string_equal(ozx_file_failure(fa->a, x),
			    "DEFLATE stream corrupt");
	assert_int_equal(ozx_file_read(fa->a, x, NULL, buf, 1000, 0), -EIO);
	fx_arc_free(fa);
	corpus_release(&c);
	free(buf);
}

/* ---- the archive changing under the handle (issue 14) ------------ */

/*
 * Memory whose stamp is a counter, so a test says when "the file" changed:
 * poke() flips a byte and moves the stamp, touch() moves the stamp only.
 * At the change_at-th pread (1-based; 0 never), before reading, the
 * byte at poke_at is flipped (unless SIZE_MAX) and the stamp moved: a
 * writer in the middle of a verification.
 */
struct changing {
	unsigned char *p;
	size_t len;
	atomic_uint reads;
	_Atomic int64_t mtime;
	unsigned change_at;
	size_t poke_at;
};

static ssize_t changing_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct changing *c = ctx;
	unsigned k = atomic_fetch_add(&c->reads, 1) + 1;

	if (k == c->change_at) {
		if (c->poke_at != SIZE_MAX)
			c->p[c->poke_at] ^= 0xff;
		atomic_fetch_add(&c->mtime, 1);
	}
	if (off >= c->len)
		return 0;
	if (len > c->len - off)
		len = (size_t)(c->len - off);
	memcpy(buf, c->p + off, len);
	return (ssize_t)len;
}

static int changing_stamp(void *ctx, struct ozx_stamp *st)
{
	struct changing *c = ctx;

	st->dev = 1;
	st->ino = 2;
	st->size = c->len;
	st->mtime_ns = atomic_load(&c->mtime);
	return 0;
}

static void poke(struct changing *c, size_t at)
{
	c->p[at] ^= 0xff;
	atomic_fetch_add(&c->mtime, 1);
}

static void touch(struct changing *c)
{
	atomic_fetch_add(&c->mtime, 1);
}

static void count_change(void *ctx)
{
	atomic_fetch_add((atomic_uint *)ctx, 1);
}

/* "s" STORED random (600 KB: three CRC chunks), "d" DEFLATE text (3 MiB:
 * an inflate index), "t" STORED small; opened through a changing io. */
struct chfx {
	struct fx_ent e[3];
	struct fx_zip z;
	struct changing c;
	struct ozx_io io;
	struct ozx_archive *a;
	atomic_uint changes;
	uint32_t s, d, t;
};

static struct chfx *chfx_open(void)
{
	struct chfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->e[0] = (struct fx_ent){ .name = "s", .len = 600000 };
	f->e[0].data = fx_random_bytes(f->e[0].len, 41);
	f->e[1] = (struct fx_ent){ .name = "d", .len = 3u << 20, .method = 8 };
	f->e[1].data = fx_text_bytes(f->e[1].len, 42);
	f->e[2] = (struct fx_ent){ .name = "t", .len = 3000 };
	f->e[2].data = fx_random_bytes(f->e[2].len, 43);
	fx_zip_build(&f->z, f->e, 3, NULL);
	f->c.p = f->z.p;
	f->c.len = f->z.len;
	f->c.poke_at = SIZE_MAX;
	f->io = (struct ozx_io){ changing_pread, &f->c, changing_stamp };
	assert_int_equal(ozx_archive_open_io(&f->io, f->z.len, &f->a, NULL), 0);
	ozx_archive_set_change_cb(f->a, count_change, &f->changes);
	f->s = fx_node(f->a, "s");
	f->d = fx_node(f->a, "d");
	f->t = fx_node(f->a, "t");
	return f;
}

static void chfx_free(struct chfx *f)
{
	ozx_archive_free(f->a);
	for (int i = 0; i < 3; i++)
		free((void *)f->e[i].data);
	fx_zip_release(&f->z);
	free(f);
}

/* Read len bytes at off of entry i; assert they are right. */
static void read_ok(struct chfx *f, int i, uint32_t node, size_t len,
		    uint64_t off)
{
	unsigned char *buf = malloc(len);

	assert_non_null(buf);
	assert_int_equal(ozx_file_read(f->a, node, NULL, buf, len, off),
			 (ssize_t)len);
	assert_memory_equal(buf, (const unsigned char *)f->e[i].data + off,
			    len);
	free(buf);
}

static ssize_t read_some(struct chfx *f, uint32_t node, uint64_t off)
{
	unsigned char buf[4096];

	return ozx_file_read(f->a, node, NULL, buf, sizeof(buf), off);
}

static enum ozx_crc_state crc_state(struct chfx *f, uint32_t node)
{
	struct ozx_stat st;

	assert_int_equal(ozx_node_stat(f->a, node, &st), 0);
	return st.crc_state;
}

/* Issue 14: bytes changed in place after verification were served as
 * correct.  Now the read after the change sees the new stamp, verifies
 * again, and the CRC decides: EIO for the changed entries (STORED and
 * DEFLATE, at an offset the changed byte is nowhere near), the right
 * bytes for the untouched one. */
static void test_change_after_verify(void **state)
{
	struct chfx *f = chfx_open();

	(void)state;
	read_ok(f, 0, f->s, 4096, 0);
	read_ok(f, 1, f->d, 4096, (3u << 20) - 8192);
	read_ok(f, 2, f->t, 3000, 0);
	assert_int_equal(crc_state(f, f->s), OZX_CRC_VERIFIED);
	assert_int_equal(crc_state(f, f->d), OZX_CRC_VERIFIED);

	poke(&f->c, f->z.data_off[0] + 500000);
	assert_int_equal(read_some(f, f->s, 0), -EIO);
	assert_string_equal(ozx_file_failure(f->a, f->s), "CRC-32 mismatch");
	assert_int_equal(atomic_load(&f->changes), 1);
	/* d was not changed: verified again on its next read */
	assert_int_equal(crc_state(f, f->d), OZX_CRC_UNVERIFIED);
	read_ok(f, 1, f->d, 4096, (3u << 20) - 8192);
	assert_int_equal(crc_state(f, f->d), OZX_CRC_VERIFIED);
	read_ok(f, 2, f->t, 3000, 0);

	poke(&f->c, f->z.data_off[1] + 100);
	assert_int_equal(read_some(f, f->d, (3u << 20) - 8192), -EIO);
	assert_int_equal(crc_state(f, f->d), OZX_CRC_FAILED);
	assert_int_equal(read_some(f, f->s, 0), -EIO);
	read_ok(f, 2, f->t, 3000, 0);
	assert_int_equal(atomic_load(&f->changes), 2);
	chfx_free(f);
}

/* Issue 14 item 4: a change of the stamp alone (touch) costs a second
 * verification and nothing else; the DEFLATE index built before it is
 * not used after it (built again). */
static void test_change_touch_only(void **state)
{
	struct chfx *f = chfx_open();
	struct ozx_zstats z0, z1;
	unsigned r0;

	(void)state;
	read_ok(f, 0, f->s, 4096, 4096);
	read_ok(f, 1, f->d, 4096, (3u << 20) - 8192);
	ozx_archive_zstats(f->a, &z0);
	touch(&f->c);
	r0 = atomic_load(&f->c.reads);
	read_ok(f, 0, f->s, 4096, 4096);
	/* the whole entry again (three chunks), then the read */
	assert_true(atomic_load(&f->c.reads) - r0 >= 4);
	read_ok(f, 1, f->d, 4096, (3u << 20) - 8192);
	read_ok(f, 2, f->t, 3000, 0);
	ozx_archive_zstats(f->a, &z1);
	assert_int_equal(z1.used, z0.used);
	assert_int_equal(crc_state(f, f->s), OZX_CRC_VERIFIED);
	assert_int_equal(crc_state(f, f->d), OZX_CRC_VERIFIED);
	assert_int_equal(atomic_load(&f->changes), 1);
	chfx_free(f);
}

/* A verification that began before a change must not mark the entry
 * VERIFIED: the writer flips a byte of the first chunk as the pass reads
 * its second, so the pass's own CRC matches; the stamp after it
 * sends it round again, and the second pass fails. */
static void test_change_during_verify(void **state)
{
	struct chfx *f = chfx_open();
	unsigned r0;

	(void)state;
	r0 = atomic_load(&f->c.reads);
	f->c.poke_at = f->z.data_off[0] + 1000;
	f->c.change_at = r0 + 3;
	assert_int_equal(read_some(f, f->s, 0), -EIO);
	assert_int_equal(crc_state(f, f->s), OZX_CRC_FAILED);
	assert_int_equal(atomic_load(&f->changes), 1);

	/* The stamp alone moving in a pass: a second pass, then served. */
	r0 = atomic_load(&f->c.reads);
	f->c.poke_at = SIZE_MAX;
	f->c.change_at = r0 + 2;
	assert_int_equal(ozx_file_verify(f->a, f->d, NULL), 0);
	assert_int_equal(crc_state(f, f->d), OZX_CRC_VERIFIED);
	assert_int_equal(atomic_load(&f->changes), 2);
	read_ok(f, 1, f->d, 4096, 1u << 20);
	chfx_free(f);
}

/* ozx_archive_check notices a change without a read (the xattr
 * user.ozx.verified asks it), once. */
static void test_change_check(void **state)
{
	struct chfx *f = chfx_open();

	(void)state;
	assert_int_equal(ozx_archive_check(f->a), 0);
	read_ok(f, 2, f->t, 3000, 0);
	assert_int_equal(crc_state(f, f->t), OZX_CRC_VERIFIED);
	touch(&f->c);
	assert_int_equal(ozx_archive_check(f->a), 1);
	assert_int_equal(ozx_archive_check(f->a), 0);
	assert_int_equal(crc_state(f, f->t), OZX_CRC_UNVERIFIED);
	assert_int_equal(atomic_load(&f->changes), 1);
	read_ok(f, 2, f->t, 3000, 0);
	chfx_free(f);
}

/* An access-point index built before a change is not used after it: with
 * verify off (so that only the read builds indices), a change noticed by
 * ozx_archive_check makes the next read build the index again. */
static void test_change_index_stale(void **state)
{
	struct chfx *f = chfx_open();
	struct ozx_zstats z0, z1;

	(void)state;
	ozx_archive_set_verify(f->a, false);
	read_ok(f, 1, f->d, 4096, (3u << 20) - 8192);
	read_ok(f, 1, f->d, 4096, 1u << 20);
	ozx_archive_zstats(f->a, &z0);
	assert_int_equal(z0.builds, 1);
	touch(&f->c);
	assert_int_equal(ozx_archive_check(f->a), 1);
	read_ok(f, 1, f->d, 4096, (3u << 20) - 8192);
	ozx_archive_zstats(f->a, &z1);
	assert_int_equal(z1.builds, 2);
	assert_int_equal(z1.used, z0.used);
	chfx_free(f);
}

struct toucher {
	struct chfx *f;
	int i;
	uint32_t node;
	atomic_bool *stop;
	atomic_uint reads;
	_Atomic ssize_t bad; /* the first wrong result: -errno, 1 wrong bytes */
};

/* cmocka's asserts may not run outside the main thread: count. */
static void *touch_reader(void *arg)
{
	struct toucher *t = arg;
	const unsigned char *want = t->f->e[t->i].data;
	size_t len = t->f->e[t->i].len;
	unsigned char buf[2048];

	for (unsigned k = 0; !atomic_load(t->stop) && !t->bad; k++) {
		uint64_t off = (k * 7919u) % (len - sizeof(buf));
		ssize_t n = ozx_file_read(t->f->a, t->node, NULL, buf,
					  sizeof(buf), off);

		if (n != (ssize_t)sizeof(buf))
			atomic_store(&t->bad, n < 0 ? n : -1000);
		else if (memcmp(buf, want + off, sizeof(buf)))
			atomic_store(&t->bad, 1);
		atomic_fetch_add(&t->reads, 1);
	}
	return NULL;
}

/* Whether reader t reaches want reads (or fails) within 10 s. */
static bool reads_past(struct toucher *t, unsigned want)
{
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 10;
	while (atomic_load(&t->reads) < want && !atomic_load(&t->bad)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return false;
		sched_yield();
	}
	return true;
}

/* Readers of every entry while the stamp keeps moving, each making
 * progress between two moves (a file touched faster than an entry can
 * be verified gives EIO, by design): every read returns the right bytes,
 * none fails. */
static void test_change_touch_concurrent(void **state)
{
	struct chfx *f = chfx_open();
	atomic_bool stop = false;
	struct toucher t[NTHREADS];
	pthread_t th[NTHREADS];

	(void)state;
	for (int i = 0; i < NTHREADS; i++) {
		t[i] = (struct toucher){ f, i % 3, 0, &stop, 0, 0 };
		t[i].node = i % 3 == 0 ? f->s : i % 3 == 1 ? f->d : f->t;
		assert_int_equal(
			pthread_create(&th[i], NULL, touch_reader, &t[i]), 0);
	}
	for (int k = 0; k < 10; k++) {
		unsigned seen[NTHREADS];

		for (int i = 0; i < NTHREADS; i++)
			seen[i] = atomic_load(&t[i].reads);
		touch(&f->c);
		/* every reader finishes a read begun after the touch */
		for (int i = 0; i < NTHREADS; i++)
			assert_true(reads_past(&t[i], seen[i] + 2));
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(atomic_load(&t[i].bad), 0);
	}
	assert_true(atomic_load(&f->changes) >= 1);
	chfx_free(f);
}

/* ---- archives opened by path ---------------------------------------- */

static char *write_temp(const void *p, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(4096);
	int fd;

	assert_non_null(path);
	snprintf(path, 4096, "%s/ozx-unit-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

/* An archive opened by path reads through its descriptor, and reports
 * open errors as errno values. */
static void test_open_path(void **state)
{
	struct corpus c;
	struct ozx_archive *a = (struct ozx_archive *)&a;
	struct ozx_diag d = { 0 };
	char *path;
	size_t i;

	(void)state;
	corpus_build(&c, 6, 30000);
	path = write_temp(c.z.p, c.z.len);
	assert_int_equal(ozx_archive_open(path, &a, &d), 0);
	assert_int_equal(ozx_archive_info(a)->size, c.z.len);
	for (i = 0; i < c.n; i++)
		fx_check_reads(a, fx_node(a, c.names[i]), c.e[i].data,
			       c.e[i].len, 10, i);
	ozx_archive_free(a);
	assert_int_equal(unlink(path), 0);
	a = (struct ozx_archive *)&a;
	assert_int_equal(ozx_archive_open(path, &a, &d), -ENOENT);
	assert_null(a);
	a = (struct ozx_archive *)&a;
	assert_int_equal(ozx_archive_open("/", &a, &d), -EISDIR);
	assert_null(a);
	/* not a regular file */
	a = (struct ozx_archive *)&a;
	d.what = NULL;
	assert_int_equal(ozx_archive_open("/dev/null", &a, &d), -EINVAL);
	assert_null(a);
	assert_non_null(d.what);
	/* an empty file */
	free(path);
	path = write_temp("", 0);
	a = (struct ozx_archive *)&a;
	assert_int_equal(ozx_archive_open(path, &a, &d), -EINVAL);
	assert_null(a);
	assert_string_equal(
		d.what,
		"not a ZIP archive: no end of central directory record");
	assert_int_equal(unlink(path), 0);
	free(path);
	corpus_release(&c);
}

/* Read entry i of c through descriptor fd (as the daemon's per-open
 * descriptors do). */
static void read_via_fd(struct ozx_archive *a, const struct corpus *c, size_t i,
			int fd)
{
	struct ozx_io io = ozx_io_fd(fd);
	unsigned char *buf = malloc(c->e[i].len + 1);

	assert_non_null(buf);
	assert_int_equal(ozx_file_read(a, fx_node(a, c->names[i]), &io, buf,
				       c->e[i].len + 1, 0),
			 (ssize_t)c->e[i].len);
	assert_memory_equal(buf, c->e[i].data, c->e[i].len);
	free(buf);
}

/* ozx_archive_reopen gives a working descriptor of the same file, and
 * still after the file has changed (appended to, issue 14): reads of
 * entries whose bytes are unchanged go on, verified again. */
static void test_reopen(void **state)
{
	struct corpus c;
	struct ozx_archive *a;
	char *path;
	int fd, fd2, wfd;

	(void)state;
	corpus_build(&c, 4, 20000);
	path = write_temp(c.z.p, c.z.len);
	assert_int_equal(ozx_archive_open(path, &a, NULL), 0);
	fd = ozx_archive_reopen(a);
	assert_true(fd >= 0);
	fd2 = ozx_archive_reopen(a);
	assert_true(fd2 >= 0);
	assert_int_not_equal(fd, fd2);
	/* its own file description: moving one offset leaves the other */
	assert_int_equal(lseek(fd, 100, SEEK_SET), 100);
	assert_int_equal(lseek(fd2, 0, SEEK_CUR), 0);
	read_via_fd(a, &c, 1, fd);
	read_via_fd(a, &c, 3, fd2);
	assert_int_equal(close(fd2), 0);

	wfd = open(path, O_WRONLY | O_APPEND);
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, "!", 1), 1);
	assert_int_equal(close(wfd), 0);
	fd2 = ozx_archive_reopen(a);
	assert_true(fd2 >= 0);
	read_via_fd(a, &c, 1, fd);
	read_via_fd(a, &c, 3, fd2);
	assert_int_equal(close(fd), 0);
	assert_int_equal(close(fd2), 0);
	ozx_archive_free(a);
	assert_int_equal(unlink(path), 0);
	free(path);
	corpus_release(&c);
}

/* A byte of an entry rewritten in place, even with the mtime set back to
 * an older time: reads of that entry through a descriptor reopened before
 * the change fail, other entries read on. */
static void test_reopen_same_size_change(void **state)
{
	struct corpus c;
	struct ozx_archive *a;
	struct timespec ts[2] = { { 978307200, 0 }, { 978307200, 0 } };
	unsigned char buf[64];
	uint32_t node;
	char *path;
	int fd, wfd;

	(void)state;
	corpus_build(&c, 4, 1000);
	assert_true(c.e[1].len > 2 && c.e[3].len > 0);
	path = write_temp(c.z.p, c.z.len);
	assert_int_equal(ozx_archive_open(path, &a, NULL), 0);
	fd = ozx_archive_reopen(a);
	assert_true(fd >= 0);
	read_via_fd(a, &c, 1, fd);
	wfd = open(path, O_WRONLY);
	assert_true(wfd >= 0);
	buf[0] = (unsigned char)~c.z.p[c.z.data_off[1] + 1];
	assert_int_equal(pwrite(wfd, buf, 1, (off_t)c.z.data_off[1] + 1), 1);
	assert_int_equal(futimens(wfd, ts), 0);
	assert_int_equal(close(wfd), 0);
	node = fx_node(a, c.names[1]);
	struct ozx_io io = ozx_io_fd(fd);
	assert_int_equal(ozx_file_read(a, node, &io, buf, sizeof(buf), 0),
			 -EIO);
	assert_non_null(ozx_file_failure(a, node));
	read_via_fd(a, &c, 3, fd);
	assert_int_equal(close(fd), 0);
	ozx_archive_free(a);
	assert_int_equal(unlink(path), 0);
	free(path);
	corpus_release(&c);
}

/* Replaced by rename: reopen serves the original file (the inode the
 * handle holds) or, without /proc, refuses; never the new file. */
static void test_reopen_after_replace(void **state)
{
	struct corpus c, other;
	struct ozx_archive *a;
	char *path, *path2;
	int fd;

	(void)state;
	corpus_build(&c, 4, 20000);
	corpus_build(&other, 5, 30000);
	path = write_temp(c.z.p, c.z.len);
	path2 = write_temp(other.z.p, other.z.len);
	assert_int_equal(ozx_archive_open(path, &a, NULL), 0);
	assert_int_equal(rename(path2, path), 0);
	fd = ozx_archive_reopen(a);
	if (fd != -ESTALE) {
		struct stat st;

		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, c.z.len);
		read_via_fd(a, &c, 2, fd);
		close(fd);
	}
	ozx_archive_free(a);
	assert_int_equal(unlink(path), 0);
	free(path);
	free(path2);
	corpus_release(&other);
	corpus_release(&c);
}

/* An archive opened from an io has no file to reopen. */
static void test_reopen_mem_archive(void **state)
{
	struct fx_arc *fa = open_one(100, SIZE_MAX, 0, NULL);

	(void)state;
	assert_int_equal(ozx_archive_reopen(fa->a), -EBADF);
	fx_arc_free(fa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_reads),
		cmocka_unit_test(test_read_whole),
		cmocka_unit_test(test_concurrent_reads_unverified),
		cmocka_unit_test(test_verify_first_read_any_offset),
		cmocka_unit_test(test_verify_first_read_deflate),
		cmocka_unit_test(test_fail_cb_once_concurrent),
		cmocka_unit_test(test_verify_off_serves_bytes),
		cmocka_unit_test(test_file_verify),
		cmocka_unit_test(test_crc_state_transitions),
		cmocka_unit_test(test_cpu_limit_and_cancel),
		cmocka_unit_test(test_first_read_whole_at_offset),
		cmocka_unit_test(test_crc_state_verifying),
		cmocka_unit_test(test_read_at_one_pread),
		cmocka_unit_test(test_verify_through_scratch),
		cmocka_unit_test(test_deflate_one_huge_block),
		cmocka_unit_test(test_io_fail_nth),
		cmocka_unit_test(test_io_fail_from_nth),
		cmocka_unit_test(test_io_fail_nth_unverified),
		cmocka_unit_test(test_io_short),
		cmocka_unit_test(test_read_through_given_io),
		cmocka_unit_test(test_deflate_index_random_access),
		cmocka_unit_test(test_deflate_index_evictions),
		cmocka_unit_test(test_deflate_index_no_cache),
		cmocka_unit_test(test_deflate_corrupt_late_unverified),
		cmocka_unit_test(test_change_after_verify),
		cmocka_unit_test(test_change_touch_only),
		cmocka_unit_test(test_change_during_verify),
		cmocka_unit_test(test_change_check),
		cmocka_unit_test(test_change_index_stale),
		cmocka_unit_test(test_change_touch_concurrent),
		cmocka_unit_test(test_open_path),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_reopen_same_size_change),
		cmocka_unit_test(test_reopen_after_replace),
		cmocka_unit_test(test_reopen_mem_archive),
	};

	/* OZX_TEST_FILTER=test_x runs just the matching tests */
	if (getenv("OZX_TEST_FILTER"))
		cmocka_set_test_filter(getenv("OZX_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
