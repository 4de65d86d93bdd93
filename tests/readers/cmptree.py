#!/usr/bin/python3
"""cmptree.py - the mount shows the source tree: the same paths (files and
directories), the same sizes, byte-identical contents.  One process instead
of a cmp per file (lib.sh's cmp_trees), which matters with hundreds of chunk
files.

Usage: /usr/bin/python3 cmptree.py SRC MNT
"""

import os
import stat
import sys


def listing(top):
    out = {}
    for root, dnames, fnames in os.walk(top):
        for n in dnames + fnames:
            p = os.path.join(root, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            if stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", 0)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("f", st.st_size)
            else:
                out[rel] = ("?", 0)
    return out


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: cmptree.py SRC MNT\n")
        return 2
    src, mnt = argv[1], argv[2]
    ls, lm = listing(src), listing(mnt)
    if ls != lm:
        for k in sorted(set(ls) | set(lm))[:2000]:
            if ls.get(k) != lm.get(k):
                print("  %s: source %s, mount %s" % (k, ls.get(k), lm.get(k)))
        print("FAIL: the listing of the mount differs from the source tree")
        return 1
    nfiles = nbytes = 0
    for rel, (kind, size) in sorted(ls.items()):
        if kind != "f":
            continue
        with open(os.path.join(src, rel), "rb") as a, open(os.path.join(mnt, rel), "rb") as b:
            da, db = a.read(), b.read()
        if da != db:
            print("FAIL: %s differs (%d bytes in the source, %d on the mount)" % (rel, len(da), len(db)))
            return 1
        nfiles += 1
        nbytes += len(da)
    print("%d paths listed alike; %d files, %d bytes identical" % (len(ls), nfiles, nbytes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
