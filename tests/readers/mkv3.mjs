// mkv3.mjs - write a small OME-Zarr 0.5 image (Zarr v3) with zarrita, for
// the reader tests.
//
// Usage: node mkv3.mjs OUT_DIR MANIFEST.json
//
// The tree (seed 20240918, about 1.5 MB):
//   zarr.json            group, attributes.ome: version 0.5, multiscales
//                        (axes c/y/x, 3 levels), omero
//   0  uint16 [2,500,470] chunks [1,64,64]  bytes + blosc (zstd, shuffle)
//   1  uint16 [2,250,235] chunks [1,64,64]  bytes + zstd, chunk keys "c.0.1.2"
//   2  uint16 [2,125,118] sharding_indexed: shards [1,96,96] of inner chunks
//                        [1,16,16] (bytes + zstd), index (bytes, little
//                        endian) at the end; inner chunks that are all fill
//                        value, or wholly outside the array, are left out
//                        (index entry 2^64-1, 2^64-1); the others stored in
//                        reverse order, so only the index finds them
//   labels/zarr.json     attributes.ome.labels ["cells"]
//   labels/cells/zarr.json  image-label + multiscales (2 levels)
//   labels/cells/0 uint32 [1,500,470] chunks [1,128,100] bytes + zstd
//   labels/cells/1 uint32 [1,250,235] chunks [1,100,128] bytes + blosc
//                        (lz4, bitshuffle)
// Every shape leaves partial edge chunks (and edge shards).
//
// zarrita writes every zarr.json and every regular chunk.  zarrita cannot
// write shards: their inner chunks are encoded by zarrita (an unsharded
// scratch array in memory with the inner chunk shape and codecs), and this
// script assembles the shard files following the sharding_indexed spec.
// Then zarrita reads the whole tree back and every array must equal the
// generated data.
//
// The manifest lists every array: path, shape, dtype, chunks, codecs,
// chunk files, and the SHA-256 of its C-order little-endian bytes as
// generated.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";
import Blosc from "numcodecs/blosc";

const SEED = 20240918;

// zarrita 0.7.5 hands the v3 blosc configuration to numcodecs.js as is;
// numcodecs.js wants shuffle as a number and silently does not shuffle on
// the spec's strings.  Map them, so that the data is encoded as the
// metadata says (decoding follows the blosc header either way).
const SHUFFLE = { noshuffle: 0, shuffle: 1, bitshuffle: 2 };
zarr.registry.set("blosc", async () => ({
	fromConfig(cfg, meta) {
		const shuffle = typeof cfg.shuffle === "string" ? SHUFFLE[cfg.shuffle] : cfg.shuffle;
		return Blosc.fromConfig({ ...cfg, shuffle }, meta);
	},
}));

function mulberry32(a) {
	return () => {
		a |= 0;
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function strides(shape) {
	const s = new Array(shape.length);
	let n = 1;
	for (let i = shape.length - 1; i >= 0; i--) {
		s[i] = n;
		n *= shape[i];
	}
	return s;
}

function image(rand, [c, h, w]) {
	const d = new Uint16Array(c * h * w);
	for (let k = 0; k < c; k++)
		for (let y = 0; y < h; y++)
			for (let x = 0; x < w; x++) {
				let v = 1000 + 800 * Math.sin(x / (17 + k)) * Math.cos(y / 23) +
					400 * k + Math.floor(rand() * 200);
				if (y > 0.8 * h && x > 0.75 * w) v = 0;	// background
				d[(k * h + y) * w + x] = Math.max(0, Math.min(65535, Math.floor(v)));
			}
	return { data: d, shape: [c, h, w], stride: strides([c, h, w]) };
}

function labels([c, h, w]) {
	const d = new Uint32Array(c * h * w);
	for (let y = 0; y < h; y++)
		for (let x = 0; x < w; x++) {
			const by = Math.floor(y / 37), bx = Math.floor(x / 41);
			d[y * w + x] = (by + bx) % 3 === 0 ? 0 : 1 + by * 20 + bx;
		}
	return { data: d, shape: [c, h, w], stride: strides([c, h, w]) };
}

function down(a) {
	const [c, h, w] = a.shape;
	const h2 = Math.ceil(h / 2), w2 = Math.ceil(w / 2);
	const d = new a.data.constructor(c * h2 * w2);
	for (let k = 0; k < c; k++)
		for (let y = 0; y < h2; y++)
			for (let x = 0; x < w2; x++)
				d[(k * h2 + y) * w2 + x] = a.data[(k * h + 2 * y) * w + 2 * x];
	return { data: d, shape: [c, h2, w2], stride: strides([c, h2, w2]) };
}

function sha(typed) {
	return createHash("sha256")
		.update(Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength))
		.digest("hex");
}

function multiscales(name, n) {
	return [{
		name,
		axes: [
			{ name: "c", type: "channel" },
			{ name: "y", type: "space", unit: "micrometer" },
			{ name: "x", type: "space", unit: "micrometer" },
		],
		datasets: Array.from({ length: n }, (_, i) => ({
			path: String(i),
			coordinateTransformations: [
				{ type: "scale", scale: [1, 0.5 * 2 ** i, 0.5 * 2 ** i] },
			],
		})),
		type: "decimation",
	}];
}

const bytesLE = { name: "bytes", configuration: { endian: "little" } };
const zstd = (level) => ({ name: "zstd", configuration: { level, checksum: false } });
const blosc = (cname, shuffle, typesize) => ({
	name: "blosc",
	configuration: { cname, clevel: 5, shuffle, typesize, blocksize: 0 },
});

function countFiles(dir) {
	let n = 0;
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		if (e.isDirectory()) n += countFiles(path.join(dir, e.name));
		else if (e.name !== "zarr.json") n++;
	}
	return n;
}

async function main() {
	const [out, manifestPath] = process.argv.slice(2);
	if (!out || !manifestPath) {
		console.error("usage: node mkv3.mjs OUT_DIR MANIFEST.json");
		process.exit(2);
	}
	fs.rmSync(out, { recursive: true, force: true });
	fs.mkdirSync(out, { recursive: true });
	const store = new FileSystemStore(out);
	const root = zarr.root(store);
	const rand = mulberry32(SEED);
	const arrays = [];

	await zarr.create(root, {
		attributes: {
			ome: {
				version: "0.5",
				multiscales: multiscales("ozxfs-v3", 3),
				omero: { channels: [{ label: "a" }, { label: "b" }] },
			},
		},
	});

	async function put(loc, key, chunk, dtype, chunkShape, codecs, extra = {}) {
		const arr = await zarr.create(loc.resolve(key), {
			shape: chunk.shape, dtype, chunkShape, codecs, fillValue: 0, ...extra,
		});
		await zarr.set(arr, null, chunk);
		return arr;
	}
	function record(p, chunk, dtype, chunks, codecs, note) {
		arrays.push({
			path: p, shape: chunk.shape, dtype, chunks, codecs, note,
			sha256: sha(chunk.data),
		});
	}

	const lvl0 = image(rand, [2, 500, 470]);
	const lvl1 = down(lvl0);
	const lvl2 = down(lvl1);

	let codecs = [bytesLE, blosc("zstd", "shuffle", 2)];
	await put(root, "0", lvl0, "uint16", [1, 64, 64], codecs);
	record("0", lvl0, "uint16", [1, 64, 64], codecs, "blosc");

	codecs = [bytesLE, zstd(3)];
	await put(root, "1", lvl1, "uint16", [1, 64, 64], codecs, { chunkSeparator: "." });
	record("1", lvl1, "uint16", [1, 64, 64], codecs, "zstd, '.' keys");

	// -- the sharded array ------------------------------------------------
	const shard = [1, 96, 96], inner = [1, 16, 16], innerCodecs = [bytesLE, zstd(5)];
	const sharding = {
		name: "sharding_indexed",
		configuration: {
			chunk_shape: inner,
			codecs: innerCodecs,
			index_codecs: [bytesLE],
			index_location: "end",
		},
	};
	const sharded = await zarr.create(root.resolve("2"), {
		shape: lvl2.shape, dtype: "uint16", chunkShape: shard, codecs: [sharding], fillValue: 0,
	});
	// inner chunks encoded by zarrita: an unsharded scratch array in memory
	const mem = new Map();
	const scratch = await zarr.create(zarr.root(mem).resolve("s"), {
		shape: lvl2.shape, dtype: "uint16", chunkShape: inner, codecs: innerCodecs, fillValue: 0,
	});
	await zarr.set(scratch, null, lvl2);
	let nOutside = 0, nFill = 0;
	const innerData = async (coords) => {
		const key = "/s/c/" + coords.join("/");
		if (!mem.has(key)) {	// wholly outside the array
			nOutside++;
			return null;
		}
		const { data } = await scratch.getChunk(coords);
		if (data.every((v) => v === 0)) {	// fill value only
			nFill++;
			return null;
		}
		return mem.get(key);
	};
	const nshards = lvl2.shape.map((n, i) => Math.ceil(n / shard[i]));
	const per = shard.map((s, i) => s / inner[i]);
	const nper = per.reduce((a, b) => a * b, 1);
	let nInner = 0, nShards = 0;
	for (let s0 = 0; s0 < nshards[0]; s0++)
		for (let s1 = 0; s1 < nshards[1]; s1++)
			for (let s2 = 0; s2 < nshards[2]; s2++) {
				const index = new BigUint64Array(2 * nper);
				const parts = [];
				const present = [];
				for (let i = 0; i < nper; i++) {
					const i0 = Math.floor(i / (per[1] * per[2]));
					const i1 = Math.floor(i / per[2]) % per[1];
					const i2 = i % per[2];
					const coords = [s0 * per[0] + i0, s1 * per[1] + i1, s2 * per[2] + i2];
					const b = await innerData(coords);
					if (b) present.push([i, b]);
					else {
						index[2 * i] = index[2 * i + 1] = 0xffffffffffffffffn;
					}
				}
				let off = 0;
				for (const [i, b] of present.reverse()) {
					index[2 * i] = BigInt(off);
					index[2 * i + 1] = BigInt(b.length);
					parts.push(b);
					off += b.length;
					nInner++;
				}
				if (!present.length) continue;	// an empty shard is not written
				// bytes codec, little endian (this machine is little endian)
				if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
					throw new Error("big-endian host");
				parts.push(new Uint8Array(index.buffer));
				await store.set(sharded.resolve(`c/${s0}/${s1}/${s2}`).path, Buffer.concat(parts));
				nShards++;
			}
	record("2", lvl2, "uint16", shard, [sharding],
		`sharded: ${nShards} shards, ${nInner} inner chunks, empty index entries: ` +
		`${nFill} fill-value, ${nOutside} outside`);
	if (!nFill || !nOutside) throw new Error("the shards lack empty inner chunks of both kinds");

	// -- labels -----------------------------------------------------------
	const lg = root.resolve("labels");
	await zarr.create(lg, { attributes: { ome: { version: "0.5", labels: ["cells"] } } });
	const cells = lg.resolve("cells");
	await zarr.create(cells, {
		attributes: {
			ome: {
				version: "0.5",
				"image-label": {
					colors: [{ "label-value": 1, rgba: [255, 0, 0, 255] }],
					source: { image: "../../" },
				},
				multiscales: multiscales("cells", 2),
			},
		},
	});
	const lab0 = labels([1, 500, 470]);
	const lab1 = down(lab0);
	codecs = [bytesLE, zstd(1)];
	await put(cells, "0", lab0, "uint32", [1, 128, 100], codecs);
	record("labels/cells/0", lab0, "uint32", [1, 128, 100], codecs, "zstd");
	codecs = [bytesLE, blosc("lz4", "bitshuffle", 4)];
	await put(cells, "1", lab1, "uint32", [1, 100, 128], codecs);
	record("labels/cells/1", lab1, "uint32", [1, 100, 128], codecs, "blosc");

	// -- the check: zarrita reads it all back -------------------------------
	const back = new FileSystemStore(out);
	for (const a of arrays) {
		const arr = await zarr.open(zarr.root(back).resolve(a.path), { kind: "array" });
		const got = await zarr.get(arr);
		const h = sha(got.data);
		if (h !== a.sha256 || JSON.stringify(got.shape) !== JSON.stringify(a.shape))
			throw new Error(`${a.path}: zarrita reads back ${h} ${got.shape}, wrote ${a.sha256}`);
		a.nfiles = countFiles(path.join(out, a.path));
	}
	fs.writeFileSync(manifestPath, JSON.stringify({ seed: SEED, arrays }, null, 1));
	const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.resolve("zarrita"))));
	console.log(`zarrita ${pkg.version} wrote ${arrays.length} arrays, read back identical: ` +
		arrays.map((a) => `${a.path} ${a.shape.join("x")} ${a.dtype} ${a.note} (${a.nfiles} files)`).join("; "));
}

main().catch((e) => {
	console.error("mkv3.mjs:", e);
	process.exit(1);
});
