/*
 * remote.c - the remote io (ozx_remote.h): an object read with HTTP range
 * requests through libcurl, pinned at open, cached in blocks.
 *
 * Connections.  Easy handles are pooled: a read takes one (or makes one),
 * and gives it back, so there are never more handles than reads in
 * flight, and a handle keeps its connection from one read to the next.
 * All handles share one curl share object for DNS, TLS sessions and the
 * connection pool, so a connection opened by one thread serves the next
 * request of any other.
 *
 * Checking every response.  The body is written only after its headers
 * were found right: a 206 whose Content-Range is exactly the range asked
 * for (of the pinned size), whose ETag (or Last-Modified) is the pinned
 * one where the server sends it.  Anything else aborts the transfer before
 * a byte lands, and a body longer than asked aborts it too; a shorter one
 * fails the try.  So a buffer or a cache block holds the bytes of the
 * pinned object or the try failed.
 *
 * Changes.  Every request after the first carries If-Match (the strong
 * ETag) or If-Unmodified-Since (the Last-Modified, when no strong ETag
 * came).  A 412, or a response of another size or validator, means the
 * object was replaced: the io then fails every read for good (with one
 * log line), since no byte of the new object may mix with the old index.
 * The core's stamp check is not needed (stamp is NULL): a read through
 * this io cannot return new bytes.  What it cannot see: a replacement
 * within the same second on a server that gives no strong ETag (the
 * resolution of If-Unmodified-Since), or a server that changes the bytes
 * and keeps both validators.
 */
#include "config.h"

#include "remote_i.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Longest ETag or Last-Modified kept (longer ones pin nothing). */
#define VALIDATOR_MAX 256
/* Backoff between tries: 200 ms doubling, capped at 5 s. */
#define BACKOFF_BASE_MS 200u
#define BACKOFF_CAP_MS 5000u
/* Readahead: sequential streams followed at once, and their largest
 * window (also at most an eighth of the cache). */
#define RA_STREAMS 8
#define RA_MAX ((size_t)8 << 20)

struct ra_stream {
	uint64_t next; /* block where the stream's next miss is expected */
	size_t win;    /* blocks read ahead last time */
};

/*
 * Prefetch across hints: when a hint starts where the one before it ended
 * (entries verified in archive order: cp -r, a Zarr reader walking an
 * array's shards, ozx check), a thread of the remote's own fetches the
 * bytes after it, as many as it hinted (at least PREFETCH_MIN, at most
 * PREFETCH_MAX and a quarter of the cache), while its caller checks and
 * serves the hinted ones: the next entry's round trip and transfer
 * overlap this one's work instead of following it.  One range waits at most (a newer
 * replaces it).  The thread starts with the first such pair of hints, so
 * after a daemon's fork; it is known by the process that made it.
 */
#define PREFETCH_MIN ((uint64_t)1 << 20)
#define PREFETCH_MAX ((uint64_t)16 << 20)

struct prefetch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	pid_t pid; /* the process whose thread it is; 0: none */
	bool stop;
	uint64_t end;	   /* where the latest hint ended */
	uint64_t off, len; /* the range to fetch; len 0: none */
};

struct ozx_remote {
	char *url;   /* what curl fetches: may hold secrets, never shown */
	char *shown; /* redacted (ozx_url_redact) */
	bool s3;
	struct ozx_s3 s3cfg;
	struct ozx_remote_opts o;

	uint64_t size;
	char etag[VALIDATOR_MAX];
	char lastmod[VALIDATOR_MAX];
	struct curl_slist *hdrs; /* the condition, the S3 token */

	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock;
	CURL **pool;
	size_t npool, pool_cap;

	struct ozx_bcache cache;
	pthread_mutex_t ra_lock;
	struct ra_stream ra[RA_STREAMS];
	unsigned ra_victim;
	struct prefetch pf;

	atomic_bool changed;
	atomic_bool cancelled; /* ozx_remote_cancel() */
	_Atomic uint32_t rng;
	_Atomic long long log_sec;   /* CLOCK_MONOTONIC second of the last
				      * failure logged */
	_Atomic uint32_t log_reason; /* hash of its reason (log_due) */
	_Atomic uint64_t requests, retries, bytes;
};

/* What one response said; reset at each status line (redirects). */
struct resp {
	char crange[128];
	char etag[VALIDATOR_MAX];
	char lastmod[VALIDATOR_MAX];
	bool has_crange, has_etag, has_lastmod, bad_header;
	long retry_after; /* seconds, -1 if none */
};

/* Where a body goes: segments of seg_len bytes (the last shorter). */
struct sink {
	unsigned char **seg;
	size_t nseg, seg_len;
	size_t want, got;
};

/* The open's requests learn the size: the last (or, from a server that
 * misreads a suffix range, the first) min(N, size) bytes. */
enum { LEARN_NONE, LEARN_TAIL, LEARN_HEAD };

enum bad {
	BAD_NONE,
	BAD_STATUS,  /* not 206: body not wanted */
	BAD_RANGE,   /* Content-Range missing or not the one asked for */
	BAD_LONG,    /* more bytes than asked */
	BAD_CHANGED, /* another size or validator: replaced */
};

struct xfer {
	struct ozx_remote *r;
	CURL *h;
	struct sink *sink;
	struct resp resp;
	uint64_t off; /* first byte asked for; N if learn */
	int learn;    /* LEARN_*: the open's, whose range is learnt */
	bool started; /* headers checked, body flowing */
	enum bad bad;
};

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_users;

static void say(const struct ozx_remote *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct ozx_remote *r, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!r->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o.log(r->o.log_ctx, level, msg);
}

void ozx_remote_opts_init(struct ozx_remote_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cache_size = OZX_REMOTE_CACHE_DEFAULT;
	o->retries = OZX_REMOTE_RETRIES_DEFAULT;
	o->timeout = OZX_REMOTE_TIMEOUT_DEFAULT;
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access acc,
		       void *ctx)
{
	struct ozx_remote *r = ctx;

	(void)h;
	(void)acc;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&r->share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
	struct ozx_remote *r = ctx;

	(void)h;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&r->share_lock[data]);
}

/* A header value of at most size - 1 printable bytes, or false. */
static bool take_value(const char *v, size_t n, char *out, size_t size)
{
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
		     v[n - 1] == '\t'))
		n--;
	if (n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
			return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

static bool is_header(const char *line, size_t n, const char *name,
		      const char **v, size_t *vn)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	*v = line + k + 1;
	*vn = n - k - 1;
	return true;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	struct resp *p = &x->resp;
	size_t n = size * nmemb, vn;
	const char *v;
	char num[24];

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		memset(p, 0, sizeof(*p));
		p->retry_after = -1;
	} else if (is_header(line, n, "Content-Range", &v, &vn)) {
		p->has_crange = take_value(v, vn, p->crange, sizeof(p->crange));
		p->bad_header |= !p->has_crange;
	} else if (is_header(line, n, "ETag", &v, &vn)) {
		p->has_etag = take_value(v, vn, p->etag, sizeof(p->etag));
		p->bad_header |= !p->has_etag;
	} else if (is_header(line, n, "Last-Modified", &v, &vn)) {
		p->has_lastmod =
			take_value(v, vn, p->lastmod, sizeof(p->lastmod));
		p->bad_header |= !p->has_lastmod;
	} else if (is_header(line, n, "Retry-After", &v, &vn) &&
		   take_value(v, vn, num, sizeof(num)) && num[0] >= '0' &&
		   num[0] <= '9' && strlen(num) <= 6) {
		/* Seconds only; an HTTP date is ignored (backoff applies). */
		p->retry_after = strtol(num, NULL, 10);
	}
	return n;
}

/* The headers are in and the body starts: is it the one asked for? */
static enum bad check_start(struct xfer *x)
{
	struct ozx_remote *r = x->r;
	struct resp *p = &x->resp;
	struct ozx_crange cr;
	long status = 0;
	uint64_t len;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 206)
		return BAD_STATUS;
	if (!p->has_crange ||
	    ozx_crange_parse(p->crange, strlen(p->crange), &cr) ||
	    cr.first < 0 || cr.total < 0)
		return BAD_RANGE;
	if (x->learn) {
		/* The last (or first) min(N, size) bytes. */
		len = (uint64_t)cr.total < x->off ? (uint64_t)cr.total : x->off;
		if ((uint64_t)cr.first != (x->learn == LEARN_TAIL ?
						   (uint64_t)cr.total - len :
						   0) ||
		    (uint64_t)(cr.last - cr.first) + 1 != len)
			return BAD_RANGE;
		x->sink->want = (size_t)len;
		return BAD_NONE;
	}
	if ((uint64_t)cr.total != r->size)
		return BAD_CHANGED;
	/*
	 * Pinned: the response must name the same version.  One that names
	 * none, or one we could not hold (too long, not printable: has_etag
	 * is then false), cannot be told from another object, whatever a
	 * cache or a server ignoring If-Match sends.
	 */
	if (r->etag[0] && (!p->has_etag || strcmp(p->etag, r->etag) != 0))
		return BAD_CHANGED;
	if (!r->etag[0] && r->lastmod[0] &&
	    (!p->has_lastmod || strcmp(p->lastmod, r->lastmod) != 0))
		return BAD_CHANGED;
	if ((uint64_t)cr.first != x->off ||
	    (uint64_t)(cr.last - cr.first) + 1 != x->sink->want)
		return BAD_RANGE;
	return BAD_NONE;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	struct sink *s = x->sink;
	size_t n = size * nmemb, done = 0;

	if (!x->started) {
		x->bad = check_start(x);
		if (x->bad)
			return 0; /* abort: CURLE_WRITE_ERROR */
		x->started = true;
	}
	if (n > s->want - s->got) {
		x->bad = BAD_LONG;
		return 0;
	}
	while (done < n) {
		size_t i = s->got / s->seg_len, at = s->got % s->seg_len;
		size_t k = s->seg_len - at;

		if (k > n - done)
			k = n - done;
		memcpy(s->seg[i] + at, data + done, k);
		done += k;
		s->got += k;
	}
	return n;
}

/* Called by curl during transfers: a nonzero return aborts the transfer
 * (CURLE_ABORTED_BY_CALLBACK, not retried). */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct ozx_remote *r = ctx;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&r->cancelled) ? 1 : 0;
}

static int setup_handle(struct ozx_remote *r, CURL *h)
{
	CURLcode c = CURLE_OK;
	const char *ca = getenv("CURL_CA_BUNDLE");

#define SET(opt, val)                                      \
	do {                                               \
		if (c == CURLE_OK)                         \
			c = curl_easy_setopt(h, opt, val); \
	} while (0)
	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_SHARE, r->share);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_CONNECTTIMEOUT, (long)r->o.timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, (long)r->o.timeout);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, "ozxfs/" PACKAGE_VERSION);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, r);
	/* Certificates are always verified; against other CAs than the
	 * system's where asked, as the curl and OpenSSL tools do. */
	if (!ca || !*ca)
		ca = getenv("SSL_CERT_FILE");
	if (ca && *ca)
		SET(CURLOPT_CAINFO, ca);
	if (r->s3) {
		/* A key is a name, not a path: "a/../b" is not "b". */
		SET(CURLOPT_PATH_AS_IS, 1L);
		/* A signed request is for its host: no redirects. */
		if (r->s3cfg.sigv4) {
			SET(CURLOPT_AWS_SIGV4, r->s3cfg.sigv4);
			SET(CURLOPT_USERPWD, r->s3cfg.userpwd);
		}
	} else {
		SET(CURLOPT_FOLLOWLOCATION, 1L);
		SET(CURLOPT_MAXREDIRS, 5L);
		SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
#undef SET
	return c == CURLE_OK ? 0 : -EINVAL;
}

static CURL *handle_get(struct ozx_remote *r)
{
	CURL *h = NULL;

	pthread_mutex_lock(&r->pool_lock);
	if (r->npool)
		h = r->pool[--r->npool];
	pthread_mutex_unlock(&r->pool_lock);
	if (h)
		return h;
	h = curl_easy_init();
	if (h && setup_handle(r, h)) {
		curl_easy_cleanup(h);
		h = NULL;
	}
	return h;
}

static void handle_put(struct ozx_remote *r, CURL *h)
{
	CURL **p;

	pthread_mutex_lock(&r->pool_lock);
	if (r->npool == r->pool_cap) {
		size_t cap = r->pool_cap ? 2 * r->pool_cap : 8;

		p = realloc(r->pool, cap * sizeof(*p));
		if (!p) {
			pthread_mutex_unlock(&r->pool_lock);
			curl_easy_cleanup(h);
			return;
		}
		r->pool = p;
		r->pool_cap = cap;
	}
	r->pool[r->npool++] = h;
	pthread_mutex_unlock(&r->pool_lock);
}

static uint32_t rnd(struct ozx_remote *r)
{
	uint32_t v = atomic_fetch_add(&r->rng, 0x9e3779b9u);

	/* A finaliser (murmur3's) makes the sequence look random. */
	v ^= v >> 16;
	v *= 0x85ebca6bu;
	v ^= v >> 13;
	v *= 0xc2b2ae35u;
	return v ^ (v >> 16);
}

/* Once: the object was replaced; every read fails from now on. */
static void set_changed(struct ozx_remote *r)
{
	if (!atomic_exchange(&r->changed, true))
		say(r, OZX_LOG_ERR,
		    "archive '%s' changed on the server since it was opened "
		    "(its %s no longer matches): every read of it fails",
		    r->shown, r->etag[0] ? "ETag" : "size or Last-Modified");
}

/* Whether a failure for this reason is to be logged: the first of a
 * new reason is, then at most one a second (an outage fails every read,
 * and the kernel tries a failed read again). */
static bool log_due(struct ozx_remote *r, const char *reason)
{
	uint32_t h = 2166136261u, last_h;
	struct timespec ts;
	long long last;

	/* FNV-1a of the reason's text up to its first digit: "HTTP status
	 * 503" and "... 502" differ, "cut short (5 of 9 bytes)" do not. */
	for (const char *p = reason; *p && (*p < '0' || *p > '9'); p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	if (reason[0] >= '0' && reason[0] <= '9')
		h ^= (unsigned char)reason[0];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	last_h = atomic_exchange(&r->log_reason, h);
	last = atomic_load(&r->log_sec);
	if (last_h != h) {
		atomic_store(&r->log_sec, (long long)ts.tv_sec);
		return true;
	}
	return ts.tv_sec > last &&
	       atomic_compare_exchange_strong(&r->log_sec, &last,
					      (long long)ts.tv_sec);
}

/* Why a try failed, for messages. */
static void describe(char *buf, size_t size, CURLcode cc, long status,
		     const struct xfer *x)
{
	static const char *const what[] = {
		[BAD_RANGE] = "a Content-Range other than the one asked for",
		[BAD_LONG] = "a body longer than asked for",
		[BAD_CHANGED] = "another version of the object",
	};

	if (x->bad >= BAD_RANGE)
		snprintf(buf, size, "the server sent %s", what[x->bad]);
	else if (x->bad == BAD_STATUS || (cc == CURLE_OK && status != 206))
		snprintf(buf, size, "HTTP status %ld", status);
	else if (cc != CURLE_OK)
		snprintf(buf, size, "%s", curl_easy_strerror(cc));
	else
		snprintf(buf, size, "body cut short (%zu of %zu bytes)",
			 x->sink->got, x->sink->want);
}

/*
 * One request for want bytes at off (or, learn, the last or first off
 * bytes: the sink then learns want) into sink, tried again while it fails in a way
 * that may pass.  status (may be NULL) gets the last HTTP status, resp
 * (may be NULL) the last response's headers, why (may be NULL) a reason.
 * Returns 0, -EIO, -ECANCELED (ozx_remote_cancel), or -ENOMEM (no
 * handle).
 */
static int fetch(struct ozx_remote *r, uint64_t off, int learn,
		 struct sink *sink, long *status_out, struct resp *resp_out,
		 char *why, size_t why_size)
{
	struct xfer x = { .r = r, .sink = sink, .off = off, .learn = learn };
	char range[48], reason[160] = "";
	unsigned attempt = 0;
	long status = 0;
	CURLcode cc;
	int ret = -EIO;

	if (atomic_load(&r->changed))
		return -EIO;
	if (atomic_load(&r->cancelled))
		return -ECANCELED;
	x.h = handle_get(r);
	if (!x.h)
		return -ENOMEM;
	if (learn == LEARN_TAIL)
		snprintf(range, sizeof(range), "-%" PRIu64, off);
	else if (learn == LEARN_HEAD)
		snprintf(range, sizeof(range), "0-%" PRIu64, off - 1);
	else
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off,
			 off + sink->want - 1);
	curl_easy_setopt(x.h, CURLOPT_RANGE, range);
	curl_easy_setopt(x.h, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(x.h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(x.h, CURLOPT_WRITEDATA, &x);
	for (;;) {
		bool again;

		sink->got = 0;
		x.started = false;
		x.bad = BAD_NONE;
		memset(&x.resp, 0, sizeof(x.resp));
		x.resp.retry_after = -1;
		cc = curl_easy_perform(x.h);
		status = 0;
		curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &status);
		atomic_fetch_add(&r->requests, 1);
		atomic_fetch_add(&r->bytes, sink->got);
		if (cc == CURLE_OK && x.bad == BAD_NONE && status == 206 &&
		    x.started && sink->got == sink->want) {
			ret = 0;
			break;
		}
		if (atomic_load(&r->cancelled)) {
			ret = -ECANCELED;
			break;
		}
		if (!learn && (status == 412 || x.bad == BAD_CHANGED)) {
			set_changed(r);
			describe(reason, sizeof(reason), cc, status, &x);
			break;
		}
		describe(reason, sizeof(reason), cc, status, &x);
		if (x.bad == BAD_RANGE || x.bad == BAD_LONG)
			again = false;
		else if (x.bad == BAD_STATUS || (cc == CURLE_OK && !x.started))
			again = ozx_http_retryable(CURLE_OK, status);
		else if (cc == CURLE_OK)
			again = true; /* cut short, yet "complete" */
		else
			again = ozx_http_retryable(cc, status);
		if (!again || attempt >= r->o.retries)
			break;
		attempt++;
		atomic_fetch_add(&r->retries, 1);
		{
			unsigned ms = ozx_backoff_ms(attempt, BACKOFF_BASE_MS,
						     BACKOFF_CAP_MS, rnd(r));
			struct timespec ts;

			/* A server asking for a pause gets it, within the
			 * cap: it is bounded like the backoff. */
			if (x.resp.retry_after >= 0 &&
			    x.resp.retry_after * 1000 > (long)ms)
				ms = x.resp.retry_after * 1000 >
						     (long)BACKOFF_CAP_MS ?
					     BACKOFF_CAP_MS :
					     (unsigned)x.resp.retry_after *
						     1000;
			say(r, OZX_LOG_DEBUG,
			    "reading '%s' at offset %" PRIu64 ": %s; try %u of "
			    "%u in %u ms",
			    r->shown, off, reason, attempt + 1,
			    r->o.retries + 1, ms);
			/* In slices, so that a cancel ends the wait. */
			ts.tv_sec = 0;
			ts.tv_nsec = 50 * 1000000;
			for (; ms > 0 && !atomic_load(&r->cancelled);
			     ms -= ms < 50 ? ms : 50)
				nanosleep(&ts, NULL);
		}
	}
	if (ret == -EIO && !learn && !atomic_load(&r->changed) &&
	    log_due(r, reason))
		say(r, OZX_LOG_ERR,
		    "reading '%s' at offset %" PRIu64 " failed: %s (after %u "
		    "tr%s)",
		    r->shown, off, reason, attempt + 1, attempt ? "ies" : "y");
	if (why)
		snprintf(why, why_size, "%s", reason);
	if (status_out)
		*status_out = status;
	if (resp_out)
		*resp_out = x.resp;
	/* A handle whose transfer was aborted lost its connection only. */
	curl_easy_setopt(x.h, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(x.h, CURLOPT_WRITEDATA, NULL);
	handle_put(r, x.h);
	return ret;
}

static size_t blk_len(const struct ozx_remote *r, uint64_t k)
{
	uint64_t start = k * OZX_REMOTE_BLOCK;

	return r->size - start < OZX_REMOTE_BLOCK ? (size_t)(r->size - start) :
						    OZX_REMOTE_BLOCK;
}

/*
 * Fetch blocks k, k + 1, ... (at most n, stopping before a block in the
 * cache or the end of the object) with one request into new cache
 * blocks, which come back in blks with a reference each (*got of them).
 * Returns 0, -EAGAIN if block k is in the cache after all (another
 * thread fetched it, or is fetching it), -ENOSPC if the cache has no
 * room for even one block, or -errno.
 */
static int fill(struct ozx_remote *r, uint64_t k, size_t n,
		struct ozx_blk **blks, size_t *got)
{
	uint64_t last = (r->size - 1) / OZX_REMOTE_BLOCK;
	unsigned char **seg;
	struct sink sink;
	bool present = false;
	size_t m = 0;
	int ret;

	*got = 0;
	if (k > last)
		return -EINVAL;
	if (n > last - k + 1)
		n = (size_t)(last - k + 1);
	seg = malloc(n * sizeof(*seg));
	if (!seg)
		return -ENOMEM;
	/* Up to the first block another thread has, or is fetching. */
	for (; m < n; m++) {
		blks[m] = ozx_bcache_alloc(&r->cache, k + m, blk_len(r, k + m),
					   &present);
		if (!blks[m])
			break;
		seg[m] = blks[m]->data;
	}
	if (m == 0) {
		free(seg);
		return present ? -EAGAIN : -ENOSPC;
	}
	sink = (struct sink){ .seg = seg,
			      .nseg = m,
			      .seg_len = OZX_REMOTE_BLOCK };
	sink.want = (size_t)(m - 1) * OZX_REMOTE_BLOCK + blks[m - 1]->len;
	ret = fetch(r, k * OZX_REMOTE_BLOCK, LEARN_NONE, &sink, NULL, NULL,
		    NULL, 0);
	free(seg);
	for (size_t i = 0; i < m; i++) {
		if (ret) {
			ozx_bcache_abort(&r->cache, blks[i]);
			ozx_bcache_put(&r->cache, blks[i]);
		} else {
			ozx_bcache_ready(&r->cache, blks[i]);
		}
	}
	if (ret)
		return ret;
	*got = m;
	return 0;
}

/* Blocks to read ahead of a miss at block k whose read ends in block
 * end: a window that doubles while misses follow each other. */
static size_t readahead(struct ozx_remote *r, uint64_t k, uint64_t end)
{
	size_t max = RA_MAX < r->cache.cap / 8 ? RA_MAX : r->cache.cap / 8;
	size_t maxb = max / OZX_REMOTE_BLOCK, win = 0;
	struct ra_stream *s = NULL;

	pthread_mutex_lock(&r->ra_lock);
	for (unsigned i = 0; i < RA_STREAMS; i++)
		if (r->ra[i].next == k && k > 0) {
			s = &r->ra[i];
			win = s->win ? 2 * s->win : 2;
			if (win > maxb)
				win = maxb;
			break;
		}
	if (!s)
		s = &r->ra[r->ra_victim++ % RA_STREAMS];
	s->win = win;
	s->next = end + 1 + win;
	pthread_mutex_unlock(&r->ra_lock);
	return win;
}

/* Read len bytes at off straight into buf: for when the cache is full of
 * blocks in use. */
static int fetch_direct(struct ozx_remote *r, void *buf, size_t len,
			uint64_t off)
{
	unsigned char *one = buf;
	struct sink sink = {
		.seg = &one, .nseg = 1, .seg_len = len, .want = len
	};

	return fetch(r, off, LEARN_NONE, &sink, NULL, NULL, NULL, 0);
}

ssize_t ozx_remote_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct ozx_remote *r = ctx;
	unsigned char *out = buf;
	uint64_t pos, end, kend;
	struct ozx_blk *one[1], **blks;
	size_t n, m, i;
	int ret;

	if (atomic_load(&r->changed))
		return -EIO;
	if (off >= r->size || len == 0)
		return 0;
	if (len > r->size - off)
		len = (size_t)(r->size - off);
	if (len > (size_t)SSIZE_MAX)
		len = (size_t)SSIZE_MAX;
	end = off + len;
	kend = (end - 1) / OZX_REMOTE_BLOCK;
	for (pos = off; pos < end;) {
		uint64_t k = pos / OZX_REMOTE_BLOCK;
		struct ozx_blk *b = ozx_bcache_get(&r->cache, k);
		size_t at, take;

		if (b) {
			at = (size_t)(pos - k * OZX_REMOTE_BLOCK);
			take = b->len - at;
			if (take > end - pos)
				take = (size_t)(end - pos);
			memcpy(out + (pos - off), b->data + at, take);
			ozx_bcache_put(&r->cache, b);
			pos += take;
			continue;
		}
		n = (size_t)(kend - k) + 1 + readahead(r, k, kend);
		blks = n == 1 ? one : malloc(n * sizeof(*blks));
		if (!blks)
			return -ENOMEM;
		ret = fill(r, k, n, blks, &m);
		if (ret == -EAGAIN) {
			/* Another thread has it now: get (or wait for) it. */
			if (blks != one)
				free(blks);
			continue;
		}
		if (ret == -ENOSPC) {
			if (blks != one)
				free(blks);
			ret = fetch_direct(r, out + (pos - off),
					   (size_t)(end - pos), pos);
			if (ret)
				return ret;
			break;
		}
		if (ret) {
			if (blks != one)
				free(blks);
			return ret;
		}
		/* Copy from our own references: an eviction between the
		 * insert and a lookup cannot send us back for them. */
		for (i = 0; i < m; i++) {
			b = blks[i];
			if (pos < end && pos / OZX_REMOTE_BLOCK == b->idx) {
				at = (size_t)(pos - b->idx * OZX_REMOTE_BLOCK);
				take = b->len - at;
				if (take > end - pos)
					take = (size_t)(end - pos);
				memcpy(out + (pos - off), b->data + at, take);
				pos += take;
			}
			ozx_bcache_put(&r->cache, b);
		}
		if (blks != one)
			free(blks);
	}
	return (ssize_t)len;
}

/* Fetch the first missing run of [off, off + len) (at most maxb blocks)
 * into the cache, in one request.  Failures are for the reads that follow
 * to meet and report. */
static void fill_range(struct ozx_remote *r, uint64_t off, uint64_t len,
		       uint64_t maxb)
{
	uint64_t k, kend;
	struct ozx_blk **blks;
	size_t m;

	if (atomic_load(&r->changed) || off >= r->size || len == 0)
		return;
	if (len > r->size - off)
		len = r->size - off;
	k = off / OZX_REMOTE_BLOCK;
	kend = (off + len - 1) / OZX_REMOTE_BLOCK;
	while (k <= kend && ozx_bcache_has(&r->cache, k))
		k++;
	if (k > kend || maxb == 0)
		return;
	if (kend - k + 1 > maxb)
		kend = k + maxb - 1;
	blks = malloc((size_t)(kend - k + 1) * sizeof(*blks));
	if (!blks)
		return;
	if (fill(r, k, (size_t)(kend - k + 1), blks, &m) == 0) {
		pthread_mutex_lock(&r->ra_lock);
		r->ra[r->ra_victim++ % RA_STREAMS] =
			(struct ra_stream){ .next = k + m, .win = 0 };
		pthread_mutex_unlock(&r->ra_lock);
		for (size_t i = 0; i < m; i++)
			ozx_bcache_put(&r->cache, blks[i]);
	}
	free(blks);
}

static void *prefetch_main(void *arg)
{
	struct ozx_remote *r = arg;
	struct prefetch *pf = &r->pf;
	uint64_t off, len;

	pthread_mutex_lock(&pf->lock);
	for (;;) {
		while (!pf->stop && pf->len == 0)
			pthread_cond_wait(&pf->wake, &pf->lock);
		if (pf->stop)
			break;
		off = pf->off;
		len = pf->len;
		pf->len = 0;
		pthread_mutex_unlock(&pf->lock);
		if (!atomic_load(&r->cancelled))
			fill_range(r, off, len,
				   r->cache.cap / 4 / OZX_REMOTE_BLOCK);
		pthread_mutex_lock(&pf->lock);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

/* A hint of [off, off + len): if it follows the one before, ask the
 * thread (started now if need be) for what comes after it. */
static void prefetch_note(struct ozx_remote *r, uint64_t off, uint64_t len)
{
	struct prefetch *pf = &r->pf;
	uint64_t max = r->cache.cap / 4, want = len;
	bool follows;

	if (max > PREFETCH_MAX)
		max = PREFETCH_MAX;
	if (want < PREFETCH_MIN)
		want = PREFETCH_MIN;
	if (want > max)
		want = max;
	pthread_mutex_lock(&pf->lock);
	/* Within a block of the end: a data descriptor may lie between. */
	follows = pf->end > 0 && off >= pf->end &&
		  off - pf->end <= OZX_REMOTE_BLOCK;
	pf->end = off + len;
	if (follows && pf->end < r->size && !pf->stop) {
		if (pf->pid != getpid()) {
			pf->pid = pthread_create(&pf->thread, NULL,
						 prefetch_main, r) == 0 ?
					  getpid() :
					  0;
		}
		pf->off = pf->end;
		pf->len = want;
		pthread_cond_signal(&pf->wake);
	}
	pthread_mutex_unlock(&pf->lock);
}

static void prefetch_stop(struct ozx_remote *r)
{
	struct prefetch *pf = &r->pf;

	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_signal(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
	if (pf->pid != 0 && pf->pid == getpid())
		pthread_join(pf->thread, NULL);
	pf->pid = 0;
}

/* A hint: [off, off + len) will be read soon.  Its first missing run
 * (within half the cache) is fetched now, in one request; and if it
 * follows the hint before, what comes after it is fetched meanwhile. */
void ozx_remote_willneed(void *ctx, uint64_t off, uint64_t len)
{
	struct ozx_remote *r = ctx;

	if (atomic_load(&r->changed) || off >= r->size || len == 0)
		return;
	if (len > r->size - off)
		len = r->size - off;
	prefetch_note(r, off, len);
	fill_range(r, off, len, r->cache.cap / 2 / OZX_REMOTE_BLOCK);
}

struct ozx_io ozx_remote_io(struct ozx_remote *r)
{
	struct ozx_io io = { .pread = ozx_remote_pread,
			     .ctx = r,
			     .stamp = NULL };

	return io;
}

uint64_t ozx_remote_size(const struct ozx_remote *r)
{
	return r->size;
}

const char *ozx_remote_shown(const struct ozx_remote *r)
{
	return r->shown;
}

const char *ozx_remote_pinned_by(const struct ozx_remote *r)
{
	return r->etag[0] ? "ETag" : r->lastmod[0] ? "Last-Modified" : NULL;
}

void ozx_remote_stats(const struct ozx_remote *r, struct ozx_remote_stats *s)
{
	struct ozx_bcache *c = (struct ozx_bcache *)&r->cache;

	s->requests = atomic_load(&r->requests);
	s->retries = atomic_load(&r->retries);
	s->bytes = atomic_load(&r->bytes);
	pthread_mutex_lock(&c->lock);
	s->hits = c->hits;
	s->misses = c->misses;
	s->cache_used = c->used;
	s->cache_cap = c->cap;
	pthread_mutex_unlock(&c->lock);
}

/* A strong ETag: a quoted string ("W/" is weak: If-Match never matches
 * it, RFC 9110 13.1.1). */
static bool strong_etag(const char *e)
{
	size_t n = strlen(e);

	return n >= 2 && e[0] == '"' && e[n - 1] == '"';
}

/* Pin the object on what the first response said: the condition every
 * later request carries. */
static int pin(struct ozx_remote *r, const struct resp *p)
{
	char h[VALIDATOR_MAX + 32];
	struct curl_slist *l = r->hdrs, *n;

	if (p->has_etag && strong_etag(p->etag)) {
		snprintf(r->etag, sizeof(r->etag), "%s", p->etag);
		snprintf(h, sizeof(h), "If-Match: %s", r->etag);
	} else if (p->has_lastmod) {
		snprintf(r->lastmod, sizeof(r->lastmod), "%s", p->lastmod);
		snprintf(h, sizeof(h), "If-Unmodified-Since: %s", r->lastmod);
	} else {
		return 0;
	}
	n = curl_slist_append(l, h);
	if (!n)
		return -ENOMEM;
	r->hdrs = n;
	return 0;
}

/* Put the bytes of the object at [first, first + n), in buf, into the
 * cache: every whole block of them. */
static void cache_span(struct ozx_remote *r, const unsigned char *buf,
		       uint64_t first, size_t n)
{
	uint64_t k = (first + OZX_REMOTE_BLOCK - 1) / OZX_REMOTE_BLOCK;

	for (; k * OZX_REMOTE_BLOCK < r->size; k++) {
		size_t len = blk_len(r, k);
		bool present;
		struct ozx_blk *b;

		if (k * OZX_REMOTE_BLOCK + len > first + n)
			break;
		b = ozx_bcache_alloc(&r->cache, k, len, &present);
		if (!b)
			break;
		memcpy(b->data, buf + (k * OZX_REMOTE_BLOCK - first), len);
		ozx_bcache_ready(&r->cache, b);
		ozx_bcache_put(&r->cache, b);
	}
}

static void set_err(struct ozx_remote_err *err, long status, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
static void set_err(struct ozx_remote_err *err, long status, const char *fmt,
		    ...)
{
	va_list ap;

	if (!err)
		return;
	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* The open's request: the tail, the size, the validator. */
static int first_request(struct ozx_remote *r, struct ozx_remote_err *err)
{
	unsigned char *buf = malloc(OZX_REMOTE_TAIL);
	unsigned char *one = buf;
	struct sink sink = { .seg = &one,
			     .nseg = 1,
			     .seg_len = OZX_REMOTE_TAIL,
			     .want = OZX_REMOTE_TAIL };
	struct ozx_crange cr;
	struct resp p = { 0 };
	char why[160] = "";
	long status = 0;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = fetch(r, OZX_REMOTE_TAIL, LEARN_TAIL, &sink, &status, &p, why,
		    sizeof(why));
	if (ret == -ENOMEM || ret == -ECANCELED)
		goto out_free_buf;
	if (ret == 0) {
		ozx_crange_parse(p.crange, strlen(p.crange), &cr);
		r->size = (uint64_t)cr.total;
		ret = pin(r, &p);
		if (ret == 0)
			cache_span(r, buf, r->size - sink.got, sink.got);
		goto out_free_buf;
	}
	if (status == 206) {
		/* Some servers (S3 emulators) answer "bytes=-N" with
		 * another range: the head tells the size, then the tail is
		 * fetched as a range, conditional already. */
		sink.want = OZX_REMOTE_TAIL;
		ret = fetch(r, OZX_REMOTE_TAIL, LEARN_HEAD, &sink, &status, &p,
			    why, sizeof(why));
		if (ret == 0) {
			ozx_crange_parse(p.crange, strlen(p.crange), &cr);
			r->size = (uint64_t)cr.total;
			ret = pin(r, &p);
			if (ret)
				goto out_free_buf;
			cache_span(r, buf, 0, sink.got);
			/* Failures are for the reads that follow. */
			if (r->size > sink.got)
				ozx_remote_willneed(r, r->size - sink.got,
						    sink.got);
			goto out_free_buf;
		}
		if (ret == -ENOMEM || ret == -ECANCELED)
			goto out_free_buf;
	}
	switch (status) {
	case 416:
		/* Nothing to range over: an empty object is "bytes * /0". */
		if (p.has_crange &&
		    ozx_crange_parse(p.crange, strlen(p.crange), &cr) == 0 &&
		    cr.total == 0) {
			r->size = 0;
			ret = pin(r, &p);
			goto out_free_buf;
		}
		break;
	case 200:
		set_err(err, status,
			"the server does not answer range requests (HTTP 200 "
			"to a range)");
		ret = -EOPNOTSUPP;
		goto out_free_buf;
	case 301:
	case 307:
		if (!r->s3)
			break;
		/* S3 answers so for a bucket of another region. */
		set_err(err, status,
			"HTTP %ld: the bucket may be in another region (set "
			"AWS_REGION)",
			status);
		ret = -EIO;
		goto out_free_buf;
	case 401:
	case 403:
		set_err(err, status, "access refused (HTTP %ld)%s", status,
			r->s3 ? ": check the credentials, or the bucket's "
				"policy for anonymous access" :
				"");
		ret = -EACCES;
		goto out_free_buf;
	case 404:
	case 410:
		set_err(err, status, "no such object (HTTP %ld)", status);
		ret = -ENOENT;
		goto out_free_buf;
	}
	set_err(err, status, "%s", why);
	ret = -EIO;
out_free_buf:
	free(buf);
	return ret;
}

int ozx_remote_open(const char *url, const struct ozx_remote_opts *o,
		    struct ozx_remote **out, struct ozx_remote_err *err)
{
	struct ozx_remote *r;
	char shown[1024];
	int ret;

	*out = NULL;
	if (err) {
		err->status = 0;
		err->msg[0] = '\0';
	}
	if (!ozx_is_url(url)) {
		set_err(err, 0, "not an http://, https:// or s3:// URL");
		return -EINVAL;
	}
	/* Credentials never come from the command line, where ps(1) shows
	 * them (found in review: curl sent user:password@ as Basic). */
	if (ozx_url_has_userinfo(url)) {
		set_err(err, 0,
			"a user name or password in the URL is refused: "
			"it would show in ps(1)");
		return -EINVAL;
	}
	pthread_mutex_lock(&global_lock);
	if (global_users == 0 && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		pthread_mutex_unlock(&global_lock);
		set_err(err, 0, "cannot initialise libcurl");
		return -ENOMEM;
	}
	global_users++;
	pthread_mutex_unlock(&global_lock);

	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = -ENOMEM;
		goto out_global;
	}
	if (o)
		r->o = *o;
	else
		ozx_remote_opts_init(&r->o);
	if (r->o.cache_size == 0)
		r->o.cache_size = OZX_REMOTE_CACHE_DEFAULT;
	if (r->o.cache_size < OZX_REMOTE_CACHE_MIN)
		r->o.cache_size = OZX_REMOTE_CACHE_MIN;
	if (r->o.timeout == 0)
		r->o.timeout = OZX_REMOTE_TIMEOUT_DEFAULT;
	atomic_init(&r->rng, (uint32_t)time(NULL) ^ (uint32_t)getpid() ^
				     (uint32_t)(uintptr_t)r);
	for (unsigned i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&r->share_lock[i], NULL);
	pthread_mutex_init(&r->pool_lock, NULL);
	pthread_mutex_init(&r->ra_lock, NULL);
	pthread_mutex_init(&r->pf.lock, NULL);
	pthread_cond_init(&r->pf.wake, NULL);
	ret = ozx_bcache_init(&r->cache, r->o.cache_size, OZX_REMOTE_BLOCK);
	if (ret)
		goto out_free;

	if (strncmp(url, "s3://", 5) == 0) {
		r->s3 = true;
		ret = ozx_s3_resolve(url, r->o.anonymous, &r->s3cfg, err);
		if (ret)
			goto out_free;
		r->url = strdup(r->s3cfg.url);
		if (r->url && r->s3cfg.token) {
			r->hdrs = curl_slist_append(NULL, r->s3cfg.token);
			if (!r->hdrs)
				ret = -ENOMEM;
		}
	} else {
		r->url = strdup(url);
	}
	/* Messages name what the user gave (s3://...), not what it became,
	 * made printable. */
	ozx_url_redact(url, shown, sizeof(shown));
	r->shown = malloc(4 * strlen(shown) + 1);
	if (r->shown)
		ozx_escape(shown, strlen(shown), r->shown,
			   4 * strlen(shown) + 1);
	if (!r->url || !r->shown)
		ret = -ENOMEM;
	if (ret)
		goto out_free;

	r->share = curl_share_init();
	if (!r->share) {
		ret = -ENOMEM;
		goto out_free;
	}
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);

	ret = first_request(r, err);
	if (ret)
		goto out_free;
	*out = r;
	return 0;

out_free:
	ozx_remote_free(r);
	return ret;
out_global:
	pthread_mutex_lock(&global_lock);
	if (--global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&global_lock);
	return ret;
}

void ozx_remote_cancel(struct ozx_remote *r)
{
	if (r)
		atomic_store(&r->cancelled, true);
}

void ozx_remote_free(struct ozx_remote *r)
{
	if (!r)
		return;
	prefetch_stop(r);
	/* Handles first: they use the share. */
	for (size_t i = 0; i < r->npool; i++)
		curl_easy_cleanup(r->pool[i]);
	free(r->pool);
	if (r->share)
		curl_share_cleanup(r->share);
	curl_slist_free_all(r->hdrs);
	ozx_bcache_release(&r->cache);
	for (unsigned i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&r->share_lock[i]);
	pthread_mutex_destroy(&r->pool_lock);
	pthread_mutex_destroy(&r->ra_lock);
	pthread_mutex_destroy(&r->pf.lock);
	pthread_cond_destroy(&r->pf.wake);
	if (r->s3)
		ozx_s3_release(&r->s3cfg);
	free(r->url);
	free(r->shown);
	free(r);
	pthread_mutex_lock(&global_lock);
	if (--global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&global_lock);
}
