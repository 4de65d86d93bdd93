# sys.sh - set-up shared by the system tests (tests/system/*.sh): how the
# mount is used from outside, by mount(8), other users, namespaces, a job
# scheduler.  A test does:
#
#	. "$(dirname "$0")/sys.sh"
#	sys_private_ns "$@"		# optional: may re-exec the test
#	. "$SYS_DIR/../mount/lib.sh"	# W, mount_ozx, unmount_ozx, skip, ...
#	require_mount
#
# and then the helpers below.  Synchronisation is by polling with a
# timeout, as in lib.sh.

SYS_DIR=$(cd "$(dirname "$0")" && pwd)
SYS_WHY=

# sys_private_ns "$@": as root, run this test again in a mount namespace of
# its own (unshare -m, private propagation): its set-up mounts (over
# /dev/fuse, /usr/local/sbin) and its FUSE mounts stay out of the host's
# namespace and vanish with the test.  Not root, or no unshare: carry on
# here, with SYS_PRIVATE_NS empty.
sys_private_ns()
{
	[ -z "${SYS_PRIVATE_NS:-}" ] || return 0
	[ "$(id -u)" -eq 0 ] || return 0
	command -v unshare >/dev/null || return 0
	unshare --mount --propagation private true 2>/dev/null || return 0
	SYS_PRIVATE_NS=1 exec unshare --mount --propagation private -- \
		bash "$0" "$@"
}

# sys_nobody: set NB_UID, NB_GID and AS_NOBODY, a command prefix that runs
# a command as user nobody with no supplementary groups, and let nobody
# reach the work directory.  1 (reason in SYS_WHY) where impossible.
sys_nobody()
{
	local err
	[ "$(id -u)" -eq 0 ] || { SYS_WHY="not root: cannot act as another user"; return 1; }
	command -v setpriv >/dev/null || { SYS_WHY="setpriv (util-linux) is missing"; return 1; }
	NB_UID=$(id -u nobody 2>/dev/null) && NB_GID=$(id -g nobody 2>/dev/null) ||
		{ SYS_WHY="there is no user 'nobody'"; return 1; }
	AS_NOBODY=(setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups --)
	err=$("${AS_NOBODY[@]}" true 2>&1) || { SYS_WHY="setpriv to nobody fails: $err"; return 1; }
	# mktemp -d made W 0700; nobody must reach the mount points in it.
	chmod 755 "$W" || { SYS_WHY="chmod 755 $W failed"; return 1; }
	return 0
}

# sys_dev_fuse_for_all: let every user of this mount namespace open
# /dev/fuse, as udev's mode 0666 does on a standard system: where the node
# has a stricter mode (a container, a VM without udev), bind a mode 0666
# node over it -- only in the test's own mount namespace.  1 (reason in
# SYS_WHY) where impossible.
sys_dev_fuse_for_all()
{
	local mode maj min
	mode=$(stat -c %a /dev/fuse 2>/dev/null) || { SYS_WHY="/dev/fuse is missing"; return 1; }
	[ "$mode" = 666 ] && return 0
	[ -n "${SYS_PRIVATE_NS:-}" ] ||
		{ SYS_WHY="/dev/fuse has mode $mode, not 666, and the test has no mount namespace of its own to change that in"; return 1; }
	maj=$((0x$(stat -c %t /dev/fuse))) && min=$((0x$(stat -c %T /dev/fuse))) &&
		mknod -m 666 "$W/dev-fuse" c "$maj" "$min" &&
		mount --bind "$W/dev-fuse" /dev/fuse ||
		{ SYS_WHY="cannot bind a mode 666 node over /dev/fuse (mode $mode)"; return 1; }
	echo "note: /dev/fuse has mode $mode here; a mode 666 node, as udev makes it, is bound over it in this test's mount namespace"
}

# sys_user_umount_ok: the daemon of a user's mount can unmount it itself
# (fusermount3 -u -- idle_timeout, SIGTERM).  fusermount3 checks a user's
# mount in /etc/mtab, which a booted Debian has (systemd-tmpfiles links
# it) but a bare chroot may lack.  Needs sys_user_mount_ok.
sys_user_umount_ok()
{
	[ -r /etc/mtab ] ||
		{ SYS_WHY="/etc/mtab is missing: fusermount3 -u cannot unmount a user's mount (ln -s ../proc/self/mounts /etc/mtab)"; return 1; }
}

# sys_user_mount_ok: a user other than root can mount with fusermount3 here
# (setuid, no no_new_privs, /dev/fuse open to all).  Needs sys_nobody.
sys_user_mount_ok()
{
	local fm
	fm=$(command -v fusermount3) || { SYS_WHY="fusermount3 is missing"; return 1; }
	[ -u "$fm" ] || { SYS_WHY="$fm is not setuid: users cannot mount"; return 1; }
	grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status &&
		{ SYS_WHY="no_new_privs is set: setuid fusermount3 is powerless"; return 1; }
	"${AS_NOBODY[@]}" test -x "$OZXFS" ||
		{ SYS_WHY="nobody cannot run '$OZXFS' (a directory on its path is closed)"; return 1; }
	sys_dev_fuse_for_all
}

# sys_nobody_dir DIR: a directory owned by nobody (a mount point of its).
sys_nobody_dir()
{
	mkdir -p -- "$1" && chown "$NB_UID:$NB_GID" -- "$1" || fail "cannot make '$1' for nobody"
}

# sys_wait_unmounted MNT SECONDS: poll until MNT is no mount point; 1 if it
# still is after SECONDS.
sys_wait_unmounted()
{
	wait_until "$2" not_mounted "$1"
}

not_mounted()
{
	! is_mounted "$1"
}

# sys_has_open PID FILE: process PID has FILE open.
sys_has_open()
{
	local l
	for l in /proc/"$1"/fd/*; do
		[ "$(readlink "$l" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}

# sys_now_ms: the time of day in milliseconds (bash 5's EPOCHREALTIME).
sys_now_ms()
{
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}
