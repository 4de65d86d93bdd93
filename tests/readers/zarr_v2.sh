#!/usr/bin/env bash
# zarr_v2.sh - Debian's python3-zarr (2.13) reads an OME-Zarr 0.4-style
# image it wrote itself (Blosc, Zstd and GZip arrays, '/' and '.' dimension
# separators, edge chunks, a labels group) through an ozxfs mount, exactly
# as from the directory it was written to:
#   - the tree packed the RFC-9 way (ozxpack.py: metadata first, STORED,
#     ZIP64, JSON comment) and the same tree packed by `zip -r` (DEFLATE,
#     directory entries);
#   - every array read whole through the mount and the source: the SHA-256
#     of the decoded bytes agree with each other and with the generator;
#   - a DataLoader-like workload: the parent opens the group on the mount,
#     then 8 forked workers (multiprocessing, fork) read hundreds of random
#     regions each and compare them with the source; zero errors.
# Never point python3-zarr 2.13 at Zarr v3 data (see zarr_v3.sh).

. "$(dirname "$0")/../mount/lib.sh"
require_mount

HERE=$(cd "$(dirname "$0")" && pwd)
SEED=${SEED:-7}
WORKERS=8
READS=${READS:-300}

"$PY" -c 'import zarr, numcodecs, numpy' 2>/dev/null ||
	skip "python3-zarr is not installed for $PY (Debian: apt-get install python3-zarr python3-numcodecs)"
zv=$("$PY" -c 'import zarr; print(zarr.__version__)')
case $zv in
2.*) ;;
*) skip "these tests need zarr-python 2.x (Debian's python3-zarr), $PY has zarr $zv" ;;
esac
command -v zip >/dev/null || skip "zip (Info-ZIP) is missing"

SRC=$W/v2
t0=$SECONDS
check "python3-zarr $zv writes the OME-Zarr 0.4 fixture"
"$PY" "$HERE/mkv2.py" "$SRC" "$W/manifest.json" || fail "mkv2.py failed"
ok "$(find "$SRC" -type f | wc -l) files, $(du -sk "$SRC" | cut -f1) KiB"

check "packing: RFC-9 layout (ozxpack.py) and zip -r"
"$PY" "$HERE/ozxpack.py" "$SRC" "$W/v2.ozx" || fail "ozxpack.py failed"
make_ozx "$SRC" "$W/v2-zip.ozx" zip
"$PY" - "$W/v2-zip.ozx" <<'EOF' || fail "the zip -r archive is not what this test needs"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
dirs = sum(i.is_dir() for i in z.infolist())
defl = sum(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
assert dirs > 0 and defl > 0, (dirs, defl)
print("zip -r: %d entries, %d DEFLATE, %d directory entries, first %s"
      % (len(z.infolist()), defl, dirs, z.infolist()[0].filename))
EOF
ok "packed"

# read_all ARCHIVE NAME READS: mount, compare every byte, read every
# array, run the forked workload, unmount.
read_all()
{
	local archive=$1 name=$2 reads=$3 mnt=$W/mnt-$2
	echo
	check "=== $name: $(basename "$archive") ==="
	mount_ozx "$archive" "$mnt"
	check "the mount lists the source tree and every file is byte-identical"
	"$PY" "$HERE/cmptree.py" "$SRC" "$mnt" || fail "$name: the mount is not the source tree"
	ok "same tree"
	check "python3-zarr reads every array through the mount and the source"
	"$PY" "$HERE/readv2.py" full "$SRC" "$mnt" "$W/manifest.json" ||
		fail "$name: arrays read through the mount differ"
	ok "every array identical"
	check "forked workers ($WORKERS x $reads random regions, fork start method)"
	"$PY" "$HERE/readv2.py" forked "$SRC" "$mnt" "$WORKERS" "$reads" "$SEED" ||
		fail "$name: forked workers saw errors"
	ok "zero errors"
	unmount_ozx "$mnt"
}

read_all "$W/v2.ozx" rfc9 "$READS"
read_all "$W/v2-zip.ozx" zip-r $((READS / 3))

echo "PASS: $TEST_NAME ($((SECONDS - t0)) s)"
