/*
 * main.c - the life cycle of an ozxfs mount.
 *
 * Everything that can fail because of the command line, the archive or the
 * mount point fails before the daemon forks, so it is reported on stderr
 * with a distinct exit status, and when "ozxfs ARCHIVE MNT" returns 0 the
 * archive is indexed and mounted.  In order: parse, open the archive, check
 * the mount point and /dev/fuse, create the session, mount, daemonize (log
 * to syslog from then on), serve until unmounted or signalled, unwind.
 */
#include "config.h"

#include "ozxfs.h"
#include "opts.h"
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* Hidden entries listed one per line at start-up before "... and N more". */
#define OZXFS_HIDDEN_SHOWN 20

/* Static: its atomics start out zero (see ozxfs.h). */
static struct ozxfs ozxfs;

/* Where fuse_log() goes: stderr until daemonized, then syslog. */
static bool log_syslog;
static enum fuse_log_level log_max = FUSE_LOG_NOTICE;
static bool log_midline; /* under flockfile(stderr) */

__attribute__((format(printf, 2, 0))) static void
log_func(enum fuse_log_level level, const char *fmt, va_list ap)
{
	size_t len = strlen(fmt);

	if (level > log_max)
		return;
	if (log_syslog) {
		/* fuse_log levels are syslog's priorities, in order. */
		vsyslog((int)level, fmt, ap);
		return;
	}
	/* libfuse builds some lines from several calls: prefix the first. */
	flockfile(stderr);
	if (!log_midline)
		fputs("ozxfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	log_midline = len > 0 && fmt[len - 1] != '\n';
	funlockfile(stderr);
}

/*
 * Make sure descriptors 0-2 are open (on /dev/null if need be), so that no
 * descriptor of ours is later mistaken for stdin, stdout or stderr.
 */
static int guard_std_fds(void)
{
	int fd;

	do {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			return -errno;
	} while (fd <= 2);
	close(fd);
	return 0;
}

/*
 * Raise the descriptor limit as far as allowed and return how many open
 * files may hold a descriptor of their own: half the limit less some room
 * for libfuse, at least 16 (past the budget they share one descriptor).
 */
static unsigned fd_budget(void)
{
	struct rlimit rl;
	rlim_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 16;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	n = rl.rlim_cur;
	if (n == RLIM_INFINITY || n > (rlim_t)1 << 24)
		n = (rlim_t)1 << 24;
	return n / 2 > 16 + 32 ? (unsigned)(n / 2 - 32) : 16;
}

/*
 * The CPU time this process may use under cgroup v2, in whole CPUs rounded
 * up: the smallest cpu.max quota of its cgroup and every ancestor, or 0 if
 * there is none (or no cgroup v2).
 */
static unsigned cgroup_cpus(void)
{
	char line[PATH_MAX + 8], file[PATH_MAX + 64], *path = NULL, *slash;
	unsigned long long quota, period;
	unsigned best = 0, n;
	FILE *f;

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			path = line + 3;
			path[strcspn(path, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
	if (!path || path[0] != '/')
		return 0;
	for (;;) {
		snprintf(file, sizeof(file), "/sys/fs/cgroup%s/cpu.max",
			 strcmp(path, "/") ? path : "");
		f = fopen(file, "re");
		if (f) {
			if (fscanf(f, "%llu %llu", &quota, &period) == 2 &&
			    period > 0) {
				n = (unsigned)((quota + period - 1) / period);
				if (n > OZXFS_MAX_THREADS)
					n = OZXFS_MAX_THREADS;
				if (n > 0 && (best == 0 || n < best))
					best = n;
			}
			/* "max PERIOD" fails the scan: no limit here. */
			fclose(f);
		}
		slash = strrchr(path, '/');
		if (!slash || slash == path)
			break;
		*slash = '\0';
	}
	return best;
}

/* Default worker threads: the CPUs this process may run on and use. */
static unsigned default_threads(void)
{
	cpu_set_t set;
	long n = 0;
	unsigned q;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	q = cgroup_cpus();
	if (q > 0 && q < n)
		n = q;
	return n > (long)OZXFS_MAX_THREADS ? OZXFS_MAX_THREADS : (unsigned)n;
}

/* Open and index the archive; returns an exit status. */
static int open_archive(struct ozxfs *fs)
{
	const char *arg = fs->opts.archive_arg;
	struct ozx_diag diag = {0};
	size_t len;
	int ret;

	fs->archive_path = realpath(arg, NULL);
	if (!fs->archive_path) {
		fuse_log(FUSE_LOG_ERR, "cannot open archive '%s': %s\n", arg,
			 strerror(errno));
		return OZXFS_EXIT_UNREADABLE;
	}
	len = strlen(fs->archive_path);
	fs->archive_esc = malloc(4 * len + 1);
	if (!fs->archive_esc) {
		fuse_log(FUSE_LOG_ERR, "cannot open archive '%s': %s\n", arg,
			 strerror(ENOMEM));
		return OZXFS_EXIT_UNREADABLE;
	}
	ozx_escape(fs->archive_path, len, fs->archive_esc, 4 * len + 1);

	ret = ozx_archive_open(fs->archive_path, &fs->archive, &diag);
	if (ret == -EINVAL || ret == -EFBIG) {
		fuse_log(FUSE_LOG_ERR,
			 "'%s' is not a usable archive: %s (at offset %llu)\n",
			 arg, diag.what ? diag.what : strerror(-ret),
			 (unsigned long long)diag.off);
		return OZXFS_EXIT_UNUSABLE;
	}
	if (ret) {
		fuse_log(FUSE_LOG_ERR, "cannot open archive '%s': %s\n", arg,
			 strerror(-ret));
		return OZXFS_EXIT_UNREADABLE;
	}
	fs->info = ozx_archive_info(fs->archive);
	ozx_archive_set_verify(fs->archive, fs->opts.verify);
	ozx_archive_set_inflate_cache(fs->archive, fs->opts.inflate_cache);
	ozx_archive_set_fail_cb(fs->archive, ozxfs_ll_fail, fs);
	return OZXFS_EXIT_OK;
}

/* Say what the index found: entries hidden, superseded, ignored data. */
static void report_archive(const struct ozxfs *fs)
{
	const struct ozx_info *info = fs->info;
	char esc[1024];
	unsigned shown = 0, hidden = 0;
	const char *why, *name;
	size_t len;
	uint32_t n;

	fuse_log(FUSE_LOG_INFO,
		 "archive '%s': %u records, %u files, %u directories%s%s\n",
		 fs->archive_esc, info->nrecords, info->nfiles, info->ndirs,
		 info->zip64 ? ", ZIP64" : "",
		 info->rfc9_json ? ", RFC-9 comment" : "");
	for (n = 0; n < info->nnodes && hidden < info->nhidden; n++) {
		why = ozx_node_hidden_why(fs->archive, n);
		if (!why)
			continue;
		hidden++;
		if (shown == OZXFS_HIDDEN_SHOWN)
			continue;
		name = ozx_node_name(fs->archive, n, &len);
		if (!name)
			continue;
		ozx_escape(name, len, esc, sizeof(esc));
		fuse_log(FUSE_LOG_WARNING, "entry '%s' in '%s' is hidden: %s\n",
			 esc, fs->archive_esc, why);
		shown++;
	}
	if (info->nhidden > shown)
		fuse_log(FUSE_LOG_WARNING,
			 "... %u hidden entries in '%s' in all\n",
			 info->nhidden, fs->archive_esc);
	if (info->nduplicates)
		fuse_log(FUSE_LOG_WARNING,
			 "superseded records in '%s': %u (a later record has "
			 "the same name)\n",
			 fs->archive_esc, info->nduplicates);
	if (info->ndirdata)
		fuse_log(FUSE_LOG_WARNING,
			 "directory records with data in '%s': %u (the data is "
			 "ignored)\n",
			 fs->archive_esc, info->ndirdata);
}

/* A clear message for the usual mount point mistakes; 0 or -1. */
static int check_mountpoint(const char *mnt)
{
	struct stat st;
	unsigned devfd;
	char c;
	int fd;

	/* mount.fuse3 -o drop_privileges passes an open /dev/fuse. */
	if (sscanf(mnt, "/dev/fd/%u%c", &devfd, &c) == 1)
		return 0;
	if (stat(mnt, &st)) {
		if (errno == ENOENT)
			fuse_log(FUSE_LOG_ERR,
				 "mount point '%s' does not exist\n", mnt);
		else if (errno == ENOTCONN)
			goto out_dead;
		else
			fuse_log(FUSE_LOG_ERR,
				 "cannot access mount point '%s': %s\n", mnt,
				 strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fuse_log(FUSE_LOG_ERR, "mount point '%s' is not a directory\n",
			 mnt);
		return -1;
	}
	/*
	 * A FUSE mount whose daemon died may still stat from the kernel's
	 * cache (ours never expires), but opening it asks the daemon.
	 */
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	else if (errno == ENOTCONN)
		goto out_dead;
	return 0;
out_dead:
	fuse_log(FUSE_LOG_ERR,
		 "mount point '%s' is a dead FUSE mount (clear it with "
		 "'fusermount3 -u')\n",
		 mnt);
	return -1;
}

/*
 * libfuse opens /dev/fuse itself (root and, before it calls fusermount3,
 * everyone else), so it must open for us too.
 */
static int check_dev_fuse(void)
{
	int fd;

	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fuse_log(FUSE_LOG_ERR, "/dev/fuse is not available: %s\n",
			 strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The mount options ozxfs always uses, put first so that an explicit
 * fsname= or subtype= still wins.  0 or -1.
 */
static int add_mount_opts(struct fuse_args *args, const char *archive)
{
	char *opts = NULL, *fsname;
	int ret = -1;

	if (asprintf(&fsname, "fsname=%s", archive) < 0)
		return -1;
	if (fuse_opt_add_opt(&opts, "ro,nosuid,nodev,default_permissions") ||
	    fuse_opt_add_opt_escaped(&opts, fsname) ||
	    fuse_opt_add_opt(&opts, "subtype=ozxfs"))
		goto out_free;
	if (fuse_opt_insert_arg(args, 1, "-o") ||
	    fuse_opt_insert_arg(args, 2, opts))
		goto out_free;
	ret = 0;
out_free:
	free(opts);
	free(fsname);
	return ret;
}

static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *cmd,
		 unsigned threads)
{
	struct fuse_loop_config *cfg;
	int ret;

	if (cmd->singlethread)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)cmd->clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, threads);
	/* Keep the workers: starting one costs more than a request. */
	fuse_loop_cfg_set_idle_threads(cfg, cmd->max_idle_threads != UINT_MAX
						? cmd->max_idle_threads
						: threads);
	ret = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd;
	struct ozxfs *fs = &ozxfs;
	struct fuse_session *se;
	unsigned threads;
	int status, ret;

	fuse_set_log_func(log_func);
	memset(&cmd, 0, sizeof(cmd));
	ret = guard_std_fds();
	if (ret) {
		/* stderr may well be closed: nothing to say. */
		status = OZXFS_EXIT_MOUNT;
		goto out_free_args;
	}

	status = OZXFS_EXIT_USAGE;
	if (ozxfs_opts_parse(&args, &fs->opts))
		goto out_free_opts;
	if (fs->opts.show_help) {
		ozxfs_opts_help(argv[0]);
		status = OZXFS_EXIT_OK;
		goto out_free_opts;
	}
	if (fs->opts.show_version) {
		ozxfs_opts_version();
		status = OZXFS_EXIT_OK;
		goto out_free_opts;
	}

	/* Before the mount and the fork: errors reach the user, cwd too. */
	status = open_archive(fs);
	if (status)
		goto out_free_archive;

	status = OZXFS_EXIT_MOUNT;
	if (check_mountpoint(fs->opts.mountpoint_arg))
		goto out_free_archive;

	status = OZXFS_EXIT_USAGE;
	if (add_mount_opts(&args, fs->archive_path)) {
		fuse_log(FUSE_LOG_ERR, "out of memory\n");
		goto out_free_archive;
	}
	if (fuse_parse_cmdline(&args, &cmd))
		goto out_free_cmd;
	if (!cmd.mountpoint) {
		fuse_log(FUSE_LOG_ERR,
			 "missing mount point (try 'ozxfs --help')\n");
		goto out_free_cmd;
	}
	if (cmd.debug)
		log_max = FUSE_LOG_DEBUG;
	report_archive(fs);

	fs->fd_budget = fd_budget();
	threads = fs->opts.threads ? fs->opts.threads : default_threads();
	fuse_log(FUSE_LOG_INFO,
		 "%u worker threads, up to %u archive descriptors\n",
		 cmd.singlethread ? 1 : threads, fs->fd_budget);

	status = OZXFS_EXIT_MOUNT;
	if (check_dev_fuse())
		goto out_free_cmd;

	/* fuse_session_new() fails mostly on options it does not know. */
	status = OZXFS_EXIT_USAGE;
	se = ozxfs_ll_session_new(&args, fs);
	if (!se)
		goto out_free_cmd;

	status = OZXFS_EXIT_MOUNT;
	if (fuse_set_signal_handlers(se)) {
		fuse_log(FUSE_LOG_ERR, "cannot set signal handlers\n");
		goto out_destroy_session;
	}
	if (fuse_session_mount(se, cmd.mountpoint)) {
		fuse_log(FUSE_LOG_ERR, "cannot mount '%s' on '%s'\n",
			 fs->archive_esc, cmd.mountpoint);
		goto out_remove_handlers;
	}
	if (fuse_daemonize(cmd.foreground)) {
		fuse_log(FUSE_LOG_ERR, "cannot go into the background\n");
		goto out_unmount;
	}
	if (!cmd.foreground) {
		openlog("ozxfs", LOG_PID, LOG_DAEMON);
		log_max = FUSE_LOG_INFO;
		log_syslog = true;
	}

	/* Until fusermount3 -u (0) or SIGINT, SIGTERM, SIGHUP (> 0). */
	ret = serve(se, &cmd, threads);
	if (ret < 0)
		fuse_log(FUSE_LOG_ERR, "session on '%s' failed: %s\n",
			 cmd.mountpoint, strerror(-ret));
	status = ret < 0 ? OZXFS_EXIT_MOUNT : OZXFS_EXIT_OK;

out_unmount:
	fuse_session_unmount(se);
out_remove_handlers:
	fuse_remove_signal_handlers(se);
out_destroy_session:
	ozxfs_ll_session_destroy(se, fs);
out_free_cmd:
	free(cmd.mountpoint);
out_free_archive:
	ozx_archive_free(fs->archive);
	free(fs->archive_esc);
	free(fs->archive_path);
out_free_opts:
	ozxfs_opts_free(&fs->opts);
	if (log_syslog)
		closelog();
out_free_args:
	fuse_opt_free_args(&args);
	return status;
}
