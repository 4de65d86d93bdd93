/*
 * rfc9check.c - RFC-9 (single-file OME-Zarr in a ZIP archive) conformance
 * of an opened archive, for `ozx check` and the user.ozx.rfc9 attribute.
 *
 * RFC-9 says (the levels ozx(1) documents per rule):
 *   MUST      the ZIP holds one OME-Zarr hierarchy whose root is the
 *             archive's root, with the root-level zarr.json   root-zarr-json
 *   SHALL NOT OME-Zarr zip files embedded in the hierarchy    nested
 *   SHALL NOT split into several parts                        single-part
 *   SHOULD    ZIP64, whatever the size                        zip64
 *   SHOULD    no ZIP-level compression                        stored
 *   SHOULD    root zarr.json the first entry (file and central
 *             directory), the other zarr.json right after it,
 *             breadth first                                   json-first
 *   SHOULD    the archive comment is UTF-8 JSON with
 *             ome.version                                     comment
 *   SHOULD    the file name ends in ".ozx"                    extension
 * and, not in the RFC's words but errors all the same, a comment that
 * claims jsonFirst: true over entries in another order (json-first-claim).
 * The sharding SHOULD is not checked: it is a property of the Zarr arrays.
 *
 * One pass over the central-directory records (nodes 1..nrecords, in
 * directory order) keeps a handful of counters and node numbers; names are
 * fetched again only to word a message.  Memory does not grow with the
 * number of entries.
 */
#include "config.h"

#include "rfc9check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Findings about single entries listed by name before "and N more". */
#define MAX_LISTED 10
/* A root zarr.json larger than this is not parsed. */
#define ROOT_JSON_MAX  (64u << 20)
#define JSON_MAX_DEPTH 64

/* ---- a strict JSON reader ---- */

struct jp {
	const unsigned char *p, *end;
	const char *const *path;
	size_t npath;
	char *out;
	size_t size;
	struct ozxfs_json_res *res;
};

static void jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static void put(char *dst, size_t dsize, size_t *n, unsigned char b)
{
	if (dst && *n + 1 < dsize)
		dst[*n] = (char)b;
	(*n)++;
}

static int hex4(struct jp *j, uint32_t *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++, j->p++) {
		unsigned char c;

		if (j->p >= j->end)
			return -EINVAL;
		c = *j->p;
		if (c >= '0' && c <= '9')
			*v = *v << 4 | (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v = *v << 4 | (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return -EINVAL;
	}
	return 0;
}

static void put_cp(char *dst, size_t dsize, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		put(dst, dsize, n, (unsigned char)cp);
	} else if (cp < 0x800) {
		put(dst, dsize, n, (unsigned char)(0xc0 | cp >> 6));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		put(dst, dsize, n, (unsigned char)(0xe0 | cp >> 12));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp >> 6 & 0x3f)));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		put(dst, dsize, n, (unsigned char)(0xf0 | cp >> 18));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp >> 12 & 0x3f)));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp >> 6 & 0x3f)));
		put(dst, dsize, n, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

/*
 * The string at j->p, decoded into dst (dsize bytes, NUL-terminated, may
 * be NULL); *dlen is the whole decoded length.  Returns 0 or -EINVAL.
 */
static int jstring(struct jp *j, char *dst, size_t dsize, size_t *dlen)
{
	size_t n = 0;

	if (j->p >= j->end || *j->p != '"')
		return -EINVAL;
	j->p++;
	for (;;) {
		unsigned char c;
		uint32_t cp, lo;
		size_t k;

		if (j->p >= j->end)
			return -EINVAL;
		c = *j->p;
		if (c == '"') {
			j->p++;
			break;
		}
		if (c < 0x20)
			return -EINVAL;
		if (c != '\\') {
			k = ozx_utf8_seq(j->p, (size_t)(j->end - j->p));
			if (k == 0)
				return -EINVAL;
			for (size_t i = 0; i < k; i++)
				put(dst, dsize, &n, j->p[i]);
			j->p += k;
			continue;
		}
		if (++j->p >= j->end)
			return -EINVAL;
		c = *j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			put(dst, dsize, &n, c);
			break;
		case 'b':
			put(dst, dsize, &n, '\b');
			break;
		case 'f':
			put(dst, dsize, &n, '\f');
			break;
		case 'n':
			put(dst, dsize, &n, '\n');
			break;
		case 'r':
			put(dst, dsize, &n, '\r');
			break;
		case 't':
			put(dst, dsize, &n, '\t');
			break;
		case 'u':
			if (hex4(j, &cp))
				return -EINVAL;
			if (cp >= 0xd800 && cp <= 0xdbff &&
			    j->end - j->p >= 6 && j->p[0] == '\\' &&
			    j->p[1] == 'u') {
				const unsigned char *save = j->p;

				j->p += 2;
				if (hex4(j, &lo))
					return -EINVAL;
				if (lo >= 0xdc00 && lo <= 0xdfff)
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
				else
					j->p = save;
			}
			/* A lone surrogate is valid JSON text but no
			 * character: U+FFFD stands for it. */
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			put_cp(dst, dsize, &n, cp);
			break;
		default:
			return -EINVAL;
		}
	}
	if (dst && dsize)
		dst[n < dsize ? n : dsize - 1] = '\0';
	*dlen = n;
	return 0;
}

static int jnumber(struct jp *j)
{
	const unsigned char *s;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return -EINVAL;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return -EINVAL;
	}
	if (j->p < j->end && *j->p == '.') {
		s = ++j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == s)
			return -EINVAL;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		s = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == s)
			return -EINVAL;
	}
	return 0;
}

static int jlit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return -EINVAL;
	j->p += n;
	return 0;
}

/*
 * One value.  on_path: the keys path[0..level) led here, so at level ==
 * npath this is the value asked for.  Recursion is bounded by depth.
 */
static int jvalue(struct jp *j, int depth, size_t level, bool on_path)
{
	bool here = on_path && level == j->npath;
	enum ozxfs_json_kind kind;
	size_t n;
	int ret;

	jws(j);
	if (j->p >= j->end || depth > JSON_MAX_DEPTH)
		return -EINVAL;
	switch (*j->p) {
	case '{':
	case '[': {
		bool obj = *j->p == '{';
		char close = obj ? '}' : ']';

		kind = obj ? OZXFS_JSON_OBJECT : OZXFS_JSON_ARRAY;
		j->p++;
		jws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			break;
		}
		for (;;) {
			bool child = false;

			if (obj) {
				char key[256];

				jws(j);
				ret = jstring(j, key, sizeof(key), &n);
				if (ret)
					return ret;
				child = on_path && level < j->npath &&
					n < sizeof(key) &&
					n == strlen(j->path[level]) &&
					!memcmp(key, j->path[level], n);
				jws(j);
				if (j->p >= j->end || *j->p != ':')
					return -EINVAL;
				j->p++;
			}
			ret = jvalue(j, depth + 1, level + 1, child);
			if (ret)
				return ret;
			jws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == close) {
				j->p++;
				break;
			}
			return -EINVAL;
		}
		break;
	}
	case '"':
		kind = OZXFS_JSON_STRING;
		if (here && j->out && j->size) {
			ret = jstring(j, j->out, j->size, &n);
			j->res->truncated = n >= j->size;
		} else {
			ret = jstring(j, NULL, 0, &n);
		}
		if (ret)
			return ret;
		break;
	case 't':
		kind = OZXFS_JSON_TRUE;
		if (jlit(j, "true"))
			return -EINVAL;
		break;
	case 'f':
		kind = OZXFS_JSON_FALSE;
		if (jlit(j, "false"))
			return -EINVAL;
		break;
	case 'n':
		kind = OZXFS_JSON_NULL;
		if (jlit(j, "null"))
			return -EINVAL;
		break;
	default:
		kind = OZXFS_JSON_NUMBER;
		if (jnumber(j))
			return -EINVAL;
		break;
	}
	if (depth == 0)
		j->res->top = kind;
	if (here)
		j->res->kind = kind; /* the last of duplicate keys wins */
	return 0;
}

int ozxfs_json_parse(const char *s, size_t len, const char *const *path,
		     char *out, size_t size, struct ozxfs_json_res *res)
{
	struct jp j = {
	    .p = (const unsigned char *)s,
	    .end = (const unsigned char *)s + len,
	    .path = path,
	    .out = out,
	    .size = size,
	    .res = res,
	};
	int ret;

	memset(res, 0, sizeof(*res));
	if (out && size)
		out[0] = '\0';
	while (path && path[j.npath])
		j.npath++;
	ret = jvalue(&j, 0, 0, path != NULL);
	if (ret)
		goto out_invalid;
	jws(&j);
	if (j.p != j.end) {
		ret = -EINVAL;
		goto out_invalid;
	}
	return 0;

out_invalid:
	memset(res, 0, sizeof(*res));
	if (out && size)
		out[0] = '\0';
	return ret;
}

/* ---- findings ---- */

int ozxfs_rfc9_add(struct ozxfs_rfc9 *r, enum ozxfs_rfc9_level level,
		   const char *rule, const char *req, const char *fmt, ...)
{
	struct ozxfs_rfc9_finding *f;
	va_list ap;
	char *msg;
	int n;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;

		f = realloc(r->f, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		r->f = f;
		r->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	f = &r->f[r->n++];
	f->level = level;
	f->rule = rule;
	f->req = req;
	f->msg = msg;
	if (level == OZXFS_RFC9_ERROR)
		r->nerrors++;
	else
		r->nwarnings++;
	return 0;
}

void ozxfs_rfc9_release(struct ozxfs_rfc9 *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i].msg);
	free(r->f);
	memset(r, 0, sizeof(*r));
}

static size_t append(char *buf, size_t size, size_t at, const char *s)
{
	size_t n = strlen(s);

	if (at < size) {
		size_t k = size - 1 - at < n ? size - 1 - at : n;

		memcpy(buf + at, s, k);
		buf[at + k] = '\0';
	}
	return at + n;
}

/* The rules of level in first-found order, each once, ", "-separated. */
static size_t append_rules(const struct ozxfs_rfc9 *r,
			   enum ozxfs_rfc9_level level, char *buf, size_t size,
			   size_t at)
{
	bool first = true;

	for (size_t i = 0; i < r->n; i++) {
		bool seen = false;

		if (r->f[i].level != level)
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = r->f[k].level == level &&
			       !strcmp(r->f[k].rule, r->f[i].rule);
		if (seen)
			continue;
		if (!first)
			at = append(buf, size, at, ", ");
		at = append(buf, size, at, r->f[i].rule);
		first = false;
	}
	return at;
}

size_t ozxfs_rfc9_summary(const struct ozxfs_rfc9 *r, char *buf, size_t size)
{
	size_t at = 0;

	if (size)
		buf[0] = '\0';
	if (!r->nerrors && !r->nwarnings)
		return append(buf, size, 0, "ok");
	if (r->nerrors) {
		at = append(buf, size, at, "errors: ");
		at = append_rules(r, OZXFS_RFC9_ERROR, buf, size, at);
	}
	if (r->nwarnings) {
		at = append(buf, size, at,
			    r->nerrors ? "; warnings: " : "warnings: ");
		at = append_rules(r, OZXFS_RFC9_WARNING, buf, size, at);
	}
	return at;
}

/* ---- the rules ---- */

bool ozxfs_is_zarr_json(const char *name, size_t len)
{
	static const char zj[] = "zarr.json";
	const size_t n = sizeof(zj) - 1;

	if (len < n || memcmp(name + len - n, zj, n))
		return false;
	return len == n || name[len - n - 1] == '/';
}

static bool ends_with_ci(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !strncasecmp(s + len - n, suffix, n);
}

/* What the rules need to know about one central-directory record. */
struct rec {
	uint32_t node;
	struct ozx_stat st;
	const char *name; /* the name as stored (not NUL-safe: use len) */
	size_t len;
	const char *why; /* hidden: why, or NULL */
	bool dir;	 /* a directory record ("name/") */
	char buf[OZX_MAX_PATH + 1];
};

bool ozxfs_superseded(const struct ozx_archive *a, uint32_t node)
{
	return ozx_node_hidden(a, node) == OZX_R_NAME_SUPERSEDED;
}

const char *ozxfs_method_name(uint16_t method, char buf[8])
{
	if (method == 0)
		return "stored";
	if (method == 8)
		return "deflate";
	snprintf(buf, 8, "%u", (unsigned)method);
	return buf;
}

int ozxfs_record_name(const struct ozx_archive *a, uint32_t node, char *buf,
		      size_t size, const char **name, size_t *len)
{
	struct ozx_stat st;
	ssize_t n;

	if (ozx_node_stat(a, node, &st) || st.record == OZX_NONE)
		return -ENOENT;
	if (st.kind == OZX_KIND_HIDDEN) {
		*name = ozx_node_name(a, node, len);
		return *name ? 0 : -ENOENT;
	}
	/* A visible record's name passed every check, so its path is
	 * exactly its name. */
	n = ozx_node_path(a, node, buf, size);
	if (n < 0)
		return (int)n;
	*name = buf;
	*len = (size_t)n;
	return 0;
}

/* A record node and its name. */
static int get_rec(const struct ozx_archive *a, uint32_t node, struct rec *x)
{
	int ret;

	x->node = node;
	if (ozx_node_stat(a, node, &x->st))
		return -ENOENT;
	ret = ozxfs_record_name(a, node, x->buf, sizeof(x->buf), &x->name,
				&x->len);
	if (ret)
		return ret;
	x->why =
	    x->st.kind == OZX_KIND_HIDDEN ? ozx_node_hidden_why(a, node) : NULL;
	x->dir = x->len > 0 && x->name[x->len - 1] == '/';
	return 0;
}

/* The record's name made printable, allocated; NULL on ENOMEM. */
static char *rec_esc(const struct ozx_archive *a, uint32_t node)
{
	struct rec *x = malloc(sizeof(*x));
	char *e = NULL;

	if (!x)
		return NULL;
	if (get_rec(a, node, x) == 0) {
		e = malloc(4 * x->len + 1);
		if (e)
			ozx_escape(x->name, x->len, e, 4 * x->len + 1);
	} else {
		e = strdup("?");
	}
	free(x);
	return e;
}

static int add_named(struct ozxfs_rfc9 *r, const struct ozx_archive *a,
		     enum ozxfs_rfc9_level level, const char *rule,
		     const char *req, uint32_t n1, uint32_t n2, const char *fmt)
{
	char *e1 = rec_esc(a, n1), *e2 = n2 ? rec_esc(a, n2) : NULL;
	int ret = -ENOMEM;

	if (e1 && (!n2 || e2)) {
		/* fmt is always one of this file's literals, with one or
		 * two %s for the names. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		ret = ozxfs_rfc9_add(r, level, rule, req, fmt, e1, e2);
#pragma GCC diagnostic pop
	}
	free(e1);
	free(e2);
	return ret;
}

/* Split-archive markers a first part starts with (APPNOTE 8.5.3-4). */
static int check_split(struct ozx_archive *a, struct ozxfs_rfc9 *r)
{
	const struct ozx_io *io = ozx_archive_io(a);
	unsigned char b[4];

	if (io->pread(io->ctx, b, 4, 0) != 4 || b[0] != 'P' || b[1] != 'K')
		return 0;
	if ((b[2] == 7 && b[3] == 8) || (b[2] == '0' && b[3] == '0'))
		return ozxfs_rfc9_add(r, OZXFS_RFC9_ERROR, "single-part",
				      "SHALL NOT",
				      "the archive starts with a split-archive "
				      "marker: it is one part of several");
	return 0;
}

static int check_root_json(struct ozx_archive *a, uint32_t node,
			   const struct ozx_stat *st, struct ozxfs_rfc9 *r)
{
	static const char *const path[] = {"attributes", "ome", "version",
					   NULL};
	struct ozxfs_json_res res;
	const char *why;
	char *buf;
	ssize_t n;
	int ret;

	if (st->size > ROOT_JSON_MAX)
		return ozxfs_rfc9_add(r, OZXFS_RFC9_WARNING, "ome-version",
				      NULL,
				      "'zarr.json' at the archive root is "
				      "larger than %u MiB: not read",
				      ROOT_JSON_MAX >> 20);
	buf = malloc((size_t)st->size + 1);
	if (!buf)
		return -ENOMEM;
	n = ozx_file_read(a, node, NULL, buf, (size_t)st->size, 0);
	if (n == -ENOMEM) {
		ret = -ENOMEM;
		goto out_free_buf;
	}
	if (n != (ssize_t)st->size) {
		why = ozx_file_failure(a, node);
		if (!why)
			why = n < 0 ? strerror((int)-n) : "short read";
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "root-zarr-json", "MUST",
		    "'zarr.json' at the archive root cannot be read: %s", why);
		goto out_free_buf;
	}
	ret = 0;
	if (ozxfs_json_parse(buf, (size_t)n, path, r->zarr_version,
			     sizeof(r->zarr_version), &res))
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "root-zarr-json", "MUST",
		    "'zarr.json' at the archive root is not valid JSON");
	else if (res.top != OZXFS_JSON_OBJECT)
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "root-zarr-json", "MUST",
		    "'zarr.json' at the archive root is not a JSON object");
	else if (res.kind != OZXFS_JSON_STRING || res.truncated ||
		 !r->zarr_version[0]) {
		r->zarr_version[0] = '\0';
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_WARNING, "ome-version", NULL,
		    "'zarr.json' at the archive root has no "
		    "attributes.ome.version string: not OME-Zarr 0.5 or later");
	}
out_free_buf:
	free(buf);
	return ret;
}

/* Returns 1 if the root zarr.json is there, 0 if not, or -ENOMEM. */
static int check_root(struct ozx_archive *a, struct ozxfs_rfc9 *r)
{
	struct ozx_stat st;
	uint32_t node, child, only = OZX_NONE;
	uint64_t cursor = 0;
	unsigned nchildren = 0;
	const char *name;
	size_t len;
	int ret;

	if (ozx_lookup(a, OZX_ROOT, "zarr.json", 9, &node) == 0 &&
	    ozx_node_stat(a, node, &st) == 0) {
		if (st.kind == OZX_KIND_FILE) {
			ret = check_root_json(a, node, &st, r);
			return ret ? ret : 1;
		}
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "root-zarr-json", "MUST",
		    "'zarr.json' at the archive root is a directory");
		return ret ? ret : 0;
	}
	if (ozx_lookup(a, OZX_ROOT, ".zgroup", 7, &node) == 0 ||
	    ozx_lookup(a, OZX_ROOT, ".zarray", 7, &node) == 0) {
		name = ozx_node_name(a, node, &len);
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "root-zarr-json", "MUST",
		    "no 'zarr.json' at the archive root: a Zarr v2 hierarchy "
		    "('%s'); RFC-9 is for Zarr v3 (OME-Zarr 0.5 and later)",
		    name);
		return ret ? ret : 0;
	}
	while (ozx_dir_next(a, OZX_ROOT, &cursor, &child) == 1) {
		nchildren++;
		only = child;
	}
	if (nchildren == 1 && ozx_lookup(a, only, "zarr.json", 9, &node) == 0) {
		char *e;

		name = ozx_node_name(a, only, &len);
		e = malloc(4 * len + 1);
		if (!e)
			return -ENOMEM;
		ozx_escape(name, len, e, 4 * len + 1);
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "root-zarr-json", "MUST",
		    "no 'zarr.json' at the archive root: the hierarchy is in "
		    "the directory '%s', but the archive's root must be the "
		    "hierarchy's root",
		    e);
		free(e);
		return ret ? ret : 0;
	}
	ret = ozxfs_rfc9_add(r, OZXFS_RFC9_ERROR, "root-zarr-json", "MUST",
			     "no 'zarr.json' at the archive root");
	return ret ? ret : 0;
}

/* What the pass over the records found (node numbers; 0 = none). */
struct order {
	uint32_t nonjson;	     /* first record that is not a zarr.json */
	uint32_t late_json;	     /* first zarr.json after nonjson */
	uint32_t bfs_prev, bfs_node; /* a zarr.json shallower than prev */
	uint32_t lho_prev, lho_node; /* zarr.json out of file order */
	uint32_t last_json;	     /* the previous zarr.json record */
	size_t last_depth;
	uint64_t last_lho;
	uint32_t max_json; /* the zarr.json stored last in the file */
	uint64_t max_json_lho;
	uint32_t min_other; /* the other entry stored first in the file */
	uint64_t min_other_lho;
	uint32_t min_all; /* the entry stored first in the file */
	uint64_t min_all_lho;
	bool min_all_root; /* ...and it is the root zarr.json */
};

static size_t depth_of(const char *s, size_t len)
{
	size_t d = 0;

	for (size_t i = 0; i < len; i++)
		d += s[i] == '/';
	return d;
}

static bool is_root_json(const struct rec *x)
{
	return !x->dir && x->len == 9 && !memcmp(x->name, "zarr.json", 9);
}

static void order_record(struct order *o, const struct rec *x)
{
	bool json = !x->dir && ozxfs_is_zarr_json(x->name, x->len);
	uint64_t lho = x->st.lh_offset;
	size_t d;

	if (!o->min_all || lho < o->min_all_lho) {
		o->min_all = x->node;
		o->min_all_lho = lho;
		o->min_all_root = is_root_json(x);
	}
	if (!json) {
		if (!o->nonjson)
			o->nonjson = x->node;
		if (!o->min_other || lho < o->min_other_lho) {
			o->min_other = x->node;
			o->min_other_lho = lho;
		}
		return;
	}
	if (o->nonjson && !o->late_json)
		o->late_json = x->node;
	d = depth_of(x->name, x->len);
	if (o->last_json && d < o->last_depth && !o->bfs_node) {
		o->bfs_prev = o->last_json;
		o->bfs_node = x->node;
	}
	if (o->last_json && lho <= o->last_lho && !o->lho_node) {
		o->lho_prev = o->last_json;
		o->lho_node = x->node;
	}
	if (!o->max_json || lho > o->max_json_lho) {
		o->max_json = x->node;
		o->max_json_lho = lho;
	}
	o->last_json = x->node;
	o->last_depth = d;
	o->last_lho = lho;
}

/* The json-first findings; *bad tells whether there was any. */
static int order_findings(struct ozx_archive *a, struct ozxfs_rfc9 *r,
			  const struct order *o, bool root_first, bool *bad)
{
	static const char W[] = "json-first";
	const enum ozxfs_rfc9_level L = OZXFS_RFC9_WARNING;
	int ret;

	*bad = false;
	if (!root_first) {
		*bad = true;
		ret = add_named(r, a, L, W, "SHOULD", 1, 0,
				"the first central directory record is '%s', "
				"not the root 'zarr.json'");
		if (ret)
			return ret;
	}
	if (o->late_json) {
		*bad = true;
		ret =
		    add_named(r, a, L, W, "SHOULD", o->late_json, o->nonjson,
			      "'%s' comes after '%s' in the central directory: "
			      "the 'zarr.json' entries should come first");
		if (ret)
			return ret;
	}
	if (o->bfs_node) {
		*bad = true;
		ret = add_named(
		    r, a, L, W, "SHOULD", o->bfs_node, o->bfs_prev,
		    "'%s' comes after the deeper '%s': the 'zarr.json' entries "
		    "are not in breadth-first order");
		if (ret)
			return ret;
	}
	if (!o->min_all_root) {
		*bad = true;
		ret = add_named(r, a, L, W, "SHOULD", o->min_all, 0,
				"the first entry in the file is '%s', not the "
				"root 'zarr.json'");
		if (ret)
			return ret;
	}
	if (o->lho_node) {
		*bad = true;
		ret = add_named(r, a, L, W, "SHOULD", o->lho_node, o->lho_prev,
				"'%s' is stored before '%s' in the file but "
				"comes after it in the central directory");
		if (ret)
			return ret;
	}
	if (o->max_json && o->min_other && o->min_other_lho < o->max_json_lho) {
		*bad = true;
		ret = add_named(r, a, L, W, "SHOULD", o->min_other, o->max_json,
				"'%s' is stored before '%s' in the file: the "
				"'zarr.json' entries should come first");
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * What the RFC-9 JSON claims.  Read from the comment by the parser that
 * judges it (check_comment_json), so that the report holds one verdict on
 * it: a comment that is not valid JSON claims nothing.  (The core reads
 * the comment too, more leniently, for the mount.)  JSON in the ZIP64
 * extensible data is read by the core alone: its reading stands.
 */
struct claims {
	int json_first;	  /* 1, 0, or -1 absent */
	char version[32]; /* ome.version, "" if absent */
};

static void read_claims(const struct ozx_info *info, struct claims *cl)
{
	static const char *const vpath[] = {"ome", "version", NULL};
	static const char *const jpath[] = {
	    "ome", "zipFile", "centralDirectory", "jsonFirst", NULL};
	struct ozxfs_json_res res;
	size_t len = info->comment_len;

	cl->json_first = -1;
	cl->version[0] = '\0';
	if (info->rfc9_in_eocd64) {
		cl->json_first = info->json_first;
		snprintf(cl->version, sizeof(cl->version), "%s",
			 info->ome_version);
		return;
	}
	if (len && info->comment[len - 1] == '\0')
		len--;
	if (!len || ozxfs_json_parse(info->comment, len, jpath, NULL, 0, &res))
		return;
	if (res.kind == OZXFS_JSON_TRUE || res.kind == OZXFS_JSON_FALSE)
		cl->json_first = res.kind == OZXFS_JSON_TRUE;
	ozxfs_json_parse(info->comment, len, vpath, cl->version,
			 sizeof(cl->version), &res);
	if (res.kind != OZXFS_JSON_STRING || res.truncated)
		cl->version[0] = '\0';
}

static int check_records(struct ozx_archive *a, struct ozxfs_rfc9 *r,
			 bool have_root, const struct claims *cl)
{
	const struct ozx_info *info = ozx_archive_info(a);
	struct order o = {0};
	unsigned nnested = 0, ncompressed = 0, nhidden = 0, ndup = 0;
	uint32_t compressed = 0;
	bool root_first = false, bad;
	struct rec *x;
	int ret = 0;

	x = malloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	for (uint32_t node = 1; node <= info->nrecords; node++) {
		if (get_rec(a, node, x))
			continue;
		if (node == 1)
			root_first = is_root_json(x);
		order_record(&o, x);

		if (!x->dir &&
		    (ends_with_ci(x->name, x->len, ".ozx") ||
		     ends_with_ci(x->name, x->len, ".zip")) &&
		    nnested++ < MAX_LISTED) {
			ret = add_named(
			    r, a, OZXFS_RFC9_ERROR, "nested", "SHALL NOT", node,
			    0,
			    "'%s' is a ZIP archive inside the archive: zipped "
			    "OME-Zarr must not be nested");
			if (ret)
				goto out_free_x;
		}
		if (!x->dir && x->st.method != 0 && !ncompressed++)
			compressed = node;
		if (ozxfs_superseded(a, node)) {
			if (ndup++ < MAX_LISTED) {
				ret = add_named(
				    r, a, OZXFS_RFC9_WARNING, "duplicate", NULL,
				    node, 0,
				    "'%s' occurs more than once: an earlier "
				    "record is superseded by the last one");
				if (ret)
					goto out_free_x;
			}
		} else if (x->why && nhidden++ < MAX_LISTED) {
			char *e = rec_esc(a, node);

			ret = e ? ozxfs_rfc9_add(
				      r, OZXFS_RFC9_WARNING, "hidden", NULL,
				      "'%s': %s: not shown on the mount", e,
				      x->why)
				: -ENOMEM;
			free(e);
			if (ret)
				goto out_free_x;
		}
	}
	if (nnested > MAX_LISTED)
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "nested", "SHALL NOT",
		    "and %u more ZIP archives inside the archive",
		    nnested - MAX_LISTED);
	if (!ret && ndup > MAX_LISTED)
		ret = ozxfs_rfc9_add(r, OZXFS_RFC9_WARNING, "duplicate", NULL,
				     "and %u more superseded records",
				     ndup - MAX_LISTED);
	if (!ret && nhidden > MAX_LISTED)
		ret = ozxfs_rfc9_add(r, OZXFS_RFC9_WARNING, "hidden", NULL,
				     "and %u more hidden names",
				     nhidden - MAX_LISTED);
	if (!ret && ncompressed) {
		char *e = rec_esc(a, compressed);

		ret = e ? ozxfs_rfc9_add(
			      r, OZXFS_RFC9_WARNING, "stored", "SHOULD",
			      "%u of %u entries are compressed in the ZIP (the "
			      "first is '%s'): Zarr chunks are compressed "
			      "already, store them",
			      ncompressed, info->nrecords, e)
			: -ENOMEM;
		free(e);
	}
	if (ret)
		goto out_free_x;
	if (have_root && info->nrecords) {
		ret = order_findings(a, r, &o, root_first, &bad);
		if (ret)
			goto out_free_x;
	} else {
		bad = true;
	}
	if (cl->json_first == 1 && bad)
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_ERROR, "json-first-claim", NULL,
		    have_root ? "the archive comment claims jsonFirst: true, "
				"but the entries are not in that order"
			      : "the archive comment claims jsonFirst: true, "
				"but there is no root 'zarr.json'");
out_free_x:
	free(x);
	return ret;
}

/* The archive comment's text: UTF-8 JSON, an object with ome.version. */
static int check_comment_json(const struct ozx_info *info, struct ozxfs_rfc9 *r)
{
	static const char *const path[] = {"ome", "version", NULL};
	const enum ozxfs_rfc9_level W = OZXFS_RFC9_WARNING;
	struct ozxfs_json_res res;
	size_t len = info->comment_len;
	char version[32];
	int ret;

	if (info->comment[len - 1] == '\0') {
		len--;
		ret = ozxfs_rfc9_add(
		    r, W, "comment", "SHOULD",
		    "the archive comment ends in a NUL byte (an older draft of "
		    "RFC-9): JSON readers may reject it");
		if (ret)
			return ret;
	}
	if (ozxfs_json_parse(info->comment, len, path, version, sizeof(version),
			     &res))
		return ozxfs_rfc9_add(
		    r, W, "comment", "SHOULD",
		    "the archive comment is not valid UTF-8 JSON");
	if (res.top != OZXFS_JSON_OBJECT)
		return ozxfs_rfc9_add(
		    r, W, "comment", "SHOULD",
		    "the archive comment is JSON but not an object");
	if (res.kind != OZXFS_JSON_STRING || !version[0])
		return ozxfs_rfc9_add(
		    r, W, "comment", "SHOULD",
		    "the archive comment has no ome.version string");
	return 0;
}

static int check_comment(struct ozx_archive *a, struct ozxfs_rfc9 *r,
			 const struct claims *cl)
{
	const struct ozx_info *info = ozx_archive_info(a);
	const enum ozxfs_rfc9_level W = OZXFS_RFC9_WARNING;
	int ret;

	if (info->rfc9_in_eocd64)
		ret = ozxfs_rfc9_add(
		    r, W, "comment", "SHOULD",
		    "the RFC-9 JSON is in the ZIP64 end record's extensible "
		    "data, not in the archive comment");
	else if (info->comment_len == 0)
		ret = ozxfs_rfc9_add(r, W, "comment", "SHOULD",
				     "no archive comment: RFC-9 recommends "
				     "{\"ome\":{\"version\":\"...\"}}");
	else
		ret = check_comment_json(info, r);
	if (!ret && cl->version[0] && r->zarr_version[0] &&
	    strcmp(cl->version, r->zarr_version))
		ret = ozxfs_rfc9_add(r, W, "ome-version", NULL,
				     "the archive comment says OME-Zarr %s but "
				     "the root 'zarr.json' says %s",
				     cl->version, r->zarr_version);
	return ret;
}

int ozxfs_rfc9_check(struct ozx_archive *a, const char *filename,
		     struct ozxfs_rfc9 *r)
{
	const struct ozx_info *info = ozx_archive_info(a);
	struct claims cl;
	int ret, have_root;

	memset(r, 0, sizeof(*r));
	ret = check_split(a, r);
	if (ret)
		return ret;
	have_root = check_root(a, r);
	if (have_root < 0)
		return have_root;
	read_claims(info, &cl);
	ret = check_records(a, r, have_root, &cl);
	if (ret)
		return ret;
	if (!info->zip64) {
		ret =
		    ozxfs_rfc9_add(r, OZXFS_RFC9_WARNING, "zip64", "SHOULD",
				   "no ZIP64 end of central directory record: "
				   "RFC-9 recommends ZIP64 whatever the size");
		if (ret)
			return ret;
	}
	ret = check_comment(a, r, &cl);
	if (ret)
		return ret;
	if (filename) {
		size_t n = strlen(filename);

		if (n < 4 || strcmp(filename + n - 4, ".ozx")) {
			char *e = malloc(4 * n + 1);

			if (!e)
				return -ENOMEM;
			ozx_escape(filename, n, e, 4 * n + 1);
			ret = ozxfs_rfc9_add(
			    r, OZXFS_RFC9_WARNING, "extension", "SHOULD",
			    "the file name '%s' does not end in '.ozx'", e);
			free(e);
			if (ret)
				return ret;
		}
	}
	if (info->ndirdata)
		ret = ozxfs_rfc9_add(
		    r, OZXFS_RFC9_WARNING, "dir-data", NULL,
		    "directory records with data (which is ignored): %u",
		    info->ndirdata);
	return ret;
}
