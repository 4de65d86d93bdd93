#!/usr/bin/env bash
# shellcheck disable=SC2016 # the bash -c scripts take "$1" on purpose
# allow_other.sh - sharing a mount with other users.  Mounted by root with
# -o allow_other, another user (nobody, through setpriv) lists and reads
# the tree; without it, every access by that user fails with EACCES
# ("Permission denied").  Writing fails either way: EROFS with
# allow_other (the kernel's read-only check comes first), EACCES without.
# Every mount has default_permissions, nosuid and nodev.  A mount made by a
# user (fusermount3) is closed to everyone else, root included, and a user
# may add allow_other only where /etc/fuse.conf has user_allow_other.

. "$(dirname "$0")/sys.sh"
sys_private_ns "$@"
. "$SYS_DIR/../mount/lib.sh"
require_mount
sys_nobody || skip "$SYS_WHY"

SRC=$W/src
MNT=$W/mnt
mkdir -p "$SRC/0/c" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
printf '{"zarr_format":3,"node_type":"array"}\n' >"$SRC/0/zarr.json"
head -c 300000 /dev/urandom >"$SRC/0/c/0" || fail urandom
head -c 100 /dev/urandom >"$SRC/0/c/1" || fail urandom
A=$W/share.ozx
make_ozx "$SRC" "$A" stored
chmod 644 "$A"

EACCES="Permission denied"
EROFS="Read-only file system"

# mount_options MNT: MI_OPTS (per-mount) and MI_SUPER (file system options).
mount_options()
{
	local l
	l=$(mountinfo_line "$1") || fail "'$1' is not mounted"
	MI_OPTS=$(awk '{ print $6 }' <<<"$l")
	MI_SUPER=${l##* }
}

has_opt()
{
	[[ ",$1," == *",$2,"* ]]
}

# nobody_listing DIR: tree_listing of DIR as nobody.
nobody_listing()
{
	"${AS_NOBODY[@]}" bash -c "$(declare -f tree_listing)"'; tree_listing "$1"' _ "$1"
}

check "=== root mounts with -o allow_other: nobody reads ==="
mount_ozx "$A" "$MNT" -o allow_other
mount_options "$MNT"
for o in ro nosuid nodev; do
	has_opt "$MI_OPTS" "$o" || fail "'$o' missing from mount options '$MI_OPTS'"
done
for o in default_permissions allow_other; do
	has_opt "$MI_SUPER" "$o" || fail "'$o' missing from '$MI_SUPER'"
done
ok "mount options $MI_OPTS; $MI_SUPER"

check "nobody lists the whole tree"
tree_listing "$SRC" >"$W/list.src" || fail "find in the source tree"
nobody_listing "$MNT" >"$W/list.nb" || fail "find as nobody failed"
diff -u "$W/list.src" "$W/list.nb" || fail "nobody's listing differs from the source tree"
ok "$(wc -l <"$W/list.nb") paths"
check "nobody reads every file"
for f in zarr.json 0/zarr.json 0/c/0 0/c/1; do
	"${AS_NOBODY[@]}" cat "$MNT/$f" >"$W/out" || fail "nobody cannot read '$f'"
	cmp "$SRC/$f" "$W/out" || fail "'$f' read by nobody differs"
done
ok "4 files identical"
check "modes are the kernel's to check (default_permissions): owner root, 0444/0555"
st=$("${AS_NOBODY[@]}" stat -c '%u %a' "$MNT/0/c/0" "$MNT/0") || fail "stat as nobody"
[ "$st" = "$(printf '0 444\n0 555')" ] || fail "owner and modes '$st'"
ok "${st//$'\n'/, }"
expect_fail "$EACCES" "nobody executes a 0444 file" "${AS_NOBODY[@]}" "$MNT/0/c/1"
check "nobody cannot write"
expect_fail "$EROFS" "nobody creates a file" "${AS_NOBODY[@]}" bash -c ': >"$1"' _ "$MNT/new"
expect_fail "$EROFS" "nobody opens a file for appending" "${AS_NOBODY[@]}" bash -c 'exec 3>>"$1"' _ "$MNT/0/c/1"
expect_fail "$EROFS" "nobody makes a directory" "${AS_NOBODY[@]}" mkdir "$MNT/0/d"
expect_fail "$EROFS" "nobody removes a file" "${AS_NOBODY[@]}" rm -f "$MNT/0/c/1"
cmp "$SRC/0/c/1" "$MNT/0/c/1" || fail "0/c/1 changed"
unmount_ozx "$MNT"

check "=== root mounts without allow_other: nobody gets EACCES, root reads ==="
mount_ozx "$A" "$MNT"
mount_options "$MNT"
has_opt "$MI_SUPER" allow_other && fail "allow_other in '$MI_SUPER'"
has_opt "$MI_SUPER" default_permissions || fail "default_permissions missing from '$MI_SUPER'"
expect_fail "$EACCES" "nobody reads a file" "${AS_NOBODY[@]}" cat "$MNT/0/c/0"
expect_fail "$EACCES" "nobody lists the root" "${AS_NOBODY[@]}" ls "$MNT"
expect_fail "$EACCES" "nobody stats a directory" "${AS_NOBODY[@]}" stat "$MNT/0"
expect_fail "$EACCES" "nobody creates a file" "${AS_NOBODY[@]}" bash -c ': >"$1"' _ "$MNT/new"
expect_fail "$EACCES" "nobody opens a file for appending" "${AS_NOBODY[@]}" bash -c 'exec 3>>"$1"' _ "$MNT/0/c/1"
cmp "$SRC/0/c/0" "$MNT/0/c/0" || fail "root cannot read its own mount"
ok "root reads"
unmount_ozx "$MNT"

check "=== a user's own mount (fusermount3) ==="
if ! sys_user_mount_ok; then
	# The claim of this test, root's mount shared or not, is tested.
	not_tested "a user's own mount (fusermount3): $SYS_WHY"
	exit 0
fi
NMNT=$W/nobody-mnt
sys_nobody_dir "$NMNT"
OZXFS_WRAPPER="${AS_NOBODY[*]} ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$NMNT"
"${AS_NOBODY[@]}" cat "$NMNT/0/c/0" >"$W/out" || fail "nobody cannot read its own mount"
cmp "$SRC/0/c/0" "$W/out" || fail "0/c/0 differs"
ok "nobody reads its own mount"
mount_options "$NMNT"
has_opt "$MI_SUPER" "user_id=$NB_UID" || fail "mount not owned by nobody: '$MI_SUPER'"
expect_fail "$EACCES" "root reads nobody's mount (no allow_other)" cat "$NMNT/0/c/0"
unmount_ozx "$NMNT"

if grep -Eq '^[[:space:]]*user_allow_other[[:space:]]*$' /etc/fuse.conf 2>/dev/null; then
	check "user_allow_other is set: nobody's allow_other mount is open to root"
	OZXFS_WRAPPER="${AS_NOBODY[*]} ${OZXFS_WRAPPER:-}" mount_ozx "$A" "$NMNT" -o allow_other
	cmp "$SRC/0/c/0" "$NMNT/0/c/0" || fail "root cannot read nobody's allow_other mount"
	ok "root reads"
	unmount_ozx "$NMNT"
else
	check "without user_allow_other in /etc/fuse.conf, nobody's -o allow_other is refused (exit 4), saying why"
	# shellcheck disable=SC2086 # OZXFS_WRAPPER is a command prefix
	"${AS_NOBODY[@]}" ${OZXFS_WRAPPER:-} "$OZXFS" -f -o allow_other "$A" "$NMNT" >"$W/out" 2>"$W/err" &
	pid=$!
	track_pid "$pid"
	wait_gone "$pid" 30 || fail "daemon still running 30 s after a refused allow_other"
	wait "$pid"
	rc=$?
	is_mounted "$NMNT" && fail "'$NMNT' got mounted"
	[ "$rc" -eq 4 ] || { cat "$W/err" >&2; fail "exit status $rc, want 4"; }
	grep -q user_allow_other "$W/err" || { cat "$W/err" >&2; fail "the error does not mention user_allow_other"; }
	ok "exit 4: $(grep -m1 user_allow_other "$W/err")"
fi
exit 0
