/*
 * ozx_remote.h - archives behind a URL: an ozx_io made of HTTP(S) range
 * requests (libcurl), for http://, https:// and s3:// sources.
 *
 * The object is pinned at open: its size and its ETag (or, without a
 * strong ETag, its Last-Modified) are recorded from the first response,
 * and every later request is conditional on them (If-Match, or
 * If-Unmodified-Since).  An object replaced on the server therefore never
 * yields a byte of the new version: the request fails with 412, and from
 * then on every read of the io fails with -EIO (one log line says why).
 * The size and the validator of every response are compared as well, for
 * servers that ignore the condition.  A body shorter or longer than asked,
 * or a Content-Range other than the one asked for, is an error, never
 * data.
 *
 * Reads go through a bounded block cache (aligned blocks, least recently
 * used evicted first): the open's first request asks for the end of the
 * object (Range: bytes=-N), which gives its size and validator and usually
 * the whole central directory; the index then reads from the cache.  A
 * hint (the core's, from the archive open for the central directory and
 * from entry verification) fetches a whole missing range in one request,
 * and sequential misses grow a readahead window.
 *
 * Transient failures (timeouts, connections reset or refused, HTTP 5xx
 * and 429, bodies cut short) are retried with capped exponential backoff
 * and full jitter, a bounded number of times; then that read fails with
 * -EIO and the next read starts afresh.
 *
 * Nothing here prints: what is worth saying goes to the log callback, and
 * no message holds a secret (credentials, the query string or user info
 * of a URL).
 */
#ifndef OZX_REMOTE_H
#define OZX_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ozx.h"

/* Log levels: syslog's (and fuse_log's) numbers. */
enum ozx_log_level {
	OZX_LOG_ERR = 3,
	OZX_LOG_WARNING = 4,
	OZX_LOG_NOTICE = 5,
	OZX_LOG_INFO = 6,
	OZX_LOG_DEBUG = 7,
};

/* msg is one line without a newline, and holds no secret. */
typedef void (*ozx_log_fn)(void *ctx, int level, const char *msg);

#define OZX_REMOTE_BLOCK ((size_t)128 << 10)
#define OZX_REMOTE_CACHE_DEFAULT ((size_t)64 << 20)
#define OZX_REMOTE_CACHE_MIN ((size_t)1 << 20)
#define OZX_REMOTE_RETRIES_DEFAULT 4u
#define OZX_REMOTE_TIMEOUT_DEFAULT 30u
/* The open's first request: the last 1 MiB of the object and the block
 * it starts in, so at least 1 MiB lands in the cache. */
#define OZX_REMOTE_TAIL (((size_t)1 << 20) + OZX_REMOTE_BLOCK)

struct ozx_remote_opts {
	size_t cache_size; /* bytes, at least OZX_REMOTE_CACHE_MIN;
			    * 0: OZX_REMOTE_CACHE_DEFAULT */
	unsigned retries;  /* tries after the first failed one */
	unsigned timeout;  /* seconds to connect, and seconds without a
			    * byte, before a try fails; 0: the default */
	bool anonymous;	   /* s3://: unsigned requests (public objects) */
	ozx_log_fn log;	   /* may be NULL */
	void *log_ctx;
};

/* Defaults for every field (log NULL). */
void ozx_remote_opts_init(struct ozx_remote_opts *o);

struct ozx_remote;

/* Whether s names a remote source: http://, https:// or s3://. */
bool ozx_is_url(const char *s);

/*
 * What went wrong at open, for the one-line message: status is the HTTP
 * status that refused the open (0 if none), msg says why without any
 * secret.
 */
struct ozx_remote_err {
	long status;
	char msg[256];
};

/*
 * Open the object at url (http://, https:// or s3://bucket/key; for s3,
 * the AWS_* environment and ~/.aws/credentials are read, see ozxfs(1)),
 * with one request: the end of the object.  Returns 0 and sets *out, or:
 *   -EINVAL  the URL is malformed, or s3:// credentials are unusable
 *   -ENOENT  HTTP 404 or 410: no such object
 *   -EACCES  HTTP 401 or 403: refused (wrong or missing credentials)
 *   -EOPNOTSUPP  the server does not answer range requests
 *   -EIO     the server could not be reached, or answered nonsense,
 *            after the retries
 *   -ENOMEM  out of memory
 * err (may be NULL) says more.  *out is NULL on failure.
 */
int ozx_remote_open(const char *url, const struct ozx_remote_opts *o,
		    struct ozx_remote **out, struct ozx_remote_err *err);

/*
 * Stop for good: transfers in progress end within a fraction of a
 * second (curl's progress callback), waits between tries at once, and
 * every read from now on fails with -ECANCELED.  Only sets a flag, so it
 * may be called from a signal handler (as ozx_archive_cancel()).  NULL
 * is a no-op.
 */
void ozx_remote_cancel(struct ozx_remote *r);

/* Release everything; NULL is a no-op.  After the archive using its io. */
void ozx_remote_free(struct ozx_remote *r);

/* The io reading the object: thread-safe, keeps no position; its ctx
 * lives as long as r. */
struct ozx_io ozx_remote_io(struct ozx_remote *r);

/* The object's size, as pinned at open. */
uint64_t ozx_remote_size(const struct ozx_remote *r);

/* The URL to show: scheme, host and path only (no user info, no query),
 * made printable (ozx_escape). */
const char *ozx_remote_shown(const struct ozx_remote *r);

/* What pins the object: "ETag", "Last-Modified", or NULL if the server
 * sent neither (then only a change of size can be noticed). */
const char *ozx_remote_pinned_by(const struct ozx_remote *r);

struct ozx_remote_stats {
	uint64_t requests; /* HTTP requests sent, retries included */
	uint64_t retries;
	uint64_t bytes;	       /* body bytes received */
	uint64_t hits, misses; /* block cache */
	size_t cache_used, cache_cap;
};
void ozx_remote_stats(const struct ozx_remote *r, struct ozx_remote_stats *s);

/*
 * Pieces with no network in them, for the unit tests.
 */

/* A Content-Range value: "bytes FIRST-LAST/TOTAL", or with a star for
 * the range (a 416 answer's) or for TOTAL (unknown): first and last, or
 * total, are then -1. */
struct ozx_crange {
	int64_t first, last, total;
};
/* 0, or -EINVAL for anything else (signs, overflow, last < first,
 * last >= total). */
int ozx_crange_parse(const char *s, size_t len, struct ozx_crange *cr);

/* Milliseconds to wait before try number attempt (1 for the first retry):
 * a uniform pick (from rnd) in [0, min(cap_ms, base_ms << (attempt-1))]. */
unsigned ozx_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
			uint32_t rnd);

/* Whether a failed try is worth another: curl_code a CURLcode (0 for a
 * completed transfer), status the HTTP status (0 if none). */
bool ozx_http_retryable(int curl_code, long status);

/* url without user info, query or fragment, into buf (always
 * terminated; cut short, "...", if it does not fit).  Returns buf. */
char *ozx_url_redact(const char *url, char *buf, size_t size);

/* Whether url has user info (user:password@) before its host. */
bool ozx_url_has_userinfo(const char *url);

/*
 * The value of key in [section] of an INI text (the AWS credentials file
 * format: "[name]", "key = value", '#' and ';' comments), copied into
 * val.  Lines longer than 4096 bytes, and values that do not fit, are
 * refused.  Returns 0, -ENOENT if absent, -EINVAL for a value that does
 * not fit or holds a control character.
 */
int ozx_ini_get(const char *text, size_t len, const char *section,
		const char *key, char *val, size_t size);

#endif /* OZX_REMOTE_H */
