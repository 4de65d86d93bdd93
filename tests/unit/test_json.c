/*
 * test_json.c - the one JSON reader (core/json.c) and the RFC-9 layer's
 * reading of JSON (core/rfc9.c): the RFC 8259 grammar, strings with their
 * escapes and UTF-8, the depth bound, values by path, JSON with padding
 * after it; a root zarr.json as large as the layer reads (64 MiB) costs
 * bounded time; and the reason codes with their texts.
 */
#include "config.h"

#include "json.h"
#include "ozx.h"
#include "rfc9.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

static int parse(const char *s)
{
	struct ozx_json_res res;

	return ozx_json_parse(s, strlen(s), 0, NULL, NULL, 0, &res);
}

/* Valid by the grammar, and what the document is. */
static void test_json_valid(void **state)
{
	static const struct {
		const char *s;
		enum ozx_json_kind top;
	} ok[] = {
		{ "{}", OZX_JSON_OBJECT },
		{ " [ ] ", OZX_JSON_ARRAY },
		{ "0", OZX_JSON_NUMBER },
		{ "-0", OZX_JSON_NUMBER },
		{ "-12.5e+3", OZX_JSON_NUMBER },
		{ "1E-2", OZX_JSON_NUMBER },
		{ "true", OZX_JSON_TRUE },
		{ "false", OZX_JSON_FALSE },
		{ "null", OZX_JSON_NULL },
		{ "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"", OZX_JSON_STRING },
		{ "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", OZX_JSON_STRING },
		{ "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", OZX_JSON_OBJECT },
	};
	struct ozx_json_res res;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int ret = ozx_json_parse(ok[i].s, strlen(ok[i].s), 0, NULL,
					 NULL, 0, &res);

		if (ret || res.top != ok[i].top)
			print_error("%s: %d, kind %d\n", ok[i].s, ret, res.top);
		assert_int_equal(ret, 0);
		assert_int_equal(res.top, ok[i].top);
		assert_int_equal(res.end, strlen(ok[i].s));
	}
}

/* What the lax reader took and the strict one never did: numbers out of
 * the grammar, bad escapes, control characters, bad UTF-8, junk. */
static void test_json_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		" ",
		"01",
		"1.",
		".5",
		"-",
		"1e",
		"1e+",
		"+1",
		"1.2.3",
		"0x10",
		"1-2",
		"--1",
		"tru",
		"nul",
		"True",
		"\"abc",
		"\"\\x\"",
		"\"\\u12g4\"",
		"\"\\u123\"",
		"\"a\tb\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"\"\xe2\x82\"",
		"\"\xff\"",
		"{",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\":1,}",
		"[1,]",
		"[1 2]",
		"{1:2}",
		"{\"a\":1}}",
		"{} x",
		"[]]",
		"\"a\" \"b\"",
		"{\"a\" 1}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i]);

		if (ret != -EINVAL)
			print_error("taken: '%s'\n", bad[i]);
		assert_int_equal(ret, -EINVAL);
	}
}

/* A string in JSON text: its decoded bytes. */
static void decoded(const char *json, const char *want, size_t want_len)
{
	static const char *const path[] = { "k", NULL };
	struct ozx_json_res res;
	char out[64];
	char doc[128];

	snprintf(doc, sizeof(doc), "{\"k\":%s}", json);
	assert_int_equal(ozx_json_parse(doc, strlen(doc), 0, path, out,
					sizeof(out), &res),
			 0);
	assert_int_equal(res.kind, OZX_JSON_STRING);
	assert_false(res.truncated);
	assert_memory_equal(out, want, want_len + 1);
}

static void test_json_strings(void **state)
{
	(void)state;
	decoded("\"a\\nb\"", "a\nb", 3);
	decoded("\"\\u00e9\"", "\xc3\xa9", 2);
	/* a surrogate pair is one character */
	decoded("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	/* a lone surrogate is valid JSON but no character: U+FFFD */
	decoded("\"\\ud800x\"", "\xef\xbf\xbdx", 4);
	decoded("\"\\udc00\"", "\xef\xbf\xbd", 3);
	decoded("\"\\ud800\\u0041\"",
		"\xef\xbf\xbd"
		"A",
		4);
}

/* Values by path: nested keys, the last duplicate wins (at any level of
 * the path), arrays are not looked into, a string that does not fit is
 * said to be truncated. */
static void test_json_path(void **state)
{
	static const char *const path[] = { "a", "b", NULL };
	static const char doc1[] = "{\"a\":{\"b\":\"x\",\"b\":\"yz\"}}";
	static const char doc2[] = "{\"a\":[{\"b\":\"x\"}],\"b\":\"q\"}";
	static const char doc3[] = "{\"a\":{\"b\":\"0123456789\"}}";
	static const char doc4[] = "{\"a\":{\"b\":{\"c\":1}}}";
	static const char doc5[] = "{\"a\":{\"b\":\"x\"},\"a\":1}";
	static const char doc6[] = "{\"a\":{\"b\":\"x\"},\"a\":{\"b\":\"w\"}}";
	struct ozx_json_res res;
	char out[8];

	(void)state;
	assert_int_equal(ozx_json_parse(doc1, strlen(doc1), 0, path, out,
					sizeof(out), &res),
			 0);
	assert_int_equal(res.kind, OZX_JSON_STRING);
	assert_string_equal(out, "yz");
	assert_int_equal(ozx_json_parse(doc2, strlen(doc2), 0, path, out,
					sizeof(out), &res),
			 0);
	assert_int_equal(res.kind, OZX_JSON_ABSENT);
	assert_string_equal(out, "");
	assert_int_equal(ozx_json_parse(doc3, strlen(doc3), 0, path, out,
					sizeof(out), &res),
			 0);
	assert_int_equal(res.kind, OZX_JSON_STRING);
	assert_true(res.truncated);
	assert_string_equal(out, "0123456");
	assert_int_equal(ozx_json_parse(doc4, strlen(doc4), 0, path, out,
					sizeof(out), &res),
			 0);
	assert_int_equal(res.kind, OZX_JSON_OBJECT);
	/* a later duplicate of a key on the path replaces what the first
	 * held, deeper keys included (Python's json reads a as 1) */
	assert_int_equal(ozx_json_parse(doc5, strlen(doc5), 0, path, out,
					sizeof(out), &res),
			 0);
	assert_int_equal(res.kind, OZX_JSON_ABSENT);
	assert_string_equal(out, "");
	assert_int_equal(ozx_json_parse(doc6, strlen(doc6), 0, path, out,
					sizeof(out), &res),
			 0);
	assert_int_equal(res.kind, OZX_JSON_STRING);
	assert_string_equal(out, "w");
	/* invalid text: nothing found, out emptied */
	assert_int_equal(ozx_json_parse(doc1, strlen(doc1) - 1, 0, path, out,
					sizeof(out), &res),
			 -EINVAL);
	assert_int_equal(res.kind, OZX_JSON_ABSENT);
	assert_string_equal(out, "");
}

/* With OZX_JSON_PREFIX what follows the value is not read; end says
 * where the value ended. */
static void test_json_prefix(void **state)
{
	static const char doc[] = "{\"a\":1}  \x01\x02junk";
	struct ozx_json_res res;

	(void)state;
	assert_int_equal(ozx_json_parse(doc, sizeof(doc) - 1, 0, NULL, NULL, 0,
					&res),
			 -EINVAL);
	assert_int_equal(ozx_json_parse(doc, sizeof(doc) - 1, OZX_JSON_PREFIX,
					NULL, NULL, 0, &res),
			 0);
	assert_int_equal(res.top, OZX_JSON_OBJECT);
	assert_int_equal(res.end, 7);
}

/* Parse n arrays nested, with a value at the bottom if leaf. */
static int nested(size_t n, bool leaf)
{
	struct ozx_json_res res;
	char *s = malloc(2 * n + 2);
	size_t k = 0;
	int ret;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[k++] = '[';
	if (leaf)
		s[k++] = '0';
	for (size_t i = 0; i < n; i++)
		s[k++] = ']';
	ret = ozx_json_parse(s, k, 0, NULL, NULL, 0, &res);
	free(s);
	return ret;
}

/* Values nest at most OZX_JSON_MAX_DEPTH deep: the top value is at depth
 * 0, so that many arrays may hold a value, and one more may be empty. */
static void test_json_depth(void **state)
{
	(void)state;
	assert_int_equal(nested(OZX_JSON_MAX_DEPTH, true), 0);
	assert_int_equal(nested(OZX_JSON_MAX_DEPTH + 1, true), -EINVAL);
	assert_int_equal(nested(OZX_JSON_MAX_DEPTH + 1, false), 0);
	assert_int_equal(nested(OZX_JSON_MAX_DEPTH + 2, false), -EINVAL);
	assert_int_equal(nested(100000, false), -EINVAL);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A root zarr.json as large as the RFC-9 layer reads (64 MiB): objects
 * nested to the depth limit many times over, each with a long string and
 * an escaped one, then a long flat array of numbers, and the version
 * string last.  One pass: the reader allocates nothing, so the only
 * memory is the document's, and the time is that of a linear scan (a few
 * hundred milliseconds; 20 s allows for valgrind and a loaded machine).
 */
static void test_json_64mib(void **state)
{
	const size_t max = OZX_RFC9_ROOT_JSON_MAX;
	static const char tail[] =
		"0],\"attributes\":{\"ome\":{\"version\":\"0.5\"}}}";
	char *s = malloc(max), v[32];
	size_t n = 0;
	double t0;

	(void)state;
	assert_non_null(s);
	n += (size_t)sprintf(s, "{\"nest\":[");
	while (n < max / 2) {
		for (int d = 0; d < OZX_JSON_MAX_DEPTH - 2; d++)
			n += (size_t)sprintf(s + n, "{\"k\\u00e9\\n\":");
		n += (size_t)sprintf(s + n, "\"%0200d\"", 0);
		for (int d = 0; d < OZX_JSON_MAX_DEPTH - 2; d++)
			s[n++] = '}';
		s[n++] = ',';
	}
	s[n - 1] = ']';
	n += (size_t)sprintf(s + n, ",\"flat\":[");
	while (n < max - sizeof(tail) - 16)
		n += (size_t)sprintf(s + n, "-1.5e3,");
	memcpy(s + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	assert_true(n <= max);
	t0 = now();
	assert_int_equal(ozx_rfc9_zarr_json(s, n, v, sizeof(v)),
			 OZX_RFC9_ZARR_OBJECT);
	assert_string_equal(v, "0.5");
	/* its last byte wrong: refused, after the whole pass */
	s[n - 1] = ']';
	assert_int_equal(ozx_rfc9_zarr_json(s, n, v, sizeof(v)),
			 OZX_RFC9_ZARR_INVALID);
	if (now() - t0 > 20.0)
		fail_msg("two passes over 64 MiB took %.1f s", now() - t0);
	free(s);
}

/* What a root zarr.json is, and its version. */
static void test_rfc9_zarr_json(void **state)
{
	static const struct {
		const char *s;
		enum ozx_rfc9_zarr what;
		const char *v;
	} t[] = {
		{ "{\"attributes\":{\"ome\":{\"version\":\"0.5\"}}}",
		  OZX_RFC9_ZARR_OBJECT, "0.5" },
		{ "{\"attributes\":{\"ome\":{\"version\":5}}}",
		  OZX_RFC9_ZARR_OBJECT, "" },
		{ "{\"attributes\":{}}", OZX_RFC9_ZARR_OBJECT, "" },
		{ "[{\"attributes\":{\"ome\":{\"version\":\"0.5\"}}}]",
		  OZX_RFC9_ZARR_NOT_OBJECT, "" },
		{ "{\"attributes\":", OZX_RFC9_ZARR_INVALID, "" },
	};
	char v[32];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(ozx_rfc9_zarr_json(t[i].s, strlen(t[i].s), v,
						    sizeof(v)),
				 t[i].what);
		assert_string_equal(v, t[i].v);
	}
}

/* The comment's RFC-9 JSON, read as the mount and ozx check read it. */
static void test_rfc9_comment_read(void **state)
{
	static const char ok[] =
		"{\"ome\":{\"version\":\"0.5\",\"zipFile\":"
		"{\"centralDirectory\":{\"jsonFirst\":false}}}}";
	static const char ext[] = "\x01\x02\x10\x00{\"ome\":{\"version\":"
				  "\"0.6\"}}\0\0\0";
	struct ozx_info info = { 0 };
	struct ozx_rfc9_comment c;

	(void)state;
	/* with the NUL of older drafts */
	info.comment = ok;
	info.comment_len = sizeof(ok);
	ozx_rfc9_comment_read(&info, &c);
	assert_true(c.json);
	assert_true(c.trailing_nul);
	assert_false(c.in_eocd64);
	assert_true(c.has_version);
	assert_string_equal(c.ome_version, "0.5");
	assert_int_equal(c.json_first, 0);
	/* a number the lax reader took: not JSON, so the ZIP64 data's */
	info.comment = "{\"ome\":{\"version\":\"0.5\",\"n\":1.2.3}}";
	info.comment_len = strlen(info.comment);
	info.ext_data = ext;
	info.ext_len = sizeof(ext) - 1;
	ozx_rfc9_comment_read(&info, &c);
	assert_true(c.json);
	assert_true(c.in_eocd64);
	assert_false(c.trailing_nul);
	assert_string_equal(c.ome_version, "0.6");
	assert_int_equal(c.json_first, -1);
	/* neither */
	info.ext_len = 4;
	ozx_rfc9_comment_read(&info, &c);
	assert_false(c.json);
	assert_false(c.in_eocd64);
	assert_int_equal(c.top, OZX_JSON_ABSENT);
	assert_string_equal(c.ome_version, "");
	/* a version too long to keep is still a version */
	info.comment = "{\"ome\":{\"version\":"
		       "\"0123456789012345678901234567890123456789\"}}";
	info.comment_len = strlen(info.comment);
	ozx_rfc9_comment_read(&info, &c);
	assert_true(c.json);
	assert_true(c.has_version);
	assert_string_equal(c.ome_version, "");
}

/* Every reason has a text, and the texts callers used to compare are
 * the codes' texts. */
static void test_reason_text(void **state)
{
	(void)state;
	assert_string_equal(ozx_reason_text(OZX_R_NONE), "");
	assert_string_equal(ozx_reason_text(OZX_R_MULTI_DISK),
			    "multi-disk archive");
	assert_string_equal(ozx_reason_text(OZX_R_NAME_SUPERSEDED),
			    "superseded by a later record of the same name");
	assert_string_equal(ozx_reason_text(OZX_R_ENTRY_CRC),
			    "CRC-32 mismatch");
	assert_string_equal(ozx_reason_text(OZX_R_COUNT), "");
	for (int r = OZX_R_NOT_REGULAR; r <= OZX_R_TOO_MANY_DIRS; r++)
		assert_true(ozx_reason_text((enum ozx_reason)r)[0]);
	for (int r = OZX_R_NAME_EMPTY; r <= OZX_R_NAME_SHADOWED; r++)
		assert_true(ozx_reason_text((enum ozx_reason)r)[0]);
	for (int r = OZX_R_ENTRY_CRC; r <= OZX_R_ENTRY_STORED_SIZE; r++)
		assert_true(ozx_reason_text((enum ozx_reason)r)[0]);
	assert_true(ozx_reason_text(OZX_R_ENTRY_TRAILING)[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_valid),
		cmocka_unit_test(test_json_invalid),
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_json_path),
		cmocka_unit_test(test_json_prefix),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_64mib),
		cmocka_unit_test(test_rfc9_zarr_json),
		cmocka_unit_test(test_rfc9_comment_read),
		cmocka_unit_test(test_reason_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
