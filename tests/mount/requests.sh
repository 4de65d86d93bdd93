#!/usr/bin/env bash
# requests.sh - what reading costs in FUSE requests, counted in the
# daemon's -d log: find(1) with sizes over a fresh mount needs no LOOKUP
# (every listing comes with attributes, READDIRPLUS); reading small files
# by path costs one LOOKUP and one READ each (opens are zero-message after
# the first, no RELEASE); reading them again costs nothing (the kernel
# keeps data, names and attributes).

. "$(dirname "$0")/lib.sh"
require_mount

SRC=$W/src
MNT=$W/mnt
NDIR=2
NFILE=1500
mkdir -p "$SRC" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
for d in $(seq 0 $((NDIR - 1))); do
	mkdir -p "$SRC/c/$d" || fail mkdir
	for f in $(seq 0 $((NFILE - 1))); do
		printf 'chunk %d/%d\n' "$d" "$f" >"$SRC/c/$d/$f"
	done
done
A=$W/req.ozx
make_ozx "$SRC" "$A" stored

# count OPCODE: requests of that opcode in $LOG so far.
count()
{
	grep -c "opcode: $1 " "$LOG"
}

check "find with sizes over a fresh mount: READDIRPLUS only, no LOOKUP"
mount_ozx "$A" "$MNT" -d
n=$(cd "$MNT" && find . -printf '%s %p\n' | wc -l)
[ "$n" -eq $((1 + 1 + 1 + NDIR + NDIR * NFILE)) ] || fail "find listed $n paths"
lk=$(count LOOKUP)
rdp=$(count READDIRPLUS)
[ "$lk" -eq 0 ] || fail "find cost $lk LOOKUP requests, want 0"
[ "$rdp" -gt 0 ] || fail "no READDIRPLUS request in $LOG"
ok "$n paths: $rdp READDIRPLUS, $lk LOOKUP"
unmount_ozx

check "reading $NFILE files by path: one LOOKUP and one READ each"
mount_ozx "$A" "$MNT" -d
for f in $(seq 0 $((NFILE - 1))); do
	echo "$MNT/c/1/$f"
done >"$W/list"
xargs cat <"$W/list" >"$W/out1" || fail "cat through the mount"
want=$(for f in $(seq 0 $((NFILE - 1))); do printf 'chunk 1/%d\n' "$f"; done)
[ "$(cat "$W/out1")" = "$want" ] || fail "the files read back wrong"
lk=$(count LOOKUP) rd=$(count READ) op=$(count OPEN) rl=$(count RELEASE)
# the files, plus c and c/1
[ "$lk" -eq $((NFILE + 2)) ] || fail "$lk LOOKUP requests, want $((NFILE + 2))"
[ "$rd" -eq "$NFILE" ] || fail "$rd READ requests, want $NFILE"
grep -q 'opens: zero-message' "$LOG" || fail "the daemon did not take zero-message opens"
[ "$op" -le 1 ] || fail "$op OPEN requests, want at most 1 (answered ENOSYS)"
[ "$rl" -eq 0 ] || fail "$rl RELEASE requests, want 0"
ok "$lk LOOKUP, $rd READ, $op OPEN, $rl RELEASE"

check "reading them again: no request at all"
# The kernel keeps what it read, but may drop page cache at any time
# (proactive reclaim: this VM's DAMON and free page reporting dropped a
# few pages between the passes in loaded runs).  Keeping the pages is not
# ours to promise; that no request reaches the daemon while they are
# there is: a helper maps the files and locks them in memory (mlockall)
# for the second pass.
"$PY" - "$W/list" "$W/locked" <<'EOF2' &
import ctypes, mmap, os, signal, sys
maps = []
for path in open(sys.argv[1]).read().split():
    fd = os.open(path, os.O_RDONLY)
    maps.append(mmap.mmap(fd, 0, prot=mmap.PROT_READ))
    os.close(fd)
if ctypes.CDLL(None, use_errno=True).mlockall(1):  # MCL_CURRENT
    sys.exit("mlockall: %s" % os.strerror(ctypes.get_errno()))
open(sys.argv[2], "w").close()
signal.pause()
EOF2
locker=$!
track_pid "$locker"
wait_until 30 test -e "$W/locked" || fail "the pages could not be locked in memory"
before=$(grep -c 'opcode:' "$LOG")
xargs cat <"$W/list" >"$W/out2" || fail "cat through the mount"
cmp -s "$W/out1" "$W/out2" || fail "the second read differs"
after=$(grep -c 'opcode:' "$LOG")
end_pid "$locker"
[ "$after" -eq "$before" ] || fail "the second pass sent $((after - before)) requests: $(tail -n 4 "$LOG")"
ok "0 requests"
unmount_ozx
echo "PASS: $TEST_NAME"
