#!/usr/bin/python3
"""mkdirbomb.py OUT.ozx NRECORDS [DEPTH]: a "directory bomb" for
tests/mount/dirbomb.sh (issue 14, item 5).

Record k is named "kkkkk/a/a/.../a/f", DEPTH components deep (128, the
most a name may have, by default): each record has a first component of
its own, so it implies DEPTH - 1 directories that no other record shares,
and the archive implies NRECORDS * (DEPTH - 1) directories in all.

Every entry is empty and STORED; local headers and central records are
packed by hand (as scripts/mkbig does), deterministically, so even
100,000 records take well under a second to write.  A ZIP64 end record
is added only when the record count needs one.
"""
import struct
import sys

SIG_LOCAL, SIG_CENTRAL = 0x04034B50, 0x02014B50
SIG_EOCD, SIG_EOCD64, SIG_LOC64 = 0x06054B50, 0x06064B50, 0x07064B50
DOS_TIME, DOS_DATE = 6 << 11, (44 << 9) | (1 << 5) | 1  # 2024-01-01 06:00
MADE_BY_UNIX = (3 << 8) | 30
FILE_MODE = 0o100444 << 16


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2])
    depth = int(sys.argv[3]) if len(sys.argv) == 4 else 128
    if not 1 <= n <= 99999 or not 2 <= depth <= 128:
        sys.exit("mkdirbomb: 1 <= NRECORDS <= 99999, 2 <= DEPTH <= 128")
    tail = b"a/" * (depth - 2) + b"f"
    local, central = [], []
    off = 0
    for k in range(n):
        name = b"%05d/" % k + tail
        local.append(struct.pack("<IHHHHHIIIHH", SIG_LOCAL, 20, 0, 0,
                                 DOS_TIME, DOS_DATE, 0, 0, 0, len(name), 0))
        local.append(name)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", SIG_CENTRAL,
                                   MADE_BY_UNIX, 20, 0, 0, DOS_TIME,
                                   DOS_DATE, 0, 0, 0, len(name), 0, 0, 0,
                                   0, FILE_MODE, off))
        central.append(name)
        off += 30 + len(name)
    cd = b"".join(central)
    with open(out, "wb") as f:
        f.write(b"".join(local))
        f.write(cd)
        if n <= 0xFFFF:
            f.write(struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, n, n, len(cd),
                                off, 0))
            return
        f.write(struct.pack("<IQHHIIQQQQ", SIG_EOCD64, 44, 45, 45, 0, 0, n,
                            n, len(cd), off))
        f.write(struct.pack("<IIQI", SIG_LOC64, 0, off + len(cd), 1))
        f.write(struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, 0xFFFF, 0xFFFF,
                            len(cd), off, 0))


main()
