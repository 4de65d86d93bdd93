#!/usr/bin/env bash
# readahead.sh - -o readahead=SIZE: by default the mount's readahead window
# is raised to 1 MiB (its bdi's read_ahead_kb), so a file read in order
# arrives in READ requests of 1 MiB, not the kernel's 128 KiB; readahead=256K
# sets 256; readahead=0 leaves the kernel's window alone; bad values are
# refused.  The request sizes are read from the daemon's -d log.

. "$(dirname "$0")/lib.sh"
require_mount
[ "$(id -u)" -eq 0 ] || skip "raising read_ahead_kb takes root"

SRC=$W/src
MNT=$W/mnt
mkdir -p "$SRC" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
head -c $((8 << 20)) /dev/urandom >"$SRC/big" || fail urandom
A=$W/ra.ozx
make_ozx "$SRC" "$A" stored

# ra_kb: read_ahead_kb of the mount on $MNT, from its st_dev.
ra_kb()
{
	local dev
	dev=$(stat -c '%Hd:%Ld' "$MNT") || fail "stat $MNT"
	cat "/sys/class/bdi/$dev/read_ahead_kb" || fail "no bdi $dev for $MNT"
}

# largest_read: the largest READ reply in $LOG (fuse_out_header included).
largest_read()
{
	awk '/opcode: READ \(/ { r[$3] = 1 }
	     /success, outsize:/ { u = $3; if (u in r) { n = $6 + 0; if (n > m) m = n } }
	     END { print m + 0 }' "$LOG"
}

read_big()
{
	cmp -- "$SRC/big" "$MNT/big" || fail "big differs through the mount"
}

# The window shows in the reads that reach the daemon: with -o store_max=0,
# since otherwise the first read stores the whole file (store.sh).
check "default: read_ahead_kb 1024, and reads in 1 MiB requests"
mount_ozx "$A" "$MNT" -d -o store_max=0
kb=$(ra_kb)
[ "$kb" = 1024 ] || fail "read_ahead_kb is $kb, want 1024"
read_big
max=$(largest_read)
[ "$max" -eq $(((1 << 20) + 16)) ] || fail "largest READ reply $max bytes, want 1 MiB + 16"
grep -q 'readahead 1024 KiB' "$LOG" || fail "no 'readahead 1024 KiB' line in $LOG"
ok "read_ahead_kb $kb, largest READ reply $max bytes"
unmount_ozx

check "-o readahead=256K: read_ahead_kb 256"
mount_ozx "$A" "$MNT" -d -o readahead=256K,store_max=0
kb=$(ra_kb)
[ "$kb" = 256 ] || fail "read_ahead_kb is $kb, want 256"
read_big
max=$(largest_read)
[ "$max" -le $(((256 << 10) + 16)) ] || fail "largest READ reply $max bytes, want at most 256 KiB + 16"
ok "read_ahead_kb $kb, largest READ reply $max bytes"
unmount_ozx

check "-o readahead=0: the kernel's window is left as it is"
mount_ozx "$A" "$MNT" -d -o readahead=0,store_max=0
kb=$(ra_kb)
[ "$kb" -lt 1024 ] || fail "read_ahead_kb is $kb with readahead=0, want the kernel's (less than 1024)"
grep -q 'readahead ' "$LOG" && fail "readahead=0 still logged a readahead change"
read_big
max=$(largest_read)
[ "$max" -le $(((kb << 10) + 16)) ] || fail "largest READ reply $max bytes, more than the kernel's $kb KiB window"
ok "read_ahead_kb $kb (untouched), largest READ reply $max bytes"
unmount_ozx

for bad in 1000 1K 6K 65M 4X -1 ''; do
	expect_fail "bad value '$bad' for option 'readahead'" "readahead=$bad" \
		"$OZXFS" -f -o "readahead=$bad" "$A" "$MNT"
done
is_mounted "$MNT" && fail "a refused option left '$MNT' mounted"
echo "PASS: $TEST_NAME"
