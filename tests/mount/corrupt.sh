#!/usr/bin/env bash
# corrupt.sh - an entry whose bytes do not match its CRC-32 answers every
# read with EIO (whole file or any range), is logged once by name, and
# leaves the other entries readable; with -o verify=none it reads (wrong
# bytes) without error.  An archive truncated under the mount gives EIO for
# entries beyond the cut, never other bytes.

. "$(dirname "$0")/lib.sh"
require_mount

SRC=$W/src
MNT=$W/mnt
EIO="Input/output error"

check "building a STORED archive and corrupting one entry"
mkdir -p "$SRC/sub" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
head -c 20000 /dev/urandom >"$SRC/a.bin" || fail urandom
head -c 70000 /dev/urandom >"$SRC/sub/bad.bin" || fail urandom
head -c 5000 /dev/urandom >"$SRC/sub/c.bin" || fail urandom
seq 1 20000 >"$SRC/sub/bad.txt"
seq 1 3000 >"$SRC/z.txt"
make_ozx "$SRC" "$W/ok.ozx" stored
make_ozx "$SRC" "$W/ok-deflate.ozx" deflate

# flip NAME ARCHIVE OUT: OUT is ARCHIVE with one byte in the middle of
# NAME's data inverted (data offset from the local header's own lengths).
flip()
{
	"$PY" - "$@" <<'EOF' || fail "cannot corrupt $1 in $2"
import shutil, struct, sys, zipfile
name, src, out = sys.argv[1:4]
shutil.copyfile(src, out)
with zipfile.ZipFile(src) as z:
    zi = z.getinfo(name)
with open(out, "r+b") as f:
    f.seek(zi.header_offset)
    lh = f.read(30)
    sig, nlen, xlen = struct.unpack("<I22xHH", lh)
    assert sig == 0x04034B50
    pos = zi.header_offset + 30 + nlen + xlen + zi.compress_size // 2
    f.seek(pos)
    b = f.read(1)
    f.seek(pos)
    f.write(bytes([b[0] ^ 0xFF]))
print("flipped byte %d of %s (archive offset %d)" % (zi.compress_size // 2, name, pos))
EOF
}
flip sub/bad.bin "$W/ok.ozx" "$W/bad.ozx"
flip sub/bad.txt "$W/ok-deflate.ozx" "$W/bad-deflate.ozx"

# others_read MNT EXCEPT: every file but EXCEPT is cmp-equal to its source.
others_read()
{
	local mnt=$1 except=$2 n=0 f
	check "every other file reads right"
	while IFS= read -r f; do
		[ "$f" = "$except" ] && continue
		cmp "$SRC/$f" "$mnt/$f" || fail "'$f' differs"
		n=$((n + 1))
	done < <(cd "$SRC" && find . -type f | sed 's|^\./||')
	ok "$n files"
}

# corrupt_reads MNT NAME: whole-file and range reads of NAME all give EIO.
corrupt_reads()
{
	local mnt=$1 name=$2 i
	for i in 1 2; do
		expect_fail "$EIO" "cat of the corrupt '$name' (try $i)" cat "$mnt/$name"
	done
	expect_fail "$EIO" "the first 10 bytes of the corrupt '$name'" \
		dd if="$mnt/$name" bs=10 count=1 status=none
	expect_fail "$EIO" "the last 100 bytes of the corrupt '$name'" \
		tail -c 100 "$mnt/$name"
	expect_fail "$EIO" "a range far from the bad byte of '$name'" \
		dd if="$mnt/$name" bs=1000 skip=1 count=1 status=none
}

# logged_once LOG NAME: the log names NAME, in quotes, on exactly one line.
logged_once()
{
	local log=$1 name=$2 n
	check "the daemon log names '$name' (quoted), once"
	n=$(grep -cF -- "$name" "$log")
	[ "$n" -eq 1 ] || { show_log "$log"; fail "'$name' on $n log lines, want 1"; }
	grep -E -- "['\"\`][^'\"]*${name//./\\.}['\"]" "$log" >/dev/null ||
		{ show_log "$log"; fail "'$name' is not quoted in the log"; }
	ok "$(grep -F -- "$name" "$log")"
}

check "=== STORED entry with a flipped byte ==="
mount_ozx "$W/bad.ozx" "$MNT"
corrupt_reads "$MNT" sub/bad.bin
others_read "$MNT" sub/bad.bin
check "the corrupt file is still listed with its size"
[ "$(stat -c %s "$MNT/sub/bad.bin")" -eq 70000 ] || fail "stat size of sub/bad.bin"
ok "70000 bytes"
LOG1=$LOG
unmount_ozx "$MNT"
logged_once "$LOG1" bad.bin

check "=== DEFLATE entry with a flipped byte ==="
mount_ozx "$W/bad-deflate.ozx" "$MNT"
corrupt_reads "$MNT" sub/bad.txt
others_read "$MNT" sub/bad.txt
LOG1=$LOG
unmount_ozx "$MNT"
logged_once "$LOG1" bad.txt

check "=== verify=none: the corrupt STORED entry reads, with the wrong byte ==="
mount_ozx "$W/bad.ozx" "$MNT" -o verify=none
cat "$MNT/sub/bad.bin" >"$W/got" || fail "reading sub/bad.bin with verify=none failed"
n=$(cmp -l "$SRC/sub/bad.bin" "$W/got" | wc -l)
[ "$n" -eq 1 ] || fail "$n bytes differ, want exactly the flipped one"
[ "$(stat -c %s "$W/got")" -eq 70000 ] || fail "read $(stat -c %s "$W/got") bytes, want 70000"
ok "70000 bytes, one differs"
others_read "$MNT" sub/bad.bin
unmount_ozx "$MNT"

check "=== the archive truncated while mounted ==="
cp "$W/ok.ozx" "$W/cut.ozx" || fail cp
mount_ozx "$W/cut.ozx" "$MNT"
cmp "$SRC/a.bin" "$MNT/a.bin" || fail "a.bin differs before the cut"
# Cut inside sub/bad.bin's data: it and everything stored after it are gone.
cut=$("$PY" -c 'import zipfile, sys
z = zipfile.ZipFile(sys.argv[1])
i = z.getinfo("sub/bad.bin")
print(i.header_offset + 100 + i.compress_size // 2)' "$W/cut.ozx") || fail "no cut offset"
truncate -s "$cut" "$W/cut.ozx" || fail truncate
expect_fail "$EIO" "reading an entry cut off by the truncation" cat "$MNT/sub/bad.bin"
expect_fail "$EIO" "reading an entry stored after the cut" cat "$MNT/z.txt"
check "the log names the failed read, and no entry is marked unusable for it"
grep -q "reading entry '.*' of '.*' failed: archive read failed or came up short" "$LOG" ||
	{ show_log; fail "no 'archive read failed' line in $LOG"; }
grep -q "is unusable" "$LOG" && { show_log; fail "a failed read marked an entry unusable"; }
ok "$(grep -m 1 'archive read failed' "$LOG")"
check "the archive restored (same file): the entries read again"
cp "$W/ok.ozx" "$W/whole.ozx" || fail cp
dd if="$W/whole.ozx" of="$W/cut.ozx" bs=64k conv=notrunc status=none || fail "dd the bytes back"
cmp "$W/ok.ozx" "$W/cut.ozx" || fail "the restored archive differs"
cmp "$SRC/z.txt" "$MNT/z.txt" || fail "z.txt differs after the restore"
ok "z.txt reads again after a failed read"
unmount_ozx "$MNT"

echo "PASS: $TEST_NAME"
