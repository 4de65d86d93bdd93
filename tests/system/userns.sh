#!/usr/bin/env bash
# shellcheck disable=SC2016 # the bash -c scripts take "$1" on purpose
# userns.sh - containers.  (1) The daemon runs inside a user namespace with
# a mount namespace of its own (unshare --user --map-root-user --mount, as
# a rootless container runtime sets one up), mounts there and serves
# readers there: once as root made it, once as an unprivileged user
# (nobody) made it -- the real rootless case.  (2) A mount made outside is
# bind-mounted into a second mount namespace and read there, by root and by
# a container-like reader (root of a user namespace that nobody made): with
# allow_other it reads, without it gets EACCES.  (3) A daemonised ozxfs
# outlives the shell of unshare -Urm that started it (it holds the
# namespaces itself); SIGTERM, a PID namespace (--fork --pid) or
# -o idle_timeout end it.
# SKIP only where the kernel refuses: user namespaces switched off, or
# FUSE mounts in them refused -- also when only the rootless case cannot
# be tried (no setpriv, no unprivileged user namespaces): it is what this
# test is for, so the other parts passing is not enough for a PASS.

. "$(dirname "$0")/sys.sh"
sys_private_ns "$@"
. "$SYS_DIR/../mount/lib.sh"
require_mount
command -v unshare >/dev/null || skip "unshare (util-linux) is missing"
if ! err=$(unshare --user --map-root-user --mount true 2>&1); then
	skip "the kernel refuses a user namespace: $err"
fi

SRC=$W/src
mkdir -p "$SRC/0/c" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
printf '{"zarr_format":3,"node_type":"array"}\n' >"$SRC/0/zarr.json"
head -c 500000 /dev/urandom >"$SRC/0/c/0" || fail urandom
head -c 700 /dev/urandom >"$SRC/0/c/1" || fail urandom
A=$W/ns.ozx
make_ozx "$SRC" "$A" stored
chmod 644 "$A"
chmod -R a+rX "$SRC"

# The part that runs inside the user namespace: lib.sh again, with its own
# work directory (W/inner-NAME), mount, compare, unmount.  Exit 77 with the
# daemon's words if the kernel refuses the mount.
cat >"$W/inner.sh" <<'EOF'
OZX_NO_WORKDIR=1
. "$OZX_LIBSH"
W=$OZX_INNER_W
trap cleanup EXIT
read -r _ outer _ </proc/self/uid_map
echo "inside: uid $(id -u) (uid $outer outside), $(readlink /proc/self/ns/user), $(readlink /proc/self/ns/mnt)"
MNT=$W/mnt
start_ozx "$OZX_A" "$MNT"
wait_until 30 done_or_gone "$OZX_PID" is_mounted "$MNT" ||
	{ show_log; fail "'$MNT' not mounted after 30 s"; }
if ! is_mounted "$MNT"; then
	wait "$OZX_PID"
	rc=$?
	unset "OZX_PID_OF[$MNT]"
	why=$(grep -m1 -E 'not permitted|Permission denied|refused' "$LOG")
	[ -n "$why" ] && { echo "REFUSED: $why"; exit 77; }
	show_log
	fail "daemon exited with status $rc before mounting"
fi
echo "mounted in the namespace: $(mountinfo_line "$MNT" | cut -d' ' -f5-)"
cmp_trees "$OZX_SRC" "$MNT"
check "a second reader process in the namespace"
bash -c 'cat "$1/0/c/0"' _ "$MNT" | cmp - "$OZX_SRC/0/c/0" || fail "second reader: 0/c/0 differs"
ok "identical"
st=$(stat -c '%u %g %a' "$MNT/0/c/0")
[ "$st" = "0 0 444" ] || fail "owner and mode in the namespace: '$st', want '0 0 444'"
ok "owned by the namespace's root, mode 444"
unmount_ozx "$MNT"
exit 0
EOF

# in_userns NAME PREFIX...: run inner.sh in a new user + mount namespace
# made by PREFIX (empty: root; else a command prefix switching user); its
# status in RC.
in_userns()
{
	local name=$1
	shift
	mkdir -p "$W/inner-$name" || fail mkdir
	[ $# -eq 0 ] || chown "$NB_UID:$NB_GID" "$W/inner-$name"
	OZX_LIBSH=$SYS_DIR/../mount/lib.sh OZX_INNER_W=$W/inner-$name \
		OZX_A=$A OZX_SRC=$SRC \
		timeout -s KILL 300 "$@" unshare --user --map-root-user --mount -- \
		bash "$W/inner.sh" >"$W/inner-$name.out" 2>&1
	RC=$?
	sed 's/^/    | /' "$W/inner-$name.out"
}

check "=== the daemon in a user namespace made by root ==="
in_userns root
case $RC in
0) ok "mounted, read and unmounted inside the namespace" ;;
77) skip "the kernel refuses a FUSE mount in a user namespace: $(grep -m1 REFUSED "$W/inner-root.out")" ;;
*) fail "inside the user namespace: exit status $RC" ;;
esac

# ns_procs NS: the pids of the processes in mount namespace NS, if any.
ns_procs()
{
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}

ns_gone()
{
	[ -z "$(ns_procs "$1")" ]
}

# spawn_in_ns NAME UNSHARE-OPTIONS OZXFS-OPTIONS: a shell in a new user and
# mount namespace (unshare -Urm plus UNSHARE-OPTIONS) mounts A there with
# a daemonised ozxfs, reads it, prints its mount namespace and exits.  The
# namespace in NS.
spawn_in_ns()
{
	local mnt=$W/life-$1
	mkdir -p "$mnt" || fail mkdir
	# shellcheck disable=SC2086 # the option strings are split on purpose
	NS=$(timeout -s KILL 60 unshare --user --map-root-user --mount $2 -- bash -c '
		"$1" $2 "$3" "$4" </dev/null >/dev/null 2>&1 || exit 97
		cmp -s "$4/0/c/0" "$5/0/c/0" || exit 98
		readlink /proc/self/ns/mnt' _ "$OZXFS" "$3" "$A" "$mnt" "$SRC")
	RC=$?
	[ "$RC" -eq 0 ] || fail "$1: the shell in the namespace: exit status $RC (97: no mount, 98: other bytes)"
}

check "=== a daemonised ozxfs outlives the shell of 'unshare -Urm' (README: In containers) ==="
spawn_in_ns plain "" ""
pids=$(ns_procs "$NS")
[ -n "$pids" ] || fail "nothing is left in $NS: the daemon did not outlive the shell"
[ "$(echo "$pids" | wc -l)" -eq 1 ] || fail "more than the daemon left in $NS: $pids"
OZX_EXTRA_PIDS+=("$pids")
[ "$(cat "/proc/$pids/comm")" = ozxfs ] || fail "left in $NS: $(cat "/proc/$pids/comm"), not ozxfs"
ok "ozxfs (pid $pids) still serves $NS after the shell exited"
check "SIGTERM ends it, and with it the namespace and the mount"
kill -TERM "$pids" || fail "kill"
wait_until 10 ns_gone "$NS" || fail "$NS still has $(ns_procs "$NS") 10 s after SIGTERM"
ok "gone"

check "with a PID namespace (unshare -Urm --fork --pid) the daemon ends with the shell"
spawn_in_ns pidns "--fork --pid" ""
wait_until 10 ns_gone "$NS" || fail "$NS still has $(ns_procs "$NS") 10 s after the shell exited"
ok "gone"

check "with -o idle_timeout=1 the daemon ends once nobody uses the mount"
spawn_in_ns idle "" "-o idle_timeout=1"
wait_until 15 ns_gone "$NS" || fail "$NS still has $(ns_procs "$NS") 15 s after the shell exited"
ok "gone"

check "=== the daemon in a user namespace made by an unprivileged user (rootless) ==="
rootless_why=
if ! sys_nobody || ! sys_dev_fuse_for_all; then
	rootless_why=$SYS_WHY
elif ! "${AS_NOBODY[@]}" test -x "$OZXFS"; then
	rootless_why="nobody cannot run '$OZXFS'"
elif ! err=$("${AS_NOBODY[@]}" unshare --user --map-root-user --mount true 2>&1); then
	rootless_why="the kernel refuses a user namespace to an unprivileged user: $err"
else
	in_userns nobody "${AS_NOBODY[@]}"
	case $RC in
	0) ok "mounted, read and unmounted by nobody's namespace root" ;;
	77) rootless_why="the kernel refuses a FUSE mount in an unprivileged user namespace: $(grep -m1 REFUSED "$W/inner-nobody.out")" ;;
	*) fail "inside nobody's user namespace: exit status $RC" ;;
	esac
fi
[ -z "$rootless_why" ] || not_tested "the rootless case (a user namespace made by nobody): $rootless_why"

MNT=$W/mnt
B=$W/bound
mkdir -p "$B" || fail mkdir

# second_ns MNT CMD...: in a new mount namespace, bind-mount MNT on B and
# run CMD there (CMD refers to the tree as "$B").
second_ns()
{
	local m=$1
	shift
	unshare --mount --propagation private -- \
		bash -c 'mount --bind "$1" "$2" || exit 99; shift 2; exec "$@"' _ "$m" "$B" "$@"
}

check "=== a mount bind-mounted into a second mount namespace ==="
mount_ozx "$A" "$MNT" -o allow_other
mi_self=$(readlink /proc/self/ns/mnt)
other=$(second_ns "$MNT" readlink /proc/self/ns/mnt) || fail "second mount namespace: exit $?"
[ "$other" != "$mi_self" ] || fail "the second namespace is this one"
second_ns "$MNT" bash -c "$(declare -f tree_listing)"'; tree_listing "$1"' _ "$B" >"$W/list.b" ||
	fail "listing in the second namespace failed"
tree_listing "$SRC" >"$W/list.src"
diff -u "$W/list.src" "$W/list.b" || fail "the listing through the bind mount differs"
second_ns "$MNT" cat "$B/0/c/0" | cmp - "$SRC/0/c/0" || fail "0/c/0 through the bind mount differs"
ok "$other reads the tree through $B"

if sys_nobody; then
	check "a container-like reader: root of a user namespace nobody made, in the second mount namespace"
	second_ns "$MNT" "${AS_NOBODY[@]}" unshare --user --map-root-user -- \
		bash -c 'echo "reader: uid $(id -u) in $(readlink /proc/self/ns/user)" >&2; cat "$1"' _ "$B/0/c/0" \
		>"$W/out" 2>"$W/err" || { cat "$W/err" >&2; fail "the container-like reader cannot read (allow_other)"; }
	cmp "$W/out" "$SRC/0/c/0" || fail "the container-like reader got other bytes"
	ok "reads with allow_other ($(head -n 1 "$W/err"))"
fi
unmount_ozx "$MNT"

if sys_nobody; then
	check "without allow_other the container-like reader gets EACCES"
	mount_ozx "$A" "$MNT"
	if second_ns "$MNT" "${AS_NOBODY[@]}" unshare --user --map-root-user -- \
		cat "$B/0/c/0" >/dev/null 2>"$W/err"; then
		fail "read without allow_other succeeded"
	fi
	grep -q "Permission denied" "$W/err" || { cat "$W/err" >&2; fail "want 'Permission denied'"; }
	ok "$(head -n 1 "$W/err")"
	unmount_ozx "$MNT"
fi
exit 0
