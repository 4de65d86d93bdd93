/*
 * test_remote.c - the parts of the remote io with no network in them:
 * Content-Range parsing, the retry policy, URL redaction, the credentials
 * file reader, S3 addressing and the block cache.  Every input here comes
 * from a server, a command line or a file a user may not control.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "remote_i.h"

static int crange(const char *s, struct ozx_crange *cr)
{
	return ozx_crange_parse(s, strlen(s), cr);
}

static void test_crange_good(void **state)
{
	struct ozx_crange cr;

	(void)state;
	assert_int_equal(crange("bytes 0-99/100", &cr), 0);
	assert_true(cr.first == 0 && cr.last == 99 && cr.total == 100);
	assert_int_equal(crange("  bytes 5-5/6 \t", &cr), 0);
	assert_true(cr.first == 5 && cr.last == 5 && cr.total == 6);
	/* A 416's: no range, the size. */
	assert_int_equal(crange("bytes */0", &cr), 0);
	assert_true(cr.first == -1 && cr.total == 0);
	/* Size unknown. */
	assert_int_equal(crange("bytes 1-2/*", &cr), 0);
	assert_true(cr.first == 1 && cr.last == 2 && cr.total == -1);
	assert_int_equal(crange("bytes 4611686018427387000-4611686018427387001/"
				"4611686018427387002",
				&cr),
			 0);
}

/* Whatever a hostile or broken server may send instead. */
static void test_crange_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"bytes",
		"bytes ",
		"bytes=0-1/2",
		"bits 0-1/2",
		"bytes 0-1",
		"bytes 1-0/5",	 /* last before first */
		"bytes 0-5/5",	 /* last past the end */
		"bytes -1-5/10", /* a sign */
		"bytes +1-5/10",
		"bytes 0-5/10x", /* trailing junk */
		"bytes 0-5/10/10",
		"bytes 0 -5/10",
		"bytes */*", /* says nothing */
		"bytes 0-99999999999999999999/100000000000000000000", /* overflow */
		"bytes 0x0-0x10/0x20",
		"bytes 0-1/2, bytes 3-4/5",
	};
	struct ozx_crange cr;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (crange(bad[i], &cr) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* Not NUL-terminated where the length ends. */
	assert_int_equal(ozx_crange_parse("bytes 0-1/29", 11, &cr), 0);
	assert_true(cr.total == 2);
}

/* Capped exponential backoff with full jitter: never above the cap,
 * never above base << (attempt - 1), and spread over the whole range. */
static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(ozx_backoff_ms(0, 200, 5000, 12345), 0);
	for (unsigned a = 1; a < 40; a++) {
		unsigned ceil = a < 6 ? 200u << (a - 1) : 5000u;

		if (ceil > 5000)
			ceil = 5000;
		for (uint32_t r = 0; r < 100000; r += 997) {
			unsigned ms =
				ozx_backoff_ms(a, 200, 5000, r * 2654435761u);

			assert_true(ms <= ceil);
		}
		assert_int_equal(ozx_backoff_ms(a, 200, 5000, ceil), ceil);
		assert_int_equal(ozx_backoff_ms(a, 200, 5000, ceil + 1), 0);
	}
	assert_int_equal(ozx_backoff_ms(UINT32_MAX, 200, 5000, 5000), 5000);
}

static void test_retryable(void **state)
{
	(void)state;
	assert_true(ozx_http_retryable(CURLE_OK, 500));
	assert_true(ozx_http_retryable(CURLE_OK, 503));
	assert_true(ozx_http_retryable(CURLE_OK, 429));
	assert_false(ozx_http_retryable(CURLE_OK, 404));
	assert_false(ozx_http_retryable(CURLE_OK, 403));
	assert_false(ozx_http_retryable(CURLE_OK, 412));
	assert_false(ozx_http_retryable(CURLE_OK, 200));
	assert_true(ozx_http_retryable(CURLE_OPERATION_TIMEDOUT, 0));
	assert_true(ozx_http_retryable(CURLE_RECV_ERROR, 0));
	assert_true(ozx_http_retryable(CURLE_GOT_NOTHING, 0));
	assert_true(ozx_http_retryable(CURLE_PARTIAL_FILE, 206));
	assert_true(ozx_http_retryable(CURLE_COULDNT_CONNECT, 0));
	/* A certificate that does not verify is not going to. */
	assert_false(ozx_http_retryable(CURLE_PEER_FAILED_VERIFICATION, 0));
	assert_false(ozx_http_retryable(CURLE_WRITE_ERROR, 206));
}

static void test_redact(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(
		ozx_url_redact("https://h/p/a.ozx?X-Amz-Signature=s", b,
			       sizeof(b)),
		"https://h/p/a.ozx");
	assert_string_equal(ozx_url_redact("http://user:pw@h:8/a.ozx#frag", b,
					   sizeof(b)),
			    "http://h:8/a.ozx");
	/* An '@' in the path is not user info. */
	assert_string_equal(ozx_url_redact("http://h/a@b.ozx", b, sizeof(b)),
			    "http://h/a@b.ozx");
	assert_string_equal(ozx_url_redact("s3://bucket/key.ozx", b, sizeof(b)),
			    "s3://bucket/key.ozx");
	/* Cut short, still terminated, no secret. */
	assert_string_equal(
		ozx_url_redact(
			"http://u:secret@h/0123456789012345678901234567890"
			"123456789012345678901234567890?sig=x",
			b, 24),
		"http://h/01234567890...");
	assert_null(strstr(b, "secret"));
	assert_string_equal(ozx_url_redact("http://h/a", b, 1), "");
	/* Malformed passwords holding '?' or '@': nothing of them shown
	 * (found in review: "https://user:pa" and "https://ss@h"). */
	assert_string_equal(ozx_url_redact("https://user:pa?ss@h/x", b,
					   sizeof(b)),
			    "https://h/x");
	assert_string_equal(ozx_url_redact("https://user:p@ss@h/x", b,
					   sizeof(b)),
			    "https://h/x");
}

/* User info in a URL: found (and so refused at open), not in the path
 * or the query. */
static void test_userinfo(void **state)
{
	(void)state;
	assert_true(ozx_url_has_userinfo("http://alice:s3cret@h/a.ozx"));
	assert_true(ozx_url_has_userinfo("https://alice@h:8/a.ozx"));
	assert_false(ozx_url_has_userinfo("http://h/a@b.ozx"));
	assert_false(ozx_url_has_userinfo("http://h/a.ozx?x=@"));
	assert_false(ozx_url_has_userinfo("s3://bucket/k@y.ozx"));
}

static const char creds[] = "# comment\n"
			    "[default]\n"
			    "aws_access_key_id = AKIDDEFAULT\n"
			    "aws_secret_access_key=secretdefault\r\n"
			    "\n"
			    "; another comment\n"
			    "[ other ]\n"
			    "  aws_access_key_id   =   AKIDOTHER  \n"
			    "aws_secret_access_key = s/e+c=r\n"
			    "aws_session_token = tok\n"
			    "[broken\n"
			    "aws_access_key_id = NOPE\n";

static void test_ini(void **state)
{
	char v[32];

	(void)state;
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "default",
				     "aws_access_key_id", v, sizeof(v)),
			 0);
	assert_string_equal(v, "AKIDDEFAULT");
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "default",
				     "aws_secret_access_key", v, sizeof(v)),
			 0);
	assert_string_equal(v, "secretdefault");
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "other",
				     "aws_access_key_id", v, sizeof(v)),
			 0);
	assert_string_equal(v, "AKIDOTHER");
	/* Only the first '=' splits. */
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "other",
				     "aws_secret_access_key", v, sizeof(v)),
			 0);
	assert_string_equal(v, "s/e+c=r");
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "default",
				     "aws_session_token", v, sizeof(v)),
			 -ENOENT);
	/* After a malformed section header, no section is open. */
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "other",
				     "aws_access_key_id", v, sizeof(v)),
			 0);
	assert_string_equal(v, "AKIDOTHER");
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "missing",
				     "aws_access_key_id", v, sizeof(v)),
			 -ENOENT);
	/* Too long for the buffer: refused, not cut. */
	assert_int_equal(ozx_ini_get(creds, strlen(creds), "default",
				     "aws_access_key_id", v, 5),
			 -EINVAL);
}

/* Hostile files: NULs, control bytes, huge lines, no newline at all. */
static void test_ini_hostile(void **state)
{
	static const char nul[] = "[default]\naws_access_key_id = A\0B\n";
	static const char ctl[] = "[default]\naws_access_key_id = A\x1b[2J\n";
	size_t big = 100000;
	char *huge = malloc(big + 64), v[32];

	(void)state;
	assert_int_equal(ozx_ini_get(nul, sizeof(nul) - 1, "default",
				     "aws_access_key_id", v, sizeof(v)),
			 -EINVAL);
	assert_int_equal(ozx_ini_get(ctl, sizeof(ctl) - 1, "default",
				     "aws_access_key_id", v, sizeof(v)),
			 -EINVAL);
	assert_non_null(huge);
	strcpy(huge, "[default]\n");
	memset(huge + 10, 'x', big);
	strcpy(huge + 10 + big, "\naws_access_key_id = A\n");
	assert_int_equal(ozx_ini_get(huge, strlen(huge), "default",
				     "aws_access_key_id", v, sizeof(v)),
			 -EINVAL);
	free(huge);
	assert_int_equal(ozx_ini_get("[default]", 9, "default", "k", v,
				     sizeof(v)),
			 -ENOENT);
	assert_int_equal(ozx_ini_get("k=v", 3, "default", "k", v, sizeof(v)),
			 -ENOENT);
	assert_int_equal(ozx_ini_get("", 0, "default", "k", v, sizeof(v)),
			 -ENOENT);
}

static void test_s3_key(void **state)
{
	char *e = ozx_s3_encode_key("a b/c+d/\xc3\xa9~_.-%?#");

	(void)state;
	assert_string_equal(e, "a%20b/c%2Bd/%C3%A9~_.-%25%3F%23");
	free(e);
}

static void test_s3_resolve(void **state)
{
	struct ozx_remote_err err = { 0 };
	struct ozx_s3 s;

	(void)state;
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/creds", 1);
	setenv("AWS_REGION", "eu-west-1", 1);
	unsetenv("AWS_ENDPOINT_URL");
	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "sec:ret", 1);
	setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
	assert_int_equal(
		ozx_s3_resolve("s3://my-bucket/a/b c.ozx", false, &s, &err), 0);
	assert_string_equal(s.url,
			    "https://my-bucket.s3.eu-west-1.amazonaws.com/a/"
			    "b%20c.ozx");
	assert_string_equal(s.sigv4, "aws:amz:eu-west-1:s3");
	assert_string_equal(s.userpwd, "AKID:sec:ret");
	assert_string_equal(s.token, "x-amz-security-token: TOKEN");
	ozx_s3_release(&s);

	/* Dotted buckets go path-style (the TLS wildcard), as do custom
	 * endpoints. */
	assert_int_equal(ozx_s3_resolve("s3://my.bucket/k", true, &s, &err), 0);
	assert_string_equal(s.url, "https://s3.eu-west-1.amazonaws.com/"
				   "my.bucket/k");
	assert_null(s.sigv4);
	assert_null(s.userpwd);
	ozx_s3_release(&s);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
	assert_int_equal(ozx_s3_resolve("s3://bkt/k", true, &s, &err), 0);
	assert_string_equal(s.url, "http://127.0.0.1:9000/bkt/k");
	ozx_s3_release(&s);

	/* Refused: bad bucket names, a key ID with a colon, no key. */
	assert_int_equal(ozx_s3_resolve("s3://Bad_Bucket/k", true, &s, &err),
			 -EINVAL);
	assert_int_equal(ozx_s3_resolve("s3://bkt.evil.com@x/k", true, &s,
					&err),
			 -EINVAL);
	assert_int_equal(ozx_s3_resolve("s3://bkt/", true, &s, &err), -EINVAL);
	setenv("AWS_ACCESS_KEY_ID", "AK:ID", 1);
	assert_int_equal(ozx_s3_resolve("s3://bkt/k", false, &s, &err),
			 -EINVAL);
	assert_null(strstr(err.msg, "sec:ret"));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	/* No credentials anywhere: a message that says what to set. */
	assert_int_equal(ozx_s3_resolve("s3://bkt/k", false, &s, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "anonymous"));
	setenv("AWS_REGION", "eu-west-1/../x", 1);
	assert_int_equal(ozx_s3_resolve("s3://bkt/k", true, &s, &err), -EINVAL);
	unsetenv("AWS_REGION");
	unsetenv("AWS_ENDPOINT_URL");
}

/* The cache holds at most cap bytes, evicts the least recently used
 * block first, never a referenced one, and refuses when all are. */
static void test_bcache(void **state)
{
	struct ozx_bcache c;
	struct ozx_blk *b[8], *x;
	bool present;

	(void)state;
	assert_int_equal(ozx_bcache_init(&c, 4 * 16, 16), 0);
	for (int i = 0; i < 4; i++) {
		b[i] = ozx_bcache_alloc(&c, (uint64_t)i, 16, &present);
		assert_non_null(b[i]);
		memset(b[i]->data, 'a' + i, 16);
		ozx_bcache_ready(&c, b[i]);
	}
	assert_int_equal(c.used, 64);
	/* All four referenced: no room for a fifth. */
	assert_null(ozx_bcache_alloc(&c, 4, 16, &present));
	assert_false(present);
	for (int i = 0; i < 4; i++)
		ozx_bcache_put(&c, b[i]);
	/* Touch block 0: block 1 is now the least recently used. */
	x = ozx_bcache_get(&c, 0);
	assert_non_null(x);
	assert_int_equal(x->data[0], 'a');
	ozx_bcache_put(&c, x);
	b[4] = ozx_bcache_alloc(&c, 4, 16, &present);
	assert_non_null(b[4]);
	assert_false(ozx_bcache_has(&c, 1));
	assert_true(ozx_bcache_has(&c, 0));
	/* Loading: in the map (nobody fetches it twice), counted. */
	assert_true(ozx_bcache_has(&c, 4));
	assert_null(ozx_bcache_alloc(&c, 4, 16, &present));
	assert_true(present);
	assert_int_equal(c.used, 64);
	ozx_bcache_ready(&c, b[4]);
	ozx_bcache_put(&c, b[4]);
	x = ozx_bcache_get(&c, 4);
	assert_non_null(x);
	ozx_bcache_put(&c, x);

	/* A failed fetch: out of the map, its bytes back with the last
	 * reference; a later get is a miss. */
	x = ozx_bcache_alloc(&c, 7, 16, &present);
	assert_non_null(x);
	ozx_bcache_abort(&c, x);
	assert_false(ozx_bcache_has(&c, 7));
	ozx_bcache_put(&c, x);
	assert_int_equal(c.used, 48);
	assert_null(ozx_bcache_get(&c, 7));

	/* A short last block; one larger than a block is refused. */
	assert_null(ozx_bcache_alloc(&c, 9, 17, &present));
	x = ozx_bcache_alloc(&c, 9, 3, &present);
	assert_non_null(x);
	ozx_bcache_abort(&c, x);
	ozx_bcache_put(&c, x);
	assert_true(c.used <= 64);
	assert_null(ozx_bcache_get(&c, 1));
	assert_true(c.hits >= 1 && c.misses >= 1);

	/* Memory is reused: 100 more blocks through a cache of 4 allocate
	 * nothing new (a fresh page costs more than the copy into it). */
	assert_int_equal(c.fresh, 4);
	for (int i = 100; i < 200; i++) {
		x = ozx_bcache_alloc(&c, (uint64_t)i, 16, &present);
		assert_non_null(x);
		ozx_bcache_ready(&c, x);
		ozx_bcache_put(&c, x);
	}
	assert_int_equal(c.fresh, 4);
	assert_true(c.used <= 64);
	ozx_bcache_release(&c);
}

struct waiter {
	struct ozx_bcache *c;
	uint64_t idx;
	struct ozx_blk *got;
};

static void *wait_get(void *arg)
{
	struct waiter *w = arg;

	w->got = ozx_bcache_get(w->c, w->idx);
	return NULL;
}

/* A reader of a loading block waits for its fetch: it gets the filled
 * block, or a miss if the fetch was aborted. */
static void test_bcache_wait(void **state)
{
	struct ozx_bcache c;
	struct waiter w = { &c, 0, NULL };
	struct ozx_blk *b;
	pthread_t t;
	bool present;

	(void)state;
	assert_int_equal(ozx_bcache_init(&c, 64, 16), 0);
	for (int abort = 0; abort < 2; abort++) {
		w.idx = 5 + (uint64_t)abort;
		b = ozx_bcache_alloc(&c, w.idx, 16, &present);
		assert_non_null(b);
		assert_int_equal(pthread_create(&t, NULL, wait_get, &w), 0);
		/* Let it reach the wait (if it does not, it sees the end). */
		for (int i = 0; i < 1000; i++)
			sched_yield();
		memset(b->data, 'z', 16);
		if (abort)
			ozx_bcache_abort(&c, b);
		else
			ozx_bcache_ready(&c, b);
		ozx_bcache_put(&c, b);
		assert_int_equal(pthread_join(t, NULL), 0);
		if (abort) {
			assert_null(w.got);
		} else {
			assert_non_null(w.got);
			assert_int_equal(w.got->data[15], 'z');
			ozx_bcache_put(&c, w.got);
		}
	}
	assert_int_equal(c.used, 16);
	ozx_bcache_release(&c);
}

static void test_is_url(void **state)
{
	(void)state;
	assert_true(ozx_is_url("http://h/a"));
	assert_true(ozx_is_url("https://h/a"));
	assert_true(ozx_is_url("s3://b/k"));
	assert_false(ozx_is_url("HTTP://h/a"));
	assert_false(ozx_is_url("./http://h"));
	assert_false(ozx_is_url("file:///a.ozx"));
	assert_false(ozx_is_url("a.ozx"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crange_good),
		cmocka_unit_test(test_crange_bad),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_userinfo),
		cmocka_unit_test(test_ini),
		cmocka_unit_test(test_ini_hostile),
		cmocka_unit_test(test_s3_key),
		cmocka_unit_test(test_s3_resolve),
		cmocka_unit_test(test_bcache),
		cmocka_unit_test(test_bcache_wait),
		cmocka_unit_test(test_is_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
