/*
 * randread.c - random reads of a few large files on an ozxfs mount, from
 * threads and forked processes at once; every byte is compared with the
 * source tree, and the whole run is timed.  Used by tests/mount/deflate.sh
 * (random access into DEFLATE entries) and by scripts/bench-deflate.
 *
 *   randread [-p PROCS] [-t THREADS] [-n READS] [-s SEED] [-L LEN] [-D PCT]
 *            [-e] LIST SRCDIR MNTDIR
 *   randread -S CHUNK [-D 0|100] LIST SRCDIR MNTDIR   (sequential)
 *   randread -F LIST SRCDIR MNTDIR                   (first read)
 *
 * LIST holds one "SIZE PATH" line per file (PATH relative to both SRCDIR
 * and MNTDIR).  The source files are mapped before any worker starts, and
 * every file on the mount is opened once by the parent: workers inherit
 * those descriptors (fork) or share them (threads).
 *
 * Random mode: PROCS forked children (0, the default: none, the threads
 * run in this process) of THREADS threads each (default 1) all start at
 * once; each worker makes READS reads (default 100) of uniformly chosen
 * files.  A read goes through a descriptor of the worker's own opened with
 * O_DIRECT (PCT percent of reads, default 50: every such read reaches the
 * daemon at its exact offset and length, whatever the page cache holds),
 * through a buffered descriptor of its own, or through the parent's shared
 * one, always with pread(2) looping on short counts.  Without -L, offsets
 * and lengths are mixed: a quarter in the last 8 KiB of the file, some
 * ending exactly at its end, some past it (0 bytes wanted), the rest
 * uniform; lengths up to 4 KiB, 256 KiB or 1.5 MiB (larger than one FUSE
 * request and than one access-point span).  With -L LEN every read is LEN
 * bytes at a uniform offset in [0, SIZE - LEN] (a benchmark).
 * -e first reads fixed ranges of every file in the parent: the first and
 * last bytes, ranges ending at, crossing and starting past the end.
 *
 * -S CHUNK reads every file from start to end in CHUNK-byte preads with
 * one reader: O_DIRECT with -D 100, else buffered after dropping the
 * file's pages from the page cache (posix_fadvise DONTNEED).
 * -F times one 1-byte read at offset 0 of each file (O_DIRECT): the first
 * read of an entry, which verifies it and builds its index.
 *
 * The clock starts once every worker stands at the start line (fork and
 * thread creation are not timed) and stops when the last one finishes.
 * All randomness comes from SEED (default 1) and the worker's index.
 * Prints "reads=N errors=M bytes=B seconds=T reads/s=R MB/s=X" (N verified
 * reads, M failures of any kind) and exits 1 if M > 0 or fewer than the
 * intended reads were verified, 2 on a usage or set-up error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_DIRECT */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPORTS 10 /* error messages printed per worker */
#define ALIGN 4096
#define TAIL (8u << 10)
#define LEN_SMALL (4u << 10)
#define LEN_MID (256u << 10)
#define LEN_BIG (1536u << 10)

struct file {
	char *path;
	uint64_t size;
	const unsigned char *src; /* the source file, mapped */
	int shared_fd;		  /* opened by the parent, buffered */
};

struct stats {
	uint64_t reads;	 /* verified reads */
	uint64_t errors; /* failed reads */
	uint64_t bytes;	 /* bytes compared */
	double end;	 /* when the worker finished (CLOCK_MONOTONIC) */
};

/* Start line, in shared memory: every worker (thread or child) is ready
 * before the clock starts, so fork and thread creation are not timed. */
struct start {
	atomic_int ready;
	atomic_int go;
};

struct worker {
	int index;
	uint64_t rng;
	struct stats *st;
	unsigned char *buf;
	size_t bufsize;
	int *fd_direct, *fd_buf; /* per file, -1 until opened */
};

static struct file *files;
static size_t nfiles;
static int mntdir_fd = -1;
static long nreads = 100;
static long fixed_len;		   /* -L: 0 for mixed lengths */
static int direct_pct = 50;	   /* -D */
static atomic_bool direct_refused; /* the mount refused O_DIRECT (EINVAL) */
static struct start *start_line;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("randread: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t rnd(struct worker *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(struct worker *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	w->st->errors++;
	if (w->st->errors > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "randread: worker %d: ", w->index);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static size_t first_diff(const unsigned char *a, const unsigned char *b,
			 size_t n)
{
	size_t k = 0;

	while (k < n && a[k] == b[k])
		k++;
	return k;
}

static int open_mnt(size_t i, bool direct)
{
	int fd = -1;

	if (direct && !direct_refused) {
		fd = openat(mntdir_fd, files[i].path,
			    O_RDONLY | O_CLOEXEC | O_DIRECT);
		if (fd < 0 && errno == EINVAL)
			direct_refused = true;
		else if (fd < 0)
			return -1;
	}
	if (fd < 0)
		fd = openat(mntdir_fd, files[i].path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/* The worker's own descriptor of file i (direct or buffered). */
static int own_fd(struct worker *w, size_t i, bool direct)
{
	int *slot = direct ? &w->fd_direct[i] : &w->fd_buf[i];

	if (*slot < 0) {
		*slot = open_mnt(i, direct);
		if (*slot < 0)
			report(w, "open '%s'%s: %s", files[i].path,
			       direct ? " O_DIRECT" : "", strerror(errno));
	}
	return *slot;
}

/*
 * Read [off, off + len) of file i through fd with pread, looping on short
 * counts, and check the count (what is left of the file from off, at most
 * len) and every byte.  Returns true when right.
 */
static bool check_range(struct worker *w, size_t i, int fd, uint64_t off,
			size_t len, const char *how)
{
	uint64_t size = files[i].size;
	size_t want = off >= size      ? 0 :
		      size - off < len ? (size_t)(size - off) :
					 len;
	size_t got = 0;

	if (len > w->bufsize)
		die("range of %zu bytes is larger than the buffer", len);
	while (got < len) {
		ssize_t n =
			pread(fd, w->buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report(w,
			       "pread (%s) '%s' [%" PRIu64 ", +%zu) at %" PRIu64
			       ": %s",
			       how, files[i].path, off, len, off + got,
			       strerror(errno));
			return false;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != want) {
		report(w,
		       "'%s' (%s) [%" PRIu64 ", +%zu): got %zu bytes, want %zu",
		       files[i].path, how, off, len, got, want);
		return false;
	}
	if (want && memcmp(w->buf, files[i].src + off, want)) {
		size_t k = first_diff(w->buf, files[i].src + off, want);

		report(w,
		       "'%s' (%s) [%" PRIu64 ", +%zu) differs at byte %" PRIu64,
		       files[i].path, how, off, len, off + k);
		return false;
	}
	w->st->reads++;
	w->st->bytes += want;
	return true;
}

/* Choose a range of file i: fixed length (-L) or the mixed distribution. */
static void pick_range(struct worker *w, size_t i, uint64_t *off, size_t *len)
{
	uint64_t size = files[i].size, t;

	if (fixed_len) {
		*len = (size_t)fixed_len;
		*off = size > *len ? below(w, size - *len + 1) : 0;
		return;
	}
	switch (below(w, 4)) {
	case 0:
	case 1:
		*len = 1 + (size_t)below(w, LEN_SMALL);
		break;
	case 2:
		*len = 1 + (size_t)below(w, LEN_MID);
		break;
	default:
		*len = 1 + (size_t)below(w, LEN_BIG);
	}
	switch (below(w, 8)) {
	case 0:
	case 1: /* in the last 8 KiB, often crossing the end */
		t = size < TAIL ? size : TAIL;
		*off = size - t + below(w, t + 1);
		break;
	case 2: /* ending exactly at the end */
		*off = size > *len ? size - *len : 0;
		break;
	case 3: /* at or past the end: nothing to read */
		*off = size + below(w, 3) * below(w, 1u << 20);
		break;
	default:
		*off = below(w, size);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct timespec tick = { 0, 100000 };

	atomic_fetch_add(&start_line->ready, 1);
	while (!atomic_load(&start_line->go))
		nanosleep(&tick, NULL);
	for (long k = 0; k < nreads; k++) {
		size_t i = (size_t)below(w, nfiles), len;
		uint64_t off, how = below(w, 100);
		const char *name;
		int fd;

		pick_range(w, i, &off, &len);
		if ((int)how < direct_pct) {
			fd = own_fd(w, i, true);
			name = direct_refused ? "buffered" : "O_DIRECT";
		} else if (how % 2) {
			fd = own_fd(w, i, false);
			name = "buffered";
		} else {
			fd = files[i].shared_fd;
			name = "shared fd";
		}
		if (fd >= 0)
			check_range(w, i, fd, off, len, name);
	}
	w->st->end = now();
	return NULL;
}

static void load_list(const char *list, const char *srcdir)
{
	FILE *f = fopen(list, "r");
	int srcdir_fd;
	char line[8192];
	size_t cap = 0;

	if (!f)
		die("cannot open '%s': %s", list, strerror(errno));
	srcdir_fd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcdir_fd < 0)
		die("'%s': %s", srcdir, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *end, *p;
		unsigned long long size = strtoull(line, &end, 10);
		struct stat sb;
		int fd;

		if (end == line || *end != ' ')
			die("bad line in '%s': %s", list, line);
		p = end + 1;
		p[strcspn(p, "\n")] = '\0';
		if (nfiles == cap) {
			cap = cap ? 2 * cap : 64;
			files = realloc(files, cap * sizeof(*files));
			if (!files)
				die("out of memory");
		}
		files[nfiles].path = strdup(p);
		if (!files[nfiles].path)
			die("out of memory");
		files[nfiles].size = size;
		files[nfiles].src = NULL;
		fd = openat(srcdir_fd, p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &sb))
			die("source '%s': %s", p, strerror(errno));
		if ((uint64_t)sb.st_size != size)
			die("source '%s' has %lld bytes, the list says %llu", p,
			    (long long)sb.st_size, size);
		if (size) {
			void *m = mmap(NULL, (size_t)size, PROT_READ,
				       MAP_SHARED, fd, 0);

			if (m == MAP_FAILED)
				die("mmap '%s': %s", p, strerror(errno));
			files[nfiles].src = m;
		}
		close(fd);
		files[nfiles].shared_fd =
			openat(mntdir_fd, p, O_RDONLY | O_CLOEXEC);
		if (files[nfiles].shared_fd < 0)
			die("open '%s' on the mount: %s", p, strerror(errno));
		nfiles++;
	}
	fclose(f);
	close(srcdir_fd);
	if (!nfiles)
		die("no files in '%s'", list);
}

static void worker_init(struct worker *w, int index, uint64_t seed,
			struct stats *st, size_t bufsize)
{
	w->index = index;
	w->rng = seed * 1000003u + (uint64_t)index * 7919u + 1;
	w->st = st;
	w->bufsize = (bufsize + ALIGN - 1) / ALIGN * ALIGN;
	if (posix_memalign((void **)&w->buf, ALIGN, w->bufsize + ALIGN))
		die("out of memory");
	w->fd_direct = malloc(nfiles * sizeof(int));
	w->fd_buf = malloc(nfiles * sizeof(int));
	if (!w->fd_direct || !w->fd_buf)
		die("out of memory");
	for (size_t i = 0; i < nfiles; i++)
		w->fd_direct[i] = w->fd_buf[i] = -1;
}

static void worker_release(struct worker *w)
{
	for (size_t i = 0; i < nfiles; i++) {
		if (w->fd_direct[i] >= 0)
			close(w->fd_direct[i]);
		if (w->fd_buf[i] >= 0)
			close(w->fd_buf[i]);
	}
	free(w->fd_direct);
	free(w->fd_buf);
	free(w->buf);
}

/* -e: fixed ranges around both ends of every file, on every kind of
 * descriptor.  Returns the number of reads intended. */
static uint64_t edges(struct worker *w)
{
	uint64_t n = 0;

	for (size_t i = 0; i < nfiles; i++) {
		uint64_t s = files[i].size;
		const struct {
			uint64_t back;	 /* bytes before the end... */
			bool from_start; /* ...or offset from the start */
			size_t len;
		} r[] = {
			{ 0, true, 1 },		{ 0, true, 4096 },
			{ 1, false, 1 },	{ 100, false, 100 },
			{ 5000, false, 65536 }, { 65543, false, 131072 },
			{ 0, false, 1 },	{ 0, false, 65536 },
			{ 1, false, LEN_BIG },	{ LEN_BIG, false, LEN_BIG },
		};

		for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
			uint64_t off = r[k].from_start ? r[k].back :
				       s > r[k].back   ? s - r[k].back :
							 0;

			for (int how = 0; how < 3; how++) {
				int fd = how == 0 ? own_fd(w, i, true) :
					 how == 1 ? own_fd(w, i, false) :
						    files[i].shared_fd;
				static const char *const names[] = {
					"edge, O_DIRECT", "edge, buffered",
					"edge, shared fd"
				};

				n++;
				if (fd >= 0)
					check_range(w, i, fd, off, r[k].len,
						    names[how]);
			}
		}
		/* far past the end */
		n++;
		check_range(w, i, files[i].shared_fd, s + (1u << 30), 10,
			    "past the end");
	}
	return n;
}

/* -S: read every file from start to end in chunk-byte preads. */
static void sequential(struct worker *w, size_t chunk)
{
	for (size_t i = 0; i < nfiles; i++) {
		bool direct = direct_pct >= 100;
		int fd = open_mnt(i, direct);
		uint64_t off = 0;

		if (fd < 0) {
			report(w, "open '%s': %s", files[i].path,
			       strerror(errno));
			continue;
		}
		if (!direct || direct_refused)
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		do {
			if (!check_range(w, i, fd, off, chunk,
					 direct ? "sequential, O_DIRECT" :
						  "sequential, buffered"))
				break;
			off += chunk;
		} while (off < files[i].size);
		close(fd);
	}
}

/* -F: one byte at offset 0 of each file, timed. */
static void first_reads(struct worker *w)
{
	for (size_t i = 0; i < nfiles; i++) {
		int fd = open_mnt(i, true);
		double t0 = now();

		if (fd < 0) {
			report(w, "open '%s': %s", files[i].path,
			       strerror(errno));
			continue;
		}
		check_range(w, i, fd, 0, 1, "first read");
		printf("first read of '%s': %.3f s\n", files[i].path,
		       now() - t0);
		close(fd);
	}
}

/* Wait until n workers stand at the start line, then start the clock and
 * let them go.  A child that dies before it gets there ends the wait. */
static double release(long n)
{
	const struct timespec tick = { 0, 100000 };
	double t0;

	while (atomic_load(&start_line->ready) < n) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);

		if (p > 0)
			die("a reader ended before it started (status 0x%x)",
			    (unsigned)status);
		nanosleep(&tick, NULL);
	}
	t0 = now();
	atomic_store(&start_line->go, 1);
	return t0;
}

int main(int argc, char **argv)
{
	long procs = 0, threads = 1, seq_chunk = 0;
	uint64_t seed = 1, target = 0;
	bool do_edges = false, do_first = false;
	struct stats *st, total = { 0, 0, 0, 0 };
	struct worker setup;
	size_t bufsize;
	long nworkers;
	double t0, secs;
	int c;

	while ((c = getopt(argc, argv, "p:t:n:s:L:D:eS:F")) != -1) {
		switch (c) {
		case 'p':
			procs = strtol(optarg, NULL, 10);
			break;
		case 't':
			threads = strtol(optarg, NULL, 10);
			break;
		case 'n':
			nreads = strtol(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'L':
			fixed_len = strtol(optarg, NULL, 10);
			break;
		case 'D':
			direct_pct = (int)strtol(optarg, NULL, 10);
			break;
		case 'e':
			do_edges = true;
			break;
		case 'S':
			seq_chunk = strtol(optarg, NULL, 10);
			break;
		case 'F':
			do_first = true;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 3)
		goto usage;
	if (procs < 0 || procs > 256 || threads < 1 || threads > 256 ||
	    nreads < 0 || fixed_len < 0 || fixed_len > (64L << 20) ||
	    direct_pct < 0 || direct_pct > 100 || seq_chunk < 0 ||
	    seq_chunk > (64L << 20))
		die("bad counts");
	mntdir_fd = open(argv[optind + 2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mntdir_fd < 0)
		die("'%s': %s", argv[optind + 2], strerror(errno));
	load_list(argv[optind], argv[optind + 1]);
	bufsize = fixed_len > (long)LEN_BIG ? (size_t)fixed_len : LEN_BIG;
	if ((size_t)seq_chunk > bufsize)
		bufsize = (size_t)seq_chunk;
	nworkers = (procs ? procs : 1) * threads;

	/* Counters in a MAP_SHARED page: children write theirs there. */
	st = mmap(NULL, (size_t)(nworkers + 1) * sizeof(*st),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(st, 0, (size_t)(nworkers + 1) * sizeof(*st));
	start_line = mmap(NULL, sizeof(*start_line), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (start_line == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	atomic_init(&start_line->ready, 0);
	atomic_init(&start_line->go, 0);
	worker_init(&setup, -1, seed, &st[nworkers], bufsize);

	if (do_first || seq_chunk) {
		t0 = now();
		if (do_first) {
			first_reads(&setup);
			target = nfiles;
		} else {
			sequential(&setup, (size_t)seq_chunk);
			for (size_t i = 0; i < nfiles; i++)
				target += files[i].size ?
						  (files[i].size +
						   (uint64_t)seq_chunk - 1) /
							  (uint64_t)seq_chunk :
						  1;
		}
		secs = now() - t0;
		goto out_report;
	}
	if (do_edges)
		target += edges(&setup);
	fflush(stdout);
	fflush(stderr);

	if (procs == 0) {
		pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
		struct worker *ws = calloc((size_t)threads, sizeof(*ws));

		if (!tid || !ws)
			die("out of memory");
		for (long j = 0; j < threads; j++) {
			worker_init(&ws[j], (int)j, seed, &st[j], bufsize);
			if (pthread_create(&tid[j], NULL, work, &ws[j]))
				die("pthread_create failed");
		}
		t0 = release(nworkers);
		for (long j = 0; j < threads; j++) {
			pthread_join(tid[j], NULL);
			worker_release(&ws[j]);
		}
		free(ws);
		free(tid);
	} else {
		pid_t *pid = calloc((size_t)procs, sizeof(*pid));

		if (!pid)
			die("out of memory");
		for (long p = 0; p < procs; p++) {
			pid[p] = fork();
			if (pid[p] < 0)
				die("fork: %s", strerror(errno));
			if (pid[p] == 0) {
				pthread_t tid[256];
				struct worker ws[256];

				for (long j = 0; j < threads; j++) {
					long x = p * threads + j;

					worker_init(&ws[j], (int)x, seed,
						    &st[x], bufsize);
					if (pthread_create(&tid[j], NULL, work,
							   &ws[j]))
						die("pthread_create failed");
				}
				for (long j = 0; j < threads; j++)
					pthread_join(tid[j], NULL);
				fflush(stderr);
				_exit(0);
			}
		}
		t0 = release(nworkers);
		for (long p = 0; p < procs; p++) {
			int status;

			while (waitpid(pid[p], &status, 0) < 0)
				if (errno != EINTR)
					die("waitpid: %s", strerror(errno));
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				fprintf(stderr,
					"randread: child %ld ended badly "
					"(status 0x%x)\n",
					p, (unsigned)status);
				st[nworkers].errors++;
			}
		}
		free(pid);
	}
	secs = 0;
	for (long j = 0; j < nworkers; j++)
		if (st[j].end - t0 > secs)
			secs = st[j].end - t0;
	target += (uint64_t)nworkers * (uint64_t)nreads;

out_report:
	for (long j = 0; j <= nworkers; j++) {
		total.reads += st[j].reads;
		total.errors += st[j].errors;
		total.bytes += st[j].bytes;
	}
	worker_release(&setup);
	printf("randread: files=%zu workers=%ld reads=%" PRIu64
	       " errors=%" PRIu64 " bytes=%" PRIu64 " target=%" PRIu64
	       " seconds=%.3f reads/s=%.1f MB/s=%.1f%s\n",
	       nfiles, nworkers, total.reads, total.errors, total.bytes, target,
	       secs, secs > 0 ? (double)total.reads / secs : 0.0,
	       secs > 0 ? (double)total.bytes / 1e6 / secs : 0.0,
	       direct_refused ? " O_DIRECT=refused" : "");
	return total.errors || total.reads < target ? 1 : 0;

usage:
	die("usage: randread [-p PROCS] [-t THREADS] [-n READS] [-s SEED] "
	    "[-L LEN] [-D PCT] [-e] [-S CHUNK] [-F] LIST SRCDIR MNTDIR");
	return 2;
}
