#!/usr/bin/env bash
# valgrind.sh - the daemon under valgrind memcheck: mount a small archive
# of STORED and DEFLATE entries and one corrupt entry, read everything,
# unmount; no memory errors, no definite leaks, exit status 0.  Then the
# same archive twice in a folder with a broken one, max_archives=1.

. "$(dirname "$0")/lib.sh"
require_mount

command -v valgrind >/dev/null || skip "valgrind is missing"
if grep -qa -e __asan_init -e __tsan_init "$OZXFS"; then
	skip "the daemon is built with sanitizers, which valgrind cannot run"
fi
OZXFS_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no"
MOUNT_TIMEOUT=60

SRC=$W/src
MNT=$W/mnt
EIO="Input/output error"

check "building a small archive: STORED, DEFLATE, one corrupt entry"
mkdir -p "$SRC/0/c/0" "$SRC/txt" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
printf '{"zarr_format":3,"node_type":"array"}\n' >"$SRC/0/zarr.json"
for i in 0 1 2 3; do
	head -c $((i * 30000 + 1)) /dev/urandom >"$SRC/0/c/0/$i" || fail urandom
done
: >"$SRC/0/c/empty"
seq 1 40000 >"$SRC/txt/big.txt"
seq 1 10 >"$SRC/txt/small.txt"
: >"$SRC/txt/empty.txt"
head -c 50000 /dev/urandom >"$W/bad.bin"
"$PY" - "$SRC" "$W/vg.ozx" "$W/bad.bin" <<'EOF' || fail "cannot build the archive"
import os, struct, sys, zipfile
src, out, bad = sys.argv[1:4]
names = []
for root, dnames, fnames in os.walk(src):
    for f in fnames:
        names.append(os.path.relpath(os.path.join(root, f), src))
names.sort(key=lambda n: (os.path.basename(n) != "zarr.json", n.count("/"), n))
with zipfile.ZipFile(out, "w") as zf:
    for n in names:
        zi = zipfile.ZipInfo(n, (2024, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED if n.endswith(".txt") else zipfile.ZIP_STORED
        with open(os.path.join(src, n), "rb") as f:
            zf.writestr(zi, f.read())
    with open(bad, "rb") as f:
        zf.writestr(zipfile.ZipInfo("bad.bin", (2024, 1, 1, 0, 0, 0)), f.read())
    off = zf.getinfo("bad.bin").header_offset
with open(out, "r+b") as f:
    f.seek(off)
    nlen, xlen = struct.unpack("<26xHH", f.read(30))
    f.seek(off + 30 + nlen + xlen + 25000)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x55]))
EOF
ok "$(stat -c %s "$W/vg.ozx") bytes"

mount_ozx "$W/vg.ozx" "$MNT"
expect_fail "$EIO" "reading the corrupt bad.bin" cat "$MNT/bad.bin"
expect_fail "$EIO" "reading the corrupt bad.bin again" cat "$MNT/bad.bin"
check "every good file reads right"
n=0
while IFS= read -r f; do
	cmp "$SRC/$f" "$MNT/$f" || fail "'$f' differs"
	n=$((n + 1))
done < <(cd "$SRC" && find . -type f | sed 's|^\./||')
ok "$n files"
check "listing and range reads"
got=$(cd "$MNT" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')
want=$( (cd "$SRC" && find . -mindepth 1; echo ./bad.bin) | LC_ALL=C sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "listing '$got', want '$want'"
cmp <(tail -c 1000 "$MNT/txt/big.txt") <(tail -c 1000 "$SRC/txt/big.txt") || fail "tail of big.txt"
cmp <(tail -c 1000 "$MNT/0/c/0/3") <(tail -c 1000 "$SRC/0/c/0/3") || fail "tail of 0/c/0/3"
expect_fail "No such file or directory" "a missing name" stat "$MNT/nope"
expect_fail "Read-only file system" "touch" touch "$MNT/zarr.json"
ok "listing, ranges"

unmount_ozx "$MNT"
vg_clean()
{
	check "valgrind found no errors and no definite leaks"
	grep -E 'ERROR SUMMARY|definitely lost|indirectly lost' "$LOG" | sed 's/^/  /'
	grep -q 'ERROR SUMMARY: 0 errors' "$LOG" || fail "valgrind's ERROR SUMMARY is missing or nonzero"
	ok "clean"
}
vg_clean

check "=== a folder of the archive twice and a broken one, max_archives=1 ==="
mkdir -p "$W/dir/sub" || fail mkdir
cp "$W/vg.ozx" "$W/dir/a.ozx" && cp "$W/vg.ozx" "$W/dir/sub/b.zip" &&
	head -c 3000 "$W/vg.ozx" >"$W/dir/bad.ozx" || fail cp
mount_ozx "$W/dir" "$MNT" -o max_archives=1
check "every good file of both archives, twice, alternating (release and reopen)"
n=0
for pass in 1 2; do
	while IFS= read -r f; do
		cmp "$SRC/$f" "$MNT/a.ozx/$f" || fail "'a.ozx/$f' differs"
		cmp "$SRC/$f" "$MNT/sub/b.zip/$f" || fail "'sub/b.zip/$f' differs"
		n=$((n + 2))
	done < <(cd "$SRC" && find . -type f | sed 's|^\./||')
done
expect_fail "$EIO" "reading the corrupt bad.bin in the folder" cat "$MNT/a.ozx/bad.bin"
ok "$n reads"
expect_fail "$EIO" "listing the broken archive" ls "$MNT/bad.ozx"
getfattr -n user.ozx.error "$MNT/bad.ozx" >/dev/null 2>&1 || fail "no user.ozx.error"
getfattr -n user.ozx.rfc9 "$MNT/a.ozx" >/dev/null 2>&1 || fail "no user.ozx.rfc9"
unmount_ozx "$MNT"
vg_clean

echo "PASS: $TEST_NAME"
