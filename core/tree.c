/*
 * tree.c - names into a directory tree.
 *
 * Directories are synthesised from names; a name ending in '/' is a
 * directory record, merged into the directory it names.  The file type
 * comes from the name alone, never from Unix mode bits (Python's writestr
 * leaves them empty).  Names are byte-exact: no normalisation, no case
 * folding.  A name that could escape the root or alias another path is
 * hidden, never rewritten into another path.  When two records have the
 * same name the later one wins (zarr's ZipStore appends a rewritten key);
 * when a file and a directory share a name, the directory wins.
 *
 * Lookup is a hash of (parent, component) with chaining through the nodes
 * themselves, keyed with a random seed so that crafted names cannot turn
 * it into a list.  Children are linked in the order their names first
 * appear in the archive, which gives O(1) per entry listing with a cursor
 * that is just the next child's node number.  Nothing here recurses.
 *
 * Implied directories are budgeted per record (ozx.h): an archive whose
 * names imply more is refused as soon as the first one too many would be
 * made, so a "directory bomb" (each record a private chain of a hundred
 * directories) costs the time and memory of the budget, not of its names.
 */
#include "config.h"

#include "ozx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "archive_i.h"

/* Why name (without a directory record's trailing '/') cannot be shown,
 * or OZX_R_NONE. */
static enum ozx_reason name_check(const char *name, size_t len, bool was_dir)
{
	size_t i, start = 0, depth = 0;

	if (len == 0)
		return was_dir ? OZX_R_NAME_ABSOLUTE : OZX_R_NAME_EMPTY;
	if (memchr(name, '\0', len))
		return OZX_R_NAME_NUL;
	if (len > OZX_MAX_PATH)
		return OZX_R_NAME_LONG;
	if (!ozx_utf8_valid(name, len))
		return OZX_R_NAME_UTF8;
	if (name[0] == '/')
		return OZX_R_NAME_ABSOLUTE;
	for (i = 0; i <= len; i++) {
		size_t clen;

		if (i < len && name[i] != '/')
			continue;
		clen = i - start;
		if (clen == 0)
			return OZX_R_NAME_EMPTY_COMPONENT;
		if (clen == 1 && name[start] == '.')
			return OZX_R_NAME_DOT;
		if (clen == 2 && name[start] == '.' && name[start + 1] == '.')
			return OZX_R_NAME_DOTDOT;
		if (clen > OZX_MAX_COMPONENT)
			return OZX_R_NAME_COMPONENT_LONG;
		if (++depth > OZX_MAX_DEPTH)
			return OZX_R_NAME_DEEP;
		start = i + 1;
	}
	return OZX_R_NONE;
}

const char *ozx_node_component(const struct ozx_archive *a,
			       const struct ozx_node *n, size_t *len)
{
	const char *s = a->names + n->name_off;
	const char *slash = memrchr(s, '/', n->name_len);

	if (!slash) {
		*len = n->name_len;
		return s;
	}
	*len = n->name_len - (size_t)(slash + 1 - s);
	return slash + 1;
}

/* A keyed hash of (parent, name): 64-bit multiply-xorshift mixing. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 32;
	h *= UINT64_C(0xd6e8feb86659fd93);
	h ^= h >> 32;
	return h;
}

static uint32_t bucket_of(const struct ozx_archive *a, uint32_t parent,
			  const char *name, size_t len)
{
	uint64_t h = a->seed ^
		     ((uint64_t)parent * UINT64_C(0x9e3779b97f4a7c15));
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, name + i, 8);
		h = mix(h ^ w);
	}
	if (i < len) {
		uint64_t w = 0;

		memcpy(&w, name + i, len - i);
		h = mix(h ^ w ^ (uint64_t)len << 56);
	}
	return (uint32_t)mix(h ^ len) & (a->nbuckets - 1);
}

static uint32_t find(const struct ozx_archive *a, uint32_t parent,
		     const char *name, size_t len)
{
	uint32_t i = a->buckets[bucket_of(a, parent, name, len)];

	while (i != OZX_NONE) {
		const struct ozx_node *n = &a->nodes[i];
		size_t clen;

		if (n->parent == parent) {
			const char *c = ozx_node_component(a, n, &clen);

			if (clen == len && !memcmp(c, name, len))
				return i;
		}
		i = n->hnext;
	}
	return OZX_NONE;
}

static void hash_insert(struct ozx_archive *a, uint32_t i)
{
	struct ozx_node *n = &a->nodes[i];
	size_t len;
	const char *c = ozx_node_component(a, n, &len);
	uint32_t b = bucket_of(a, n->parent, c, len);

	n->hnext = a->buckets[b];
	a->buckets[b] = i;
}

/* Take node i out of the hash and hide it. */
static void hide(struct ozx_archive *a, uint32_t i, enum ozx_reason why)
{
	struct ozx_node *n = &a->nodes[i];
	size_t len;
	const char *c = ozx_node_component(a, n, &len);
	uint32_t *p = &a->buckets[bucket_of(a, n->parent, c, len)];

	while (*p != OZX_NONE && *p != i)
		p = &a->nodes[*p].hnext;
	if (*p == i)
		*p = n->hnext;
	n->hnext = OZX_NONE;
	n->parent = OZX_NONE;
	n->bits =
		(uint8_t)((n->bits & ~NODE_KIND_MASK & 0x07u) |
			  OZX_KIND_HIDDEN |
			  (unsigned)(why - OZX_R_NAME_BASE) << NODE_WHY_SHIFT);
}

/*
 * Double the hash table once nodes outnumber buckets two to one.  It was
 * sized for the records, but implied directories are nodes too, and a
 * hostile archive can imply a hundred per record: chains would grow as
 * long and every lookup with them.  Out of memory, the table stays as it
 * is (slower, still right).
 */
static void hash_grow(struct ozx_archive *a)
{
	uint32_t nb = a->nbuckets * 2, *old = a->buckets, i, b;

	if (a->nnodes <= 2 * (uint64_t)a->nbuckets ||
	    a->nbuckets >= UINT32_C(1) << 31)
		return;
	a->buckets = malloc(sizeof(*a->buckets) * nb);
	if (!a->buckets) {
		a->buckets = old;
		return;
	}
	memset(a->buckets, 0xff, sizeof(*a->buckets) * nb);
	b = a->nbuckets;
	a->nbuckets = nb;
	for (i = 0; i < b; i++) {
		uint32_t j = old[i];

		while (j != OZX_NONE) {
			uint32_t next = a->nodes[j].hnext;

			hash_insert(a, j);
			j = next;
		}
	}
	free(old);
}

/* The most implied directories an archive of nrecords records may have. */
static uint64_t implied_max(uint64_t nrecords)
{
	return nrecords * OZX_IMPLIED_PER_RECORD + OZX_IMPLIED_EXTRA;
}

/* Node numbers are 32 bits with OZX_NONE reserved: the budget keeps them
 * in range, so node counts need no other check. */
_Static_assert(1 + OZX_MAX_ENTRIES +
			       OZX_IMPLIED_PER_RECORD *
				       (uint64_t)OZX_MAX_ENTRIES +
			       OZX_IMPLIED_EXTRA <
		       OZX_NONE,
	       "node numbers overflow");

/* A new implied directory; -EFBIG past the budget. */
static int new_dir(struct ozx_archive *a, uint32_t parent, const char *name,
		   size_t len, uint32_t mtime, uint32_t *out)
{
	struct ozx_node *n;
	int ret;

	if (a->nnodes - 1 - a->info.nrecords >= implied_max(a->info.nrecords))
		return -EFBIG;
	if (a->nnodes == a->nodes_cap) {
		uint32_t cap = a->nodes_cap + a->nodes_cap / 2 + 16;
		struct ozx_node *p;

		if (cap < a->nodes_cap || cap > OZX_NONE - 1)
			cap = OZX_NONE - 1;
		p = realloc(a->nodes, sizeof(*p) * (size_t)cap);
		if (!p)
			return -ENOMEM;
		a->nodes = p;
		a->nodes_cap = cap;
	}
	n = &a->nodes[a->nnodes];
	memset(n, 0, sizeof(*n));
	ret = ozx_names_add(a, name, len, &n->name_off);
	if (ret)
		return ret;
	n->name_len = (uint16_t)len;
	n->parent = parent;
	n->sibling = OZX_NONE;
	n->hnext = OZX_NONE;
	n->x = OZX_NONE; /* no first child yet */
	n->mtime = mtime;
	n->bits = OZX_KIND_DIR;
	*out = a->nnodes++;
	hash_insert(a, *out);
	hash_grow(a);
	return 0;
}

/* Creation order of visible nodes, for linking children in archive order,
 * and the directory of the last file placed: archives list the files of a
 * directory together, so most names skip the walk from the root. */
struct order {
	uint32_t *v;
	uint32_t n, cap;
	uint32_t last_rec; /* 0: none */
	uint32_t last_dir;
	size_t last_dir_len;
};

static int order_add(struct order *o, uint32_t i)
{
	if (o->n == o->cap) {
		uint32_t cap = o->cap ? o->cap * 2 : 1024;
		uint32_t *p = realloc(o->v, sizeof(*p) * (size_t)cap);

		if (!p)
			return -ENOMEM;
		o->v = p;
		o->cap = cap;
	}
	o->v[o->n++] = i;
	return 0;
}

/* Place record i in the tree. */
static int place(struct ozx_archive *a, uint32_t i, struct order *o,
		 uint32_t dir_mtime)
{
	struct ozx_node *n = &a->nodes[i];
	const char *name = a->names + n->name_off;
	size_t len = n->name_len, start = 0;
	bool is_dir = len > 0 && name[len - 1] == '/';
	uint32_t parent = OZX_ROOT;
	enum ozx_reason why;
	int ret;

	if (is_dir)
		len--;
	why = name_check(name, len, is_dir);
	if (why != OZX_R_NONE) {
		hide(a, i, why);
		a->info.nhidden++;
		return 0;
	}
	if (!is_dir && o->last_rec) {
		const char *slash = memrchr(name, '/', len);
		size_t dlen = slash ? (size_t)(slash - name) : 0;

		if (dlen && dlen == o->last_dir_len &&
		    !memcmp(name, a->names + a->nodes[o->last_rec].name_off,
			    dlen)) {
			parent = o->last_dir;
			start = dlen + 1;
		}
	}
	for (;;) {
		const char *slash = memchr(name + start, '/', len - start);
		size_t end = slash ? (size_t)(slash - name) : len;
		bool last = !slash;
		uint32_t j;

		j = find(a, parent, name + start, end - start);
		if (last && !is_dir) {
			if (j != OZX_NONE &&
			    node_kind(&a->nodes[j]) == OZX_KIND_DIR) {
				hide(a, i, OZX_R_NAME_SHADOWED);
				a->info.nhidden++;
				return 0;
			}
			if (j != OZX_NONE) {
				hide(a, j, OZX_R_NAME_SUPERSEDED);
				a->info.nhidden++;
				a->info.nduplicates++;
			}
			n = &a->nodes[i];
			n->parent = parent;
			n->bits = (uint8_t)((n->bits & NODE_ENCRYPTED) |
					    OZX_KIND_FILE);
			hash_insert(a, i);
			o->last_rec = i;
			o->last_dir = parent;
			o->last_dir_len = start ? start - 1 : 0;
			return order_add(o, i);
		}
		if (j != OZX_NONE && node_kind(&a->nodes[j]) == OZX_KIND_FILE) {
			hide(a, j, OZX_R_NAME_SHADOWED);
			a->info.nhidden++;
			j = OZX_NONE;
		}
		if (j == OZX_NONE) {
			ret = new_dir(a, parent, name + start, end - start,
				      dir_mtime, &j);
			if (ret)
				return ret;
			ret = order_add(o, j);
			if (ret)
				return ret;
			/* new_dir may have moved the table and the names */
			n = &a->nodes[i];
			name = a->names + n->name_off;
		}
		parent = j;
		if (last)
			break;
		start = end + 1;
	}
	/* A directory record: its directory (now parent) stands for it. */
	n = &a->nodes[i];
	a->nodes[parent].mtime = n->mtime;
	a->nodes[parent].size = (uint64_t)i; /* its record, + 1 (see stat) */
	if (n->comp_size || n->size)
		a->info.ndirdata++;
	n->parent = OZX_NONE;
	n->bits = OZX_KIND_HIDDEN; /* no reason: nothing is wrong with it */
	return 0;
}

/* Link children to parents, in the order in which they were created. */
static void link_children(struct ozx_archive *a, const struct order *o)
{
	uint32_t k;

	for (k = o->n; k-- > 0;) {
		uint32_t i = o->v[k];
		struct ozx_node *n = &a->nodes[i], *p;

		if (node_kind(n) == OZX_KIND_HIDDEN)
			continue;
		p = &a->nodes[n->parent];
		n->sibling = (uint32_t)p->x;
		p->x = (p->x & ~(uint64_t)OZX_NONE) | i;
		if (node_kind(n) == OZX_KIND_DIR)
			p->x += UINT64_C(1) << 32;
	}
}

/* Give back what growth reserved: the budget is per node, not per slot. */
static void shrink(struct ozx_archive *a)
{
	struct ozx_node *n = realloc(a->nodes, sizeof(*n) * a->nnodes);
	char *s = realloc(a->names, a->names_len);

	if (n) {
		a->nodes = n;
		a->nodes_cap = a->nnodes;
	}
	if (s) {
		a->names = s;
		a->names_cap = a->names_len;
	}
}

int ozx_tree_build(struct ozx_archive *a, struct ozx_diag *diag)
{
	struct order o = { 0 };
	struct ozx_node *root = &a->nodes[OZX_ROOT];
	uint32_t dir_mtime = (uint32_t)a->st.st_mtime;
	uint32_t i, nb = 16;
	int ret;

	while (nb < a->info.nrecords && nb < (UINT32_C(1) << 31))
		nb <<= 1;
	a->nbuckets = nb;
	a->buckets = malloc(sizeof(*a->buckets) * nb);
	if (!a->buckets)
		return -ENOMEM;
	memset(a->buckets, 0xff, sizeof(*a->buckets) * nb);
	if (getrandom(&a->seed, sizeof(a->seed), GRND_NONBLOCK) !=
	    sizeof(a->seed))
		a->seed = (uint64_t)time(NULL) * UINT64_C(0x2545f4914f6cdd1d) ^
			  (uint64_t)(uintptr_t)a;

	memset(root, 0, sizeof(*root));
	ret = ozx_names_add(a, "", 0, &root->name_off);
	if (ret == -EFBIG) /* the records' names filled the table (cdir.c) */
		ozx_diag_fail(diag, OZX_R_TOO_LARGE, 0, ret);
	if (ret)
		goto out_free_order;
	root->parent = OZX_NONE;
	root->sibling = OZX_NONE;
	root->hnext = OZX_NONE;
	root->x = OZX_NONE;
	root->mtime = dir_mtime;
	root->bits = OZX_KIND_DIR;

	for (i = 1; i <= a->info.nrecords; i++) {
		ret = place(a, i, &o, dir_mtime);
		if (ret == -EFBIG)
			/* Record i's name would have made the first directory
			 * past the budget (or filled the names table with
			 * implied ones): refused here, before any more. */
			ozx_diag_fail(diag, OZX_R_TOO_MANY_DIRS,
				      node_lho(&a->nodes[i]), ret);
		if (ret)
			goto out_free_order;
	}
	link_children(a, &o);
	shrink(a);
	a->info.nnodes = a->nnodes;
	for (i = 0; i < a->nnodes; i++) {
		unsigned k = node_kind(&a->nodes[i]);

		a->info.nfiles += k == OZX_KIND_FILE;
		a->info.ndirs += k == OZX_KIND_DIR;
	}
out_free_order:
	free(o.v);
	return ret;
}

enum ozx_reason ozx_node_hidden(const struct ozx_archive *a, uint32_t node)
{
	const struct ozx_node *n;
	unsigned why;

	if (node >= a->nnodes)
		return OZX_R_NONE;
	n = &a->nodes[node];
	why = n->bits >> NODE_WHY_SHIFT;
	if (node_kind(n) != OZX_KIND_HIDDEN || !why) /* !why: merged */
		return OZX_R_NONE;
	return (enum ozx_reason)(OZX_R_NAME_BASE + why);
}

const char *ozx_node_hidden_why(const struct ozx_archive *a, uint32_t node)
{
	enum ozx_reason r = ozx_node_hidden(a, node);

	return r ? ozx_reason_text(r) : NULL;
}

int ozx_lookup(const struct ozx_archive *a, uint32_t parent, const char *name,
	       size_t len, uint32_t *out)
{
	uint32_t i;

	if (parent >= a->nnodes || node_kind(&a->nodes[parent]) != OZX_KIND_DIR)
		return -ENOTDIR;
	if (len == 0 || len > OZX_MAX_COMPONENT || memchr(name, '/', len))
		return -ENOENT;
	i = find(a, parent, name, len);
	if (i == OZX_NONE)
		return -ENOENT;
	*out = i;
	return 0;
}

int ozx_lookup_path(const struct ozx_archive *a, const char *path,
		    uint32_t *out)
{
	uint32_t cur = OZX_ROOT;

	while (*path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		int ret = ozx_lookup(a, cur, path, len, &cur);

		if (ret)
			return ret;
		path += len;
		if (*path == '/')
			path++;
	}
	*out = cur;
	return 0;
}

int ozx_dir_next(const struct ozx_archive *a, uint32_t dir, uint64_t *cursor,
		 uint32_t *child)
{
	uint64_t c = *cursor;
	uint32_t i;

	if (dir >= a->nnodes || node_kind(&a->nodes[dir]) != OZX_KIND_DIR)
		return -ENOTDIR;
	/* 0: the first child; k + 1: child k; 2^32: the end. */
	if (c == 0)
		i = (uint32_t)a->nodes[dir].x;
	else if (c == (uint64_t)OZX_NONE + 1)
		return 0;
	else if (c - 1 < a->nnodes && a->nodes[c - 1].parent == dir &&
		 node_kind(&a->nodes[c - 1]) != OZX_KIND_HIDDEN)
		i = (uint32_t)(c - 1);
	else
		return -EINVAL;
	if (i == OZX_NONE) {
		*cursor = (uint64_t)OZX_NONE + 1;
		return 0;
	}
	*child = i;
	*cursor = (uint64_t)a->nodes[i].sibling + 1;
	return 1;
}
