#!/usr/bin/env bash
# ls.sh - ozx ls prints what Python's zipfile sees, record for record, in
# central directory order: method, sizes, data offset (from the local
# header, as zipfile finds it), CRC-32, name; --long adds the time and the
# flags.  Archives from Python (STORED, DEFLATE, forced ZIP64 extras,
# directory records, duplicates, hidden names) and from ozx pack.

. "$(dirname "$0")/lib.sh"

# expect_ls ARCHIVE [--long]: ozx ls ARCHIVE equals Python's listing.
expect_ls()
{
	local a=$1 long=${2:-}
	# shellcheck disable=SC2086
	ozx_run ls ls $long "$a"
	expect_rc 0 "ozx ls $long $(basename "$a")"
	"$PY" - "$a" "$long" >"$W/ls.want" <<'EOF' || fail "python listing of '$a'"
import struct, sys, zipfile
path, long = sys.argv[1], sys.argv[2] == "--long"
z = zipfile.ZipFile(path)
raw = open(path, "rb").read()
infos = z.infolist()
last = {i.filename: k for k, i in enumerate(infos)}

def hidden(n):
    parts = n.rstrip("/").split("/")
    return (n.startswith("/") or any(p in ("", ".", "..") for p in parts)
            or any(o.filename.startswith(n + "/") for o in infos))

for k, i in enumerate(infos):
    n = i.filename
    method = {0: "stored", 8: "deflate"}.get(i.compress_type,
                                            str(min(i.compress_type, 255)))
    flags = []
    if n.endswith("/"):
        flags.append("dir")
    if not n.endswith("/") and hidden(n):
        flags.append("hidden")
    elif last[n] != k:
        flags.append("superseded")
    if flags or i.compress_type not in (0, 8):
        off = "-"  # the core serves STORED and DEFLATE only
    else:
        h = i.header_offset
        nlen, xlen = struct.unpack("<HH", raw[h + 26:h + 30])
        off = str(h + 30 + nlen + xlen)
    line = f"{method:<7} {i.compress_size:12} {i.file_size:12} {off:>12} {i.CRC:08x} "
    if long:
        line += "%04d-%02d-%02d %02d:%02d:%02d " % i.date_time
        line += (",".join(flags) or "-") + " "
    print(line + n)
EOF
	if ! diff -u "$W/ls.want" "$W/ls.out" >"$W/ls.diff"; then
		head -n 40 "$W/ls.diff" >&2
		fail "ozx ls $long of '$a' differs from Python's zipfile"
	fi
}

check "an archive with every kind of record, made by Python's zipfile"
"$PY" - "$W/mixed.ozx" <<'EOF' || fail "python"
import sys, warnings, zipfile
warnings.simplefilter("ignore")
with zipfile.ZipFile(sys.argv[1], "w") as z:
    def put(name, data, method=zipfile.ZIP_STORED, date=(2024, 5, 6, 7, 8, 10), force=False):
        zi = zipfile.ZipInfo(name, date)
        zi.compress_type = method
        with z.open(zi, "w", force_zip64=force) as w:
            w.write(data)
    put("zarr.json", b'{"zarr_format":3,"node_type":"group"}')
    z.writestr(zipfile.ZipInfo("dir/", (2001, 2, 3, 4, 5, 6)), b"")
    put("dir/a b.bin", bytes(range(256)) * 3)
    put("é/日本", b"utf-8 names")
    put("numbers.txt", "\n".join(map(str, range(20000))).encode(), zipfile.ZIP_DEFLATED)
    put("empty", b"")
    put("big64", b"z" * 100000, force=True)
    put("dup", b"first")
    put("dup", b"second, the one that counts", date=(2030, 12, 31, 23, 59, 58))
    put("../evil", b"hidden")
    put("shadow", b"a file that a directory hides")
    put("shadow/inner", b"x")
    put("last", b"!" * 4097, zipfile.ZIP_DEFLATED)
    put("bzip2", b"bzip2 is method 12" * 100, zipfile.ZIP_BZIP2)
EOF
expect_ls "$W/mixed.ozx"
ok "$(wc -l <"$W/ls.out") lines equal"
expect_ls "$W/mixed.ozx" --long
ok "--long: $(wc -l <"$W/ls.out") lines equal"

check "an archive made by ozx pack"
make_zarr_tree "$W/tree"
"$OZX" pack "$W/tree" "$W/tree.ozx" || fail "ozx pack"
expect_ls "$W/tree.ozx"
expect_ls "$W/tree.ozx" --long
ok "$(wc -l <"$W/ls.out") lines equal"

check "zipinfo agrees on sizes and methods"
if command -v zipinfo >/dev/null; then
	# perms version os USIZE type CSIZE METHOD date time NAME...
	zipinfo -l "$W/tree.ozx" | awk '$1 ~ /^[-d]r/ {
		n = $10; for (i = 11; i <= NF; i++) n = n " " $i
		print ($7 == "stor" ? "stored" : $7), $6, $4, n }' | sort >"$W/zi.txt"
	# METHOD CSIZE USIZE OFFSET CRC32 DATE TIME FLAGS NAME... (--long)
	awk '{ n = $9; for (i = 10; i <= NF; i++) n = n " " $i
		print $1, $2, $3, n }' "$W/ls.out" | sort >"$W/ozx.txt"
	diff -u "$W/zi.txt" "$W/ozx.txt" >&2 || fail "zipinfo and ozx ls disagree"
	ok "zipinfo agrees"
else
	echo "note: zipinfo is missing; not compared"
fi

check "errors: a missing archive, not an archive, usage"
ozx_run missing ls "$W/nonexistent.ozx"
expect_rc 1 "ozx ls of a missing file"
expect_in err "ozx: cannot open '$W/nonexistent.ozx': No such file or directory" "missing file"
head -c 1000 /dev/urandom >"$W/junk.ozx"
ozx_run junk ls "$W/junk.ozx"
expect_rc 1 "ozx ls of junk"
expect_in err "ozx: '$W/junk.ozx' is not a usable archive: not a ZIP archive" "junk"
ozx_run usage ls
expect_rc 64 "ozx ls without a file"
ozx_run usage2 ls -x "$W/tree.ozx"
expect_rc 64 "ozx ls -x"
ozx_run help ls --help
expect_rc 0 "ozx ls --help"
ok "errors"

echo "PASS: $TEST_NAME"
