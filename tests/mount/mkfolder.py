#!/usr/bin/python3
"""mkfolder.py DIR SRC N SEED: a folder of N small archives for
tests/mount/folder.sh and scripts/bench.

DIR gets the archives: NAME.ozx (and every 10th NAME.zip), a third of them
in subfolders two deep; every 13th DEFLATE, every 50th broken (not a ZIP,
or cut short).  SRC gets the tree a mount of DIR should show: each good
archive's files under SRC/PATH/NAME.ozx/, and the folders.  Also made:
files the mount must not show (DIR/notes.txt, DIR/.hidden.ozx, a
temporary file of an ozx pack in progress, DIR/x.ozx.Ab12Cd).

Written to SRC/../: broken.txt (the broken archives' paths, one a line)
and list.txt ("SIZE PATH" of every file, for the forked reader).
Deterministic; 1,000 archives take about a second.
"""
import os
import random
import sys
import zipfile


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    out, src, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    top = os.path.dirname(os.path.abspath(src))
    broken, listing = [], []
    os.makedirs(out, exist_ok=True)
    os.makedirs(src, exist_ok=True)
    for i in range(n):
        sub = "" if i % 3 else "p%02d/t%d/" % (i % 7, i % 2)
        name = "a%05d.%s" % (i, "zip" if i % 10 == 9 else "ozx")
        path = sub + name
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        os.makedirs(os.path.join(src, sub), exist_ok=True)
        if i % 50 == 49:
            with open(os.path.join(out, path), "wb") as f:
                if i % 100 == 99:
                    f.write(rng.randbytes(300))
                else:
                    f.write(b"PK\x03\x04" + rng.randbytes(200))
            broken.append(path)
            continue
        method = zipfile.ZIP_DEFLATED if i % 13 == 0 else zipfile.ZIP_STORED
        files = [("zarr.json", b'{"zarr_format":3,"node_type":"group"}\n')]
        files.append(("0/zarr.json", b'{"zarr_format":3,"node_type":"array"}\n'))
        for j in range(rng.randrange(2, 6)):
            size = 1 + rng.randrange(3000)
            data = rng.randbytes(size)
            if method == zipfile.ZIP_DEFLATED:
                data = bytes(0x40 + (b & 15) for b in data)
            files.append(("0/c/0/%d" % j, data))
        with zipfile.ZipFile(os.path.join(out, path), "w", method) as zf:
            for fname, data in files:
                zi = zipfile.ZipInfo(fname, (2024, 6, 1, 0, 0, 0))
                zi.compress_type = method
                zf.writestr(zi, data)
                p = os.path.join(src, path, fname)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(data)
                listing.append("%d %s/%s" % (len(data), path, fname))
    for name, data in (("notes.txt", b"not an archive\n"),
                       (".hidden.ozx", b"PK"),
                       ("x.ozx.Ab12Cd", b"PK\x03\x04")):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(out, ".dotdir"), exist_ok=True)
    with open(os.path.join(top, "broken.txt"), "w") as f:
        f.writelines(p + "\n" for p in broken)
    with open(os.path.join(top, "list.txt"), "w") as f:
        f.writelines(line + "\n" for line in listing)


main()
