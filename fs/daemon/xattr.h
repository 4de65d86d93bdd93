/*
 * xattr.h - the read-only extended attributes of the mount, as functions of
 * the archive alone (no FUSE here: the daemon's getxattr and listxattr ops
 * call them and reply with what they return).
 *
 * On each file:
 *	user.ozx.crc32		declared CRC-32, 8 lower-case hex digits
 *	user.ozx.method		"stored", "deflate", or the ZIP method number
 *	user.ozx.offset		where the entry's bytes start in the archive
 *	user.ozx.compressed_size	bytes stored in the archive
 *	user.ozx.verified	"yes", "no" (not checked yet) or "corrupt"
 * On the root directory:
 *	user.ozx.comment	the archive comment, byte for byte
 *	user.ozx.rfc9		the RFC-9 conformance summary of ozx check
 *				(all rules but the entries' CRC-32): "ok" or
 *				"errors: RULE, ...; warnings: RULE, ..."
 * Numbers are decimal.  Values carry no trailing newline or NUL.  Other
 * directories have none.
 */
#ifndef OZXFS_XATTR_H
#define OZXFS_XATTR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ozx.h"

/*
 * The NUL-terminated names of node's attributes, one after another, into
 * buf.  Returns their total size, or:
 *	-ERANGE  size is not 0 and too small (size 0 asks for the size)
 *	-ENOENT  node is not a visible node
 */
ssize_t ozxfs_xattr_list(struct ozx_archive *a, uint32_t node, char *buf,
			 size_t size);

/*
 * The value of attribute name of node into buf (not NUL-terminated).
 * Returns its size, or:
 *	-ENODATA  node has no such attribute
 *	-ERANGE   size is not 0 and too small (size 0 asks for the size)
 *	-ENOENT   node is not a visible node
 *	-EIO      user.ozx.offset of an entry whose local header is unusable
 *	-ENOMEM
 * The values of user.ozx.offset and user.ozx.rfc9 are worked out on each
 * call (a local header read; one pass over the central directory).
 */
ssize_t ozxfs_xattr_get(struct ozx_archive *a, uint32_t node, const char *name,
			char *buf, size_t size);

/*
 * Copy a value of len bytes into buf, the getxattr(2) way: returns len,
 * or -ERANGE if size is not 0 and too small (size 0 asks for the size).
 */
ssize_t ozxfs_xattr_reply(const void *val, size_t len, char *buf, size_t size);

#endif /* OZXFS_XATTR_H */
