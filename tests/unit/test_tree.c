/*
 * test_tree.c - names into a tree: implied and explicit directories,
 * lookup, listing with a resumable cursor, byte-exact names, unsafe names
 * hidden (never rewritten), duplicates and file/directory clashes, link
 * counts, and the small accessors around nodes.
 */
#include "config.h"

#include "fixture.h"

/* White box: the hash table's size (test_deep_paths_hash). */
#include "archive_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* ---- helpers ---------------------------------------------------------- */

/* Build an archive of the given names, each holding its own name as
 * content (dirs: nothing), and open it. */
static struct fx_arc *open_names(const char *const *names, size_t n)
{
	struct fx_ent *e = calloc(n ? n : 1, sizeof(*e));
	struct fx_zip z;
	struct fx_arc *fa;
	size_t i;

	assert_non_null(e);
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		e[i].name = names[i];
		e[i].data = names[i];
		e[i].len = len && names[i][len - 1] == '/' ? 0 : len;
	}
	fx_zip_build(&z, e, n, NULL);
	fa = fx_arc_open_copy(z.p, z.len);
	fx_zip_release(&z);
	free(e);
	if (fa->ret)
		print_error("open: %d %s\n", fa->ret,
			    fa->d.what ? fa->d.what : "");
	assert_int_equal(fa->ret, 0);
	return fa;
}

static struct fx_arc *open_ents(const struct fx_ent *e, size_t n)
{
	struct fx_zip z;
	struct fx_arc *fa;

	fx_zip_build(&z, e, n, NULL);
	fa = fx_arc_open_copy(z.p, z.len);
	fx_zip_release(&z);
	if (fa->ret)
		print_error("open: %d %s\n", fa->ret,
			    fa->d.what ? fa->d.what : "");
	assert_int_equal(fa->ret, 0);
	return fa;
}

static enum ozx_kind kind_of(const struct ozx_archive *a, uint32_t node)
{
	struct ozx_stat st;

	assert_int_equal(ozx_node_stat(a, node, &st), 0);
	return st.kind;
}

/* The node made of central record rec. */
static uint32_t node_of_record(const struct ozx_archive *a, uint32_t rec)
{
	const struct ozx_info *info = ozx_archive_info(a);
	uint32_t i;

	for (i = 0; i < info->nnodes; i++) {
		struct ozx_stat st;

		assert_int_equal(ozx_node_stat(a, i, &st), 0);
		if (st.record == rec)
			return i;
	}
	print_error("no node for record %u\n", rec);
	fail();
	return OZX_NONE;
}

/* The names of dir's children, in listing order, joined by spaces. */
static void list(const struct ozx_archive *a, uint32_t dir, char *out,
		 size_t size)
{
	uint64_t cur = 0;
	uint32_t child;
	size_t o = 0;
	int r;

	out[0] = '\0';
	while ((r = ozx_dir_next(a, dir, &cur, &child)) == 1) {
		size_t len;
		const char *name = ozx_node_name(a, child, &len);

		assert_non_null(name);
		assert_true(cur < (UINT64_C(1) << 33));
		assert_int_equal(ozx_node_parent(a, child), dir);
		assert_true(o + len + 2 < size);
		if (o)
			out[o++] = ' ';
		memcpy(out + o, name, len);
		o += len;
		out[o] = '\0';
	}
	assert_int_equal(r, 0);
	/* the end stays the end */
	assert_int_equal(ozx_dir_next(a, dir, &cur, &child), 0);
}

static void read_is(struct ozx_archive *a, const char *path, const void *want,
		    size_t len)
{
	char buf[256];

	assert_true(len < sizeof(buf));
	assert_int_equal(ozx_file_read(a, fx_node(a, path), NULL, buf,
				       sizeof(buf), 0),
			 (ssize_t)len);
	assert_memory_equal(buf, want, len);
}

/* ---- tests ------------------------------------------------------------ */

/* Directories implied by names exist, are linked and have no record. */
static void test_implied_dirs(void **state)
{
	static const char *const names[] = { "a/b/c", "a/d", "e" };
	struct fx_arc *fa = open_names(names, 3);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_archive *a = fa->a;
	struct ozx_stat st;
	uint32_t na, nb, nc, x;
	char path[64];

	(void)state;
	assert_int_equal(info->nrecords, 3);
	assert_int_equal(info->nfiles, 3);
	assert_int_equal(info->ndirs, 3);
	assert_int_equal(info->nnodes, 6);
	assert_int_equal(info->nhidden, 0);
	na = fx_node(a, "a");
	nb = fx_node(a, "a/b");
	nc = fx_node(a, "a/b/c");
	assert_int_equal(ozx_node_stat(a, na, &st), 0);
	assert_int_equal(st.kind, OZX_KIND_DIR);
	assert_int_equal(st.record, OZX_NONE);
	assert_int_equal(st.size, 0);
	assert_int_equal(kind_of(a, nb), OZX_KIND_DIR);
	assert_int_equal(kind_of(a, nc), OZX_KIND_FILE);
	assert_int_equal(kind_of(a, fx_node(a, "e")), OZX_KIND_FILE);
	assert_int_equal(ozx_node_parent(a, nc), nb);
	assert_int_equal(ozx_node_parent(a, nb), na);
	assert_int_equal(ozx_node_parent(a, na), OZX_ROOT);
	assert_int_equal(ozx_lookup(a, na, "b", 1, &x), 0);
	assert_int_equal(x, nb);
	assert_int_equal(ozx_lookup(a, nb, "c", 1, &x), 0);
	assert_int_equal(x, nc);
	assert_int_equal(ozx_node_path(a, nc, path, sizeof(path)), 5);
	assert_string_equal(path, "a/b/c");
	read_is(a, "a/b/c", "a/b/c", 5);
	read_is(a, "a/d", "a/d", 3);
	/* what is not there */
	assert_int_equal(ozx_lookup_path(a, "a/x", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(a, "b", &x), -ENOENT);
	assert_int_equal(ozx_lookup(a, na, "b/c", 3, &x), -ENOENT);
	assert_int_equal(ozx_lookup(a, na, "", 0, &x), -ENOENT);
	assert_int_equal(ozx_lookup(a, nc, "x", 1, &x), -ENOTDIR);
	assert_int_equal(ozx_lookup_path(a, "a/b/c/x", &x), -ENOTDIR);
	assert_int_equal(ozx_lookup_path(a, "", &x), 0);
	assert_int_equal(x, OZX_ROOT);
	fx_arc_free(fa);
}

/* Explicit directory records "a/" are directories, merged with the ones
 * names imply; one carrying data is still a directory, and counted. */
static void test_explicit_dirs(void **state)
{
	struct fx_ent e[] = {
		{ .name = "a/" },   { .name = "a/x", .data = "xx", .len = 2 },
		{ .name = "b/" },   { .name = "c/", .data = "data!", .len = 5 },
		{ .name = "d/e/" },
	};
	struct fx_arc *fa = open_ents(e, 5);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_archive *a = fa->a;
	char names[64];
	struct ozx_stat st;
	uint64_t cur = 0;
	uint32_t child;

	(void)state;
	assert_int_equal(info->nrecords, 5);
	assert_int_equal(info->nfiles, 1);
	assert_int_equal(info->ndirs, 6); /* root a b c d d/e */
	assert_int_equal(info->ndirdata, 1);
	assert_int_equal(info->nhidden, 0);
	assert_int_equal(kind_of(a, fx_node(a, "a")), OZX_KIND_DIR);
	assert_int_equal(kind_of(a, fx_node(a, "b")), OZX_KIND_DIR);
	assert_int_equal(kind_of(a, fx_node(a, "d/e")), OZX_KIND_DIR);
	assert_int_equal(ozx_node_stat(a, fx_node(a, "c"), &st), 0);
	assert_int_equal(st.kind, OZX_KIND_DIR);
	assert_int_equal(st.size, 0);
	assert_int_equal(ozx_file_read(a, fx_node(a, "c"), NULL, names, 5, 0),
			 -EISDIR);
	assert_int_equal(ozx_dir_next(a, fx_node(a, "b"), &cur, &child), 0);
	list(a, OZX_ROOT, names, sizeof(names));
	assert_string_equal(names, "a b c d");
	list(a, fx_node(a, "a"), names, sizeof(names));
	assert_string_equal(names, "x");
	fx_arc_free(fa);
}

/* ozx.h: st.record is "central-directory index, OZX_NONE if implied" --
 * a directory with a record of its own is not implied. */
static void test_explicit_dir_record_index(void **state)
{
	struct fx_ent e[] = {
		{ .name = "f", .data = "f", .len = 1 },
		{ .name = "a/" },
		{ .name = "a/x", .data = "xx", .len = 2 },
	};
	struct fx_arc *fa = open_ents(e, 3);
	struct ozx_stat st;

	(void)state;
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "f"), &st), 0);
	assert_int_equal(st.record, 0);
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "a/x"), &st), 0);
	assert_int_equal(st.record, 2);
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "a"), &st), 0);
	assert_int_equal(st.kind, OZX_KIND_DIR);
	assert_int_equal(st.record, 1);
	fx_arc_free(fa);
}

/* Hidden nodes can be enumerated for warnings: every node of kind HIDDEN
 * has a reason, except merged directory records, and info->nhidden counts
 * exactly those with a reason. */
static void test_hidden_nodes_enumerable(void **state)
{
	struct fx_ent e[] = {
		{ .name = "a/" },
		{ .name = "a/x", .data = "xx", .len = 2 },
		{ .name = "/abs", .data = "x", .len = 1 },
		{ .name = "dup", .data = "1", .len = 1 },
		{ .name = "dup", .data = "2", .len = 1 },
		{ .name = "b/" },
		{ .name = "b/" },
	};
	struct fx_arc *fa = open_ents(e, 7);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	uint32_t i, hidden = 0;

	(void)state;
	for (i = 0; i < info->nnodes; i++) {
		struct ozx_stat st;
		const char *why = ozx_node_hidden_why(fa->a, i);

		assert_int_equal(ozx_node_stat(fa->a, i, &st), 0);
		if (st.kind == OZX_KIND_HIDDEN) {
			size_t len;
			const char *name = ozx_node_name(fa->a, i, &len);

			/* no reason: only a merged directory record */
			if (!why) {
				assert_true(len > 0 && name[len - 1] == '/');
				continue;
			}
			hidden++;
		} else {
			assert_null(why);
		}
	}
	/* at least "/abs" and the first "dup" */
	assert_true(hidden >= 2);
	assert_int_equal(info->nhidden, hidden);
	fx_arc_free(fa);
}

/* Listing order is archive order (a directory where its name first
 * appears), including upper case after lower case. */
static void test_listing_archive_order(void **state)
{
	static const char *const names[] = { "b",  "a/x", "c",	 "a/y",
					     "d/", "B",	  "a/0", "0" };
	struct fx_arc *fa = open_names(names, 8);
	char out[64];

	(void)state;
	list(fa->a, OZX_ROOT, out, sizeof(out));
	assert_string_equal(out, "b a c d B 0");
	list(fa->a, fx_node(fa->a, "a"), out, sizeof(out));
	assert_string_equal(out, "x y 0");
	list(fa->a, fx_node(fa->a, "d"), out, sizeof(out));
	assert_string_equal(out, "");
	fx_arc_free(fa);
}

/* A cursor saved mid-listing resumes with exactly the rest, as often as
 * it is used; foreign and made-up cursors are refused. */
static void test_listing_resume(void **state)
{
	static const char *const names[] = { "d/0", "d/1", "d/2", "d/3",
					     "d/4", "d/5", "d/6", "d/7",
					     "d/8", "d/9", "e/z", "f" };
	struct fx_arc *fa = open_names(names, 12);
	struct ozx_archive *a = fa->a;
	uint32_t d = fx_node(a, "d"), child, first[10];
	uint64_t cur = 0, saved, other = 0;
	int k, round;

	(void)state;
	for (k = 0; k < 4; k++) {
		assert_int_equal(ozx_dir_next(a, d, &cur, &child), 1);
		first[k] = child;
	}
	saved = cur;
	for (round = 0; round < 3; round++) {
		cur = saved;
		for (k = 4; k < 10; k++) {
			size_t len;
			const char *name;

			assert_int_equal(ozx_dir_next(a, d, &cur, &child), 1);
			name = ozx_node_name(a, child, &len);
			assert_int_equal(len, 1);
			assert_int_equal(name[0], '0' + k);
			if (round == 0)
				first[k] = child;
			else
				assert_int_equal(child, first[k]);
		}
		assert_int_equal(ozx_dir_next(a, d, &cur, &child), 0);
	}
	for (k = 0; k < 10; k++) /* ten distinct children */
		for (round = 0; round < k; round++)
			assert_int_not_equal(first[k], first[round]);
	/* a cursor of the root's listing, used on d */
	assert_int_equal(ozx_dir_next(a, OZX_ROOT, &other, &child), 1);
	assert_int_equal(ozx_dir_next(a, OZX_ROOT, &other, &child), 1);
	cur = other;
	assert_int_equal(ozx_dir_next(a, d, &cur, &child), -EINVAL);
	cur = UINT64_C(1) << 40;
	assert_int_equal(ozx_dir_next(a, d, &cur, &child), -EINVAL);
	cur = 123456789;
	assert_int_equal(ozx_dir_next(a, d, &cur, &child), -EINVAL);
	cur = 0;
	assert_int_equal(ozx_dir_next(a, fx_node(a, "f"), &cur, &child),
			 -ENOTDIR);
	assert_int_equal(ozx_dir_next(a, 999999, &cur, &child), -ENOTDIR);
	fx_arc_free(fa);
}

/* 100,000 files in one directory (ZIP64 counts): each listed once, in
 * archive order, each found by lookup. */
static void test_listing_100000_children(void **state)
{
	enum { N = 100000 };
	struct fx_ent *e = calloc(N, sizeof(*e));
	char *names = malloc((size_t)N * 8);
	unsigned char *seen = calloc(N, 1);
	struct fx_arc *fa;
	const struct ozx_info *info;
	struct ozx_stat st;
	uint64_t cur = 0;
	uint32_t child, count = 0, x;
	size_t i;
	int r;

	(void)state;
	assert_non_null(e);
	assert_non_null(names);
	assert_non_null(seen);
	for (i = 0; i < N; i++) {
		snprintf(names + i * 8, 8, "f%06zu", i);
		e[i].name = names + i * 8;
		e[i].data = names + i * 8;
		e[i].len = 1;
	}
	fa = open_ents(e, N);
	info = ozx_archive_info(fa->a);
	assert_true(info->zip64);
	assert_int_equal(info->nfiles, N);
	while ((r = ozx_dir_next(fa->a, OZX_ROOT, &cur, &child)) == 1) {
		size_t len;
		const char *name = ozx_node_name(fa->a, child, &len);
		unsigned long k;

		assert_int_equal(len, 7);
		k = strtoul(name + 1, NULL, 10);
		assert_true(k < N);
		assert_int_equal(seen[k], 0);
		assert_int_equal(k, count);
		seen[k] = 1;
		count++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(count, N);
	for (i = 0; i < N; i += 997) {
		assert_int_equal(
			ozx_lookup(fa->a, OZX_ROOT, names + i * 8, 7, &x), 0);
		assert_int_equal(ozx_node_stat(fa->a, x, &st), 0);
		assert_int_equal(st.record, i);
	}
	assert_int_equal(ozx_lookup(fa->a, OZX_ROOT, "f100000", 7, &x),
			 -ENOENT);
	assert_int_equal(ozx_node_stat(fa->a, OZX_ROOT, &st), 0);
	assert_int_equal(st.nlink, 2);
	fx_arc_free(fa);
	free(seen);
	free(names);
	free(e);
}

/* Names are bytes: no case folding, no Unicode normalisation. */
static void test_names_byte_exact(void **state)
{
	static const char *const names[] = {
		"A",
		"a",
		"\xc3\xa9",  /* é, NFC */
		"e\xcc\x81", /* é, NFD */
		"dir/Zarr.json",
		"dir/zarr.json",
		"DIR/zarr.json",
	};
	struct fx_arc *fa = open_names(names, 7);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	uint32_t x;
	size_t i;

	(void)state;
	assert_int_equal(info->nfiles, 7);
	assert_int_equal(info->nhidden, 0);
	assert_int_equal(info->nduplicates, 0);
	for (i = 0; i < 7; i++)
		read_is(fa->a, names[i], names[i], strlen(names[i]));
	assert_int_not_equal(fx_node(fa->a, "\xc3\xa9"),
			     fx_node(fa->a, "e\xcc\x81"));
	assert_int_equal(ozx_lookup_path(fa->a, "E\xcc\x81", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "e", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "Dir/zarr.json", &x), -ENOENT);
	fx_arc_free(fa);
}

/* One unsafe name and the exact reason it is hidden. */
struct unsafe {
	const char *name;
	size_t len; /* 0: strlen */
	const char *why;
};

/* Unsafe names are hidden with their reason, never rewritten, never
 * reachable, and imply no directories; ozx_node_name gives them raw. */
static void test_unsafe_names_hidden(void **state)
{
	static char comp256[257], long4096[4097], deep129[258];
	static const struct unsafe u[] = {
		{ "", 0, "empty name" },
		{ "/abs", 0, "absolute path" },
		{ "/", 0, "absolute path" },
		{ "a/../b", 0, "'..' component" },
		{ "..", 0, "'..' component" },
		{ "../up/", 0, "'..' component" },
		{ "./a", 0, "'.' component" },
		{ "a/./b", 0, "'.' component" },
		{ "a//b", 0, "empty component" },
		{ "x\0y", 3, "NUL byte in name" },
		{ "n/\0", 3, "NUL byte in name" },
		{ "\xc0\xaf", 0, "invalid UTF-8 in name" },
		{ "ok/\xe0\x80\xaf", 0, "invalid UTF-8 in name" },
		{ "\xed\xa0\x80", 0, "invalid UTF-8 in name" },
		{ "\xff", 0, "invalid UTF-8 in name" },
		{ "abc\xc3", 0, "invalid UTF-8 in name" },
		{ comp256, 0, "component longer than 255 bytes" },
		{ long4096, 0, "name longer than 4095 bytes" },
		{ deep129, 0, "path deeper than 128 components" },
	};
	enum { NU = sizeof(u) / sizeof(u[0]) };
	struct fx_ent e[NU + 1];
	struct fx_arc *fa;
	const struct ozx_info *info;
	char out[64];
	uint32_t x;
	size_t i;

	(void)state;
	memset(comp256, 'c', 256);
	for (i = 0; i < 4096; i++)
		long4096[i] = i % 201 == 200 ? '/' : 'n';
	for (i = 0; i < 257; i++)
		deep129[i] = i % 2 ? '/' : 'a';
	memset(e, 0, sizeof(e));
	for (i = 0; i < NU; i++) {
		e[i].name = u[i].name;
		e[i].name_len = u[i].len ? u[i].len : strlen(u[i].name);
		e[i].data = "unsafe";
		e[i].len = 6;
		if (e[i].name_len == 0)
			e[i].name = "";
	}
	e[NU].name = "ok";
	e[NU].data = "fine";
	e[NU].len = 4;
	/* fx_zip_build takes name_len 0 as strlen, which is 0 for "" too */
	fa = open_ents(e, NU + 1);
	info = ozx_archive_info(fa->a);
	assert_int_equal(info->nrecords, NU + 1);
	assert_int_equal(info->nhidden, NU);
	assert_int_equal(info->nfiles, 1);
	assert_int_equal(info->ndirs, 1);
	assert_int_equal(info->nduplicates, 0);
	for (i = 0; i < NU; i++) {
		uint32_t node = node_of_record(fa->a, (uint32_t)i);
		const char *why = ozx_node_hidden_why(fa->a, node);
		const char *name;
		size_t len = 12345;
		char path[4200];

		if (!why || strcmp(why, u[i].why))
			print_error("record %zu: hidden because '%s', expected "
				    "'%s'\n",
				    i, why ? why : "(not hidden)", u[i].why);
		assert_non_null(why);
		assert_string_equal(why, u[i].why);
		assert_int_equal(kind_of(fa->a, node), OZX_KIND_HIDDEN);
		assert_int_equal(ozx_node_parent(fa->a, node), OZX_NONE);
		name = ozx_node_name(fa->a, node, &len);
		assert_non_null(name);
		assert_int_equal(len, e[i].name_len);
		assert_memory_equal(name, e[i].name, len);
		assert_int_equal(name[len], '\0');
		assert_int_equal(ozx_node_path(fa->a, node, path, sizeof(path)),
				 (ssize_t)len);
		assert_memory_equal(path, e[i].name, len);
		assert_int_equal(ozx_file_read(fa->a, node, NULL, out, 6, 0),
				 -ENOENT);
	}
	/* nothing of them is reachable: the root holds only "ok" */
	list(fa->a, OZX_ROOT, out, sizeof(out));
	assert_string_equal(out, "ok");
	assert_int_equal(ozx_lookup_path(fa->a, "abs", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "a", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "b", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "up", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "x", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "n", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "..", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, ".", &x), -ENOENT);
	assert_int_equal(ozx_lookup_path(fa->a, "ccc", &x), -ENOENT);
	assert_int_equal(ozx_lookup(fa->a, OZX_ROOT, comp256, 255, &x),
			 -ENOENT);
	fx_arc_free(fa);
}

/* Names at the limits are fine: a 255-byte component, a 4095-byte name,
 * a path 128 components deep. */
static void test_name_limits_accepted(void **state)
{
	static char comp255[256], long4095[4096], deep128[256];
	struct fx_ent e[3];
	struct fx_arc *fa;
	uint32_t x;
	size_t i;

	(void)state;
	memset(comp255, 'c', 255);
	for (i = 0; i < 4095; i++)
		long4095[i] = i % 201 == 200 ? '/' : 'n';
	for (i = 0; i < 255; i++)
		deep128[i] = i % 2 ? '/' : 'a';
	memset(e, 0, sizeof(e));
	e[0].name = comp255;
	e[1].name = long4095;
	e[2].name = deep128;
	for (i = 0; i < 3; i++) {
		e[i].data = "limit";
		e[i].len = 5;
	}
	fa = open_ents(e, 3);
	assert_int_equal(ozx_archive_info(fa->a)->nhidden, 0);
	assert_int_equal(ozx_archive_info(fa->a)->nfiles, 3);
	for (i = 0; i < 3; i++) {
		char path[4200];

		x = fx_node(fa->a, e[i].name);
		assert_int_equal(kind_of(fa->a, x), OZX_KIND_FILE);
		assert_int_equal(ozx_node_path(fa->a, x, path, sizeof(path)),
				 (ssize_t)strlen(e[i].name));
		assert_string_equal(path, e[i].name);
		read_is(fa->a, e[i].name, "limit", 5);
	}
	fx_arc_free(fa);
}

/* Thousands of implied directories with long names: the names table
 * grows (is reallocated) while directories are being created from names
 * stored in it; every directory keeps its exact name.  (Under ASan or
 * valgrind this also catches reads from the table's old copy.) */
static void test_implied_dirs_while_names_grow(void **state)
{
	enum { N = 3000, LEN = 180 };
	struct fx_ent *e = calloc(N, sizeof(*e));
	char(*names)[LEN + 3] = calloc(N, sizeof(*names));
	struct fx_arc *fa;
	uint64_t cur = 0;
	uint32_t child, count = 0;
	size_t i;
	int r;

	(void)state;
	assert_non_null(e);
	assert_non_null(names);
	for (i = 0; i < N; i++) {
		memset(names[i], 'a' + (int)(i % 26), LEN);
		snprintf(names[i], LEN, "dir%05u", (unsigned)i);
		names[i][8] = '-';
		memcpy(names[i] + LEN, "/f", 3);
		e[i].name = names[i];
		e[i].data = "f";
		e[i].len = 1;
	}
	fa = open_ents(e, N);
	assert_int_equal(ozx_archive_info(fa->a)->ndirs, N + 1);
	while ((r = ozx_dir_next(fa->a, OZX_ROOT, &cur, &child)) == 1) {
		size_t len;
		const char *name = ozx_node_name(fa->a, child, &len);

		assert_int_equal(len, LEN);
		assert_memory_equal(name, names[count], LEN);
		count++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(count, N);
	for (i = 0; i < N; i += 7)
		read_is(fa->a, names[i], "f", 1);
	fx_arc_free(fa);
	free(names);
	free(e);
}

/* Two records "x": the later one wins (zarr's ZipStore appends rewritten
 * keys); the earlier is hidden as superseded. */
static void test_duplicates_last_wins(void **state)
{
	struct fx_ent e[] = {
		{ .name = "x", .data = "first", .len = 5 },
		{ .name = "y", .data = "y", .len = 1 },
		{ .name = "x", .data = "second", .len = 6 },
		{ .name = "d/z", .data = "z1", .len = 2 },
		{ .name = "d/z", .data = "z2", .len = 2 },
		{ .name = "d/z", .data = "z3", .len = 2 },
	};
	struct fx_arc *fa = open_ents(e, 6);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_stat st;
	uint32_t first;
	size_t len;
	const char *name;
	char out[32];

	(void)state;
	assert_int_equal(info->nduplicates, 3);
	assert_int_equal(info->nhidden, 3);
	assert_int_equal(info->nfiles, 3);
	read_is(fa->a, "x", "second", 6);
	read_is(fa->a, "d/z", "z3", 2);
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "x"), &st), 0);
	assert_int_equal(st.record, 2);
	first = node_of_record(fa->a, 0);
	assert_int_equal(kind_of(fa->a, first), OZX_KIND_HIDDEN);
	assert_int_equal(ozx_node_hidden(fa->a, first), OZX_R_NAME_SUPERSEDED);
	assert_string_equal(ozx_node_hidden_why(fa->a, first),
			    "superseded by a later record of the same name");
	name = ozx_node_name(fa->a, first, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(name, "x", 1);
	assert_string_equal(ozx_node_hidden_why(fa->a,
						node_of_record(fa->a, 3)),
			    "superseded by a later record of the same name");
	assert_string_equal(ozx_node_hidden_why(fa->a,
						node_of_record(fa->a, 4)),
			    "superseded by a later record of the same name");
	name = ozx_node_name(fa->a, node_of_record(fa->a, 4), &len);
	assert_int_equal(len, 3);
	assert_memory_equal(name, "d/z", 3);
	/* each visible name is listed once */
	list(fa->a, OZX_ROOT, out, sizeof(out));
	assert_int_equal(strlen(out), strlen("x y d"));
	assert_non_null(strstr(out, "x"));
	list(fa->a, fx_node(fa->a, "d"), out, sizeof(out));
	assert_string_equal(out, "z");
	fx_arc_free(fa);
}

/* A file and a directory of the same name, in either order: the
 * directory wins and the file record is hidden as shadowed. */
static void test_file_shadowed_by_dir(void **state)
{
	static const char *const orders[][2] = {
		{ "a", "a/b" },
		{ "a/b", "a" },
		{ "a", "a/" },
		{ "a/", "a" },
	};
	size_t k;

	(void)state;
	for (k = 0; k < 4; k++) {
		struct fx_arc *fa = open_names(orders[k], 2);
		const struct ozx_info *info = ozx_archive_info(fa->a);
		uint32_t file_rec = strcmp(orders[k][0], "a") ? 1 : 0;
		uint32_t hidden = node_of_record(fa->a, file_rec);
		size_t len;
		const char *name;

		assert_int_equal(kind_of(fa->a, fx_node(fa->a, "a")),
				 OZX_KIND_DIR);
		assert_int_equal(info->nhidden, 1);
		assert_int_equal(info->nduplicates, 0);
		assert_int_equal(kind_of(fa->a, hidden), OZX_KIND_HIDDEN);
		assert_int_equal(ozx_node_hidden(fa->a, hidden),
				 OZX_R_NAME_SHADOWED);
		assert_string_equal(ozx_node_hidden_why(fa->a, hidden),
				    "file shadowed by a directory of the same "
				    "name");
		name = ozx_node_name(fa->a, hidden, &len);
		assert_int_equal(len, 1);
		assert_memory_equal(name, "a", 1);
		if (strchr(orders[k][0], 'b') || strchr(orders[k][1], 'b'))
			read_is(fa->a, "a/b", "a/b", 3);
		fx_arc_free(fa);
	}
}

/*
 * Every record 60 directories deep, none shared: the nodes outnumber the
 * records 61 to 1, and the name hash grows with them (at most two nodes a
 * bucket), so lookups stay short; every file is still found.
 */
static void test_deep_paths_hash(void **state)
{
	enum { NREC = 300, DEPTH = 60 };
	char **names = calloc(NREC, sizeof(*names));
	struct fx_arc *fa;
	size_t i;

	(void)state;
	assert_non_null(names);
	for (i = 0; i < NREC; i++) {
		char *p = names[i] = malloc(8 + 2 * DEPTH + 2);

		assert_non_null(p);
		p += sprintf(p, "r%03zu/", i);
		for (int d = 0; d < DEPTH; d++)
			p += sprintf(p, "d/");
		sprintf(p, "f");
	}
	fa = open_names((const char *const *)names, NREC);
	assert_true(fa->a->nnodes > NREC * DEPTH);
	assert_true(2 * (uint64_t)fa->a->nbuckets >= fa->a->nnodes);
	for (i = 0; i < NREC; i++) {
		uint32_t node;

		assert_int_equal(ozx_lookup_path(fa->a, names[i], &node), 0);
		assert_int_equal(
			ozx_node_stat(fa->a, node, &(struct ozx_stat){ 0 }), 0);
	}
	for (i = 0; i < NREC; i++)
		free(names[i]);
	free(names);
	fx_arc_free(fa);
}

/*
 * The implied-directory budget (issue 14, item 5: a directory bomb).
 * open_bomb() builds and opens n records "NNNNN/a/.../a/f", each with
 * directories of its own: BOMB_DIRS (OZX_MAX_DEPTH components, the most a
 * name may have) but the last record, which has last.
 */
enum { BOMB_DIRS = OZX_MAX_DEPTH - 1, BOMB_NAME = 8 + 2 * OZX_MAX_DEPTH };

/* Record i's name, dirs directories deep, into buf[BOMB_NAME]. */
static char *bomb_name(char *buf, size_t i, size_t dirs)
{
	char *p = buf + sprintf(buf, "%05zu/", i);

	for (size_t d = 1; d < dirs; d++)
		p += sprintf(p, "a/");
	sprintf(p, "f");
	return buf;
}

static struct fx_arc *open_bomb(size_t n, size_t last, struct fx_zip *z)
{
	struct fx_ent *e = calloc(n, sizeof(*e));
	char(*names)[BOMB_NAME] = calloc(n, sizeof(*names));
	struct fx_arc *fa;

	assert_non_null(e);
	assert_non_null(names);
	for (size_t i = 0; i < n; i++)
		e[i].name =
			bomb_name(names[i], i, i + 1 < n ? BOMB_DIRS : last);
	fx_zip_build(z, e, n, NULL);
	fa = fx_arc_open_copy(z->p, z->len);
	free(names);
	free(e);
	return fa;
}

/* Records that imply more directories than the budget allows are refused
 * with their own reason, at the record that crossed it; exactly at the
 * budget, or with one deep record fewer, the archive opens. */
static void test_implied_dirs_budget(void **state)
{
	/* the fewest deep records that overrun the budget: 533 */
	const size_t n =
		OZX_IMPLIED_EXTRA / (BOMB_DIRS - OZX_IMPLIED_PER_RECORD) + 1;
	const uint64_t budget = n * OZX_IMPLIED_PER_RECORD + OZX_IMPLIED_EXTRA;
	const size_t room = (size_t)(budget - (n - 1) * BOMB_DIRS);
	char name[BOMB_NAME];
	struct fx_arc *fa;
	struct fx_zip z;
	uint32_t x;

	(void)state;
	assert_true(room < BOMB_DIRS);

	fa = open_bomb(n, BOMB_DIRS, &z);
	assert_int_equal(fa->ret, -EFBIG);
	assert_null(fa->a);
	assert_non_null(fa->d.what);
	assert_string_equal(fa->d.what,
			    "too many directories implied by names");
	assert_int_equal(fa->d.off, z.lh_off[n - 1]);
	fx_arc_free(fa);
	fx_zip_release(&z);

	/* one directory too many, in the last record */
	fa = open_bomb(n, room + 1, &z);
	assert_int_equal(fa->ret, -EFBIG);
	assert_string_equal(fa->d.what,
			    "too many directories implied by names");
	fx_arc_free(fa);
	fx_zip_release(&z);

	/* exactly the budget */
	fa = open_bomb(n, room, &z);
	assert_int_equal(fa->ret, 0);
	assert_int_equal(ozx_archive_info(fa->a)->nnodes,
			 1 + n + (uint32_t)budget);
	fx_arc_free(fa);
	fx_zip_release(&z);

	/* one record fewer */
	fa = open_bomb(n - 1, BOMB_DIRS, &z);
	assert_int_equal(fa->ret, 0);
	assert_int_equal(ozx_archive_info(fa->a)->ndirs,
			 1 + (n - 1) * BOMB_DIRS);
	assert_int_equal(ozx_lookup_path(fa->a,
					 bomb_name(name, n - 2, BOMB_DIRS), &x),
			 0);
	assert_int_equal(kind_of(fa->a, x), OZX_KIND_FILE);
	fx_arc_free(fa);
	fx_zip_release(&z);
}

/* A directory's link count is 2 plus its subdirectories. */
static void test_nlink(void **state)
{
	static const char *const names[] = { "a/x/f", "a/y/", "a/f",
					     "b/",    "f",    "a/z/q/r" };
	struct fx_arc *fa = open_names(names, 6);
	struct ozx_archive *a = fa->a;
	struct ozx_stat st;

	(void)state;
	assert_int_equal(ozx_node_stat(a, OZX_ROOT, &st), 0);
	assert_int_equal(st.nlink, 2 + 2); /* a b */
	assert_int_equal(ozx_node_stat(a, fx_node(a, "a"), &st), 0);
	assert_int_equal(st.nlink, 2 + 3); /* x y z */
	assert_int_equal(ozx_node_stat(a, fx_node(a, "a/z"), &st), 0);
	assert_int_equal(st.nlink, 2 + 1);
	assert_int_equal(ozx_node_stat(a, fx_node(a, "a/y"), &st), 0);
	assert_int_equal(st.nlink, 2);
	assert_int_equal(ozx_node_stat(a, fx_node(a, "b"), &st), 0);
	assert_int_equal(st.nlink, 2);
	assert_int_equal(ozx_node_stat(a, fx_node(a, "f"), &st), 0);
	assert_int_equal(st.nlink, 1);
	fx_arc_free(fa);
}

/* Node accessors refuse what is not a node, and paths respect the
 * buffer size. */
static void test_node_accessors_edges(void **state)
{
	static const char *const names[] = { "dir/file" };
	struct fx_arc *fa = open_names(names, 1);
	struct ozx_archive *a = fa->a;
	uint32_t bad = ozx_archive_info(a)->nnodes, f = fx_node(a, "dir/file");
	struct ozx_stat st;
	size_t len;
	char buf[16];
	uint64_t off;

	(void)state;
	assert_int_equal(ozx_node_stat(a, bad, &st), -ENOENT);
	assert_int_equal(ozx_node_stat(a, OZX_NONE, &st), -ENOENT);
	assert_null(ozx_node_name(a, bad, &len));
	assert_int_equal(ozx_node_parent(a, bad), OZX_NONE);
	assert_null(ozx_node_hidden_why(a, bad));
	assert_null(ozx_node_hidden_why(a, f));
	assert_int_equal(ozx_node_hidden(a, bad), OZX_R_NONE);
	assert_int_equal(ozx_node_hidden(a, f), OZX_R_NONE);
	assert_int_equal(ozx_node_path(a, bad, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ozx_file_read(a, bad, NULL, buf, 1, 0), -ENOENT);
	assert_int_equal(ozx_file_read(a, OZX_ROOT, NULL, buf, 1, 0), -EISDIR);
	assert_int_equal(ozx_file_read(a, fx_node(a, "dir"), NULL, buf, 1, 0),
			 -EISDIR);
	assert_int_equal(ozx_file_verify(a, bad, NULL), -ENOENT);
	assert_int_equal(ozx_file_verify(a, OZX_ROOT, NULL), -ENOENT);
	assert_int_equal(ozx_file_data_offset(a, bad, NULL, &off), -ENOENT);
	assert_null(ozx_file_failure(a, bad));
	assert_int_equal(ozx_file_fail(a, bad), OZX_R_NONE);
	/* "dir/file" needs 9 bytes with its NUL */
	assert_int_equal(ozx_node_path(a, f, buf, 8), -ERANGE);
	assert_int_equal(ozx_node_path(a, f, buf, 0), -ERANGE);
	assert_int_equal(ozx_node_path(a, f, buf, 9), 8);
	assert_string_equal(buf, "dir/file");
	assert_int_equal(ozx_node_path(a, OZX_ROOT, buf, 1), 0);
	assert_string_equal(buf, "");
	assert_string_equal(ozx_node_name(a, f, &len), "file");
	assert_int_equal(len, 4);
	assert_string_equal(ozx_node_name(a, OZX_ROOT, &len), "");
	assert_int_equal(len, 0);
	fx_arc_free(fa);
}

/* ozx_escape: printable UTF-8 passes, everything else is \xNN, and the
 * result always fits the buffer as a prefix of the whole. */
static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} c[] = {
		{ "plain.txt", 9, "plain.txt" },
		{ "a\nb", 3, "a\\x0ab" },
		{ "tab\there", 8, "tab\\x09here" },
		{ "x\0y", 3, "x\\x00y" },
		{ "\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9" },
		{ "\xc0\xaf", 2, "\\xc0\\xaf" },
		{ "\xff\xfe", 2, "\\xff\\xfe" },
		{ "cut\xc3", 4, "cut\\xc3" },
		{ "\x7f", 1, "\\x7f" },
		{ "\xe2\x82\xac", 3, "\xe2\x82\xac" }, /* € */
	};
	char full[64], part[64];
	size_t i, size;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_ptr_equal(ozx_escape(c[i].in, c[i].len, full,
					    sizeof(full)),
				 full);
		assert_string_equal(full, c[i].out);
		for (size = 1; size <= strlen(full) + 1; size++) {
			memset(part, 'Z', sizeof(part));
			ozx_escape(c[i].in, c[i].len, part, size);
			assert_true(strlen(part) < size);
			assert_memory_equal(part, full, strlen(part));
			assert_int_equal(part[size], 'Z');
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_implied_dirs),
		cmocka_unit_test(test_explicit_dirs),
		cmocka_unit_test(test_explicit_dir_record_index),
		cmocka_unit_test(test_hidden_nodes_enumerable),
		cmocka_unit_test(test_listing_archive_order),
		cmocka_unit_test(test_listing_resume),
		cmocka_unit_test(test_listing_100000_children),
		cmocka_unit_test(test_names_byte_exact),
		cmocka_unit_test(test_unsafe_names_hidden),
		cmocka_unit_test(test_name_limits_accepted),
		cmocka_unit_test(test_implied_dirs_while_names_grow),
		cmocka_unit_test(test_duplicates_last_wins),
		cmocka_unit_test(test_file_shadowed_by_dir),
		cmocka_unit_test(test_deep_paths_hash),
		cmocka_unit_test(test_implied_dirs_budget),
		cmocka_unit_test(test_nlink),
		cmocka_unit_test(test_node_accessors_edges),
		cmocka_unit_test(test_escape),
	};

	/* OZX_TEST_FILTER=test_x runs just the matching tests */
	if (getenv("OZX_TEST_FILTER"))
		cmocka_set_test_filter(getenv("OZX_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
