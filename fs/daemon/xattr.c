/*
 * xattr.c - the user.ozx.* extended attributes (see xattr.h).
 */
#include "config.h"

#include "xattr.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc9.h"

#define SUMMARY_MAX 1024

static const char file_names[] =
	"user.ozx.crc32\0user.ozx.method\0user.ozx.offset\0"
	"user.ozx.compressed_size\0user.ozx.verified";
static const char root_names[] = "user.ozx.comment\0user.ozx.rfc9";

ssize_t ozxfs_xattr_reply(const void *val, size_t len, char *buf, size_t size)
{
	if (size == 0)
		return (ssize_t)len;
	if (len > size)
		return -ERANGE;
	memcpy(buf, val, len);
	return (ssize_t)len;
}

ssize_t ozxfs_xattr_list(struct ozx_archive *a, uint32_t node, char *buf,
			 size_t size)
{
	struct ozx_stat st;

	if (ozx_node_stat(a, node, &st) || st.kind == OZX_KIND_HIDDEN)
		return -ENOENT;
	if (st.kind == OZX_KIND_FILE)
		return ozxfs_xattr_reply(file_names, sizeof(file_names), buf,
					 size);
	if (node == OZX_ROOT)
		return ozxfs_xattr_reply(root_names, sizeof(root_names), buf,
					 size);
	return 0;
}

static ssize_t get_rfc9(struct ozx_archive *a, char *buf, size_t size)
{
	struct ozx_rfc9 r;
	char line[SUMMARY_MAX];
	size_t n;
	int ret;

	ret = ozx_rfc9_check(a, NULL, &r);
	n = ozx_rfc9_summary(&r, line, sizeof(line));
	ozx_rfc9_release(&r);
	if (ret)
		return ret;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	return ozxfs_xattr_reply(line, n, buf, size);
}

static ssize_t get_file(struct ozx_archive *a, uint32_t node,
			const struct ozx_stat *st, const char *name, char *buf,
			size_t size)
{
	const char *s;
	char v[32];
	uint64_t off;
	int ret;

	if (!strcmp(name, "user.ozx.crc32")) {
		snprintf(v, sizeof(v), "%08" PRIx32, st->crc32);
		s = v;
	} else if (!strcmp(name, "user.ozx.method")) {
		s = ozx_method_name(st->method, v);
	} else if (!strcmp(name, "user.ozx.offset")) {
		ret = ozx_file_data_offset(a, node, NULL, &off);
		if (ret)
			return ret;
		snprintf(v, sizeof(v), "%" PRIu64, off);
		s = v;
	} else if (!strcmp(name, "user.ozx.compressed_size")) {
		snprintf(v, sizeof(v), "%" PRIu64, st->comp_size);
		s = v;
	} else if (!strcmp(name, "user.ozx.verified")) {
		s = st->crc_state == OZX_CRC_VERIFIED ? "yes" :
		    st->crc_state == OZX_CRC_FAILED   ? "corrupt" :
							"no";
	} else {
		return -ENODATA;
	}
	return ozxfs_xattr_reply(s, strlen(s), buf, size);
}

ssize_t ozxfs_xattr_get(struct ozx_archive *a, uint32_t node, const char *name,
			char *buf, size_t size)
{
	const struct ozx_info *info = ozx_archive_info(a);
	struct ozx_stat st;

	/* Tell the truth about a change no read has noticed yet. */
	if (!strcmp(name, "user.ozx.verified"))
		(void)ozx_archive_check(a);
	if (ozx_node_stat(a, node, &st) || st.kind == OZX_KIND_HIDDEN)
		return -ENOENT;
	if (st.kind == OZX_KIND_FILE)
		return get_file(a, node, &st, name, buf, size);
	if (node != OZX_ROOT)
		return -ENODATA;
	if (!strcmp(name, "user.ozx.comment"))
		return ozxfs_xattr_reply(info->comment, info->comment_len, buf,
					 size);
	if (!strcmp(name, "user.ozx.rfc9"))
		return get_rfc9(a, buf, size);
	return -ENODATA;
}
