/*
 * rfc9.h - the RFC-9 layer: what an archive's RFC-9 JSON says, and the
 * RFC-9 conformance rules of an opened archive, shared by `ozx check` and
 * the user.ozx.rfc9 extended attribute of the mount.  It reads what the
 * archive handle hands out (ozx.h); nothing below it calls up into it.
 *
 * Nothing here prints and nothing reads entry data except the root
 * zarr.json (through ozx_file_read, so it is CRC-checked first).  The
 * CRC-32 of the other entries is ozx check's business; it adds its
 * findings to the same report with ozx_rfc9_add().
 *
 * Rule identifiers (stable: tests, scripts and ozx(1) refer to them):
 *	errors (RFC-9 MUST / SHALL NOT, and archives that cannot be used)
 *	  zip, single-part, root-zarr-json, nested, json-first-claim, entry
 *	warnings (RFC-9 SHOULD, and the core's warnings about names)
 *	  zip64, stored, json-first, comment, ome-version, extension,
 *	  hidden, duplicate, dir-data
 */
#ifndef OZX_RFC9_H
#define OZX_RFC9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "json.h"
#include "ozx.h"

enum ozx_rfc9_level {
	OZX_RFC9_WARNING = 1,
	OZX_RFC9_ERROR = 2,
};

struct ozx_rfc9_finding {
	enum ozx_rfc9_level level;
	const char *rule; /* static rule identifier, see above */
	const char *req;  /* "MUST", "SHOULD" or NULL (not an RFC-9 rule) */
	char *msg;	  /* printable: names are escaped with ozx_escape */
};

struct ozx_rfc9 {
	struct ozx_rfc9_finding *f;
	size_t n, cap;
	unsigned nerrors, nwarnings;
	/* The root zarr.json's attributes.ome.version, "" if none. */
	char zarr_version[32];
};

/*
 * Evaluate every rule on a (all but the CRC-32 of entries).  filename is
 * the archive's name for the extension rule, or NULL to skip that rule.
 * Returns 0 with the findings in *r (release it with ozx_rfc9_release
 * in any case), or -ENOMEM.
 */
int ozx_rfc9_check(struct ozx_archive *a, const char *filename,
		   struct ozx_rfc9 *r);

/* Add a finding (printf-style message).  Returns 0 or -ENOMEM. */
int ozx_rfc9_add(struct ozx_rfc9 *r, enum ozx_rfc9_level level,
		 const char *rule, const char *req, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void ozx_rfc9_release(struct ozx_rfc9 *r);

/*
 * The one-line summary: "ok", or "errors: RULE, ...; warnings: RULE, ..."
 * naming each rule once in the order first found.  Written NUL-terminated
 * into buf, truncated to fit.  Returns the length of the whole summary
 * (which may exceed size - 1, as snprintf).
 */
size_t ozx_rfc9_summary(const struct ozx_rfc9 *r, char *buf, size_t size);

/*
 * What the RFC-9 JSON of an archive says: read from its comment (a NUL
 * at its end, as older drafts wrote, is taken off first) or, when the
 * comment is not RFC-9 JSON, from the ZIP64 end record's extensible data
 * (one writer puts it there, after a header, before padding).  The fields
 * after trailing_nul describe the JSON read from where in_eocd64 says.
 */
struct ozx_rfc9_comment {
	bool json;	   /* RFC-9 JSON: an object whose "ome" is an object */
	bool in_eocd64;	   /* ...read from the ZIP64 extensible data */
	bool trailing_nul; /* the comment ends in a NUL byte */
	enum ozx_json_kind top; /* the JSON's kind, ABSENT if not JSON */
	bool has_version;	/* ome.version is a non-empty string... */
	char ome_version[32];	/* ...here if it fits, else "" */
	int json_first;		/* ome.zipFile.centralDirectory.jsonFirst:
			      * 1, 0, or -1 absent */
};

void ozx_rfc9_comment_read(const struct ozx_info *info,
			   struct ozx_rfc9_comment *c);

/* A root zarr.json larger than this is not read. */
#define OZX_RFC9_ROOT_JSON_MAX ((size_t)64 << 20)

/* What a root zarr.json is. */
enum ozx_rfc9_zarr {
	OZX_RFC9_ZARR_INVALID,	  /* not JSON */
	OZX_RFC9_ZARR_NOT_OBJECT, /* JSON, but not an object */
	OZX_RFC9_ZARR_OBJECT,	  /* an object */
};

/*
 * Read the zarr.json s[0..len): what it is, and its
 * attributes.ome.version into v (size bytes; "" when it is not an object,
 * has no such string, or the string is empty or does not fit).
 */
enum ozx_rfc9_zarr ozx_rfc9_zarr_json(const char *s, size_t len, char *v,
				      size_t size);

#endif /* OZX_RFC9_H */
