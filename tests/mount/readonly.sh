#!/usr/bin/env bash
# shellcheck disable=SC2016 # the bash -c scripts take "$1" on purpose
# readonly.sh - every mutating operation on the mount fails with EROFS
# ("Read-only file system"), and nothing changes.  On the ro mount the
# kernel refuses them itself; as root the test then remounts it rw
# (mount -o remount,rw), which sends them to the daemon, whose handlers
# must refuse them too, writes through a file the kernel opened without
# asking included.

. "$(dirname "$0")/lib.sh"
require_mount

SRC=$W/src
MNT=$W/mnt
mkdir -p "$SRC/d" "$SRC/empty" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
head -c 10000 /dev/urandom >"$SRC/f" || fail urandom
head -c 100 /dev/urandom >"$SRC/d/g" || fail urandom
make_ozx "$SRC" "$W/ro.ozx" stored
mount_ozx "$W/ro.ozx" "$MNT" -d

EROFS="Read-only file system"
M=$MNT

# expect_all_erofs: every mutating operation fails with EROFS.
expect_all_erofs()
{
	# Each runs in a child shell, so a failed `exec` redirection cannot end
	# this script.
	expect_fail "$EROFS" "create a new file (>new)" bash -c ': >"$1"' _ "$M/new"
	expect_fail "$EROFS" "create a new file in a subdirectory" bash -c ': >"$1"' _ "$M/d/new"
	expect_fail "$EROFS" "open O_WRONLY|O_APPEND (exec 3>>f)" bash -c 'exec 3>>"$1"' _ "$M/f"
	expect_fail "$EROFS" "open O_RDWR (exec 3<>f)" bash -c 'exec 3<>"$1"' _ "$M/f"
	expect_fail "$EROFS" "open O_TRUNC (>f)" bash -c ': >"$1"' _ "$M/f"
	expect_fail "$EROFS" "truncate -s 0" truncate -s 0 "$M/f"
	expect_fail "$EROFS" "truncate -s 1M" truncate -s 1M "$M/d/g"
	expect_fail "$EROFS" "rm" rm -f "$M/f"
	expect_fail "$EROFS" "rm -r of a directory" rm -rf "$M/d"
	expect_fail "$EROFS" "mkdir" mkdir "$M/newdir"
	expect_fail "$EROFS" "rmdir of an empty directory" rmdir "$M/empty"
	expect_fail "$EROFS" "mv (rename) of a file" mv "$M/f" "$M/f2"
	expect_fail "$EROFS" "mv (rename) over an existing file" mv -f "$M/f" "$M/zarr.json"
	expect_fail "$EROFS" "mv (rename) of a directory" mv "$M/d" "$M/d2"
	expect_fail "$EROFS" "ln (hard link)" ln "$M/f" "$M/f3"
	expect_fail "$EROFS" "ln -s (symlink)" ln -s f "$M/s"
	expect_fail "$EROFS" "mkfifo" mkfifo "$M/fifo"
	expect_fail "$EROFS" "chmod" chmod 644 "$M/f"
	expect_fail "$EROFS" "chmod of a directory" chmod 755 "$M/d"
	expect_fail "$EROFS" "chown" chown "$(id -u):$(id -g)" "$M/f"
	expect_fail "$EROFS" "touch (utimens) of an existing file" touch "$M/f"
	expect_fail "$EROFS" "touch -d (set times) of a directory" touch -d 2001-01-01 "$M/d"
	expect_fail "$EROFS" "touch of a new file" touch "$M/x"
	expect_fail "$EROFS" "cp onto an existing file" cp "$SRC/d/g" "$M/f"
	expect_fail "$EROFS" "Python os.open(O_WRONLY|O_CREAT)" "$PY" -c \
		'import os, sys; os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)' "$M/py"
	if command -v setfattr >/dev/null; then
		expect_fail "$EROFS" "setfattr -n user.x" setfattr -n user.x -v 1 "$M/f"
		expect_fail "$EROFS" "setfattr -x user.x" setfattr -x user.x "$M/f"
	else
		not_tested "xattr writes: setfattr is missing (Debian: attr)"
	fi
}

check "=== the ro mount: the kernel refuses ==="
expect_all_erofs

check "=== remounted rw (root): the daemon refuses ==="
if [ "$(id -u)" -ne 0 ]; then
	not_tested "writes that reach the daemon: not root, cannot remount rw"
elif ! mount -i -o remount,rw "$M" 2>"$W/remount.err"; then
	not_tested "writes that reach the daemon: mount -o remount,rw: $(head -n 1 "$W/remount.err")"
else
	mountinfo_line "$M" | grep -q ' rw,' || fail "remount,rw left '$M' $(mountinfo_line "$M" | cut -d' ' -f6)"
	from=$(wc -l <"$LOG")
	expect_all_erofs
	check "the daemon had the requests (-d log)"
	ops="CREATE MKDIR MKNOD UNLINK RMDIR RENAME LINK SYMLINK SETATTR"
	command -v setfattr >/dev/null && ops="$ops SETXATTR REMOVEXATTR"
	seen=
	for op in $ops; do
		if tail -n +"$from" "$LOG" | grep -q "opcode: $op\b"; then
			seen="$seen $op"
		else
			echo "note: no $op request in the daemon's log"
		fi
	done
	[ -n "$seen" ] || fail "no write request reached the daemon: the rw pass tested the kernel only"
	ok "reached the daemon:$seen"
	# A read first: from then on the kernel opens without asking the
	# daemon (ops.c, "Opening"), so an open for writing succeeds and
	# write and fallocate reach the daemon, which must refuse them.
	cat "$M/f" >/dev/null || fail "cat $M/f"
	from=$(wc -l <"$LOG")
	expect_fail "$EROFS" "write(2) on a file opened O_RDWR" "$PY" -c \
		'import os, sys; os.write(os.open(sys.argv[1], os.O_RDWR), b"x")' "$M/f"
	expect_fail "$EROFS" "fallocate(2) on a file opened O_RDWR" "$PY" -c \
		'import os, sys; os.posix_fallocate(os.open(sys.argv[1], os.O_RDWR), 0, 1)' "$M/f"
	check "write and fallocate reached the daemon"
	seen=
	for op in WRITE FALLOCATE; do
		if tail -n +"$from" "$LOG" | grep -q "opcode: $op\b"; then
			seen="$seen $op"
		else
			echo "note: no $op request in the daemon's log (the kernel asked for the open)"
		fi
	done
	ok "reached the daemon:${seen:- none}"
fi

check "nothing changed"
cmp_trees "$SRC" "$MNT"
modes=$(stat -c '%a' "$M/f" "$M/d")
[ "$modes" = "$(printf '444\n555')" ] || fail "modes now '$modes'"
ok "modes unchanged"

unmount_ozx "$MNT"
echo "PASS: $TEST_NAME"
