#!/usr/bin/env bash
# shellcheck disable=SC2016 # the bash -c scripts take "$1" on purpose
# lifetime.sh - how a long-running daemon ends.  SIGTERM with files still
# open on the mount (and a working directory in it) detaches the mount
# lazily and the daemon exits with status 0 at once, instead of waiting or
# hanging; the open files then fail with ENOTCONN, never give other bytes.
# As root (umount2 MNT_DETACH) and as a user (fusermount3 -u -z).  A daemon
# killed with SIGKILL leaves a dead mount (ENOTCONN): ozxfs refuses to
# mount on it and says how to clear it, and the README's recipe clears it:
# fusermount3 -u, or fusermount3 -uz while something still holds it.

. "$(dirname "$0")/sys.sh"
sys_private_ns "$@"
. "$SYS_DIR/../mount/lib.sh"
require_mount

SRC=$W/src
MNT=$W/mnt
mkdir -p "$SRC/d" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
head -c $((8 << 20)) /dev/urandom >"$SRC/big" || fail urandom
head -c 5000 /dev/urandom >"$SRC/d/f" || fail urandom
A=$W/life.ozx
make_ozx "$SRC" "$A" stored
chmod 644 "$A"
ENOTCONN="Transport endpoint is not connected"

# pread_fd FD OFFSET: read 4096 bytes at OFFSET of the open file FD.
pread_fd()
{
	"$PY" -c 'import os, sys
os.pread(int(sys.argv[1]), 4096, int(sys.argv[2]))' "$@"
}

# holder DIR FILE FIFO [PREFIX...]: a process (run by PREFIX) with its
# working directory in DIR and FILE open until FIFO is written; its pid in
# HOLDER once it is in place.
holder()
{
	local dir=$1 file=$2 fifo=$3
	shift 3
	"$@" bash -c 'cd "$1" && exec 3<"$2" && exec cat "$3"' _ "$dir" "$file" "$fifo" &
	HOLDER=$!
	OZX_EXTRA_PIDS+=("$HOLDER")
	wait_until 30 done_or_gone "$HOLDER" holder_in_place "$dir" "$file" ||
		fail "the holder of '$file' is not in place after 30 s"
	holder_in_place "$dir" "$file" || fail "the holder of '$file' exited"
}

# holder_in_place DIR FILE: HOLDER works in DIR and has FILE open.
holder_in_place()
{
	[ "$(readlink "/proc/$HOLDER/cwd" 2>/dev/null)" = "$1" ] &&
		sys_has_open "$HOLDER" "$2"
}

# sigterm_busy WHAT: SIGTERM to the daemon of OZX_MNT, which is busy; it
# must exit with 0 within 30 s and leave no mount behind.
sigterm_busy()
{
	local t0 t
	check "SIGTERM while $1: lazy unmount, exit status 0, no hang"
	t0=$(sys_now_ms)
	kill -TERM "$OZX_PID" || fail "kill -TERM"
	daemon_exit "$OZX_PID" 30
	t=$(($(sys_now_ms) - t0))
	[ "$RC" -eq 0 ] || { show_log; fail "exit status $RC after SIGTERM, want 0"; }
	is_mounted "$OZX_MNT" && fail "'$OZX_MNT' still mounted after SIGTERM"
	check_log
	ok "exit 0 after $t ms, mount detached"
}

check "=== root: SIGTERM with an open file and a working directory inside ==="
# store_max=0: else the first read (at offset 0) stores all of big into the
# page cache when it verifies it, and nothing of it is left uncached.
mount_ozx "$A" "$MNT" -o store_max=0
exec 3<"$MNT/big" || fail "cannot open big"
head -c 4096 <&3 >"$W/part" || fail "read through fd 3"
cmp "$W/part" <(head -c 4096 "$SRC/big") || fail "first bytes differ"
mkfifo -m 666 "$W/hold" || fail mkfifo
holder "$MNT/d" "$MNT/d/f" "$W/hold"
sigterm_busy "a file is open and a process sits in $MNT/d"
check "the open file now fails with ENOTCONN where it is not cached"
if pread_fd 3 $((6 << 20)) 2>"$W/err"; then
	fail "a read at 6 MiB through the detached file succeeded"
fi
grep -qF "$ENOTCONN" "$W/err" || { cat "$W/err" >&2; fail "want '$ENOTCONN'"; }
ok "$(tail -n 1 "$W/err")"
exec 3<&-
: >"$W/hold"
wait "$HOLDER"

check "=== a user: SIGTERM while its mount is busy (fusermount3 -u -z) ==="
if sys_nobody && sys_user_mount_ok && sys_user_umount_ok; then
	NMNT=$W/nobody-mnt
	sys_nobody_dir "$NMNT"
	OZXFS_WRAPPER="${AS_NOBODY[*]} ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$NMNT"
	holder "$NMNT/d" "$NMNT/big" "$W/hold" "${AS_NOBODY[@]}"
	sigterm_busy "nobody holds a file open in its mount"
	: >"$W/hold"
	wait "$HOLDER"
else
	# SIGTERM on a busy mount is tested above, as root: still a PASS.
	not_tested "SIGTERM on a user's busy mount (fusermount3 -u -z): $SYS_WHY"
fi

# kill_daemon: SIGKILL to the daemon of OZX_MNT, and reap it (quietly: the
# shell would report "Killed").
kill_daemon()
{
	local pid=$OZX_PID gone
	{
		kill -KILL "$pid" && wait_gone "$pid" 30
		gone=$?
		wait "$pid"
	} 2>/dev/null
	[ "$gone" -eq 0 ] || fail "daemon $pid still running after SIGKILL"
}

check "=== SIGKILL leaves a dead mount; fusermount3 -u clears it ==="
mount_ozx "$A" "$MNT"
cmp "$SRC/d/f" "$MNT/d/f" || fail "d/f differs"
kill_daemon
is_mounted "$MNT" || fail "'$MNT' vanished when the daemon was killed: no dead mount to clear"
expect_fail "$ENOTCONN" "ls of the dead mount" ls "$MNT"
check "ozxfs refuses to mount on the dead mount (exit 4), saying how to clear it"
"$OZXFS" -f "$A" "$MNT" >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" -eq 4 ] || { cat "$W/err" >&2; fail "exit status $rc, want 4"; }
grep -q "dead FUSE mount.*fusermount3 -u" "$W/err" || { cat "$W/err" >&2; fail "no hint to clear it"; }
ok "$(head -n 1 "$W/err")"
check "fusermount3 -u clears it"
fusermount3 -u "$MNT" || fail "fusermount3 -u of the dead mount failed"
is_mounted "$MNT" && fail "'$MNT' still mounted"
unset "OZX_PID_OF[$MNT]"
ok "cleared"
check "and it mounts again"
mount_ozx "$A" "$MNT"
cmp_trees "$SRC" "$MNT"
unmount_ozx "$MNT"

check "=== a dead mount still held open: fusermount3 -u fails (busy), -uz clears it ==="
mount_ozx "$A" "$MNT"
exec 4<"$MNT/d/f" || fail "cannot open d/f"
kill_daemon
if fusermount3 -u "$MNT" 2>"$W/err"; then
	fail "fusermount3 -u of a busy dead mount succeeded"
fi
ok "fusermount3 -u: $(head -n 1 "$W/err")"
is_mounted "$MNT" || fail "the failed fusermount3 -u removed the mount"
fusermount3 -uz "$MNT" || fail "fusermount3 -uz of the busy dead mount failed"
is_mounted "$MNT" && fail "'$MNT' still mounted after fusermount3 -uz"
unset "OZX_PID_OF[$MNT]"
exec 4<&-
ok "cleared by fusermount3 -uz"
exit 0
