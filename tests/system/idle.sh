#!/usr/bin/env bash
# shellcheck disable=SC2016 # the bash -c scripts take "$1" on purpose
# idle.sh - -o idle_timeout=SECONDS, for job schedulers: a mount nobody
# uses is unmounted SECONDS after its last use (not before) and the daemon
# exits with status 0; a mount with a file open, with a process's working
# directory in it, or with a steady stream of requests stays mounted, and
# goes once let go.  As root (umount2) and as a user (fusermount3 -u).
# Bad values are usage errors.

. "$(dirname "$0")/sys.sh"
sys_private_ns "$@"
. "$SYS_DIR/../mount/lib.sh"
require_mount

T=2 # the timeout under test, in seconds
HOLD=$((2 * T + 1))

SRC=$W/src
MNT=$W/mnt
mkdir -p "$SRC/d" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
head -c $((8 << 20)) /dev/urandom >"$SRC/big" || fail urandom
head -c 5000 /dev/urandom >"$SRC/d/f" || fail urandom
A=$W/idle.ozx
make_ozx "$SRC" "$A" stored
chmod 644 "$A"

# expect_idle_unmount SINCE_MS [any]: the mount goes by itself within 30 s,
# but not before T s after SINCE_MS, its last request (with "any": the
# last use was no request, so it may go at the timer's next look); the
# daemon exits with status 0 and says why in its log.
expect_idle_unmount()
{
	local since=$1 t
	check "unmounted by the idle timer${2:-, not before $T s}"
	sys_wait_unmounted "$OZX_MNT" 30 ||
		{ show_log; fail "'$OZX_MNT' still mounted 30 s after its last use (idle_timeout=$T)"; }
	t=$(($(sys_now_ms) - since))
	[ -n "${2:-}" ] || [ "$t" -ge $((T * 1000 - 100)) ] ||
		fail "unmounted $t ms after the last request, before the $T s timeout"
	daemon_exit "$OZX_PID" 30
	[ "$RC" -eq 0 ] || { show_log; fail "exit status $RC after the idle unmount, want 0"; }
	grep -q 'idle_timeout' "$LOG" || { show_log; fail "no idle unmount notice in the log"; }
	check_log
	ok "gone $t ms after the last use, exit 0: $(grep -m1 idle_timeout "$LOG")"
}

# stays_mounted SECONDS WHILE: the mount is still there, and the daemon
# alive, all through SECONDS.  Here, waiting for time to pass IS the
# assertion: with SECONDS = 2*T+1 the idle timer looks at least 8 times and
# must not unmount once.  (An idle unmount ends the daemon: waiting for it
# to end fails early.)
stays_mounted()
{
	check "still mounted after $1 s while $2"
	wait_gone "$OZX_PID" "$1" && { show_log; fail "the daemon exited while $2"; }
	is_mounted "$OZX_MNT" || { show_log; fail "'$OZX_MNT' unmounted while $2"; }
	grep -q 'idle_timeout' "$LOG" && { show_log; fail "the log tells of an idle unmount while $2"; }
	ok "mounted"
}

check "=== an idle mount is unmounted after $T s ==="
mount_ozx "$A" "$MNT" -o idle_timeout=$T
cmp "$SRC/d/f" "$MNT/d/f" || fail "d/f differs"
expect_idle_unmount "$(sys_now_ms)"

check "=== a file held open keeps it; closing it lets it go ==="
mount_ozx "$A" "$MNT" -o idle_timeout=$T
exec 3<"$MNT/big" || fail "cannot open big"
head -c 4096 <&3 >"$W/part" || fail "read through fd 3"
stays_mounted "$HOLD" "a file is open (and not read)"
check "the file still reads right"
head -c 100000 <&3 >>"$W/part" || fail "read through fd 3 after the wait"
cmp "$W/part" <(head -c 104096 "$SRC/big") || fail "bytes read through fd 3 differ"
ok "104096 bytes right"
exec 3<&-
expect_idle_unmount "$(sys_now_ms)"

check "=== a working directory inside keeps it ==="
mount_ozx "$A" "$MNT" -o idle_timeout=$T
mkfifo "$W/hold" || fail mkfifo
# cd into the mount, then block opening the FIFO until released
(cd "$MNT/d" && exec cat "$W/hold") &
holder=$!
OZX_EXTRA_PIDS+=("$holder")
holder_inside()
{
	pid_gone "$holder" || [ "$(readlink "/proc/$holder/cwd" 2>/dev/null)" = "$MNT/d" ]
}
wait_until 30 holder_inside || fail "no process in $MNT/d after 30 s"
pid_alive "$holder" || fail "the process meant to sit in $MNT/d exited"
stays_mounted "$HOLD" "a process's working directory is in it"
: >"$W/hold" # opens the FIFO for writing and closes it: cat sees EOF
wait "$holder" || fail "the holder failed"
# Leaving a directory sends no request: the mount was idle all along, and
# the timer, which found it in use last time, takes it at its next look.
expect_idle_unmount "$(sys_now_ms)" " (at its next look: leaving sends no request)"

check "=== steady requests keep it, though nothing stays open ==="
mount_ozx "$A" "$MNT" -o idle_timeout=$T
# A reader that opens, reads and closes a file every 0.5 s: every open is a
# request, while most of the time nothing is open (the sleep paces the
# load; it synchronises nothing).
(while cat "$MNT/d/f" >/dev/null; do sleep 0.5; done) &
reader=$!
OZX_EXTRA_PIDS+=("$reader")
stays_mounted "$HOLD" "a file is opened every 0.5 s"
pid_alive "$reader" || fail "the reader failed"
kill "$reader"
wait "$reader" 2>/dev/null
# The reader's last request is somewhere in its last 0.5 s: make one whose
# time is known.
cmp "$SRC/d/f" "$MNT/d/f" || fail "d/f differs"
expect_idle_unmount "$(sys_now_ms)"

check "=== a user's mount (fusermount3 -u, not umount2) ==="
if sys_nobody && sys_user_mount_ok && sys_user_umount_ok; then
	NMNT=$W/nobody-mnt
	sys_nobody_dir "$NMNT"
	OZXFS_WRAPPER="${AS_NOBODY[*]} ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$NMNT" -o idle_timeout=$T
	"${AS_NOBODY[@]}" cmp "$SRC/d/f" "$NMNT/d/f" || fail "nobody: d/f differs"
	expect_idle_unmount "$(sys_now_ms)"

	OZXFS_WRAPPER="${AS_NOBODY[*]} ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$NMNT" -o idle_timeout=$T
	rm -f "$W/hold"
	mkfifo -m 666 "$W/hold" || fail mkfifo
	# nobody holds big open until the FIFO is released
	"${AS_NOBODY[@]}" bash -c 'exec 3<"$1" && exec cat "$2"' _ "$NMNT/big" "$W/hold" &
	holder=$!
	OZX_EXTRA_PIDS+=("$holder")
	wait_until 30 done_or_gone "$holder" sys_has_open "$holder" "$NMNT/big" ||
		fail "nobody has not opened big after 30 s"
	sys_has_open "$holder" "$NMNT/big" || fail "nobody's holder exited"
	stays_mounted "$HOLD" "nobody holds a file open"
	: >"$W/hold"
	wait "$holder" || fail "nobody's holder failed"
	expect_idle_unmount "$(sys_now_ms)"
else
	# The idle unmount itself is tested above, as root: still a PASS.
	not_tested "the idle unmount of a user's mount (fusermount3 -u): $SYS_WHY"
fi

check "=== bad values are usage errors (exit 1) ==="
mkdir -p "$MNT"
for v in abc -1 2x 1.5 '' 99999999999; do
	"$OZXFS" -f -o "idle_timeout=$v" "$A" "$MNT" >"$W/out" 2>"$W/err"
	rc=$?
	[ "$rc" -eq 1 ] || { cat "$W/err" >&2; fail "idle_timeout='$v': exit status $rc, want 1"; }
	grep -q idle_timeout "$W/err" || { cat "$W/err" >&2; fail "idle_timeout='$v': message does not name the option"; }
	is_mounted "$MNT" && fail "idle_timeout='$v' mounted"
done
ok "$(head -n 1 "$W/err")"
check "idle_timeout with a /dev/fd/N mount point (no path to unmount) is refused"
"$OZXFS" -f -o idle_timeout=$T "$A" /dev/fd/5 5<>/dev/fuse >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" -eq 1 ] || { cat "$W/err" >&2; fail "exit status $rc, want 1"; }
ok "$(head -n 1 "$W/err")"
exit 0
