#!/usr/bin/env bash
# mount.sh - pack, mount, compare: the mount of what ozx pack wrote is the
# tree it packed (same listing, every file byte-equal), for a Zarr v3 tree
# with awkward names, a Zarr v2 tree and a generic --any tree.

. "$(dirname "$0")/lib.sh"
require_mount

MNT=$W/mnt

check "building the trees"
make_zarr_tree "$W/v3"
(
	set -e
	cd "$W/v3"
	mkdir -p "$(printf 'd%02d/' $(seq 1 40))"
	head -c 4097 /dev/urandom >"$(printf 'd%02d/' $(seq 1 40))leaf"
	head -c 255 /dev/urandom >"$(printf 'L%.0s' $(seq 1 255))"
	mkdir -p "deep empty/a/b"
) || fail "cannot extend the v3 tree"
mkdir -p "$W/v2/0/0" "$W/v2/labels" "$W/any/sub/empty" || fail "mkdir"
echo '{"zarr_format":2}' >"$W/v2/.zgroup"
echo '{"multiscales":[]}' >"$W/v2/.zattrs"
echo '{"zarr_format":2}' >"$W/v2/0/.zarray"
head -c 12345 /dev/urandom >"$W/v2/0/0/0"
echo '{"zarr_format":2}' >"$W/v2/labels/.zgroup"
head -c 999 /dev/urandom >"$W/any/sub/f"
ok "trees"

for t in v3 v2 any; do
	check "=== ozx pack of the $t tree, mounted ==="
	opt=
	[ "$t" = any ] && opt=--any
	# shellcheck disable=SC2086
	"$OZX" pack -q $opt "$W/$t" "$W/$t.ozx" 2>"$W/$t.err" || {
		cat "$W/$t.err" >&2
		fail "ozx pack of the $t tree"
	}
	mount_ozx "$W/$t.ozx" "$MNT"
	cmp_trees "$W/$t" "$MNT"
	unmount_ozx "$MNT"
done

echo "PASS: $TEST_NAME"
