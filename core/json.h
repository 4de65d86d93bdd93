/*
 * json.h - the one JSON reader of the tree (RFC 8259, strict), for the
 * RFC-9 layer and for whoever needs one value out of a JSON document.
 *
 * Strict: UTF-8 text (every string checked with ozx_utf8_seq, escapes
 * decoded, a lone surrogate escape read as U+FFFD), numbers by the
 * grammar, one value and nothing after it but white space, values nested
 * at most OZX_JSON_MAX_DEPTH deep.  No recursion and no allocation: the
 * work is one pass over the text, whatever the text (the RFC-9 layer asks
 * for three values of a comment of at most 64 KiB: three passes).
 */
#ifndef OZX_JSON_H
#define OZX_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define OZX_JSON_MAX_DEPTH 64

enum ozx_json_kind {
	OZX_JSON_ABSENT = 0,
	OZX_JSON_STRING,
	OZX_JSON_NUMBER,
	OZX_JSON_TRUE,
	OZX_JSON_FALSE,
	OZX_JSON_NULL,
	OZX_JSON_OBJECT,
	OZX_JSON_ARRAY,
};

struct ozx_json_res {
	enum ozx_json_kind top;	 /* kind of the whole document */
	enum ozx_json_kind kind; /* kind at path, ABSENT if not there */
	bool truncated;		 /* the string at path did not fit out */
	size_t end;		 /* bytes of the text the value took */
};

/* Flags: the text starts with a value, and what follows it is not read
 * (JSON with padding after it). */
#define OZX_JSON_PREFIX 1u

/*
 * Read the JSON text s[0..len).  When path (object keys from the top,
 * NULL-terminated; NULL for none) leads to a value, res->kind says what
 * it is (the last of duplicate keys wins, at every level of the path, as
 * in Python) and, for a string, its decoded bytes go to out (size bytes,
 * NUL-terminated; res->truncated if they did not fit; out may be NULL).  Returns 0, or -EINVAL if the text is not
 * JSON (then *res says ABSENT and out is "").
 */
int ozx_json_parse(const char *s, size_t len, unsigned flags,
		   const char *const *path, char *out, size_t size,
		   struct ozx_json_res *res);

#endif /* OZX_JSON_H */
