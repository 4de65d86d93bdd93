#!/usr/bin/python3
"""mkinterop.py OUTDIR - archives other ZIP readers read, for interop.sh.

Issues 14 and 15.  Each case is an archive that Python's zipfile (the
reader under zarr's ZipStore) reads, made here by zipfile and then patched
or written by hand: deterministic bytes, no copies of anyone's files.
Python's own view of each archive is asserted here, as the oracle the
mount is compared with; a case where Python does not behave as described
fails the generator.

  OUTDIR/CASE.ozx       the archive
  OUTDIR/CASE.src/      the tree the mount must show, byte for byte
  OUTDIR/cases.tsv      CASE <tab> accept|refuse <tab> TEXT <tab> ENTRY|-
                        accept: TEXT is in one daemon log line and in
                        `ozx check` output (exit status 1, warnings only),
                        both lines naming ENTRY when it is not "-";
                        refuse: TEXT is the reason of the refusal (daemon
                        exit status 3, `ozx check` exit status 2)
"""

import io
import os
import struct
import sys
import zipfile
import zlib

SIG_LOCAL = 0x04034B50
SIG_CENTRAL = 0x02014B50
SIG_EOCD = 0x06054B50
SIG_EOCD64 = 0x06064B50
SIG_LOC64 = 0x07064B50
DOS_TIME, DOS_DATE = 0, (2024 - 1980) << 9 | 1 << 5 | 1


def blob(seed, n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += zlib.crc32(b"%s-%d" % (seed.encode(), i)).to_bytes(4, "little")
        i += 1
    return bytes(out[:n])


def text(seed, n):
    line = ("%s: the quick brown fox jumps over the lazy dog\n" % seed)
    return (line * (n // len(line) + 1)).encode()[:n]


def deflate(data):
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


def zip_of(files, comment=b""):
    """A plain archive by zipfile, STORED and DEFLATE entries."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, data, method in files:
            zi = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            zi.compress_type = method
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
        z.comment = comment
    return bytearray(b.getvalue())


def eocd_at(b):
    """The offset of the last end record (the archives here have one)."""
    return bytes(b).rfind(struct.pack("<I", SIG_EOCD))


def local(name, comp, crc, usize, method, extra=b""):
    return struct.pack("<IHHHHHIIIHH", SIG_LOCAL, 20, 0, method, DOS_TIME,
                       DOS_DATE, crc, len(comp), usize, len(name),
                       len(extra)) + name + extra + comp


def central(name, comp, crc, usize, method, lho, extra=b""):
    return struct.pack("<IHHHHHHIIIHHHHHII", SIG_CENTRAL, 20, 20, 0, method,
                       DOS_TIME, DOS_DATE, crc, len(comp), usize, len(name),
                       len(extra), 0, 0, 0, 0o644 << 16, lho) + name + extra


def eocd(n, cd_size, cd_off, clen=0):
    return struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, n & 0xFFFF, n & 0xFFFF,
                       cd_size, cd_off, clen)


class Out:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lines = []

    def case(self, name, data, files, kind, msg, entry="-"):
        with open(os.path.join(self.outdir, name + ".ozx"), "wb") as f:
            f.write(data)
        src = os.path.join(self.outdir, name + ".src")
        os.makedirs(src, exist_ok=True)
        for path, content in files.items():
            p = os.path.join(src, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(content)
        self.lines.append("%s\t%s\t%s\t%s\n" % (name, kind, msg, entry))


def python_reads(data, files):
    """The oracle: Python's zipfile lists and reads exactly files."""
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        got = {i.filename: z.read(i) for i in z.infolist()}
    assert got == files, (sorted(got), sorted(files))


BASE = {
    "zarr.json": b'{"zarr_format":3,"node_type":"group"}\n',
    "data/c/0/0": blob("chunk", 40000),
    "data/notes.txt": text("notes", 30000),
}


def base_zip(comment=b""):
    return zip_of([("zarr.json", BASE["zarr.json"], zipfile.ZIP_STORED),
                   ("data/c/0/0", BASE["data/c/0/0"], zipfile.ZIP_STORED),
                   ("data/notes.txt", BASE["data/notes.txt"],
                    zipfile.ZIP_DEFLATED)], comment)


def hidden_eocd(o):
    """Issue 14: a central directory and an end record hidden in the
    archive comment; the hidden end record's comment length stops short
    of the end of the file.  Python takes the last signature: it lists and
    reads evil.txt.  The mount must not show benign.txt as if nothing were
    wrong: refused as ambiguous."""
    b = zip_of([("benign.txt", b"benign\n", zipfile.ZIP_STORED)])
    at = len(b)  # where the comment will start
    name, data = b"evil.txt", b"evil\n"
    lh = local(name, data, zlib.crc32(data), len(data), 0)
    cd = central(name, data, zlib.crc32(data), len(data), 0, at)
    comment = lh + cd + eocd(1, len(cd), at + len(lh)) + b"benign padding"
    b += comment
    struct.pack_into("<H", b, eocd_at(b[:at]) + 20, len(comment))
    python_reads(b, {"evil.txt": b"evil\n"})
    print("hidden-eocd-in-comment: Python's zipfile lists %s" %
          zipfile.ZipFile(io.BytesIO(bytes(b))).namelist())
    o.case("hidden-eocd-in-comment", b, {}, "refuse",
           "several end of central directory records: ambiguous archive")


def trailing(o):
    # (an end record signature alone at the end would not do: Python
    # takes it and gives up)
    b = base_zip() + b"\0" * 1000
    python_reads(b, BASE)
    o.case("trailing-bytes", b, BASE, "accept",
           ": 1000 bytes after the end record, not covered by its comment "
           "length")
    b = base_zip(b"0123456789")
    struct.pack_into("<H", b, eocd_at(b) + 20, 4)
    python_reads(b, BASE)
    o.case("comment-length-short", b, BASE, "accept",
           ": 6 bytes after the end record, not covered by its comment "
           "length")


def stub():
    return b"#!/bin/sh\necho self-extracting stub\nexit 0\n".ljust(3000, b"#")


def prepended(o):
    b = stub() + base_zip()
    python_reads(b, BASE)
    o.case("prepended-stub", b, BASE, "accept",
           ": 3000 bytes before the archive, not counted by its offsets")
    # The ZIP64 form: end records made ZIP64 (classic fields the
    # sentinels), then the same stub in front.
    z = base_zip()
    e = eocd_at(z)
    n, size, off = struct.unpack_from("<HII", z, e + 10)
    e64 = struct.pack("<IQHHIIQQQQ", SIG_EOCD64, 44, 45, 45, 0, 0, n, n,
                      size, off)
    loc = struct.pack("<IIQI", SIG_LOC64, 0, e, 1)
    z = z[:e] + e64 + loc + struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, 0xFFFF,
                                        0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    python_reads(z, BASE)
    b = stub() + z
    python_reads(b, BASE)
    o.case("prepended-stub-zip64", b, BASE, "accept",
           ": 3000 bytes before the archive, not counted by its offsets")


def wrapped_count(o):
    """More than 65535 entries and no ZIP64 records (fflate, JSZip): the
    end record holds the count modulo 65536."""
    n = 65536 + 5
    files = {"zarr.json": BASE["zarr.json"]}
    for i in range(n - 1):
        files["c/%d/%d" % (i // 1000, i % 1000)] = b"%d\n" % i
    out = bytearray()
    cd = bytearray()
    for name, data in files.items():
        nb = name.encode()
        cd += central(nb, data, zlib.crc32(data), len(data), 0, len(out))
        out += local(nb, data, zlib.crc32(data), len(data), 0)
    cd_off = len(out)
    out += cd + eocd(n, len(cd), cd_off)
    assert struct.unpack_from("<H", out, len(out) - 12)[0] == 5
    python_reads(out, files)
    o.case("count-wrapped", out, files, "accept",
           ": 65541 entries, 5 in the end record: more than 65535 entries "
           "without ZIP64")


def deflate_trailing(o):
    """Unused bytes after the end of a DEFLATE stream, inside the
    compressed size; the CRC-32 matches."""
    files = {"zarr.json": BASE["zarr.json"],
             "padded.txt": text("padded", 50000)}
    out = bytearray()
    cd = bytearray()
    for name, data in files.items():
        nb = name.encode()
        comp = deflate(data) + (b"\0" * 16 if name == "padded.txt" else b"")
        cd += central(nb, comp, zlib.crc32(data), len(data), 8, len(out))
        out += local(nb, comp, zlib.crc32(data), len(data), 8)
    cd_off = len(out)
    out += cd + eocd(len(files), len(cd), cd_off)
    python_reads(out, files)
    o.case("deflate-trailing", out, files, "accept",
           "unused bytes after the end of the DEFLATE stream (the stream "
           "is complete and its CRC-32 matches)", "padded.txt")


def unicode_path(o):
    """A Latin-1 name with an Info-ZIP Unicode Path extra whose CRC-32
    matches it.  (Python ignores the extra: it shows the name decoded as
    code page 437; unzip uses the extra.)"""
    raw, data = "café-ü.txt".encode("latin-1"), text("unicode", 3000)
    up = "café-ü.txt".encode()
    x = struct.pack("<HHBI", 0x7075, 5 + len(up), 1, zlib.crc32(raw)) + up
    files = {"zarr.json": BASE["zarr.json"]}
    out = bytearray()
    cd = bytearray()
    for nb, d, extra in ((b"zarr.json", files["zarr.json"], b""),
                         (raw, data, x)):
        cd += central(nb, d, zlib.crc32(d), len(d), 0, len(out), extra)
        out += local(nb, d, zlib.crc32(d), len(d), 0, extra)
    cd_off = len(out)
    out += cd + eocd(2, len(cd), cd_off)
    python_reads(out, {"zarr.json": files["zarr.json"],
                       raw.decode("cp437"): data})
    files["café-ü.txt"] = data
    o.case("unicode-path", out, files, "accept",
           ": names that are not UTF-8 shown as their Info-ZIP Unicode Path "
           "extra field says (its CRC-32 matches): 1 entry")


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: mkinterop.py OUTDIR\n")
        return 2
    o = Out(sys.argv[1])
    os.makedirs(o.outdir, exist_ok=True)
    hidden_eocd(o)
    trailing(o)
    prepended(o)
    wrapped_count(o)
    deflate_trailing(o)
    unicode_path(o)
    with open(os.path.join(o.outdir, "cases.tsv"), "w") as f:
        f.writelines(o.lines)
    print("mkinterop: %d cases; Python's zipfile reads each as described"
          % len(o.lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
