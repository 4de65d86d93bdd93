#!/usr/bin/python3
"""ozxpack.py - pack a Zarr directory tree into an .ozx archive the way
RFC-9 recommends.

Usage: /usr/bin/python3 ozxpack.py SRC_DIR OUT.ozx

- the entries in the order `ozx pack` writes them (rfc9_order, the one
  definition of that order for the tests): the root metadata first, then
  the other metadata files breadth first, then every other file sorted.
  Metadata files are zarr.json (Zarr v3; RFC-9 speaks of these) and, for a
  Zarr v2 tree, .zgroup/.zattrs/.zarray/.zmetadata, treated the same way;
- every entry STORED, with ZIP64 extra fields in the local headers and the
  ZIP64 end of central directory record and locator written as well (Python
  writes them only past 65535 entries or 2 GiB, so the limit is lowered
  while closing);
- no directory entries (the directories are implied by the names);
- the archive comment is the RFC-9 JSON, with no trailing NUL:
    {"ome":{"version":"0.5","zipFile":{"centralDirectory":{"jsonFirst":true}}}}
  The version comes from the root metadata (attributes.ome.version for v3,
  multiscales[0].version in .zattrs for v2); jsonFirst is claimed only for a
  v3 tree (where the zarr.json really come first).
- fixed timestamps: the output depends only on the tree.

The archive is checked after writing (first entry, order, methods, comment)
and a one-line summary is printed.
"""

import json
import os
import sys
import zipfile

DATE = (2024, 1, 1, 0, 0, 0)


# Metadata files, in the order they take within a directory.
META_RANK = ("zarr.json", ".zgroup", ".zattrs", ".zarray", ".zmetadata")


def _path_key(name):
    # byte order with '/' before every other byte, so that siblings keep
    # their parents' order ("a/x" before "a b")
    return name.encode().replace(b"/", b"\0")


def rfc9_order(names):
    """names (files, and empty directories as "name/") in the order
    `ozx pack` writes them (fs/tool/pack.c, pent_cmp): the metadata files
    breadth first (by depth, then by directory, then META_RANK), then
    everything else by path."""

    def key(name):
        base = name.rsplit("/", 1)[-1]
        if base in META_RANK:
            d = name.rsplit("/", 1)[0] if "/" in name else ""
            return (0, name.count("/"), _path_key(d), META_RANK.index(base))
        return (1, _path_key(name))

    return sorted(names, key=key)


def walk(src):
    out = []
    for root, dnames, fnames in os.walk(src):
        dnames.sort()
        rel = os.path.relpath(root, src)
        rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for f in sorted(fnames):
            out.append(rel + f)
    return out


def ome_version(src, v3):
    try:
        if v3:
            with open(os.path.join(src, "zarr.json")) as f:
                return json.load(f)["attributes"]["ome"]["version"]
        with open(os.path.join(src, ".zattrs")) as f:
            return json.load(f)["multiscales"][0]["version"]
    except (OSError, KeyError, IndexError, ValueError):
        return None


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: ozxpack.py SRC_DIR OUT.ozx\n")
        return 2
    src, out = argv[1], argv[2]
    names = walk(src)
    v3 = os.path.isfile(os.path.join(src, "zarr.json"))
    order = rfc9_order(names)
    meta = [n for n in order if n.rsplit("/", 1)[-1] in META_RANK]

    version = ome_version(src, v3)
    ome = {"version": version} if version else {}
    if v3:
        ome["zipFile"] = {"centralDirectory": {"jsonFirst": True}}
    comment = json.dumps({"ome": ome}, separators=(",", ":")).encode()

    tmp = out + ".tmp"
    zf = zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True)
    for name in order:
        zi = zipfile.ZipInfo(name, DATE)
        zi.compress_type = zipfile.ZIP_STORED
        zi.create_system = 3
        zi.external_attr = 0o100644 << 16
        with open(os.path.join(src, *name.split("/")), "rb") as r, \
                zf.open(zi, "w", force_zip64=True) as w:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                w.write(b)
    zf.comment = comment
    limit = zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = 0	# force the ZIP64 end records
    try:
        zf.close()
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = limit
    os.replace(tmp, out)

    # check what was written
    with open(out, "rb") as f:
        data = f.read()
    assert data.endswith(comment), "comment is not the last bytes"
    assert b"PK\x06\x06" in data[-(len(comment) + 22 + 20 + 56):], "no ZIP64 end record"
    with zipfile.ZipFile(out) as z:
        infos = z.infolist()
        assert [i.filename for i in infos] == order, "entry order"
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        assert z.comment == comment and not comment.endswith(b"\0")
        assert z.testzip() is None
    print("packed %s: %d entries (%d metadata first, first %s), STORED, ZIP64, "
          "comment %s" % (os.path.basename(out), len(order), len(meta),
                          order[0], comment.decode()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
