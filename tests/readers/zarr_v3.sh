#!/usr/bin/env bash
# zarr_v3.sh - zarrita (node, pinned by tests/package-lock.json) reads an
# OME-Zarr 0.5 image it wrote itself (blosc and zstd arrays, '/' and '.'
# chunk keys, edge chunks, a labels group, one sharding_indexed array whose
# shards mkv3.mjs assembles from zarrita-encoded inner chunks) through an
# ozxfs mount, exactly as from the directory it was written to:
#   - the tree packed the RFC-9 way (ozxpack.py: root zarr.json first, the
#     other zarr.json breadth first, STORED, ZIP64, the ome JSON comment)
#     and packed by `zip -r` (DEFLATE, directory entries);
#   - every array read whole through the mount and the source: SHA-256 of
#     the decoded bytes agree with each other and with the generator;
#   - many chunk and region reads at once (Promise.all) in one process, and
#     several node processes doing that at the same time; zero errors.
# python3-zarr 2.13 is never pointed at this (Zarr v3) data.

. "$(dirname "$0")/../mount/lib.sh"
. "$(dirname "$0")/node.sh"
require_mount

HERE=$(cd "$(dirname "$0")" && pwd)
SEED=${SEED:-11}
N=${N:-500}		# reads at once in one process
PROCS=4
NP=${NP:-200}		# reads at once in each of the PROCS processes
export UV_THREADPOOL_SIZE=16	# let node have many file reads in flight

t0=$SECONDS
command -v zip >/dev/null || skip "zip (Info-ZIP) is missing"
setup_node "$W/js"

SRC=$W/v3
check "zarrita writes the OME-Zarr 0.5 fixture (and reads it back)"
node "$W/js/mkv3.mjs" "$SRC" "$W/manifest.json" || fail "mkv3.mjs failed"
ok "$(find "$SRC" -type f | wc -l) files, $(du -sk "$SRC" | cut -f1) KiB"

check "packing: RFC-9 layout (ozxpack.py) and zip -r"
"$PY" "$HERE/ozxpack.py" "$SRC" "$W/v3.ozx" || fail "ozxpack.py failed"
"$PY" - "$W/v3.ozx" <<'EOF' || fail "the RFC-9 archive does not start with the zarr.json breadth first"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
js = [n for n in names if n.rsplit("/", 1)[-1] == "zarr.json"]
assert names[:len(js)] == js and js[0] == "zarr.json", names[:5]
depth = [n.count("/") for n in js]
assert depth == sorted(depth), js
print("RFC-9: %s first, then %s" % (js[0], ", ".join(js[1:])))
EOF
make_ozx "$SRC" "$W/v3-zip.ozx" zip
"$PY" - "$W/v3-zip.ozx" <<'EOF' || fail "the zip -r archive is not what this test needs"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
dirs = sum(i.is_dir() for i in z.infolist())
defl = sum(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
assert dirs > 0 and defl > 0, (dirs, defl)
print("zip -r: %d entries, %d DEFLATE, %d directory entries, first %s"
      % (len(z.infolist()), defl, dirs, z.infolist()[0].filename))
EOF
ok "packed"

# read_all ARCHIVE NAME N PROCS NP: mount, compare the tree, read every
# array, N concurrent reads in one process, PROCS processes x NP, unmount.
read_all()
{
	local archive=$1 name=$2 n=$3 procs=$4 np=$5 mnt=$W/mnt-$2
	echo
	check "=== $name: $(basename "$archive") ==="
	mount_ozx "$archive" "$mnt"
	check "the mount lists the source tree and every file is byte-identical"
	"$PY" "$HERE/cmptree.py" "$SRC" "$mnt" || fail "$name: the mount is not the source tree"
	ok "same tree"
	check "zarrita reads every array through the mount and the source"
	node "$W/js/readv3.mjs" full "$SRC" "$mnt" "$W/manifest.json" ||
		fail "$name: arrays read through the mount differ"
	ok "every array identical"
	check "$n chunk and region reads at once (Promise.all), each compared with the source"
	node "$W/js/readv3.mjs" concurrent "$SRC" "$mnt" "$n" "$SEED" ||
		fail "$name: concurrent reads saw errors"
	ok "zero errors"
	check "$procs node processes at once, $np reads at once each"
	node "$W/js/readv3.mjs" procs "$SRC" "$mnt" "$procs" "$np" $((SEED + 100)) ||
		fail "$name: concurrent processes saw errors"
	ok "zero errors"
	unmount_ozx "$mnt"
}

read_all "$W/v3.ozx" rfc9 "$N" "$PROCS" "$NP"
read_all "$W/v3-zip.ozx" zip-r $((N / 3)) 2 $((NP / 2))

echo "PASS: $TEST_NAME ($((SECONDS - t0)) s)"
