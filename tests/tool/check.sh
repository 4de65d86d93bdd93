#!/usr/bin/env bash
# check.sh - ozx check: one archive per rule, made here with Python's
# zipfile, each asserting the rule's message and the exit status (0 clean,
# 1 warnings only, 2 errors, 3 could not check); a corrupt entry is named;
# --json is JSON with the same findings.

. "$(dirname "$0")/lib.sh"

FX=$W/fx
mkdir -p "$FX" || fail "mkdir"

check "making one fixture per rule with Python's zipfile"
"$PY" - "$FX" <<'EOF' || fail "fixtures"
import os, struct, sys, warnings, zipfile
warnings.simplefilter("ignore")  # duplicate names are wanted here
fx = sys.argv[1]
ROOT = b'{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5"}}}'
FULL = b'{"ome":{"version":"0.5","zipFile":{"centralDirectory":{"jsonFirst":true}}}}'
SHORT = b'{"ome":{"version":"0.5"}}'
CHUNK = bytes(range(256)) * 40
# root zarr.json first, the other zarr.json breadth first, then the rest
GOOD = [("zarr.json", ROOT), ("a/zarr.json", b"{}"), ("b/zarr.json", b"{}"),
        ("b/x/zarr.json", b"{}"), ("a/c/0", CHUNK), ("b/x/c/0", CHUNK[:999])]

def zip64_end(path):
    """Add the ZIP64 end records python writes only for big archives."""
    data = open(path, "rb").read()
    eocd = data.rfind(b"PK\x05\x06")
    (_, _, _, n, total, cd_size, cd_off, clen) = struct.unpack(
        "<IHHHHIIH", data[eocd:eocd + 22])
    rec = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0,
                      n, total, cd_size, cd_off)
    loc = struct.pack("<IIQI", 0x07064b50, 0, eocd, 1)
    open(path, "wb").write(data[:eocd] + rec + loc + data[eocd:])

def make(name, entries=GOOD, comment=FULL, zip64=True, deflate=(),
         prefix=b""):
    path = os.path.join(fx, name)
    with open(path, "wb") as f:
        f.write(prefix)
        with zipfile.ZipFile(f, "w") as z:
            for n, d in entries:
                zi = zipfile.ZipInfo(n, (2024, 1, 2, 3, 4, 6))
                zi.compress_type = (zipfile.ZIP_DEFLATED if n in deflate
                                    else zipfile.ZIP_STORED)
                z.writestr(zi, d)
            z.comment = comment
    if zip64:
        zip64_end(path)
    return path

make("clean.ozx")
make("clean.zip")
make("no-zip64.ozx", zip64=False)
make("no-root.ozx", [("img/" + n, d) for n, d in GOOD])
make("v2-root.ozx", [(".zgroup", b'{"zarr_format":2}'), (".zattrs", b"{}"),
                     ("0/.zarray", b"{}"), ("0/0", CHUNK)], comment=SHORT)
make("root-not-json.ozx", [("zarr.json", b"not json")] + GOOD[1:])
make("root-not-object.ozx", [("zarr.json", b"[1,2]")] + GOOD[1:])
make("nested-ozx.ozx", GOOD + [("b/inner.ozx", b"PK\x05\x06" + bytes(18))])
make("nested-zip.ozx", GOOD + [("b/inner.ZIP", b"PK\x05\x06" + bytes(18))])
make("deflate.ozx", deflate=("a/c/0",))
make("root-not-first.ozx", [GOOD[4]] + GOOD[:4] + GOOD[5:], comment=SHORT)
make("not-bfs.ozx", [GOOD[0], GOOD[3], GOOD[1], GOOD[2]] + GOOD[4:],
     comment=SHORT)
make("json-late.ozx", GOOD[:2] + [GOOD[4]] + GOOD[2:4] + GOOD[5:],
     comment=SHORT)
make("claim.ozx", [GOOD[0], GOOD[3], GOOD[1], GOOD[2]] + GOOD[4:])
# Claims inside a comment that is not JSON ("1.2.3" is no number): issue 15
make("claim-bad-json.ozx", [GOOD[0], GOOD[3], GOOD[1], GOOD[2]] + GOOD[4:],
     comment=FULL[:-1] + b',"x":1.2.3}')
make("mismatch-bad-json.ozx", comment=b'{"ome":{"version":"0.6"},"x":1.2.3}')
make("no-comment.ozx", comment=b"")
make("bad-comment.ozx", comment=b'{"ome": ')
make("comment-no-version.ozx", comment=b'{"ome":{}}')
make("comment-nul.ozx", comment=FULL + b"\0")
make("version-mismatch.ozx",
     comment=b'{"ome":{"version":"0.6","zipFile":{"centralDirectory":{"jsonFirst":true}}}}')
make("no-ome.ozx", [("zarr.json", b'{"zarr_format":3,"node_type":"group"}')] + GOOD[1:],
     comment=FULL)
make("hidden.ozx", GOOD + [("../evil", b"x")])
make("duplicate.ozx", GOOD + [("a/c/0", CHUNK[:10])])
make("split.ozx", prefix=b"PK\x07\x08")
p = make("dir-data.ozx")
# a directory record that carries data
with zipfile.ZipFile(p, "a") as z:
    z.writestr(zipfile.ZipInfo("d/"), b"data in a directory")
zip64_end(p)

# one corrupt entry: flip a byte in the middle of a/c/0's data
p = make("corrupt.ozx")
with zipfile.ZipFile(p) as z:
    zi = z.getinfo("a/c/0")
raw = bytearray(open(p, "rb").read())
off = zi.header_offset + 30 + len(zi.filename.encode())
raw[off + 1000] ^= 0xff
open(p, "wb").write(raw)

# a multi-disk archive: the end record says this is disk 1
p = make("multi-disk.ozx", zip64=False)
raw = bytearray(open(p, "rb").read())
eocd = raw.rfind(b"PK\x05\x06")
raw[eocd + 4:eocd + 8] = struct.pack("<HH", 1, 1)
open(p, "wb").write(raw)

open(os.path.join(fx, "not-a-zip.ozx"), "wb").write(b"hello, " * 100)

# The comment's JSON reader: valid texts (exit 0), invalid ones (exit 1).
valid = [
    b'{"ome":{"version":"0.5"},"x":[1,-2.5e+3,0.25,true,false,null,{"a":[]},""]}',
    b'{"ome":{"version":"\\u0030.5"}}',
    b' \t\r\n{ "ome" : { "version" : "0.5" } } ',
    b'{"ome":{"version":"0.5"},"s":"\\ud83d\\ude00 \\" \\\\ \\/ \\b\\f\\n\\r\\t \xc3\xa9"}',
    b'{"deep":' + b"[" * 60 + b"]" * 60 + b',"ome":{"version":"0.5"}}',
]
invalid = [
    b'{"ome":{"version":"0.5"}} x', b'{"ome":{"version":"0.5"},}',
    b'{"ome":{"version":01}}', b'{"ome":{"version":"0.5\xff"}}',
    b"{'ome':{'version':'0.5'}}", b'{"ome":{"version":"0.5"}',
    b'{"ome":{"version":"\\x"}}', b'{"ome":{"version":1.}}',
    b'{"deep":' + b"[" * 70 + b"]" * 70 + b',"ome":{"version":"0.5"}}',
    b'{"ome":{"version":"tab\there"}}', b'{"ome":{"version":-}}',
]
for k, c in enumerate(valid):
    make("json-ok-%d.ozx" % k, comment=c)
for k, c in enumerate(invalid):
    make("json-bad-%d.ozx" % k, comment=c)
EOF
ok "$(ls "$FX" | wc -l) fixtures"

# rule FIXTURE STATUS TEXT...: ozx check FIXTURE exits with STATUS and its
# report has every TEXT.
rule()
{
	local fx=$1 want=$2 t
	shift 2
	check "$fx: exit $want, $1"
	ozx_run "chk-$fx" check "$FX/$fx"
	expect_rc "$want" "ozx check $fx"
	for t in "$@"; do
		expect_in out "$t" "ozx check $fx"
	done
	ok "$(grep -E '^(error|warning)' "$W/chk-$fx.out" | head -n 3 | tr '\n' '|')"
}

rule clean.ozx 0 "'$FX/clean.ozx': ok; 6 entries, 6 files verified"
# every CRC-32 was checked: the summary says so and nothing else (issue 15)
expect_line out "'$FX/clean.ozx': ok; 6 entries, 6 files verified (11.1 KiB)" "ozx check clean.ozx"
# MUST / SHALL NOT: errors, exit 2
rule no-root.ozx 2 "error: no 'zarr.json' at the archive root: the hierarchy is in the directory 'img', but the archive's root must be the hierarchy's root [root-zarr-json, RFC-9 MUST]"
rule v2-root.ozx 2 "error: no 'zarr.json' at the archive root: a Zarr v2 hierarchy ('.zgroup')" "[root-zarr-json, RFC-9 MUST]"
rule root-not-json.ozx 2 "error: 'zarr.json' at the archive root is not valid JSON [root-zarr-json, RFC-9 MUST]"
rule root-not-object.ozx 2 "error: 'zarr.json' at the archive root is not a JSON object [root-zarr-json, RFC-9 MUST]"
rule nested-ozx.ozx 2 "error: 'b/inner.ozx' is a ZIP archive inside the archive: zipped OME-Zarr must not be nested [nested, RFC-9 SHALL NOT]"
rule nested-zip.ozx 2 "error: 'b/inner.ZIP' is a ZIP archive inside the archive" "[nested, RFC-9 SHALL NOT]"
rule multi-disk.ozx 2 "error: multi-disk archive (at offset " "[single-part, RFC-9 SHALL NOT]"
rule split.ozx 2 "error: the archive starts with a split-archive marker: it is one part of several [single-part, RFC-9 SHALL NOT]"
rule claim.ozx 2 "error: the archive comment claims jsonFirst: true, but the entries are not in that order [json-first-claim]" \
	"warning: 'a/zarr.json' comes after the deeper 'b/x/zarr.json'"
rule corrupt.ozx 2 "error: 'a/c/0': CRC-32 mismatch [entry]" "1 error, 0 warnings"
# the bytes of the files verified, not of every file read (issue 15)
expect_line out "'$FX/corrupt.ozx': 1 error, 0 warnings; 6 entries, 5 files verified (1.1 KiB), 1 corrupt" \
	"ozx check corrupt.ozx"
rule not-a-zip.ozx 2 "error: not a ZIP archive: no end of central directory record (at offset 0) [zip]"
# SHOULD: warnings, exit 1
rule no-zip64.ozx 1 "warning: no ZIP64 end of central directory record: RFC-9 recommends ZIP64 whatever the size [zip64, RFC-9 SHOULD]" "0 errors, 1 warning;"
rule deflate.ozx 1 "warning: 1 of 6 entries are compressed in the ZIP (the first is 'a/c/0'): Zarr chunks are compressed already, store them [stored, RFC-9 SHOULD]"
rule root-not-first.ozx 1 "warning: the first central directory record is 'a/c/0', not the root 'zarr.json' [json-first, RFC-9 SHOULD]" \
	"warning: the first entry in the file is 'a/c/0', not the root 'zarr.json' [json-first, RFC-9 SHOULD]"
rule not-bfs.ozx 1 "warning: 'a/zarr.json' comes after the deeper 'b/x/zarr.json': the 'zarr.json' entries are not in breadth-first order [json-first, RFC-9 SHOULD]"
rule json-late.ozx 1 "warning: 'b/zarr.json' comes after 'a/c/0' in the central directory: the 'zarr.json' entries should come first [json-first, RFC-9 SHOULD]" \
	"warning: 'a/c/0' is stored before 'b/x/zarr.json' in the file: the 'zarr.json' entries should come first [json-first, RFC-9 SHOULD]"
rule no-comment.ozx 1 "warning: no archive comment: RFC-9 recommends {\"ome\":{\"version\":\"...\"}} [comment, RFC-9 SHOULD]"
rule bad-comment.ozx 1 "warning: the archive comment is not valid UTF-8 JSON [comment, RFC-9 SHOULD]"
rule comment-no-version.ozx 1 "warning: the archive comment has no ome.version string [comment, RFC-9 SHOULD]"
rule comment-nul.ozx 1 "warning: the archive comment ends in a NUL byte (an older draft of RFC-9): JSON readers may reject it [comment, RFC-9 SHOULD]"
rule version-mismatch.ozx 1 "warning: the archive comment says OME-Zarr 0.6 but the root 'zarr.json' says 0.5 [ome-version]"
# one verdict on a comment: one that is not JSON claims nothing (issue 15)
rule claim-bad-json.ozx 1 "warning: the archive comment is not valid UTF-8 JSON [comment, RFC-9 SHOULD]" \
	"warning: 'a/zarr.json' comes after the deeper 'b/x/zarr.json'"
expect_not_in out "[json-first-claim]" "ozx check claim-bad-json.ozx"
rule mismatch-bad-json.ozx 1 "warning: the archive comment is not valid UTF-8 JSON [comment, RFC-9 SHOULD]"
expect_not_in out "[ome-version]" "ozx check mismatch-bad-json.ozx"
rule no-ome.ozx 1 "warning: 'zarr.json' at the archive root has no attributes.ome.version string: not OME-Zarr 0.5 or later [ome-version]"
rule clean.zip 1 "warning: the file name '$FX/clean.zip' does not end in '.ozx' [extension, RFC-9 SHOULD]"
# the core's warnings about names: exit 1
rule hidden.ozx 1 "warning: '../evil': '..' component: not shown on the mount [hidden]"
rule duplicate.ozx 1 "warning: 'a/c/0' occurs more than once: an earlier record is superseded by the last one [duplicate]"
rule dir-data.ozx 1 "warning: directory records with data (which is ignored): 1 [dir-data]"

check "the comment's JSON reader: valid texts pass, invalid ones are 'not valid UTF-8 JSON'"
for f in "$FX"/json-ok-*.ozx; do
	ozx_run jok check "$f"
	expect_rc 0 "ozx check $(basename "$f")"
done
for f in "$FX"/json-bad-*.ozx; do
	ozx_run jbad check "$f"
	expect_rc 1 "ozx check $(basename "$f")"
	expect_in out "the archive comment is not valid UTF-8 JSON [comment" "ozx check $(basename "$f")"
done
ok "$(ls "$FX"/json-ok-*.ozx | wc -l) valid, $(ls "$FX"/json-bad-*.ozx | wc -l) invalid"

check "every finding of the corrupt archive names the entry once; --no-crc does not read entries"
n=$(grep -c "CRC-32 mismatch" "$W/chk-corrupt.ozx.out")
[ "$n" -eq 1 ] || fail "CRC-32 mismatch reported $n times"
ozx_run nocrc check --no-crc "$FX/corrupt.ozx"
expect_rc 0 "ozx check --no-crc corrupt.ozx"
expect_line out "'$FX/corrupt.ozx': ok; 6 entries, CRC-32 not checked" "ozx check --no-crc"
ok "named once; --no-crc clean"

check "several threads or one: the same report"
ozx_run j1 check --jobs 1 "$FX/corrupt.ozx"
ozx_run j7 check -j 7 "$FX/corrupt.ozx"
cmp "$W/j1.out" "$W/j7.out" || fail "--jobs 1 and --jobs 7 report differently"
expect_rc 2 "ozx check -j 7"
ok "same"

check "--json: one JSON object with status, counts and findings"
ozx_run json check --json "$FX/corrupt.ozx"
expect_rc 2 "ozx check --json"
"$PY" - "$W/json.out" "$FX/corrupt.ozx" <<'EOF' || fail "--json output"
import json, sys
r = json.load(open(sys.argv[1]))
want = {"file": sys.argv[2], "status": 2, "errors": 1, "warnings": 0,
        "summary": "errors: entry", "entries": 6, "files": 6,
        "crc_checked": True, "verified": 5, "corrupt": 1}
for k, v in want.items():
    if r.get(k) != v:
        sys.exit(f"{k}: {r.get(k)!r}, want {v!r}")
f = r["findings"]
if f != [{"level": "error", "rule": "entry", "requirement": None,
          "message": "'a/c/0': CRC-32 mismatch"}]:
    sys.exit(f"findings: {f}")
EOF
ozx_run json2 check --json "$FX/claim.ozx"
expect_rc 2 "ozx check --json claim.ozx"
"$PY" - "$W/json2.out" <<'EOF' || fail "--json output"
import json, sys
r = json.load(open(sys.argv[1]))
rules = [(f["level"], f["rule"], f["requirement"]) for f in r["findings"]]
if ("error", "json-first-claim", None) not in rules or \
   ("warning", "json-first", "SHOULD") not in rules:
    sys.exit(f"findings: {rules}")
if r["summary"] != "errors: json-first-claim; warnings: json-first":
    sys.exit(f"summary: {r['summary']}")
EOF
ozx_run json3 check --json "$FX/not-a-zip.ozx"
expect_rc 2 "ozx check --json not-a-zip.ozx"
"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(r["findings"][0]["rule"] != "zip")' \
	"$W/json3.out" || fail "--json of a file that is not a ZIP"
ok "JSON"

check "could not check: exit 3 with a message on stderr"
ozx_run missing check "$FX/nonexistent.ozx"
expect_rc 3 "ozx check of a missing file"
expect_in err "ozx: cannot open '$FX/nonexistent.ozx': No such file or directory" "missing file"
expect_empty out "missing file"
ozx_run isdir check "$FX"
expect_rc 3 "ozx check of a directory"
ozx_run usage check
expect_rc 3 "ozx check without a file"
ozx_run badjobs check --jobs 0 "$FX/clean.ozx"
expect_rc 3 "ozx check --jobs 0"
ok "exit 3"

check "an archive just made by ozx pack is clean, exit 0 (more than 65535 entries: tests/tool/zip64.sh)"
make_zarr_tree "$W/tree"
"$OZX" pack "$W/tree" "$W/tree.ozx" || fail "ozx pack"
ozx_run packed check "$W/tree.ozx"
expect_rc 0 "ozx check of a packed archive"
expect_empty err "ozx check of a packed archive"
[ "$(cat "$W/packed.out")" = "'$W/tree.ozx': ok; 19 entries, 18 files verified (3.1 MiB)" ] ||
	{ _show_last; fail "ozx check of a packed archive: more than the summary"; }
ok "$(tail -n 1 "$W/packed.out")"

echo "PASS: $TEST_NAME"
