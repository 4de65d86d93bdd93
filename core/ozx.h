/*
 * ozx.h - the core library of ozxfs: a read-only index of a ZIP archive
 * (RFC-9 single-file OME-Zarr, or any ZIP) and a thread-safe read path.
 *
 * No FUSE in here and nothing is printed: every failure comes back as a
 * negative errno value, with format detail in an optional struct ozx_diag.
 *
 * Nodes.  Every central-directory record becomes a node, and so does every
 * directory implied by a name.  Node 0 is the root (OZX_ROOT); node numbers
 * are dense, stable for the life of the archive handle and never reused, so a
 * caller may use them as inode numbers.  A node is a file, a directory, or
 * hidden: a record whose name is unsafe, superseded by a later record of the
 * same name, or shadowed by a directory of the same name.  Hidden nodes are
 * never found by lookup nor listed, but can be enumerated for warnings.
 * A directory record ("a/") is merged into the directory node that stands
 * for it (whose ozx_stat.record then names it): the record's own node is
 * hidden with ozx_node_hidden() OZX_R_NONE and is not counted in nhidden,
 * because nothing is wrong with it.
 *
 * Threads.  After ozx_archive_open*() returns, every function here may be
 * called from any number of threads at once, except ozx_archive_free() and
 * the ozx_archive_set_*() setters (call those before sharing the handle).
 */
#ifndef OZX_H
#define OZX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OZX_ROOT ((uint32_t)0)
#define OZX_NONE ((uint32_t)0xffffffff)

/* Limits enforced on archive contents: names beyond the first three are
 * hidden, archives beyond the others refused (-EFBIG). */
#define OZX_MAX_COMPONENT 255	   /* bytes in one path component */
#define OZX_MAX_PATH 4095	   /* bytes in a whole entry name */
#define OZX_MAX_DEPTH 128	   /* path components in one name */
#define OZX_MAX_ENTRIES 100000000u /* central-directory records */
/*
 * Directories implied by names (those without a record of their own), at
 * most OZX_IMPLIED_PER_RECORD per record plus OZX_IMPLIED_EXTRA in all.
 * A directory costs a node like a record does, and without this bound
 * every record could imply 127 of them.  A Zarr chunk key implies at most
 * ndim - 1 directories of its own (c/T/0/0/0/0 for a chunk grid of
 * T x 1 x 1 x 1 x 1), so no OME-Zarr array (5 dimensions at most) needs
 * more than 4 per record; the extra covers groups, arrays and their "c"
 * directories, and small archives of any shape.
 */
#define OZX_IMPLIED_PER_RECORD 4u
#define OZX_IMPLIED_EXTRA 65536u

/*
 * Why the core refused an archive (struct ozx_diag), hid a name
 * (ozx_node_hidden), found an entry unusable (ozx_file_fail), or what it
 * tolerated in one (ozx_file_tolerated): a code to branch on, as libzip's
 * ZIP_ER_*, and ozx_reason_text() for people.  Codes never change meaning;
 * new ones are added at the end of their group.
 */
enum ozx_reason {
	OZX_R_NONE = 0,
	/* An archive refused (-EINVAL, or -EFBIG where noted); the diag's
	 * offset says where. */
	OZX_R_NOT_REGULAR,    /* not a regular file (nor a block device) */
	OZX_R_TOO_LARGE,      /* -EFBIG: beyond this library's limits */
	OZX_R_NOT_ZIP,	      /* no end record, no local header at 0 */
	OZX_R_TRUNCATED,      /* no end record, a local header at 0 */
	OZX_R_AMBIGUOUS,      /* several end records readers may choose */
	OZX_R_COMMENT_LENGTH, /* comment length runs past the end */
	OZX_R_MULTI_DISK,     /* one part of a split or spanned archive */
	OZX_R_LOC64_RANGE,
	OZX_R_LOC64_TARGET,
	OZX_R_EOCD64_MALFORMED,
	OZX_R_EOCD64_DISAGREE,
	OZX_R_CD_RANGE,
	OZX_R_CD_END,
	OZX_R_COUNT_IMPOSSIBLE,
	OZX_R_TOO_MANY_ENTRIES, /* -EFBIG */
	OZX_R_CD_SIG,
	OZX_R_CD_OVERRUN,
	OZX_R_EXTRA_OVERRUN,
	OZX_R_ZIP64_EXTRA,
	OZX_R_DATA_RANGE,
	OZX_R_OVERLAP,
	OZX_R_SHIFT,
	OZX_R_COUNT_MISMATCH,
	OZX_R_TOO_MANY_DIRS, /* -EFBIG */
	/* A name hidden (ozx_node_hidden). */
	OZX_R_NAME_EMPTY = 33,
	OZX_R_NAME_ABSOLUTE,
	OZX_R_NAME_DOTDOT,
	OZX_R_NAME_DOT,
	OZX_R_NAME_EMPTY_COMPONENT,
	OZX_R_NAME_NUL,
	OZX_R_NAME_UTF8,
	OZX_R_NAME_COMPONENT_LONG,
	OZX_R_NAME_LONG,
	OZX_R_NAME_DEEP,
	OZX_R_NAME_SUPERSEDED, /* a later record has the same name */
	OZX_R_NAME_SHADOWED,   /* a directory has the same name */
	/* An entry unusable (ozx_file_fail). */
	OZX_R_ENTRY_CRC = 65,
	OZX_R_ENTRY_LH_SIG,
	OZX_R_ENTRY_LH_NAME,
	OZX_R_ENTRY_LH_METHOD,
	OZX_R_ENTRY_LH_SIZES,
	OZX_R_ENTRY_OVERLAP,
	OZX_R_ENTRY_METHOD,
	OZX_R_ENTRY_ENCRYPTED,
	OZX_R_ENTRY_INFLATE,
	OZX_R_ENTRY_SHORT,
	OZX_R_ENTRY_LONG,
	OZX_R_ENTRY_IO, /* never the entry's verdict (see read.c) */
	OZX_R_ENTRY_RATIO,
	OZX_R_ENTRY_STORED_SIZE,
	/* Tolerated in a verified entry (ozx_file_tolerated). */
	OZX_R_ENTRY_TRAILING = 97, /* bytes after the DEFLATE stream */
	OZX_R_COUNT
};

/* The text of a reason (a static string, "" for OZX_R_NONE). */
const char *ozx_reason_text(enum ozx_reason r);

/*
 * Where a malformed archive went wrong: the reason, the archive offset it
 * concerns, and the reason's text for messages (what ==
 * ozx_reason_text(reason); branch on reason, never on what).  Callers may
 * pass NULL wherever a diag is taken.
 */
struct ozx_diag {
	enum ozx_reason reason;
	const char *what;
	uint64_t off;
};

/*
 * What identifies a source's bytes: while none of these changes, no byte
 * did (for a file: a write(2) moves the mtime before it copies a byte).
 */
struct ozx_stamp {
	uint64_t dev, ino;
	uint64_t size;
	int64_t mtime_ns;
};

/*
 * Source of archive bytes.  pread() returns the number of bytes read (short
 * only at end of file) or -errno; it must be safe to call from several
 * threads at once and must keep no position (pread(2) semantics).
 *
 * stamp(), NULL for a source that cannot change (memory), stores the
 * source's identity as it is now and returns 0, or -errno.  The read path
 * calls it after its preads: the same stamp as when the entry was verified
 * proves that the bytes just read are the bytes verified.  Every io of one
 * archive must report the same source (a descriptor of the same file).
 */
struct ozx_io {
	ssize_t (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
	void *ctx;
	int (*stamp)(void *ctx, struct ozx_stamp *st);
};

/* An io reading file descriptor fd with pread(2) (retrying EINTR), its
 * stamp from fstat(2). */
struct ozx_io ozx_io_fd(int fd);

/* An io reading the memory mem[0..len) (for tests and fuzzing). */
struct ozx_mem {
	const unsigned char *p;
	size_t len;
};
struct ozx_io ozx_io_mem(struct ozx_mem *mem);

struct ozx_archive;

/*
 * What the open tolerated in an archive that other readers (Python's
 * zipfile, unzip, bsdtar) read too: bits of ozx_info.warn, each to be
 * shown to the user, never silently accepted.
 */
enum ozx_warn {
	OZX_WARN_TRAILING = 1u << 0,	  /* bytes after the end record */
	OZX_WARN_PREPENDED = 1u << 1,	  /* bytes before the archive */
	OZX_WARN_COUNT_WRAPPED = 1u << 2, /* > 65535 entries, no ZIP64 */
	OZX_WARN_UNICODE_PATH = 1u << 3,  /* names from a Unicode Path extra */
};
#define OZX_WARN_ALL 0x0fu

/* What the open found out about the archive as a whole. */
struct ozx_info {
	uint64_t size;	      /* archive file size in bytes */
	uint64_t cd_offset;   /* where the central directory starts */
	uint64_t cd_size;     /* its size in bytes */
	uint32_t nrecords;    /* central-directory records */
	uint32_t nnodes;      /* nodes, root and hidden included */
	uint32_t nfiles;      /* visible regular files */
	uint32_t ndirs;	      /* visible directories, root included */
	uint32_t nhidden;     /* records hidden (see ozx_node_hidden_why) */
	uint32_t nduplicates; /* records superseded by a later same name */
	uint32_t ndirdata;    /* directory records carrying data (ignored) */
	bool zip64;	      /* a ZIP64 end record is present */
	/* The archive comment (EOCD), NUL-terminated copy; len excludes it.
	 * What it says is the RFC-9 layer's business (rfc9.h). */
	const char *comment;
	size_t comment_len;
	/* The ZIP64 end record's extensible data sector, a copy (NULL and 0
	 * when there is none, or it is longer than 65535 bytes). */
	const char *ext_data;
	size_t ext_len;
	/* What was tolerated (enum ozx_warn bits), with the numbers. */
	unsigned warn;
	uint64_t trailing_bytes;  /* OZX_WARN_TRAILING: how many */
	uint64_t prepended_bytes; /* OZX_WARN_PREPENDED: how many */
	uint32_t count_stored;	  /* OZX_WARN_COUNT_WRAPPED: the end record's */
	uint32_t nunicode_paths;  /* OZX_WARN_UNICODE_PATH: names replaced */
};

/* The text of one warning (a static string), "" for what is not one. */
const char *ozx_warn_text(enum ozx_warn w);

/*
 * The warning w of the archive described by info as one line (no newline)
 * with its numbers, NUL-terminated into buf, truncated to size.  Returns
 * buf.
 */
char *ozx_warn_describe(const struct ozx_info *info, enum ozx_warn w, char *buf,
			size_t size);

/*
 * Open the ZIP archive at path and index its central directory.  The file
 * descriptor is kept for the life of the handle; all reads are pread(2).
 *
 * Returns 0 and sets *out, or:
 *   -ENOENT, -EACCES, -EISDIR, ... if the file cannot be opened
 *   -EINVAL  the file is not a usable ZIP archive (diag->what says why)
 *   -EFBIG   the archive exceeds a limit of this library (diag says which)
 *   -ENOMEM  out of memory
 *   -EIO     a read failed
 * *out is NULL on failure.
 */
int ozx_archive_open(const char *path, struct ozx_archive **out,
		     struct ozx_diag *diag);

/*
 * Open the archive file that fd (a descriptor open for reading) is, as
 * ozx_archive_open() opens path: path only names it (for
 * ozx_archive_reopen() where /proc is missing).  The descriptor is the
 * handle's from now on, closed on failure too.
 */
int ozx_archive_open_fd(int fd, const char *path, struct ozx_archive **out,
			struct ozx_diag *diag);

/*
 * Open from an io of the given size.  The io (and what its ctx points to)
 * must outlive the handle.  Returns as ozx_archive_open().
 */
int ozx_archive_open_io(const struct ozx_io *io, uint64_t size,
			struct ozx_archive **out, struct ozx_diag *diag);

/* Release everything; NULL is a no-op. */
void ozx_archive_free(struct ozx_archive *a);

const struct ozx_info *ozx_archive_info(const struct ozx_archive *a);

/* The io the archive was opened with (the shared descriptor). */
const struct ozx_io *ozx_archive_io(const struct ozx_archive *a);

/*
 * A new, independent read-only descriptor of the same archive file (its own
 * open file description, so its own readahead state): of the very inode the
 * handle holds, through /proc/self/fd, even after the path was renamed over
 * or unlinked; where /proc is missing, through the path if it still names
 * that inode (device and inode number).  Size and mtime need no look here:
 * reads through the new descriptor are checked as through the handle's.
 * The caller closes it.  Returns the descriptor, or:
 *   -ESTALE  no /proc, and the path names another file now
 *   -EBADF   the archive was not opened from a path
 *   -ENOENT, -EMFILE, -ENFILE, ... from open(2)
 */
int ozx_archive_reopen(const struct ozx_archive *a);

/*
 * Look at the archive's identity now, as every read does after its preads
 * (with verify on).  If it changed since the last look (a new stamp from
 * the io), every verified entry becomes unverified, each entry's local
 * header is read again on next use, and the change callback is called:
 * each entry is then checked against its CRC-32 again before any more of
 * its bytes are served, and one whose bytes changed fails for good.
 * Returns 1 if it had changed, 0 if not (or the io has no stamp), -errno
 * if the stamp failed.
 */
int ozx_archive_check(struct ozx_archive *a);

/*
 * Called once per change ozx_archive_check() or a read notices, from that
 * thread, with no lock held.  For logging.  Call before sharing the handle.
 */
typedef void (*ozx_change_fn)(void *ctx);
void ozx_archive_set_change_cb(struct ozx_archive *a, ozx_change_fn fn,
			       void *ctx);

/*
 * Integrity policy.  With verify on (the default), no byte of an entry is
 * returned before the whole entry has matched its CRC-32; the result is
 * kept for as long as the archive's stamp stays the same, and every read
 * compares it after its preads (see ozx_archive_check).  Off trusts the
 * archive's bytes (sizes and local headers are still checked; a change is
 * not looked for).  Call before sharing the handle.
 */
void ozx_archive_set_verify(struct ozx_archive *a, bool verify);

/*
 * DEFLATE entries are read at any offset through access points (zran
 * style) recorded on the first full pass over the entry.  bytes caps the
 * memory of all access points together (least-recently-used indices are
 * evicted); an entry's index never takes more than a quarter of it.  Call
 * before sharing the handle.
 */
#define OZX_INFLATE_CACHE_DEFAULT ((size_t)64 << 20)
void ozx_archive_set_inflate_cache(struct ozx_archive *a, size_t bytes);

/*
 * CPU-heavy work: the CRC-32 pass of an entry above a few MiB, the first
 * inflation of a big DEFLATE entry (which builds its index), and reads
 * that inflate that much, run on at most n threads at once; the others
 * wait for a turn (0, the default: no limit).  Checks of small entries and
 * short reads never wait, so a caller with more threads than CPUs keeps
 * serving them while big entries are being verified.  Call before sharing
 * the handle.
 */
void ozx_archive_set_cpu_limit(struct ozx_archive *a, unsigned n);

/*
 * Stop for good: every long pass in progress (those that take turns,
 * above) returns -ECANCELED within one chunk (a fraction of a
 * millisecond), threads waiting for such a pass or for a turn then return
 * it as well, and so does every later call that would start one; small
 * entries are still served.  Entries are left as they were (a pass cut
 * short marks nothing).  Only sets a flag, so it may be called from a
 * signal handler; what is waiting is woken by the passes as they stop.
 */
void ozx_archive_cancel(struct ozx_archive *a);

struct ozx_zstats {
	size_t cap, used; /* bytes */
	uint64_t hits;	  /* reads that found their entry's index */
	uint64_t builds;  /* indices built on a read */
	uint64_t evictions;
	uint64_t decoded; /* bytes of output decoded to serve reads
				* (index builds not counted): with len
				* bytes read, the cost of random access */
};
void ozx_archive_zstats(const struct ozx_archive *a, struct ozx_zstats *zs);

/*
 * Called exactly once per entry, from the reading thread, when the entry
 * is first found unusable (CRC mismatch, local header mismatch, ...); why
 * is a static string.  For logging.  Call before sharing the handle.
 */
typedef void (*ozx_fail_fn)(void *ctx, uint32_t node, const char *why);
void ozx_archive_set_fail_cb(struct ozx_archive *a, ozx_fail_fn fn, void *ctx);

/*
 * Called at most once per entry, from the reading thread, when the entry
 * is verified but something about it was tolerated (ozx_file_warning()
 * says what; why is that static string).  For logging.  Call before
 * sharing the handle.
 */
void ozx_archive_set_warn_cb(struct ozx_archive *a, ozx_fail_fn fn, void *ctx);

enum ozx_kind {
	OZX_KIND_FILE = 0,
	OZX_KIND_DIR = 1,
	OZX_KIND_HIDDEN = 2,
};

enum ozx_crc_state {
	OZX_CRC_UNVERIFIED = 0,
	OZX_CRC_VERIFYING = 1, /* another thread is verifying it now */
	OZX_CRC_VERIFIED = 2,
	OZX_CRC_FAILED = 3, /* corrupt or unusable: every read is -EIO
				* (a failed read of the archive is not
				* this: the next read tries again) */
};

struct ozx_stat {
	enum ozx_kind kind;
	uint64_t size;	    /* uncompressed size (files), 0 for directories */
	uint64_t comp_size; /* bytes stored in the archive */
	uint32_t crc32;	    /* declared CRC-32 */
	uint16_t method;    /* ZIP method (0 STORED, 8 DEFLATE; 255 for
			      * 255 and above) */
	bool encrypted;
	int64_t mtime;	    /* seconds since the epoch (UTC) */
	uint32_t nlink;	    /* 1 for files, 2 + subdirectories for dirs */
	uint32_t record;    /* central-directory index; for a directory its
			      * directory record, OZX_NONE if implied */
	uint64_t lh_offset; /* local header offset (files) */
	enum ozx_crc_state crc_state;
};

/*
 * Attributes of node.  Returns 0, or -ENOENT if node is not a node.
 */
int ozx_node_stat(const struct ozx_archive *a, uint32_t node,
		  struct ozx_stat *st);

/*
 * The node's name: for visible nodes the last path component (the root's is
 * ""), for hidden nodes the whole name as stored in the archive, which may
 * hold any byte.  Always NUL-terminated after *len bytes.  NULL if node is
 * not a node.
 */
const char *ozx_node_name(const struct ozx_archive *a, uint32_t node,
			  size_t *len);

/* The parent directory; OZX_NONE for the root, hidden or invalid nodes. */
uint32_t ozx_node_parent(const struct ozx_archive *a, uint32_t node);

/*
 * Why a node is hidden (an OZX_R_NAME_* code), or OZX_R_NONE if it is not
 * (or is a directory record merged into its directory, see the top).
 */
enum ozx_reason ozx_node_hidden(const struct ozx_archive *a, uint32_t node);

/* The same as a static string, or NULL for OZX_R_NONE. */
const char *ozx_node_hidden_why(const struct ozx_archive *a, uint32_t node);

/*
 * The name of central-directory record node as the archive stores it (a
 * directory record's with its trailing '/'): for a visible node written
 * into buf (OZX_MAX_PATH + 1 bytes are enough), for a hidden one pointing
 * into the archive handle.  Returns 0 and sets *name and *len, or -ENOENT
 * (not a record), -ERANGE (size too small).
 */
int ozx_record_name(const struct ozx_archive *a, uint32_t node, char *buf,
		    size_t size, const char **name, size_t *len);

/* "stored", "deflate", or the method's number (ozx_stat.method) written
 * into buf. */
const char *ozx_method_name(uint16_t method, char buf[8]);

/*
 * Write the node's full path (no leading '/'; "" for the root) NUL-terminated
 * into buf.  Returns its length, or -ERANGE if size is too small, -ENOENT if
 * node is not a node.
 */
ssize_t ozx_node_path(const struct ozx_archive *a, uint32_t node, char *buf,
		      size_t size);

/*
 * Find name (len bytes, byte-exact, no '/') in directory parent.  Returns 0
 * and sets *out, or -ENOENT (no such name), -ENOTDIR (parent is not a
 * directory).
 */
int ozx_lookup(const struct ozx_archive *a, uint32_t parent, const char *name,
	       size_t len, uint32_t *out);

/* Find a '/'-separated path from the root ("" is the root); as ozx_lookup. */
int ozx_lookup_path(const struct ozx_archive *a, const char *path,
		    uint32_t *out);

/*
 * Directory listing with a resumable cursor, O(1) per entry.  Start with
 * *cursor = 0; each call stores the next child in *child and advances
 * *cursor.  Cursor values stay valid for the life of the handle and are
 * below 2^33.  Returns 1 for a child, 0 at the end, -ENOTDIR if dir is not
 * a directory, -EINVAL for a cursor not from this directory.
 */
int ozx_dir_next(const struct ozx_archive *a, uint32_t dir, uint64_t *cursor,
		 uint32_t *child);

/*
 * Read up to len bytes at offset off of file node into buf, through io
 * (NULL: the archive's own).  Verifies the entry first when verification is
 * on.  Returns the number of bytes read (less than len only at end of
 * entry; 0 at or past it), or:
 *   -EIO     the entry is unusable (corrupt, header or size mismatch,
 *            unsupported method, encrypted: ozx_file_failure() says
 *            which, for good), or the archive read failed (it says
 *            nothing, and the next call tries again)
 *   -EISDIR  node is a directory
 *   -ENOENT  node is not a file
 *   -ECANCELED  ozx_archive_cancel() was called
 */
ssize_t ozx_file_read(struct ozx_archive *a, uint32_t node,
		      const struct ozx_io *io, void *buf, size_t len,
		      uint64_t off);

/*
 * As ozx_file_read, into a buffer of cap >= len bytes of which the call may
 * use all: the bytes read start at buf + *at (where the entry's local
 * header came with them, which saves reads of a small entry).
 */
ssize_t ozx_file_read_at(struct ozx_archive *a, uint32_t node,
			 const struct ozx_io *io, void *buf, size_t cap,
			 size_t len, uint64_t off, size_t *at);

/*
 * As ozx_file_read_at; besides, *whole is where the entry's bytes start in
 * buf if this call verified the entry by reading all of it into buf (cap
 * is at least its size): buf + *whole then holds exactly the bytes whose
 * CRC-32 matched, from an archive generation still current when the entry
 * was marked verified.  Else *whole is SIZE_MAX (verification off, the
 * entry verified before or by another thread, or too big for buf).
 */
ssize_t ozx_file_read_whole(struct ozx_archive *a, uint32_t node,
			    const struct ozx_io *io, void *buf, size_t cap,
			    size_t len, uint64_t off, size_t *at,
			    size_t *whole);

/*
 * Verify the whole entry against its CRC-32 now (once per handle).  Returns
 * 0 if it matches (or already had), -EIO if the entry is unusable or the
 * archive read failed (as ozx_file_read), -ENOENT if node is not a file,
 * -ECANCELED after ozx_archive_cancel().
 */
int ozx_file_verify(struct ozx_archive *a, uint32_t node,
		    const struct ozx_io *io);

/*
 * Where the entry's bytes start in the archive (reads and checks the local
 * header on first use).  Returns 0 and sets *off, or -EIO / -ENOENT as
 * ozx_file_read.
 */
int ozx_file_data_offset(struct ozx_archive *a, uint32_t node,
			 const struct ozx_io *io, uint64_t *off);

/*
 * Why the entry is unusable (an OZX_R_ENTRY_* code), or OZX_R_NONE if it
 * is not known to be.
 */
enum ozx_reason ozx_file_fail(const struct ozx_archive *a, uint32_t node);

/* The same as a static string, or NULL for OZX_R_NONE. */
const char *ozx_file_failure(const struct ozx_archive *a, uint32_t node);

/*
 * What was tolerated in an entry whose CRC-32 matched, or OZX_R_NONE: so
 * far OZX_R_ENTRY_TRAILING, unused bytes after the end of its DEFLATE
 * stream, within its compressed size.  Known once the entry was read
 * whole.
 */
enum ozx_reason ozx_file_tolerated(const struct ozx_archive *a, uint32_t node);

/* The same as a static string, or NULL for OZX_R_NONE. */
const char *ozx_file_warning(const struct ozx_archive *a, uint32_t node);

/*
 * The length (1 to 4) of the valid UTF-8 character that starts s (len > 0
 * bytes available): RFC 3629, no overlong forms, no surrogates, at most
 * U+10FFFF.  Returns 0 if s does not start a valid character.
 */
size_t ozx_utf8_seq(const unsigned char *s, size_t len);

/* Whether s[0..len) is valid UTF-8 as ozx_utf8_seq says: the rule for
 * names and for JSON text. */
bool ozx_utf8_valid(const char *s, size_t len);

/*
 * Write name[0..len) into buf (size bytes, NUL-terminated) with bytes that
 * are not printable UTF-8 shown as \xNN, for messages.  Returns buf.
 */
char *ozx_escape(const char *name, size_t len, char *buf, size_t size);

#endif /* OZX_H */
