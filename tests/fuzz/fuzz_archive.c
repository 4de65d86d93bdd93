/*
 * fuzz_archive - libFuzzer harness: open an archive from memory, walk the
 * whole tree through lookups and listings, read every file at a few
 * offsets, with verification on and then off, and run the RFC-9 rules
 * over it (which read its comment, ZIP64 data and root zarr.json).  Modelled on libzip's
 * ossfuzz/zip_read_fuzzer.c.  Any crash, sanitizer report, hang or
 * inconsistency between listing and lookup is a finding.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ozx.h"
#include "rfc9.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(struct ozx_archive *a, uint32_t dir, unsigned char *buf)
{
	uint64_t cursor = 0;
	uint32_t child, found;
	size_t len;

	while (ozx_dir_next(a, dir, &cursor, &child) == 1) {
		struct ozx_stat st;
		const char *name = ozx_node_name(a, child, &len);

		/* What a listing shows, a lookup must find. */
		if (!name || ozx_lookup(a, dir, name, len, &found) ||
		    found != child)
			abort();
		if (ozx_node_stat(a, child, &st))
			abort();
		if (st.kind == OZX_KIND_DIR) {
			walk(a, child, buf);
			continue;
		}
		for (uint64_t off = 0; off <= st.size + 1;
		     off += st.size / 3 + 1) {
			ssize_t n =
				ozx_file_read(a, child, NULL, buf, 4096, off);

			if (n > 4096 || (n >= 0 && (uint64_t)n > st.size))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[4096];
	struct ozx_mem mem = { data, size };
	struct ozx_io io = ozx_io_mem(&mem);
	struct ozx_archive *a;
	struct ozx_diag d = { 0 };
	char path[OZX_MAX_PATH + 1];
	struct ozx_rfc9 r;

	for (int verify = 1; verify >= 0; verify--) {
		if (ozx_archive_open_io(&io, size, &a, &d))
			return 0;
		ozx_archive_set_verify(a, verify);
		ozx_archive_set_inflate_cache(a, 1 << 20);
		walk(a, OZX_ROOT, buf);
		if (ozx_rfc9_check(a, "fuzz.ozx", &r) == 0)
			(void)ozx_rfc9_summary(&r, (char *)buf, sizeof(buf));
		ozx_rfc9_release(&r);
		for (uint32_t i = 0; i < ozx_archive_info(a)->nnodes; i++)
			(void)ozx_node_path(a, i, path, sizeof(path));
		ozx_archive_free(a);
	}
	return 0;
}
