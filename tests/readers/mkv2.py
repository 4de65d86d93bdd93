#!/usr/bin/python3
"""mkv2.py - write a small OME-Zarr 0.4-style image with Debian's
python3-zarr (Zarr v2), for the reader tests.

Usage: /usr/bin/python3 mkv2.py OUT_DIR MANIFEST.json

The tree (seed 20240917, about 1.5 MB of chunks):
  .zgroup, .zattrs            multiscales (version 0.4, axes c/y/x, 3 levels)
  0   uint16 (2, 500, 470)   chunks (1, 64, 64)  Blosc lz4 + shuffle   '/'
  1   uint16 (2, 250, 235)   chunks (1, 64, 64)  Zstd level 3          '.'
  2   uint16 (2, 125, 118)   chunks (1, 32, 32)  GZip level 5          '/'
  labels/.zattrs              {"labels": ["cells"]}
  labels/cells/.zattrs        image-label + multiscales (2 levels)
  labels/cells/0 uint32 (1, 500, 470) chunks (1, 128, 100) Blosc zstd
                              + bitshuffle, '.'
  labels/cells/1 uint32 (1, 250, 235) chunks (1, 100, 128) Zstd, '/'
Every shape leaves partial edge chunks.

The manifest lists every array: path, shape, dtype, chunks, compressor,
dimension separator, number of chunk files, and the SHA-256 of the array's
C-order bytes as generated (before zarr saw them).

This is python3-zarr 2.13: never point it at Zarr v3 data (it cannot read
it, and its experimental v3 mode writes into read-only stores).
"""

import hashlib
import json
import os
import sys

import numpy as np
import numcodecs
import zarr

SEED = 20240917


def image(rng, shape):
    c, h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty(shape, dtype=np.uint16)
    for ch in range(c):
        # smooth blobs plus noise: compresses, but not to nothing
        v = (1000 + 800 * np.sin(x / (17.0 + ch)) * np.cos(y / 23.0)
             + 400 * ch + rng.integers(0, 200, size=(h, w)))
        # background (zero) in one corner, as around a specimen
        v[(y > 0.8 * h) & (x > 0.75 * w)] = 0
        out[ch] = np.clip(v, 0, 65535).astype(np.uint16)
    return out


def labels(shape):
    _, h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    lab = (1 + (y // 37) * 20 + (x // 41)).astype(np.uint32)
    lab[((y // 37) + (x // 41)) % 3 == 0] = 0
    return lab[np.newaxis]


def down(a):
    return np.ascontiguousarray(a[:, ::2, ::2])


def multiscales(name, n, axes_c=True):
    return [{
        "version": "0.4",
        "name": name,
        "axes": ([{"name": "c", "type": "channel"}] if axes_c else []) + [
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "datasets": [{
            "path": str(i),
            "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 0.5 * 2 ** i, 0.5 * 2 ** i]}],
        } for i in range(n)],
        "type": "decimation",
    }]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: mkv2.py OUT_DIR MANIFEST.json\n")
        return 2
    out, manifest = argv[1], argv[2]
    rng = np.random.default_rng(SEED)
    store = zarr.DirectoryStore(out)
    root = zarr.group(store=store, overwrite=True)
    root.attrs["multiscales"] = multiscales("ozxfs-v2", 3)
    root.attrs["omero"] = {"channels": [{"label": "a"}, {"label": "b"}]}

    arrays = []

    def put(group, path, data, chunks, compressor, sep):
        a = group.create_dataset(path, shape=data.shape, chunks=chunks,
                                 dtype=data.dtype, compressor=compressor,
                                 dimension_separator=sep, fill_value=0)
        a[...] = data
        full = (group.path + "/" + path) if group.path else path
        arrays.append({
            "path": full,
            "shape": list(data.shape),
            "dtype": str(data.dtype),
            "chunks": list(chunks),
            "compressor": compressor.codec_id,
            "dimension_separator": sep,
            "sha256": hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest(),
        })

    lvl0 = image(rng, (2, 500, 470))
    lvl1 = down(lvl0)
    lvl2 = down(lvl1)
    put(root, "0", lvl0, (1, 64, 64),
        numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE), "/")
    put(root, "1", lvl1, (1, 64, 64), numcodecs.Zstd(level=3), ".")
    put(root, "2", lvl2, (1, 32, 32), numcodecs.GZip(level=5), "/")

    lg = root.create_group("labels")
    lg.attrs["labels"] = ["cells"]
    cells = lg.create_group("cells")
    cells.attrs["image-label"] = {
        "version": "0.4",
        "colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}],
        "source": {"image": "../../"},
    }
    cells.attrs["multiscales"] = multiscales("cells", 2)
    lab0 = labels((1, 500, 470))
    put(cells, "0", lab0, (1, 128, 100),
        numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE), ".")
    put(cells, "1", down(lab0), (1, 100, 128), numcodecs.Zstd(level=1), "/")

    # count the chunk files zarr wrote (edge chunks included)
    for a in arrays:
        d = os.path.join(out, *a["path"].split("/"))
        n = 0
        for r, _, fs in os.walk(d):
            n += sum(1 for f in fs if not f.startswith("."))
        a["nchunks"] = n
    with open(manifest, "w") as f:
        json.dump({"zarr": zarr.__version__, "numcodecs": numcodecs.__version__,
                   "seed": SEED, "arrays": arrays}, f, indent=1)
    total = sum(a["nchunks"] for a in arrays)
    print("zarr %s wrote %d arrays, %d chunk files: %s" % (
        zarr.__version__, len(arrays), total,
        ", ".join("%s %s %s '%s' %d chunks" % (a["path"], "x".join(map(str, a["shape"])),
                                                a["compressor"], a["dimension_separator"],
                                                a["nchunks"]) for a in arrays)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
