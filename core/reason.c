/*
 * reason.c - the one table of reasons: why the core refused an archive
 * (struct ozx_diag), hid a name (ozx_node_hidden) or failed an entry
 * (ozx_file_fail), and what it tolerated in one (ozx_file_tolerated).
 * Callers branch on the codes; these texts are only for people, and tests
 * and scripts may match them, so a change here is a change of interface.
 */
#include "config.h"

#include "ozx.h"

#include "archive_i.h"

static const char *const text[OZX_R_COUNT] = {
	[OZX_R_NONE] = "",
	/* refusals */
	[OZX_R_NOT_REGULAR] = "not a regular file",
	[OZX_R_TOO_LARGE] = "archive too large",
	[OZX_R_NOT_ZIP] =
		"not a ZIP archive: no end of central directory record",
	[OZX_R_TRUNCATED] =
		"truncated archive: no end of central directory record",
	[OZX_R_AMBIGUOUS] =
		"several end of central directory records: ambiguous archive",
	[OZX_R_COMMENT_LENGTH] =
		"end of central directory record has a wrong comment length",
	[OZX_R_MULTI_DISK] = "multi-disk archive",
	[OZX_R_LOC64_RANGE] = "ZIP64 locator out of range",
	[OZX_R_LOC64_TARGET] =
		"ZIP64 locator does not point at a ZIP64 end record",
	[OZX_R_EOCD64_MALFORMED] = "ZIP64 end record malformed",
	[OZX_R_EOCD64_DISAGREE] = "ZIP64 and classic end records disagree",
	[OZX_R_CD_RANGE] = "central directory out of range",
	[OZX_R_CD_END] =
		"central directory does not end where the end record begins",
	[OZX_R_COUNT_IMPOSSIBLE] =
		"entry count impossible for central directory size",
	[OZX_R_TOO_MANY_ENTRIES] = "too many entries",
	[OZX_R_CD_SIG] = "central directory record signature wrong",
	[OZX_R_CD_OVERRUN] = "central directory record overruns the directory",
	[OZX_R_EXTRA_OVERRUN] = "extra field overruns its record",
	[OZX_R_ZIP64_EXTRA] =
		"size or offset 0xffffffff without ZIP64 extra field",
	[OZX_R_DATA_RANGE] = "entry data out of range",
	[OZX_R_OVERLAP] = "overlapping entries",
	[OZX_R_SHIFT] = "bytes before the archive, but a local header is "
			"not where the shifted offset says",
	[OZX_R_COUNT_MISMATCH] = "entry count does not match central directory",
	[OZX_R_TOO_MANY_DIRS] = "too many directories implied by names",
	/* hidden names */
	[OZX_R_NAME_EMPTY] = "empty name",
	[OZX_R_NAME_ABSOLUTE] = "absolute path",
	[OZX_R_NAME_DOTDOT] = "'..' component",
	[OZX_R_NAME_DOT] = "'.' component",
	[OZX_R_NAME_EMPTY_COMPONENT] = "empty component",
	[OZX_R_NAME_NUL] = "NUL byte in name",
	[OZX_R_NAME_UTF8] = "invalid UTF-8 in name",
	[OZX_R_NAME_COMPONENT_LONG] = "component longer than 255 bytes",
	[OZX_R_NAME_LONG] = "name longer than 4095 bytes",
	[OZX_R_NAME_DEEP] = "path deeper than 128 components",
	[OZX_R_NAME_SUPERSEDED] =
		"superseded by a later record of the same name",
	[OZX_R_NAME_SHADOWED] = "file shadowed by a directory of the same name",
	/* unusable entries */
	[OZX_R_ENTRY_CRC] = "CRC-32 mismatch",
	[OZX_R_ENTRY_LH_SIG] = "local header signature wrong",
	[OZX_R_ENTRY_LH_NAME] =
		"local header name differs from central directory",
	[OZX_R_ENTRY_LH_METHOD] =
		"local header method differs from central directory",
	[OZX_R_ENTRY_LH_SIZES] =
		"local header sizes differ from central directory",
	[OZX_R_ENTRY_OVERLAP] = "entry data overlaps what follows it",
	[OZX_R_ENTRY_METHOD] = "unsupported compression method",
	[OZX_R_ENTRY_ENCRYPTED] = "encrypted entry",
	[OZX_R_ENTRY_INFLATE] = "DEFLATE stream corrupt",
	[OZX_R_ENTRY_SHORT] = "DEFLATE stream shorter than declared",
	[OZX_R_ENTRY_LONG] = "DEFLATE stream longer than declared",
	[OZX_R_ENTRY_IO] = "archive read failed or came up short",
	[OZX_R_ENTRY_RATIO] = "declared size impossible for DEFLATE",
	[OZX_R_ENTRY_STORED_SIZE] = "STORED entry whose sizes differ",
	/* tolerated in an entry */
	[OZX_R_ENTRY_TRAILING] =
		"unused bytes after the end of the DEFLATE stream (the stream "
		"is complete and its CRC-32 matches)",
};

const char *ozx_reason_text(enum ozx_reason r)
{
	if ((unsigned)r >= OZX_R_COUNT || !text[r])
		return "";
	return text[r];
}

int ozx_diag_fail(struct ozx_diag *diag, enum ozx_reason r, uint64_t off,
		  int err)
{
	if (diag) {
		diag->reason = r;
		diag->what = ozx_reason_text(r);
		diag->off = off;
	}
	return err;
}
