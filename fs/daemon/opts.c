/*
 * opts.c - option table, parsing and usage of ozxfs.
 *
 * The command line is parsed twice, as squashfuse does: first here with
 * ozxfs's own table, which takes the archive operand (the first non-option)
 * and ozxfs's -o options, then by fuse_parse_cmdline() in main.c, which
 * gets the mount point, -f, -d, -s and the rest.  Values are kept as
 * strings by fuse_opt and checked strictly afterwards, because fuse_opt's
 * "%u" would take "-1" and "12abc".
 */
#include "config.h"

#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	KEY_RW,		 /* -o rw: refused */
	KEY_IGNORED,	 /* fstab and mount(8) options with no meaning here */
	KEY_MAX_THREADS, /* libfuse's -o max_threads=N: our threads=N */
};

/* clang-format off */
#define OZXFS_OPT(t, field, v) {t, offsetof(struct ozxfs_opts, field), v}

static const struct fuse_opt ozxfs_opt_spec[] = {
	OZXFS_OPT("verify=%s", verify_arg, 0),
	OZXFS_OPT("threads=%s", threads_arg, 0),
	OZXFS_OPT("uid=%s", uid_arg, 0),
	OZXFS_OPT("gid=%s", gid_arg, 0),
	OZXFS_OPT("inflate_cache=%s", inflate_cache_arg, 0),
	OZXFS_OPT("idle_timeout=%s", idle_timeout_arg, 0),
	OZXFS_OPT("readahead=%s", readahead_arg, 0),
	OZXFS_OPT("cache_size=%s", cache_size_arg, 0),
	OZXFS_OPT("retries=%s", retries_arg, 0),
	OZXFS_OPT("timeout=%s", timeout_arg, 0),
	OZXFS_OPT("max_archives=%s", max_archives_arg, 0),
	OZXFS_OPT("archive_memory=%s", archive_memory_arg, 0),
	OZXFS_OPT("store_max=%s", store_max_arg, 0),
	OZXFS_OPT("anonymous", anonymous, 1),
	OZXFS_OPT("fd_per_open", fd_per_open, 1),
	OZXFS_OPT("-h", show_help, 1),
	OZXFS_OPT("--help", show_help, 1),
	OZXFS_OPT("-V", show_version, 1),
	OZXFS_OPT("--version", show_version, 1),
	FUSE_OPT_KEY("max_threads=", KEY_MAX_THREADS),
	FUSE_OPT_KEY("rw", KEY_RW),
	/* The mount is always ro: main.c adds it. */
	FUSE_OPT_KEY("ro", KEY_IGNORED),
	/*
	 * Always nodev,nosuid (mount.fuse3 adds dev,suid for root: ignored).
	 * No file is executable; noexec goes on to libfuse all the same, so
	 * that an fstab line asking for it gets it (no mmap PROT_EXEC).
	 */
	FUSE_OPT_KEY("dev", KEY_IGNORED),
	FUSE_OPT_KEY("suid", KEY_IGNORED),
	FUSE_OPT_KEY("exec", KEY_IGNORED),
	/* Access times are never written on a read-only mount. */
	FUSE_OPT_KEY("relatime", KEY_IGNORED),
	FUSE_OPT_KEY("norelatime", KEY_IGNORED),
	FUSE_OPT_KEY("strictatime", KEY_IGNORED),
	FUSE_OPT_KEY("nostrictatime", KEY_IGNORED),
	FUSE_OPT_KEY("lazytime", KEY_IGNORED),
	FUSE_OPT_KEY("nolazytime", KEY_IGNORED),
	FUSE_OPT_KEY("diratime", KEY_IGNORED),
	FUSE_OPT_KEY("nodiratime", KEY_IGNORED),
	FUSE_OPT_KEY("silent", KEY_IGNORED),
	FUSE_OPT_KEY("loud", KEY_IGNORED),
	/* For mount(8) and fstab only. */
	FUSE_OPT_KEY("defaults", KEY_IGNORED),
	FUSE_OPT_KEY("auto", KEY_IGNORED),
	FUSE_OPT_KEY("noauto", KEY_IGNORED),
	FUSE_OPT_KEY("nofail", KEY_IGNORED),
	FUSE_OPT_KEY("user", KEY_IGNORED),
	FUSE_OPT_KEY("users", KEY_IGNORED),
	FUSE_OPT_KEY("_netdev", KEY_IGNORED),
	FUSE_OPT_KEY("comment=", KEY_IGNORED),
	FUSE_OPT_END,
};
/* clang-format on */

static int ozxfs_opt_proc(void *data, const char *arg, int key,
			  struct fuse_args *outargs)
{
	struct ozxfs_opts *opts = data;

	(void)outargs;
	switch (key) {
	case KEY_RW:
		opts->rw = 1;
		return 0;
	case KEY_IGNORED:
		return 0;
	case KEY_MAX_THREADS:
		free(opts->max_threads_arg);
		opts->max_threads_arg = strdup(arg + strlen("max_threads="));
		if (!opts->max_threads_arg) {
			fuse_log(FUSE_LOG_ERR, "out of memory\n");
			return -1;
		}
		return 0;
	case FUSE_OPT_KEY_OPT:
		/* x-systemd.automount and the like: for mount(8), not us. */
		if (strncmp(arg, "x-", 2) == 0)
			return 0;
		return 1; /* libfuse's, or unknown: it will say so */
	case FUSE_OPT_KEY_NONOPT:
		if (!opts->archive_arg) {
			opts->archive_arg = strdup(arg);
			if (!opts->archive_arg) {
				fuse_log(FUSE_LOG_ERR, "out of memory\n");
				return -1;
			}
			return 0;
		}
		if (!opts->mountpoint_arg) {
			opts->mountpoint_arg = strdup(arg);
			if (!opts->mountpoint_arg) {
				fuse_log(FUSE_LOG_ERR, "out of memory\n");
				return -1;
			}
			return 1; /* fuse_parse_cmdline() wants it too */
		}
		fuse_log(FUSE_LOG_ERR, "unexpected argument '%s'\n", arg);
		return -1;
	default:
		return 1;
	}
}

/* A decimal number in [min, max], digits only: no sign, space or suffix. */
static int parse_uint(const char *s, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A size: digits with an optional K, M or G (powers of 1024). */
static int parse_size(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	static const char units[] = "KMG";
	size_t n = strlen(s);
	const char *u = n ? strchr(units, s[n - 1]) : NULL;
	unsigned long long v, mul = 1;
	char digits[32];
	int ret;

	if (u && s[n - 1]) {
		mul = 1ULL << (10 * (1 + (u - units)));
		n--;
	}
	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, n);
	digits[n] = '\0';
	ret = parse_uint(digits, 0, max / mul, &v);
	if (ret)
		return ret;
	*out = v * mul;
	return 0;
}

static int bad_value(const char *name, const char *value, const char *want)
{
	fuse_log(FUSE_LOG_ERR, "bad value '%s' for option '%s' (expected %s)\n",
		 value, name, want);
	return -1;
}

/* The options of a URL archive (accepted, and ignored, for a file). */
static int check_remote_opts(struct ozxfs_opts *opts)
{
	struct ozx_remote_opts *o = &opts->remote;
	unsigned long long v;

	ozx_remote_opts_init(o);
	o->anonymous = opts->anonymous != 0;
	if (opts->cache_size_arg) {
		if (parse_size(opts->cache_size_arg, 1ULL << 40, &v) ||
		    v < OZX_REMOTE_CACHE_MIN)
			return bad_value("cache_size", opts->cache_size_arg,
					 "a size such as 64M, 1M to 1024G");
		o->cache_size = (size_t)v;
	}
	if (opts->retries_arg) {
		if (parse_uint(opts->retries_arg, 0, 20, &v))
			return bad_value("retries", opts->retries_arg,
					 "0 to 20");
		o->retries = (unsigned)v;
	}
	if (opts->timeout_arg) {
		if (parse_uint(opts->timeout_arg, 1, 3600, &v))
			return bad_value("timeout", opts->timeout_arg,
					 "seconds, 1 to 3600");
		o->timeout = (unsigned)v;
	}
	return 0;
}

static int check_opts(struct ozxfs_opts *opts)
{
	unsigned long long v;

	if (opts->rw) {
		/* mount(8) passes rw unless told ro: say what to write. */
		fuse_log(FUSE_LOG_ERR,
			 "option 'rw' refused: ozxfs is read-only (mount with "
			 "-o ro; in fstab, add ro)\n");
		return -1;
	}
	if (!opts->verify_arg || strcmp(opts->verify_arg, "entry") == 0)
		opts->verify = true;
	else if (strcmp(opts->verify_arg, "none") == 0)
		opts->verify = false;
	else
		return bad_value("verify", opts->verify_arg, "entry or none");

	/* threads= wins over max_threads= when both are given. */
	opts->threads = 0;
	if (opts->max_threads_arg) {
		if (parse_uint(opts->max_threads_arg, 1, OZXFS_MAX_THREADS, &v))
			return bad_value("max_threads", opts->max_threads_arg,
					 "1 to 256");
		opts->threads = (unsigned)v;
	}
	if (opts->threads_arg) {
		if (parse_uint(opts->threads_arg, 1, OZXFS_MAX_THREADS, &v))
			return bad_value("threads", opts->threads_arg,
					 "1 to 256");
		opts->threads = (unsigned)v;
	}

	opts->inflate_cache = OZX_INFLATE_CACHE_DEFAULT;
	if (opts->inflate_cache_arg) {
		if (parse_size(opts->inflate_cache_arg, 1ULL << 40, &v))
			return bad_value("inflate_cache",
					 opts->inflate_cache_arg,
					 "a size such as 64M, at most 1024G");
		opts->inflate_cache = (size_t)v;
	}

	opts->idle_timeout = 0;
	if (opts->idle_timeout_arg) {
		if (parse_uint(opts->idle_timeout_arg, 0,
			       OZXFS_MAX_IDLE_TIMEOUT, &v))
			return bad_value("idle_timeout", opts->idle_timeout_arg,
					 "seconds, 0 for never");
		opts->idle_timeout = (unsigned)v;
	}

	opts->readahead_kib = OZXFS_READAHEAD_DEFAULT_KIB;
	if (opts->readahead_arg) {
		long page = sysconf(_SC_PAGESIZE);

		/* The kernel keeps whole pages: 1K would turn it off. */
		if (page <= 0)
			page = 4096;
		if (parse_size(opts->readahead_arg,
			       (unsigned long long)OZXFS_MAX_READAHEAD_KIB
				       << 10,
			       &v) ||
		    v % (unsigned long long)page)
			return bad_value("readahead", opts->readahead_arg,
					 "whole pages such as 1M or 512K, "
					 "at most 64M, 0 for the kernel's");
		opts->readahead_kib = (unsigned)(v >> 10);
	}

	if (check_remote_opts(opts))
		return -1;

	opts->max_archives = OZXFS_MAX_ARCHIVES_DEFAULT;
	if (opts->max_archives_arg) {
		if (parse_uint(opts->max_archives_arg, 1, 1u << 20, &v))
			return bad_value("max_archives", opts->max_archives_arg,
					 "1 to 1048576");
		opts->max_archives = (unsigned)v;
	}
	opts->archive_memory = OZXFS_ARCHIVE_MEMORY_DEFAULT;
	if (opts->archive_memory_arg) {
		if (parse_size(opts->archive_memory_arg, 1ULL << 40, &v) ||
		    v < (1u << 20))
			return bad_value("archive_memory",
					 opts->archive_memory_arg,
					 "a size such as 1G, 1M to 1024G");
		opts->archive_memory = (size_t)v;
	}

	opts->store_max = OZXFS_STORE_MAX_DEFAULT;
	if (opts->store_max_arg) {
		if (parse_size(opts->store_max_arg, OZXFS_STORE_MAX_LIMIT, &v))
			return bad_value("store_max", opts->store_max_arg,
					 "a size such as 64M, at most 1G, "
					 "0 for off");
		opts->store_max = (size_t)v;
	}

	/* (uid_t)-1 means "no change" to chown(2): never a real owner. */
	opts->uid = getuid();
	if (opts->uid_arg) {
		if (parse_uint(opts->uid_arg, 0, (uid_t)-1 - 1, &v))
			return bad_value("uid", opts->uid_arg,
					 "a numeric user ID");
		opts->uid = (uid_t)v;
	}
	opts->gid = getgid();
	if (opts->gid_arg) {
		if (parse_uint(opts->gid_arg, 0, (gid_t)-1 - 1, &v))
			return bad_value("gid", opts->gid_arg,
					 "a numeric group ID");
		opts->gid = (gid_t)v;
	}

	if (!opts->archive_arg) {
		fuse_log(FUSE_LOG_ERR, "missing archive and mount point "
				       "(try 'ozxfs --help')\n");
		return -1;
	}
	if (!opts->mountpoint_arg) {
		fuse_log(FUSE_LOG_ERR,
			 "missing mount point (try 'ozxfs --help')\n");
		return -1;
	}
	return 0;
}

int ozxfs_opts_parse(struct fuse_args *args, struct ozxfs_opts *opts)
{
	if (fuse_opt_parse(args, opts, ozxfs_opt_spec, ozxfs_opt_proc))
		return -1;
	if (opts->show_help || opts->show_version)
		return 0;
	return check_opts(opts);
}

void ozxfs_opts_free(struct ozxfs_opts *opts)
{
	free(opts->verify_arg);
	free(opts->threads_arg);
	free(opts->max_threads_arg);
	free(opts->uid_arg);
	free(opts->gid_arg);
	free(opts->inflate_cache_arg);
	free(opts->idle_timeout_arg);
	free(opts->readahead_arg);
	free(opts->cache_size_arg);
	free(opts->retries_arg);
	free(opts->timeout_arg);
	free(opts->max_archives_arg);
	free(opts->archive_memory_arg);
	free(opts->store_max_arg);
	opts->store_max_arg = NULL;
	opts->max_archives_arg = opts->archive_memory_arg = NULL;
	opts->cache_size_arg = opts->retries_arg = opts->timeout_arg = NULL;
	free(opts->archive_arg);
	free(opts->mountpoint_arg);
	opts->verify_arg = opts->threads_arg = opts->max_threads_arg = NULL;
	opts->uid_arg = opts->gid_arg = NULL;
	opts->inflate_cache_arg = opts->idle_timeout_arg = NULL;
	opts->readahead_arg = NULL;
	opts->archive_arg = opts->mountpoint_arg = NULL;
}

void ozxfs_opts_help(const char *progname)
{
	printf("usage: %s [options] ARCHIVE.ozx|URL|FOLDER MOUNTPOINT\n"
	       "\n"
	       "Mount a ZIP archive (an RFC-9 single-file OME-Zarr, or any "
	       "ZIP) as a\n"
	       "read-only directory tree.  The archive may be a URL: "
	       "http://, https://, or\n"
	       "s3://BUCKET/KEY (credentials from AWS_* or "
	       "~/.aws/credentials, see ozxfs(1)).\n"
	       "A FOLDER shows its tree, each NAME.ozx or NAME.zip in it as "
	       "a directory\n"
	       "holding that archive's tree, opened on first use; archives "
	       "that appear,\n"
	       "change or go are seen within a second.\n"
	       "\n"
	       "ozxfs options:\n"
	       "    -o verify=entry|none   entry (default): serve no byte of "
	       "an entry before\n"
	       "                           it has matched its CRC-32; none: "
	       "trust the archive\n"
	       "    -o threads=N           threads doing CPU-heavy work at "
	       "once, 1 to 256\n"
	       "                           (default: the CPUs this process "
	       "may use);\n"
	       "                           max_threads=N is the same\n"
	       "    -o uid=N               owner of every file (default: "
	       "the mounting user)\n"
	       "    -o gid=N               group of every file (default: "
	       "the mounting group)\n"
	       "    -o inflate_cache=SIZE  memory for random access into DEFLATE "
	       "entries,\n"
	       "                           all entries together (default 64M)\n"
	       "    -o idle_timeout=SECONDS\n"
	       "                           unmount after SECONDS without "
	       "requests and with\n"
	       "                           nothing open (default 0: never)\n"
	       "    -o readahead=SIZE      the mount's readahead window "
	       "(default 1M; 0: the\n"
	       "                           kernel's, 128K); setting it "
	       "takes root\n"
	       "    -o store_max=SIZE      entries up to SIZE go into the page "
	       "cache whole,\n"
	       "                           from the pass that verified them; "
	       "their buffers\n"
	       "                           (2 MiB steps) take at most SIZE at "
	       "once\n"
	       "                           (default 64M, at most 1G, 0: off)\n"
	       "    -o fd_per_open         each open file reads through a "
	       "descriptor of its\n"
	       "                           own (costs an open and a release "
	       "request per file)\n"
	       "    -o max_archives=N      a FOLDER: archives open at once, "
	       "least recently\n"
	       "                           used released first (default "
	       "256)\n"
	       "    -o archive_memory=SIZE a FOLDER: memory for the indexes "
	       "and DEFLATE access\n"
	       "                           points of open archives\n"
	       "                           (default 1G, at least 1M)\n"
	       "    -o cache_size=SIZE     URL archives: memory for blocks "
	       "of the object\n"
	       "                           (default 64M, at least 1M)\n"
	       "    -o retries=N           URL archives: tries after a "
	       "failed request\n"
	       "                           (timeouts, resets, 5xx, 429; "
	       "default 4)\n"
	       "    -o timeout=SECONDS     URL archives: to connect, and "
	       "without a byte,\n"
	       "                           before a try fails (default 30)\n"
	       "    -o anonymous           s3:// archives: unsigned requests "
	       "(public objects)\n"
	       "    -o ro                  accepted; the mount is always "
	       "ro,nodev,nosuid\n"
	       "    -o rw                  refused (mount(8) passes it "
	       "unless ro is given)\n"
	       "    -o dev,suid,exec,auto,noauto,nofail,user,users,_netdev,"
	       "defaults,relatime,\n"
	       "       x-*,comment=...     accepted and ignored, for "
	       "mount(8) and fstab\n"
	       "\n"
	       "exit status:\n"
	       "    0  success (the mount is ready; in the foreground: "
	       "unmounted cleanly)\n"
	       "    1  usage error\n"
	       "    2  the archive (or folder) cannot be opened\n"
	       "    3  the file is not a usable archive\n"
	       "    4  the mount failed (mount point, /dev/fuse, mount, "
	       "session)\n"
	       "    5  the server refused the URL or has no such object "
	       "(HTTP 401, 403, 404)\n"
	       "\n"
	       "FUSE options:\n",
	       progname);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

void ozxfs_opts_version(void)
{
	printf("ozxfs %s\n", PACKAGE_VERSION);
	printf("libfuse %s\n", fuse_pkgversion());
	/* Next comes fusermount3's own output: keep the order. */
	fflush(stdout);
	fuse_lowlevel_version();
}
