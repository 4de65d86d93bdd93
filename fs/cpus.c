/*
 * cpus.c - how many CPUs this process may use, for both programs: the
 * daemon's default -o threads and ozx check's default --jobs.
 *
 * Not the host's core count: the CPUs the process may run on (its
 * affinity mask, as taskset and Slurm set it) and, fewer still, the CPU
 * quota of its cgroup, as a container runtime sets it.  No FUSE in here.
 */
#include "config.h"

#include "cpus.h"

#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Undo the octal escapes of /proc/self/mountinfo (\040 a space) in place. */
static void unescape_mountinfo(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/* Whether the comma-separated list holds item. */
static bool has_item(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (; list; list = strchr(list, ',') ? strchr(list, ',') + 1 : NULL) {
		if (strncmp(list, item, n) == 0 &&
		    (list[n] == ',' || list[n] == '\0'))
			return true;
	}
	return false;
}

/* Whole CPUs, rounded up, of a quota per period; 0 for no limit. */
static unsigned quota_cpus(long long quota, long long period)
{
	unsigned long long n;

	if (quota <= 0 || period <= 0)
		return 0;
	n = ((unsigned long long)quota + (unsigned long long)period - 1) /
	    (unsigned long long)period;
	return n > UINT_MAX ? UINT_MAX : (unsigned)n;
}

static bool read_ll(const char *file, long long *v)
{
	FILE *f = fopen(file, "re");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%lld", v) == 1;
	fclose(f);
	return ok;
}

/* The CPU quota of one cgroup directory, in CPUs; 0 for none. */
static unsigned dir_quota(const char *dir, bool v2)
{
	char file[PATH_MAX + 32];
	long long quota = -1, period = 0;
	FILE *f;

	if (v2) {
		snprintf(file, sizeof(file), "%s/cpu.max", dir);
		f = fopen(file, "re");
		if (!f)
			return 0;
		/* "max 100000" fails the scan: no limit here. */
		if (fscanf(f, "%lld %lld", &quota, &period) != 2)
			quota = -1;
		fclose(f);
		return quota_cpus(quota, period);
	}
	/* cgroup v1: a quota of -1 is no limit. */
	snprintf(file, sizeof(file), "%s/cpu.cfs_quota_us", dir);
	if (!read_ll(file, &quota))
		return 0;
	snprintf(file, sizeof(file), "%s/cpu.cfs_period_us", dir);
	if (!read_ll(file, &period))
		return 0;
	return quota_cpus(quota, period);
}

/*
 * The smallest quota of the cgroup path (as /proc/self/cgroup names it)
 * and its ancestors, in the hierarchy whose directory root is mounted on
 * mnt.  A container may see its own subtree only: root is then its path.
 */
static unsigned hierarchy_quota(const char *mnt, const char *root,
				const char *path, bool v2)
{
	const char *prefix = strcmp(mnt, "/") ? mnt : "";
	size_t rlen = strlen(root), top = strlen(prefix);
	unsigned best = 0, n;
	char dir[PATH_MAX];
	char *slash;

	if (strcmp(root, "/") != 0) {
		if (strncmp(path, root, rlen) != 0 ||
		    (path[rlen] != '/' && path[rlen] != '\0'))
			return 0;
		path += rlen;
	}
	if (strcmp(path, "/") == 0)
		path = "";
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", prefix, path) >=
	    sizeof(dir))
		return 0;
	for (;;) {
		n = dir_quota(dir[0] ? dir : "/", v2);
		if (n > 0 && (best == 0 || n < best))
			best = n;
		slash = strrchr(dir, '/');
		if (strlen(dir) <= top || !slash || (size_t)(slash - dir) < top)
			break;
		*slash = '\0';
	}
	return best;
}

/*
 * The CPU time this process may use, in whole CPUs rounded up: the smallest
 * quota of its cgroup and every ancestor, under cgroup v2 (cpu.max) and v1
 * (cpu.cfs_quota_us, as Slurm and older container hosts set), or 0 if there
 * is none.  The hierarchies are found in /proc/self/mountinfo, not assumed
 * at /sys/fs/cgroup: hybrid hosts put v2 at /sys/fs/cgroup/unified and the
 * v1 cpu controller at /sys/fs/cgroup/cpu,cpuacct or elsewhere.
 */
static unsigned cgroup_cpus(void)
{
	char *line = NULL, *v1 = NULL, *v2 = NULL, *ctl, *path, *sep;
	char *f_root, *f_mnt, *fstype, *super, *save;
	unsigned best = 0, n;
	size_t cap = 0;
	FILE *f;
	int i;

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return 0;
	/* "0::PATH" (v2), "N:cpu,cpuacct:PATH" (v1 with the cpu controller) */
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		ctl = strchr(line, ':');
		path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path || path[1] != '/')
			continue;
		*path++ = '\0';
		ctl++;
		if (*ctl == '\0' && !v2)
			v2 = strdup(path);
		else if (has_item(ctl, "cpu") && !v1)
			v1 = strdup(path);
	}
	fclose(f);
	if (!v1 && !v2)
		goto out_free;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		goto out_free;
	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - TYPE SRC SUPER */
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		fstype = strtok_r(sep + 3, " ", &save);
		super = fstype ? strtok_r(NULL, " ", &save) : NULL;
		super = super ? strtok_r(NULL, " ", &save) : NULL;
		f_root = f_mnt = NULL;
		for (i = 0, path = strtok_r(line, " ", &save); path && i < 5;
		     i++, path = strtok_r(NULL, " ", &save)) {
			if (i == 3)
				f_root = path;
			else if (i == 4)
				f_mnt = path;
		}
		if (!fstype || !f_mnt)
			continue;
		unescape_mountinfo(f_root);
		unescape_mountinfo(f_mnt);
		n = 0;
		if (v2 && strcmp(fstype, "cgroup2") == 0)
			n = hierarchy_quota(f_mnt, f_root, v2, true);
		else if (v1 && strcmp(fstype, "cgroup") == 0 && super &&
			 has_item(super, "cpu"))
			n = hierarchy_quota(f_mnt, f_root, v1, false);
		if (n > 0 && (best == 0 || n < best))
			best = n;
	}
	fclose(f);
out_free:
	free(line);
	free(v1);
	free(v2);
	return best;
}

unsigned cpus_usable(unsigned max)
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
	if (max < 1)
		max = 1;
	return n > (long)max ? max : (unsigned)n;
}
