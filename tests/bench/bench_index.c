/*
 * bench_index - open an archive N times and print how long the index took
 * to build and how much heap it holds per central-directory record.
 * Used by scripts/bench-index; prints numbers, asserts nothing.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ozx.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	double t[16];
	size_t heap = 0, names = 0;
	uint32_t nrecords = 0;
	const struct ozx_info *info;

	if (argc < 2 || runs < 1 || runs > 16) {
		fprintf(stderr, "usage: bench_index ARCHIVE [RUNS<=16]\n");
		return 1;
	}
	for (int r = 0; r < runs; r++) {
		struct ozx_archive *a;
		struct ozx_diag d = { 0 };
		size_t before = heap_in_use();
		double t0 = now();
		int ret = ozx_archive_open(argv[1], &a, &d);

		t[r] = now() - t0;
		if (ret) {
			fprintf(stderr,
				"bench_index: cannot open '%s': %s%s%s\n",
				argv[1], strerror(-ret), d.what ? ": " : "",
				d.what ? d.what : "");
			return 1;
		}
		heap = heap_in_use() - before;
		info = ozx_archive_info(a);
		nrecords = info->nrecords;
		names = 0;
		for (uint32_t i = 0; i < info->nnodes; i++) {
			size_t len;

			/* stored names: full names for records, components
			 * for implied directories, each NUL-terminated */
			ozx_node_name(a, i, &len);
			if (i > info->nrecords)
				names += len + 1;
		}
		for (uint32_t i = 1; i <= info->nrecords; i++) {
			char buf[OZX_MAX_PATH + 1];
			ssize_t n = ozx_node_path(a, i, buf, sizeof(buf));

			if (n >= 0)
				names += (size_t)n + 1;
		}
		if (r + 1 == runs) {
			printf("records:            %u\n", info->nrecords);
			printf("nodes:              %u (%u files, %u dirs)\n",
			       info->nnodes, info->nfiles, info->ndirs);
		}
		ozx_archive_free(a);
	}
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_double);
	printf("open time (median of %d): %.3f s  (min %.3f, max %.3f)\n", runs,
	       t[runs / 2], t[0], t[runs - 1]);
	printf("heap held:          %zu bytes\n", heap);
	printf("names:              ~%zu bytes\n", names);
	if (nrecords)
		printf("per record:         %.1f bytes + names (%.1f with "
		       "names)\n",
		       (double)(heap - names) / nrecords,
		       (double)heap / nrecords);
	return 0;
}
