#!/usr/bin/env bash
# store.sh - a verified entry is read from the archive once (issue 17).
# The first read of a 4 MiB STORED file verifies all of it against its
# CRC-32 and stores it into the kernel's page cache, so that reading it
# whole costs at most 2 READ requests (not 4 MiB / 1 MiB or / 128 KiB),
# and a second reader none; the bytes are right.  The same for DEFLATE.
# -o store_max=0 turns that off (the file then arrives in several READs),
# and so do a store_max smaller than the file and -s; a first read in the
# middle of the file (a reader of byte ranges) stores nothing.  Bad values
# are refused.  Small files read in archive order after a listing are
# stored ahead: 200 of them cost at most 50 READs (not in reverse order,
# not with store_max=0 or verify=none).  The
# requests are counted in the daemon's -d log.

. "$(dirname "$0")/lib.sh"
require_mount

SRC=$W/src
MNT=$W/mnt
mkdir -p "$SRC" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
head -c $((4 << 20)) /dev/urandom >"$SRC/big" || fail urandom
head -c $((3 << 20)) /dev/urandom >"$SRC/mid" || fail urandom
A=$W/store.ozx
make_ozx "$SRC" "$A" stored
D=$W/store-deflate.ozx
make_ozx "$SRC" "$D" deflate

# reads: READ requests in $LOG so far.
reads()
{
	grep -c "opcode: READ " "$LOG"
}

# read_at FILE OFFSET LENGTH: LENGTH bytes of FILE at OFFSET, compared
# with the same bytes of the source.
read_at()
{
	"$PY" - "$SRC/$1" "$MNT/$1" "$2" "$3" <<'EOF' || fail "read of $1 at $2"
import os, sys
src, path, off, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fd = os.open(path, os.O_RDONLY)
got = os.pread(fd, n, off)
os.close(fd)
want = open(src, "rb").read()[off:off + n]
sys.exit(0 if got == want else "%s: other bytes at %d" % (path, off))
EOF
}

check "a 4 MiB STORED file read whole: at most 2 READ requests"
mount_ozx "$A" "$MNT" -d
cmp -- "$SRC/big" "$MNT/big" || fail "big differs through the mount"
n=$(reads)
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || { show_log; fail "$n READ requests, want 1 or 2"; }
grep -q "NOTIFY: code=4" "$LOG" || fail "no store notification in $LOG"
ok "$n READ"

check "a second reader (another process): no READ, the same bytes"
cmp -- "$SRC/big" "$MNT/big" || fail "big differs on the second read"
m=$(reads)
[ "$m" -eq "$n" ] || fail "$((m - n)) more READ requests, want 0"
ok "no READ"

check "a first read in the middle of a file stores nothing"
read_at mid $((1 << 20)) 4096
m=$(reads)
cmp -- "$SRC/mid" "$MNT/mid" || fail "mid differs through the mount"
[ "$(reads)" -gt $((m + 1)) ] || fail "mid whole cost $(($(reads) - m)) READ, want more than 1"
ok "$(($(reads) - m)) READ for the rest of mid"
unmount_ozx

check "DEFLATE: the 4 MiB file read whole in at most 2 READs, inflated once"
mount_ozx "$D" "$MNT" -d
cmp -- "$SRC/big" "$MNT/big" || fail "big differs through the mount"
n=$(reads)
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || { show_log; fail "$n READ requests, want 1 or 2"; }
cmp -- "$SRC/big" "$MNT/big" || fail "big differs on the second read"
[ "$(reads)" -eq "$n" ] || fail "$(($(reads) - n)) more READ requests, want 0"
ok "$n READ, none the second time"
unmount_ozx

for opt in store_max=0 store_max=3M; do
	check "-o $opt: the file arrives in several READs, the same bytes"
	mount_ozx "$A" "$MNT" -d -o "$opt"
	cmp -- "$SRC/big" "$MNT/big" || fail "big differs through the mount"
	n=$(reads)
	[ "$n" -gt 2 ] || fail "$n READ requests with -o $opt, want more than 2"
	! grep -q "NOTIFY: code=4" "$LOG" || fail "a store notification with -o $opt"
	ok "$n READ"
	unmount_ozx
done

check "-s (one thread): nothing stored, the same bytes"
mount_ozx "$A" "$MNT" -d -s
cmp -- "$SRC/big" "$MNT/big" || fail "big differs through the mount"
! grep -q "NOTIFY: code=4" "$LOG" || fail "a store notification with -s"
ok "$(reads) READ"
unmount_ozx

# Small files read in archive order after a listing: stored ahead.
SMALL=$W/small
mkdir -p "$SMALL/c" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SMALL/zarr.json"
for i in $(seq 100 299); do
	head -c $((1000 + i * 13)) /dev/urandom >"$SMALL/c/$i" || fail urandom
done
S=$W/small.ozx
make_ozx "$SMALL" "$S" stored
NSMALL=200

# read_in ORDER: every file of small.ozx in archive order ("forward") or
# the reverse, each compared with its source.
read_in()
{
	"$PY" - "$S" "$SMALL" "$MNT" "$1" <<'EOF' || fail "reads in $1 order"
import sys, zipfile
arc, src, mnt, order = sys.argv[1:5]
names = [n for n in zipfile.ZipFile(arc).namelist() if n.startswith("c/")]
if order == "reverse":
    names.reverse()
for n in names:
    if open(mnt + "/" + n, "rb").read() != open(src + "/" + n, "rb").read():
        sys.exit("'%s' differs" % n)
EOF
}

stores()
{
	grep -c "NOTIFY: code=4" "$LOG"
}

check "$NSMALL small files in archive order after a listing: far fewer READs than files"
mount_ozx "$S" "$MNT" -d
ls -l "$MNT/c" >/dev/null || fail "ls -l failed"
read_in forward
n=$(reads)
[ "$n" -le $((NSMALL / 4)) ] || fail "$n READ requests for $NSMALL files, want at most $((NSMALL / 4))"
ok "$n READ, $(stores) stored"
unmount_ozx

check "in reverse order: a READ each, nothing stored ahead"
mount_ozx "$S" "$MNT" -d
ls -l "$MNT/c" >/dev/null || fail "ls -l failed"
read_in reverse
[ "$(reads)" -ge "$NSMALL" ] || fail "$(reads) READ requests, want one per file"
[ "$(stores)" -eq 0 ] || fail "$(stores) stores for a reader in reverse order"
ok "$(reads) READ, nothing stored"
unmount_ozx

for opt in store_max=0 verify=none; do
	check "-o $opt: nothing stored ahead"
	mount_ozx "$S" "$MNT" -d -o "$opt"
	ls -l "$MNT/c" >/dev/null || fail "ls -l failed"
	read_in forward
	[ "$(reads)" -ge "$NSMALL" ] || fail "$(reads) READ requests with -o $opt, want one per file"
	ok "$(reads) READ"
	unmount_ozx
done

check "-o store_max=SIZE refuses what is not a size up to 1G"
# (a mount point that does not exist: an option accepted would not mount)
for bad in store_max=x store_max=2G store_max=-1; do
	"$OZXFS" -f -o "$bad" "$A" "$W/nomnt" 2>"$W/err"
	rc=$?
	[ "$rc" -eq 1 ] || fail "-o $bad: exit status $rc, want 1 (usage)"
	grep -q "option 'store_max'" "$W/err" || fail "-o $bad: '$(cat "$W/err")'"
done
ok "refused with exit status 1"
