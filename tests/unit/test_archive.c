/*
 * test_archive.c - well-formed archives of every shape the core must read,
 * checked against libzip: every central record's name, sizes, CRC and
 * method as zip_stat_index() reports them, and every byte as zip_fread()
 * returns it, read back at random offsets.  Plus the RFC-9 comment.
 */
#include "config.h"

#include "fixture.h"
#include "rfc9.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zip.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* ---- the libzip oracle ------------------------------------------------ */

static zip_t *oracle_open(const unsigned char *buf, size_t len)
{
	zip_error_t err;
	zip_source_t *src;
	zip_t *za;

	zip_error_init(&err);
	src = zip_source_buffer_create(buf, len, 0, &err);
	assert_non_null(src);
	za = zip_open_from_source(src, ZIP_RDONLY, &err);
	if (!za) {
		print_error("libzip refuses the fixture: %s\n",
			    zip_error_strerror(&err));
		zip_source_free(src);
	}
	assert_non_null(za);
	return za;
}

/* The whole content of record i, as libzip inflates it. */
static unsigned char *oracle_content(zip_t *za, zip_uint64_t i, size_t size)
{
	unsigned char *p = malloc(size + 1);
	zip_file_t *zf = zip_fopen_index(za, i, 0);

	assert_non_null(p);
	assert_non_null(zf);
	assert_int_equal(zip_fread(zf, p, size + 1), (zip_int64_t)size);
	zip_fclose(zf);
	return p;
}

/*
 * Every record libzip finds in oracle_buf must be a node of a with the same
 * path, size, compressed size, CRC and method; every stride-th file's bytes
 * must read back equal at nreads random places.  oracle_buf may be another
 * copy of the archive (without prepended bytes, say).
 */
static void check_oracle(struct ozx_archive *a, const unsigned char *oracle_buf,
			 size_t oracle_len, unsigned stride, unsigned nreads)
{
	const struct ozx_info *info = ozx_archive_info(a);
	zip_t *za = oracle_open(oracle_buf, oracle_len);
	zip_int64_t n = zip_get_num_entries(za, 0), i;
	char path[OZX_MAX_PATH + 2];

	assert_int_equal(info->nrecords, n);
	for (i = 0; i < n; i++) {
		zip_stat_t zs;
		struct ozx_stat st;
		uint32_t node, parent;
		size_t len;
		bool dir;
		char *slash;

		assert_int_equal(zip_stat_index(za, (zip_uint64_t)i,
						ZIP_FL_ENC_RAW, &zs),
				 0);
		len = strlen(zs.name);
		assert_true(len > 0 && len <= OZX_MAX_PATH);
		memcpy(path, zs.name, len + 1);
		dir = path[len - 1] == '/';
		if (dir)
			path[--len] = '\0';
		node = fx_node(a, path);
		assert_int_equal(ozx_node_stat(a, node, &st), 0);
		{
			char got[OZX_MAX_PATH + 2];

			assert_int_equal(ozx_node_path(a, node, got,
						       sizeof(got)),
					 (ssize_t)len);
			assert_string_equal(got, path);
		}
		/* the parent is the node of the path's dirname */
		slash = strrchr(path, '/');
		if (slash)
			*slash = '\0';
		parent = slash ? fx_node(a, path) : OZX_ROOT;
		assert_int_equal(ozx_node_parent(a, node), parent);
		if (dir) {
			assert_int_equal(st.kind, OZX_KIND_DIR);
			continue;
		}
		assert_int_equal(st.kind, OZX_KIND_FILE);
		assert_int_equal(st.record, i);
		assert_int_equal(st.size, zs.size);
		assert_int_equal(st.comp_size, zs.comp_size);
		assert_int_equal(st.crc32, zs.crc);
		assert_int_equal(st.method, zs.comp_method);
		assert_false(st.encrypted);
		assert_int_equal(st.nlink, 1);
		assert_int_equal(st.mtime, FX_DOS_EPOCH);
		if (i % stride == 0) {
			unsigned char *want =
				oracle_content(za, (zip_uint64_t)i, zs.size);

			fx_check_reads(a, node, want, zs.size, nreads,
				       (uint64_t)i + 1);
			free(want);
		}
	}
	zip_close(za);
}

/* A flat list of files with the given content generator. */
struct spec {
	const char *name;
	size_t len;
	uint16_t method;
	bool text;
};

static struct fx_ent *make_ents(const struct spec *s, size_t n)
{
	struct fx_ent *e = calloc(n, sizeof(*e));
	size_t i;

	assert_non_null(e);
	for (i = 0; i < n; i++) {
		e[i].name = s[i].name;
		e[i].len = s[i].len;
		e[i].method = s[i].method;
		e[i].data = s[i].text ? fx_text_bytes(s[i].len, i + 7) :
					fx_random_bytes(s[i].len, i + 7);
	}
	return e;
}

static void free_ents(struct fx_ent *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((void *)e[i].data);
	free(e);
}

/* Build spec with libzip, open it with ozx, compare everything. */
static void libzip_roundtrip(const struct spec *s, size_t n,
			     uint32_t want_files, uint32_t want_dirs)
{
	struct fx_ent *e = make_ents(s, n);
	size_t len;
	unsigned char *buf = fx_libzip_build(e, n, NULL, &len);
	struct fx_arc *fa = fx_arc_open_ok(buf, len);
	const struct ozx_info *info = ozx_archive_info(fa->a);

	assert_int_equal(info->size, len);
	assert_int_equal(info->nfiles, want_files);
	assert_int_equal(info->ndirs, want_dirs);
	assert_int_equal(info->nhidden, 0);
	assert_false(info->zip64);
	check_oracle(fa->a, buf, len, 1, 40);
	fx_arc_free(fa);
	free_ents(e, n);
}

/* ---- tests ------------------------------------------------------------ */

/* An archive that is only an end record opens and is an empty root. */
static void test_empty_archive(void **state)
{
	struct fx_buf b;
	struct fx_arc *fa;
	const struct ozx_info *info;
	struct ozx_stat st;
	uint64_t cur = 0;
	uint32_t child;
	char path[4];
	size_t len;
	unsigned char *p;

	(void)state;
	fx_buf_init(&b);
	fx_put_eocd(&b, 0, 0, 0, 0, 0, 0, NULL, 0);
	p = fx_buf_take(&b, &len);
	fa = fx_arc_open_ok(p, len);
	info = ozx_archive_info(fa->a);
	assert_int_equal(info->nrecords, 0);
	assert_int_equal(info->nnodes, 1);
	assert_int_equal(info->ndirs, 1);
	assert_int_equal(info->nfiles, 0);
	assert_int_equal(info->cd_offset, 0);
	assert_int_equal(info->cd_size, 0);
	assert_int_equal(ozx_node_stat(fa->a, OZX_ROOT, &st), 0);
	assert_int_equal(st.kind, OZX_KIND_DIR);
	assert_int_equal(st.nlink, 2);
	assert_int_equal(st.record, OZX_NONE);
	assert_int_equal(ozx_dir_next(fa->a, OZX_ROOT, &cur, &child), 0);
	assert_int_equal(ozx_node_path(fa->a, OZX_ROOT, path, sizeof(path)), 0);
	assert_string_equal(path, "");
	assert_int_equal(ozx_node_parent(fa->a, OZX_ROOT), OZX_NONE);
	fx_arc_free(fa);
}

/* STORED entries of all sizes, nested, read back as libzip reads them. */
static void test_libzip_stored(void **state)
{
	static const struct spec s[] = {
		{ "empty", 0, 0, false },
		{ "one", 1, 0, false },
		{ "zarr.json", 300, 0, true },
		{ "img/0/zarr.json", 1000, 0, true },
		{ "img/0/c/0/0/0", 70000, 0, false },
		{ "img/0/c/0/0/1", 65536, 0, false },
		{ "img/labels/x", 4097, 0, false },
		{ "name with spaces", 17, 0, false },
	};

	(void)state;
	/* dirs: root, img, img/0, img/0/c, img/0/c/0, img/0/c/0/0,
	 * img/labels */
	libzip_roundtrip(s, sizeof(s) / sizeof(s[0]), 8, 7);
}

/* DEFLATE entries, compressible and not, small and spanning blocks. */
static void test_libzip_deflate(void **state)
{
	static const struct spec s[] = {
		{ "empty", 0, 8, false },
		{ "one", 1, 8, true },
		{ "text/small", 1000, 8, true },
		{ "text/big", 600000, 8, true },
		{ "random/64k", 65536, 8, false },
		{ "random/300k", 300001, 8, false },
	};

	(void)state;
	libzip_roundtrip(s, sizeof(s) / sizeof(s[0]), 6, 3);
}

/* STORED and DEFLATE side by side, with explicit directory entries. */
static void test_libzip_mixed(void **state)
{
	static const struct spec s[] = {
		{ "a/", 0, 0, false },	      { "a/s", 5000, 0, false },
		{ "a/d", 5000, 8, true },     { "b/", 0, 0, false },
		{ "b/c/", 0, 0, false },      { "b/c/d", 123457, 8, true },
		{ "b/c/s", 123457, 0, true }, { "z", 1, 8, false },
	};

	(void)state;
	libzip_roundtrip(s, sizeof(s) / sizeof(s[0]), 5, 4);
}

/* Check a hand-built archive against libzip and against its own table. */
static void hand_roundtrip(const struct fx_ent *e, size_t n,
			   const struct fx_opts *o, bool zip64)
{
	struct fx_zip z;
	struct fx_arc *fa;
	const struct ozx_info *info;
	size_t i;

	fx_zip_build(&z, e, n, o);
	fa = fx_arc_open_copy(z.p, z.len);
	if (fa->ret)
		print_error("open: %d %s\n", fa->ret,
			    fa->d.what ? fa->d.what : "");
	assert_int_equal(fa->ret, 0);
	info = ozx_archive_info(fa->a);
	assert_int_equal(info->size, z.len);
	assert_int_equal(info->cd_offset, z.cd_off);
	assert_int_equal(info->cd_size, z.cd_size);
	assert_int_equal(info->nrecords, n);
	assert_int_equal(info->zip64, zip64);
	check_oracle(fa->a, z.p, z.len, 1, 30);
	for (i = 0; i < n; i++) {
		uint32_t node = (uint32_t)(i + 1);
		struct ozx_stat st;
		uint64_t off = 0;

		/* node i+1 is record i: check by name, not by number */
		assert_int_equal(ozx_lookup(fa->a, OZX_ROOT, e[i].name,
					    strlen(e[i].name), &node),
				 0);
		assert_int_equal(ozx_node_stat(fa->a, node, &st), 0);
		assert_int_equal(st.lh_offset, z.lh_off[i]);
		assert_int_equal(st.crc32, z.crc[i]);
		assert_int_equal(ozx_file_data_offset(fa->a, node, NULL, &off),
				 0);
		assert_int_equal(off, z.data_off[i]);
		fx_check_reads(fa->a, node, e[i].data, e[i].len, 20, i + 99);
		assert_int_equal(ozx_file_verify(fa->a, node, NULL), 0);
	}
	fx_arc_free(fa);
	fx_zip_release(&z);
}

/* Four entries, STORED and DEFLATE, all with the given descriptor. */
static void dd_case(enum fx_dd dd, enum fx_zip64 z64)
{
	unsigned char *a = fx_random_bytes(3000, 1);
	unsigned char *b = fx_text_bytes(50000, 2);
	struct fx_ent e[] = {
		{ .name = "s", .data = a, .len = 3000, .dd = dd },
		{ .name = "d", .data = b, .len = 50000, .method = 8, .dd = dd },
		{ .name = "e", .data = a, .len = 0, .method = 8, .dd = dd },
		{ .name = "t", .data = b, .len = 1, .dd = dd },
	};
	struct fx_opts o = { .zip64 = z64, .eocd64 = z64 == FX_Z64_FULL };

	hand_roundtrip(e, 4, &o, z64 == FX_Z64_FULL);
	free(a);
	free(b);
}

/* Flag bit 3: zero CRC and sizes in the local header, a signed descriptor
 * after the data; the central directory's values rule. */
static void test_data_descriptor_signed(void **state)
{
	(void)state;
	dd_case(FX_DD_SIG, FX_Z64_NONE);
}

/* The same with descriptors that lack the optional signature. */
static void test_data_descriptor_unsigned(void **state)
{
	(void)state;
	dd_case(FX_DD_NOSIG, FX_Z64_NONE);
}

/* Descriptors with 8-byte sizes in a full ZIP64 archive. */
static void test_data_descriptor_zip64(void **state)
{
	(void)state;
	dd_case(FX_DD_SIG, FX_Z64_FULL);
}

/* A hand-built classic archive: no extras at all, exact offsets. */
static void test_hand_classic(void **state)
{
	dd_case(FX_DD_NONE, FX_Z64_NONE);
	(void)state;
}

/* Python's force_zip64: local headers carry 0xffffffff sizes and a ZIP64
 * extra, the central directory is plain; the data starts after that
 * local extra. */
static void test_zip64_local_only(void **state)
{
	(void)state;
	dd_case(FX_DD_NONE, FX_Z64_LOCAL);
}

/* Full ZIP64 in a small archive: EOCD64 + locator, every classic field a
 * sentinel, sizes and offsets in ZIP64 extras of both headers. */
static void test_zip64_full(void **state)
{
	(void)state;
	dd_case(FX_DD_NONE, FX_Z64_FULL);
}

/* A ZIP64 end record whose classic twin holds the same real values (no
 * sentinels) is fine. */
static void test_zip64_eocd_real_values(void **state)
{
	unsigned char *a = fx_random_bytes(100, 3);
	struct fx_ent e[] = {
		{ .name = "x", .data = a, .len = 100 },
		{ .name = "y", .data = a, .len = 50, .method = 8 },
	};
	struct fx_opts o = { .eocd64 = true, .eocd_real = true };

	(void)state;
	hand_roundtrip(e, 2, &o, true);
	free(a);
}

/* More than 65535 entries: libzip writes ZIP64 end records; every
 * record must be found with libzip's metadata. */
static void test_zip64_many_entries(void **state)
{
	enum { N = 65600 };
	static const char data[] = "0123456789abcdef";
	struct fx_ent *e = calloc(N, sizeof(*e));
	char *names = malloc((size_t)N * 16);
	struct fx_arc *fa;
	const struct ozx_info *info;
	unsigned char *buf;
	size_t len, i;

	(void)state;
	assert_non_null(e);
	assert_non_null(names);
	for (i = 0; i < N; i++) {
		snprintf(names + i * 16, 16, "d%02zu/e%05zu", i % 50, i);
		e[i].name = names + i * 16;
		e[i].data = data + i % 7;
		e[i].len = 1 + i % 9;
	}
	buf = fx_libzip_build(e, N, NULL, &len);
	fa = fx_arc_open_ok(buf, len);
	info = ozx_archive_info(fa->a);
	assert_true(info->zip64);
	assert_int_equal(info->nrecords, N);
	assert_int_equal(info->nfiles, N);
	assert_int_equal(info->ndirs, 51);
	assert_int_equal(info->nnodes, N + 51);
	check_oracle(fa->a, buf, len, 997, 3);
	fx_arc_free(fa);
	free(names);
	free(e);
}

/* Bytes prepended by a writer that adjusted every offset for them
 * (self-extracting style): the archive reads as the original. */
static void test_prepended_adjusted(void **state)
{
	static const struct spec s[] = {
		{ "p/stored", 20000, 0, false },
		{ "p/deflated", 20000, 8, true },
		{ "q", 10, 0, false },
	};
	struct fx_ent *e = make_ents(s, 3);
	size_t len, plen;
	unsigned char *buf = fx_libzip_build(e, 3, NULL, &len);
	unsigned char *pre = fx_prepend(buf, len, 4321, true, &plen);
	struct fx_arc *fa = fx_arc_open_ok(pre, plen);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_stat st;
	uint64_t off;

	(void)state;
	assert_int_equal(info->size, len + 4321);
	/* libzip's archive starts with its first local header */
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "p/stored"), &st),
			 0);
	assert_true(st.lh_offset >= 4321);
	assert_int_equal(ozx_file_data_offset(fa->a, fx_node(fa->a, "p/stored"),
					      NULL, &off),
			 0);
	assert_memory_equal(pre + off, e[0].data, 100);
	check_oracle(fa->a, buf, len, 1, 30);
	fx_arc_free(fa);
	free(buf);
	free_ents(e, 3);
}

/* The same with the hand builder, whose offsets we know exactly. */
static void test_prepended_adjusted_hand(void **state)
{
	unsigned char *a = fx_text_bytes(9000, 5);
	struct fx_ent e[] = {
		{ .name = "x", .data = a, .len = 9000, .method = 8 },
		{ .name = "y", .data = a, .len = 9000 },
	};
	struct fx_opts o = { .prefix = 1000 };

	(void)state;
	hand_roundtrip(e, 2, &o, false);
	o.zip64 = FX_Z64_FULL; /* and with ZIP64 offsets */
	o.eocd64 = true;
	hand_roundtrip(e, 2, &o, true);
	free(a);
}

/* DOS times are read as UTC; an extended timestamp extra overrides them. */
static void test_mtime(void **state)
{
	unsigned char ut[9] = { 0x55, 0x54, 5, 0, 1 };
	struct fx_ent e[] = {
		{ .name = "dos", .data = "x", .len = 1 },
		{ .name = "ut",
		  .data = "x",
		  .len = 1,
		  .cd_extra = ut,
		  .cd_extra_len = 9 },
	};
	struct fx_zip z;
	struct fx_arc *fa;
	struct ozx_stat st;

	(void)state;
	fx_poke32(ut + 5, 1700000000);
	fx_zip_build(&z, e, 2, NULL);
	fa = fx_arc_open_copy(z.p, z.len);
	assert_int_equal(fa->ret, 0);
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "dos"), &st), 0);
	assert_int_equal(st.mtime, FX_DOS_EPOCH);
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "ut"), &st), 0);
	assert_int_equal(st.mtime, 1700000000);
	fx_arc_free(fa);
	fx_zip_release(&z);
}

/* The last DOS year, 2107, lies beyond 2^32 seconds: mtime is 64-bit in
 * struct ozx_stat and must not wrap to 1970. */
static void test_mtime_dos_late_year(void **state)
{
	struct fx_ent e[] = { { .name = "late", .data = "x", .len = 1 } };
	struct fx_zip z;
	struct fx_arc *fa;
	struct ozx_stat st;

	(void)state;
	fx_zip_build(&z, e, 1, NULL);
	/* 2107-01-01 00:00:00: past 32 unsigned bits, clamped */
	fx_poke16(z.p + z.cd_rec[0] + FX_CD_DATE, (127u << 9) | (1u << 5) | 1u);
	fx_poke16(z.p + z.cd_rec[0] + FX_CD_TIME, 0);
	fa = fx_arc_open_copy(z.p, z.len);
	assert_int_equal(fa->ret, 0);
	assert_int_equal(ozx_node_stat(fa->a, fx_node(fa->a, "late"), &st), 0);
	assert_int_equal(st.mtime, INT64_C(4294967295));
	fx_arc_free(fa);
	fx_zip_release(&z);
}

/* A ZIP64 extra whose 32-bit twins are not 0xffffffff is not read
 * (APPNOTE 4.5.3): its bogus values change nothing. */
static void test_zip64_extra_ignored_without_sentinels(void **state)
{
	unsigned char x[28] = { 0x01, 0x00, 24, 0 };
	unsigned char *d = fx_random_bytes(700, 4);
	struct fx_ent e[] = {
		{ .name = "x",
		  .data = d,
		  .len = 700,
		  .cd_extra = x,
		  .cd_extra_len = sizeof(x) },
		{ .name = "y",
		  .data = d,
		  .len = 600,
		  .method = 8,
		  .lh_extra = x,
		  .lh_extra_len = sizeof(x) },
	};

	(void)state;
	fx_poke64(x + 4, UINT64_C(1) << 40); /* usize */
	fx_poke64(x + 12, 3);		     /* csize */
	fx_poke64(x + 20, 0);		     /* offset */
	hand_roundtrip(e, 2, NULL, false);
	free(d);
}

/* Fewer than 4 bytes after the last extra field is padding (zipalign
 * writes it), in the central record and in the local header. */
static void test_extra_padding(void **state)
{
	static const unsigned char pad[3] = { 0, 0, 0 };
	/* an extended timestamp (the DOS time again), then padding */
	static const unsigned char ut_pad[] = { 0x55, 0x54, 5,	  0, 1, 0xa6,
						0x5d, 0x0d, 0x5e, 0, 0 };
	unsigned char *d = fx_random_bytes(300, 6);
	struct fx_ent e[] = {
		{ .name = "p",
		  .data = d,
		  .len = 300,
		  .cd_extra = pad,
		  .cd_extra_len = 3,
		  .lh_extra = pad,
		  .lh_extra_len = 3 },
		{ .name = "q",
		  .data = d,
		  .len = 300,
		  .cd_extra = ut_pad,
		  .cd_extra_len = sizeof(ut_pad),
		  .lh_extra = ut_pad,
		  .lh_extra_len = sizeof(ut_pad) },
	};

	(void)state;
	hand_roundtrip(e, 2, NULL, false);
	free(d);
}

/* The EOCD signature inside the comment (but not a record that reaches
 * EOF) is no second end record. */
static void test_comment_contains_eocd_signature(void **state)
{
	static const char c[] = "see PK\x05\x06 here: 0123456789012345678 end";
	struct fx_ent e[] = { { .name = "x", .data = "x", .len = 1 } };
	struct fx_opts o = { .comment = c, .comment_len = sizeof(c) - 1 };
	struct fx_zip z;
	struct fx_arc *fa;

	(void)state;
	fx_zip_build(&z, e, 1, &o);
	fa = fx_arc_open_copy(z.p, z.len);
	assert_int_equal(fa->ret, 0);
	assert_int_equal(ozx_archive_info(fa->a)->comment_len, sizeof(c) - 1);
	assert_memory_equal(ozx_archive_info(fa->a)->comment, c, sizeof(c));
	fx_arc_free(fa);
	fx_zip_release(&z);
}

/* The longest comment, 65535 bytes: the EOCD is at the far end of the
 * window searched for it. */
static void test_comment_max_length(void **state)
{
	char *c = malloc(65535);
	struct fx_ent e[] = { { .name = "x", .data = "x", .len = 1 } };
	struct fx_opts o = { .comment_len = 65535 };
	struct fx_zip z;
	struct fx_arc *fa;

	(void)state;
	assert_non_null(c);
	memset(c, 'c', 65535);
	o.comment = c;
	fx_zip_build(&z, e, 1, &o);
	fa = fx_arc_open_copy(z.p, z.len);
	assert_int_equal(fa->ret, 0);
	assert_int_equal(ozx_archive_info(fa->a)->comment_len, 65535);
	assert_memory_equal(ozx_archive_info(fa->a)->comment, c, 65535);
	assert_int_equal(ozx_archive_info(fa->a)->comment[65535], '\0');
	fx_arc_free(fa);
	fx_zip_release(&z);
	free(c);
}

/* ---- RFC-9 comment ------------------------------------------------- */

static struct fx_arc *open_with_comment(const void *comment, size_t len)
{
	struct fx_ent e[] = {
		{ .name = "zarr.json", .data = "{}", .len = 2 },
	};
	struct fx_opts o = { .comment = comment, .comment_len = len };
	struct fx_zip z;
	struct fx_arc *fa;

	fx_zip_build(&z, e, 1, &o);
	fa = fx_arc_open_copy(z.p, z.len);
	fx_zip_release(&z);
	if (fa->ret)
		print_error("open: %d %s\n", fa->ret,
			    fa->d.what ? fa->d.what : "");
	assert_int_equal(fa->ret, 0);
	return fa;
}

/* What the RFC-9 layer reads from the archive's comment. */
static struct ozx_rfc9_comment rfc9_of(const struct ozx_info *info)
{
	struct ozx_rfc9_comment c;

	ozx_rfc9_comment_read(info, &c);
	return c;
}

#define RFC9_JSON                                                          \
	"{\"ome\":{\"version\":\"0.5\",\"zipFile\":{\"centralDirectory\":" \
	"{\"jsonFirst\":true}}}}"

/* The RFC-9 comment: JSON with ome.version and jsonFirst true. */
static void test_rfc9_comment(void **state)
{
	struct fx_arc *fa = open_with_comment(RFC9_JSON, strlen(RFC9_JSON));
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_rfc9_comment rc = rfc9_of(info);

	(void)state;
	assert_true(rc.json);
	assert_false(rc.in_eocd64);
	assert_false(rc.trailing_nul);
	assert_string_equal(rc.ome_version, "0.5");
	assert_int_equal(rc.json_first, 1);
	assert_int_equal(info->comment_len, strlen(RFC9_JSON));
	assert_non_null(info->comment);
	assert_memory_equal(info->comment, RFC9_JSON, strlen(RFC9_JSON) + 1);
	fx_arc_free(fa);
}

/* Older drafts end the comment with a NUL: still RFC-9, and noted. */
static void test_rfc9_comment_trailing_nul(void **state)
{
	struct fx_arc *fa = open_with_comment(RFC9_JSON, strlen(RFC9_JSON) + 1);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_rfc9_comment rc = rfc9_of(info);

	(void)state;
	assert_true(rc.json);
	assert_true(rc.trailing_nul);
	assert_string_equal(rc.ome_version, "0.5");
	assert_int_equal(rc.json_first, 1);
	assert_int_equal(info->comment_len, strlen(RFC9_JSON) + 1);
	fx_arc_free(fa);
}

/* jsonFirst false reads as 0, and whitespace is JSON's business. */
static void test_rfc9_json_first_false(void **state)
{
	static const char c[] =
		"{ \"ome\" : {\n\t\"version\" : \"0.5\" ,\r\n \"zipFile\": "
		"{\"centralDirectory\": {\"jsonFirst\": false}}}}\n";
	struct fx_arc *fa = open_with_comment(c, strlen(c));
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_rfc9_comment rc = rfc9_of(info);

	(void)state;
	assert_true(rc.json);
	assert_false(rc.trailing_nul);
	assert_string_equal(rc.ome_version, "0.5");
	assert_int_equal(rc.json_first, 0);
	fx_arc_free(fa);
}

/* Without centralDirectory.jsonFirst the field is -1 (absent). */
static void test_rfc9_json_first_absent(void **state)
{
	static const char c[] = "{\"ome\":{\"version\":\"0.5\"}}";
	struct fx_arc *fa = open_with_comment(c, strlen(c));
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_rfc9_comment rc = rfc9_of(info);

	(void)state;
	assert_true(rc.json);
	assert_string_equal(rc.ome_version, "0.5");
	assert_int_equal(rc.json_first, -1);
	fx_arc_free(fa);
}

/* jsonFirst anywhere but ome.zipFile.centralDirectory does not count. */
static void test_rfc9_json_first_misplaced(void **state)
{
	static const char c[] = "{\"jsonFirst\":true,\"ome\":{\"version\":"
				"\"0.4\",\"zipFile\":{\"jsonFirst\":true},"
				"\"centralDirectory\":{\"jsonFirst\":true}}}";
	struct fx_arc *fa = open_with_comment(c, strlen(c));
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_rfc9_comment rc = rfc9_of(info);

	(void)state;
	assert_true(rc.json);
	assert_string_equal(rc.ome_version, "0.4");
	assert_int_equal(rc.json_first, -1);
	fx_arc_free(fa);
}

/* A comment that is not JSON is kept verbatim but is not RFC-9. */
static void test_rfc9_not_json(void **state)
{
	static const char c[] = "made by hand; {\"ome\":{}}";
	struct fx_arc *fa = open_with_comment(c, strlen(c));
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_rfc9_comment rc = rfc9_of(info);

	(void)state;
	assert_false(rc.json);
	assert_false(rc.trailing_nul);
	assert_string_equal(rc.ome_version, "");
	assert_int_equal(rc.json_first, -1);
	assert_int_equal(info->comment_len, strlen(c));
	assert_string_equal(info->comment, c);
	fx_arc_free(fa);
}

/* JSON without "ome", or broken JSON with it, is not RFC-9 either. */
static void test_rfc9_json_without_ome(void **state)
{
	static const char *const cs[] = {
		"{\"omero\":{\"version\":\"0.5\"}}",
		"{\"ome\":{\"version\":\"0.5\"}",	   /* unclosed */
		"{\"ome\":{\"version\":\"0.5\"}} x",	   /* trailing junk */
		"[{\"ome\":{\"version\":\"0.5\"}}]",	   /* not an object */
		"{\"a\":{\"ome\":{\"version\":\"0.5\"}}}", /* not at the top */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		struct fx_arc *fa = open_with_comment(cs[i], strlen(cs[i]));
		const struct ozx_info *info = ozx_archive_info(fa->a);
		struct ozx_rfc9_comment rc = rfc9_of(info);

		if (rc.json)
			print_error("taken for RFC-9: %s\n", cs[i]);
		assert_false(rc.json);
		assert_int_equal(rc.json_first, -1);
		fx_arc_free(fa);
	}
}

/* No comment at all. */
static void test_rfc9_no_comment(void **state)
{
	struct fx_arc *fa = open_with_comment(NULL, 0);
	const struct ozx_info *info = ozx_archive_info(fa->a);
	struct ozx_rfc9_comment rc = rfc9_of(info);

	(void)state;
	assert_false(rc.json);
	assert_int_equal(info->comment_len, 0);
	assert_int_equal(rc.json_first, -1);
	assert_string_equal(rc.ome_version, "");
	fx_arc_free(fa);
}

/* Deep nesting in a comment is bounded work, not a stack overflow, and
 * is not RFC-9. */
static void test_rfc9_deep_nesting(void **state)
{
	enum { DEPTH = 30000 };
	char *c = malloc(2 * DEPTH + 16);
	struct fx_arc *fa;
	size_t i, n = 0;

	(void)state;
	assert_non_null(c);
	n += (size_t)sprintf(c, "{\"ome\":");
	for (i = 0; i < DEPTH; i++)
		c[n++] = '[';
	for (i = 0; i < DEPTH; i++)
		c[n++] = ']';
	c[n++] = '}';
	fa = open_with_comment(c, n);
	assert_false(rfc9_of(ozx_archive_info(fa->a)).json);
	fx_arc_free(fa);
	free(c);
}

/* RFC-9 JSON in the ZIP64 end record's extensible data is found there. */
static void test_rfc9_in_eocd64(void **state)
{
	struct fx_ent e[] = { { .name = "zarr.json", .data = "{}", .len = 2 } };
	struct fx_opts o = { .eocd64 = true };
	struct fx_buf ext;
	struct fx_zip z;
	struct fx_arc *fa;
	const struct ozx_info *info;
	struct ozx_rfc9_comment rc;

	(void)state;
	fx_buf_init(&ext);
	fx_put_str(&ext, RFC9_JSON);
	fx_put_fill(&ext, ' ', 3); /* padding */
	o.eocd64_ext = ext.p;
	o.eocd64_ext_len = ext.len;
	fx_zip_build(&z, e, 1, &o);
	fa = fx_arc_open_copy(z.p, z.len);
	assert_int_equal(fa->ret, 0);
	info = ozx_archive_info(fa->a);
	rc = rfc9_of(info);
	assert_true(info->zip64);
	assert_true(rc.json);
	assert_true(rc.in_eocd64);
	assert_string_equal(rc.ome_version, "0.5");
	assert_int_equal(rc.json_first, 1);
	assert_int_equal(info->comment_len, 0);
	fx_arc_free(fa);
	fx_zip_release(&z);
	fx_buf_release(&ext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_archive),
		cmocka_unit_test(test_libzip_stored),
		cmocka_unit_test(test_libzip_deflate),
		cmocka_unit_test(test_libzip_mixed),
		cmocka_unit_test(test_hand_classic),
		cmocka_unit_test(test_data_descriptor_signed),
		cmocka_unit_test(test_data_descriptor_unsigned),
		cmocka_unit_test(test_data_descriptor_zip64),
		cmocka_unit_test(test_zip64_local_only),
		cmocka_unit_test(test_zip64_full),
		cmocka_unit_test(test_zip64_eocd_real_values),
		cmocka_unit_test(test_zip64_many_entries),
		cmocka_unit_test(test_prepended_adjusted),
		cmocka_unit_test(test_prepended_adjusted_hand),
		cmocka_unit_test(test_zip64_extra_ignored_without_sentinels),
		cmocka_unit_test(test_extra_padding),
		cmocka_unit_test(test_comment_contains_eocd_signature),
		cmocka_unit_test(test_comment_max_length),
		cmocka_unit_test(test_mtime),
		cmocka_unit_test(test_mtime_dos_late_year),
		cmocka_unit_test(test_rfc9_comment),
		cmocka_unit_test(test_rfc9_comment_trailing_nul),
		cmocka_unit_test(test_rfc9_json_first_false),
		cmocka_unit_test(test_rfc9_json_first_absent),
		cmocka_unit_test(test_rfc9_json_first_misplaced),
		cmocka_unit_test(test_rfc9_not_json),
		cmocka_unit_test(test_rfc9_json_without_ome),
		cmocka_unit_test(test_rfc9_no_comment),
		cmocka_unit_test(test_rfc9_deep_nesting),
		cmocka_unit_test(test_rfc9_in_eocd64),
	};

	/* libzip converts DOS times with the local zone; the core uses UTC */
	setenv("TZ", "UTC", 1);
	tzset();
	/* OZX_TEST_FILTER=test_x runs just the matching tests */
	if (getenv("OZX_TEST_FILTER"))
		cmocka_set_test_filter(getenv("OZX_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
