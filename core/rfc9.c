/*
 * rfc9.c - the RFC-9 archive comment: a small, strict JSON reader that
 * validates the whole text and picks out ome.version and
 * ome.zipFile.centralDirectory.jsonFirst.  Depth is bounded and nothing
 * recurses deeper than JSON_MAX_DEPTH, so a hostile comment costs at most
 * a linear scan of its 65535 bytes.
 */
#include "config.h"

#include "ozx.h"

#include <stdbool.h>
#include <string.h>

#include "archive_i.h"

#define JSON_MAX_DEPTH 32

struct json {
	const char *p, *end;
	bool ok;
	struct ozx_info *info;
	bool has_ome;
};

/* Where in the document we are, as far as we care. */
enum place { P_OTHER, P_ROOT, P_OME, P_ZIPFILE, P_CDIR };

static void ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool lit(struct json *j, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n))
		return j->ok = false;
	j->p += n;
	return true;
}

/* A string; raw and rawlen give its bytes when it has no escapes. */
static void string(struct json *j, const char **raw, size_t *rawlen)
{
	const char *s;
	bool escaped = false;

	*raw = NULL;
	if (j->p >= j->end || *j->p != '"') {
		j->ok = false;
		return;
	}
	s = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20) {
			j->ok = false;
			return;
		}
		if (c == '\\') {
			escaped = true;
			if (++j->p >= j->end)
				break;
			if (*j->p == 'u') {
				for (int k = 0; k < 4; k++) {
					if (++j->p >= j->end ||
					    !strchr("0123456789abcdefABCDEF",
						    *j->p) || !*j->p) {
						j->ok = false;
						return;
					}
				}
			} else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p) {
				j->ok = false;
				return;
			}
		}
		j->p++;
	}
	if (j->p >= j->end) {
		j->ok = false;
		return;
	}
	if (!escaped) {
		*raw = s;
		*rawlen = (size_t)(j->p - s);
	}
	j->p++;
}

static void number(struct json *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	while (j->p < j->end && strchr("0123456789.eE+-", *j->p) && *j->p)
		j->p++;
	if (j->p == s)
		j->ok = false;
}

static bool key_is(const char *k, size_t n, const char *want)
{
	return k && n == strlen(want) && !memcmp(k, want, n);
}

static enum place child_place(enum place at, const char *k, size_t n)
{
	if (at == P_ROOT && key_is(k, n, "ome"))
		return P_OME;
	if (at == P_OME && key_is(k, n, "zipFile"))
		return P_ZIPFILE;
	if (at == P_ZIPFILE && key_is(k, n, "centralDirectory"))
		return P_CDIR;
	return P_OTHER;
}

static void value(struct json *j, enum place at, const char *key,
		  size_t keylen, int depth)
{
	const char *s;
	size_t n;

	ws(j);
	if (!j->ok || j->p >= j->end || depth > JSON_MAX_DEPTH) {
		j->ok = false;
		return;
	}
	switch (*j->p) {
	case '{': {
		enum place self = child_place(at, key, keylen);

		if (depth == 0)
			self = P_ROOT;
		if (self == P_OME)
			j->has_ome = true;
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return;
		}
		while (j->ok) {
			ws(j);
			string(j, &s, &n);
			ws(j);
			if (!j->ok || !lit(j, ":"))
				return;
			value(j, self, s, s ? n : 0, depth + 1);
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			lit(j, "}");
			return;
		}
		return;
	}
	case '[':
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return;
		}
		while (j->ok) {
			value(j, P_OTHER, NULL, 0, depth + 1);
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			lit(j, "]");
			return;
		}
		return;
	case '"':
		string(j, &s, &n);
		if (j->ok && at == P_OME && key_is(key, keylen, "version") &&
		    s && n < sizeof(j->info->ome_version)) {
			memcpy(j->info->ome_version, s, n);
			j->info->ome_version[n] = '\0';
		}
		return;
	case 't':
	case 'f': {
		bool t = *j->p == 't';

		if (lit(j, t ? "true" : "false") && at == P_CDIR &&
		    key_is(key, keylen, "jsonFirst"))
			j->info->json_first = t;
		return;
	}
	case 'n':
		lit(j, "null");
		return;
	default:
		number(j);
		return;
	}
}

void ozx_rfc9_parse(const char *s, size_t len, bool in_eocd64,
		    struct ozx_info *info)
{
	struct ozx_info tmp = *info;
	struct json j = { s, s + len, true, &tmp, false };
	bool nul = len > 0 && s[len - 1] == '\0';

	if (nul)
		j.end--;
	tmp.ome_version[0] = '\0';
	tmp.json_first = -1;
	ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return;
	value(&j, P_ROOT, NULL, 0, 0);
	ws(&j);
	/* In the ZIP64 extensible data the JSON may be followed by padding. */
	if (!j.ok || (!in_eocd64 && j.p != j.end) || !j.has_ome)
		return;
	tmp.rfc9_json = true;
	tmp.rfc9_in_eocd64 = in_eocd64;
	tmp.rfc9_trailing_nul = nul && !in_eocd64;
	*info = tmp;
}
