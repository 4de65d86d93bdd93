#!/usr/bin/env bash
# threads.sh - CPU-heavy work follows the CPUs the daemon may use: its CPU
# affinity (taskset -c 0) and the CPU quota of its cgroup (v2 cpu.max, or
# v1 cpu.cfs_quota_us as Slurm sets it), where a cgroup with a quota can be
# made here; -o threads=N overrides it.  Under concurrent readers of
# entries whose verification is CPU-heavy, the worker pool grows (waiting
# is not CPU work), but no more threads run at once than that number.
# ozx check, in the same cgroup, verifies on one thread.

. "$(dirname "$0")/sys.sh"
. "$SYS_DIR/../mount/lib.sh"
require_mount
command -v taskset >/dev/null || skip "taskset (util-linux) is missing"
NCPU=$(nproc) || fail nproc
[ "$NCPU" -ge 2 ] || skip "this process may use only $NCPU CPU: a limit of one would not show"

MNT=$W/mnt
NREADERS=8
A=$W/threads.ozx
# big, big2 ... big8: 256 MiB of zeros each, DEFLATE; each verification
# is a CPU pass of about half a second.
"$PY" "$SYS_DIR/../mount/mkzeros.py" "$A" 256 "$NREADERS" || fail "mkzeros.py failed"

# logged_threads: N from the daemon's "CPU work on N thread(s)" line (-d).
logged_threads()
{
	sed -n 's/^ozxfs: CPU work on \([0-9][0-9]*\) threads\{0,1\} at once, .*/\1/p' "$LOG" | head -n 1
}

# running_tids PID: the threads of PID that are running or runnable.
running_tids()
{
	local f st
	for f in /proc/"$1"/task/*/stat; do
		read -r st <"$f" 2>/dev/null || continue
		[ "${st##*) R }" != "$st" ] && echo "${st%% *}"
	done
}

# max_running_under_load: start one reader on each big entry at once and,
# until all are done, print the most daemon threads found running in two
# samples 0.05 s apart (a pass; a thread starting, ending or serving a
# read is not running that long), and the most threads it had.
max_running_under_load()
{
	local i p
	# Globals of this subshell ($(...)), kept by sample_until_done.
	MAX=0 MOST=0 PREV="" READERS=()
	# Names first: the readers' lookups would be running threads too.
	stat "$MNT"/big* >/dev/null || fail "stat of the big entries"
	for i in $(seq 1 $NREADERS); do
		p=big$i
		[ "$i" -eq 1 ] && p=big
		head -c 65536 "$MNT/$p" >"$W/out.$i" &
		READERS+=($!)
	done
	wait_until 600 sample_until_done || fail "readers still reading after 600 s"
	for i in "${READERS[@]}"; do
		wait "$i" || fail "a reader failed"
	done
	for i in $(seq 1 $NREADERS); do
		cmp -n 65536 /dev/zero "$W/out.$i" || fail "reader $i read other bytes"
	done
	echo "$MAX $MOST"
}

# sample_until_done: one sample for max_running_under_load (the threads
# running now that were running at the last sample, into MAX; the
# daemon's threads, into MOST); succeeds once every reader has exited.
sample_until_done()
{
	local cur i n=0 t
	local -a tasks
	cur=$(running_tids "$OZX_PID")
	if [ -n "$PREV" ] && [ -n "$cur" ]; then
		n=$(printf '%s\n' "$PREV" "$cur" | sort | uniq -d | wc -l)
	fi
	[ "$n" -gt "$MAX" ] && MAX=$n
	PREV=$cur
	tasks=(/proc/"$OZX_PID"/task/*)
	t=${#tasks[@]}
	[ "$t" -gt "$MOST" ] && MOST=$t
	for i in "${READERS[@]}"; do
		pid_alive "$i" && return 1
	done
	return 0
}

# expect_cpu WANT WHAT: the daemon on MNT chose WANT threads for CPU work
# and, under load, never had more than WANT threads running.
expect_cpu()
{
	local want=$1 got max
	check "$2: CPU work on $want thread(s), at most $want running under $NREADERS readers"
	got=$(logged_threads)
	[ -n "$got" ] || { show_log; fail "no 'CPU work on' line in the daemon's log"; }
	[ "$got" -eq "$want" ] || fail "the daemon chose $got threads for CPU work, want $want"
	max=$(max_running_under_load) || fail "reading under load failed"
	[ "${max% *}" -le "$want" ] ||
		fail "the daemon had ${max% *} threads running at once, want at most $want"
	ok "CPU work on $got thread(s); ${max% *} running at most, ${max#* } threads at most"
}

check "=== no limit: at most the $NCPU CPUs this test may use ==="
mount_ozx "$A" "$MNT" -d
got=$(logged_threads)
[ -n "$got" ] && [ "$got" -ge 1 ] && [ "$got" -le "$NCPU" ] ||
	fail "the daemon chose '$got' threads for CPU work, want 1 to $NCPU"
ok "CPU work on $got thread(s)"
unmount_ozx "$MNT"

check "=== taskset -c 0 ==="
OZXFS_WRAPPER="taskset -c 0 ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$MNT" -d
expect_cpu 1 "taskset -c 0"
unmount_ozx "$MNT"

check "=== taskset -c 0 with -o threads=3: the option wins ==="
OZXFS_WRAPPER="taskset -c 0 ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$MNT" -d -o threads=3
expect_cpu 3 "taskset -c 0 with -o threads=3"
unmount_ozx "$MNT"

# A cgroup of our own with a quota of one CPU: v2 where the cpu controller
# is already enabled below the root (never enabled by this test), else v1's
# cpu controller.  Removed on exit, before lib.sh's cleanup.
CG=
# shellcheck disable=SC2317 # run by the EXIT trap
cg_exit()
{
	local rc=$? p
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		for m in "${!OZX_PID_OF[@]}"; do
			fusermount3 -u -- "$m" 2>/dev/null || fusermount3 -uz -- "$m" 2>/dev/null
		done
		while read -r p; do
			kill -KILL "$p" 2>/dev/null
		done <"$CG/cgroup.procs"
		wait_until 10 cg_empty
		rmdir "$CG" 2>/dev/null || echo "cleanup: cannot remove cgroup $CG" >&2
	fi
	(exit "$rc")
	cleanup
}

# cg_empty: no process left in CG.
cg_empty()
{
	[ ! -s "$CG/cgroup.procs" ]
}

# cg_mounts: "TYPE SUPER-OPTIONS MOUNTPOINT" of every cgroup file system.
cg_mounts()
{
	awk '{ for (i = 7; i < NF && $i != "-"; i++) ;
		if ($(i + 1) ~ /^cgroup2?$/) print $(i + 1), $(i + 3), $5 }' /proc/self/mountinfo
}

# cg_can_join: a process can move itself into CG (and then leaves it).
cg_can_join()
{
	sh -c 'echo $$ >"$1/cgroup.procs"' _ "$CG" 2>/dev/null
}

cg_make()
{
	local mnt name=ozxfs-test.$$
	# v2
	mnt=$(cg_mounts | awk '$1 == "cgroup2" { print $3; exit }')
	if [ -n "$mnt" ] && grep -qw cpu "$mnt/cgroup.subtree_control" 2>/dev/null &&
		mkdir "$mnt/$name" 2>/dev/null; then
		CG=$mnt/$name
		if echo "100000 100000" >"$CG/cpu.max" && cg_can_join; then
			CGKIND="cgroup v2 cpu.max = 100000 100000"
			return 0
		fi
		rmdir "$CG"
		CG=
	fi
	# v1: the hierarchy with the cpu controller
	mnt=$(cg_mounts | awk '$1 == "cgroup" && ("," $2 ",") ~ /,cpu,/ { print $3; exit }')
	if [ -n "$mnt" ] && mkdir "$mnt/$name" 2>/dev/null; then
		CG=$mnt/$name
		if echo 100000 >"$CG/cpu.cfs_period_us" && echo 100000 >"$CG/cpu.cfs_quota_us" &&
			cg_can_join; then
			CGKIND="cgroup v1 cpu.cfs_quota_us = cpu.cfs_period_us = 100000"
			return 0
		fi
		rmdir "$CG"
		CG=
	fi
	return 1
}

check "=== a cgroup with a CPU quota of one CPU ==="
if [ "$(id -u)" -ne 0 ]; then
	# The affinity limit is tested above: still a PASS.
	not_tested "a cgroup CPU quota: not root, cannot make a cgroup"
	exit 0
fi
trap cg_exit EXIT
if ! cg_make; then
	not_tested "a cgroup CPU quota: no cgroup with a cpu controller can be made here"
	exit 0
fi
echo "note: $CG: $CGKIND"
cat >"$W/incg" <<EOF
#!/bin/sh
echo \$\$ >"$CG/cgroup.procs" || exit 99
exec "\$@"
EOF
chmod +x "$W/incg"
OZXFS_WRAPPER="$W/incg ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$MNT" -d
grep -qF "${CG##*/}" "/proc/$OZX_PID/cgroup" || fail "the daemon is not in $CG: $(cat "/proc/$OZX_PID/cgroup")"
expect_cpu 1 "a quota of one CPU"
unmount_ozx "$MNT"

# checker_done: CHECKER has exited; the most threads it had, into MOST.
checker_done()
{
	local t
	t=$(awk '$1 == "Threads:" { print $2 }' "/proc/$CHECKER/status" 2>/dev/null)
	[ -n "$t" ] && [ "$t" -gt "$MOST" ] && MOST=$t
	pid_gone "$CHECKER"
}

check "ozx check in that cgroup: one thread verifies (the main thread waits)"
if [ -z "${OZX:-}" ]; then
	not_tested "ozx check under a CPU quota: OZX is not set"
	exit 0
fi
# 40 entries: three batches of consecutive records (check.c), enough for
# more than one verifying thread where the quota allowed it.
"$PY" "$SYS_DIR/../mount/mkzeros.py" "$W/many.ozx" 64 40 || fail "mkzeros.py failed"
"$W/incg" "$OZX" check -q "$W/many.ozx" >"$W/check.out" 2>&1 &
CHECKER=$!
OZX_EXTRA_PIDS+=("$CHECKER")
MOST=0
wait_until 300 checker_done || fail "ozx check still running after 300 s"
wait "$CHECKER"
rc=$?
[ "$rc" -le 2 ] || fail "ozx check could not check (exit $rc): $(head -n 3 "$W/check.out")"
[ "$MOST" -ge 1 ] || fail "ozx check was never seen running"
[ "$MOST" -le 2 ] || fail "ozx check had $MOST threads, want at most 2 under a quota of one CPU"
ok "ozx check: $MOST thread(s) at most, exit $rc"
exit 0
