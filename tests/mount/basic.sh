#!/usr/bin/env bash
# basic.sh - mount a tree of urandom files zipped several ways (Python
# zipfile STORED and DEFLATE, Info-ZIP zip -r) and check that the mount is
# the tree: same listing, same bytes, modes 0444/0555, owner, read-only,
# missing names missing.

. "$(dirname "$0")/lib.sh"
require_mount

SRC=$W/src
MNT=$W/mnt

check "building the source tree"
mkdir -p "$SRC" || fail "mkdir"
(
	set -e
	cd "$SRC"
	rnd() { head -c "$2" /dev/urandom >"$1"; }
	printf '{"zarr_format":3,"node_type":"group","attributes":{}}\n' >zarr.json
	mkdir -p img/0/c/0/0 img/1/c/0/0 labels
	printf '{"zarr_format":3,"node_type":"group"}\n' >img/zarr.json
	printf '{"zarr_format":3,"node_type":"array","shape":[4]}\n' >img/0/zarr.json
	printf '{"zarr_format":3,"node_type":"array","shape":[2]}\n' >img/1/zarr.json
	printf '{"zarr_format":3,"node_type":"group"}\n' >labels/zarr.json
	rnd img/0/c/0/0/0 1000
	rnd img/0/c/0/0/1 1001
	rnd img/1/c/0/0/0 77
	# sizes around page and block boundaries
	rnd size0 0
	rnd size1 1
	rnd size4095 4095
	rnd size4096 4096
	rnd size65537 65537
	rnd size3M $((3 * 1048576 + 123))
	: >empty
	: >img/empty
	# compressible, so that DEFLATE really deflates
	seq 1 60000 >numbers.txt
	# names with spaces, UTF-8, and names that sort around '/'
	mkdir -p "name with spaces" "é" "日本" "x" "x y"
	rnd "name with spaces/file with spaces.bin" 5000
	rnd "é/日本.bin" 3000
	rnd "日本/é" 12
	rnd "x.y" 10
	rnd "x-" 11
	rnd "x/y" 12
	rnd "x y/z" 13
	rnd "$(printf 'L%.0s' $(seq 1 255))" 255
	# an explicit empty directory
	mkdir -p emptydir
	# a deep path: 40 levels
	deep=$(printf 'd%02d/' $(seq 1 40))
	mkdir -p "$deep"
	rnd "${deep}leaf" 4097
) || fail "cannot build the source tree"
ok "$(find "$SRC" -type f | wc -l) files, $(find "$SRC" -type d | wc -l) directories"

# modes_and_owner MNT UID GID: every file 0444, every directory 0555, all
# owned by UID:GID.
modes_and_owner()
{
	local mnt=$1 uid=$2 gid=$3 got
	check "files are 0444 and directories 0555, owned by $uid:$gid"
	got=$(find "$mnt" -type f -printf '%m %U:%G\n' | sort -u)
	[ "$got" = "444 $uid:$gid" ] || fail "file modes/owners: '$got', want '444 $uid:$gid'"
	got=$(find "$mnt" -type d -printf '%m %U:%G\n' | sort -u)
	[ "$got" = "555 $uid:$gid" ] || fail "directory modes/owners: '$got', want '555 $uid:$gid'"
	got=$(stat -c '%a %F' "$mnt")
	[ "$got" = "555 directory" ] || fail "mount root: '$got', want '555 directory'"
	got=$(find "$mnt" ! -type f ! -type d | head -n 3)
	[ -z "$got" ] || fail "neither file nor directory: $got"
	ok "modes and owner"
}

missing_names()
{
	local mnt=$1 i
	for i in 1 2; do
		expect_fail "No such file or directory" "stat of a bogus name (try $i)" \
			stat -- "$mnt/no such entry"
		expect_fail "No such file or directory" "cat of a bogus nested name (try $i)" \
			cat -- "$mnt/img/0/c/nope/0"
	done
	expect_fail "Not a directory" "a file used as a directory" \
		stat -- "$mnt/zarr.json/x"
	expect_fail "No such file or directory" "a name extending an existing one" \
		stat -- "$mnt/size4096x"
}

read_only_mount()
{
	local mnt=$1 opts
	check "the mount is read-only (mount options and statvfs ST_RDONLY)"
	opts=$(mountinfo_line "$mnt" | awk '{ print $6 }')
	case ",$opts," in
	*,ro,*) ;;
	*) fail "mount options '$opts' lack ro" ;;
	esac
	"$PY" -c 'import os, sys
f = os.statvfs(sys.argv[1]).f_flag
sys.exit(0 if f & os.ST_RDONLY else 1)' "$mnt" || fail "statvfs of '$mnt' lacks ST_RDONLY"
	expect_fail "Read-only file system" "touch of a new name" touch -- "$mnt/newfile"
	ok "read-only ($opts)"
}

# ranges MNT: reads at offsets, before any whole-file read of that entry.
ranges()
{
	local mnt=$1 off
	check "range reads (dd) into the 3 MiB and 64 KiB files"
	for off in 3000000 1048576 0 7; do
		cmp <(dd if="$mnt/size3M" bs=65536 skip="$off" count=70000 iflag=skip_bytes,count_bytes status=none) \
			<(dd if="$SRC/size3M" bs=65536 skip="$off" count=70000 iflag=skip_bytes,count_bytes status=none) ||
			fail "size3M at offset $off differs"
	done
	cmp <(tail -c 1000 "$mnt/size65537") <(tail -c 1000 "$SRC/size65537") ||
		fail "tail of size65537 differs"
	cmp <(tail -c 100000 "$mnt/numbers.txt") <(tail -c 100000 "$SRC/numbers.txt") ||
		fail "tail of numbers.txt differs"
	ok "ranges"
}

UIDGID="$(id -u) $(id -g)"

for mode in stored deflate zip zip0; do
	if [ "${mode#zip}" != "$mode" ] && ! command -v zip >/dev/null; then
		echo "note: zip is missing, no Info-ZIP archive tested"
		continue
	fi
	A=$W/tree-$mode.ozx
	check "=== archive made with '$mode' ==="
	make_ozx "$SRC" "$A" "$mode"
	mount_ozx "$A" "$MNT"
	ranges "$MNT"
	cmp_trees "$SRC" "$MNT"
	# a second pass is served from the cache or the daemon: same bytes
	cmp "$SRC/size3M" "$MNT/size3M" || fail "second read of size3M differs"
	# shellcheck disable=SC2086
	modes_and_owner "$MNT" $UIDGID
	missing_names "$MNT"
	read_only_mount "$MNT"
	unmount_ozx "$MNT"
done

check "=== DEFLATE with verify=none: random access without a whole-entry check ==="
mount_ozx "$W/tree-deflate.ozx" "$MNT" -o verify=none
ranges "$MNT"
cmp_trees "$SRC" "$MNT"
unmount_ozx "$MNT"

check "=== -o uid=,gid= set the owner ==="
mount_ozx "$W/tree-stored.ozx" "$MNT" -o uid=4242,gid=4343
modes_and_owner "$MNT" 4242 4343
cmp "$SRC/size65537" "$MNT/size65537" || fail "size65537 differs with uid/gid"
unmount_ozx "$MNT"

MKSAMPLE=$(dirname "$0")/../../scripts/mksample
if [ -f "$MKSAMPLE" ]; then
	check "=== scripts/mksample: an RFC-9 OME-Zarr 0.5 archive, made twice ==="
	"$PY" "$MKSAMPLE" "$W/sample.ozx" "$W/sample" || fail "mksample failed"
	"$PY" "$MKSAMPLE" "$W/sample2.ozx" || fail "mksample failed"
	cmp "$W/sample.ozx" "$W/sample2.ozx" || fail "mksample output differs between runs"
	ok "byte-identical runs, $(stat -c %s "$W/sample.ozx") bytes"
	mount_ozx "$W/sample.ozx" "$MNT"
	cmp_trees "$W/sample" "$MNT"
	unmount_ozx "$MNT"
else
	not_tested "the sample archive: $MKSAMPLE is missing"
fi

echo "PASS: $TEST_NAME"
