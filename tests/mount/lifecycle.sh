#!/usr/bin/env bash
# lifecycle.sh - how the daemon starts and ends: SIGTERM/SIGINT and
# fusermount3 -u unmount with exit status 0; a busy mount can be lazily
# unmounted and the daemon exits when the last reader closes; without -f it
# returns only once mounted; and the documented exit statuses for bad
# invocations (1 usage, 2 archive unreadable, 3 not a usable archive,
# 4 mount failure).

. "$(dirname "$0")/lib.sh"
require_mount

SRC=$W/src
MNT=$W/mnt
mkdir -p "$SRC/d" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
head -c 300000 /dev/urandom >"$SRC/file" || fail urandom
head -c 1000 /dev/urandom >"$SRC/d/g" || fail urandom
A=$W/life.ozx
make_ozx "$SRC" "$A" stored

# A non-interactive shell starts background jobs with SIGINT ignored, and
# libfuse leaves an ignored signal alone: restore its default for the
# SIGINT case (env --default-signal, coreutils 8.31).
for sig in TERM INT; do
	check "=== SIG$sig to the daemon unmounts it; exit status 0 ==="
	if [ "$sig" = INT ]; then
		if ! env --default-signal=INT true 2>/dev/null; then
			not_tested "SIGINT: env --default-signal is missing (coreutils 8.31 or later)"
			continue
		fi
		OZXFS_WRAPPER="env --default-signal=INT ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$MNT"
	else
		mount_ozx "$A" "$MNT"
	fi
	cmp "$SRC/file" "$MNT/file" || fail "file differs"
	kill -"$sig" "$OZX_PID" || fail "kill -$sig"
	daemon_exit "$OZX_PID" 30
	[ "$RC" -eq 0 ] || { show_log; fail "exit status $RC after SIG$sig, want 0"; }
	is_mounted "$MNT" && fail "$MNT still mounted after SIG$sig"
	check_log
	ok "exit 0, unmounted"
done

check "=== fusermount3 -u ==="
mount_ozx "$A" "$MNT"
ls "$MNT" >/dev/null || fail "ls of the mount"
unmount_ozx "$MNT"

check "=== a busy mount: lazy unmount, the daemon exits when the reader closes ==="
mount_ozx "$A" "$MNT"
exec 3<"$MNT/file" || fail "cannot open $MNT/file"
head -c 1000 <&3 >"$W/part1" || fail "read through fd 3"
check "fusermount3 -u of the busy mount fails, the mount stays"
if fusermount3 -u "$MNT" 2>"$W/err"; then
	fail "fusermount3 -u of a busy mount succeeded"
fi
ok "$(cat "$W/err")"
is_mounted "$MNT" || fail "the busy mount is gone after a failed fusermount3 -u"
check "fusermount3 -uz detaches it; the open file still reads"
fusermount3 -uz "$MNT" || fail "fusermount3 -uz failed"
is_mounted "$MNT" && fail "$MNT still mounted after fusermount3 -uz"
pid_alive "$OZX_PID" || fail "the daemon exited while a file was still open"
head -c 5000 <&3 >"$W/part2" || fail "read through fd 3 after the lazy unmount"
cmp <(cat "$W/part1" "$W/part2") <(head -c 6000 "$SRC/file") ||
	fail "bytes read through fd 3 differ"
ok "6000 bytes right"
check "closing the last file ends the daemon with exit status 0"
exec 3<&-
daemon_exit "$OZX_PID" 30
[ "$RC" -eq 0 ] || { show_log; fail "exit status $RC after the lazy unmount, want 0"; }
check_log
ok "exit 0"

check "=== without -f: returns once mounted, exits after unmount ==="
MNT2=$W/mnt-bg
mkdir -p "$MNT2" || fail mkdir
OZX_PID_OF[$MNT2]=0	# let cleanup unmount it
${OZXFS_WRAPPER:-} "$OZXFS" "$A" "$MNT2" 2>"$W/log.bg"
rc=$?
[ "$rc" -eq 0 ] || { cat "$W/log.bg" >&2; fail "daemon without -f: exit status $rc"; }
is_mounted "$MNT2" || fail "daemon returned 0 but $MNT2 is not mounted"
# the background daemon, found by its (unique) mount point argument
bgpid=
for p in /proc/[0-9]*; do
	if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$MNT2"; then
		bgpid=${p#/proc/}
		break
	fi
done
if [ -n "$bgpid" ]; then
	OZX_EXTRA_PIDS+=("$bgpid")
	track_pid "$bgpid"
fi
cmp "$SRC/d/g" "$MNT2/d/g" || fail "d/g differs"
fusermount3 -u "$MNT2" || fail "fusermount3 -u $MNT2"
unset "OZX_PID_OF[$MNT2]"
if [ -n "$bgpid" ]; then
	wait_gone "$bgpid" 30 || fail "background daemon $bgpid still running 30 s after unmount"
	ok "mounted on return; background daemon $bgpid exited after unmount"
else
	ok "mounted on return (background daemon not found in /proc)"
fi

# expect_exit STATUS TEXT DESCRIPTION ARGS...: the daemon (in -f, so that a
# wrong success would not vanish into the background) exits with STATUS and
# prints TEXT (case-insensitive extended regex, "" for any).
expect_exit()
{
	local want=$1 text=$2 what=$3 rc
	shift 3
	check "$what: exit status $want${text:+, message /$text/}"
	timeout -s TERM 30 "$OZXFS" "$@" >"$W/out" 2>"$W/err"
	rc=$?
	[ "$rc" -eq "$want" ] || {
		cat "$W/out" "$W/err" >&2
		fail "$what: exit status $rc, want $want"
	}
	if [ -n "$text" ] && ! grep -Eqi -- "$text" "$W/out" "$W/err"; then
		cat "$W/out" "$W/err" >&2
		fail "$what: output lacks /$text/"
	fi
	is_mounted "$MNT" && fail "$what: $MNT got mounted"
	ok "$(cat "$W/err" "$W/out" | head -n 1)"
}

check "=== error exits ==="
head -c 5000 /dev/urandom >"$W/random.ozx"
printf 'this is not a zip archive\n' >"$W/text.ozx"
: >"$W/empty.ozx"
head -c $(($(stat -c %s "$A") / 2)) "$A" >"$W/truncated.ozx"

expect_exit 1 "" "no arguments"
expect_exit 1 "" "only an archive, no mount point" -f "$A"
expect_exit 1 "" "three positional arguments" -f "$A" "$MNT" "$W/extra"
expect_exit 1 "verify" "-o verify=bogus" -f -o verify=bogus "$A" "$MNT"
expect_exit 0 "ozxfs" "--version" --version
expect_exit 0 "usage" "--help" --help
expect_exit 2 "no-such\\.ozx" "a missing archive" -f "$W/no-such.ozx" "$MNT"
# A directory is a folder of archives now (issue 18): tests/mount/folder.sh.
expect_exit 3 "not a zip" "random bytes" -f "$W/random.ozx" "$MNT"
expect_exit 3 "not a zip" "a text file" -f "$W/text.ozx" "$MNT"
expect_exit 3 "" "an empty file" -f "$W/empty.ozx" "$MNT"
expect_exit 3 "truncated|end of central directory" "the first half of an archive" \
	-f "$W/truncated.ozx" "$MNT"
expect_exit 4 "" "a missing mount point" -f "$A" "$W/no-such-dir"
if [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$W/text.ozx"
	expect_exit 2 "text\\.ozx" "an unreadable archive" -f "$W/text.ozx" "$MNT"
fi

echo "PASS: $TEST_NAME"
