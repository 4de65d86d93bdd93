/*
 * cpus.h - how many CPUs this process may use (cpus.c), for the daemon and
 * the ozx tool alike.
 */
#ifndef OZX_CPUS_H
#define OZX_CPUS_H

/*
 * The CPUs this process may run on (sched_getaffinity, else the online
 * CPUs), fewer if its cgroup or an ancestor has a CPU quota (cgroup v2
 * cpu.max, v1 cpu.cfs_quota_us; whole CPUs, rounded up).  At least 1, at
 * most max.
 */
unsigned cpus_usable(unsigned max);

#endif /* OZX_CPUS_H */
