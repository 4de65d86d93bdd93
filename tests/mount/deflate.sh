#!/usr/bin/env bash
# deflate.sh - random access into DEFLATE entries through the mount.
#
# Entries of 0 bytes to 96 MiB (text-like and structured data, long runs,
# zlib levels 0 to 9, deterministic seed) are read at random offsets and
# lengths, and at fixed ranges around both ends, by forked processes and
# threads at once (tests/mount/randread.c: half of the reads with O_DIRECT,
# so that each one reaches the daemon whatever the page cache holds); every
# byte is compared with the source.  Mounted
#  - with the default inflate cache (64M): access points every 1 MiB;
#  - with inflate_cache=1M: the indices of five 8-24 MiB entries (7 points
#    of 32 KiB each; at most 8 fit in a quarter of the cap) cannot all stay,
#    so they are evicted and rebuilt while being read;
#  - with inflate_cache=256K: twelve 2.5 MiB entries with room for 7
#    one-point indices, so reads keep evicting and rebuilding them (freed
#    memory is poisoned with MALLOC_PERTURB_, so a window freed under a
#    reader would show up as wrong bytes);
#  - with verify=none: no CRC pass first, so the first reads race to build
#    the indices;
#  - with inflate_cache=0,verify=none: no index at all, and every read
#    inflates from the start of the entry.
#
# Then come the malformed streams, each one in an entry below the 1 MiB span
# (no index) and in one above it: a truncated stream (compressed size cut),
# a corrupt stream (bytes flipped in the middle), a stream longer than the
# declared size, and one shorter.  Every read of them gives EIO, every time
# (for the big ones also with verify=none, where it is the index pass that
# finds the defect); the other entries still read right; and the daemon log
# names each bad entry once.  A whole stream with unused bytes after its end
# (its CRC-32 matching) is served, and logged once with a warning that says
# so (issue 15: Python's zipfile and unzip read it).

. "$(dirname "$0")/lib.sh"
require_mount

HERE=$(cd "$(dirname "$0")" && pwd)
RANDREAD=${RANDREAD:-${BUILDDIR:+$BUILDDIR/tests/mount/randread}}
if [ -z "$RANDREAD" ] || [ ! -x "$RANDREAD" ]; then
	# Run by hand, outside `make check`: build the helper here.
	command -v cc >/dev/null ||
		fail "no randread helper (${RANDREAD:-unset}) and no cc to build one"
	cc -std=c11 -O2 -pthread -o "$W/randread" "$HERE/randread.c" ||
		fail "cannot build randread.c"
	RANDREAD=$W/randread
fi

SRC=$W/src
MNT=$W/mnt
EIO="Input/output error"

check "building the DEFLATE fixture (seed 20250601): 27 entries, 0 bytes to 96 MiB"
t0=$SECONDS
"$PY" - "$SRC" "$W/good.ozx" "$W" <<'EOF' || fail "cannot build the fixture"
import os, random, sys, zipfile
src, out, w = sys.argv[1:4]
rng = random.Random(20250601)
MiB = 1 << 20

def textlike(n, npool=1024):
    """Log-like lines of words from a drifting vocabulary, with numbers:
    LZ77 matches at every distance of the window; 2.5-3x."""
    letters = b"eeeeettttaaaooiinnsshhrrdlcumwfgypbvkjxqz"
    def word():
        return bytes(rng.choice(letters) for _ in range(rng.randrange(2, 10)))
    vocab = [word() for _ in range(2048)]
    def line():
        ws = rng.choices(vocab, k=rng.randrange(4, 12))
        return b"%d %s %d\n" % (rng.randrange(1 << 20), b" ".join(ws),
                                rng.randrange(1000))
    pool = [line() for _ in range(npool)]
    parts, size = [], 0
    while size < n:
        for _ in range(32):
            vocab[rng.randrange(2048)] = word()
        for _ in range(npool // 32):
            pool[rng.randrange(npool)] = line()
        blk = b"".join(rng.choices(pool, k=2048))
        parts.append(blk)
        size += len(blk)
    return b"".join(parts)[:n]

def binlike(n):
    """16-bit samples: a noisy low byte over a slowly varying high byte."""
    half = (n + 1) // 2
    table = bytes(min(255, int(rng.expovariate(0.08))) for _ in range(256))
    lo = rng.randbytes(half).translate(table)
    hi, k = [], 0
    while k < half:
        r = rng.randrange(64, 2048)
        hi.append(bytes([rng.randrange(256)]) * r)
        k += r
    b = bytearray(2 * half)
    b[0::2] = lo
    b[1::2] = b"".join(hi)[:half]
    return bytes(b[:n])

def runs(n):
    """Runs of one byte value with a few random bytes every 64 KiB: about
    600:1, and zlib's blocks then hold MiBs of output each, so the access
    points lie several MiB apart (one per block at most)."""
    b = bytearray()
    while len(b) < n:
        b += bytes([rng.randrange(256)]) * rng.randrange(1 << 15, 1 << 17)
        b += rng.randbytes(16)
    return bytes(b[:n])

# name, data, zlib level (0: a DEFLATE stream of stored blocks)
entries = [
    ("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n', 6),
    ("big/a.txt", textlike(96 * MiB + 4321), 1),
    ("big/b.bin", binlike(24 * MiB + 1), 6),
    ("big/c.txt", textlike(16 * MiB - 3), 6),
    ("big/d.bin", binlike(12 * MiB + 99), 1),
    ("big/e.txt", textlike(8 * MiB + 12345), 6),
    ("big/f.bin", binlike(8 * MiB + 777), 0),
    ("big/g.runs", runs(16 * MiB), 9),
    ("small/empty", b"", 6),
    ("small/one", b"x", 6),
    ("small/tiny.txt", textlike(100), 6),
    ("small/64k.txt", textlike(65536), 9),
    ("small/span.txt", textlike(MiB), 6),
    ("small/span+1.bin", binlike(MiB + 1), 6),
    ("small/3m.txt", textlike(3 * MiB + 5), 6),
]
# twelve 2.5 MiB entries, overlapping slices of big/b.bin (each its own
# stream), for the eviction churn
b = entries[2][1]
entries += [("churn/%02d.bin" % i, b[i * 2 * MiB:i * 2 * MiB + 5 * MiB // 2 + i], 1)
            for i in range(12)]
lists = {"all": [], "evict": [], "naive": [], "churn": []}
with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
    for name, data, level in entries:
        path = os.path.join(src, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        zi = zipfile.ZipInfo(name, (2025, 6, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.external_attr = 0o100644 << 16
        zf.writestr(zi, data, compresslevel=level)
        line = "%d %s\n" % (len(data), name)
        if name.startswith("churn/"):
            lists["churn"].append(line)
            continue
        lists["all"].append(line)
        if name.startswith("big/") and name not in ("big/a.txt", "big/g.runs"):
            lists["evict"].append(line)
        if len(data) <= 8 * MiB + 12345:
            lists["naive"].append(line)
with zipfile.ZipFile(out) as zf:
    for zi in zf.infolist():
        assert zi.compress_type == zipfile.ZIP_DEFLATED, zi.filename
        print("  %-18s %10d -> %9d bytes" % (zi.filename, zi.file_size,
                                               zi.compress_size))
for k, v in lists.items():
    with open(os.path.join(w, "list." + k), "w") as f:
        f.writelines(v)
EOF
ok "$(du -sm "$SRC" | cut -f1) MiB source, $(($(stat -c %s "$W/good.ozx") >> 20)) MiB archive, in $((SECONDS - t0)) s"

# randread ARGS...: the helper over the mount at $MNT; every byte compared.
randread()
{
	local t0=$SECONDS out rc
	check "randread $* (every byte compared)"
	out=$("$RANDREAD" "$@" "$SRC" "$MNT" 2>"$W/randread.err")
	rc=$?
	echo "$out"
	[ -s "$W/randread.err" ] && head -n 20 "$W/randread.err" >&2
	[ "$rc" -eq 0 ] || fail "randread $*: exit status $rc"
	case $out in
	*" errors=0 "*) ;;
	*) fail "randread $*: errors reported" ;;
	esac
	case $out in
	*O_DIRECT=refused*) fail "randread $*: the mount refused O_DIRECT" ;;
	esac
	ok "$((SECONDS - t0)) s"
}

# cmp_small MNT: every file up to 4 MiB is cmp-equal.
cmp_small()
{
	local mnt=$1 n=0 size f
	check "cmp of every file up to 4 MiB"
	while read -r size f; do
		[ "$size" -le $((4 << 20)) ] || continue
		cmp -- "$SRC/$f" "$mnt/$f" || fail "'$f' differs"
		n=$((n + 1))
	done <"$W/list.all"
	ok "$n files"
}

check "=== default inflate cache (64M), verify=entry ==="
mount_ozx "$W/good.ozx" "$MNT"
check "listing and sizes equal the source tree"
tree_listing "$SRC" >"$W/list.src" || fail "find in '$SRC' failed"
tree_listing "$MNT" >"$W/list.mnt" || fail "find in '$MNT' failed"
diff -u "$W/list.src" "$W/list.mnt" >&2 || fail "listing of the mount differs"
ok "$(wc -l <"$W/list.src") paths"
cmp_small "$MNT"
check "cat of the 24 MiB entry is byte-equal (sequential, through the page cache)"
cmp -- "$SRC/big/b.bin" "$MNT/big/b.bin" || fail "'big/b.bin' differs"
ok "identical"
randread -e -p 4 -t 4 -n 60 -s 1 "$W/list.all"
unmount_ozx "$MNT"

check "=== inflate_cache=1M: five 8-24 MiB entries read interleaved evict each other's index ==="
# MALLOC_PERTURB_=165: glibc fills freed memory with 0xa5, so an
# access-point window freed by an eviction while a reader still used it
# would show up as wrong bytes instead of staying invisible.
MALLOC_PERTURB_=165 mount_ozx "$W/good.ozx" "$MNT" -o inflate_cache=1M,threads=8
randread -e -p 3 -t 3 -n 25 -s 2 "$W/list.evict"
unmount_ozx "$MNT"

check "=== inflate_cache=256K: twelve 2.5 MiB entries, room for 7 indices of 1 point: constant churn ==="
MALLOC_PERTURB_=165 mount_ozx "$W/good.ozx" "$MNT" -o inflate_cache=256K,threads=8
randread -p 3 -t 4 -n 25 -s 5 "$W/list.churn"
unmount_ozx "$MNT"

check "=== verify=none: the first reads race to build the indices ==="
mount_ozx "$W/good.ozx" "$MNT" -o verify=none
randread -e -p 4 -t 4 -n 60 -s 3 "$W/list.all"
cmp_small "$MNT"
unmount_ozx "$MNT"

check "=== inflate_cache=0,verify=none: no index, every read inflates from the start ==="
mount_ozx "$W/good.ozx" "$MNT" -o inflate_cache=0,verify=none
randread -e -p 2 -t 2 -n 12 -s 4 "$W/list.naive"
unmount_ozx "$MNT"

check "building an archive of malformed DEFLATE entries"
"$PY" - "$W/bad.ozx" "$W/bad.list" "$W/badsrc" <<'EOF' || fail "cannot build the malformed archive"
import os, random, struct, sys, zlib
out, lst, src = sys.argv[1:4]
rng = random.Random(7)

def text(n):
    words = [bytes(rng.choice(b"etaoinshrdlu") for _ in range(rng.randrange(2, 9)))
             for _ in range(3000)]
    parts, size = [], 0
    while size < n:
        line = b" ".join(rng.choices(words, k=10)) + b" %d\n" % rng.randrange(99999)
        parts.append(line)
        size += len(line)
    return b"".join(parts)[:n]

def deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()

def breaks(stream, size):
    """The stream does not inflate to exactly size bytes and end at its
    last byte."""
    d = zlib.decompressobj(-15)
    try:
        got = d.decompress(stream)
    except zlib.error:
        return True
    return not d.eof or d.unused_data or len(got) != size

# Each entry: name, stream, declared uncompressed size, declared CRC, data
# (what a reader would want; only its CRC and size are declared).
entries = [("zarr.json", None, b'{"zarr_format":3,"node_type":"group"}\n')]
good = text(2 << 20)
entries.append(("good/x.txt", deflate(good), good))
entries.append(("good/y.txt", deflate(good[:5000]), good[:5000]))
for tag, n in (("small", 300000), ("big", 6 << 20)):
    data = text(n)
    z = deflate(data)
    crc = zlib.crc32(data)
    cut = len(z) * 2 // 3
    assert breaks(z[:cut], n)
    entries.append(("bad/truncated-%s.txt" % tag, z[:cut], n, crc))
    # flip 16 bytes in the middle; move on until zlib itself fails on it
    pos = len(z) // 2
    while True:
        bad = bytearray(z)
        for k in range(pos, pos + 16):
            bad[k] ^= 0x5A
        if breaks(bytes(bad), n):
            break
        pos += 97
    entries.append(("bad/corrupt-%s.txt" % tag, bytes(bad), n, crc))
    # longer than declared: the CRC is that of the declared prefix
    entries.append(("bad/long-%s.txt" % tag, z, n - 1000,
                    zlib.crc32(data[:n - 1000])))
    # shorter than declared: the CRC is that of what the stream holds
    entries.append(("bad/short-%s.txt" % tag, z, n + 1000, crc))
    # a whole, valid stream followed by 100 more bytes: served
    entries.append(("ok/trailing-%s.txt" % tag, z + rng.randbytes(100), n,
                    crc, data))

def local(name, method, crc, csize, usize):
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x5AC1,
                       crc, csize, usize, len(name), 0) + name

def central(name, method, crc, csize, usize, off):
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0,
                       method, 0, 0x5AC1, crc, csize, usize, len(name), 0, 0,
                       0, 0, 0o100644 << 16, off) + name

body, cd = bytearray(), bytearray()
with open(lst, "w") as l:
    for e in entries:
        name = e[0].encode()
        if e[1] is None:  # STORED
            data = e[2]
            method, stream, usize, crc = 0, data, len(data), zlib.crc32(data)
        elif len(e) == 3:  # good DEFLATE
            data = e[2]
            method, stream, usize, crc = 8, e[1], len(data), zlib.crc32(data)
        else:  # malformed, or (with its data) tolerated
            method, stream, usize, crc = 8, e[1], e[2], e[3]
            data = e[4] if len(e) == 5 else None
        off = len(body)
        body += local(name, method, crc, len(stream), usize) + stream
        cd += central(name, method, crc, len(stream), usize, off)
        if data is not None:
            path = os.path.join(src, e[0])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            l.write("%s %s\n" % ("good" if len(e) == 3 else "tolerated",
                                   e[0]))
        else:
            l.write("bad %s\n" % e[0])
eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                   len(cd), len(body), 0)
with open(out, "wb") as f:
    f.write(body + cd + eocd)
EOF
ok "$(grep -c '^bad ' "$W/bad.list") malformed entries, $(grep -c '^good ' "$W/bad.list") good ones, $(grep -c '^tolerated ' "$W/bad.list") tolerated"

# eio_reads MNT NAME...: reading each NAME gives EIO, every time: the whole
# file, its first 10 bytes, its last 100, 4 KiB in the middle with
# O_DIRECT, twice over (one process for all: fewer forks on a loaded
# machine), then cat(1) once more.
eio_reads()
{
	local mnt=$1 f
	shift
	check "every read of the $# malformed entries gives EIO, every time"
	"$PY" - "$mnt" "$@" <<'EOF' || fail "a malformed entry read without EIO"
import errno, mmap, os, sys
mnt, names = sys.argv[1], sys.argv[2:]
bad = 0
def pread_all(fd, off, n, direct):
    if direct:
        buf = mmap.mmap(-1, n)  # page-aligned, as O_DIRECT wants
        return os.preadv(fd, [buf], off)
    got = 0
    while got < n:
        b = os.pread(fd, min(n - got, 1 << 20), off + got)
        if not b:
            break
        got += len(b)
    return got
for name in names:
    path = os.path.join(mnt, name)
    size = os.stat(path).st_size
    for rnd in (1, 2):
        for what, off, n, flags in (
                ("all", 0, size + 1, 0),
                ("the first 10 bytes", 0, 10, 0),
                ("the last 100 bytes", max(size - 100, 0), 100, 0),
                ("4 KiB in the middle, O_DIRECT", size // 8192 * 4096, 4096,
                 os.O_DIRECT)):
            fd = os.open(path, os.O_RDONLY | flags)
            try:
                got = pread_all(fd, off, n, flags != 0)
                print("'%s': %s (try %d): read %d bytes, want EIO"
                      % (name, what, rnd, got), file=sys.stderr)
                bad += 1
            except OSError as e:
                if e.errno != errno.EIO:
                    print("'%s': %s (try %d): %s, want EIO"
                          % (name, what, rnd, e), file=sys.stderr)
                    bad += 1
            finally:
                os.close(fd)
sys.exit(1 if bad else 0)
EOF
	ok "$(($# * 8)) reads"
	for f in "$@"; do
		expect_fail "$EIO" "cat of '$f'" cat "$mnt/$f"
	done
}

# good_reads MNT: the good and the tolerated entries of the malformed
# archive read right.
good_reads()
{
	local mnt=$1 n=0 kind f
	check "the good and tolerated entries of the malformed archive read right"
	while read -r kind f; do
		[ "$kind" != bad ] || continue
		cmp -- "$W/badsrc/$f" "$mnt/$f" || fail "'$f' differs"
		n=$((n + 1))
	done <"$W/bad.list"
	ok "$n files"
}

# logged_once LOG NAME [REASON]: the log names NAME, quoted, on exactly one
# line, which says REASON if given.
logged_once()
{
	local log=$1 name=$2 why=${3:-} n line
	check "the daemon log names '$name' once${why:+ ($why)}"
	n=$(grep -cF -- "'$name'" "$log")
	[ "$n" -eq 1 ] || { show_log "$log"; fail "'$name' on $n log lines, want 1"; }
	line=$(grep -F -- "'$name'" "$log")
	[ -z "$why" ] || [[ "$line" == *"$why"* ]] ||
		{ show_log "$log"; fail "log line for '$name' does not say '$why'"; }
	ok "$line"
}

# why_of NAME: the failure the log must give for NAME ("" for any).
why_of()
{
	case $1 in
	*/long-*) echo "longer than declared" ;;
	*/short-*) echo "shorter than declared" ;;
	*) echo "" ;;
	esac
}

check "=== malformed DEFLATE entries, verify=entry ==="
mount_ozx "$W/bad.ozx" "$MNT"
good_reads "$MNT"
mapfile -t BAD < <(sed -n 's/^bad //p' "$W/bad.list")
mapfile -t BAD_BIG < <(sed -n 's/^bad \(.*-big\.txt\)$/\1/p' "$W/bad.list")
mapfile -t TOLERATED < <(sed -n 's/^tolerated //p' "$W/bad.list")
[ "${#BAD[@]}" -eq 8 ] && [ "${#BAD_BIG[@]}" -eq 4 ] &&
	[ "${#TOLERATED[@]}" -eq 2 ] ||
	fail "bad.list names ${#BAD[@]} malformed entries (${#BAD_BIG[@]} big), ${#TOLERATED[@]} tolerated, want 8 (4), 2"
eio_reads "$MNT" "${BAD[@]}"
good_reads "$MNT"
LOG1=$LOG
unmount_ozx "$MNT"
for f in "${BAD[@]}"; do
	logged_once "$LOG1" "$f" "$(why_of "$f")"
done
for f in "${TOLERATED[@]}"; do
	logged_once "$LOG1" "$f" "unused bytes after the end of the DEFLATE stream"
done

check "=== malformed entries above the span, verify=none: the index pass finds them ==="
mount_ozx "$W/bad.ozx" "$MNT" -o verify=none
check "8 concurrent readers of each big malformed entry all get EIO"
for f in "${BAD_BIG[@]}"; do
	pids=()
	for i in 1 2 3 4 5 6 7 8; do
		dd if="$MNT/$f" of=/dev/null bs=64k skip=$((i * 9)) count=4 \
			status=none 2>"$W/dd.$i" &
		pids+=($!)
	done
	for i in 1 2 3 4 5 6 7 8; do
		wait "${pids[$((i - 1))]}" && fail "reader $i of '$f' succeeded, want EIO"
	done
	if grep -LF "$EIO" "$W"/dd.[1-8] | grep -q .; then
		head -n 2 "$W"/dd.[1-8] >&2
		fail "readers of '$f' failed, not all with EIO"
	fi
done
ok "8 x ${#BAD_BIG[@]} readers failed with EIO"
eio_reads "$MNT" "${BAD_BIG[@]}"
good_reads "$MNT"
LOG1=$LOG
unmount_ozx "$MNT"
for f in "${BAD_BIG[@]}"; do
	logged_once "$LOG1" "$f" "$(why_of "$f")"
done

echo "PASS: $TEST_NAME"
