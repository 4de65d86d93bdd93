#!/usr/bin/python3
"""mkhostile.py OUTDIR - hostile ZIP archives for tests/hostile/hostile.sh.

Writes into OUTDIR one malformed archive per defect, each named after it
(libzip's incons-* convention), built deterministically with struct packing
(no randomness, no clock: the same bytes on every run), and a manifest of
what the daemon must do with each:

  OUTDIR/manifest.json  the cases, for people and other tools
  OUTDIR/manifest.tsv   the same claims, one per line, for the shell test
  OUTDIR/expect/        expected contents (N.bin) and listings (STEM.list)

Two kinds of case:

  refuse  the daemon exits with status 3 and one line
          "ozxfs: 'PATH' is not a usable archive: MESSAGE (at offset N)"
  mount   the archive mounts; listed entries answer EIO (and are logged
          once with a reason), others read back byte-exact, harmless-made
          entries have the stated type and mode, unsafe names are absent
          and warned about, and `find` shows exactly the expected tree

Entry-level defects are grouped into a few archives (one mount each), so
the test stays quick.  manifest.tsv lines are tab-separated:

  refuse  FILE  MESSAGE  DESCRIPTION
  skip    FILE  REASON               (a case this machine cannot build)
  mount   FILE  OPTIONS|-  DESCRIPTION
  good    PATH  EXPECTFILE           cmp PATH with OUTDIR/EXPECTFILE
  eio     PATH  REASON[|REASON...]  nobytes|somebytes
                                     two reads fail with EIO, logged once
                                     with one of the reasons; nobytes: and
                                     not one byte is read before the error
  type    PATH  TYPE  MODE           stat -c %F and %a
  mtime   PATH  MIN  MAX             stat -c %Y within [MIN, MAX]
  absent  PATH                       no such path (lookup fails, twice)
  hidden  NAME  WHY                  one "entry 'NAME' ... is hidden: WHY"
  log     COUNT SUBSTRING            exactly COUNT log lines contain it
  listing LISTFILE                   find's "%y %P" lines, C-sorted
  end

PATH is relative to the mount point and never holds a tab or a newline.
"""

import hashlib
import json
import os
import struct
import sys
import zlib

SIG_LOCAL = 0x04034B50
SIG_CENTRAL = 0x02014B50
SIG_EOCD = 0x06054B50
SIG_EOCD64 = 0x06064B50
SIG_LOC64 = 0x07064B50
SIG_DD = 0x08074B50

U16 = 0xFFFF
U32 = 0xFFFFFFFF

MADE_BY_UNIX = (3 << 8) | 30  # Info-ZIP on Unix, spec 3.0
MADE_BY_DOS = 20


def dos_time(y, mo, d, h, mi, s):
    """Raw MS-DOS (time, date) fields; absurd values are kept as given
    (each field masked to its width), which is the point."""
    time = ((h & 31) << 11) | ((mi & 63) << 5) | ((s // 2) & 31)
    date = (((y - 1980) & 127) << 9) | ((mo & 15) << 5) | (d & 31)
    return time, date


DEF_TIME, DEF_DATE = dos_time(2024, 5, 17, 12, 30, 0)
T_1980 = 315532800          # 1980-01-01T00:00:00Z, the earliest DOS time
T_2107 = 4354819199         # 2107-12-31T23:59:59Z, the latest


def blob(tag, n):
    """n deterministic pseudo-random bytes named by tag, without "PK"
    (so that no signature can appear inside content)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (tag.encode(), i)).digest()
        i += 1
    return bytes(out[:n]).replace(b"PK", b"pk")


def text(tag, n):
    """n bytes of compressible text named by tag."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += b"%s line %d\n" % (tag.encode(), i)
        i += 1
    return bytes(out[:n])


def deflate(data, level=9):
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


def extra(id_, payload):
    return struct.pack("<HH", id_, len(payload)) + payload


def zip64_extra(*vals):
    return extra(1, b"".join(struct.pack("<Q", v) for v in vals))


def ut_extra(mtime):
    """Info-ZIP extended timestamp, mtime only; mtime is taken mod 2^32
    (so -1000 and 0xffffffff are both expressible)."""
    return extra(0x5455, struct.pack("<BI", 1, mtime & U32))


def p16(b, off, v):
    struct.pack_into("<H", b, off, v)


def p32(b, off, v):
    struct.pack_into("<I", b, off, v)


def p64(b, off, v):
    struct.pack_into("<Q", b, off, v)


class Entry:
    """One member.  data: the uncompressed bytes; method 0 stores them, 8
    deflates them, anything else stores them as they are under that
    method number.  comp overrides the stored bytes, crc the CRC-32 (both
    headers).  lh and cd override header fields by name: flags, method,
    time, date, crc, csize, usize, name, extra, made_by, need, disk, iattr,
    eattr, lho (cd only, the recorded offset).  after: bytes written after
    the data (a data descriptor, or junk).  descriptor: write a real data
    descriptor and zero sizes and CRC in the local header (flag bit 3)."""

    def __init__(self, name, data=b"", method=0, comp=None, crc=None,
                 lh=None, cd=None, after=b"", descriptor=False,
                 eattr=0, made_by=MADE_BY_DOS, time=DEF_TIME, date=DEF_DATE,
                 flags=0, cd_extra=b"", lh_extra=b""):
        self.name = name.encode() if isinstance(name, str) else name
        self.data = data
        self.method = method
        if comp is None:
            comp = deflate(data) if method == 8 else data
        self.comp = comp
        self.crc = zlib.crc32(data) if crc is None else crc
        self.lh = dict(lh or {})
        self.cd = dict(cd or {})
        self.after = after
        self.flags = flags | (8 if descriptor else 0)
        self.descriptor = descriptor
        self.eattr = eattr
        self.made_by = made_by
        self.time = time
        self.date = date
        self.cd_extra = cd_extra
        self.lh_extra = lh_extra


def build(entries, comment=b"", prefix=b"", adjust=True, zip64=None,
          cd_gap=b"", e64_ext=b"", loc_ndisks=1):
    """The archive as a bytearray, and a layout of where things are (file
    offsets): lh[i], cd[i] (records), cd_off, cd_size, eocd64, loc, eocd.
    prefix: bytes before the archive; adjust: offsets count them (what
    zip -A does) or not.  zip64: None (classic end record only),
    "sentinel" (ZIP64 end records, classic fields 0xffff/0xffffffff) or
    "honest" (ZIP64 end records, classic fields real); e64_ext: the ZIP64
    end record's extensible data sector; loc_ndisks: the locator's disk
    count (some writers put 0)."""
    out = bytearray(prefix)
    shift = 0 if adjust else len(prefix)
    lay = {"lh": [], "cd": []}
    for e in entries:
        lho = len(out)
        lay["lh"].append(lho)
        e.rec_lho = lho - shift
        f = dict(flags=e.flags, method=e.method, time=e.time, date=e.date,
                 crc=e.crc, csize=len(e.comp), usize=len(e.data),
                 name=e.name, extra=e.lh_extra, need=20)
        if e.descriptor:
            f.update(crc=0, csize=0, usize=0)
        f.update(e.lh)
        out += struct.pack("<IHHHHHIIIHH", SIG_LOCAL, f["need"], f["flags"],
                           f["method"], f["time"], f["date"], f["crc"],
                           f["csize"], f["usize"], len(f["name"]),
                           len(f["extra"]))
        out += f["name"] + f["extra"] + e.comp
        if e.descriptor:
            out += struct.pack("<IIII", SIG_DD, e.crc, len(e.comp),
                               len(e.data))
        out += e.after
    cd_off = len(out)
    for e in entries:
        lay["cd"].append(len(out))
        f = dict(made_by=e.made_by, need=20, flags=e.flags, method=e.method,
                 time=e.time, date=e.date, crc=e.crc, csize=len(e.comp),
                 usize=len(e.data), name=e.name, extra=e.cd_extra, disk=0,
                 iattr=0, eattr=e.eattr, lho=e.rec_lho, comment=b"")
        f.update(e.cd)
        out += struct.pack("<IHHHHHHIIIHHHHHII", SIG_CENTRAL, f["made_by"],
                           f["need"], f["flags"], f["method"], f["time"],
                           f["date"], f["crc"], f["csize"], f["usize"],
                           len(f["name"]), len(f["extra"]),
                           len(f["comment"]), f["disk"], f["iattr"],
                           f["eattr"], f["lho"])
        out += f["name"] + f["extra"] + f["comment"]
    cd_size = len(out) - cd_off
    lay["cd_off"], lay["cd_size"] = cd_off, cd_size
    out += cd_gap
    n = len(entries)
    rec_cd_off = cd_off - shift
    if zip64:
        lay["eocd64"] = len(out)
        out += struct.pack("<IQHHIIQQQQ", SIG_EOCD64, 44 + len(e64_ext), 45,
                           45, 0, 0, n, n, cd_size, rec_cd_off) + e64_ext
        lay["loc"] = len(out)
        out += struct.pack("<IIQI", SIG_LOC64, 0, lay["eocd64"] - shift,
                           loc_ndisks)
    lay["eocd"] = len(out)
    if zip64 == "sentinel":
        out += struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, U16, U16, U32, U32,
                           len(comment))
    else:
        out += struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, n, n, cd_size,
                           rec_cd_off, len(comment))
    out += comment
    return out, lay


# EOCD field offsets
EOCD_DISK, EOCD_CD_DISK, EOCD_N_THIS, EOCD_N = 4, 6, 8, 10
EOCD_SIZE, EOCD_OFF, EOCD_CLEN = 12, 16, 20
# ZIP64 end record
E64_SIZE, E64_DISK, E64_CD_DISK, E64_N_THIS, E64_N = 4, 16, 20, 24, 32
E64_CDSIZE, E64_CDOFF = 40, 48
# locator
LOC_DISK, LOC_OFF, LOC_NDISKS = 4, 8, 16
# central record
CD_DISK, CD_CSIZE, CD_USIZE, CD_NLEN, CD_XLEN, CD_LHO = 34, 20, 24, 28, 30, 42
CD_SIG = 0


def base_entries():
    """The well-formed archive every archive-level defect starts from."""
    return [
        Entry("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n'),
        Entry("a/b.bin", blob("base-b", 3000)),
        Entry("c.txt", text("base-c", 5000), method=8),
    ]


def base(**kw):
    return build(base_entries(), **kw)


class Manifest:
    def __init__(self, outdir):
        self.outdir = outdir
        self.cases = []
        self.nexpect = 0
        os.makedirs(os.path.join(outdir, "expect"), exist_ok=True)

    def write(self, fname, data):
        with open(os.path.join(self.outdir, fname), "wb") as f:
            f.write(data)

    def refuse(self, fname, data, message, what):
        assert fname.endswith(".ozx")
        if data is not None:
            self.write(fname, data)
        self.cases.append({"file": fname, "expect": "refuse",
                           "message": message, "what": what})

    def skip(self, fname, reason):
        self.cases.append({"file": fname, "expect": "skip",
                           "reason": reason})

    def expect_file(self, data):
        self.nexpect += 1
        rel = "expect/%d.bin" % self.nexpect
        with open(os.path.join(self.outdir, rel), "wb") as f:
            f.write(data)
        return rel


class MountCase:
    """What one mounted archive must look like."""

    def __init__(self, m, fname, what, options=(), stem=None):
        self.m = m
        self.fname = fname
        # names the expected listing (one archive may be mounted twice)
        self.stem = stem or fname[:-len(".ozx")]
        self.what = what
        self.options = list(options)
        self.good = []      # (path, expectfile)
        self.eio = []       # (path, [reasons], nobytes)
        self.types = []     # (path, type, mode)
        self.mtimes = []    # (path, min, max)
        self.absent = []
        self.hidden = []    # (escaped name, why)
        self.logs = []      # (count, substring)
        self.files = set()  # visible file paths
        self.dirs = set()   # visible directory paths (implied ones added)

    def _visible(self, path, is_dir=False):
        parts = path.split("/")
        for i in range(1, len(parts)):
            self.dirs.add("/".join(parts[:i]))
        (self.dirs if is_dir else self.files).add(path)

    def add_good(self, path, data, type_=None):
        self._visible(path)
        self.good.append((path, self.m.expect_file(data)))
        self.types.append((path, type_ or
                           ("regular file" if data else "regular empty file"),
                           "444"))

    def add_eio(self, path, *reasons, nobytes=True):
        """path answers EIO.  nobytes: not one byte of it may be read
        (verify=entry; and always for compressed or encrypted bytes the
        daemon cannot decode)."""
        self._visible(path)
        self.eio.append((path, list(reasons), nobytes))

    def add_dir(self, path):
        self._visible(path, True)
        self.types.append((path, "directory", "555"))

    def add_mtime(self, path, lo, hi):
        self.mtimes.append((path, lo, hi))

    def add_hidden(self, name, why):
        """name: the stored name; its escaped form is expected in the
        start-up warning when it is printable (ozx_escape)."""
        esc = escape(name)
        self.hidden.append((esc, why))

    def finish(self):
        listing = sorted([b"d " + d.encode() for d in self.dirs] +
                         [b"f " + f.encode() for f in self.files])
        rel = "expect/%s.list" % self.stem
        with open(os.path.join(self.m.outdir, rel), "wb") as f:
            f.write(b"".join(line + b"\n" for line in listing))
        self.listing = rel
        self.m.cases.append(self)

    def as_json(self):
        return {"file": self.fname, "expect": "mount", "what": self.what,
                "options": self.options,
                "good": [{"path": p, "content": e} for p, e in self.good],
                "eio": [{"path": p, "reasons": r, "no_bytes_served": nb}
                        for p, r, nb in self.eio],
                "types": [{"path": p, "type": t, "mode": m}
                          for p, t, m in self.types],
                "mtimes": [{"path": p, "min": a, "max": b}
                           for p, a, b in self.mtimes],
                "absent": self.absent,
                "hidden": [{"name": n, "why": w} for n, w in self.hidden],
                "log": [{"count": c, "contains": s} for c, s in self.logs],
                "listing": self.listing}


def escape(name):
    """ozx_escape(): printable ASCII and valid UTF-8 as they are, anything
    else (and the backslash) as \\xNN."""
    if isinstance(name, str):
        name = name.encode()
    out = []
    i = 0
    while i < len(name):
        c = name[i]
        if c >= 0x80:
            k = utf8_seq(name[i:])
            if k:
                out.append(name[i:i + k].decode())
                i += k
                continue
        if 0x20 <= c < 0x7F and c != 0x5C:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
        i += 1
    return "".join(out)


def utf8_seq(s):
    """The length of the valid UTF-8 character (RFC 3629) at the start of
    s, or 0 (ozx_utf8_seq())."""
    for k in (2, 3, 4):
        try:
            s[:k].decode("utf-8")
            return k if len(s) >= k else 0
        except UnicodeDecodeError:
            pass
    return 0


# ---------------------------------------------------------------------------
# archive-level defects: refused at mount, exit status 3


def refusals(m):
    R = m.refuse

    # -- no end record at all
    R("incons-empty-file.ozx", b"",
      "not a ZIP archive: no end of central directory record",
      "an empty file")
    R("incons-not-a-zip.ozx", text("not a zip", 70000),
      "not a ZIP archive: no end of central directory record",
      "70 kB of text, no signature anywhere")
    good, lay = base()
    R("incons-truncated.ozx", bytes(good[:lay["lh"][2] + 40]),
      "truncated archive: no end of central directory record",
      "a good archive cut inside the last entry's data")
    R("incons-truncated-in-cd.ozx", bytes(good[:lay["cd"][1] + 10]),
      "truncated archive: no end of central directory record",
      "a good archive cut inside the central directory")
    R("incons-truncated-in-eocd.ozx", bytes(good[:lay["eocd"] + 12]),
      "truncated archive: no end of central directory record",
      "a good archive cut inside the end record")

    # -- comment length
    b, lay = base(comment=b"0123456789")
    p16(b, lay["eocd"] + EOCD_CLEN, 40)
    R("incons-comment-length-past-eof.ozx", b,
      "end of central directory record has a wrong comment length",
      "the comment length runs 30 bytes past the end of the file")
    # (6 bytes after a comment whose length falls short: mounted with a
    # warning, tolerated_archives)

    # -- a second archive in the comment: two plausible end records
    inner, _ = build([Entry("zarr.json", b'{"evil":true}\n'),
                      Entry("c.txt", b"the other c.txt\n")])
    b, _ = base(comment=bytes(inner))
    R("incons-two-eocds-zip-in-comment.ozx", b,
      "several end of central directory records: ambiguous archive",
      "a complete second ZIP hidden in the archive comment")

    # -- multi-disk
    for fld, off, val, what in (
            ("eocd-disk", EOCD_DISK, 1, "this disk is 1"),
            ("eocd-cd-disk", EOCD_CD_DISK, 2, "the directory is on disk 2"),
            ("eocd-counts", EOCD_N_THIS, 2, "2 records on this disk of 3")):
        b, lay = base()
        p16(b, lay["eocd"] + off, val)
        R("incons-multi-disk-%s.ozx" % fld, b, "multi-disk archive", what)
    b, lay = base()
    p16(b, lay["cd"][1] + CD_DISK, 1)
    R("incons-multi-disk-record.ozx", b, "multi-disk archive",
      "a central record whose entry starts on disk 1")
    b, lay = base(zip64="sentinel")
    p32(b, lay["loc"] + LOC_NDISKS, 3)
    R("incons-multi-disk-eocd64-locator.ozx", b, "multi-disk archive",
      "the ZIP64 locator says 3 disks")
    b, lay = base(zip64="sentinel")
    p32(b, lay["eocd64"] + E64_DISK, 1)
    R("incons-multi-disk-eocd64.ozx", b, "multi-disk archive",
      "the ZIP64 end record says this is disk 1")

    # -- counts
    b, lay = base()
    p16(b, lay["eocd"] + EOCD_N_THIS, 0x7FFF)
    p16(b, lay["eocd"] + EOCD_N, 0x7FFF)
    R("incons-count-impossible.ozx", b,
      "entry count impossible for central directory size",
      "32767 records claimed in a directory of 3 (at most size/46)")
    b, lay = base(zip64="sentinel")
    p64(b, lay["eocd64"] + E64_N_THIS, 1 << 40)
    p64(b, lay["eocd64"] + E64_N, 1 << 40)
    R("incons-count-impossible-zip64.ozx", b,
      "entry count impossible for central directory size",
      "2^40 records claimed by the ZIP64 end record (no allocation for them)")
    b, lay = base()
    p16(b, lay["eocd"] + EOCD_N_THIS, 2)
    p16(b, lay["eocd"] + EOCD_N, 2)
    R("incons-count-mismatch.ozx", b,
      "entry count does not match central directory",
      "2 records claimed, 3 in the directory")

    # -- where the central directory is
    b, lay = base()
    p32(b, lay["eocd"] + EOCD_OFF, lay["eocd"] + 100)
    R("incons-cd-out-of-range.ozx", b, "central directory out of range",
      "the directory starts past the end record")
    b, lay = base()
    p32(b, lay["eocd"] + EOCD_SIZE, lay["cd_size"] + 1000)
    R("incons-cd-size-out-of-range.ozx", b, "central directory out of range",
      "the directory would run past the end record")
    b, lay = base()
    p32(b, lay["eocd"] + EOCD_OFF, U32)
    R("incons-eocd-sentinel-without-zip64.ozx", b,
      "central directory out of range",
      "directory offset 0xffffffff and no ZIP64 end record to replace it")
    b, lay = base(zip64="sentinel")
    p64(b, lay["eocd64"] + E64_CDOFF, (1 << 64) - 16)
    R("incons-eocd64-cd-offset-wraps.ozx", b,
      "central directory out of range",
      "ZIP64 directory offset 2^64-16: offset + size wraps")
    b, lay = base(zip64="sentinel")
    p64(b, lay["eocd64"] + E64_CDSIZE, (1 << 64) - 1)
    R("incons-eocd64-cd-size-wraps.ozx", b,
      "central directory out of range",
      "ZIP64 directory size 2^64-1")
    b, lay = base(cd_gap=b"\0" * 16)
    R("incons-cd-gap-before-eocd.ozx", b,
      "central directory does not end where the end record begins",
      "16 bytes between the directory and the end record")
    b, lay = base()
    p32(b, lay["eocd"] + EOCD_SIZE, lay["cd_size"] - 46)
    p32(b, lay["eocd"] + EOCD_OFF, lay["cd_off"] + 46)
    p16(b, lay["eocd"] + EOCD_N_THIS, 2)
    p16(b, lay["eocd"] + EOCD_N, 2)
    R("incons-cd-starts-mid-record.ozx", b,
      "central directory record signature wrong",
      "the directory offset points 46 bytes into the first record")

    # -- ZIP64 end records
    b, lay = base(zip64="sentinel")
    p64(b, lay["loc"] + LOC_OFF, lay["loc"] + 8)
    R("incons-eocd64-locator-out-of-range.ozx", b,
      "ZIP64 locator out of range",
      "the locator points past itself")
    b, lay = base(zip64="sentinel")
    p64(b, lay["loc"] + LOC_OFF, U32 * 65536)
    R("incons-eocd64-locator-past-eof.ozx", b, "ZIP64 locator out of range",
      "the locator points far past the end of the file")
    b, lay = base(zip64="sentinel")
    p64(b, lay["loc"] + LOC_OFF, (1 << 64) - 1)
    R("incons-eocd64-locator-wraps.ozx", b, "ZIP64 locator out of range",
      "the locator offset is 2^64-1")
    b, lay = base(zip64="sentinel")
    p64(b, lay["loc"] + LOC_OFF, lay["lh"][1] + 30)
    R("incons-eocd64-locator-to-garbage.ozx", b,
      "ZIP64 locator does not point at a ZIP64 end record",
      "the locator points into an entry's data")
    b, lay = base(zip64="sentinel")
    p64(b, lay["eocd64"] + E64_SIZE, 4)
    R("incons-eocd64-size-wrong.ozx", b, "ZIP64 end record malformed",
      "the ZIP64 end record says it is 16 bytes long")
    b, lay = base(zip64="honest")
    p16(b, lay["eocd"] + EOCD_N_THIS, 2)
    p16(b, lay["eocd"] + EOCD_N, 2)
    R("incons-eocd64-eocd-disagree-count.ozx", b,
      "ZIP64 and classic end records disagree",
      "classic end record: 2 entries, ZIP64 end record: 3")
    b, lay = base(zip64="honest")
    p32(b, lay["eocd"] + EOCD_OFF, lay["cd_off"] - 1)
    R("incons-eocd64-eocd-disagree-offset.ozx", b,
      "ZIP64 and classic end records disagree",
      "classic and ZIP64 directory offsets differ by one")

    # -- central records
    b, lay = base()
    p32(b, lay["cd"][1] + CD_SIG, 0x02014B51)
    R("incons-cd-signature-wrong.ozx", b,
      "central directory record signature wrong",
      "the second central record's signature is off by one")
    b, lay = base()
    p16(b, lay["cd"][2] + CD_NLEN, 5 + 40)
    R("incons-cd-record-overruns.ozx", b,
      "central directory record overruns the directory",
      "the last record's name runs 40 bytes past the directory")
    es = base_entries()
    es[1].cd_extra = struct.pack("<HH", 0x7075, 40) + b"x" * 8
    b, lay = build(es)
    R("incons-extra-overruns-record.ozx", b,
      "extra field overruns its record",
      "an extra field claims 40 bytes, 8 follow")
    es = base_entries()
    es[1].cd_extra = zip64_extra(3000)
    es[1].cd = {"extra": struct.pack("<HH", 1, 16) + struct.pack("<Q", 3000)}
    b, lay = build(es)
    R("incons-zip64-extra-overruns-record.ozx", b,
      "extra field overruns its record",
      "a ZIP64 extra claims 16 bytes, 8 follow")
    for fld, off, what in (("csize", CD_CSIZE, "compressed size"),
                           ("usize", CD_USIZE, "uncompressed size"),
                           ("offset", CD_LHO, "local header offset")):
        b, lay = base()
        p32(b, lay["cd"][1] + off, U32)
        R("incons-ffffffff-%s-without-zip64.ozx" % fld, b,
          "size or offset 0xffffffff without ZIP64 extra field",
          "%s 0xffffffff, no ZIP64 extra field" % what)
    es = base_entries()
    es[1].cd = {"csize": U32, "extra": extra(1, b"\0\0\0\0")}
    b, lay = build(es)
    R("incons-zip64-extra-too-short.ozx", b,
      "size or offset 0xffffffff without ZIP64 extra field",
      "compressed size 0xffffffff, a 4-byte ZIP64 extra cannot back it")

    # -- entry data against the file and each other
    es = base_entries()
    es[1].cd = {"lho": U32, "extra": zip64_extra((1 << 64) - 16)}
    b, lay = build(es)
    R("incons-entry-offset-wraps.ozx", b, "entry data out of range",
      "ZIP64 local header offset 2^64-16")
    es = base_entries()
    es[1].cd = {"csize": U32, "usize": U32,
                "extra": zip64_extra((1 << 64) - 16, (1 << 64) - 16)}
    b, lay = build(es)
    R("incons-entry-size-wraps.ozx", b, "entry data out of range",
      "ZIP64 sizes 2^64-16: offset + size wraps")
    b, lay = base()
    p32(b, lay["cd"][1] + CD_LHO, len(b) + 1000)
    R("incons-entry-offset-past-eof.ozx", b, "entry data out of range",
      "a local header offset 1000 bytes past the end of the file")
    b, lay = base()
    p32(b, lay["cd"][2] + CD_CSIZE, 1 << 24)
    p32(b, lay["cd"][2] + CD_USIZE, 1 << 26)
    R("incons-entry-data-past-eof.ozx", b, "entry data out of range",
      "the last entry's data would run 16 MiB, past the end of the file")
    b, lay = base()
    csize = struct.unpack_from("<I", b, lay["cd"][2] + CD_CSIZE)[0]
    p32(b, lay["cd"][2] + CD_CSIZE, csize + 1)
    R("incons-entry-overlaps-cd.ozx", b, "entry data out of range",
      "the last entry's data runs 1 byte into the central directory")
    b, lay = base()
    p32(b, lay["cd"][2] + CD_LHO, lay["cd_off"])
    R("incons-entry-offset-is-cd.ozx", b, "entry data out of range",
      "an entry's local header offset is the central directory's")
    b, lay = base()
    p32(b, lay["cd"][0] + CD_CSIZE,
        lay["lh"][1] - lay["lh"][0] - 30 - len(b"zarr.json") + 1)
    p32(b, lay["cd"][0] + CD_USIZE,
        lay["lh"][1] - lay["lh"][0] - 30 - len(b"zarr.json") + 1)
    R("incons-overlap-next-entry.ozx", b, "overlapping entries",
      "the first entry's data runs 1 byte into the next local header")
    b, lay = base()
    p32(b, lay["cd"][2] + CD_LHO, lay["lh"][1])
    R("incons-overlap-same-local-header.ozx", b, "overlapping entries",
      "two central records point at one local header")
    R("incons-overlap-fifield-full.ozx", fifield_full(),
      "overlapping entries",
      "zip bomb, full overlap: 200 records, one 1 MiB DEFLATE kernel "
      "(David Fifield, 'A better zip bomb', 2019)")
    R("incons-overlap-fifield-quoted.ozx", fifield_quoted(),
      "overlapping entries",
      "zip bomb, quoted overlap: each entry's DEFLATE stream quotes the "
      "next local header in a stored block, all share one kernel")

    # (bytes prepended, offsets not adjusted: mounted with a warning,
    # tolerated_archives; a prefix that does not hold for every local
    # header stays refused)
    prefix = b"#!/bin/sh\necho self-extracting\nexit 0\n".ljust(4096, b"#")
    b, lay = base(prefix=prefix, adjust=False)
    p32(b, lay["lh"][1], 0x04034B51)
    R("incons-prepended-local-header-moved.ozx", b,
      "bytes before the archive, but a local header is not where the "
      "shifted offset says",
      "4 KiB prepended, offsets not adjusted, one local header signature "
      "wrong: the shift does not hold for every entry")

    # -- limits (sparse files: nothing but the end records is written)
    too_many(m)
    too_large(m)


def fifield_full(n=200):
    kernel_data = b"\0" * (1 << 20)
    kernel = deflate(kernel_data)
    crc = zlib.crc32(kernel_data)
    lh = struct.pack("<IHHHHHIIIHH", SIG_LOCAL, 20, 0, 8, DEF_TIME, DEF_DATE,
                     crc, len(kernel), len(kernel_data), 1, 0) + b"0"
    out = bytearray(lh + kernel)
    cd_off = len(out)
    for i in range(n):
        name = b"%d" % i
        out += struct.pack("<IHHHHHHIIIHHHHHII", SIG_CENTRAL, MADE_BY_DOS, 20,
                           0, 8, DEF_TIME, DEF_DATE, crc, len(kernel),
                           len(kernel_data), len(name), 0, 0, 0, 0, 0, 0)
        out += name
    cd_size = len(out) - cd_off
    out += struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, n, n, cd_size, cd_off, 0)
    return bytes(out)


def fifield_quoted(n=50):
    """Fifield's quoted overlap: entry i's DEFLATE stream is a non-final
    stored block quoting local header i+1, then the stream of entry i+1;
    the last entry's stream is the kernel.  A naive reader inflates
    n * 1 MiB from about 1 kB of kernel."""
    kernel_data = b"\0" * (1 << 20)
    kernel = deflate(kernel_data)
    names = [b"%02d" % i for i in range(n)]
    # Work back from the last entry: its stream and content.
    streams = [None] * n
    contents_crc = [0] * n
    usizes = [0] * n
    lhs = [None] * n
    streams[n - 1] = kernel
    usizes[n - 1] = len(kernel_data)
    contents_crc[n - 1] = zlib.crc32(kernel_data)

    def lh_of(i):
        return struct.pack("<IHHHHHIIIHH", SIG_LOCAL, 20, 0, 8, DEF_TIME,
                           DEF_DATE, contents_crc[i], len(streams[i]),
                           usizes[i], len(names[i]), 0) + names[i]

    lhs[n - 1] = lh_of(n - 1)
    quoted = b""
    for i in range(n - 2, -1, -1):
        q = lhs[i + 1]
        block = struct.pack("<BHH", 0, len(q), len(q) ^ 0xFFFF) + q
        streams[i] = block + streams[i + 1]
        quoted = q + quoted
        usizes[i] = len(quoted) + len(kernel_data)
        contents_crc[i] = zlib.crc32(kernel_data, zlib.crc32(quoted))
        lhs[i] = lh_of(i)
    # Layout: LH0, block0 header, LH1, block1 header, ..., LH(n-1), kernel.
    out = bytearray()
    offs = []
    for i in range(n):
        offs.append(len(out))
        out += lhs[i]
        if i < n - 1:
            q = lhs[i + 1]
            out += struct.pack("<BHH", 0, len(q), len(q) ^ 0xFFFF)
    out += kernel
    cd_off = len(out)
    for i in range(n):
        out += struct.pack("<IHHHHHHIIIHHHHHII", SIG_CENTRAL, MADE_BY_DOS, 20,
                           0, 8, DEF_TIME, DEF_DATE, contents_crc[i],
                           len(streams[i]), usizes[i], len(names[i]), 0, 0,
                           0, 0, 0, offs[i])
        out += names[i]
    cd_size = len(out) - cd_off
    out += struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, n, n, cd_size, cd_off, 0)
    # Every entry's stream really is where its record says.
    for i in range(n):
        d = offs[i] + len(lhs[i])
        assert bytes(out[d:d + len(streams[i])]) == streams[i]
    return bytes(out)


def sparse_archive(path, cd_size, n):
    """A sparse file: 0 .. cd_size of holes (the 'directory'), then a ZIP64
    end record, its locator and a classic end record with sentinels."""
    with open(path, "wb") as f:
        f.truncate(cd_size)
        f.seek(cd_size)
        f.write(struct.pack("<IQHHIIQQQQ", SIG_EOCD64, 44, 45, 45, 0, 0, n, n,
                            cd_size, 0))
        f.write(struct.pack("<IIQI", SIG_LOC64, 0, cd_size, 1))
        f.write(struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, U16, U16, U32, U32,
                            0))


def too_many(m):
    n = 100000001
    fname = "incons-too-many-entries.ozx"
    try:
        sparse_archive(os.path.join(m.outdir, fname), 46 * n, n)
    except OSError as e:
        m.skip(fname, "cannot write a %d-byte sparse file: %s" % (46 * n, e))
        return
    m.refuse(fname, None, "too many entries",
             "100,000,001 records (a 4.6 GB sparse file): beyond the limit")


def too_large(m):
    fname = "incons-archive-too-large.ozx"
    path = os.path.join(m.outdir, fname)
    try:
        with open(path, "wb") as f:
            f.truncate(1 << 48)
            f.seek((1 << 48) - 22)
            f.write(struct.pack("<IHHHHIIH", SIG_EOCD, 0, 0, 0, 0, 0, 0, 0))
    except OSError as e:
        try:
            os.unlink(path)
        except OSError:
            pass
        m.skip(fname, "this file system cannot hold a 2^48-byte sparse "
               "file: %s" % e.strerror)
        return
    m.refuse(fname, None, "archive too large",
             "a 2^48-byte sparse file: beyond the library's offsets")


# ---------------------------------------------------------------------------
# entry-level defects: the archive mounts, the entry answers EIO


def entries_archive(m):
    """Good entries and one bad entry per defect, in one archive."""
    es = []
    good = {}

    def ok(name, data, method=0, **kw):
        es.append(Entry(name, data, method, **kw))
        good[name] = data

    bad = []  # (name, reasons, still EIO with verify=none)

    def ko(name, reasons, none_too, entry):
        es.append(entry)
        bad.append((name, reasons, none_too))

    ok("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n')
    ok("good/stored.bin", blob("good-stored", 70000))
    ok("good/deflate.txt", text("good-deflate", 200000), 8)
    ok("good/empty", b"")
    ok("good/deflate-descriptor.txt", text("dd", 30000), 8, descriptor=True)
    ok("good/stored-descriptor.bin", blob("dd-stored", 3000),
       descriptor=True)

    d = blob("crc-stored", 20000)
    ko("bad/crc-stored.bin", ["CRC-32 mismatch"], False,
       Entry("bad/crc-stored.bin", d,
             comp=d[:10000] + bytes([d[10000] ^ 0xFF]) + d[10001:],
             crc=zlib.crc32(d)))
    d = text("crc-deflate", 50000)
    ko("bad/crc-deflate.txt", ["CRC-32 mismatch"], False,
       Entry("bad/crc-deflate.txt", d, 8, crc=zlib.crc32(d) ^ 1))
    d = text("crc-deflate-big", 3 << 20)
    ko("bad/crc-deflate-big.txt", ["CRC-32 mismatch"], False,
       Entry("bad/crc-deflate-big.txt", d, 8, crc=zlib.crc32(d) ^ 0x80000000))

    LH_NAME = "local header name differs from central directory"
    LH_SIZES = "local header sizes differ from central directory"
    d = blob("lh-name", 1000)
    ko("bad/lh-name.bin", [LH_NAME],
       True, Entry("bad/lh-name.bin", d, lh={"name": b"bad/lh-nAme.bin"}))
    # (a local name longer than the central one: a shorter one would
    # leave the central record's idea of the data overlapping the next
    # entry, and the archive would be refused)
    d = blob("lh-name-len", 1000)
    ko("bad/lh-name-len.bin", [LH_NAME], True,
       Entry("bad/lh-name-len.bin", d, lh={"name": b"bad/lh-name-length.bin"}))
    d = text("lh-method", 4000)
    ko("bad/lh-method.txt",
       ["local header method differs from central directory"], True,
       Entry("bad/lh-method.txt", d, 8, lh={"method": 0}))
    d = blob("lh-sizes", 1000)
    ko("bad/lh-csize.bin", [LH_SIZES],
       True, Entry("bad/lh-csize.bin", d, lh={"csize": 999}))
    d = text("lh-usize", 4000)
    ko("bad/lh-usize.txt", [LH_SIZES],
       True, Entry("bad/lh-usize.txt", d, 8, lh={"usize": 4001}))
    d = blob("lh-sig", 1000)
    ko("bad/lh-signature.bin", ["local header signature wrong"], True,
       Entry("bad/lh-signature.bin", d))
    # (the signature is broken after the build, below)
    d = blob("lh-extra", 1000)
    ko("bad/lh-extra-overlaps.bin", ["entry data overlaps what follows it"],
       True, Entry("bad/lh-extra-overlaps.bin", d))
    # (the extra's length is raised past the next header, below)

    # DEFLATE streams that do not match their declared sizes
    d = text("corrupt", 5000)
    ko("bad/deflate-corrupt.txt", ["DEFLATE stream corrupt"], True,
       Entry("bad/deflate-corrupt.txt", d, 8,
             comp=b"\x07" + deflate(d)[1:]))  # block type 3: invalid
    d = text("truncated", 100000)
    z = deflate(d)
    ko("bad/deflate-truncated.txt", ["DEFLATE stream shorter than declared"],
       True, Entry("bad/deflate-truncated.txt", d, 8, comp=z[:len(z) // 2]))
    d = text("shorter", 5000)
    ko("bad/deflate-shorter.txt", ["DEFLATE stream shorter than declared"],
       True, Entry("bad/deflate-shorter.txt", d + b"!", 8, comp=deflate(d),
                   crc=zlib.crc32(d + b"!")))
    d = text("longer", 5000)
    ko("bad/deflate-longer.txt", ["DEFLATE stream longer than declared"],
       True, Entry("bad/deflate-longer.txt", d[:-1], 8, comp=deflate(d),
                   crc=zlib.crc32(d[:-1])))
    d = text("longer-big", 3 << 20)
    ko("bad/deflate-longer-big.txt", ["DEFLATE stream longer than declared"],
       True, Entry("bad/deflate-longer-big.txt", d[:-1], 8, comp=deflate(d),
                   crc=zlib.crc32(d[:-1])))
    d = text("trailing", 5000)
    # (verify=none serves the stream's bytes and never looks past them)
    # Bytes after the stream and a CRC-32 that does not match: corrupt.
    ko("bad/deflate-trailing.txt", ["DEFLATE stream corrupt"], False,
       Entry("bad/deflate-trailing.txt", d, 8,
             comp=deflate(d) + b"trailing junk", crc=zlib.crc32(d) ^ 1))
    # The same bytes after a complete stream whose CRC-32 matches: the
    # bytes served are verified; served, with a warning (issue 15).
    ok("good/deflate-trailing-verified.txt", d, 8,
       comp=deflate(d) + b"trailing junk")
    z = deflate(b"\0")
    big = 1032 * (len(z) + 1)
    ko("bad/deflate-ratio.bin", ["declared size impossible for DEFLATE"],
       True, Entry("bad/deflate-ratio.bin", b"", 8, comp=z, crc=0,
                   lh={"usize": big}, cd={"usize": big}))
    ko("bad/deflate-bomb-declared.bin",
       ["declared size impossible for DEFLATE"], True,
       Entry("bad/deflate-bomb-declared.bin", b"", 8, comp=z, crc=0,
             lh={"usize": U32 - 1}, cd={"usize": U32 - 1}))
    d = blob("stored-sizes", 1000)
    ko("bad/stored-sizes.bin", ["STORED entry whose sizes differ"], True,
       Entry("bad/stored-sizes.bin", d, lh={"usize": 999}, cd={"usize": 999},
             crc=zlib.crc32(d[:999])))

    # methods and encryption: compressed or encrypted bytes are never
    # served as content
    for meth, label in ((12, "bzip2"), (14, "lzma"), (93, "zstd"),
                        (99, "aes-method-only"), (1, "shrink")):
        d = text(label, 3000)
        name = "bad/method-%d-%s.bin" % (meth, label)
        ko(name, ["unsupported compression method"], True,
           Entry(name, d, meth, comp=deflate(d)))
    d = text("aes", 3000)
    aes_x = extra(0x9901, struct.pack("<H2sBH", 2, b"AE", 3, 8))
    ko("bad/aes-encrypted.bin", ["encrypted entry",
                                 "unsupported compression method"], True,
       Entry("bad/aes-encrypted.bin", d, 99, comp=blob("aes-ct", 3028),
             crc=0, flags=1, cd_extra=aes_x, lh_extra=aes_x))
    d = text("zipcrypto", 3000)
    ko("bad/zipcrypto-stored.bin", ["encrypted entry"], True,
       Entry("bad/zipcrypto-stored.bin", d, 0,
             comp=blob("zc-header", 12) + d, flags=1,
             lh={"csize": 3012, "usize": 3000},
             cd={"csize": 3012, "usize": 3000}))
    d = text("zipcrypto-lh", 3000)
    ko("bad/encrypted-local-only.bin", ["encrypted entry"], True,
       Entry("bad/encrypted-local-only.bin", d, 0, lh={"flags": 1}))
    d = text("strong", 3000)
    ko("bad/strong-encryption.bin", ["encrypted entry"], True,
       Entry("bad/strong-encryption.bin", d, 0, flags=0x41))

    # declared sizes no DEFLATE stream (nor STORED data) can have
    z = deflate(b"\0")
    ko("bad/deflate-size-max.bin", ["declared size impossible for DEFLATE"],
       True, Entry("bad/deflate-size-max.bin", b"", 8, comp=z, crc=0,
                   cd={"usize": U32, "extra": zip64_extra((1 << 64) - 1)},
                   lh={"usize": U32}, lh_extra=zip64_extra((1 << 64) - 1)))
    ko("bad/stored-size-max.bin", ["STORED entry whose sizes differ"], True,
       Entry("bad/stored-size-max.bin", b"", 0, comp=b"tiny", crc=0,
             cd={"usize": U32, "extra": zip64_extra((1 << 64) - 1)},
             lh={"usize": U32}, lh_extra=zip64_extra((1 << 64) - 1)))

    # Zero-length entries with the same defects.  The kernel never asks
    # for a byte of a file whose size is 0, so only the open can refuse
    # them; served as empty files they would be silently wrong (the
    # DEFLATE one really holds 23 bytes).
    ko("bad/empty-crc", ["CRC-32 mismatch"], False,
       Entry("bad/empty-crc", b"", crc=0x12345678))
    ko("bad/empty-encrypted", ["encrypted entry"], True,
       Entry("bad/empty-encrypted", b"", flags=1))
    ko("bad/empty-method-14-lzma", ["unsupported compression method"], True,
       Entry("bad/empty-method-14-lzma", b"", 14, comp=b""))
    ko("bad/empty-lh-name", [LH_NAME], True,
       Entry("bad/empty-lh-name", b"", lh={"name": b"bad/empty-lh-nAme"}))
    ko("bad/empty-deflate-longer", ["DEFLATE stream longer than declared"],
       False, Entry("bad/empty-deflate-longer", b"", 8,
                    comp=deflate(b"content the size hides\n"), crc=0))

    ok("z-last.txt", b"the last entry, after all the bad ones\n")

    b, lay = build(es)
    names = [e.name.decode() for e in es]
    i = names.index("bad/lh-signature.bin")
    p32(b, lay["lh"][i], 0x04034B51)
    i = names.index("bad/lh-extra-overlaps.bin")
    # The local header's extra field (none) claims 2000 bytes: it would
    # run over the entry's data and into the next local header.
    p16(b, lay["lh"][i] + 28, 2000)
    m.write("entries.ozx", b)

    for verify in ("entry", "none"):
        opts = [] if verify == "entry" else ["-o", "verify=none"]
        fname = "entries.ozx"
        mc = MountCase(m, fname, "entry-level defects, verify=%s" % verify,
                       opts, stem="entries-verify-%s" % verify)
        for name, data in good.items():
            mc.add_good(name, data)
        for name, reasons, none_too in bad:
            if verify == "entry":
                mc.add_eio(name, *reasons)
            elif none_too:
                # verify=none serves bytes before it has seen the whole
                # entry, but never undecodable (compressed, encrypted)
                # ones nor any from a header it did not check.
                mc.add_eio(name, *reasons,
                           nobytes=not name.startswith("bad/deflate-"))
            else:
                # verify=none trusts the bytes; the entry is listed, and
                # no claim is made about its reads.
                mc._visible(name)
        mc.logs.append((0, "is hidden"))
        if verify == "entry":
            mc.logs.append((1, "entry 'good/deflate-trailing-verified.txt' "
                            "in '"))
            mc.logs.append((1, "' is served: unused bytes after the end of "
                            "the DEFLATE stream (the stream is complete and "
                            "its CRC-32 matches)"))
        mc.finish()


# ---------------------------------------------------------------------------
# harmless-made entries: types, modes, timestamps, ZIP64 extras


def harmless_archive(m):
    mc = MountCase(m, "harmless-unix-modes-times.ozx",
                   "Unix file types and mode bits, directory data, absurd "
                   "timestamps, ZIP64 extras that are not needed")
    es = []

    def ok(name, data, **kw):
        es.append(Entry(name, data, **kw))
        mc.add_good(name, data)

    ok("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n')
    for label, mode in (("symlink", 0o120777), ("chardev", 0o020666),
                        ("blockdev", 0o060660), ("fifo", 0o010644),
                        ("socket", 0o140777), ("setuid", 0o104755),
                        ("setgid", 0o102755), ("sticky", 0o101644),
                        ("world-writable", 0o100666),
                        ("all-bits", 0o107777), ("no-type-bits", 0o007777),
                        ("dir-type-no-slash", 0o040777)):
        data = b"../../../../etc/passwd" if label == "symlink" else \
            text("unix-" + label, 500)
        ok("unix/" + label, data, made_by=MADE_BY_UNIX, eattr=mode << 16)
    # DOS attributes: the directory bit on a file, read-only, hidden
    ok("dos/dir-attribute", text("dos-dir", 200), eattr=0x10)
    ok("dos/readonly-hidden-system", text("dos-rhs", 200), eattr=0x07)
    # A directory record with a Unix mode that is a symlink, setuid, sticky
    # and world-writable: a plain directory
    es.append(Entry("unixdir/", b"", made_by=MADE_BY_UNIX,
                    eattr=(0o127777 << 16) | 0x10))
    mc.add_dir("unixdir")
    ok("unixdir/inside.txt", b"inside a hostile-mode directory\n")
    # A regular-file mode on a name ending in '/': a directory
    es.append(Entry("filemode-dir/", b"", made_by=MADE_BY_UNIX,
                    eattr=0o100644 << 16))
    mc.add_dir("filemode-dir")
    # A directory record carrying data: a directory, the data ignored
    es.append(Entry("dirdata/", text("dirdata", 4096), made_by=MADE_BY_UNIX,
                    eattr=0o040755 << 16))
    mc.add_dir("dirdata")
    es.append(Entry("dirdata2/", text("dirdata2", 8000), method=8))
    mc.add_dir("dirdata2")
    ok("dirdata2/child.txt", b"a child of a directory record with data\n")
    mc.logs.append((1, "directory records with data in '"))
    mc.logs.append((1, "': 2 (the data is ignored)"))

    # Absurd DOS timestamps (clamped into 1980..2107) and extended
    # timestamps (negative or beyond 2038: clamped, never an error)
    for label, (t, d) in (
            ("dos-month-0", dos_time(2020, 0, 10, 10, 0, 0)),
            ("dos-month-13", dos_time(2020, 13, 10, 10, 0, 0)),
            ("dos-month-15", dos_time(2020, 15, 10, 10, 0, 0)),
            ("dos-day-0", dos_time(2020, 6, 0, 10, 0, 0)),
            ("dos-feb-31", dos_time(2021, 2, 31, 10, 0, 0)),
            ("dos-hour-25", dos_time(2020, 6, 10, 25, 0, 0)),
            ("dos-minute-63", dos_time(2020, 6, 10, 10, 63, 0)),
            ("dos-second-62", dos_time(2020, 6, 10, 10, 10, 62)),
            ("dos-all-zero", (0, 0)),
            ("dos-all-ones", (0xFFFF, 0xFFFF))):
        name = "time/" + label
        ok(name, text(name, 100), time=t, date=d)
        mc.add_mtime(name, T_1980, T_2107)
    for label, v in (("ut-negative", -1000), ("ut-minus-one", -1),
                     ("ut-int32-min", -(1 << 31)),
                     ("ut-int32-max", (1 << 31) - 1), ("ut-zero", 0)):
        name = "time/" + label
        x = ut_extra(v)
        ok(name, text(name, 100), cd_extra=x, lh_extra=x)
        mc.add_mtime(name, 0, (1 << 31) - 1)
    name = "time/ut-flags-only"
    x = extra(0x5455, b"\x01")
    ok(name, text(name, 100), cd_extra=x, lh_extra=x)
    mc.add_mtime(name, T_1980, T_2107)

    # absurd times on directory records too
    es.append(Entry("timedir/", b"", time=0xFFFF, date=0xFFFF))
    mc.add_dir("timedir")
    mc.add_mtime("timedir", T_1980, T_2107)
    x = ut_extra(-(1 << 31))
    es.append(Entry("timedir/ut-negative/", b"", cd_extra=x, lh_extra=x))
    mc.add_dir("timedir/ut-negative")
    mc.add_mtime("timedir/ut-negative", 0, (1 << 31) - 1)

    # ZIP64 extras where no field holds the sentinel: ignored
    big = zip64_extra(1 << 62, 1 << 62, 1 << 62, 7)
    ok("zip64/not-needed.bin", blob("z64-nn", 2000), cd_extra=big,
       lh_extra=big)
    d = text("z64-nn-deflate", 20000)
    es.append(Entry("zip64/not-needed-deflate.txt", d, 8,
                    cd_extra=zip64_extra(0), lh_extra=zip64_extra(1, 2)))
    mc.add_good("zip64/not-needed-deflate.txt", d)
    ok("zip64/short-extra.bin", blob("z64-short", 100),
       cd_extra=extra(1, b"\1\2\3"), lh_extra=extra(1, b""))
    # a real ZIP64 extra backing a 0xffffffff size, for contrast: works
    d = blob("z64-real", 5000)
    ok("zip64/real.bin", d, cd={"csize": U32, "usize": U32,
                                "extra": zip64_extra(5000, 5000)})
    # extra-field padding some writers add (fewer than 4 bytes)
    ok("zip64/padded-extra.bin", blob("pad", 100), cd_extra=b"\0\0\0",
       lh_extra=b"\0\0")

    # signatures inside data and comment that are no records: the real
    # end record is the only plausible one (its comment reaches the end)
    ok("sig/lookalikes.bin",
       b"PK\x05\x06" + b"\0" * 18 + b"PK\x06\x07" + b"\0" * 16 +
       b"PK\x06\x06" + b"\0" * 52 + b"PK\x01\x02PK\x03\x04PK\x07\x08")

    b, lay = build(es, zip64="sentinel",
                   comment=b"a comment with PK\x05\x06 in it, no record")
    m.write(mc.fname, b)
    mc.logs.append((0, "is hidden"))
    mc.finish()


# ---------------------------------------------------------------------------
# unsafe names: hidden with a warning, never reachable, never normalised


def names_archive(m):
    mc = MountCase(m, "names-unsafe.ozx",
                   "unsafe names hidden, limits at their boundaries, "
                   "duplicates and shadowing")
    es = []

    def ok(name, data):
        es.append(Entry(name, data))
        mc.add_good(name, data)

    nhidden = [0]

    def hide(name, why, absent=(), printable=True):
        es.append(Entry(name, b"hidden: " + (name if isinstance(name, bytes)
                                             else name.encode())[:60]))
        if printable:
            mc.add_hidden(name, why)
        nhidden[0] += 1
        mc.absent.extend(absent)

    ok("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n')
    ok("good.txt", b"a good file\n")
    hide("../x", "'..' component", ["x"])
    hide("up/../../x2", "'..' component", ["up", "x2"])
    hide("..", "'..' component")
    hide("/abs", "absolute path", ["abs"])
    hide("/", "absolute path")
    hide("dot/./b", "'.' component", ["dot", "dot/b", "b"])
    hide("./dotstart", "'.' component", ["dotstart"])
    hide("dslash//b", "empty component", ["dslash", "dslash/b"])
    hide(b"", "empty name", printable=False)
    hide(b"nul\0inside", "NUL byte in name", ["nul", "inside"])
    hide(b"bad-utf8-\xff\xfe.txt", "invalid UTF-8 in name",
         ["bad-utf8-.txt"])
    hide(b"overlong-\xc0\xaf..\xc0\xafx", "invalid UTF-8 in name",
         ["overlong-", "overlong-..", "overlong-/../x"])
    hide(b"surrogate-\xed\xa0\x80", "invalid UTF-8 in name", ["surrogate-"])
    # limits, each beside its largest allowed value
    c255, c256 = "c" * 255, "c" * 256
    ok("ok255/" + c255, b"a 255-byte component\n")
    hide("long256/" + c256, "component longer than 255 bytes", ["long256"])
    mc.absent.append("ok255/" + c255[:-1])

    def long_name(top, total):
        parts, n = [top], len(top)
        while n < total:
            k = min(200, total - n - 1)
            parts.append("n" * max(k, 1))
            n += 1 + len(parts[-1])
        s = "/".join(parts)
        assert len(s) == total, (len(s), total)
        return s

    n4095 = long_name("p4095", 4095)
    ok(n4095, b"a 4095-byte name\n")
    n4096 = long_name("p4096", 4096)
    hide(n4096, "name longer than 4095 bytes", ["p4096"], printable=False)
    d128 = "d128/" + "d/" * 126 + "f"
    assert d128.count("/") + 1 == 128
    ok(d128, b"128 components\n")
    d129 = "d129/" + "d/" * 127 + "f"
    hide(d129, "path deeper than 128 components", ["d129"])
    # the last of two same-named records wins; a directory beats a file
    hide("dup.txt", "superseded by a later record of the same name")
    ok("dup.txt", b"the second dup.txt, current\n")
    hide("shadow", "file shadowed by a directory of the same name")
    ok("shadow/inner.txt", b"inside the directory shadow\n")
    mc.types.append(("shadow", "directory", "555"))
    # byte-exact names: case and Unicode normalisation are not folded
    ok("Case.txt", b"upper\n")
    ok("case.txt", b"lower\n")
    ok("caf\u00e9.txt", "NFC \u00e9\n".encode())
    ok("cafe\u0301.txt", "NFD e + U+0301\n".encode())
    mc.absent += ["CASE.txt", "good.txt/x"]

    mc.logs.append((1, "superseded records in '"))
    mc.logs.append((0, "... "))  # fewer than 20 hidden: all listed
    b, lay = build(es)
    m.write(mc.fname, b)
    mc.logs.append((nhidden[0], "is hidden: "))
    mc.finish()


def legit_archives(m):
    """Archives that are odd but valid: refusing them would be wrong."""
    mc = MountCase(m, "legit-empty.ozx",
                   "no entries at all: an end record alone mounts, empty")
    b, lay = build([])
    m.write(mc.fname, b)
    mc.finish()
    mc = MountCase(m, "legit-empty-zip64.ozx",
                   "no entries, ZIP64 end records: mounts, empty")
    b, lay = build([], zip64="sentinel")
    m.write(mc.fname, b)
    mc.finish()

    mc = MountCase(m, "legit-oddities.ozx",
                   "valid oddities: record comments, data descriptors without "
                   "signature, a ZIP64 extensible data sector, a locator "
                   "saying 0 disks, a Unicode Path extra naming another path "
                   "(ignored: the stored name is the name)")
    es = []

    def ok(name, data, method=0, **kw):
        es.append(Entry(name, data, method, **kw))
        mc.add_good(name, data)

    ok("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n',
       cd={"comment": b"a record comment"})
    d = text("dd-nosig", 30000)
    e = Entry("dd/deflate-no-signature.txt", d, 8, flags=8,
              lh={"crc": 0, "csize": 0, "usize": 0})
    e.after = struct.pack("<III", e.crc, len(e.comp), len(e.data))
    es.append(e)
    mc.add_good(e.name.decode(), d)
    d = blob("dd-stored-nosig", 3000)
    e = Entry("dd/stored-no-signature.bin", d, 0, flags=8,
              lh={"crc": 0, "csize": 0, "usize": 0})
    e.after = struct.pack("<III", e.crc, len(e.comp), len(e.data))
    es.append(e)
    mc.add_good(e.name.decode(), d)
    # Info-ZIP Unicode Path extra (0x7075): version 1, CRC-32 of the
    # stored name, then a UTF-8 name that would climb out of the root
    raw = b"raw-name.txt"
    up = extra(0x7075, struct.pack("<BI", 1, zlib.crc32(raw)) +
               b"../unicode-path-escape")
    ok("raw-name.txt", b"the stored name counts\n", cd_extra=up, lh_extra=up)
    mc.absent.append("unicode-path-escape")
    ok("utf8-flag-\u00e9.txt", b"general purpose bit 11 set\n", flags=0x800)
    b, lay = build(es, zip64="honest", e64_ext=b"\0\0\0\0" + b"E" * 96,
                   loc_ndisks=0,
                   comment=b'{"ome":{"version":"0.5","zipFile":'
                   b'{"centralDirectory":{"jsonFirst":true}}}}')
    m.write(mc.fname, b)
    mc.finish()


def tolerated_archives(m):
    """Archives other readers (Python, unzip, bsdtar) read, mounted with a
    warning at start-up (issue 15)."""
    mc = MountCase(m, "tolerated-comment-length-short.ozx",
                   "6 bytes follow the comment that its length does not "
                   "cover: mounted, with a warning")
    es = base_entries()
    for e in es:
        mc.add_good(e.name.decode(), e.data)
    b, lay = build(es, comment=b"0123456789")
    p16(b, lay["eocd"] + EOCD_CLEN, 4)
    m.write(mc.fname, b)
    mc.logs.append((1, "': 6 bytes after the end record, not covered by "
                    "its comment length"))
    mc.finish()
    prefix = b"#!/bin/sh\necho self-extracting\nexit 0\n".ljust(4096, b"#")
    for z64, stem in ((None, ""), ("sentinel", "-zip64")):
        mc = MountCase(m, "tolerated-prepended-unadjusted%s.ozx" % stem,
                       "4 KiB prepended%s, offsets not adjusted: mounted, "
                       "with a warning" % (" to a ZIP64 archive" if z64
                                           else ""))
        es = base_entries()
        for e in es:
            mc.add_good(e.name.decode(), e.data)
        b, lay = build(es, prefix=prefix, adjust=False, zip64=z64)
        m.write(mc.fname, b)
        mc.logs.append((1, "': 4096 bytes before the archive, not counted "
                        "by its offsets"))
        mc.finish()


def prepended_archive(m):
    prefix = b"#!/bin/sh\necho self-extracting\nexit 0\n".ljust(4096, b"#")
    mc = MountCase(m, "prepended-adjusted.ozx",
                   "4 KiB prepended, offsets adjusted (zip -A): works")
    es = base_entries()
    for e in es:
        mc.add_good(e.name.decode(), e.data)
    b, lay = build(es, prefix=prefix, adjust=True)
    m.write(mc.fname, b)
    mc.finish()
    mc = MountCase(m, "prepended-adjusted-zip64.ozx",
                   "4 KiB prepended to a ZIP64 archive, offsets adjusted")
    es = base_entries()
    for e in es:
        mc.add_good(e.name.decode(), e.data)
    b, lay = build(es, prefix=prefix, adjust=True, zip64="sentinel")
    m.write(mc.fname, b)
    mc.finish()


# ---------------------------------------------------------------------------


def tsv_line(*fields):
    for f in fields:
        assert "\t" not in f and "\n" not in f and f != "", repr(f)
    return "\t".join(fields) + "\n"


def write_manifests(m):
    js = []
    lines = []
    for c in m.cases:
        if isinstance(c, MountCase):
            js.append(c.as_json())
            lines.append(tsv_line("mount", c.fname,
                                  " ".join(c.options) or "-", c.what))
            for p, e in c.good:
                lines.append(tsv_line("good", p, e))
            for p, r, nb in c.eio:
                lines.append(tsv_line("eio", p, "|".join(r),
                                      "nobytes" if nb else "somebytes"))
            for p, t, md in c.types:
                lines.append(tsv_line("type", p, t, md))
            for p, lo, hi in c.mtimes:
                lines.append(tsv_line("mtime", p, str(lo), str(hi)))
            for p in c.absent:
                lines.append(tsv_line("absent", p))
            for n, w in c.hidden:
                lines.append(tsv_line("hidden", n, w))
            for n, s in c.logs:
                lines.append(tsv_line("log", str(n), s))
            lines.append(tsv_line("listing", c.listing))
            lines.append(tsv_line("end"))
        elif c["expect"] == "refuse":
            js.append(c)
            lines.append(tsv_line("refuse", c["file"], c["message"],
                                  c["what"]))
        else:
            js.append(c)
            lines.append(tsv_line("skip", c["file"], c["reason"]))
    with open(os.path.join(m.outdir, "manifest.json"), "w") as f:
        json.dump({"cases": js}, f, indent=1, ensure_ascii=True)
        f.write("\n")
    with open(os.path.join(m.outdir, "manifest.tsv"), "w") as f:
        f.writelines(lines)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: mkhostile.py OUTDIR\n")
        return 2
    m = Manifest(sys.argv[1])
    refusals(m)
    entries_archive(m)
    harmless_archive(m)
    names_archive(m)
    prepended_archive(m)
    tolerated_archives(m)
    legit_archives(m)
    write_manifests(m)
    nref = sum(1 for c in m.cases if isinstance(c, dict) and
               c["expect"] == "refuse")
    print("mkhostile: %d archives refused, %d mounts, %d skipped" % (
        nref, sum(1 for c in m.cases if isinstance(c, MountCase)),
        sum(1 for c in m.cases if isinstance(c, dict) and
            c["expect"] == "skip")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
