#!/usr/bin/env bash
# pack.sh - ozx pack: the RFC-9 layout (checked with Python's zipfile),
# ZIP64 records whatever the size, read by libzip, Info-ZIP unzip and
# bsdtar too, reproducible bytes, never a half-written archive, and what
# it refuses.

. "$(dirname "$0")/lib.sh"

SRC=$W/src
OUT=$W/out
mkdir -p "$OUT" || fail "mkdir"
make_zarr_tree "$SRC"

# layout ARCHIVE SRC COMMENT DATE: what Python's zipfile sees is what RFC-9
# recommends and what ozx(1) promises, entry for entry.
layout()
{
	"$PY" - "$@" "$TESTSRC/readers" <<'EOF' || fail "layout of '$1'"
import os, stat, struct, sys, zipfile
path, src, comment, date, readers = sys.argv[1:6]
date = tuple(int(x) for x in date.split(","))
sys.path.insert(0, readers)
from ozxpack import rfc9_order  # the tests' one definition of the order

names = []
for root, dirs, files in os.walk(src):
    rel = os.path.relpath(root, src)
    rel = "" if rel == "." else rel + "/"
    if not dirs and not files and rel:
        names.append(rel)
    names.extend(rel + f for f in files)
want = rfc9_order(names)

z = zipfile.ZipFile(path)
infos = z.infolist()
names = [i.filename for i in infos]
if names != want:
    for a, b in zip(names, want):
        if a != b:
            sys.exit(f"order: got {a!r} where {b!r} belongs")
    sys.exit(f"order: got {len(names)} entries, want {len(want)}")
if z.comment != comment.encode():
    sys.exit(f"comment {z.comment!r}, want {comment!r}")
if z.comment.endswith(b"\0"):
    sys.exit("comment ends in NUL")
raw = open(path, "rb").read()
# ZIP64 end record and locator right before the end record, agreeing with it
eocd = len(raw) - 22 - len(z.comment)
loc = eocd - 20
sig, _, end64, disks = struct.unpack("<IIQI", raw[loc:eocd])
if sig != 0x07064b50 or disks != 1:
    sys.exit("no ZIP64 end locator before the end record")
(sig, size, _, need, _, _, n1, n2, cd_size, cd_off) = struct.unpack(
    "<IQHHIIQQQQ", raw[end64:end64 + 56])
if sig != 0x06064b50 or end64 + 56 != loc or size != 44 or need != 45:
    sys.exit("no ZIP64 end record where the locator says")
(_, _, _, m1, m2, s32, o32, _) = struct.unpack("<IHHHHIIH", raw[eocd:eocd + 22])
if n1 != n2 or n1 != len(infos) or cd_off + cd_size != end64 or \
   (m1, m2, s32, o32) != (min(n1, 0xffff), min(n1, 0xffff),
                          min(cd_size, 0xffffffff), min(cd_off, 0xffffffff)):
    sys.exit("ZIP64 end record and end record disagree")
last = -1
for i in infos:
    if i.compress_type != zipfile.ZIP_STORED:
        sys.exit(f"{i.filename}: method {i.compress_type}, want STORED")
    # the ZIP64 extra field and nothing else, in both headers
    want = struct.pack("<HHQQQ", 1, 24, i.file_size, i.file_size, i.header_offset)
    if i.extra != want:
        sys.exit(f"{i.filename}: central extra fields {i.extra!r}, want ZIP64 {want!r}")
    h = i.header_offset
    (sig, need, _, _, _, _, _, c32, u32, nlen, xlen) = struct.unpack(
        "<IHHHHHIIIHH", raw[h:h + 30])
    local_extra = raw[h + 30 + nlen:h + 30 + nlen + xlen]
    if sig != 0x04034b50 or need != 45 or (c32, u32) != (0xffffffff,) * 2 or \
       local_extra != struct.pack("<HHQQ", 1, 16, i.file_size, i.file_size):
        sys.exit(f"{i.filename}: local header without the ZIP64 sizes: {raw[h:h + 30 + nlen + xlen]!r}")
    if i.date_time != date:
        sys.exit(f"{i.filename}: time {i.date_time}, want {date}")
    if i.create_system != 3:
        sys.exit(f"{i.filename}: made on system {i.create_system}, want Unix")
    want_attr = ((stat.S_IFDIR | 0o755) << 16 | 0x10 if i.is_dir()
                 else (stat.S_IFREG | 0o644) << 16)
    if i.external_attr != want_attr:
        sys.exit(f"{i.filename}: attributes {i.external_attr:#x}, want {want_attr:#x}")
    if i.header_offset <= last:
        sys.exit(f"{i.filename}: local headers not in directory order")
    last = i.header_offset
    if not i.is_dir():
        with open(os.path.join(src, i.filename), "rb") as f:
            if z.read(i) != f.read():
                sys.exit(f"{i.filename}: content differs from the tree")
if z.testzip() is not None:
    sys.exit("testzip failed")
EOF
}

RFC9='{"ome":{"version":"0.5","zipFile":{"centralDirectory":{"jsonFirst":true}}}}'

check "pack a tree: exit 0, nothing on stderr when it is not a terminal"
ozx_run pack pack "$SRC" "$OUT/a.ozx"
expect_rc 0 "ozx pack"
expect_empty err "ozx pack"
expect_empty out "ozx pack"
ok "packed: $(stat -c %s "$OUT/a.ozx") bytes"

check "layout: zarr.json first and breadth first, the rest sorted, all STORED, comment, fixed times, ZIP64 records and no other extra field"
layout "$OUT/a.ozx" "$SRC" "$RFC9" 1980,1,1,0,0,0
ok "layout"

"$PY" -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' \
	"$OUT/a.ozx" >"$W/want.list" || fail "zipfile"

check "ozx check of the packed archive: clean, exit 0"
ozx_run chk check "$OUT/a.ozx"
expect_rc 0 "ozx check"
expect_line out "'$OUT/a.ozx': ok; $(grep -c . "$W/want.list") entries, $(grep -vc '/$' "$W/want.list") files verified (3.1 MiB)" \
	"ozx check"
[ "$(wc -l <"$W/chk.out")" -eq 1 ] || fail "ozx check: more than the summary"
ok "$(tail -n 1 "$W/chk.out")"

check "other readers: libzip (ziptool -c, zipcmp -t), Info-ZIP unzip -t, bsdtar -tf"
readers= missing=
if command -v ziptool >/dev/null && command -v zipcmp >/dev/null; then
	ziptool -c "$OUT/a.ozx" get_num_entries 0 >"$W/ziptool.out" 2>&1 ||
		{ cat "$W/ziptool.out" >&2; fail "ziptool -c (libzip's consistency check)"; }
	[ "$(cat "$W/ziptool.out")" = "$(grep -c . "$W/want.list") entries in archive" ] ||
		fail "ziptool: $(cat "$W/ziptool.out")"
	zipcmp -t "$OUT/a.ozx" "$OUT/a.ozx" >"$W/zipcmp.out" 2>&1 ||
		{ cat "$W/zipcmp.out" >&2; fail "zipcmp -t (libzip reads every entry, CRC-32 checked)"; }
	readers="$readers libzip"
else
	missing="$missing ziptool/zipcmp (Debian: ziptool, zipcmp)"
fi
if command -v unzip >/dev/null; then
	unzip -t "$OUT/a.ozx" >"$W/unzip.out" 2>&1 ||
		{ cat "$W/unzip.out" >&2; fail "unzip -t"; }
	grep -q "^No errors detected in compressed data of " "$W/unzip.out" ||
		fail "unzip -t: $(tail -n 1 "$W/unzip.out")"
	[ "$(grep -c '^ *testing: .* OK$' "$W/unzip.out")" -eq "$(grep -c . "$W/want.list")" ] ||
		fail "unzip -t did not test every entry"
	readers="$readers unzip"
else
	missing="$missing unzip (Debian: unzip)"
fi
if command -v bsdtar >/dev/null; then
	bsdtar -tf "$OUT/a.ozx" >"$W/bsdtar.list" 2>"$W/bsdtar.err" ||
		{ cat "$W/bsdtar.err" >&2; fail "bsdtar -tf"; }
	cmp "$W/bsdtar.list" "$W/want.list" || fail "bsdtar lists other names"
	bsdtar -xOf "$OUT/a.ozx" big | cmp - "$SRC/big" || fail "bsdtar -xOf big"
	readers="$readers bsdtar"
else
	missing="$missing bsdtar (Debian: libarchive-tools)"
fi
[ -z "$missing" ] || not_tested "reading with$missing"
ok "read by:$readers"

check "reproducible: packing again gives the same bytes"
ozx_run pack2 pack "$SRC" "$OUT/b.ozx"
expect_rc 0 "second pack"
cmp "$OUT/a.ozx" "$OUT/b.ozx" || fail "two packs of one tree differ"
ok "identical"

check "reproducible: a copy of the tree with other times, modes, umask and TZ gives the same bytes"
cp -r "$SRC" "$W/copy" || fail "cp"
touch -d '2001-02-03 04:05:06' "$W/copy/big" "$W/copy/img"
chmod 600 "$W/copy/zarr.json"
chmod 700 "$W/copy/img/0"
(umask 077 && TZ=Asia/Tokyo "$OZX" pack "$W/copy" "$OUT/c.ozx") ||
	fail "pack of the copy"
cmp "$OUT/a.ozx" "$OUT/c.ozx" || fail "the copy packs differently"
ok "identical"

check "the archive's mode follows the umask, like any new file"
got=$(stat -c %a "$OUT/a.ozx")
want=$(printf '%o' $((0666 & ~$(umask))))
[ "$got" = "$want" ] || fail "mode $got, want $want"
ok "mode $got"

check "SOURCE_DATE_EPOCH and --mtime set every entry's time, reproducibly"
SOURCE_DATE_EPOCH=1700000000 "$OZX" pack "$SRC" "$OUT/sde1.ozx" || fail "pack with SOURCE_DATE_EPOCH"
SOURCE_DATE_EPOCH=1700000000 TZ=America/New_York "$OZX" pack "$SRC" "$OUT/sde2.ozx" ||
	fail "pack with SOURCE_DATE_EPOCH"
cmp "$OUT/sde1.ozx" "$OUT/sde2.ozx" || fail "SOURCE_DATE_EPOCH packs differ"
layout "$OUT/sde1.ozx" "$SRC" "$RFC9" 2023,11,14,22,13,20
SOURCE_DATE_EPOCH=1700000000 "$OZX" pack --mtime=2024-02-03T04:05:06Z "$SRC" "$OUT/mt.ozx" ||
	fail "pack with --mtime"
layout "$OUT/mt.ozx" "$SRC" "$RFC9" 2024,2,3,4,5,6
"$OZX" pack --mtime=@315532800 "$SRC" "$OUT/mt2.ozx" || fail "pack with --mtime=@"
cmp "$OUT/a.ozx" "$OUT/mt2.ozx" || fail "--mtime=@315532800 is not the default"
ok "times"

check "--mtime=keep takes each file's own time (UTC)"
touch -d '2010-06-07 08:09:10 UTC' "$SRC/big"
"$OZX" pack --mtime=keep "$SRC" "$OUT/keep.ozx" || fail "pack --mtime=keep"
"$PY" - "$OUT/keep.ozx" <<'EOF' || fail "--mtime=keep"
import sys, zipfile
t = zipfile.ZipFile(sys.argv[1]).getinfo("big").date_time
sys.exit(0 if t == (2010, 6, 7, 8, 9, 10) else f"big: {t}")
EOF
ok "kept"

check "bad --mtime and SOURCE_DATE_EPOCH are usage errors"
ozx_run mtbad pack --mtime=yesterday "$SRC" "$OUT/x.ozx"
expect_rc 64 "--mtime=yesterday"
expect_in err "--mtime=yesterday" "--mtime=yesterday"
ozx_run mtold pack --mtime=1970-01-01 "$SRC" "$OUT/x.ozx"
expect_rc 64 "--mtime before 1980"
SOURCE_DATE_EPOCH=soon "$OZX" pack "$SRC" "$OUT/x.ozx" 2>"$W/sde.err"
[ $? -eq 64 ] || fail "SOURCE_DATE_EPOCH=soon: want exit 64"
[ ! -e "$OUT/x.ozx" ] || fail "an archive was written after a usage error"
ok "refused"

# nothing_left DIR NAME: no NAME and no temporary NAME.* in DIR.
nothing_left()
{
	local left
	left=$(cd "$1" && ls -A | grep -F -- "$2" || true)
	[ -z "$left" ] || fail "left behind in $1: $left"
}

check "an existing archive is kept without --force, replaced with it"
cp "$OUT/a.ozx" "$W/saved.ozx"
ozx_run exists pack "$W/copy" "$OUT/a.ozx"
expect_rc 1 "pack over an existing archive"
expect_in err "ozx: '$OUT/a.ozx' exists: not replaced (use --force)" "pack over an existing archive"
cmp "$OUT/a.ozx" "$W/saved.ozx" || fail "the existing archive changed"
echo extra >"$W/copy/extra"
ozx_run force pack --force "$W/copy" "$OUT/a.ozx"
expect_rc 0 "pack --force"
cmp -s "$OUT/a.ozx" "$W/saved.ozx" && fail "--force did not replace the archive"
nothing_left "$OUT" "a.ozx."
rm "$W/copy/extra"
ok "kept, then replaced"

check "a write that fails leaves neither the archive nor a temporary file"
(
	trap '' XFSZ
	ulimit -f 1024 # 512 KiB blocks: far less than the tree
	exec "$OZX" pack "$SRC" "$OUT/full.ozx"
) >"$W/full.out" 2>"$W/full.err"
RC=$? LAST=full
expect_rc 1 "pack into a file size limit"
expect_in err "ozx: cannot write '$OUT/full.ozx': File too large" "pack into a file size limit"
[ ! -e "$OUT/full.ozx" ] || fail "a half-written archive is at '$OUT/full.ozx'"
nothing_left "$OUT" "full.ozx"
ok "$(cat "$W/full.err")"

check "SIGINT while packing leaves neither the archive nor a temporary file"
mkdir -p "$W/slow" && cp "$SRC/zarr.json" "$W/slow/" || fail "mkdir"
for i in 1 2 3 4 5 6 7 8; do
	head -c $((16 << 20)) /dev/urandom >"$W/slow/chunk$i" || fail "urandom"
done
"$OZX" pack "$W/slow" "$OUT/slow.ozx" 2>"$W/slow.err" &
pid=$!
# under way: its temporary file is there (or it has ended already)
slow_started()
{
	pid_gone "$pid" || ls "$OUT" | grep -q '^slow\.ozx\.'
}
wait_until 4 slow_started
if pid_alive "$pid"; then
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 130 ] || fail "interrupted pack: exit status $rc, want 130 (SIGINT)"
	[ ! -e "$OUT/slow.ozx" ] || fail "an interrupted pack left '$OUT/slow.ozx'"
	nothing_left "$OUT" "slow.ozx"
	ok "interrupted: nothing left"
else
	wait "$pid"
	not_tested "SIGINT while packing: the pack finished before it could be interrupted"
	rm -f "$OUT/slow.ozx"
fi

check "refused: a symlink that leaves the tree (absolute and relative), naming it"
cp -r "$SRC" "$W/t1" || fail "cp"
ln -s /etc/hostname "$W/t1/img/abs"
ozx_run sl1 pack "$W/t1" "$OUT/t1.ozx"
expect_rc 1 "symlink out of the tree"
expect_in err "ozx: '$W/t1/img/abs' is a symlink that leads out of the tree (to '/etc/hostname'): not packed" \
	"symlink out of the tree"
rm "$W/t1/img/abs"
ln -s ../../src/big "$W/t1/img/rel"
ozx_run sl2 pack "$W/t1" "$OUT/t1.ozx"
expect_rc 1 "relative symlink out of the tree"
expect_in err "'$W/t1/img/rel' is a symlink that leads out of the tree" "relative symlink out of the tree"
[ ! -e "$OUT/t1.ozx" ] || fail "an archive was written"
nothing_left "$OUT" "t1.ozx"
rm "$W/t1/img/rel"
ok "refused"

check "a symlink inside the tree is packed as the file it names"
ln -s ../big "$W/t1/img/inside"
ozx_run sl3 pack "$W/t1" "$OUT/t1.ozx"
expect_rc 0 "symlink inside the tree"
"$PY" - "$OUT/t1.ozx" "$SRC/big" <<'EOF' || fail "symlink inside the tree"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
sys.exit(0 if z.read("img/inside") == open(sys.argv[2], "rb").read() else "differs")
EOF
rm "$W/t1/img/inside"
ln -s .. "$W/t1/img/loop"
ozx_run sl4 pack "$W/t1" "$OUT/t1b.ozx"
expect_rc 1 "symlink loop"
expect_in err "'$W/t1/img/loop' leads back to a directory it is in" "symlink loop"
rm "$W/t1/img/loop"
ok "packed; a loop is refused"

check "refused: FIFOs and device files, naming them"
mkfifo "$W/t1/fifo" || fail "mkfifo"
ozx_run fifo pack "$W/t1" "$OUT/t2.ozx"
expect_rc 1 "FIFO"
expect_in err "ozx: '$W/t1/fifo' is a FIFO: only regular files and directories can be packed" "FIFO"
rm "$W/t1/fifo"
if mknod "$W/t1/null" c 1 3 2>/dev/null; then
	ozx_run dev pack "$W/t1" "$OUT/t2.ozx"
	expect_rc 1 "device file"
	expect_in err "'$W/t1/null' is a character device" "device file"
	rm "$W/t1/null"
else
	not_tested "device files: mknod is not allowed here"
fi
ok "refused"

check "refused: an unreadable file, naming it"
chmod 000 "$W/t1/big"
# Root reads everything: drop the capabilities that let it (setpriv).
nodac=
if [ -r "$W/t1/big" ] && command -v setpriv >/dev/null &&
	setpriv --bounding-set=-dac_override,-dac_read_search true 2>/dev/null; then
	nodac="setpriv --bounding-set=-dac_override,-dac_read_search"
fi
if [ -r "$W/t1/big" ] && [ -z "$nodac" ]; then
	not_tested "an unreadable file: every file is readable for us (root without setpriv)"
else
	$nodac "$OZX" pack "$W/t1" "$OUT/t3.ozx" >"$W/unread.out" 2>"$W/unread.err"
	RC=$? LAST=unread
	expect_rc 1 "unreadable file"
	expect_in err "ozx: cannot read '$W/t1/big': Permission denied" "unreadable file"
	[ ! -e "$OUT/t3.ozx" ] || fail "an archive was written"
	ok "refused${nodac:+ (as root without CAP_DAC_OVERRIDE)}"
fi
chmod 644 "$W/t1/big"

check "refused: names ZIP readers or the mount cannot take (not UTF-8, too deep)"
mkdir -p "$W/t4" && cp "$SRC/zarr.json" "$W/t4/" || fail "mkdir"
: >"$W/t4/$(printf 'latin1-\xe9')"
ozx_run latin1 pack "$W/t4" "$OUT/t4.ozx"
expect_rc 1 "a name that is not UTF-8"
expect_in err "ozx: '$W/t4/latin1-\xe9': the name is not valid UTF-8, which ZIP readers need" \
	"a name that is not UTF-8"
rm -f "$W/t4/latin1-"*
deep=$W/t4/$(printf 'd/%.0s' $(seq 1 128))
mkdir -p "$deep" && : >"$deep/leaf" || fail "mkdir -p of 128 levels"
ozx_run deep pack "$W/t4" "$OUT/t4.ozx"
expect_rc 1 "a path 129 components deep"
expect_in err "/d/leaf': path deeper than 128 components" "a path 129 components deep"
[ ! -e "$OUT/t4.ozx" ] || fail "an archive was written"
ok "refused"

check "refused: a tree without a root zarr.json, unless --any"
mkdir -p "$W/plain/sub" && echo data >"$W/plain/sub/f" || fail "mkdir"
ozx_run plain pack "$W/plain" "$OUT/plain.ozx"
expect_rc 1 "no root zarr.json"
expect_in err "ozx: no 'zarr.json' in '$W/plain': not the root of a Zarr hierarchy (use --any to pack it anyway)" \
	"no root zarr.json"
ozx_run any pack --any "$W/plain" "$OUT/plain.zip"
expect_rc 0 "pack --any"
layout "$OUT/plain.zip" "$W/plain" "" 1980,1,1,0,0,0
ozx_run anyv pack --any --ome-version=0.5 "$W/plain" "$OUT/plainv.zip"
expect_rc 0 "pack --any --ome-version"
layout "$OUT/plainv.zip" "$W/plain" '{"ome":{"version":"0.5"}}' 1980,1,1,0,0,0
ok "refused; --any packs it without (or with a version-only) comment"

check "a Zarr v2 tree: .zgroup/.zattrs/.zarray/.zmetadata take the metadata place, with a warning"
mkdir -p "$W/v2/0/0" "$W/v2/labels" || fail "mkdir"
echo '{"zarr_format":2}' >"$W/v2/.zgroup"
echo '{"multiscales":[{"version":"0.4"}]}' >"$W/v2/.zattrs"
echo '{}' >"$W/v2/.zmetadata"
echo '{"zarr_format":2}' >"$W/v2/0/.zarray"
echo '{}' >"$W/v2/0/.zattrs"
echo '{"zarr_format":2}' >"$W/v2/labels/.zgroup"
head -c 100 /dev/urandom >"$W/v2/0/0/0"
ozx_run v2 pack --ome-version=0.4 "$W/v2" "$OUT/v2.ozx"
expect_rc 0 "pack of a Zarr v2 tree"
expect_in err "ozx: warning: '$W/v2' is a Zarr v2 hierarchy" "pack of a Zarr v2 tree"
layout "$OUT/v2.ozx" "$W/v2" '{"ome":{"version":"0.4"}}' 1980,1,1,0,0,0
"$PY" - "$OUT/v2.ozx" <<'EOF' || fail "v2 order"
import sys, zipfile
n = zipfile.ZipFile(sys.argv[1]).namelist()
want = [".zgroup", ".zattrs", ".zmetadata", "0/.zattrs", "0/.zarray", "labels/.zgroup", "0/0/0"]
sys.exit(0 if n == want else f"{n}")
EOF
ok "v2 layout"

check "the OME-Zarr version: --ome-version wins (with a warning if it differs), none gives no comment"
ozx_run ov pack --ome-version=0.6 "$SRC" "$OUT/ov.ozx"
expect_rc 0 "--ome-version=0.6"
expect_in err "ozx: warning: --ome-version=0.6, but '$SRC/zarr.json' says 0.5" "--ome-version=0.6"
layout "$OUT/ov.ozx" "$SRC" '{"ome":{"version":"0.6","zipFile":{"centralDirectory":{"jsonFirst":true}}}}' 1980,1,1,0,0,0
ozx_run ovbad pack '--ome-version=0.5"' "$SRC" "$OUT/ovbad.ozx"
expect_rc 1 "a version with a quote"
cp -r "$SRC" "$W/noome" && echo '{"zarr_format":3,"node_type":"group"}' >"$W/noome/zarr.json"
ozx_run noome pack "$W/noome" "$OUT/noome.ozx"
expect_rc 0 "zarr.json without ome.version"
expect_in err "has no attributes.ome.version: no RFC-9 comment written" "zarr.json without ome.version"
layout "$OUT/noome.ozx" "$W/noome" "" 1980,1,1,0,0,0
echo 'not json' >"$W/noome/zarr.json"
ozx_run badjson pack "$W/noome" "$OUT/badjson.ozx"
expect_rc 1 "zarr.json that is not JSON"
expect_in err "zarr.json' is not a JSON object" "zarr.json that is not JSON"
ok "versions"

check "refused: the archive inside the tree, a missing directory, usage errors"
ozx_run inside pack "$SRC" "$SRC/self.ozx"
expect_rc 1 "archive inside the tree"
expect_in err "would be inside the tree" "archive inside the tree"
ozx_run nodir pack "$W/nonexistent" "$OUT/n.ozx"
expect_rc 1 "missing directory"
expect_in err "ozx: cannot open the directory '$W/nonexistent': No such file or directory" "missing directory"
ozx_run usage pack "$SRC"
expect_rc 64 "one operand"
ozx_run usage2 pack --frobnicate "$SRC" "$OUT/u.ozx"
expect_rc 64 "unknown option"
expect_in err "unknown option '--frobnicate'" "unknown option"
mkdir "$W/emptytree"
ozx_run empty pack --any "$W/emptytree" "$OUT/e.ozx"
expect_rc 1 "empty tree"
expect_in err "nothing to pack" "empty tree"
ok "refused"

check "ozx --help, ozx pack --help, ozx --version"
ozx_run help --help
expect_rc 0 "--help"
expect_in out "pack" "--help"
ozx_run phelp pack --help
expect_rc 0 "pack --help"
expect_in out "usage: ozx pack" "pack --help"
ozx_run version --version
expect_rc 0 "--version"
expect_in out "ozx (ozxfs) " "--version"
ozx_run nocmd frobnicate
expect_rc 64 "unknown command"
ok "help"

echo "PASS: $TEST_NAME"
