#!/usr/bin/env bash
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
# faults.sh - a URL mount through a server that faults on request
# (faultsrv.py): dropped connections, 503, stalls, short bodies, a wrong
# Content-Range, a body too long, and the object replaced mid-mount.
# Transient faults are retried and the read succeeds; lasting ones fail
# that read with EIO and the mount stays usable; a replaced object fails
# every read after.  Every byte a read returns is compared (cmp): no wrong
# byte, ever.

. "$(dirname "$0")/../mount/lib.sh"
. "$(dirname "$0")/lib.sh"
require_mount

SRC=$W/src
WWW=$W/www
MNT=$W/mnt
mkdir -p "$SRC" "$WWW" || fail mkdir
check "building an archive of 24 files of 300 KB (one per step: cold for the daemon's cache and the kernel's)"
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
for i in $(seq 10 33); do
	head -c 300000 /dev/urandom >"$SRC/f$i" || fail urandom
done
make_ozx "$SRC" "$WWW/a.ozx" stored
ok

start_faultsrv "$WWW"
# Retries: 3 tries after the first; a stall fails a try after 1 s.
mount_ozx "$FS_URL/a.ozx" "$MNT" -o retries=3,timeout=1,cache_size=1M

next=10
# read_ok WHAT: the next file reads back identical.
read_ok()
{
	local f=f$next
	next=$((next + 1))
	check "$1: '$f' reads back identical"
	cat "$MNT/$f" >"$W/out" 2>"$W/cat.err" ||
		{ cat "$W/cat.err"; show_log; fail "$1: reading '$f' failed"; }
	cmp "$SRC/$f" "$W/out" || fail "$1: '$f' has wrong bytes"
	ok "$(fault_count) requests"
}
# read_eio WHAT: the next file fails with EIO, and no byte of it is wrong.
read_eio()
{
	local f=f$next
	next=$((next + 1))
	check "$1: reading '$f' fails with EIO"
	if cat "$MNT/$f" >"$W/out" 2>"$W/cat.err"; then
		fail "$1: reading '$f' succeeded"
	fi
	grep -q "Input/output error" "$W/cat.err" ||
		{ cat "$W/cat.err"; fail "$1: not EIO"; }
	cmp -s "$W/out" <(head -c "$(stat -c %s "$W/out")" "$SRC/$f") ||
		fail "$1: the bytes returned before the error are wrong"
	ok "$(fault_count) requests, $(stat -c %s "$W/out") bytes before the error, all right"
}

fault_set ok
read_ok "no fault"
for m in drop 503 stall short; do
	fault_set $m 2
	read_ok "$m twice, then answers (retried)"
	fault_set $m
	read_eio "$m for good (4 tries)"
	fault_set ok
	read_ok "after $m: the mount is usable"
done
for m in badrange long; do
	fault_set $m
	read_eio "$m (not retried: not data)"
	fault_set ok
	read_ok "after $m: the mount is usable"
done
grep -q "failed:.*Content-Range" "$LOG" || { show_log; fail "no log line for the wrong Content-Range"; }

check "the object is replaced mid-mount: every read after fails"
fault_set etag 1
read_eio "new ETag (412)"
read_eio "still replaced"
grep -q "changed on the server since it was opened" "$LOG" ||
	{ show_log; fail "no log line for the replaced object"; }
[ "$(grep -c "changed on the server" "$LOG")" -eq 1 ] ||
	fail "the change was logged more than once"
ok "one log line"
unmount_ozx "$MNT"

check "a server that ignores If-Match and names its other bytes by an ETag too long to hold: refused, never served"
fault_set ok
mount_ozx "$FS_URL/a.ozx" "$MNT" -o cache_size=1M
# f29 verified first, then pushed out of the 1 MiB block cache by 1.2 MB
# of other files: its next read must go to the server, bypassing the
# kernel's page cache (O_DIRECT).
cat "$MNT/f29" "$MNT/f30" "$MNT/f31" "$MNT/f32" "$MNT/f33" >/dev/null ||
	fail "the warm-up reads failed"
fault_set longetag
"$PY" - "$MNT/f29" "$SRC/f29" <<'EOF2' || fail "the other bytes were served as f29's"
import errno, mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 1 << 20)
try:
    n = os.preadv(fd, [buf], 0)
except OSError as e:
    sys.exit(0 if e.errno == errno.EIO else "not EIO: %s" % e)
want = open(sys.argv[2], "rb").read()
sys.exit(0 if buf[:n] == want[:n] else "read %d bytes, not f29's" % n)
EOF2
ok "EIO for a verified entry, or its own bytes"
fault_set ok
unmount_ozx "$MNT"

check "a server that reads 'bytes=-N' as 'bytes=0-N' (s3rver does): the open asks for the head, then the tail"
fault_set nosuffix
mount_ozx "$FS_URL/a.ozx" "$MNT"
n=$(fault_count)
cmp "$SRC/f31" "$MNT/f31" || fail "f31 differs"
grep -q "f31" <(cd "$MNT" && ls) || fail "f31 is not listed"
unmount_ozx "$MNT"
[ "$n" -le 3 ] || fail "the open took $n requests, want <= 3"
ok "the open took $n requests"

check "SIGTERM while a read waits for a server that hangs (timeout=30): the daemon exits at once"
fault_set ok
mount_ozx "$FS_URL/a.ozx" "$MNT" -o timeout=30
fault_set hang
# In the middle of the archive: not in the blocks the open fetched.
cat "$MNT/f20" >/dev/null 2>&1 &
reader=$!
OZX_EXTRA_PIDS+=("$reader")
wait_until 10 [ "$(fault_count)" -ge 1 ] || fail "the read did not reach the server"
pid=${OZX_PID_OF[$MNT]}
t0=$(mono_ms)
kill -TERM "$pid"
wait_gone "$pid" 5 || fail "the daemon still runs 5 s after SIGTERM"
wait "$pid"
rc=$?
unset "OZX_PID_OF[$MNT]"
[ "$rc" -eq 0 ] || { show_log; fail "exit status $rc after SIGTERM, want 0"; }
wait "$reader" 2>/dev/null
ok "exited with 0 after $(($(mono_ms) - t0)) ms"

echo "PASS: $TEST_NAME"
