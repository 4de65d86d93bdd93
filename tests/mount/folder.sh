#!/usr/bin/env bash
# folder.sh - a folder of 1,000 archives as one mount (issue 18): some in
# subfolders, some DEFLATE, some broken (tests/mount/mkfolder.py).
#  - The mount is ready at once and has opened no archive; ls -l opens
#    none either.
#  - Every file reads back byte-identical; the listing is the source tree's,
#    each archive a directory; other files, dot-files and a temporary file
#    of a pack in progress are not shown.
#  - A broken archive: its directory is there, listing it and looking into
#    it fail with EIO, user.ozx.error says why, the log says it once.
#  - Inode numbers unique across archives.
#  - The forked reader (16 processes, 8 threads) across all archives at
#    once, 0 errors, with the default limits and with max_archives=16.
#  - With max_archives=16, reading every file in random order keeps the
#    daemon's descriptors at most 16 + a constant and its RSS bounded,
#    and every byte is still right; archive_memory=1M bounds them too;
#    verify=none with max_archives=4 as well.

. "$(dirname "$0")/lib.sh"
require_mount

HERE=$(cd "$(dirname "$0")" && pwd)
find_forked

DIR=$W/dir
SRC=$W/src
MNT=$W/mnt
N=1000
# Descriptors the daemon keeps for released archives at most (folder.c).
HELD=8
EIO="Input/output error"

check "generating $N archives (seed 18)"
t0=$SECONDS
"$PY" "$HERE/mkfolder.py" "$DIR" "$SRC" "$N" 18 || fail "mkfolder.py failed"
cp "$W/list.txt" "$W/list"
nbroken=$(wc -l <"$W/broken.txt")
ok "$(wc -l <"$W/list") files in $((N - nbroken)) archives, $nbroken broken, in $((SECONDS - t0)) s"

# fds PID: the daemon's open descriptors.
fds()
{
	ls "/proc/$1/fd" | wc -l
}

t0=$(mono_ms)
mount_ozx "$DIR" "$MNT"
check "the mount is ready at once and has opened no archive"
ms=$(($(mono_ms) - t0))
[ "$ms" -lt 3000 ] || fail "mount took $ms ms"
base=$(fds "$OZX_PID")
[ "$base" -le 8 ] || fail "the daemon holds $base descriptors before any use"
ok "$ms ms (polling included), $base descriptors"

check "ls -l of folders opens no archive"
ls -l "$MNT" "$MNT/p00/t0" >/dev/null || fail "ls -l failed"
n=$(fds "$OZX_PID")
[ "$n" -eq "$base" ] || fail "the daemon holds $n descriptors after ls -l, $base before"
ok "$n descriptors"

check "the listing is the source tree's, broken archives as directories"
{
	tree_listing "$SRC"
	sed 's|^|d ./|' "$W/broken.txt"
} | LC_ALL=C sort >"$W/list.want"
(cd "$MNT" && find . -mindepth 1 \( -type f -printf 'f %s %p\n' \) -o \
	\( -type d -printf 'd %p\n' \) -o -printf '? %p\n' 2>"$W/find.err") |
	LC_ALL=C sort >"$W/list.mnt"
if ! diff -u "$W/list.want" "$W/list.mnt" >"$W/list.diff"; then
	head -n 40 "$W/list.diff" >&2
	fail "listing of the mount differs from the source tree"
fi
ok "$(wc -l <"$W/list.mnt") paths"
check "find failed on exactly the broken archives, with EIO"
[ "$(grep -c "$EIO" "$W/find.err")" -eq "$nbroken" ] ||
	{ cat "$W/find.err" >&2; fail "find errors are not one EIO per broken archive"; }
ok "$nbroken"

check "every file byte-identical (and inode numbers unique)"
"$PY" - "$SRC" "$MNT" "$W/list" <<'EOF' || fail "files differ"
import os, sys
src, mnt, lst = sys.argv[1:4]
inos, n = {}, 0
for line in open(lst):
    path = line.split(" ", 1)[1].rstrip("\n")
    with open(os.path.join(src, path), "rb") as a, open(os.path.join(mnt, path), "rb") as b:
        if a.read() != b.read():
            sys.exit("'%s' differs" % path)
    ino = os.stat(os.path.join(mnt, path)).st_ino
    if ino in inos:
        sys.exit("'%s' and '%s' share inode %d" % (path, inos[ino], ino))
    inos[ino] = path
    n += 1
for root, dirs, files in os.walk(mnt):
    for d in dirs:
        ino = os.stat(os.path.join(root, d)).st_ino
        if ino in inos:
            sys.exit("directory '%s' has the inode of '%s'" % (d, inos[ino]))
        inos[ino] = d
print("%d files, %d inodes" % (n, len(inos)))
EOF
ok "identical"

check "not shown: other files, dot-files, a pack's temporary file"
for name in notes.txt .hidden.ozx x.ozx.Ab12Cd .dotdir; do
	[ ! -e "$MNT/$name" ] || fail "'$name' is shown"
	[ ! -e "$MNT/$name" ] || fail "'$name' is shown (second look)"
done
ok "none"

bad=$(head -n 1 "$W/broken.txt")
check "broken archive '$bad': a directory, EIO inside, user.ozx.error, logged once"
[ -d "$MNT/$bad" ] || fail "'$bad' is not a directory"
expect_fail "$EIO" "ls of '$bad'" ls "$MNT/$bad"
expect_fail "$EIO" "cat of a file in '$bad'" cat "$MNT/$bad/zarr.json"
err=$(getfattr --only-values -n user.ozx.error "$MNT/$bad" 2>"$W/gf.err") ||
	fail "getfattr user.ozx.error: $(cat "$W/gf.err")"
case $err in *"ZIP"*|*"central"*|*"end"*) ;; *) fail "user.ozx.error is '$err'" ;; esac
n=$(grep -cF "$bad' is not a usable archive" "$LOG")
[ "$n" -eq 1 ] || fail "'$bad' logged $n times, want once"
getfattr -n user.ozx.error "$MNT/a00000.ozx" >/dev/null 2>&1 &&
	fail "a good archive has user.ozx.error"
ok "$err"

check "an archive's root has the archive's attributes"
getfattr --only-values -n user.ozx.rfc9 "$MNT/a00001.ozx" >/dev/null 2>&1 ||
	fail "no user.ozx.rfc9 on a good archive's root"
ok "user.ozx.rfc9"

run_forked -m fork -j 16 -w 300 -r 1000 -s 1
run_forked -m thread -j 8 -w 300 -r 1000 -s 2
unmount_ozx "$MNT"

# random_reads MAXOPEN: every file once in random order, each compared
# with its source; the daemon's descriptors stay at most MAXOPEN archives
# more than before the first read, plus HELD kept for released archives
# the kernel still references, plus 2; its RSS at most 96 MiB (for a
# daemon that runs alone: not under valgrind or ASan).
random_reads()
{
	local base maxrss=$((96 * 1024))
	base=$(fds "$OZX_PID")
	plain_daemon || { maxrss=0; echo "note: not measured: RSS (the daemon runs under a wrapper or ASan)"; }
	check "every file in random order: at most $1 archives open, RSS bounded"
	HELD=$HELD "$PY" - "$SRC" "$MNT" "$W/list" "$OZX_PID" "$base" "$1" "$maxrss" <<'EOF' || fail "random reads failed"
import os, random, sys
src, mnt, lst, pid, base, maxopen, rss_cap = sys.argv[1:8]
paths = [l.split(" ", 1)[1].rstrip("\n") for l in open(lst)]
random.Random(16).shuffle(paths)
maxfd, maxrss = 0, 0
def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
for i, path in enumerate(paths):
    with open(os.path.join(src, path), "rb") as a, open(os.path.join(mnt, path), "rb") as b:
        if a.read() != b.read():
            sys.exit("'%s' differs" % path)
    if i % 20 == 0:
        maxfd = max(maxfd, len(os.listdir("/proc/%s/fd" % pid)))
        maxrss = max(maxrss, rss())
print("%d files read, at most %d descriptors (%s at the start), RSS at most %d KiB"
      % (len(paths), maxfd, base, maxrss))
limit = int(maxopen) + int(base) + int(os.environ["HELD"]) + 2
if maxfd > limit:
    sys.exit("%d descriptors, want at most %d" % (maxfd, limit))
if int(rss_cap) and maxrss > int(rss_cap):
    sys.exit("RSS %d KiB, want at most %s KiB" % (maxrss, rss_cap))
EOF
	ok "bounded"
}

check "=== max_archives=16 ==="
mount_ozx "$DIR" "$MNT" -o max_archives=16
base=$(fds "$OZX_PID")
random_reads 16
run_forked -m fork -j 16 -w 300 -r 1000 -s 3
run_forked -m thread -j 8 -w 300 -r 1000 -s 4
n=$(fds "$OZX_PID")
[ "$n" -le $((16 + base + HELD + 2)) ] || fail "$n descriptors after the forked readers"
unmount_ozx "$MNT"

# Each archive counts at least 4 KiB: 1 MiB holds at most 256 of them.
check "=== archive_memory=1M (max_archives=100000): the memory budget bounds them ==="
mount_ozx "$DIR" "$MNT" -o archive_memory=1M,max_archives=100000
random_reads 256
unmount_ozx "$MNT"

check "=== verify=none,max_archives=4: forked readers across all archives ==="
mount_ozx "$DIR" "$MNT" -o verify=none,max_archives=4
run_forked -m fork -j 16 -w 200 -r 500 -s 5
expect_fail "$EIO" "ls of '$bad'" ls "$MNT/$bad"
unmount_ozx "$MNT"

echo "PASS: $TEST_NAME"
