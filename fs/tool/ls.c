/*
 * ls.c - ozx ls: one line per central-directory record, in directory
 * order:
 *	METHOD CSIZE USIZE OFFSET CRC32 NAME
 * and with --long
 *	METHOD CSIZE USIZE OFFSET CRC32 DATE TIME FLAGS NAME
 * OFFSET is where the entry's bytes start (read from its local header), "-"
 * where the core does not serve the record (directory records, hidden
 * names, unusable local headers).  NAME is last and escaped (ozx_escape),
 * so a line splits on the first 5 (or 8) runs of blanks.
 */
#include "config.h"

#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char ls_usage[] =
	"usage: ozx ls [--long] [--anonymous] FILE.ozx|URL\n"
	"\n"
	"One line per entry, in central directory order:\n"
	"  METHOD CSIZE USIZE OFFSET CRC32 NAME\n"
	"\n"
	"  -l, --long   add the modification time (UTC) and flags:\n"
	"               METHOD CSIZE USIZE OFFSET CRC32 DATE TIME FLAGS NAME\n"
	"  --anonymous  an s3:// URL: read a public object without signing\n"
	"  -h, --help   show this help\n";

static void add_flag(char *buf, const char *flag)
{
	if (buf[0])
		strcat(buf, ",");
	strcat(buf, flag);
}

/* dir, superseded, hidden, encrypted: comma-separated, or "-".  buf has
 * room for all of them. */
static const char *flags_of(const struct ozx_archive *a, uint32_t node,
			    const struct ozx_stat *st, const char *name,
			    size_t len, char *buf)
{
	buf[0] = '\0';
	if (len > 0 && name[len - 1] == '/')
		add_flag(buf, "dir");
	if (ozx_node_hidden(a, node) == OZX_R_NAME_SUPERSEDED)
		add_flag(buf, "superseded");
	else if (ozx_node_hidden(a, node))
		add_flag(buf, "hidden");
	if (st->encrypted)
		add_flag(buf, "encrypted");
	return buf[0] ? buf : "-";
}

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "anonymous", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ozx_diag diag = { 0 };
	struct ozx_archive *a;
	struct ozx_remote *r;
	const struct ozx_info *info;
	bool lng = false, anonymous = false;
	char *buf;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lng = true;
			break;
		case 'A':
			anonymous = true;
			break;
		case 'h':
			fputs(ls_usage, stdout);
			return TOOL_EXIT_OK;
		default:
			tool_err(
				"ls: unknown option '%s' (see 'ozx ls --help')",
				argv[optind - 1]);
			return TOOL_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		tool_err("ls: %s (see 'ozx ls --help')",
			 argc - optind ? "one archive at a time" :
					 "which archive?");
		return TOOL_EXIT_USAGE;
	}
	ret = tool_archive_open(argv[optind], anonymous, &a, &r, &diag);
	if (ret) {
		if (ret < 0)
			tool_open_err(argv[optind], ret, &diag);
		return TOOL_EXIT_FAIL;
	}
	buf = malloc(OZX_MAX_PATH + 1);
	if (!buf) {
		tool_err("out of memory");
		tool_archive_close(a, r);
		return TOOL_EXIT_FAIL;
	}
	info = ozx_archive_info(a);
	for (uint32_t node = 1; node <= info->nrecords; node++) {
		struct ozx_stat st;
		const char *name;
		char off[24], flags[64], when[24], m[8];
		uint64_t data_off;
		size_t len;
		char *e;

		if (ozx_node_stat(a, node, &st) ||
		    ozx_record_name(a, node, buf, OZX_MAX_PATH + 1, &name,
				    &len))
			continue;
		if (st.kind == OZX_KIND_FILE &&
		    ozx_file_data_offset(a, node, NULL, &data_off) == 0)
			snprintf(off, sizeof(off), "%" PRIu64, data_off);
		else
			strcpy(off, "-");
		e = tool_esc(name, len);
		printf("%-7s %12" PRIu64 " %12" PRIu64 " %12s %08" PRIx32 " ",
		       ozx_method_name(st.method, m), st.comp_size, st.size,
		       off, st.crc32);
		if (lng) {
			time_t t = (time_t)st.mtime;
			struct tm tm;

			if (!gmtime_r(&t, &tm) ||
			    !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
				      &tm))
				strcpy(when, "-          -");
			printf("%s %s ", when,
			       flags_of(a, node, &st, name, len, flags));
		}
		printf("%s\n", e);
		tool_esc_free(e);
	}
	free(buf);
	tool_archive_close(a, r);
	return TOOL_EXIT_OK;
}
