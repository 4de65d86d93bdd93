/*
 * fuzz_json - libFuzzer harness for the one JSON reader (core/json.c) and
 * the RFC-9 layer's reading of JSON (core/rfc9.c): the input as a whole
 * document and as JSON followed by padding, with the paths the layer asks
 * for; as a root zarr.json; and as an archive comment and ZIP64
 * extensible data.  Any crash, sanitizer report or hang is a finding, and
 * so is an answer that contradicts another (the end of a value past the
 * text, a string said to fit that is not NUL-terminated where it ends).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ozx.h"
#include "rfc9.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void query(const char *s, size_t len, const char *const *path)
{
	struct ozx_json_res res, pre;
	char out[16];

	if (ozx_json_parse(s, len, 0, path, out, sizeof(out), &res) == 0) {
		if (res.end != len || res.top == OZX_JSON_ABSENT)
			abort();
		if (res.kind == OZX_JSON_STRING && !res.truncated &&
		    memchr(out, '\0', sizeof(out)) == NULL)
			abort();
		/* what is valid whole is valid as a prefix, to its end */
		if (ozx_json_parse(s, len, OZX_JSON_PREFIX, path, NULL, 0,
				   &pre) ||
		    pre.top != res.top || pre.kind != res.kind)
			abort();
	} else if (res.top != OZX_JSON_ABSENT || out[0]) {
		abort();
	}
	if (ozx_json_parse(s, len, OZX_JSON_PREFIX, path, out, sizeof(out),
			   &pre) == 0 &&
	    pre.end > len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[][5] = {
		{ "ome", NULL },
		{ "ome", "version", NULL },
		{ "ome", "zipFile", "centralDirectory", "jsonFirst", NULL },
		{ "attributes", "ome", "version", NULL },
	};
	/* A NUL-terminated copy, as the archive hands out its comment. */
	char *s = malloc(size + 1), v[32];
	struct ozx_info info = { 0 };
	struct ozx_rfc9_comment c;
	size_t half = size / 2;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	query(s, size, NULL);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		query(s, size, paths[i]);
	(void)ozx_rfc9_zarr_json(s, size, v, sizeof(v));
	if (memchr(v, '\0', sizeof(v)) == NULL)
		abort();
	/* the first half as the comment, the rest as the ZIP64 data */
	info.comment = s;
	info.comment_len = half;
	info.ext_data = s + half;
	info.ext_len = size - half;
	ozx_rfc9_comment_read(&info, &c);
	if (c.in_eocd64 && !c.json)
		abort();
	if (c.json_first < -1 || c.json_first > 1 ||
	    memchr(c.ome_version, '\0', sizeof(c.ome_version)) == NULL)
		abort();
	free(s);
	return 0;
}
