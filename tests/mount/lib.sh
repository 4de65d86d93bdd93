# lib.sh - helpers sourced by the real-mount tests (tests/mount/*.sh).
#
# A test is a bash script (make check runs it with bash, SH_LOG_COMPILER in
# Makefile.am; by hand: bash tests/mount/NAME.sh, or the script itself).
# It does:
#	. "$(dirname "$0")/lib.sh"
#	require_mount		# exit 77 (skip) where no FUSE mount is possible
#	... build fixtures under "$W", mount_ozx ARCHIVE MNT, check, unmount_ozx
#
# Environment (set by `make check`, see Makefile.am):
#	OZXFS		the daemon (required)
#	TESTDATA	tests/data of the source tree
#	TESTSRC		tests/ of the source tree
#	BUILDDIR	the top build directory
#	OZXFS_WRAPPER	optional command prefix for the daemon, for example
#			"valgrind --error-exitcode=99 --leak-check=full"
#	OZXFS_KEEP	if set, keep the work directory for inspection
#
# Synchronisation is by polling with a timeout, never by a fixed sleep.

# shellcheck disable=SC2015
set -u
set -o pipefail

PY=/usr/bin/python3
# Messages in English ("Read-only file system"); UTF-8 names printed as
# they are where a C.UTF-8 locale exists.  Sorting is always LC_ALL=C sort.
case "$(locale -a 2>/dev/null)" in
*C.utf8*|*C.UTF-8*) export LC_ALL=C.UTF-8 ;;
*) export LC_ALL=C ;;
esac

TEST_NAME=$(basename "$0" .sh)
OZX_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=
OZX_PID=
OZX_MNT=
LOG=
declare -A OZX_PID_OF=()	# mount point -> daemon pid (mounted by us)
declare -A OZX_LOG_OF=()	# mount point -> its log
declare -a OZX_EXTRA_PIDS=()	# other processes to end at cleanup
OZX_NLOG=0

skip()
{
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

# not_tested "WHAT: WHY": a part of the test that cannot run here.  The
# test goes on with its other parts (any of them may still fail it), and
# if nothing fails it ends as SKIP, naming every part not tested: a test
# never passes with a part left out.
OZX_NOT_TESTED=()
not_tested()
{
	echo "note: not tested: $*"
	OZX_NOT_TESTED+=("$*")
}

fail()
{
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# Say what is being checked (the test's log then reads as a list of claims).
check()
{
	echo "check: $*"
}

ok()
{
	echo "  ok: $*"
}

# pid_alive PID: the process exists and is not a zombie (kill -0 is not
# enough: an exited child of ours stays a zombie until we wait for it).
pid_alive()
{
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	st=${st%% *}
	[ "$st" != Z ] && [ "$st" != X ]
}

# wait_until SECONDS CMD...: the one polling loop (wait.sh).
. "$OZX_LIB_DIR/wait.sh"

# mono_ms: milliseconds of a monotonic clock (/proc/uptime, 10 ms steps).
mono_ms()
{
	local up
	read -r up _ </proc/uptime
	echo $((10#${up/./} * 10))
}

# cpu_ticks PID: the CPU time PID has used, user and system, in clock ticks.
cpu_ticks()
{
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	set -- ${st##*) }
	echo $((${12} + ${13}))
}

# cpu_at_least PID TICKS: PID has used at least TICKS of CPU (for
# wait_until: a long computation in the daemon has started).
cpu_at_least()
{
	local t
	t=$(cpu_ticks "$1") && [ "$t" -ge "$2" ]
}

pid_gone()
{
	! pid_alive "$1"
}

# wait_gone PID SECONDS: poll until PID has exited; 1 if it has not.
wait_gone()
{
	wait_until "$2" pid_gone "$1"
}

# done_or_gone PID CMD...: CMD succeeds, or PID has exited -- for
# wait_until, to stop waiting for what a dead process will never do (the
# caller then tells the two apart).
done_or_gone()
{
	local pid=$1
	shift
	"$@" || pid_gone "$pid"
}

# daemon_exit PID SECONDS: wait for the daemon PID (a child of this shell)
# to exit; its status in RC.  The mount it served is forgotten by cleanup.
daemon_exit()
{
	local pid=$1 m
	wait_gone "$pid" "$2" || { show_log; fail "daemon $pid still running after $2 s"; }
	wait "$pid"
	RC=$?
	for m in "${!OZX_PID_OF[@]}"; do
		[ "${OZX_PID_OF[$m]}" = "$pid" ] && unset "OZX_PID_OF[$m]"
	done
	return 0
}

# mi_escape PATH: PATH as /proc/self/mountinfo writes it (the kernel
# escapes these four characters).
mi_escape()
{
	local d=$1
	d=${d//\\/\\134}
	d=${d// /\\040}
	d=${d//$'\t'/\\011}
	d=${d//$'\n'/\\012}
	printf '%s\n' "$d"
}

# mountinfo_line DIR: DIR's line in /proc/self/mountinfo (the last, if
# mounted over).  Read from the table alone: nothing here stats DIR, so a
# hung daemon cannot hang the caller (mountpoint(1) would stat it).
mountinfo_line()
{
	local d=$1 p
	case $d in /*) ;; *) d=$PWD/$d ;; esac
	p=$(cd -- "$(dirname -- "$d")" 2>/dev/null && pwd -P) || return 1
	d=$(mi_escape "$p/$(basename -- "$d")")
	OZX_M=$d awk '$5 == ENVIRON["OZX_M"] { l = $0 } END { if (l == "") exit 1; print l }' \
		/proc/self/mountinfo
}

# is_mounted DIR: DIR is a mount point right now.
is_mounted()
{
	mountinfo_line "$1" >/dev/null
}

show_log()
{
	local log=${1:-$LOG}
	[ -n "$log" ] && [ -f "$log" ] || return 0
	echo "---- daemon log ($log) ----" >&2
	tail -n 60 "$log" >&2
	echo "---- end of log ----" >&2
}

# Something is still mounted below the work directory.
mounted_below_w()
{
	[ -n "$W" ] || return 1
	OZX_W=$(mi_escape "$W") awk '$5 == ENVIRON["OZX_W"] || index($5, ENVIRON["OZX_W"] "/") == 1 { f = 1 }
		END { exit !f }' /proc/self/mountinfo
}

end_pid()
{
	local pid=$1
	pid_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	if ! wait_gone "$pid" 10; then
		echo "cleanup: pid $pid ignored SIGTERM, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
		wait_gone "$pid" 10
	fi
	wait "$pid" 2>/dev/null
	return 0
}

cleanup()
{
	local rc=$? m pid
	set +e
	trap - EXIT
	exec 3<&- 4<&- 2>/dev/null
	for m in "${!OZX_PID_OF[@]}"; do
		if is_mounted "$m"; then
			echo "cleanup: unmounting $m" >&2
			fusermount3 -u -- "$m" 2>/dev/null ||
				fusermount3 -uz -- "$m" 2>/dev/null ||
				umount -l -- "$m" 2>/dev/null
		fi
	done
	for m in "${!OZX_PID_OF[@]}"; do
		end_pid "${OZX_PID_OF[$m]}"
	done
	for pid in ${OZX_EXTRA_PIDS[@]+"${OZX_EXTRA_PIDS[@]}"}; do
		end_pid "$pid"
	done
	if [ -n "$OZX_WATCHDOG" ]; then
		kill "$OZX_WATCHDOG" 2>/dev/null
		wait "$OZX_WATCHDOG" 2>/dev/null
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for m in "${!OZX_LOG_OF[@]}"; do
			show_log "${OZX_LOG_OF[$m]}"
		done
	fi
	if [ -n "$W" ] && [ -d "$W" ]; then
		if mounted_below_w; then
			echo "cleanup: something is still mounted below $W; left in place" >&2
		elif [ -n "${OZXFS_KEEP:-}" ]; then
			echo "cleanup: work directory kept: $W" >&2
		else
			rm -rf -- "$W"
		fi
	fi
	if [ "$rc" -eq 0 ] && [ ${#OZX_NOT_TESTED[@]} -gt 0 ]; then
		m=$(printf '%s; ' "${OZX_NOT_TESTED[@]}")
		echo "SKIP: $TEST_NAME: the other parts passed; not tested: ${m%; }"
		rc=77
	fi
	exit "$rc"
}

# require_mount: skip unless this process can mount a FUSE file system.
require_mount()
{
	local cap fm
	[ -x "$PY" ] || skip "$PY is missing"
	[ -n "${OZXFS:-}" ] || fail "OZXFS is not set (path of the ozxfs daemon)"
	[ -x "$OZXFS" ] || fail "daemon '$OZXFS' is missing or not executable"
	[ -c /dev/fuse ] || skip "/dev/fuse is missing"
	fm=$(command -v fusermount3) || skip "fusermount3 is missing"
	if [ "$(id -u)" -eq 0 ]; then
		# Root mounts with mount(2): CAP_SYS_ADMIN (bit 21) needed.
		cap=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
		[ -n "$cap" ] && (((0x$cap >> 21) & 1)) ||
			skip "root without CAP_SYS_ADMIN (a container?): cannot mount"
	else
		[ -u "$fm" ] || skip "not root and '$fm' is not setuid"
		grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status &&
			skip "not root and no_new_privs is set: setuid fusermount3 is powerless"
		cap=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
		[ -n "$cap" ] && (((0x$cap >> 21) & 1)) ||
			skip "CAP_SYS_ADMIN is not in the bounding set: fusermount3 cannot mount"
		# libfuse opens /dev/fuse itself before it tries fusermount3
		[ -r /dev/fuse ] && [ -w /dev/fuse ] ||
			skip "not root and /dev/fuse is not read-writable for us"
		# These tests need no allow_other; only a mount_max limit can stop
		# an unprivileged user here.
		if [ -r /etc/fuse.conf ]; then
			local max cur
			max=$(sed -n 's/^[[:space:]]*mount_max[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' /etc/fuse.conf | tail -n 1)
			cur=$(awk '$9 ~ /^fuse/ { n++ } END { print n + 0 }' /proc/self/mountinfo)
			if [ -n "$max" ] && [ "$cur" -ge $((max - 1)) ]; then
				skip "/etc/fuse.conf mount_max = $max and $cur FUSE mounts exist"
			fi
		fi
	fi
}

# make_workdir: W, a fresh work directory removed (after unmounting) on exit.
make_workdir()
{
	W=$(mktemp -d "${TMPDIR:-/tmp}/ozxfs-$TEST_NAME.XXXXXX") ||
		fail "mktemp -d failed"
	W=$(cd -- "$W" && pwd -P) || fail "cannot resolve '$W'"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	start_watchdog
}

# A hung daemon would hang its reader, and with it `make check` and CI,
# for good.  After OZX_TEST_TIMEOUT seconds (600) the watchdog kills the
# test's daemons (their readers then fail with ENOTCONN) and then the test.
OZX_WATCHDOG=
# shell_gone PID: no process PID (kill -0, not pid_gone: no fork).
shell_gone()
{
	! kill -0 "$1" 2>/dev/null
}

start_watchdog()
{
	local limit=${OZX_TEST_TIMEOUT:-600} shell=$$
	(
		trap - EXIT INT TERM HUP
		# its sleeps not holding the test's stderr open
		wait_until "$limit" shell_gone "$shell" 2>/dev/null && exit 0
		echo "FAIL: $TEST_NAME: still running after $limit s (watchdog): killing its daemons" >&2
		while read -r p; do
			kill -KILL "$p" 2>/dev/null
		done <"$W/pids"
		kill -TERM "$shell"
	) </dev/null >/dev/null &
	OZX_WATCHDOG=$!
}

# track_pid PID: a daemon of this test, for cleanup and the watchdog.
track_pid()
{
	echo "$1" >>"$W/pids"
}

# plain_daemon: whether the daemon runs alone, so that its time and memory
# are its own: not under $OZXFS_WRAPPER (valgrind) nor built with
# AddressSanitizer, whose shadow memory and quarantine multiply its RSS.
# (ldd's output is taken whole: under pipefail, grep -q ending early
# would make ldd die of SIGPIPE and the pipe fail.)
plain_daemon()
{
	[ -z "${OZXFS_WRAPPER:-}" ] || return 1
	case "$(ldd "$OZXFS" 2>/dev/null)" in *libasan*) return 1 ;; esac
	return 0
}

# start_ozx ARCHIVE MNT [daemon options...]: start "$OZXFS -f" in the
# background without waiting for the mount.  Sets OZX_PID, OZX_MNT, LOG.
start_ozx()
{
	local archive=$1 mnt=$2
	shift 2
	mkdir -p -- "$mnt" || fail "cannot create mount point '$mnt'"
	OZX_NLOG=$((OZX_NLOG + 1))
	LOG="$W/log.$OZX_NLOG"
	# shellcheck disable=SC2086
	${OZXFS_WRAPPER:-} "$OZXFS" -f "$@" "$archive" "$mnt" 2>"$LOG" &
	OZX_PID=$!
	track_pid "$OZX_PID"
	OZX_MNT=$mnt
	OZX_PID_OF[$mnt]=$OZX_PID
	OZX_LOG_OF[$mnt]=$LOG
}

# mount_ozx ARCHIVE MNT [daemon options...]: mount in the foreground mode
# (-f, in the background of this shell) and wait until MNT is a mount point,
# polling every 0.05 s for MOUNT_TIMEOUT seconds (30) while checking the
# daemon is alive.  Sets OZX_PID, OZX_MNT and LOG (the daemon's stderr).
mount_ozx()
{
	local archive=$1 mnt=$2 rc
	start_ozx "$@"
	wait_until "${MOUNT_TIMEOUT:-30}" done_or_gone "$OZX_PID" is_mounted "$mnt" ||
		{ show_log; fail "'$mnt' not mounted after ${MOUNT_TIMEOUT:-30} s"; }
	if ! is_mounted "$mnt"; then
		wait "$OZX_PID"
		rc=$?
		unset "OZX_PID_OF[$mnt]"
		show_log
		fail "daemon exited with status $rc before mounting '$archive' on '$mnt'"
	fi
	echo "mounted: $(basename "$archive") on $mnt (pid $OZX_PID${3:+, options: ${*:3}})"
}

# check_log [LOG]: no sanitizer or valgrind reports and no ERROR lines.
check_log()
{
	local log=${1:-$LOG} pat
	if [[ "${OZXFS_WRAPPER:-}" == *valgrind* ]]; then
		# Valgrind's own lines all begin with ==pid==: look for reports.
		pat='ERROR SUMMARY: [1-9]|definitely lost: [1-9]|are definitely lost|Invalid (read|write|free)|uninitialised|Mismatched free|AddressSanitizer|runtime error'
	else
		pat='==[0-9]+==|ERROR|AddressSanitizer|LeakSanitizer|runtime error'
	fi
	if grep -Eq -- "$pat" "$log"; then
		show_log "$log"
		fail "daemon log $log has error reports (/$pat/)"
	fi
}

# unmount_ozx [MNT]: fusermount3 -u; the daemon must exit with status 0 and
# leave a clean log.
unmount_ozx()
{
	local mnt=${1:-$OZX_MNT} pid log rc
	pid=${OZX_PID_OF[$mnt]:-}
	log=${OZX_LOG_OF[$mnt]:-}
	[ -n "$pid" ] || fail "unmount_ozx: '$mnt' was not mounted by this test"
	check "fusermount3 -u $mnt; the daemon exits with status 0"
	fusermount3 -u -- "$mnt" || { show_log "$log"; fail "fusermount3 -u '$mnt' failed"; }
	wait_gone "$pid" 30 || { show_log "$log"; fail "daemon $pid still running 30 s after unmount"; }
	wait "$pid"
	rc=$?
	unset "OZX_PID_OF[$mnt]"
	is_mounted "$mnt" && fail "'$mnt' still mounted after the daemon exited"
	[ "$rc" -eq 0 ] || { show_log "$log"; fail "daemon exit status $rc after unmount, want 0"; }
	check_log "$log"
	ok "unmounted, exit status 0, clean log"
}

# expect_fail ERRTEXT DESCRIPTION CMD...: CMD must fail and print ERRTEXT
# (for example "Read-only file system") on stderr.
expect_fail()
{
	local want=$1 what=$2 rc
	shift 2
	check "$what fails with '$want'"
	"$@" >"$W/out" 2>"$W/err"
	rc=$?
	[ "$rc" -ne 0 ] || fail "$what: succeeded, want failure with '$want'"
	grep -qF -- "$want" "$W/err" ||
		fail "$what: exit $rc, stderr '$(head -c 300 "$W/err")', want '$want'"
	ok "$(head -n 1 "$W/err")"
}

# make_ozx SRC OUT [stored|deflate|zip64|zip64-deflate|zip|zip0]: pack the
# tree SRC into the ZIP archive OUT.
#   stored, deflate	Python zipfile, method 0 / 8, in the order ozx pack
#			writes (rfc9_order of tests/readers/ozxpack.py): root
#			zarr.json first, then the other zarr.json breadth
#			first, then the rest sorted; empty directories as
#			"name/" records, others implied
#   zip64*		as stored/deflate with ZIP64 extras forced (local headers)
#   zip, zip0		Info-ZIP `zip -r` (deflate / -0 store), its own order,
#			a record for every directory
make_ozx()
{
	local src=$1 out=$2 mode=${3:-stored}
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	rm -f -- "$out"
	case $mode in
	zip|zip0)
		command -v zip >/dev/null || fail "make_ozx $mode: zip is missing"
		local lvl=-6
		[ "$mode" = zip0 ] && lvl=-0
		(cd "$src" && zip -q -r -X $lvl "$out" .) ||
			fail "zip -r of '$src' failed"
		return 0
		;;
	esac
	"$PY" - "$src" "$out" "$mode" "$OZX_LIB_DIR/../readers" <<'EOF' || fail "make_ozx $mode of '$src' failed"
import os, sys, zipfile
src, out, mode, readers = sys.argv[1:5]
sys.path.insert(0, readers)
from ozxpack import rfc9_order
method = zipfile.ZIP_DEFLATED if mode.endswith("deflate") else zipfile.ZIP_STORED
force = mode.startswith("zip64")
names = []
for root, dnames, fnames in os.walk(src):
    rel = os.path.relpath(root, src)
    rel = "" if rel == "." else rel + "/"
    if not dnames and not fnames and rel:
        names.append(rel)
    names.extend(rel + f for f in fnames)
order = rfc9_order(names)
with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
    for name in order:
        path = os.path.join(src, name)
        if name.endswith("/"):
            zi = zipfile.ZipInfo.from_file(path, name)
            zf.writestr(zi, b"")
            continue
        zi = zipfile.ZipInfo.from_file(path, name)
        zi.compress_type = method
        with open(path, "rb") as r, zf.open(zi, "w", force_zip64=force) as w:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                w.write(b)
EOF
}

# tree_listing DIR: every path below DIR, C-sorted, with type and, for
# files, size.
tree_listing()
{
	(cd "$1" && find . -mindepth 1 \( -type f -printf 'f %s %p\n' \) -o \
		\( -type d -printf 'd %p\n' \) -o -printf '? %p\n' | LC_ALL=C sort)
}

# find_forked: FORKED, the forked-reader helper (forked.c): the one
# `make check` built, or, run by hand, one built here.
find_forked()
{
	FORKED=${FORKED:-${BUILDDIR:+$BUILDDIR/tests/mount/forked}}
	[ -n "$FORKED" ] && [ -x "$FORKED" ] && return 0
	command -v cc >/dev/null || fail "no forked helper (${FORKED:-unset}) and no cc to build one"
	cc -std=c11 -O2 -pthread -o "$W/forked" "$OZX_LIB_DIR/forked.c" ||
		fail "cannot build forked.c"
	FORKED=$W/forked
}

# cmp_trees SRC MNT: same listing and every file byte-identical.
# run_forked ARGS...: the forked-reader helper $FORKED (forked.c) with
# ARGS on the files of $W/list, $SRC against $MNT; fails unless it exits 0
# with errors=0.
run_forked()
{
	local t0=$SECONDS out rc
	check "forked $* (every byte compared)"
	out=$("$FORKED" "$@" "$W/list" "$SRC" "$MNT" 2>"$W/forked.err")
	rc=$?
	echo "$out"
	[ -s "$W/forked.err" ] && head -n 20 "$W/forked.err" >&2
	[ "$rc" -eq 0 ] || fail "forked $*: exit status $rc"
	echo "$out" | grep -q ' errors=0 ' || fail "forked $*: errors reported"
	ok "$((SECONDS - t0)) s"
}

cmp_trees()
{
	local src=$1 mnt=$2 n=0 f
	check "find listing of $mnt equals that of the source tree"
	tree_listing "$src" >"$W/list.src" || fail "find in '$src' failed"
	tree_listing "$mnt" >"$W/list.mnt" || fail "find in '$mnt' failed"
	if ! diff -u "$W/list.src" "$W/list.mnt" >"$W/list.diff"; then
		head -n 40 "$W/list.diff" >&2
		fail "listing of '$mnt' differs from the source tree"
	fi
	ok "$(wc -l <"$W/list.src") paths"
	check "cmp of every file"
	while IFS= read -r -d '' f; do
		cmp -- "$src/$f" "$mnt/$f" || fail "'$f' differs"
		n=$((n + 1))
	done < <(cd "$src" && find . -type f -print0)
	ok "$n files identical"
}

[ -n "${OZX_NO_WORKDIR:-}" ] || make_workdir
