#!/usr/bin/python3
"""tests/mount/mkzeros.py OUT.ozx MIB [NBIG]: write an archive whose entry
"big" is a legal DEFLATE stream of MIB MiB of zeros (a multiple of 64;
about MIB KB of it), next to a STORED root zarr.json and a 5-byte STORED
file "small"; with NBIG > 1, also "big2" to "bigNBIG", the same.

Nothing here compresses or checksums gigabytes, so the fixture costs about
a second whatever its size:
 - 64 MiB of zeros are compressed once and ended with Z_FULL_FLUSH, which
   byte-aligns the output and forgets the window: the piece stands alone
   and may be repeated any number of times; an empty final block ends the
   stream;
 - the CRC-32 of the whole comes from the piece's with zlib's crc32_combine
   (the GF(2) matrix method of zlib 1.2), by doubling.
The ZIP records are written by hand with ZIP64 sizes, as scripts/mkbig
does."""
import struct
import sys
import zlib

PIECE = 64 << 20


def gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def gf2_square(mat):
    return [gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    """The CRC-32 of A+B from crc1 = CRC(A), crc2 = CRC(B), len2 = len(B)."""
    # the operator that appends one zero bit, squared to four bits
    mat = gf2_square(gf2_square([0xEDB88320] + [1 << n for n in range(31)]))
    while len2 > 0:
        # squared again: 2^i zero bytes, applied for bit i of len2
        mat = gf2_square(mat)
        if len2 & 1:
            crc1 = gf2_times(mat, crc1)
        len2 >>= 1
    return crc1 ^ crc2


def crc_of_pieces(piece_crc, k):
    """CRC-32 of k copies of a PIECE-byte block whose CRC-32 is piece_crc."""
    crc, have = 0, False
    part, part_len = piece_crc, PIECE
    while k:
        if k & 1:
            crc = crc32_combine(crc, part, part_len) if have else part
            have = True
        part = crc32_combine(part, part, part_len)
        part_len *= 2
        k >>= 1
    return crc


def self_test():
    # the combine against zlib on bytes small enough to checksum directly
    a, b = b"\x00" * 1000 + b"abc", b"xyz" + b"\x00" * 77777
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    out, mib = sys.argv[1], int(sys.argv[2])
    nbig = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    if mib < 64 or mib % 64 or nbig < 1:
        sys.exit("mkzeros: MIB a multiple of 64, NBIG >= 1")
    self_test()
    k = mib * (1 << 20) // PIECE
    zeros = bytes(PIECE)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    usize, csize = k * PIECE, k * len(piece) + len(tail)
    crc = crc_of_pieces(zlib.crc32(zeros), k)
    # the stream, checked on a small scale: two pieces and the tail
    d = zlib.decompressobj(-15)
    assert d.decompress(piece + piece + tail) == zeros + zeros and d.eof

    entries = [
        (b"zarr.json", b'{"zarr_format":3,"node_type":"group"}\n'),
        (b"small", b"hello"),
        (b"big", None),
    ] + [(b"big%d" % i, None) for i in range(2, nbig + 1)]
    cd = bytearray()
    off = 0
    with open(out, "wb") as f:
        for name, data in entries:
            if data is None:
                method, size, comp, ecrc = 8, usize, csize, crc
            else:
                method, size, comp, ecrc = 0, len(data), len(data), zlib.crc32(data)
            x64 = struct.pack("<HHQQ", 1, 16, size, comp)
            lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21,
                             ecrc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(x64))
            f.write(lh + name + x64)
            if data is None:
                for _ in range(k):
                    f.write(piece)
                f.write(tail)
            else:
                f.write(data)
            cx = struct.pack("<HHQQQ", 1, 24, size, comp, off)
            cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 45, 0,
                              method, 0, 0x21, ecrc, 0xFFFFFFFF, 0xFFFFFFFF,
                              len(name), len(cx), 0, 0, 0, 0o100644 << 16,
                              0xFFFFFFFF)
            cd += name + cx
            off += len(lh) + len(name) + len(x64) + comp
        n = len(entries)
        f.write(cd)
        e64 = off + len(cd)
        f.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n,
                            len(cd), off))
        f.write(struct.pack("<IIQI", 0x07064B50, 0, e64, 1))
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF,
                            0xFFFFFFFF, 0xFFFFFFFF, 0))


main()
