/*
 * reader.c - the load generator of scripts/bench: reads a list of files (or
 * byte ranges) with N forked reader processes and prints one line of
 * numbers.  Kept minimal so that the reader is never the bottleneck: the
 * list is loaded before the clock starts, the processes take the next item
 * from a shared atomic counter (no static partition, so a slow item does
 * not leave the others idle), each item is open + read + close with one
 * buffer per process, no stdio on the hot path.
 *
 *   reader [-j N] [-C DIR] [-b BUFSIZE] MODE LIST
 *
 * MODE whole:  each line of LIST is a path; open it, read(2) to EOF with a
 *              BUFSIZE buffer (default 1 MiB), close.
 * MODE ranges: each line is "OFFSET LENGTH PATH"; open, pread(2) LENGTH
 *              bytes at OFFSET (looping on short reads until EOF), close.
 * MODE stat:   each line is a path; stat(2) it.
 * MODE first:  each line is a path; one process (no -j) times open + read
 *              of the first BUFSIZE bytes (default 64 KiB here) + close of
 *              each, in list order, and also prints the latencies:
 *              median_ms=A p99_ms=B max_ms=C (p99: nearest rank).
 *
 * Paths are relative to DIR (-C) when not absolute.  Output, on stdout:
 *   items=N bytes=B secs=S items_per_s=R mb_per_s=M errors=E
 * (MB = 10^6 bytes).  Exit status 1 if any item failed (the first failures
 * are reported on stderr), 2 on a usage or set-up error.
 *
 * Build: cc -O2 -o reader tests/bench/reader.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum mode { M_WHOLE, M_RANGES, M_STAT, M_FIRST };

struct item {
	const char *path;
	uint64_t off, len;
};

struct shared {
	_Atomic unsigned ready;	 /* readers waiting for the start */
	_Atomic uint64_t end_ns; /* when the last reader finished */
	_Atomic uint64_t next;
	_Atomic uint64_t bytes;
	_Atomic uint64_t done;
	_Atomic uint64_t errors;
	_Atomic unsigned reported;
};

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void report(struct shared *sh, const char *path, const char *what,
		   int err)
{
	if (atomic_fetch_add(&sh->reported, 1) < 5)
		fprintf(stderr, "reader: %s: %s: %s\n", path, what,
			strerror(err));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *load(const char *file, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die(file);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		die("malloc");
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			die(file);
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

static struct item *parse(char *text, size_t len, enum mode mode, size_t *n)
{
	size_t cap = 1024, count = 0;
	struct item *items = malloc(cap * sizeof(*items));
	char *p = text, *end = text + len;

	if (!items)
		die("malloc");
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		struct item it = { 0 };

		if (!nl)
			nl = end;
		*nl = '\0';
		if (nl > p) {
			if (mode == M_RANGES) {
				char *q;

				it.off = strtoull(p, &q, 10);
				it.len = strtoull(q, &q, 10);
				if (*q != ' ') {
					fprintf(stderr,
						"reader: bad range line "
						"'%s'\n",
						p);
					exit(2);
				}
				it.path = q + 1;
			} else {
				it.path = p;
			}
			if (count == cap) {
				cap *= 2;
				items = realloc(items, cap * sizeof(*items));
				if (!items)
					die("realloc");
			}
			items[count++] = it;
		}
		p = nl + 1;
	}
	*n = count;
	return items;
}

static void work(struct shared *sh, const struct item *items, size_t n,
		 enum mode mode, size_t bufsize)
{
	char *buf = NULL;
	uint64_t bytes = 0, done = 0, errors = 0, end, prev;

	if (mode != M_STAT) {
		buf = malloc(bufsize);
		if (!buf)
			die("malloc");
	}
	for (;;) {
		uint64_t i = atomic_fetch_add(&sh->next, 1);
		const struct item *it;
		struct stat st;
		int fd;

		if (i >= n)
			break;
		it = &items[i];
		if (mode == M_STAT) {
			if (stat(it->path, &st)) {
				report(sh, it->path, "stat", errno);
				errors++;
			} else {
				done++;
			}
			continue;
		}
		fd = open(it->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			report(sh, it->path, "open", errno);
			errors++;
			continue;
		}
		if (mode == M_WHOLE) {
			ssize_t r;

			while ((r = read(fd, buf, bufsize)) > 0)
				bytes += (uint64_t)r;
			if (r < 0) {
				report(sh, it->path, "read", errno);
				errors++;
				close(fd);
				continue;
			}
		} else {
			uint64_t got = 0;

			while (got < it->len) {
				size_t want = it->len - got < bufsize ?
						      (size_t)(it->len - got) :
						      bufsize;
				ssize_t r = pread(fd, buf, want,
						  (off_t)(it->off + got));

				if (r <= 0) {
					if (r < 0) {
						report(sh, it->path, "pread",
						       errno);
						errors++;
					}
					break;
				}
				got += (uint64_t)r;
			}
			bytes += got;
		}
		close(fd);
		done++;
	}
	end = now_ns();
	prev = atomic_load(&sh->end_ns);
	while (prev < end &&
	       !atomic_compare_exchange_weak(&sh->end_ns, &prev, end))
		;
	atomic_fetch_add(&sh->bytes, bytes);
	atomic_fetch_add(&sh->done, done);
	atomic_fetch_add(&sh->errors, errors);
	free(buf);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Mode first: the latency of each file's first bufsize bytes, one file at
 * a time in this process (no fork, no exec between two files).  Returns
 * the exit status.
 */
static int first(const struct item *items, size_t n, size_t bufsize)
{
	uint64_t *lat = malloc((n ? n : 1) * sizeof(*lat));
	uint64_t bytes = 0, errors = 0, total = 0, t0;
	char *buf = malloc(bufsize);
	size_t done = 0, p99;
	double median = 0;

	if (!lat || !buf)
		die("malloc");
	for (size_t i = 0; i < n; i++) {
		size_t got = 0;
		ssize_t r = 0;
		int fd;

		t0 = now_ns();
		fd = open(items[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "reader: %s: open: %s\n", items[i].path,
				strerror(errno));
			errors++;
			continue;
		}
		while (got < bufsize &&
		       (r = read(fd, buf + got, bufsize - got)) > 0)
			got += (size_t)r;
		close(fd);
		lat[done] = now_ns() - t0;
		if (r < 0) {
			fprintf(stderr, "reader: %s: read: %s\n", items[i].path,
				strerror(errno));
			errors++;
			continue;
		}
		total += lat[done++];
		bytes += got;
	}
	qsort(lat, done, sizeof(*lat), cmp_u64);
	/* Nearest rank: the smallest latency >= 99 % of them. */
	p99 = done ? (done * 99 + 99) / 100 - 1 : 0;
	if (done)
		median = (double)(lat[(done - 1) / 2] + lat[done / 2]) / 2e6;
	printf("items=%zu bytes=%llu secs=%.4f items_per_s=%.1f "
	       "mb_per_s=%.1f errors=%llu median_ms=%.3f p99_ms=%.3f "
	       "max_ms=%.3f\n",
	       done, (unsigned long long)bytes, (double)total / 1e9,
	       total ? (double)done / ((double)total / 1e9) : 0.0,
	       total ? (double)bytes * 1e3 / (double)total : 0.0,
	       (unsigned long long)errors, median,
	       done ? (double)lat[p99] / 1e6 : 0.0,
	       done ? (double)lat[done - 1] / 1e6 : 0.0);
	free(buf);
	free(lat);
	return errors ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: reader [-j N] [-C DIR] [-b BUFSIZE] "
			"whole|ranges|stat|first LIST\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned readers = 1;
	size_t bufsize = 0, len, n;
	const char *dir = NULL;
	enum mode mode;
	struct shared *sh;
	struct item *items;
	uint64_t t0;
	double secs;
	int opt, status, failed = 0, go[2];
	char *text;

	while ((opt = getopt(argc, argv, "j:C:b:")) != -1) {
		switch (opt) {
		case 'j':
			readers = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'C':
			dir = optarg;
			break;
		case 'b':
			bufsize = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || readers < 1 || readers > 1024)
		usage();
	if (!strcmp(argv[optind], "whole"))
		mode = M_WHOLE;
	else if (!strcmp(argv[optind], "ranges"))
		mode = M_RANGES;
	else if (!strcmp(argv[optind], "stat"))
		mode = M_STAT;
	else if (!strcmp(argv[optind], "first") && readers == 1)
		mode = M_FIRST;
	else
		usage();
	if (!bufsize)
		bufsize = mode == M_FIRST ? 1 << 16 : 1 << 20;
	text = load(argv[optind + 1], &len);
	items = parse(text, len, mode, &n);
	if (dir && chdir(dir))
		die(dir);
	if (mode == M_FIRST)
		return first(items, n, bufsize);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	memset(sh, 0, sizeof(*sh));
	fflush(NULL);

	/*
	 * The clock runs from the moment every reader is forked and waiting
	 * (each blocks reading a pipe that the parent then closes) to the
	 * moment the last one has finished its last item: neither fork nor
	 * exit is timed, which matters on a loaded machine.
	 */
	if (pipe(go))
		die("pipe");
	for (unsigned r = 0; r < readers; r++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			char c;

			close(go[1]);
			atomic_fetch_add(&sh->ready, 1);
			if (read(go[0], &c, 1) < 0)
				_exit(3);
			work(sh, items, n, mode, bufsize);
			_exit(0);
		}
	}
	close(go[0]);
	while (atomic_load(&sh->ready) < readers)
		usleep(200);
	t0 = now_ns();
	close(go[1]);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	secs = (double)(atomic_load(&sh->end_ns) - t0) / 1e9;
	if (secs <= 0)
		secs = 1e-9;

	printf("items=%llu bytes=%llu secs=%.4f items_per_s=%.1f "
	       "mb_per_s=%.1f errors=%llu\n",
	       (unsigned long long)atomic_load(&sh->done),
	       (unsigned long long)atomic_load(&sh->bytes), secs,
	       (double)atomic_load(&sh->done) / secs,
	       (double)atomic_load(&sh->bytes) / 1e6 / secs,
	       (unsigned long long)atomic_load(&sh->errors));
	return failed || atomic_load(&sh->errors) ? 1 : 0;
}
