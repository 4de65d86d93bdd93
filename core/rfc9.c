/*
 * rfc9.c - the RFC-9 layer (single-file OME-Zarr in a ZIP archive): what
 * the archive's RFC-9 JSON says, and the conformance of an opened archive,
 * for `ozx check` and the user.ozx.rfc9 attribute.  All its JSON is read
 * by the one reader, json.c, so the mount and the check agree on it.
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

#include "rfc9.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Findings about single entries listed by name before "and N more". */
#define MAX_LISTED 10

/* ---- findings ---- */

int ozx_rfc9_add(struct ozx_rfc9 *r, enum ozx_rfc9_level level,
		 const char *rule, const char *req, const char *fmt, ...)
{
	struct ozx_rfc9_finding *f;
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
	if (level == OZX_RFC9_ERROR)
		r->nerrors++;
	else
		r->nwarnings++;
	return 0;
}

void ozx_rfc9_release(struct ozx_rfc9 *r)
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
static size_t append_rules(const struct ozx_rfc9 *r, enum ozx_rfc9_level level,
			   char *buf, size_t size, size_t at)
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

size_t ozx_rfc9_summary(const struct ozx_rfc9 *r, char *buf, size_t size)
{
	size_t at = 0;

	if (size)
		buf[0] = '\0';
	if (!r->nerrors && !r->nwarnings)
		return append(buf, size, 0, "ok");
	if (r->nerrors) {
		at = append(buf, size, at, "errors: ");
		at = append_rules(r, OZX_RFC9_ERROR, buf, size, at);
	}
	if (r->nwarnings) {
		at = append(buf, size, at,
			    r->nerrors ? "; warnings: " : "warnings: ");
		at = append_rules(r, OZX_RFC9_WARNING, buf, size, at);
	}
	return at;
}

/* ---- the RFC-9 JSON ---- */

/* What the JSON text s[0..len) says, into c (left as it is if not JSON). */
static void read_json(const char *s, size_t len, unsigned flags,
		      struct ozx_rfc9_comment *c)
{
	static const char *const ome[] = { "ome", NULL };
	static const char *const version[] = { "ome", "version", NULL };
	static const char *const json_first[] = { "ome", "zipFile",
						  "centralDirectory",
						  "jsonFirst", NULL };
	struct ozx_json_res res;

	if (ozx_json_parse(s, len, flags, ome, NULL, 0, &res))
		return;
	c->top = res.top;
	c->json = res.top == OZX_JSON_OBJECT && res.kind == OZX_JSON_OBJECT;
	ozx_json_parse(s, len, flags, version, c->ome_version,
		       sizeof(c->ome_version), &res);
	c->has_version = res.kind == OZX_JSON_STRING && c->ome_version[0];
	if (res.kind != OZX_JSON_STRING || res.truncated)
		c->ome_version[0] = '\0';
	ozx_json_parse(s, len, flags, json_first, NULL, 0, &res);
	if (res.kind == OZX_JSON_TRUE || res.kind == OZX_JSON_FALSE)
		c->json_first = res.kind == OZX_JSON_TRUE;
}

void ozx_rfc9_comment_read(const struct ozx_info *info,
			   struct ozx_rfc9_comment *c)
{
	struct ozx_rfc9_comment x = { .json_first = -1 };
	size_t len = info->comment_len;
	const char *brace;

	memset(c, 0, sizeof(*c));
	c->json_first = -1;
	if (len && info->comment[len - 1] == '\0') {
		c->trailing_nul = true;
		len--;
	}
	if (len)
		read_json(info->comment, len, 0, c);
	if (c->json || !info->ext_len)
		return;
	/* The JSON may sit behind a header ID and length, and padding may
	 * follow it. */
	brace = memchr(info->ext_data, '{', info->ext_len);
	if (!brace)
		return;
	read_json(brace, (size_t)(info->ext_data + info->ext_len - brace),
		  OZX_JSON_PREFIX, &x);
	if (!x.json)
		return;
	x.in_eocd64 = true;
	x.trailing_nul = c->trailing_nul;
	*c = x;
}

enum ozx_rfc9_zarr ozx_rfc9_zarr_json(const char *s, size_t len, char *v,
				      size_t size)
{
	static const char *const path[] = { "attributes", "ome", "version",
					    NULL };
	struct ozx_json_res res;

	if (ozx_json_parse(s, len, 0, path, v, size, &res))
		return OZX_RFC9_ZARR_INVALID;
	if (res.kind != OZX_JSON_STRING || res.truncated ||
	    res.top != OZX_JSON_OBJECT)
		v[0] = '\0';
	return res.top == OZX_JSON_OBJECT ? OZX_RFC9_ZARR_OBJECT :
					    OZX_RFC9_ZARR_NOT_OBJECT;
}

/* ---- the rules ---- */

/* Whether name (len bytes, no trailing '/') is a Zarr v3 metadata key:
 * "zarr.json" or ".../zarr.json". */
static bool is_zarr_json(const char *name, size_t len)
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

/* A record node and its name. */
static int get_rec(const struct ozx_archive *a, uint32_t node, struct rec *x)
{
	int ret;

	x->node = node;
	if (ozx_node_stat(a, node, &x->st))
		return -ENOENT;
	ret = ozx_record_name(a, node, x->buf, sizeof(x->buf), &x->name,
			      &x->len);
	if (ret)
		return ret;
	x->why = x->st.kind == OZX_KIND_HIDDEN ? ozx_node_hidden_why(a, node) :
						 NULL;
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

static int add_named(struct ozx_rfc9 *r, const struct ozx_archive *a,
		     enum ozx_rfc9_level level, const char *rule,
		     const char *req, uint32_t n1, uint32_t n2, const char *fmt)
{
	char *e1 = rec_esc(a, n1), *e2 = n2 ? rec_esc(a, n2) : NULL;
	int ret = -ENOMEM;

	if (e1 && (!n2 || e2)) {
		/* fmt is always one of this file's literals, with one or
		 * two %s for the names. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		ret = ozx_rfc9_add(r, level, rule, req, fmt, e1, e2);
#pragma GCC diagnostic pop
	}
	free(e1);
	free(e2);
	return ret;
}

/* Split-archive markers a first part starts with (APPNOTE 8.5.3-4). */
static int check_split(struct ozx_archive *a, struct ozx_rfc9 *r)
{
	const struct ozx_io *io = ozx_archive_io(a);
	unsigned char b[4];

	if (io->pread(io->ctx, b, 4, 0) != 4 || b[0] != 'P' || b[1] != 'K')
		return 0;
	if ((b[2] == 7 && b[3] == 8) || (b[2] == '0' && b[3] == '0'))
		return ozx_rfc9_add(r, OZX_RFC9_ERROR, "single-part",
				    "SHALL NOT",
				    "the archive starts with a split-archive "
				    "marker: it is one part of several");
	return 0;
}

static int check_root_json(struct ozx_archive *a, uint32_t node,
			   const struct ozx_stat *st, struct ozx_rfc9 *r)
{
	enum ozx_reason f;
	const char *why;
	char *buf;
	ssize_t n;
	int ret;

	if (st->size > OZX_RFC9_ROOT_JSON_MAX)
		return ozx_rfc9_add(r, OZX_RFC9_WARNING, "ome-version", NULL,
				    "'zarr.json' at the archive root is "
				    "larger than %zu MiB: not read",
				    OZX_RFC9_ROOT_JSON_MAX >> 20);
	buf = malloc((size_t)st->size + 1);
	if (!buf)
		return -ENOMEM;
	n = ozx_file_read(a, node, NULL, buf, (size_t)st->size, 0);
	if (n == -ENOMEM) {
		ret = -ENOMEM;
		goto out_free_buf;
	}
	if (n != (ssize_t)st->size) {
		f = ozx_file_fail(a, node);
		why = f	    ? ozx_reason_text(f) :
		      n < 0 ? strerror((int)-n) :
			      "short read";
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "root-zarr-json", "MUST",
			"'zarr.json' at the archive root cannot be read: %s",
			why);
		goto out_free_buf;
	}
	ret = 0;
	switch (ozx_rfc9_zarr_json(buf, (size_t)n, r->zarr_version,
				   sizeof(r->zarr_version))) {
	case OZX_RFC9_ZARR_INVALID:
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "root-zarr-json", "MUST",
			"'zarr.json' at the archive root is not valid JSON");
		break;
	case OZX_RFC9_ZARR_NOT_OBJECT:
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "root-zarr-json", "MUST",
			"'zarr.json' at the archive root is not a JSON object");
		break;
	case OZX_RFC9_ZARR_OBJECT:
		if (!r->zarr_version[0])
			ret = ozx_rfc9_add(
				r, OZX_RFC9_WARNING, "ome-version", NULL,
				"'zarr.json' at the archive root has no "
				"attributes.ome.version string: not OME-Zarr 0.5 "
				"or later");
		break;
	}
out_free_buf:
	free(buf);
	return ret;
}

/* Returns 1 if the root zarr.json is there, 0 if not, or -ENOMEM. */
static int check_root(struct ozx_archive *a, struct ozx_rfc9 *r)
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
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "root-zarr-json", "MUST",
			"'zarr.json' at the archive root is a directory");
		return ret ? ret : 0;
	}
	if (ozx_lookup(a, OZX_ROOT, ".zgroup", 7, &node) == 0 ||
	    ozx_lookup(a, OZX_ROOT, ".zarray", 7, &node) == 0) {
		name = ozx_node_name(a, node, &len);
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "root-zarr-json", "MUST",
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
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "root-zarr-json", "MUST",
			"no 'zarr.json' at the archive root: the hierarchy is in "
			"the directory '%s', but the archive's root must be the "
			"hierarchy's root",
			e);
		free(e);
		return ret ? ret : 0;
	}
	ret = ozx_rfc9_add(r, OZX_RFC9_ERROR, "root-zarr-json", "MUST",
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
	bool json = !x->dir && is_zarr_json(x->name, x->len);
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
static int order_findings(struct ozx_archive *a, struct ozx_rfc9 *r,
			  const struct order *o, bool root_first, bool *bad)
{
	static const char W[] = "json-first";
	const enum ozx_rfc9_level L = OZX_RFC9_WARNING;
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
		ret = add_named(
			r, a, L, W, "SHOULD", o->late_json, o->nonjson,
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

static int check_records(struct ozx_archive *a, struct ozx_rfc9 *r,
			 bool have_root, const struct ozx_rfc9_comment *cl)
{
	const struct ozx_info *info = ozx_archive_info(a);
	struct order o = { 0 };
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
				r, a, OZX_RFC9_ERROR, "nested", "SHALL NOT",
				node, 0,
				"'%s' is a ZIP archive inside the archive: zipped "
				"OME-Zarr must not be nested");
			if (ret)
				goto out_free_x;
		}
		if (!x->dir && x->st.method != 0 && !ncompressed++)
			compressed = node;
		if (ozx_node_hidden(a, node) == OZX_R_NAME_SUPERSEDED) {
			if (ndup++ < MAX_LISTED) {
				ret = add_named(
					r, a, OZX_RFC9_WARNING, "duplicate",
					NULL, node, 0,
					"'%s' occurs more than once: an earlier "
					"record is superseded by the last one");
				if (ret)
					goto out_free_x;
			}
		} else if (x->why && nhidden++ < MAX_LISTED) {
			char *e = rec_esc(a, node);

			ret = e ? ozx_rfc9_add(
					  r, OZX_RFC9_WARNING, "hidden", NULL,
					  "'%s': %s: not shown on the mount", e,
					  x->why) :
				  -ENOMEM;
			free(e);
			if (ret)
				goto out_free_x;
		}
	}
	if (nnested > MAX_LISTED)
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "nested", "SHALL NOT",
			"and %u more ZIP archives inside the archive",
			nnested - MAX_LISTED);
	if (!ret && ndup > MAX_LISTED)
		ret = ozx_rfc9_add(r, OZX_RFC9_WARNING, "duplicate", NULL,
				   "and %u more superseded records",
				   ndup - MAX_LISTED);
	if (!ret && nhidden > MAX_LISTED)
		ret = ozx_rfc9_add(r, OZX_RFC9_WARNING, "hidden", NULL,
				   "and %u more hidden names",
				   nhidden - MAX_LISTED);
	if (!ret && ncompressed) {
		char *e = rec_esc(a, compressed);

		ret = e ? ozx_rfc9_add(
				  r, OZX_RFC9_WARNING, "stored", "SHOULD",
				  "%u of %u entries are compressed in the ZIP (the "
				  "first is '%s'): Zarr chunks are compressed "
				  "already, store them",
				  ncompressed, info->nrecords, e) :
			  -ENOMEM;
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
		ret = ozx_rfc9_add(
			r, OZX_RFC9_ERROR, "json-first-claim", NULL,
			have_root ?
				"the archive comment claims jsonFirst: true, "
				"but the entries are not in that order" :
				"the archive comment claims jsonFirst: true, "
				"but there is no root 'zarr.json'");
out_free_x:
	free(x);
	return ret;
}

/* The archive comment's text: UTF-8 JSON, an object with ome.version. */
static int check_comment(struct ozx_archive *a, struct ozx_rfc9 *r,
			 const struct ozx_rfc9_comment *cl)
{
	const struct ozx_info *info = ozx_archive_info(a);
	const enum ozx_rfc9_level W = OZX_RFC9_WARNING;
	int ret = 0;

	if (cl->in_eocd64)
		ret = ozx_rfc9_add(
			r, W, "comment", "SHOULD",
			"the RFC-9 JSON is in the ZIP64 end record's extensible "
			"data, not in the archive comment");
	else if (info->comment_len == 0)
		ret = ozx_rfc9_add(r, W, "comment", "SHOULD",
				   "no archive comment: RFC-9 recommends "
				   "{\"ome\":{\"version\":\"...\"}}");
	else if (cl->trailing_nul)
		ret = ozx_rfc9_add(
			r, W, "comment", "SHOULD",
			"the archive comment ends in a NUL byte (an older draft of "
			"RFC-9): JSON readers may reject it");
	if (!ret && !cl->in_eocd64 && info->comment_len) {
		if (cl->top == OZX_JSON_ABSENT)
			ret = ozx_rfc9_add(
				r, W, "comment", "SHOULD",
				"the archive comment is not valid UTF-8 JSON");
		else if (cl->top != OZX_JSON_OBJECT)
			ret = ozx_rfc9_add(
				r, W, "comment", "SHOULD",
				"the archive comment is JSON but not an object");
		else if (!cl->has_version)
			ret = ozx_rfc9_add(
				r, W, "comment", "SHOULD",
				"the archive comment has no ome.version string");
	}
	if (!ret && cl->ome_version[0] && r->zarr_version[0] &&
	    strcmp(cl->ome_version, r->zarr_version))
		ret = ozx_rfc9_add(r, W, "ome-version", NULL,
				   "the archive comment says OME-Zarr %s but "
				   "the root 'zarr.json' says %s",
				   cl->ome_version, r->zarr_version);
	return ret;
}

int ozx_rfc9_check(struct ozx_archive *a, const char *filename,
		   struct ozx_rfc9 *r)
{
	const struct ozx_info *info = ozx_archive_info(a);
	struct ozx_rfc9_comment cl;
	int ret, have_root;

	memset(r, 0, sizeof(*r));
	ret = check_split(a, r);
	if (ret)
		return ret;
	have_root = check_root(a, r);
	if (have_root < 0)
		return have_root;
	ozx_rfc9_comment_read(info, &cl);
	ret = check_records(a, r, have_root, &cl);
	if (ret)
		return ret;
	if (!info->zip64) {
		ret = ozx_rfc9_add(r, OZX_RFC9_WARNING, "zip64", "SHOULD",
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
			ret = ozx_rfc9_add(
				r, OZX_RFC9_WARNING, "extension", "SHOULD",
				"the file name '%s' does not end in '.ozx'", e);
			free(e);
			if (ret)
				return ret;
		}
	}
	if (info->ndirdata)
		ret = ozx_rfc9_add(
			r, OZX_RFC9_WARNING, "dir-data", NULL,
			"directory records with data (which is ignored): %u",
			info->ndirdata);
	return ret;
}
