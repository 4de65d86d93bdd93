/*
 * idle.c - unmount the tree after -o idle_timeout=SECONDS of disuse.
 *
 * What "idle" means.  The daemon sees only requests: the kernel serves
 * whatever it has cached (and nothing on this mount ever expires) without
 * asking.  So the timer asks two questions, each of the party that knows:
 *
 *  - Has a request come in the last SECONDS?  Every operation that serves
 *    a reader sets fs->active (ozxfs_idle_touch in ozxfs.h); the timer
 *    clears it every quarter of SECONDS and remembers when it last found it
 *    set.  A job that opens its files one after the other keeps the mount
 *    even though, between two files, nothing is open.
 *  - Is anything still using the mount?  That is the kernel's to say, and
 *    it says so exactly: the unmount is a plain umount2(2), not MNT_DETACH,
 *    and fails with EBUSY while any file or directory on the mount is open
 *    (read or not: an open file that is never read sends no request), any
 *    process has its working directory there, or anything is mounted below
 *    it, in this or a propagated copy of the mount.  A count of our own open
 *    files would race with the next open; the kernel's check does not.
 *    After EBUSY the timer waits for another SECONDS of quiet.
 *
 * How it ends.  Unmounting the way "fusermount3 -u" does makes the session
 * end the way it does after "fusermount3 -u": the kernel ends the
 * connection, the workers' reads of /dev/fuse fail with ENODEV, the session
 * loop returns 0 and main() unwinds and exits with status 0.
 * fuse_session_exit() would leave a dead mount behind, and libfuse's
 * fuse_session_unmount() detaches lazily, busy or not.  Root, including
 * root in a user namespace (which owns the mounts it made), calls
 * umount2(2); everyone else gets EPERM there and runs fusermount3 -u, as
 * libfuse itself does.
 *
 * Whose mount.  Before unmounting, the timer checks that the mount point
 * still shows this mount (the same st_dev, read with AT_STATX_DONT_SYNC,
 * which costs no request): if something was mounted over it, or the mount
 * was moved, the timer stops rather than unmount somebody else's file
 * system.  If the tree is also bind-mounted elsewhere (into a container's
 * mount namespace), unmounting the original leaves the session serving the
 * others; the timer has done its part, and the daemon ends when the last of
 * them is unmounted.
 */
#include "config.h"

#include "idle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bdi.h"

extern char **environ;

/* The timer looks every quarter of the timeout, within these bounds (ms). */
#define IDLE_TICK_MIN 250
#define IDLE_TICK_MAX 60000

struct ozxfs_idle {
	struct ozxfs *fs;
	char *mountpoint; /* absolute, as mounted */
	dev_t dev;	  /* st_dev of the mount's root */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	bool stop; /* under lock: ozxfs_idle_free() wants the thread */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run "fusermount3 -u -q -- mnt" (not lazy).  Returns 0 if it succeeded,
 * -EBUSY if it failed (it does not say why; busy is by far the likeliest),
 * -ECHILD if its status is lost (SIGCHLD ignored), or the -errno of
 * posix_spawnp(3).
 */
static int fusermount_unmount(const char *mnt)
{
	char *argv[] = { "fusermount3", "-u", "-q", "--", (char *)mnt, NULL };
	posix_spawnattr_t attr;
	sigset_t none;
	int ret, status;
	pid_t pid;

	ret = posix_spawnattr_init(&attr);
	if (ret)
		return -ret;
	/* This thread blocks every signal; fusermount3 need not. */
	sigemptyset(&none);
	ret = posix_spawnattr_setsigmask(&attr, &none);
	if (!ret)
		ret = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	if (!ret)
		ret = posix_spawnp(&pid, argv[0], NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (ret)
		return -ret;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBUSY;
}

/*
 * Unmount the tree unless something uses it.  Returns 0 once unmounted,
 * -EBUSY if in use, -ESTALE if the mount point no longer shows this mount,
 * or another -errno if the unmount could not be tried.
 */
static int idle_unmount(struct ozxfs_idle *idle)
{
	dev_t dev;
	int ret;

	ret = ozxfs_mount_dev(idle->mountpoint, &dev);
	if (ret)
		return ret == -ENOENT ? -ESTALE : ret;
	if (dev != idle->dev)
		return -ESTALE;
	if (umount2(idle->mountpoint, UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	ret = fusermount_unmount(idle->mountpoint);
	if (ret == -ECHILD) {
		/* Its status is lost: look whether the mount is still there. */
		ret = ozxfs_mount_dev(idle->mountpoint, &dev) == 0 &&
				      dev == idle->dev ?
			      -EBUSY :
			      0;
	}
	return ret;
}

static void *idle_main(void *arg)
{
	struct ozxfs_idle *idle = arg;
	struct ozxfs *fs = idle->fs;
	const int64_t timeout = (int64_t)fs->opts.idle_timeout * 1000;
	int64_t tick = timeout / 4, last, next, now;
	bool logged = false;
	struct timespec until;
	int ret;

	if (tick < IDLE_TICK_MIN)
		tick = IDLE_TICK_MIN;
	if (tick > IDLE_TICK_MAX)
		tick = IDLE_TICK_MAX;
	last = now_ms();
	next = last + tick;

	pthread_mutex_lock(&idle->lock);
	while (!idle->stop) {
		now = now_ms();
		if (now < next) {
			until.tv_sec = (time_t)(next / 1000);
			until.tv_nsec = (long)(next % 1000) * 1000000;
			pthread_cond_timedwait(&idle->cond, &idle->lock,
					       &until);
			continue;
		}
		next = now + tick;
		if (atomic_exchange_explicit(&fs->active, false,
					     memory_order_relaxed)) {
			last = now;
			continue;
		}
		if (now - last < timeout)
			continue;

		pthread_mutex_unlock(&idle->lock);
		ret = idle_unmount(idle);
		pthread_mutex_lock(&idle->lock);
		if (ret == 0) {
			fuse_log(FUSE_LOG_NOTICE,
				 "unmounted '%s': no use for %u s "
				 "(idle_timeout)\n",
				 idle->mountpoint, fs->opts.idle_timeout);
			break;
		}
		if (ret == -ESTALE) {
			fuse_log(FUSE_LOG_WARNING,
				 "mount point '%s' no longer shows this mount: "
				 "idle_timeout stops\n",
				 idle->mountpoint);
			break;
		}
		if (ret == -EBUSY)
			fuse_log(FUSE_LOG_DEBUG,
				 "idle for %u s, but '%s' is in use\n",
				 fs->opts.idle_timeout, idle->mountpoint);
		else if (!logged)
			fuse_log(FUSE_LOG_WARNING,
				 "cannot unmount idle '%s': %s (trying again "
				 "every %u s)\n",
				 idle->mountpoint, strerror(-ret),
				 fs->opts.idle_timeout);
		logged = logged || ret != -EBUSY;
		/* Another full timeout of quiet before the next try. */
		last = next = now_ms();
		next += tick;
	}
	pthread_mutex_unlock(&idle->lock);
	return NULL;
}

int ozxfs_idle_new(struct ozxfs *fs, const char *mountpoint,
		   struct ozxfs_idle **out)
{
	struct ozxfs_idle *idle;
	pthread_condattr_t ca;
	sigset_t all, old;
	int ret;

	*out = NULL;
	idle = calloc(1, sizeof(*idle));
	if (!idle)
		return -ENOMEM;
	idle->fs = fs;
	idle->mountpoint = strdup(mountpoint);
	if (!idle->mountpoint) {
		ret = -ENOMEM;
		goto out_free_idle;
	}
	ret = ozxfs_mount_dev(mountpoint, &idle->dev);
	if (ret)
		goto out_free_mountpoint;

	ret = -pthread_condattr_init(&ca);
	if (ret)
		goto out_free_mountpoint;
	ret = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!ret)
		ret = -pthread_cond_init(&idle->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (ret)
		goto out_free_mountpoint;
	pthread_mutex_init(&idle->lock, NULL);

	/*
	 * Signals are for the thread in the session loop, which a signal
	 * wakes to end the session (libfuse's workers block them too); one
	 * taken here would wake nobody.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&idle->thread, NULL, idle_main, idle);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto out_destroy_cond;
	*out = idle;
	return 0;

out_destroy_cond:
	pthread_mutex_destroy(&idle->lock);
	pthread_cond_destroy(&idle->cond);
out_free_mountpoint:
	free(idle->mountpoint);
out_free_idle:
	free(idle);
	return ret;
}

void ozxfs_idle_free(struct ozxfs_idle *idle)
{
	if (!idle)
		return;
	pthread_mutex_lock(&idle->lock);
	idle->stop = true;
	pthread_cond_signal(&idle->cond);
	pthread_mutex_unlock(&idle->lock);
	pthread_join(idle->thread, NULL);
	pthread_mutex_destroy(&idle->lock);
	pthread_cond_destroy(&idle->cond);
	free(idle->mountpoint);
	free(idle);
}
