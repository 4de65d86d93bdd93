/*
 * main.c - the life cycle of an ozxfs mount.
 *
 * Everything that can fail because of the command line, the archive or the
 * mount point fails before the daemon forks, so it is reported on stderr
 * with a distinct exit status, and when "ozxfs ARCHIVE MNT" returns 0 the
 * archive is indexed and mounted (a folder of archives is only opened: its
 * archives are indexed on first use, folder.c).  In order: parse, open the
 * archive, check the mount point and /dev/fuse, create the session, mount,
 * daemonize (log to syslog from then on), start the idle timer if asked,
 * serve until unmounted (by anyone, or by the idle timer) or signalled,
 * unwind.
 *
 * A signal (SIGTERM, SIGINT, SIGHUP) ends the session loop, and libfuse's
 * fuse_session_unmount() then detaches the mount lazily (MNT_DETACH, or
 * fusermount3 -u -z): a busy mount never makes the daemon hang in its
 * unmount.  The name disappears at once; files still open on it fail with
 * ENOTCONN once the daemon has closed /dev/fuse, and it exits with 0.
 * The loop ends by joining its workers, and libfuse cannot interrupt a
 * worker inside a request (it runs them with cancellation disabled): so
 * the signal first cancels the archive's long passes (on_exit_signal),
 * and a worker verifying a 16 GiB entry answers within a chunk instead of
 * holding the unmount for the rest of the pass (52 s measured).
 *
 * Threads.  Waiting is not CPU work: libfuse starts another worker
 * whenever all are busy (up to OZXFS_MAX_WORKERS), so a request never
 * waits for a free worker behind others that wait for a verification;
 * the core bounds the CPU-heavy passes themselves by the CPUs the process
 * may use (ozx_archive_set_cpu_limit), so a container is not
 * oversubscribed.
 */
#include "config.h"

#include "ozxfs.h"
#include "cpus.h"
#include "esc.h"
#include "bdi.h"
#include "folder.h"
#include "idle.h"
#include "opts.h"
#include "ops.h"
#include "rfc9.h"
#include "url.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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

/* What the options ask of the archive, and where it reports. */
static void set_policy(struct ozxfs *fs)
{
	fs->arc.fs = fs;
	fs->arc.archive = fs->archive;
	fs->arc.info = fs->info;
	fs->arc.esc = fs->archive_esc;
	fs->arc.base = 0;
	ozx_archive_set_verify(fs->archive, fs->opts.verify);
	ozx_archive_set_inflate_cache(fs->archive, fs->opts.inflate_cache);
	ozx_archive_set_fail_cb(fs->archive, ozxfs_ll_fail, &fs->arc);
	ozx_archive_set_change_cb(fs->archive, ozxfs_ll_changed, &fs->arc);
	ozx_archive_set_warn_cb(fs->archive, ozxfs_ll_warn, &fs->arc);
}

/* A folder of archives: opened, nothing in it yet; an exit status. */
static int open_folder(struct ozxfs *fs)
{
	int ret = ozxfs_folder_new(fs, fs->archive_path, &fs->folder);

	if (ret) {
		fuse_log(FUSE_LOG_ERR, "cannot open folder '%s': %s\n",
			 fs->archive_esc, strerror(-ret));
		return OZXFS_EXIT_UNREADABLE;
	}
	fuse_log(FUSE_LOG_INFO,
		 "folder '%s': archives opened on first use, at most %u "
		 "at once\n",
		 fs->archive_esc, fs->opts.max_archives);
	return OZXFS_EXIT_OK;
}

/* Open and index the archive; returns an exit status. */
static int open_archive(struct ozxfs *fs)
{
	const char *arg = fs->opts.archive_arg;
	struct ozx_diag diag = { 0 };
	struct stat st;
	int ret;

	if (ozx_is_url(arg)) {
		ret = ozxfs_open_url(fs);
		if (ret == OZXFS_EXIT_OK)
			set_policy(fs);
		return ret;
	}
	fs->archive_path = realpath(arg, NULL);
	if (!fs->archive_path) {
		fuse_log(FUSE_LOG_ERR, "cannot open archive '%s': %s\n", arg,
			 strerror(errno));
		return OZXFS_EXIT_UNREADABLE;
	}
	fs->archive_esc = esc_dup(fs->archive_path, strlen(fs->archive_path));
	if (!fs->archive_esc) {
		fuse_log(FUSE_LOG_ERR, "cannot open archive '%s': %s\n", arg,
			 strerror(ENOMEM));
		return OZXFS_EXIT_UNREADABLE;
	}
	if (stat(fs->archive_path, &st) == 0 && S_ISDIR(st.st_mode))
		return open_folder(fs);

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
	set_policy(fs);
	return OZXFS_EXIT_OK;
}

/* Say what the index found: entries hidden, superseded, ignored data. */
static void report_archive(const struct ozxfs *fs)
{
	const struct ozx_info *info = fs->info;
	struct ozx_rfc9_comment rc;
	char esc[1024];
	unsigned shown = 0, hidden = 0;
	const char *why, *name;
	size_t len;
	uint32_t n;

	ozx_rfc9_comment_read(info, &rc);
	fuse_log(FUSE_LOG_INFO,
		 "archive '%s': %u records, %u files, %u directories%s%s\n",
		 fs->archive_esc, info->nrecords, info->nfiles, info->ndirs,
		 info->zip64 ? ", ZIP64" : "",
		 rc.json ? ", RFC-9 comment" : "");
	for (unsigned w = 1; w & OZX_WARN_ALL; w <<= 1) {
		if (info->warn & w)
			fuse_log(FUSE_LOG_WARNING, "archive '%s': %s\n",
				 fs->archive_esc,
				 ozx_warn_describe(info, (enum ozx_warn)w, esc,
						   sizeof(esc)));
	}
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

/* mount.fuse3 -o drop_privileges passes an open /dev/fuse as /dev/fd/N. */
static bool is_dev_fd(const char *mnt)
{
	unsigned devfd;
	char c;

	return sscanf(mnt, "/dev/fd/%u%c", &devfd, &c) == 1;
}

/* A clear message for the usual mount point mistakes; 0 or -1. */
static int check_mountpoint(const char *mnt)
{
	struct stat st;
	int fd;

	if (is_dev_fd(mnt))
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

/* The exit signals, and libfuse's handlers of them that ours call. */
static const int exit_signals[] = { SIGHUP, SIGINT, SIGTERM };
#define N_EXIT_SIGNALS (sizeof(exit_signals) / sizeof(exit_signals[0]))
static struct sigaction fuse_exit_sa[N_EXIT_SIGNALS];
static bool chained[N_EXIT_SIGNALS];

/* Cancel first (only a flag), then what libfuse does: end the loop. */
static void on_exit_signal(int sig)
{
	if (ozxfs.archive)
		ozx_archive_cancel(ozxfs.archive);
	if (ozxfs.folder)
		ozxfs_folder_cancel(ozxfs.folder);
	/* A URL's requests too: a stalled server must not hold the exit. */
	ozx_remote_cancel(ozxfs.remote);
	for (size_t i = 0; i < N_EXIT_SIGNALS; i++)
		if (exit_signals[i] == sig && chained[i])
			fuse_exit_sa[i].sa_handler(sig);
}

/*
 * Put on_exit_signal() in front of the handlers fuse_set_signal_handlers()
 * installed; where it installed none (the signal was ignored, as a shell
 * does for background jobs), leave it so.  0 or -1.
 */
static int chain_signal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_exit_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_EXIT_SIGNALS; i++) {
		if (sigaction(exit_signals[i], NULL, &fuse_exit_sa[i]))
			return -1;
		if (fuse_exit_sa[i].sa_handler == SIG_IGN ||
		    fuse_exit_sa[i].sa_handler == SIG_DFL ||
		    (fuse_exit_sa[i].sa_flags & SA_SIGINFO))
			continue;
		/* Its flags too: no SA_RESTART, so a blocked read of
		 * /dev/fuse returns and sees the session has ended. */
		sa.sa_flags = fuse_exit_sa[i].sa_flags;
		chained[i] = true;
		if (sigaction(exit_signals[i], &sa, NULL))
			return -1;
	}
	return 0;
}

/* Give libfuse its handlers back, for fuse_remove_signal_handlers(). */
static void unchain_signal_handlers(void)
{
	for (size_t i = 0; i < N_EXIT_SIGNALS; i++) {
		if (chained[i])
			sigaction(exit_signals[i], &fuse_exit_sa[i], NULL);
		chained[i] = false;
	}
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
	/*
	 * More workers than CPUs, as many as requests wait: one that waits
	 * for another's verification must not leave ls or a small file
	 * waiting for a worker (41 s measured with 2 workers, issue 14).
	 * The CPU work is bounded in the core instead.
	 */
	fuse_loop_cfg_set_max_threads(cfg, OZXFS_MAX_WORKERS);
	/* Keep the usual workers: starting one costs more than a request. */
	fuse_loop_cfg_set_idle_threads(cfg, cmd->max_idle_threads != UINT_MAX ?
						    cmd->max_idle_threads :
						    threads);
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
	/* mount.fuse3 -o drop_privileges: no path for the timer to unmount. */
	if (fs->opts.idle_timeout && is_dev_fd(cmd.mountpoint)) {
		fuse_log(FUSE_LOG_ERR,
			 "option 'idle_timeout' needs the mount point's path, "
			 "not '%s'\n",
			 cmd.mountpoint);
		goto out_free_cmd;
	}
	if (cmd.debug)
		log_max = FUSE_LOG_DEBUG;
	if (fs->archive)
		report_archive(fs);

	fs->fd_budget = fd_budget();
	threads = fs->opts.threads ? fs->opts.threads :
				     cpus_usable(OZXFS_MAX_THREADS);
	if (cmd.singlethread)
		threads = 1;
	fs->single = cmd.singlethread;
	fs->cpu_limit = threads;
	if (fs->archive)
		ozx_archive_set_cpu_limit(fs->archive, threads);
	fuse_log(FUSE_LOG_INFO,
		 "CPU work on %u thread%s at once, up to %u worker threads, "
		 "up to %u archive descriptors\n",
		 threads, threads == 1 ? "" : "s",
		 cmd.singlethread ? 1 : OZXFS_MAX_WORKERS, fs->fd_budget);

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
	if (chain_signal_handlers()) {
		fuse_log(FUSE_LOG_ERR, "cannot set signal handlers: %s\n",
			 strerror(errno));
		goto out_remove_handlers;
	}
	if (fuse_session_mount(se, cmd.mountpoint)) {
		fuse_log(FUSE_LOG_ERR, "cannot mount '%s' on '%s'\n",
			 fs->archive_esc, cmd.mountpoint);
		goto out_remove_handlers;
	}
	/* Before the session serves, and on the terminal if it fails. */
	if (fs->opts.readahead_kib && !is_dev_fd(cmd.mountpoint))
		fs->readahead_set =
			ozxfs_bdi_set_readahead(
				cmd.mountpoint, fs->opts.readahead_kib,
				fs->opts.readahead_arg != NULL) == 0;
	if (fuse_daemonize(cmd.foreground)) {
		fuse_log(FUSE_LOG_ERR, "cannot go into the background\n");
		goto out_unmount;
	}
	if (!cmd.foreground) {
		openlog("ozxfs", LOG_PID, LOG_DAEMON);
		log_max = FUSE_LOG_INFO;
		log_syslog = true;
	}

	if (fs->opts.idle_timeout) {
		ret = ozxfs_idle_new(fs, cmd.mountpoint, &fs->idle);
		if (ret) {
			fuse_log(FUSE_LOG_ERR,
				 "cannot start the idle timer for '%s': %s\n",
				 cmd.mountpoint, strerror(-ret));
			goto out_unmount;
		}
		fuse_log(FUSE_LOG_INFO,
			 "unmounting '%s' after %u s without use\n",
			 cmd.mountpoint, fs->opts.idle_timeout);
	}

	/*
	 * Until unmounted (0: fusermount3 -u, umount, the idle timer) or
	 * SIGINT, SIGTERM, SIGHUP (> 0).
	 */
	ret = serve(se, &cmd, threads);
	ozxfs_idle_free(fs->idle);
	fs->idle = NULL;
	if (ret < 0)
		fuse_log(FUSE_LOG_ERR, "session on '%s' failed: %s\n",
			 cmd.mountpoint, strerror(-ret));
	status = ret < 0 ? OZXFS_EXIT_MOUNT : OZXFS_EXIT_OK;

out_unmount:
	fuse_session_unmount(se);
out_remove_handlers:
	unchain_signal_handlers();
	fuse_remove_signal_handlers(se);
out_destroy_session:
	ozxfs_ll_session_destroy(se, fs);
out_free_cmd:
	free(cmd.mountpoint);
out_free_archive:
	ozxfs_folder_free(fs->folder);
	ozx_archive_free(fs->archive);
	ozx_remote_free(fs->remote);
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
