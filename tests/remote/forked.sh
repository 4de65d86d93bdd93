#!/usr/bin/env bash
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
# forked.sh - the forked-reader test (tests/mount/forked.c: 16 forked
# children and 8 threads, own and inherited descriptors, every byte
# compared) through a URL mount served by nginx, with zero-message opens
# and with -o fd_per_open; then one mount read through the remote io under
# valgrind memcheck (no errors, no definite leaks).

. "$(dirname "$0")/../mount/lib.sh"
. "$(dirname "$0")/lib.sh"
require_mount

FORKED=${FORKED:-${BUILDDIR:+$BUILDDIR/tests/mount/forked}}
[ -n "$FORKED" ] && [ -x "$FORKED" ] || fail "no forked helper (${FORKED:-unset}): run under make check"

SRC=$W/src
WWW=$W/www
MNT=$W/mnt
mkdir -p "$SRC/0/c" "$SRC/1/c" "$WWW" || fail mkdir
check "building a 1,200-entry fixture: STORED and DEFLATE (zip -r), sizes 1 B to 200 KB"
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
"$PY" - "$SRC" <<'PYEOF' || fail "cannot write the tree"
import os, random, sys
src = sys.argv[1]
rng = random.Random(20261203)
table = bytes(0x40 + (i & 0x0F) for i in range(256))
for a in ("0", "1"):
    for i in range(600):
        d = os.path.join(src, a, "c", str(i // 100))
        os.makedirs(d, exist_ok=True)
        n = 1 + rng.randrange((200 if rng.random() < 0.1 else 16) * 1024)
        b = rng.randbytes(n)
        with open(os.path.join(d, str(i % 100)), "wb") as f:
            # half-entropy bytes in 1/: zip -r deflates those
            f.write(b.translate(table) if a == "1" else b)
PYEOF
make_ozx "$SRC" "$WWW/f.ozx" zip
(cd "$SRC" && find . -type f -printf '%s %P\n') >"$W/list" || fail "list"
ok "$(wc -l <"$W/list") files, $(stat -c %s "$WWW/f.ozx") bytes"

start_nginx "$WWW"

check "through $NGX_URL/f.ozx"
mount_ozx "$NGX_URL/f.ozx" "$MNT"
run_forked -m fork -j 16 -w 200 -r 1000 -s 1
run_forked -m thread -j 8 -w 200 -r 1000 -s 2
unmount_ozx "$MNT"

mount_ozx "$NGX_URL/f.ozx" "$MNT" -o fd_per_open,cache_size=2M
run_forked -m fork -j 16 -w 100 -r 500 -s 3 -d
run_forked -m thread -j 8 -w 100 -r 500 -s 4
grep -q "cannot reopen" "$LOG" && fail "fd_per_open tried to reopen a URL"
unmount_ozx "$MNT"

if ! command -v valgrind >/dev/null; then
	echo "valgrind is missing: the memcheck run is left out"
elif grep -qa -e __asan_init -e __tsan_init "$OZXFS"; then
	echo "the daemon has sanitizers, which valgrind cannot run: memcheck left out"
else
	check "the daemon under valgrind memcheck: mount by URL, read every file, unmount"
	OZXFS_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no"
	MOUNT_TIMEOUT=60
	mount_ozx "$NGX_URL/f.ozx" "$MNT"
	cmp_trees "$SRC" "$MNT"
	unmount_ozx "$MNT"
	OZXFS_WRAPPER=
fi

echo "PASS: $TEST_NAME"
