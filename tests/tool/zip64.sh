#!/usr/bin/env bash
# zip64.sh - a tree of more than 65535 files: ozx pack writes the ZIP64 end
# records (as it does for every archive), ozx check finds it clean (exit
# 0), ozx ls lists every entry, and on a terminal ozx pack and ozx check
# show a progress line (and nothing when not on one).  A file past 4 GiB,
# and an entry stored after it, read back through the ZIP64 fields.

. "$(dirname "$0")/lib.sh"

N=65600
check "a tree of $N small files"
"$PY" - "$W/tree" "$N" <<'EOF2' || fail "cannot build the tree"
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root)
with open(os.path.join(root, "zarr.json"), "w") as f:
    f.write('{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5"}}}')
for a in range(n // 1000 + 1):
    d = os.path.join(root, "0", "c", str(a))
    os.makedirs(d)
    for b in range(min(1000, n - a * 1000)):
        with open(os.path.join(d, str(b)), "wb") as f:
            f.write(b"%d/%d" % (a, b))
with open(os.path.join(root, "0", "zarr.json"), "w") as f:
    f.write('{"zarr_format":3,"node_type":"array"}')
EOF2
ok "built"

check "ozx pack: silent when stderr is not a terminal"
ozx_run pack pack "$W/tree" "$W/t.ozx"
expect_rc 0 "ozx pack"
expect_empty err "ozx pack"
"$PY" - "$W/t.ozx" "$N" <<'EOF2' || fail "ZIP64 end records"
import sys, zipfile
raw = open(sys.argv[1], "rb").read()
tail = raw[-200:]
if b"PK\x06\x06" not in tail or b"PK\x06\x07" not in tail:
    sys.exit("no ZIP64 end record and locator")
z = zipfile.ZipFile(sys.argv[1])
if len(z.infolist()) != int(sys.argv[2]) + 2:
    sys.exit(f"{len(z.infolist())} entries")
if z.namelist()[:2] != ["zarr.json", "0/zarr.json"]:
    sys.exit("zarr.json not first")
EOF2
ok "ZIP64 end record and locator present, $((N + 2)) entries"

check "ozx check: clean, exit 0"
ozx_run chk check "$W/t.ozx"
expect_rc 0 "ozx check"
expect_in out "': ok; $((N + 2)) entries, $((N + 2)) files verified" "ozx check"
expect_empty err "ozx check"
ok "$(cat "$W/chk.out")"

check "ozx ls: one line per entry"
ozx_run ls ls "$W/t.ozx"
expect_rc 0 "ozx ls"
[ "$(wc -l <"$W/ls.out")" -eq $((N + 2)) ] || fail "ozx ls: $(wc -l <"$W/ls.out") lines"
ok "$((N + 2)) lines"

check "on a terminal: a progress line (script(1) gives ozx a pseudo-terminal)"
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	# Slow enough to show progress: the line appears after half a second.
	script -qec "'$OZX' pack '$W/tree' '$W/t2.ozx' && '$OZX' check -j 1 '$W/t2.ozx'" \
		"$W/typescript" >/dev/null 2>&1 </dev/null
	cmp "$W/t.ozx" "$W/t2.ozx" || fail "the pack on a terminal differs"
	if grep -aq "packing '$W/t2.ozx': " "$W/typescript"; then
		ok "progress line shown; same bytes"
	else
		echo "note: this machine packed in under half a second: no progress line to see"
	fi
else
	not_tested "the progress line: script(1) is missing or cannot run (Debian: bsdutils)"
fi

check "a file past 4 GiB (sparse), and an entry stored after it: sizes and offsets only ZIP64 can hold"
big=$((4 * 1024 * 1024 * 1024 + 4097))
avail=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
if [ "${avail:-0}" -lt $((3 * big / 1024)) ]; then
	not_tested "a file past 4 GiB: less than $((3 * big >> 30)) GiB free in $W"
else
	mkdir -p "$W/big" && cp "$W/tree/zarr.json" "$W/big/" || fail "mkdir"
	truncate -s "$big" "$W/big/a-big" || fail "truncate"
	printf 'the last few bytes' >>"$W/big/a-big"
	printf 'after 4 GiB' >"$W/big/b-after"
	ozx_run bigpack pack "$W/big" "$W/big.ozx"
	expect_rc 0 "ozx pack of a file past 4 GiB"
	rm -f "$W/big/a-big" # the archive is enough; keep the disk for others
	"$PY" - "$W/big.ozx" "$((big + 18))" <<'EOF2' || fail "a file past 4 GiB"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
a, b = z.getinfo("a-big"), z.getinfo("b-after")
if a.file_size != int(sys.argv[2]) or a.compress_size != a.file_size:
    sys.exit(f"a-big: size {a.file_size}, want {sys.argv[2]}")
if b.header_offset < 1 << 32:
    sys.exit(f"b-after at {b.header_offset}: not past 4 GiB")
if z.read("b-after") != b"after 4 GiB":
    sys.exit("b-after: other bytes")
with z.open("a-big") as f:
    f.seek(a.file_size - 18)
    if f.read() != b"the last few bytes":
        sys.exit("a-big: other bytes at its end")
EOF2
	ozx_run bigchk check -q "$W/big.ozx"
	expect_rc 0 "ozx check of a file past 4 GiB"
	expect_line out "'$W/big.ozx': ok; 3 entries, 3 files verified (4.0 GiB)" "ozx check of a file past 4 GiB"
	readers=zipfile
	if command -v unzip >/dev/null; then
		unzip -p "$W/big.ozx" b-after | grep -qx "after 4 GiB" || fail "unzip -p of the entry past 4 GiB"
		readers="zipfile and unzip"
	fi
	rm -f "$W/big.ozx"
	ok "read back by $readers; ozx check clean"
fi

echo "PASS: $TEST_NAME"
