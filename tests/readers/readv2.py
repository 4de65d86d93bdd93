#!/usr/bin/python3
"""readv2.py - read a Zarr v2 hierarchy with python3-zarr through an ozxfs
mount and through its source directory, and compare.

Usage:
  readv2.py full SRC MNT MANIFEST
      Walk the hierarchy on the mount as a user would (the OME multiscales
      of the image and of every label); every array found must be in the
      manifest and every manifest array found.  Read each array whole
      through the mount and through SRC; the SHA-256 of the decoded bytes
      must agree with each other and with the manifest; metadata too.
  readv2.py forked SRC MNT WORKERS READS SEED
      A DataLoader-like workload: the parent opens the group on the mount
      and reads its metadata and a first region (a dataset's __init__),
      then a multiprocessing pool with the fork start method runs WORKERS
      workers, each reading READS random regions (whole chunks, regions
      across chunk edges, single pixels) through the parent's zarr objects
      and comparing them with the same region read from SRC.  Errors are
      counted by kind; any error fails.

python3-zarr 2.13 (Debian): never give it Zarr v3 data.
Exit status 0 when every check passed, 1 otherwise.
"""

import hashlib
import json
import multiprocessing as mp
import os
import random
import sys
import time
import traceback

import numpy as np
import zarr


def arrays_of(root):
    """The arrays a user reaches from the root group: multiscales datasets
    of the image, then labels/<name> multiscales datasets."""
    out = []
    for ms in root.attrs.get("multiscales", []):
        for ds in ms["datasets"]:
            out.append(ds["path"])
    if "labels" in root:
        lg = root["labels"]
        for name in lg.attrs.get("labels", []):
            lab = lg[name]
            for ms in lab.attrs.get("multiscales", []):
                for ds in ms["datasets"]:
                    out.append("labels/%s/%s" % (name, ds["path"]))
    return out


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def full(src, mnt, manifest):
    with open(manifest) as f:
        man = {a["path"]: a for a in json.load(f)["arrays"]}
    gm = zarr.open_group(mnt, mode="r")
    gs = zarr.open_group(src, mode="r")
    bad = 0
    if gm.attrs.asdict() != gs.attrs.asdict():
        print("FAIL: root attributes differ")
        bad += 1
    found = arrays_of(gm)
    if sorted(found) != sorted(man):
        print("FAIL: arrays found on the mount %s, manifest %s" % (sorted(found), sorted(man)))
        bad += 1
    # also every array zarr's own walk finds (visitvalues) is covered
    walked = []
    gm.visitvalues(lambda v: walked.append(v.path) if isinstance(v, zarr.Array) else None)
    if sorted(walked) != sorted(man):
        print("FAIL: zarr's walk of the mount found %s" % sorted(walked))
        bad += 1
    nbytes = 0
    for path in found:
        m = man.get(path)
        am, as_ = gm[path], gs[path]
        meta_m = (am.shape, am.chunks, str(am.dtype), am.compressor.codec_id,
                  am._dimension_separator, am.fill_value)
        meta_s = (as_.shape, as_.chunks, str(as_.dtype), as_.compressor.codec_id,
                  as_._dimension_separator, as_.fill_value)
        if meta_m != meta_s:
            print("FAIL: %s: metadata %s on the mount, %s in the source" % (path, meta_m, meta_s))
            bad += 1
            continue
        # the chunk files the mount lists in the array's directory
        nfiles = sum(1 for _, _, fs in os.walk(os.path.join(mnt, *path.split("/")))
                     for f in fs if not f.startswith("."))
        if m and nfiles != m["nchunks"]:
            print("FAIL: %s: %d chunk files on the mount, manifest %d" % (path, nfiles, m["nchunks"]))
            bad += 1
        t = time.monotonic()
        dm = am[...]
        hm, hs = sha(dm), sha(as_[...])
        nbytes += dm.nbytes
        status = "ok"
        if hm != hs or (m and hm != m["sha256"]):
            status = "DIFFERS"
            bad += 1
        print("  %-15s %-12s %-7s %-6s sep '%s' %3d chunks  sha256 %s (source %s, manifest %s) %s %.2fs" % (
            path, "x".join(map(str, am.shape)), am.dtype, am.compressor.codec_id,
            am._dimension_separator, nfiles, hm[:16], hs[:16],
            m["sha256"][:16] if m else "-", status, time.monotonic() - t))
    print("%d arrays, %d decoded bytes compared, %d problems" % (len(found), nbytes, bad))
    return bad == 0


# --- forked workload -------------------------------------------------------
# Set in the parent before the pool forks; the workers inherit them.
G = {}


def region(rng, arr):
    """A random selection: a whole chunk (half the time), a region across
    chunk edges, or a single pixel."""
    r = rng.random()
    sel = []
    for n, c in zip(arr.shape, arr.chunks):
        if r < 0.5:
            i = rng.randrange((n + c - 1) // c)
            sel.append(slice(i * c, min(n, (i + 1) * c)))
        elif r < 0.9:
            a = rng.randrange(n)
            b = min(n, a + 1 + rng.randrange(2 * c))
            sel.append(slice(a, b))
        else:
            a = rng.randrange(n)
            sel.append(slice(a, a + 1))
    return tuple(sel)


def worker(args):
    wid, reads, seed = args
    rng = random.Random(seed * 1000 + wid)
    arrs_m, arrs_s = G["mnt"], G["src"]
    names = sorted(arrs_m)
    res = {"worker": wid, "pid": os.getpid(), "reads": 0, "bytes": 0, "errors": {}, "first": []}
    for _ in range(reads):
        name = rng.choice(names)
        sel = region(rng, arrs_m[name])
        try:
            got = arrs_m[name][sel]
            want = arrs_s[name][sel]
            if got.shape != want.shape or got.dtype != want.dtype:
                kind = "wrong shape/dtype"
            elif not np.array_equal(got, want):
                kind = "wrong values"
            else:
                kind = None
            res["bytes"] += got.nbytes
        except Exception as e:  # noqa: BLE001 - every failure is counted
            kind = type(e).__name__
            if len(res["first"]) < 3:
                res["first"].append("%s %s: %s" % (name, sel, "".join(
                    traceback.format_exception_only(type(e), e)).strip()))
        res["reads"] += 1
        if kind:
            res["errors"][kind] = res["errors"].get(kind, 0) + 1
    return res


def forked(src, mnt, workers, reads, seed):
    t = time.monotonic()
    # The parent: open the group on the mount and read its metadata, as a
    # dataset's __init__ does, and one region of each array.
    gm = zarr.open_group(mnt, mode="r")
    gs = zarr.open_group(src, mode="r")
    paths = arrays_of(gm)
    G["mnt"] = {p: gm[p] for p in paths}
    G["src"] = {p: gs[p] for p in paths}
    for p in paths:
        a = G["mnt"][p]
        if not np.array_equal(a[(0,) * (a.ndim - 2) + (slice(0, 8), slice(0, 8))],
                              G["src"][p][(0,) * (a.ndim - 2) + (slice(0, 8), slice(0, 8))]):
            print("FAIL: parent: first region of %s differs" % p)
            return False
    print("parent %d: opened %s on the mount, %d arrays (%s), multiscales %d levels; "
          "forking %d workers x %d reads" % (
              os.getpid(), os.path.basename(mnt.rstrip("/")) or mnt, len(paths),
              ", ".join(paths), len(gm.attrs["multiscales"][0]["datasets"]), workers, reads))
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        results = pool.map(worker, [(w, reads, seed) for w in range(workers)], chunksize=1)
    total = sum(r["reads"] for r in results)
    nbytes = sum(r["bytes"] for r in results)
    errors = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
        for line in r["first"]:
            print("  worker %d: %s" % (r["worker"], line))
    pids = {r["pid"] for r in results}
    print("%d workers (%d distinct pids), %d reads, %d decoded bytes compared, errors: %s, %.1fs" % (
        workers, len(pids), total, nbytes,
        ", ".join("%s %d" % kv for kv in sorted(errors.items())) or "none",
        time.monotonic() - t))
    ok = not errors and total == workers * reads and len(pids) > 1
    if total != workers * reads:
        print("FAIL: %d reads done, want %d" % (total, workers * reads))
    return ok


def main(argv):
    if len(argv) == 5 and argv[1] == "full":
        return 0 if full(argv[2], argv[3], argv[4]) else 1
    if len(argv) == 7 and argv[1] == "forked":
        return 0 if forked(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6])) else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
