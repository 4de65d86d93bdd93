#!/usr/bin/env bash
# folder-live.sh - a folder mount while archives come and go (issue 18),
# with readers running all along:
#  - a pack in progress (its temporary OUT.XXXXXX) never shows; the archive
#    renamed into place shows within 2 s;
#  - an archive replaced by rename: new lookups see the new version within
#    2 s, a file opened before keeps reading the old bytes, and no reader
#    ever sees bytes of both (each version's data is one repeated byte);
#  - an archive removed disappears within 2 s, a file open on it keeps
#    reading;
#  - the same with max_archives=1,fd_per_open: an open file holds its
#    archive open even while others push it out;
#  - with zero-message opens, an archive pushed out while in place, then
#    replaced or removed: a file open on it reads the old bytes to its end,
#    and the descriptor kept for that is closed once the file is;
#  - an empty file inside an archive is checked before it is opened
#    (zero-message opens: at its lookup).

. "$(dirname "$0")/lib.sh"
require_mount

DIR=$W/dir
MNT=$W/mnt
mkdir -p "$DIR"

check "building versions 1 and 2 of a.ozx, and b.ozx"
"$PY" - "$W" <<'EOF' || fail "cannot build the archives"
import struct, sys, zipfile
w = sys.argv[1]
def mk(path, files):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files:
            zf.writestr(zipfile.ZipInfo(name, (2024, 6, 1, 0, 0, 0)), data)
mk(w + "/v1.ozx", [("zarr.json", b"{}"), ("ver", b"1"), ("data", b"1" * 300000), ("empty", b"")])
mk(w + "/v2.ozx", [("zarr.json", b"{}"), ("ver", b"2"), ("data", b"2" * 200000), ("empty", b"")])
mk(w + "/b.ozx", [("zarr.json", b"{}"), ("ver", b"b"), ("data", b"b" * 100000)])
# An empty entry whose local header is not one.
mk(w + "/e.ozx", [("zarr.json", b"{}"), ("empty", b"")])
data = bytearray(open(w + "/e.ozx", "rb").read())
off = data.rfind(b"PK\x01\x02")  # the last central record: "empty"
lh = struct.unpack_from("<I", data, off + 42)[0]
data[lh:lh + 4] = b"XXXX"
open(w + "/e.ozx", "wb").write(data)
EOF
ok "built"

# reader SECONDS OUT: read $MNT/a.ozx/data again and again; each read must
# be one version whole.  Writes "reads=N mixed=M versions=..." into OUT.
reader()
{
	"$PY" - "$MNT/a.ozx/data" "$1" >"$2" 2>&1 <<'EOF'
import sys, time
path, secs = sys.argv[1], float(sys.argv[2])
end = time.monotonic() + secs
reads = mixed = missing = 0
seen = set()
while time.monotonic() < end:
    try:
        with open(path, "rb") as f:
            b = f.read()
    except OSError:
        missing += 1
        continue
    reads += 1
    kinds = set(b)
    if len(kinds) != 1 or len(b) not in (300000, 200000):
        mixed += 1
    seen |= kinds
print("reads=%d mixed=%d missing=%d versions=%s" % (reads, mixed, missing, bytes(sorted(seen)).decode()))
sys.exit(1 if mixed else 0)
EOF
}

shown()
{
	[ -e "$MNT/$1" ]
}

not_shown()
{
	[ ! -e "$MNT/$1" ]
}

ver_is()
{
	[ "$(cat "$MNT/a.ozx/ver" 2>/dev/null)" = "$1" ]
}

# live [OPTIONS]: the whole sequence on a mount with OPTIONS.
live()
{
	rm -f "$DIR"/*
	cp "$W/v1.ozx" "$DIR/a.ozx"
	cp "$W/e.ozx" "$DIR/e.ozx"
	mount_ozx "$DIR" "$MNT" "$@"
	[ "$(cat "$MNT/a.ozx/ver")" = 1 ] || fail "a.ozx is not version 1"
	reader 12 "$W/reader.out" &
	rpid=$!

	check "a pack in progress is not shown; renamed into place, it shows within 2 s"
	cp "$W/b.ozx" "$DIR/b.ozx.Xy12Ab"
	ls "$MNT" >"$W/ls" || fail "ls failed"
	grep -q Xy12Ab "$W/ls" && fail "the temporary file is listed"
	not_shown b.ozx.Xy12Ab || fail "the temporary file can be looked up"
	t0=$(mono_ms)
	mv "$DIR/b.ozx.Xy12Ab" "$DIR/b.ozx"
	wait_until 2 shown b.ozx/ver || fail "b.ozx not shown after 2 s"
	ok "after $(($(mono_ms) - t0)) ms: $(cat "$MNT/b.ozx/ver")"

	check "replaced by rename: the new version within 2 s, an open file keeps the old"
	exec 3<"$MNT/a.ozx/data"
	head -c 10 <&3 >/dev/null
	cp "$W/v2.ozx" "$DIR/a.ozx.Q1w2E3"
	t0=$(mono_ms)
	mv "$DIR/a.ozx.Q1w2E3" "$DIR/a.ozx"
	wait_until 2 ver_is 2 || fail "a.ozx still version $(cat "$MNT/a.ozx/ver") after 2 s"
	ms=$(($(mono_ms) - t0))
	# Push the old version out if the limits allow: b and e in use.
	cat "$MNT/b.ozx/data" "$MNT/e.ozx/zarr.json" >/dev/null
	old=$(cat <&3 | tr -d 1 | wc -c)
	exec 3<&-
	[ "$old" -eq 0 ] || fail "the open file read $old bytes not of version 1"
	[ "$(wc -c <"$MNT/a.ozx/data")" -eq 200000 ] || fail "a.ozx/data is not version 2's"
	ok "after $ms ms; the open file read version 1 to its end"

	check "removed: gone within 2 s, an open file keeps reading"
	exec 4<"$MNT/b.ozx/data"
	head -c 10 <&4 >/dev/null
	t0=$(mono_ms)
	rm "$DIR/b.ozx"
	wait_until 2 not_shown b.ozx || fail "b.ozx still shown after 2 s"
	ms=$(($(mono_ms) - t0))
	cat "$MNT/a.ozx/zarr.json" "$MNT/e.ozx/zarr.json" >/dev/null
	old=$(cat <&4 | tr -d b | wc -c)
	exec 4<&-
	[ "$old" -eq 0 ] || fail "the open file on the removed archive read other bytes"
	ok "after $ms ms; the open file read to its end"

	check "an empty entry with a bad local header fails with EIO"
	expect_fail "Input/output error" "cat of e.ozx/empty" cat "$MNT/e.ozx/empty"

	check "the readers: no read mixed two versions"
	wait "$rpid" || { cat "$W/reader.out" >&2; fail "a reader saw mixed bytes"; }
	cat "$W/reader.out"
	grep -q 'versions=12' "$W/reader.out" || fail "the reader did not see both versions"
	ok "$(cat "$W/reader.out")"
	unmount_ozx "$MNT"
}

live
check "=== again with max_archives=1,fd_per_open: open files hold their archive ==="
live -o max_archives=1,fd_per_open

fds()
{
	ls "/proc/$OZX_PID/fd" | wc -l
}

fds_are()
{
	[ "$(fds)" -eq "$1" ]
}

# released_then GONE: with zero-message opens the daemon never hears of an
# open file.  Open a.ozx/data, read a little and drop its cached pages so
# that the rest is read through the daemon; push a.ozx out (max_archives=1)
# while it is in place; then GONE ("replaced" or "removed") its file: the
# open file must still read version 1 to its end.  Once it is closed, the
# descriptor the release kept must go (its entry dropped, FORGET).
released_then()
{
	rm -f "$DIR"/*
	cp "$W/v1.ozx" "$DIR/a.ozx"
	cp "$W/b.ozx" "$DIR/b.ozx"
	mount_ozx "$DIR" "$MNT" -o max_archives=1,store_max=0
	base=$(fds)
	check "released while in place, then $1: an open file keeps reading"
	exec 3<"$MNT/a.ozx/data"
	head -c 10 <&3 >/dev/null
	"$PY" -c 'import os; os.posix_fadvise(3, 0, 0, os.POSIX_FADV_DONTNEED)' ||
		fail "cannot drop the cached pages"
	[ "$(cat "$MNT/b.ozx/ver")" = b ] || fail "b.ozx/ver is not b"
	if [ "$1" = replaced ]; then
		cp "$W/v2.ozx" "$DIR/a.ozx.Q1w2E3"
		mv "$DIR/a.ozx.Q1w2E3" "$DIR/a.ozx"
	else
		rm "$DIR/a.ozx"
	fi
	n=$(cat <&3 | tr -d 1 | wc -c) || fail "the open file failed to read on"
	exec 3<&-
	[ "$n" -eq 0 ] || fail "the open file read $n bytes not of version 1"
	ok "read version 1 to its end"
	check "the descriptor kept for it is closed once nothing holds it"
	wait_until 5 fds_are "$((base + 1))" ||
		fail "$(fds) descriptors, $base before a.ozx was opened (+1 for b.ozx)"
	ok "$(fds) descriptors"
	unmount_ozx "$MNT"
}

check "=== max_archives=1 with zero-message opens ==="
released_then replaced
released_then removed

echo "PASS: $TEST_NAME"
