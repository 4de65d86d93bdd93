/*
 * http_util.c - the parts of the remote io that need no network: parsing
 * what a server sends (Content-Range), the retry policy, showing a URL
 * without its secrets, and reading the AWS credentials file.  Every input
 * here is hostile: bounded, no sign, no overflow.
 */
#include "config.h"

#include "ozx_remote.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>

bool ozx_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 ||
	       strncmp(s, "https://", 8) == 0 || strncmp(s, "s3://", 5) == 0;
}

/* Digits at *p (before end) into *v; at most 2^62 (no overflow later). */
static int parse_num(const char **p, const char *end, int64_t *v)
{
	int64_t n = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (n > (INT64_C(1) << 62) / 10)
			return -EINVAL;
		n = n * 10 + (*s - '0');
	}
	*p = s;
	*v = n;
	return 0;
}

int ozx_crange_parse(const char *s, size_t len, struct ozx_crange *cr)
{
	const char *p = s, *end = s + len;

	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 6 || strncmp(p, "bytes", 5) != 0)
		return -EINVAL;
	p += 5;
	if (*p != ' ')
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	cr->first = cr->last = cr->total = -1;
	if (p < end && *p == '*') {
		p++;
	} else {
		if (parse_num(&p, end, &cr->first) || p == end || *p++ != '-' ||
		    parse_num(&p, end, &cr->last) || cr->last < cr->first)
			return -EINVAL;
	}
	if (p == end || *p++ != '/')
		return -EINVAL;
	if (p < end && *p == '*') {
		p++;
		/* "bytes * / *" says nothing at all. */
		if (cr->first < 0)
			return -EINVAL;
	} else if (parse_num(&p, end, &cr->total) ||
		   (cr->first >= 0 && cr->last >= cr->total)) {
		return -EINVAL;
	}
	return p == end ? 0 : -EINVAL;
}

unsigned ozx_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
			uint32_t rnd)
{
	uint64_t ceil = base_ms;

	if (attempt == 0)
		return 0;
	for (unsigned i = 1; i < attempt && ceil < cap_ms; i++)
		ceil *= 2;
	if (ceil > cap_ms)
		ceil = cap_ms;
	/* Full jitter: threads that failed together do not retry together. */
	return (unsigned)(rnd % (ceil + 1));
}

bool ozx_http_retryable(int curl_code, long status)
{
	switch (curl_code) {
	case CURLE_OK:
		return status == 429 || (status >= 500 && status <= 599);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

/* Where the authority of url starts and ends (host part, user info
 * included): after "scheme://", up to the first '/'. */
static const char *authority(const char *url, const char **end)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end ? scheme_end + 3 : url;

	*end = host + strcspn(host, "/");
	return host;
}

bool ozx_url_has_userinfo(const char *url)
{
	const char *end, *host = authority(url, &end);
	size_t n = strcspn(host, "?#");

	if (n < (size_t)(end - host))
		end = host + n;
	return memchr(host, '@', (size_t)(end - host)) != NULL;
}

char *ozx_url_redact(const char *url, char *buf, size_t size)
{
	const char *auth_end, *host, *at, *stop;
	size_t n = 0, k;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	/*
	 * Keep scheme://, drop user:password@ (up to the authority's last
	 * '@': a password may hold '?', '#' or '@' however malformed), and
	 * stop at ? or # after the host.
	 */
	host = authority(url, &auth_end);
	at = memrchr(host, '@', (size_t)(auth_end - host));
	stop = (at ? at + 1 : host);
	stop += strcspn(stop, "?#");
	k = (size_t)(host - url);
	if (k >= size)
		k = size - 1;
	memcpy(buf, url, k);
	n = k;
	if (at)
		host = at + 1;
	k = (size_t)(stop - host);
	if (n + k >= size) {
		k = size - 1 - n;
		memcpy(buf + n, host, k);
		n += k;
		if (size >= 4)
			memcpy(buf + size - 4, "...", 3);
		buf[size - 1] = '\0';
		return buf;
	}
	memcpy(buf + n, host, k);
	n += k;
	buf[n] = '\0';
	/* What remains may still be unprintable (a hostile argument): the
	 * caller escapes it for messages. */
	return buf;
}

#define INI_LINE_MAX 4096

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trim blanks around [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && blank(**s))
		(*s)++;
	while (*e > *s && blank((*e)[-1]))
		(*e)--;
}

int ozx_ini_get(const char *text, size_t len, const char *section,
		const char *key, char *val, size_t size)
{
	const char *p = text, *end = text + len;
	size_t slen = strlen(section), klen = strlen(key);
	bool in = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p, *e = le;

		p = nl ? nl + 1 : end;
		if ((size_t)(le - s) > INI_LINE_MAX)
			return -EINVAL;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			const char *n = s + 1, *ne = e;

			if (e[-1] != ']' || e - s < 2) {
				in = false;
				continue;
			}
			ne--;
			trim(&n, &ne);
			in = (size_t)(ne - n) == slen &&
			     memcmp(n, section, slen) == 0;
			continue;
		}
		if (!in) {
			continue;
		} else {
			const char *eq = memchr(s, '=', (size_t)(e - s));
			const char *k = s, *ke, *v, *ve = e;

			if (!eq)
				continue;
			ke = eq;
			v = eq + 1;
			trim(&k, &ke);
			trim(&v, &ve);
			if ((size_t)(ke - k) != klen || memcmp(k, key, klen))
				continue;
			if ((size_t)(ve - v) >= size)
				return -EINVAL;
			for (const char *c = v; c < ve; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					return -EINVAL;
			memcpy(val, v, (size_t)(ve - v));
			val[ve - v] = '\0';
			return 0;
		}
	}
	return -ENOENT;
}
