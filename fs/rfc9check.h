/*
 * rfc9check.h - the RFC-9 conformance rules of an opened archive, shared
 * by `ozx check` and the user.ozx.rfc9 extended attribute of the mount.
 *
 * Nothing here prints and nothing reads entry data except the root
 * zarr.json (through ozx_file_read, so it is CRC-checked first).  The
 * CRC-32 of the other entries is ozx check's business (ozx_check.c); it
 * adds its findings to the same report with ozxfs_rfc9_add().
 *
 * Rule identifiers (stable: tests, scripts and ozx(1) refer to them):
 *	errors (RFC-9 MUST / SHALL NOT, and archives that cannot be used)
 *	  zip, single-part, root-zarr-json, nested, json-first-claim, entry
 *	warnings (RFC-9 SHOULD, and the core's warnings about names)
 *	  zip64, stored, json-first, comment, ome-version, extension,
 *	  hidden, duplicate, dir-data
 */
#ifndef RFC9CHECK_H
#define RFC9CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ozx.h"

enum ozxfs_rfc9_level {
	OZXFS_RFC9_WARNING = 1,
	OZXFS_RFC9_ERROR = 2,
};

struct ozxfs_rfc9_finding {
	enum ozxfs_rfc9_level level;
	const char *rule; /* static rule identifier, see above */
	const char *req;  /* "MUST", "SHOULD" or NULL (not an RFC-9 rule) */
	char *msg;	  /* printable: names are escaped with ozx_escape */
};

struct ozxfs_rfc9 {
	struct ozxfs_rfc9_finding *f;
	size_t n, cap;
	unsigned nerrors, nwarnings;
	/* The root zarr.json's attributes.ome.version, "" if none. */
	char zarr_version[32];
};

/*
 * Evaluate every rule on a (all but the CRC-32 of entries).  filename is
 * the archive's name for the extension rule, or NULL to skip that rule.
 * Returns 0 with the findings in *r (release it with ozxfs_rfc9_release
 * in any case), or -ENOMEM.
 */
int ozxfs_rfc9_check(struct ozx_archive *a, const char *filename,
		     struct ozxfs_rfc9 *r);

/* Add a finding (printf-style message).  Returns 0 or -ENOMEM. */
int ozxfs_rfc9_add(struct ozxfs_rfc9 *r, enum ozxfs_rfc9_level level,
		   const char *rule, const char *req, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

void ozxfs_rfc9_release(struct ozxfs_rfc9 *r);

/*
 * The one-line summary: "ok", or "errors: RULE, ...; warnings: RULE, ..."
 * naming each rule once in the order first found.  Written NUL-terminated
 * into buf, truncated to fit.  Returns the length of the whole summary
 * (which may exceed size - 1, as snprintf).
 */
size_t ozxfs_rfc9_summary(const struct ozxfs_rfc9 *r, char *buf, size_t size);

/*
 * A strict JSON reader (RFC 8259: UTF-8, one value, nesting at most 64
 * deep).  When path (object keys from the top, NULL-terminated) leads to a
 * value, res->kind says what it is and, for a string, its decoded bytes go
 * to out (NUL-terminated; res->truncated if they did not fit).
 */
enum ozxfs_json_kind {
	OZXFS_JSON_ABSENT = 0,
	OZXFS_JSON_STRING,
	OZXFS_JSON_NUMBER,
	OZXFS_JSON_TRUE,
	OZXFS_JSON_FALSE,
	OZXFS_JSON_NULL,
	OZXFS_JSON_OBJECT,
	OZXFS_JSON_ARRAY,
};

struct ozxfs_json_res {
	enum ozxfs_json_kind top;  /* kind of the whole document */
	enum ozxfs_json_kind kind; /* kind at path, ABSENT if not there */
	bool truncated;
};

/* Returns 0 if s[0..len) is valid JSON, else -EINVAL. */
int ozxfs_json_parse(const char *s, size_t len, const char *const *path,
		     char *out, size_t size, struct ozxfs_json_res *res);

/* "stored", "deflate", or the method's number (ozx_stat.method) written
 * into buf. */
const char *ozxfs_method_name(uint16_t method, char buf[8]);

/*
 * The name of central-directory record node as the archive stores it (a
 * directory record's with its trailing '/'): for a visible node written
 * into buf (OZX_MAX_PATH + 1 bytes are enough), for a hidden one pointing
 * into the archive handle.  Returns 0 and sets *name and *len, or -ENOENT.
 */
int ozxfs_record_name(const struct ozx_archive *a, uint32_t node, char *buf,
		      size_t size, const char **name, size_t *len);

/* Whether node is a record superseded by a later one of the same name. */
bool ozxfs_superseded(const struct ozx_archive *a, uint32_t node);

/* Whether name (len bytes, no trailing '/') is a Zarr v3 metadata key:
 * "zarr.json" or ".../zarr.json". */
bool ozxfs_is_zarr_json(const char *name, size_t len);

#endif /* RFC9CHECK_H */
