/*
 * bench_crc.c - CRC-32 speed of zlib's crc32_z and libdeflate's
 * libdeflate_crc32 on the same buffer, the measurement behind the choice
 * of core/archive_i.h's ozx_crc32().  Prints numbers; checks only that the
 * two agree.
 *
 *   bench_crc [MIB [ROUNDS]]   buffer of MIB MiB (default 16), ROUNDS
 *                              passes each (default 64)
 */
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
	unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 64;
	size_t n = mib << 20, i;
	uint32_t cz = 0, cd = 0, x = 2463534242u;
	unsigned char *b;
	double t, tz, td;

	if (mib == 0 || rounds == 0 || !(b = malloc(n))) {
		fprintf(stderr, "usage: bench_crc [MIB [ROUNDS]]\n");
		return 2;
	}
	for (i = 0; i < n; i++) { /* xorshift: not compressible, not zero */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
	t = now();
	for (unsigned r = 0; r < rounds; r++)
		cz = (uint32_t)crc32_z(cz, b, n);
	tz = now() - t;
	t = now();
	for (unsigned r = 0; r < rounds; r++)
		cd = libdeflate_crc32(cd, b, n);
	td = now() - t;
	printf("buffer %zu MiB x %u: zlib crc32_z %.2f GB/s, "
	       "libdeflate_crc32 %.2f GB/s (%.2fx)\n",
	       mib, rounds, (double)n * rounds / tz / 1e9,
	       (double)n * rounds / td / 1e9, tz / td);
	free(b);
	if (cz != cd) {
		fprintf(stderr, "bench_crc: the two CRCs differ: %08x %08x\n",
			(unsigned)cz, (unsigned)cd);
		return 1;
	}
	return 0;
}
