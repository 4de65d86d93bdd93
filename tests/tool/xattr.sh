#!/usr/bin/env bash
# xattr.sh - the user.ozx.* extended attributes on the mount agree with
# ozx ls (crc32, method, offset, compressed_size of every file) and ozx
# check (user.ozx.rfc9 on the root), user.ozx.verified follows the reads,
# and listxattr lists exactly them.  Skipped while the daemon does not
# serve them (getxattr gives ENODATA or ENOTSUP).

. "$(dirname "$0")/lib.sh"
require_mount
command -v getfattr >/dev/null || skip "getfattr (package attr) is missing"

MNT=$W/mnt
make_zarr_tree "$W/tree"
"$OZX" pack -q "$W/tree" "$W/tree.ozx" || fail "ozx pack"
mount_ozx "$W/tree.ozx" "$MNT"

check "the daemon serves user.ozx.crc32"
if ! getfattr --only-values -n user.ozx.crc32 "$MNT/zarr.json" >"$W/probe" 2>"$W/probe.err"; then
	if grep -qE 'No such attribute|Operation not supported|not supported' "$W/probe.err"; then
		unmount_ozx "$MNT"
		skip "getxattr user.ozx.crc32 on the mount: $(head -n 1 "$W/probe.err" | sed 's/.*: //'); fs/daemon/xattr.c is not wired into the daemon's getxattr/listxattr ops yet"
	fi
	fail "getfattr: $(cat "$W/probe.err")"
fi
ok "$(cat "$W/probe")"

# xa FILE NAME: the value of attribute NAME of FILE.
xa()
{
	getfattr --only-values -n "$2" -- "$1" 2>"$W/xa.err" ||
		fail "getfattr -n $2 '$1': $(cat "$W/xa.err")"
}

check "every file's crc32, method, offset and compressed_size equal ozx ls"
"$OZX" ls "$W/tree.ozx" >"$W/ls.txt" || fail "ozx ls"
n=0
# METHOD CSIZE USIZE OFFSET CRC32 NAME (the name may hold spaces)
while read -r method csize usize off crc name; do
	case $name in */) continue ;; esac
	f=$MNT/$name
	got="$(xa "$f" user.ozx.method) $(xa "$f" user.ozx.compressed_size) $(xa "$f" user.ozx.offset) $(xa "$f" user.ozx.crc32)"
	want="$method $csize $off $crc"
	[ "$got" = "$want" ] || fail "'$name': xattrs '$got', ozx ls '$want'"
	[ "$(stat -c %s -- "$f")" = "$usize" ] || fail "'$name': size differs from ozx ls"
	n=$((n + 1))
done <"$W/ls.txt"
[ "$n" -gt 10 ] || fail "only $n files compared"
ok "$n files"

check "user.ozx.verified: no before the first read, yes after it"
[ "$(xa "$MNT/big" user.ozx.verified)" = no ] || fail "'big' verified before any read"
cat "$MNT/big" >/dev/null || fail "cat"
[ "$(xa "$MNT/big" user.ozx.verified)" = yes ] || fail "'big' not verified after a read"
ok "no, then yes"

check "listxattr: the five names on a file, two on the root, none on another directory"
getfattr -d -m - --absolute-names "$MNT/img/0/c/0/0/0" | sed -n 's/=.*//p' | sort >"$W/names"
printf '%s\n' user.ozx.compressed_size user.ozx.crc32 user.ozx.method \
	user.ozx.offset user.ozx.verified >"$W/names.want"
diff -u "$W/names.want" "$W/names" >&2 || fail "listxattr of a file"
getfattr -d -m - --absolute-names "$MNT" | sed -n 's/=.*//p' | sort >"$W/rnames"
printf '%s\n' user.ozx.comment user.ozx.rfc9 >"$W/rnames.want"
diff -u "$W/rnames.want" "$W/rnames" >&2 || fail "listxattr of the root"
[ -z "$(getfattr -d -m - --absolute-names "$MNT/img" 2>/dev/null)" ] || fail "a directory has xattrs"
expect_fail "No such attribute" "getfattr of an unknown name" \
	getfattr -n user.ozx.nope "$MNT/zarr.json"
ok "names"

check "the root: user.ozx.comment is the comment, user.ozx.rfc9 the summary of ozx check"
[ "$(xa "$MNT" user.ozx.comment)" = \
	'{"ome":{"version":"0.5","zipFile":{"centralDirectory":{"jsonFirst":true}}}}' ] ||
	fail "user.ozx.comment: '$(xa "$MNT" user.ozx.comment)'"
"$OZX" check --json --no-crc "$W/tree.ozx" >"$W/check.json"
want=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["summary"])' "$W/check.json")
got=$(xa "$MNT" user.ozx.rfc9)
[ "$got" = "$want" ] || fail "user.ozx.rfc9 '$got', ozx check says '$want'"
[ "$got" = "ok" ] || fail "user.ozx.rfc9 '$got', want 'ok' (ozx pack writes ZIP64)"
ok "$got"
unmount_ozx "$MNT"

check "a corrupt entry: reading it fails and user.ozx.verified says corrupt"
"$PY" - "$W/tree.ozx" "$W/bad.ozx" <<'EOF' || fail "python"
import sys, zipfile
raw = bytearray(open(sys.argv[1], "rb").read())
zi = zipfile.ZipFile(sys.argv[1]).getinfo("img/0/c/0/0/1")
raw[zi.header_offset + 30 + len(zi.filename) + 500] ^= 0x55
open(sys.argv[2], "wb").write(raw)
EOF
mount_ozx "$W/bad.ozx" "$MNT"
! cat "$MNT/img/0/c/0/0/1" >/dev/null 2>&1 || fail "a corrupt entry was read"
[ "$(xa "$MNT/img/0/c/0/0/1" user.ozx.verified)" = corrupt ] || fail "not marked corrupt"
unmount_ozx "$MNT"
ok "corrupt"

echo "PASS: $TEST_NAME"
