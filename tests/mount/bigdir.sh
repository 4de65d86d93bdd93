#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012 # ls -f (raw readdir, no sort) is the point
# bigdir.sh - one directory of 100,000 entries (more than 65535 records, so
# the archive needs a ZIP64 end record): readdir lists them all exactly
# once, lookups find them, sampled contents are right.

. "$(dirname "$0")/lib.sh"
require_mount

N=100000
A=$W/bigdir.ozx
MNT=$W/mnt

# Entry i is "big/f%06d" holding "i\n" repeated 1 + i % 5 times.
check "building a $N-entry archive (Python zipfile, STORED)"
"$PY" - "$A" "$N" "$W/expect" <<'EOF' || fail "cannot build the archive"
import sys, zipfile
out, n, exp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
total = 0
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
    zf.writestr("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n')
    for i in range(n):
        data = (b"%d\n" % i) * (1 + i % 5)
        total += len(data)
        zi = zipfile.ZipInfo("big/f%06d" % i, (2020, 1, 1, 0, 0, 0))
        zf.writestr(zi, data)
with open(exp + ".names", "w") as f:
    for i in range(n):
        f.write("f%06d\n" % i)
with open(exp + ".total", "w") as f:
    f.write("%d\n" % total)
EOF
ok "$(stat -c %s "$A") bytes"

mount_ozx "$A" "$MNT"

check "ls -f of the directory: $N entries plus . and .."
n=$(ls -f "$MNT/big" | wc -l)
[ "$n" -eq $((N + 2)) ] || fail "ls -f | wc -l = $n, want $((N + 2))"
ok "$n"

check "the listing holds every name exactly once"
ls -f "$MNT/big" | grep -v '^\.\.\?$' | LC_ALL=C sort >"$W/names"
cmp "$W/names" "$W/expect.names" || {
	diff "$W/expect.names" "$W/names" | head -n 20 >&2
	fail "directory listing differs from the archive's names"
}
dups=$(uniq -d <"$W/names" | head -n 3)
[ -z "$dups" ] || fail "names listed twice: $dups"
ok "all names, no duplicates"

check "Python os.scandir sees the same count"
n=$("$PY" -c 'import os, sys; print(sum(1 for _ in os.scandir(sys.argv[1])))' "$MNT/big")
[ "$n" -eq "$N" ] || fail "os.scandir found $n entries, want $N"
ok "$n"

check "find lists every path; the sizes add up"
n=$(cd "$MNT" && find . -mindepth 1 | wc -l)
[ "$n" -eq $((N + 2)) ] || fail "find found $n paths, want $((N + 2)) (big/, zarr.json and $N files)"
total=$(find "$MNT/big" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
[ "$total" -eq "$(cat "$W/expect.total")" ] ||
	fail "sum of sizes $total, want $(cat "$W/expect.total")"
ok "$n paths, $total bytes"

check "sampled files have the right content"
expect_content()
{
	local i=$1 k
	k=$((1 + i % 5))
	cmp <(cat "$MNT/big/$(printf 'f%06d' "$i")") \
		<(for ((j = 0; j < k; j++)); do printf '%d\n' "$i"; done) ||
		fail "content of entry $i is wrong"
}
for i in 0 1 2 3 4 5 9999 65534 65535 65536 65537 99998 99999; do
	expect_content "$i"
done
RANDOM=4242
for _ in $(seq 1 40); do
	expect_content $(((RANDOM * 32768 + RANDOM) % N))
done
ok "53 samples"

for i in 1 2; do
	expect_fail "No such file or directory" "lookup of a name past the last (try $i)" \
		stat -- "$MNT/big/f100000"
done

unmount_ozx "$MNT"
echo "PASS: $TEST_NAME"
