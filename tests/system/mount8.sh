#!/usr/bin/env bash
# mount8.sh - mount(8) and fstab: "mount -t fuse.ozxfs" and "mount -a" on a
# temporary fstab (mount -T) go through the standard mount.fuse helper and
# mount the archive with the right options; the options mount(8), fstab and
# mount.fuse pass are accepted (rw refused, saying to use ro); umount ends
# the daemon with exit status 0.  A folder of archives too (fstab).
#
# Where ozxfs comes from: mount(8) clears PATH before it runs a helper, so
# mount.fuse's "sh -c 'ozxfs ...'" finds ozxfs only in sh's default path
# (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin), where
# "make install" puts it.  Nothing is installed there for the test: it runs
# in a mount namespace of its own (unshare -m, private propagation, so no
# mount leaks to the host) and bind-mounts a directory holding an ozxfs
# symlink over /usr/local/sbin, in that namespace only.
#
# Exit statuses: the daemon forks into the background, a grandchild of
# mount(8) that no shell can wait for; tests/system/reaper.py runs mount as a
# child subreaper, so the daemon is re-parented to it and its exit status
# is logged.

. "$(dirname "$0")/sys.sh"
sys_private_ns "$@"
. "$SYS_DIR/../mount/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "mount -t and mount -a need root"
[ -n "${SYS_PRIVATE_NS:-}" ] ||
	skip "no mount namespace of its own (unshare -m failed): cannot shadow /usr/local/sbin"
require_mount
HERE=$SYS_DIR

helper=
for d in /sbin /usr/sbin; do
	[ -x "$d/mount.fuse" ] && helper=$d/mount.fuse && break
done
[ -n "$helper" ] || skip "mount.fuse (package fuse3) is missing: mount -t fuse.TYPE has no helper"

SHADOW=
for d in /usr/local/sbin /usr/local/bin; do
	[ -d "$d" ] && SHADOW=$d && break
done
[ -n "$SHADOW" ] || skip "neither /usr/local/sbin nor /usr/local/bin exists to shadow"
mkdir -p "$W/bin" || fail mkdir
ln -s "$OZXFS" "$W/bin/ozxfs" || fail "ln -s"
mount --bind "$W/bin" "$SHADOW" || fail "mount --bind $W/bin $SHADOW (in a private mount namespace)"
found=$(env -u PATH /bin/sh -c 'command -v ozxfs')
[ "$found" = "$SHADOW/ozxfs" ] || fail "sh's default path finds '$found', want $SHADOW/ozxfs"
echo "note: ozxfs is $SHADOW/ozxfs -> $OZXFS in this mount namespace; helper $helper"

SRC=$W/src
MNT=$W/mnt
MNT2=$W/mnt2
mkdir -p "$SRC/0/c" "$MNT" "$MNT2" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
printf '{"zarr_format":3,"node_type":"array"}\n' >"$SRC/0/zarr.json"
head -c 200000 /dev/urandom >"$SRC/0/c/0" || fail urandom
head -c 3000 /dev/urandom >"$SRC/0/c/1" || fail urandom
A=$W/a.ozx
make_ozx "$SRC" "$A" stored

NRUN=0
# run_mount CMD...: run CMD (mount(8)) under the reaper and wait for it to
# finish; MOUNT_RC is its status, MERR its stderr, RLOG the reaper's log and
# REAPER its pid (it lives on while a daemon it adopted runs).
run_mount()
{
	NRUN=$((NRUN + 1))
	RLOG=$W/reaper.$NRUN
	MERR=$W/mount.err.$NRUN
	: >"$RLOG"
	echo "run: $*"
	"$PY" "$HERE/reaper.py" "$RLOG" "$@" 2>"$MERR" &
	REAPER=$!
	OZX_EXTRA_PIDS+=("$REAPER")
	wait_until 60 done_or_gone "$REAPER" grep -q '^run ' "$RLOG" ||
		fail "'$*' still running after 60 s"
	grep -q '^run ' "$RLOG" || { cat "$MERR" >&2; fail "reaper.py ended without running '$*'"; }
	MOUNT_RC=$(awk '$1 == "run" { print $3 }' "$RLOG")
}

# daemon_of MNT: pid of the ozxfs serving MNT (found by its argument).
daemon_of()
{
	local p c a
	local -a args
	for p in /proc/[0-9]*; do
		# builtins only: a fork per process is slow on some machines
		{ read -r c <"$p/comm"; } 2>/dev/null || continue
		[ "$c" = ozxfs ] || continue
		{ mapfile -d '' args <"$p/cmdline"; } 2>/dev/null || continue
		for a in "${args[@]}"; do
			[ "$a" = "$1" ] && { echo "${p#/proc/}"; return 0; }
		done
	done
	return 1
}

# expect_mounted MNT: mount(8) succeeded and MNT is an ozxfs mount of A;
# sets MI_OPTS (per-mount options), MI_SUPER (file system options), DPID.
expect_mounted()
{
	local l rest type src
	[ "$MOUNT_RC" = 0 ] || { cat "$MERR" >&2; fail "mount exit status $MOUNT_RC, want 0"; }
	l=$(mountinfo_line "$1") || { cat "$MERR" >&2; fail "mount returned 0 but '$1' is not mounted"; }
	OZX_PID_OF[$1]=0 # let cleanup unmount it
	MI_OPTS=$(awk '{ print $6 }' <<<"$l")
	rest=${l#* - }
	read -r type src MI_SUPER <<<"$rest"
	[ "$type" = fuse.ozxfs ] || fail "'$1' has type '$type', want fuse.ozxfs"
	[ "$src" = "$(mi_escape "$A")" ] || fail "'$1' has source '$src', want $A"
	DPID=$(daemon_of "$1") || fail "no ozxfs process serves '$1'"
	track_pid "$DPID"
	ok "fuse.ozxfs from $src, daemon $DPID; options $MI_OPTS; $MI_SUPER"
}

has_opt()
{
	[[ ",$1," == *",$2,"* ]]
}

# want_opts LIST OPT...: every OPT ("!OPT" for absent) as wanted in LIST.
want_opts()
{
	local list=$1 o
	shift
	for o in "$@"; do
		if [ "${o#!}" != "$o" ]; then
			has_opt "$list" "${o#!}" && fail "option '${o#!}' in '$list', want it absent"
		else
			has_opt "$list" "$o" || fail "option '$o' missing from '$list'"
		fi
	done
	return 0
}

# do_umount MNT...: umount(8) succeeds, MNT is gone, and every daemon the
# reaper adopted exits with status 0.
do_umount()
{
	local m
	check "umount $*; each daemon exits with status 0"
	umount "$@" || fail "umount $* failed"
	for m in "$@"; do
		is_mounted "$m" && fail "'$m' still mounted after umount"
		unset "OZX_PID_OF[$m]"
	done
}

# reaped_ok RLOG N: the reaper logged N ozxfs exits, all with status 0,
# once it has no child left.
reaped_ok()
{
	local log=$1 want=$2 pid=$3 got bad
	wait_gone "$pid" 30 || fail "a daemon of '$log' is still running 30 s after umount"
	wait "$pid" 2>/dev/null
	got=$(grep -c '^exit [0-9]* ozxfs ' "$log")
	bad=$(grep '^exit [0-9]* ozxfs ' "$log" | grep -v ' 0$')
	[ -z "$bad" ] || { cat "$log" >&2; fail "daemon exit status: $bad"; }
	[ "$got" -eq "$want" ] || { cat "$log" >&2; fail "$got ozxfs daemons ended, want $want"; }
	ok "$(grep '^exit [0-9]* ozxfs ' "$log" | tr '\n' ' ')"
}

check "=== mount -t fuse.ozxfs -o ro,allow_other ==="
run_mount mount -t fuse.ozxfs -o ro,allow_other "$A" "$MNT"
expect_mounted "$MNT"
want_opts "$MI_OPTS" ro nosuid nodev
want_opts "$MI_SUPER" default_permissions allow_other
cmp_trees "$SRC" "$MNT"
R1=$RLOG P1=$REAPER
do_umount "$MNT"
reaped_ok "$R1" 1 "$P1"

check "=== mount -t fuse.ozxfs without ro: mount(8) passes rw, refused with a hint ==="
run_mount mount -t fuse.ozxfs "$A" "$MNT"
[ "$MOUNT_RC" != 0 ] || fail "mount without ro succeeded"
grep -qF "option 'rw' refused" "$MERR" || { cat "$MERR" >&2; fail "no 'rw refused' message"; }
grep -qF -- "-o ro" "$MERR" || { cat "$MERR" >&2; fail "the message does not say to use -o ro"; }
is_mounted "$MNT" && fail "'$MNT' got mounted"
wait_gone "$REAPER" 30 || fail "something is still running after the refused mount"
ok "exit $MOUNT_RC: $(grep -m1 rw "$MERR")"

check "=== mount(8) options are accepted; nodev, nosuid stay ==="
run_mount mount -t fuse.ozxfs \
	-o ro,dev,suid,exec,auto,nofail,_netdev,users,relatime,x-systemd.device-timeout=5s,comment=ozx \
	"$A" "$MNT"
expect_mounted "$MNT"
want_opts "$MI_OPTS" ro nosuid nodev
want_opts "$MI_SUPER" default_permissions '!allow_other'
cmp "$SRC/0/c/1" "$MNT/0/c/1" || fail "0/c/1 differs"
R1=$RLOG P1=$REAPER
do_umount "$MNT"
reaped_ok "$R1" 1 "$P1"

check "=== -o idle_timeout through mount(8): the idle mount goes, the daemon exits 0 ==="
run_mount mount -t fuse.ozxfs -o ro,idle_timeout=1 "$A" "$MNT"
expect_mounted "$MNT"
cmp "$SRC/0/c/1" "$MNT/0/c/1" || fail "0/c/1 differs"
R1=$RLOG P1=$REAPER
sys_wait_unmounted "$MNT" 30 || fail "'$MNT' still mounted 30 s after its last use (idle_timeout=1)"
unset "OZX_PID_OF[$MNT]"
reaped_ok "$R1" 1 "$P1"

check "=== fstab (mount -T FILE): mount -a mounts the auto line only, with its options ==="
FSTAB=$W/fstab
cat >"$FSTAB" <<EOF
# a temporary fstab for ozxfs's tests
$A	$MNT	fuse.ozxfs	ro,allow_other,nofail,noexec,_netdev,x-test.opt=1	0 0
$A	$MNT2	fuse.ozxfs	ro,noauto,defaults	0 0
EOF
run_mount mount -T "$FSTAB" -a
expect_mounted "$MNT"
want_opts "$MI_OPTS" ro nosuid nodev noexec
want_opts "$MI_SUPER" default_permissions allow_other
is_mounted "$MNT2" && fail "noauto line '$MNT2' mounted by mount -a"
ok "the noauto line is not mounted"
cmp_trees "$SRC" "$MNT"
RA=$RLOG PA=$REAPER

check "mount -a again mounts nothing twice"
run_mount mount -T "$FSTAB" -a
[ "$MOUNT_RC" = 0 ] || { cat "$MERR" >&2; fail "second mount -a: exit status $MOUNT_RC"; }
n=$(grep -c " $(mi_escape "$MNT") " /proc/self/mountinfo)
[ "$n" -eq 1 ] || fail "'$MNT' is mounted $n times"
wait_gone "$REAPER" 30 || fail "the second mount -a left a process running"
ok "still one mount"

check "mount -T FSTAB MOUNTPOINT mounts the noauto line"
run_mount mount -T "$FSTAB" "$MNT2"
expect_mounted "$MNT2"
want_opts "$MI_OPTS" ro nosuid nodev '!noexec'
want_opts "$MI_SUPER" default_permissions '!allow_other'
cmp "$SRC/0/c/0" "$MNT2/0/c/0" || fail "0/c/0 differs"
RB=$RLOG PB=$REAPER

do_umount "$MNT" "$MNT2"
reaped_ok "$RA" 1 "$PA"
reaped_ok "$RB" 1 "$PB"

check "=== a folder of archives through fstab, allow_other,max_archives=2 ==="
D=$W/folder
mkdir -p "$D/sub" || fail mkdir
cp "$A" "$D/a.ozx" && cp "$A" "$D/sub/b.ozx" && cp "$A" "$D/c.zip" || fail cp
printf '%s\t%s\tfuse.ozxfs\tro,allow_other,max_archives=2,nofail\t0 0\n' "$D" "$MNT" >"$W/fstab.folder"
run_mount mount -T "$W/fstab.folder" -a
A=$D expect_mounted "$MNT"
want_opts "$MI_OPTS" ro nosuid nodev
want_opts "$MI_SUPER" default_permissions allow_other
for x in a.ozx sub/b.ozx c.zip a.ozx; do
	cmp_trees "$SRC" "$MNT/$x"
done
RF=$RLOG PF=$REAPER
do_umount "$MNT"
reaped_ok "$RF" 1 "$PF"
exit 0
