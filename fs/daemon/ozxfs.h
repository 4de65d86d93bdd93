/*
 * ozxfs.h - state shared by the parts of the ozxfs FUSE daemon.
 *
 * main.c owns one struct ozxfs for the life of the process; ops.c reaches it
 * through fuse_req_userdata() and opts.c fills its options.  It has static
 * storage (so its atomics start out zero); after the session starts, only
 * the atomic fields are written.
 */
#ifndef OZXFS_H
#define OZXFS_H

/* FUSE_MAKE_VERSION(3, 12): fuse_loop_cfg_*() and fuse_parse_cmdline_312. */
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ozx.h"
#include "ozx_remote.h"

/* Exit statuses, as documented in --help and ozxfs(1). */
enum ozxfs_exit {
	OZXFS_EXIT_OK = 0,
	OZXFS_EXIT_USAGE = 1,	   /* bad command line */
	OZXFS_EXIT_UNREADABLE = 2, /* the archive file cannot be opened */
	OZXFS_EXIT_UNUSABLE = 3,   /* not a ZIP archive this daemon can serve */
	OZXFS_EXIT_MOUNT = 4,	   /* mount point, /dev/fuse or mount failed */
	OZXFS_EXIT_REFUSED = 5,	   /* a URL's server refused the archive or
				    * has no such object (HTTP 401, 403,
				    * 404, 410) */
};

/* Largest read the kernel is allowed to send (conn->max_write in init). */
#define OZXFS_MAX_IO (1u << 20)

/* CPU work: -o threads=N accepts 1..OZXFS_MAX_THREADS. */
#define OZXFS_MAX_THREADS 256u

/*
 * Worker threads: libfuse starts one more whenever all are busy, up to
 * this many, and keeps as many idle as threads=N.  A worker waiting for
 * another's verification uses no CPU, only its stack and read buffer.
 */
#define OZXFS_MAX_WORKERS 256u

/* -o readahead=SIZE: 1 MiB unless given (bdi.c says why), at most 64 MiB. */
#define OZXFS_READAHEAD_DEFAULT_KIB 1024u
#define OZXFS_MAX_READAHEAD_KIB (64u << 10)

/* -o idle_timeout=SECONDS accepts 0 (never, the default) to a year. */
#define OZXFS_MAX_IDLE_TIMEOUT (366u * 24 * 3600)

/* -o store_max=SIZE: 64 MiB unless given, at most 1 GiB. */
#define OZXFS_STORE_MAX_DEFAULT ((size_t)64 << 20)
#define OZXFS_STORE_MAX_LIMIT ((size_t)1 << 30)

/* A folder source: -o max_archives=N and -o archive_memory=SIZE. */
#define OZXFS_MAX_ARCHIVES_DEFAULT 256u
#define OZXFS_ARCHIVE_MEMORY_DEFAULT ((size_t)1 << 30)

struct ozxfs_idle;
struct ozxfs_folder;
struct ozxfs;

/*
 * One archive as the operations see it: the mount's only archive, or one
 * of a folder's (folder.c), whose inode numbers start above base.  It is
 * the context of the archive's log callbacks (ops.h).
 */
struct ozxfs_arc {
	struct ozxfs *fs;
	struct ozx_archive *archive;
	const struct ozx_info *info;
	const char *esc; /* the archive's path made printable */
	fuse_ino_t base; /* the inode of node n is base + n + 1 */
	/* Reads in archive order (ops.c, "Storing ahead"): the node last
	 * read or stored at offset 0, how many reads in a row followed the
	 * one before, and whether a store ahead runs. */
	_Atomic uint32_t last, run;
	atomic_bool ahead;
};

/* What the command line asked for (opts.c). */
struct ozxfs_opts {
	/* Filled by fuse_opt_parse() through offsetof() (strings are ours). */
	char *verify_arg;	  /* -o verify=entry|none */
	char *threads_arg;	  /* -o threads=N */
	char *max_threads_arg;	  /* -o max_threads=N (libfuse's name) */
	char *uid_arg;		  /* -o uid=N */
	char *gid_arg;		  /* -o gid=N */
	char *inflate_cache_arg;  /* -o inflate_cache=SIZE */
	char *idle_timeout_arg;	  /* -o idle_timeout=SECONDS */
	char *readahead_arg;	  /* -o readahead=SIZE */
	char *cache_size_arg;	  /* -o cache_size=SIZE (URLs) */
	char *retries_arg;	  /* -o retries=N (URLs) */
	char *timeout_arg;	  /* -o timeout=SECONDS (URLs) */
	char *max_archives_arg;	  /* -o max_archives=N (a folder) */
	char *archive_memory_arg; /* -o archive_memory=SIZE (a folder) */
	char *store_max_arg;	  /* -o store_max=SIZE */
	int anonymous;		  /* -o anonymous (s3:// URLs) */
	int fd_per_open;	  /* -o fd_per_open */
	int show_help;		  /* -h, --help */
	int show_version;	  /* -V, --version */

	/* The two operands, as given. */
	char *archive_arg;
	char *mountpoint_arg;
	int rw; /* -o rw was given (refused) */

	/* Checked values (ozxfs_opts_parse). */
	bool verify;	  /* check CRC-32 of each entry before serving it */
	unsigned threads; /* threads doing CPU work, 0 = usable CPUs */
	uid_t uid;
	gid_t gid;
	size_t inflate_cache;  /* bytes of DEFLATE access points, all entries */
	unsigned max_archives; /* a folder: archives open at once */
	size_t archive_memory; /* a folder: bytes of their indexes */
	size_t store_max;      /* entry buffers stored into the page cache */
	unsigned idle_timeout; /* idle seconds before unmounting, 0 never */
	unsigned readahead_kib; /* the mount's readahead, 0 the kernel's */
	struct ozx_remote_opts remote; /* for a URL (log set by main.c) */
};

struct ozxfs {
	struct ozx_archive *archive;
	const struct ozx_info *info;
	struct ozxfs_arc arc; /* the archive, as ops.c sees it */
	/* A folder of archives (folder.c), or NULL: archive and info are
	 * then NULL, and each archive has an ozxfs_arc of its own. */
	struct ozxfs_folder *folder;
	unsigned cpu_limit; /* ozx_archive_set_cpu_limit() of each archive */
	struct ozxfs_opts opts;
	/* The remote io of a URL archive (NULL for a file): freed after
	 * the archive.  Its io is shared by every open file. */
	struct ozx_remote *remote;
	char *archive_path; /* realpath(3) of the archive, the fsname; for
			     * a URL, the URL without secrets */
	char *archive_esc;  /* archive_path made printable, for messages */

	/* Per-worker-thread read buffer of io_size bytes (ops.c). */
	pthread_key_t buf_key;
	size_t io_size;
	size_t page_size;

	/*
	 * Storing verified entries into the page cache (ops.c, "Storing"):
	 * the session to notify, set before it serves; whether main() runs
	 * it on one thread (then nothing is stored); the bytes of entry
	 * buffers held now, at most opts.store_max; the workers storing now.
	 */
	struct fuse_session *se;
	bool single;
	_Atomic size_t store_held;
	_Atomic unsigned storing;

	/*
	 * Opens reach the daemon: -o fd_per_open, -o idle_timeout, a kernel
	 * without zero-message opens, or an archive with an empty file.
	 * Otherwise open answers ENOSYS once, and the kernel then opens files
	 * without asking (ops.c, "Opening").  Set by init.
	 */
	bool served_open;

	/* main() raised the mount's read_ahead_kb to opts.readahead_kib
	 * (bdi.c), so init asks the kernel for that window too. */
	bool readahead_set;

	/* Open files holding a descriptor of their own, at most fd_budget,
	 * listed so that those whose release never comes (a lazy unmount
	 * with files open) are closed when the session ends. */
	unsigned fd_budget;
	_Atomic unsigned fd_count;
	pthread_mutex_t files_lock;
	struct ozxfs_file *files;

	/* Conditions logged once per mount (atomic_exchange to true). */
	atomic_bool logged_budget; /* fell back to the shared descriptor */
	atomic_bool logged_reopen; /* reopen failed: shared descriptor */
	atomic_bool logged_store;  /* the kernel refused a store */
	/* Failed reads of the archive are logged at most once a second:
	 * CLOCK_MONOTONIC second of the last message, and those not logged
	 * since. */
	_Atomic long long io_log_sec;
	_Atomic unsigned io_unlogged;

	/* -o idle_timeout (idle.c): the timer, NULL when off, and the flag
	 * every request sets (ozxfs_idle_touch) and the timer clears. */
	struct ozxfs_idle *idle;
	atomic_bool active;
};

/*
 * Note that a request came, for -o idle_timeout: ops.c calls it first thing
 * in each operation that serves a reader.  A relaxed load, and a store only
 * when the timer has cleared the flag since, so that busy worker threads
 * share the flag's cache line instead of bouncing it between CPUs.
 */
static inline void ozxfs_idle_touch(struct ozxfs *fs)
{
	if (!atomic_load_explicit(&fs->active, memory_order_relaxed))
		atomic_store_explicit(&fs->active, true, memory_order_relaxed);
}

#endif /* OZXFS_H */
