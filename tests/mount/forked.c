/*
 * forked.c - many readers at once on an ozxfs mount, every byte checked.
 *
 * The reason ozxfs exists: readers that fork (DataLoader workers,
 * multiprocessing pools) or run threads must each get the right bytes, even
 * when they share an inherited descriptor.  This program reads files on the
 * mount and compares every byte with the same file in the source tree.
 *
 *   forked [-m fork|thread] [-j WORKERS] [-w WHOLE] [-r RANGES] [-s SEED]
 *          [-d] LIST SRCDIR MNTDIR
 *
 * LIST holds one "SIZE PATH" line per file (PATH relative to both SRCDIR and
 * MNTDIR).  The parent opens the largest file on the mount and keeps it
 * open, then starts WORKERS children (-m fork, default 16) or threads
 * (-m thread, default 8).  Each worker does WHOLE whole-file reads of random
 * files and RANGES random sub-range reads, including ranges that cross or
 * start past the end of file:
 *   fork:   whole reads with read(2) on a descriptor of its own; ranges
 *           alternately on its own descriptors (pread, or lseek + read) and
 *           with pread on the descriptor inherited from the parent.
 *   thread: the descriptors are shared by all threads (opened by the main
 *           thread: the parent's file and 15 more), so only pread(2) is
 *           used on them; half of the reads use descriptors of the thread's
 *           own.
 * -d opens a quarter of the worker's own descriptors with O_DIRECT (if the
 * mount refuses it, the run goes on without it and says so).
 * All randomness comes from SEED (default 1) and the worker's index.
 *
 * Prints "reads=N errors=M" (N verified reads, M failures of any kind) and
 * exits 1 if M > 0 or N < WORKERS * (WHOLE + RANGES), 2 on a usage error.
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
#include <unistd.h>

#define MAX_RANGE (256 * 1024)
#define NSHARED 16
#define MAX_REPORTS 10 /* error messages printed per worker */
#define ALIGN 4096

struct file {
	char *path;
	uint64_t size;
};

struct stats {
	uint64_t reads;		 /* verified operations */
	uint64_t errors;	 /* failed operations */
	uint64_t bytes;		 /* bytes compared */
	uint64_t direct_refused; /* this worker saw O_DIRECT refused */
};

/* One worker (child process or thread). */
struct worker {
	int index;
	uint64_t rng;
	struct stats *st;
	unsigned char *buf; /* what the mount gave */
	unsigned char *ref; /* what the source holds */
	size_t bufsize;
};

static struct file *files;
static size_t nfiles;
static uint64_t max_size;
static int srcdir_fd = -1, mntdir_fd = -1;
static size_t parent_file; /* index of the file the parent keeps open */
static int parent_fd = -1;
static unsigned char *parent_ref; /* its source bytes */
static int shared_fd[NSHARED];
static size_t shared_file[NSHARED];
static int nshared;
static bool use_direct;
static atomic_int direct_refused; /* O_DIRECT gave EINVAL */
static long nwhole = 300, nranges = 2000;
static bool threaded;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("forked: ", stderr);
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

static void report(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	w->st->errors++;
	if (w->st->errors > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "forked: worker %d: ", w->index);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Read exactly len bytes at off from the source tree's copy of file i. */
static int ref_read(struct worker *w, size_t i, unsigned char *dst, size_t len,
		    uint64_t off)
{
	int fd = openat(srcdir_fd, files[i].path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0) {
		report(w, "source '%s': %s", files[i].path, strerror(errno));
		return -1;
	}
	while (got < len) {
		ssize_t n = pread(fd, dst + got, len - got, off + got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			report(w, "source '%s' short at %" PRIu64,
			       files[i].path, off + got);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

/* Open file i on the mount; O_DIRECT a quarter of the time with -d. */
static int mnt_open(struct worker *w, size_t i)
{
	int flags = O_RDONLY | O_CLOEXEC;
	int fd;

	if (use_direct && !direct_refused && below(w, 4) == 0)
		flags |= O_DIRECT;
	fd = openat(mntdir_fd, files[i].path, flags);
	if (fd < 0 && (flags & O_DIRECT) && errno == EINVAL) {
		direct_refused = 1;
		w->st->direct_refused = 1;
		fd = openat(mntdir_fd, files[i].path, flags & ~O_DIRECT);
	}
	if (fd < 0)
		report(w, "open '%s': %s", files[i].path, strerror(errno));
	return fd;
}

/* First differing byte, for the message. */
static size_t first_diff(const unsigned char *a, const unsigned char *b,
			 size_t n)
{
	size_t k = 0;

	while (k < n && a[k] == b[k])
		k++;
	return k;
}

/*
 * Read all of file i from fd, with read(2) in random chunk sizes (use_pread
 * false) or pread(2) from offset 0 (true), and check size and bytes.
 */
static void whole(struct worker *w, size_t i, int fd, bool use_pread)
{
	uint64_t size = files[i].size;
	size_t got = 0;

	for (;;) {
		size_t room = w->bufsize - got;
		size_t chunk = 1 + (size_t)below(w, 128 * 1024);
		ssize_t n;

		if (chunk > room)
			chunk = room;
		if (chunk == 0) {
			report(w, "'%s' longer than %" PRIu64 " bytes",
			       files[i].path, size);
			return;
		}
		n = use_pread ? pread(fd, w->buf + got, chunk, (off_t)got) :
				read(fd, w->buf + got, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report(w, "%s '%s' at %zu: %s",
			       use_pread ? "pread" : "read", files[i].path, got,
			       strerror(errno));
			return;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != size) {
		report(w, "'%s': read %zu bytes, size is %" PRIu64,
		       files[i].path, got, size);
		return;
	}
	if (ref_read(w, i, w->ref, size, 0))
		return;
	if (memcmp(w->buf, w->ref, size)) {
		report(w, "'%s': whole read differs at byte %zu", files[i].path,
		       first_diff(w->buf, w->ref, size));
		return;
	}
	w->st->reads++;
	w->st->bytes += size;
}

/*
 * One random range of file i through fd: pread (or lseek + read when
 * seek_read), looping on short counts; the total must be what is left of
 * the file from off, and the bytes must match ref (NULL: read the source).
 */
static void range(struct worker *w, size_t i, int fd, const unsigned char *ref,
		  bool seek_read)
{
	uint64_t size = files[i].size;
	uint64_t off;
	size_t len, want, got = 0;

	switch (below(w, 4)) {
	case 0: /* around the end of file */
		off = size > 4096 ? size - 4096 + below(w, 4096 + 512) :
				    below(w, size + 512);
		break;
	case 1: /* past the end */
		off = size + below(w, 100000);
		break;
	default:
		off = below(w, size + 1);
	}
	len = below(w, 2) ? 1 + (size_t)below(w, 4096) :
			    1 + (size_t)below(w, MAX_RANGE);
	want = off >= size ? 0 : (size_t)(size - off < len ? size - off : len);

	if (seek_read && lseek(fd, (off_t)off, SEEK_SET) != (off_t)off) {
		report(w, "lseek '%s' %" PRIu64 ": %s", files[i].path, off,
		       strerror(errno));
		return;
	}
	while (got < len) {
		ssize_t n = seek_read ? read(fd, w->buf + got, len - got) :
					pread(fd, w->buf + got, len - got,
					      (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report(w, "%s '%s' [%" PRIu64 ", +%zu): %s",
			       seek_read ? "read" : "pread", files[i].path,
			       off + got, len - got, strerror(errno));
			return;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != want) {
		report(w, "'%s' [%" PRIu64 ", +%zu): got %zu bytes, want %zu",
		       files[i].path, off, len, got, want);
		return;
	}
	if (want) {
		if (ref) {
			memcpy(w->ref, ref + off, want);
		} else if (ref_read(w, i, w->ref, want, off)) {
			return;
		}
		if (memcmp(w->buf, w->ref, want)) {
			report(w, "'%s' [%" PRIu64 ", +%zu) differs at +%zu",
			       files[i].path, off, len,
			       first_diff(w->buf, w->ref, want));
			return;
		}
	}
	w->st->reads++;
	w->st->bytes += want;
}

static size_t pick(struct worker *w)
{
	return (size_t)below(w, nfiles);
}

static void worker_release(struct worker *w)
{
	free(w->buf);
	free(w->ref);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	int own_fd = -1;
	size_t own_file = 0;
	long k;

	for (k = 0; k < nwhole; k++) {
		size_t i = pick(w);
		bool shared = threaded && (k & 1);
		int fd;

		if (shared) {
			int s = (int)below(w, (uint64_t)nshared);

			whole(w, shared_file[s], shared_fd[s], true);
			continue;
		}
		fd = mnt_open(w, i);
		if (fd < 0)
			continue;
		whole(w, i, fd, false);
		if (close(fd))
			report(w, "close '%s': %s", files[i].path,
			       strerror(errno));
	}
	for (k = 0; k < nranges; k++) {
		if (k & 1) {
			/* the parent's descriptor, or any shared one */
			if (threaded) {
				int s = (int)below(w, (uint64_t)nshared);

				range(w, shared_file[s], shared_fd[s],
				      shared_file[s] == parent_file ?
					      parent_ref :
					      NULL,
				      false);
			} else {
				range(w, parent_file, parent_fd, parent_ref,
				      false);
			}
			continue;
		}
		/* a descriptor of our own, a new file every 16 reads */
		if (own_fd < 0 || k % 32 == 0) {
			if (own_fd >= 0)
				close(own_fd);
			own_file = pick(w);
			own_fd = mnt_open(w, own_file);
			if (own_fd < 0)
				continue;
		}
		range(w, own_file, own_fd, NULL, !threaded && below(w, 2));
	}
	if (own_fd >= 0)
		close(own_fd);
	return NULL;
}

static void load_list(const char *list)
{
	FILE *f = fopen(list, "r");
	char line[8192];
	size_t cap = 0;

	if (!f)
		die("cannot open '%s': %s", list, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *end, *p;
		unsigned long long size = strtoull(line, &end, 10);

		if (end == line || *end != ' ')
			die("bad line in '%s': %s", list, line);
		p = end + 1;
		p[strcspn(p, "\n")] = '\0';
		if (nfiles == cap) {
			cap = cap ? 2 * cap : 1024;
			files = realloc(files, cap * sizeof(*files));
			if (!files)
				die("out of memory");
		}
		files[nfiles].path = strdup(p);
		if (!files[nfiles].path)
			die("out of memory");
		files[nfiles].size = size;
		if (size > max_size) {
			max_size = size;
			parent_file = nfiles;
		}
		nfiles++;
	}
	fclose(f);
	if (!nfiles)
		die("no files in '%s'", list);
}

static void worker_init(struct worker *w, int index, uint64_t seed,
			struct stats *st)
{
	w->index = index;
	w->rng = seed * 1000003u + (uint64_t)index * 7919u + 1;
	w->st = st;
	w->bufsize =
		(size_t)(max_size > MAX_RANGE ? max_size : MAX_RANGE) + ALIGN;
	w->bufsize = (w->bufsize + ALIGN - 1) / ALIGN * ALIGN;
	if (posix_memalign((void **)&w->buf, ALIGN, w->bufsize) ||
	    posix_memalign((void **)&w->ref, ALIGN, w->bufsize))
		die("out of memory");
}

int main(int argc, char **argv)
{
	const char *mode = "fork";
	long workers = -1;
	uint64_t seed = 1;
	struct stats *st, total = { 0, 0, 0, 0 };
	uint64_t target;
	struct worker setup;
	int c, j;

	while ((c = getopt(argc, argv, "m:j:w:r:s:d")) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'j':
			workers = strtol(optarg, NULL, 10);
			break;
		case 'w':
			nwhole = strtol(optarg, NULL, 10);
			break;
		case 'r':
			nranges = strtol(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			use_direct = true;
			break;
		default:
			die("usage: forked [-m fork|thread] [-j N] [-w WHOLE] "
			    "[-r RANGES] [-s SEED] [-d] LIST SRCDIR MNTDIR");
		}
	}
	if (argc - optind != 3)
		die("usage: forked [-m fork|thread] [-j N] [-w WHOLE] "
		    "[-r RANGES] [-s SEED] [-d] LIST SRCDIR MNTDIR");
	if (!strcmp(mode, "thread"))
		threaded = true;
	else if (strcmp(mode, "fork"))
		die("unknown mode '%s'", mode);
	if (workers < 0)
		workers = threaded ? 8 : 16;
	if (workers < 1 || workers > 1024 || nwhole < 0 || nranges < 0)
		die("bad counts");

	load_list(argv[optind]);
	srcdir_fd = open(argv[optind + 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcdir_fd < 0)
		die("'%s': %s", argv[optind + 1], strerror(errno));
	mntdir_fd = open(argv[optind + 2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mntdir_fd < 0)
		die("'%s': %s", argv[optind + 2], strerror(errno));

	/* Shared counters: children write theirs into a MAP_SHARED page. */
	st = mmap(NULL, (size_t)workers * sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(st, 0, (size_t)workers * sizeof(*st));

	/* The parent's file, kept open across the fork; its bytes in memory. */
	worker_init(&setup, -1, seed, &st[0]);
	parent_fd = openat(mntdir_fd, files[parent_file].path,
			   O_RDONLY | O_CLOEXEC);
	if (parent_fd < 0)
		die("open '%s' on the mount: %s", files[parent_file].path,
		    strerror(errno));
	parent_ref = malloc(files[parent_file].size + 1);
	if (!parent_ref || ref_read(&setup, parent_file, parent_ref,
				    files[parent_file].size, 0))
		die("cannot load the source of '%s'", files[parent_file].path);
	shared_fd[0] = parent_fd;
	shared_file[0] = parent_file;
	nshared = 1;
	if (threaded) {
		for (; nshared < NSHARED; nshared++) {
			size_t i = pick(&setup);

			shared_file[nshared] = i;
			shared_fd[nshared] = openat(mntdir_fd, files[i].path,
						    O_RDONLY | O_CLOEXEC);
			if (shared_fd[nshared] < 0)
				die("open '%s' on the mount: %s", files[i].path,
				    strerror(errno));
		}
	}
	fflush(stdout);
	fflush(stderr);

	if (threaded) {
		pthread_t *tid = calloc((size_t)workers, sizeof(*tid));
		struct worker *ws = calloc((size_t)workers, sizeof(*ws));

		if (!tid || !ws)
			die("out of memory");
		for (j = 0; j < workers; j++) {
			worker_init(&ws[j], j, seed, &st[j]);
			if (pthread_create(&tid[j], NULL, work, &ws[j]))
				die("pthread_create failed");
		}
		for (j = 0; j < workers; j++) {
			pthread_join(tid[j], NULL);
			worker_release(&ws[j]);
		}
		free(ws);
		free(tid);
	} else {
		pid_t *pid = calloc((size_t)workers, sizeof(*pid));

		if (!pid)
			die("out of memory");
		for (j = 0; j < workers; j++) {
			pid[j] = fork();
			if (pid[j] < 0)
				die("fork: %s", strerror(errno));
			if (pid[j] == 0) {
				struct worker w;

				worker_init(&w, j, seed, &st[j]);
				work(&w);
				worker_release(&w);
				fflush(stderr);
				_exit(0);
			}
		}
		for (j = 0; j < workers; j++) {
			int status;

			while (waitpid(pid[j], &status, 0) < 0)
				if (errno != EINTR)
					die("waitpid: %s", strerror(errno));
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				fprintf(stderr,
					"forked: child %d ended badly "
					"(status 0x%x)\n",
					j, (unsigned)status);
				st[j].errors++;
			}
		}
		free(pid);
	}

	/* The parent's descriptor still reads right after all that. */
	{
		struct worker w;
		struct stats last = { 0, 0, 0, 0 };

		worker_init(&w, -1, seed + 99, &last);
		whole(&w, parent_file, parent_fd, true);
		total.reads += last.reads;
		total.errors += last.errors;
		total.bytes += last.bytes;
		worker_release(&w);
	}
	worker_release(&setup);
	free(parent_ref);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i].path);
	free(files);
	close(srcdir_fd);
	close(mntdir_fd);
	for (j = 0; j < nshared; j++)
		close(shared_fd[j]);

	for (j = 0; j < workers; j++) {
		total.reads += st[j].reads;
		total.errors += st[j].errors;
		total.bytes += st[j].bytes;
		if (st[j].direct_refused)
			direct_refused = 1;
	}
	munmap(st, (size_t)workers * sizeof(*st));
	target = (uint64_t)workers * (uint64_t)(nwhole + nranges) + 1;
	printf("forked: mode=%s workers=%ld files=%zu seed=%" PRIu64
	       " whole=%ld ranges=%ld%s\n",
	       mode, workers, nfiles, seed, nwhole, nranges,
	       use_direct ? (direct_refused ? " O_DIRECT=refused" :
					      " O_DIRECT=some") :
			    "");
	printf("reads=%" PRIu64 " errors=%" PRIu64 " bytes=%" PRIu64
	       " target=%" PRIu64 "\n",
	       total.reads, total.errors, total.bytes, target);
	if (total.errors || total.reads < target)
		return 1;
	return 0;
}
