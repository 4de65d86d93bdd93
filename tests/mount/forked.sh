#!/usr/bin/env bash
# forked.sh - 16 forked children and 8 threads read thousands of random
# files and ranges from one mount at once, through their own descriptors
# and through descriptors shared with the parent; every byte is compared
# with the source tree (see forked.c).  Deterministic seeds.  The first
# mount has zero-message opens (the daemon reads through the archive's
# shared descriptor), the second -o fd_per_open (a descriptor per open).

. "$(dirname "$0")/lib.sh"
require_mount

find_forked

SRC=$W/src
MNT=$W/mnt
A=$W/forked.ozx

check "building a 5,300-entry fixture (seed 20240601): STORED chunks, some DEFLATE"
t0=$SECONDS
"$PY" - "$SRC" "$A" "$W/list" <<'EOF' || fail "cannot build the fixture"
import os, random, sys, zipfile
src, out, lst = sys.argv[1:4]
rng = random.Random(20240601)
# 4 bits of entropy a byte: DEFLATE halves it
table = bytes(0x40 + (i & 0x0F) for i in range(256))
entries = [("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n', False)]
for a in ("0", "1"):
    entries.append((a + "/zarr.json",
                    b'{"zarr_format":3,"node_type":"array"}\n', False))
def size():
    kib = 16 if rng.random() < 0.9 else 200
    # No empty chunk (zarr writes none): an empty file would keep the
    # daemon from taking zero-message opens, which this mount tests.
    return 1 + rng.randrange(kib * 1024)
for i in range(50):
    for j in range(100):
        entries.append(("0/c/%d/%d" % (i, j), rng.randbytes(size()), False))
for i in range(3):
    for j in range(100):
        n = size()
        entries.append(("1/c/%d/%d" % (i, j), rng.randbytes(n).translate(table), True))
with zipfile.ZipFile(out, "w", allowZip64=True) as zf, open(lst, "w") as l:
    for name, data, deflate in entries:
        path = os.path.join(src, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        zi = zipfile.ZipInfo(name, (2024, 6, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        zf.writestr(zi, data)
        l.write("%d %s\n" % (len(data), name))
EOF
ok "$(wc -l <"$W/list") files, $(du -sh "$SRC" | cut -f1) source, $(stat -c %s "$A") archive bytes, in $((SECONDS - t0)) s"

mount_ozx "$A" "$MNT"
check "the mount lists every file"
n=$(find "$MNT" -type f | wc -l)
[ "$n" -eq "$(wc -l <"$W/list")" ] || fail "find found $n files, want $(wc -l <"$W/list")"
ok "$n"
run_forked -m fork -j 16 -w 300 -r 2000 -s 1 -d
run_forked -m thread -j 8 -w 300 -r 2000 -s 2
grep -q "opens: zero-message" "$LOG" || fail "the daemon did not take zero-message opens"
unmount_ozx "$MNT"

check "=== again with verify=none,fd_per_open (no whole-entry check before the first byte; a descriptor per open) ==="
mount_ozx "$A" "$MNT" -o verify=none,fd_per_open
run_forked -m fork -j 16 -w 100 -r 1000 -s 3
run_forked -m thread -j 8 -w 100 -r 1000 -s 4 -d
grep -q "opens: each open file has a descriptor of its own" "$LOG" ||
	fail "fd_per_open did not give each open a descriptor"
unmount_ozx "$MNT"

echo "PASS: $TEST_NAME"
