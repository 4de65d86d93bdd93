// readv3.mjs - read a Zarr v3 (OME-Zarr 0.5) hierarchy with zarrita
// (FileSystemStore) through an ozxfs mount and through its source
// directory, and compare.
//
// Usage:
//   node readv3.mjs full SRC MNT MANIFEST
//       Find the arrays as a user would (the OME multiscales of the image
//       and of every label) and by walking every zarr.json on the mount;
//       both must give the manifest's arrays.  Read every array whole
//       through the mount and the source: the SHA-256 of the decoded bytes
//       must agree with each other and with the manifest, and every
//       group's attributes must be equal.
//   node readv3.mjs concurrent SRC MNT N SEED [--json]
//       N reads at once (one Promise.all): random chunks (getChunk; inner
//       chunks of the sharded array, read through the shard index with
//       range reads) and random regions (zarr.get), each compared with the
//       same read from SRC.  Errors are counted by kind.
//   node readv3.mjs procs SRC MNT PROCS N SEED
//       PROCS node child processes run `concurrent` at the same time (seeds
//       SEED, SEED+1, ...); their counts are added up.
// Exit status 0 when every check passed, 1 otherwise.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

function mulberry32(a) {
	return () => {
		a |= 0;
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const bytesOf = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
const sha = (typed) => createHash("sha256").update(bytesOf(typed)).digest("hex");

// The arrays a user reaches from the root: multiscales datasets of the
// image, then those of each label named in labels/zarr.json.
async function arraysOf(root) {
	const out = [];
	const groups = {};
	const g = await zarr.open(root, { kind: "group" });
	groups[""] = g.attrs;
	for (const ms of g.attrs.ome.multiscales) for (const ds of ms.datasets) out.push(ds.path);
	let lg;
	try {
		lg = await zarr.open(root.resolve("labels"), { kind: "group" });
	} catch (e) {
		if (e instanceof zarr.NotFoundError) return { out, groups };
		throw e;
	}
	groups.labels = lg.attrs;
	for (const name of lg.attrs.ome.labels) {
		const lab = await zarr.open(root.resolve(`labels/${name}`), { kind: "group" });
		groups[`labels/${name}`] = lab.attrs;
		for (const ms of lab.attrs.ome.multiscales)
			for (const ds of ms.datasets) out.push(`labels/${name}/${ds.path}`);
	}
	return { out, groups };
}

// Every array below DIR, by its zarr.json.
function walkArrays(dir, rel = "") {
	const out = [];
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name), r = rel ? `${rel}/${e.name}` : e.name;
		if (e.isDirectory()) out.push(...walkArrays(p, r));
		else if (e.name === "zarr.json" && JSON.parse(fs.readFileSync(p)).node_type === "array")
			out.push(rel);
	}
	return out;
}

function codecNames(codecs) {
	return codecs.map((c) => c.name === "sharding_indexed"
		? `sharding_indexed[${codecNames(c.configuration.codecs)}]`
		: c.name).join("+");
}

async function full(src, mnt, manifestPath) {
	const man = Object.fromEntries(JSON.parse(fs.readFileSync(manifestPath)).arrays.map((a) => [a.path, a]));
	const want = Object.keys(man).sort();
	const rm = zarr.root(new FileSystemStore(mnt)), rs = zarr.root(new FileSystemStore(src));
	let bad = 0;
	const { out: found, groups: gm } = await arraysOf(rm);
	const { groups: gs } = await arraysOf(rs);
	if (JSON.stringify(gm) !== JSON.stringify(gs)) {
		console.log("FAIL: group attributes differ between the mount and the source");
		bad++;
	}
	if (JSON.stringify([...found].sort()) !== JSON.stringify(want)) {
		console.log(`FAIL: arrays found through the OME metadata ${found}, manifest ${want}`);
		bad++;
	}
	const walked = walkArrays(mnt).sort();
	if (JSON.stringify(walked) !== JSON.stringify(want)) {
		console.log(`FAIL: zarr.json arrays on the mount ${walked}, manifest ${want}`);
		bad++;
	}
	let nbytes = 0;
	for (const p of found) {
		const t = Date.now();
		const am = await zarr.open(rm.resolve(p), { kind: "array" });
		const as = await zarr.open(rs.resolve(p), { kind: "array" });
		const meta = (a) => JSON.stringify([a.shape, a.chunks, a.dtype, a.fillValue]);
		if (meta(am) !== meta(as)) {
			console.log(`FAIL: ${p}: ${meta(am)} on the mount, ${meta(as)} in the source`);
			bad++;
			continue;
		}
		const dm = await zarr.get(am), ds = await zarr.get(as);
		const hm = sha(dm.data), hs = sha(ds.data), m = man[p];
		nbytes += dm.data.byteLength;
		const good = hm === hs && m && hm === m.sha256;
		if (!good) bad++;
		console.log(`  ${p.padEnd(15)} ${am.shape.join("x").padEnd(11)} ${am.dtype.padEnd(7)} ` +
			`${codecNames(m ? m.codecs : []).padEnd(40)} sha256 ${hm.slice(0, 16)} ` +
			`(source ${hs.slice(0, 16)}, manifest ${m ? m.sha256.slice(0, 16) : "-"}) ` +
			`${good ? "ok" : "DIFFERS"} ${((Date.now() - t) / 1000).toFixed(2)}s`);
	}
	console.log(`${found.length} arrays, ${nbytes} decoded bytes compared, ${bad} problems`);
	return bad === 0;
}

// -- concurrent reads --------------------------------------------------------

async function openAll(dir) {
	const r = zarr.root(new FileSystemStore(dir));
	const { out } = await arraysOf(r);
	const arrs = {};
	for (const p of out) arrs[p] = await zarr.open(r.resolve(p), { kind: "array" });
	return arrs;
}

function task(rand, arrs) {
	const names = Object.keys(arrs).sort();
	const name = names[Math.floor(rand() * names.length)];
	const a = arrs[name];
	const r = rand();
	if (r < 0.5) {
		// a chunk (for the sharded array, an inner chunk)
		const coords = a.shape.map((n, i) => Math.floor(rand() * Math.ceil(n / a.chunks[i])));
		return { name, kind: "chunk", coords };
	}
	const sel = a.shape.map((n, i) => {
		const s = Math.floor(rand() * n);
		const len = r < 0.9 ? 1 + Math.floor(rand() * 2 * a.chunks[i]) : 1;
		return [s, Math.min(n, s + len)];
	});
	return { name, kind: "region", sel };
}

async function run(t, arrs) {
	const a = arrs[t.name];
	if (t.kind === "chunk") return (await a.getChunk(t.coords)).data;
	return (await zarr.get(a, t.sel.map(([s, e]) => zarr.slice(s, e)))).data;
}

async function concurrent(src, mnt, n, seed) {
	const t0 = Date.now();
	const [am, as] = await Promise.all([openAll(mnt), openAll(src)]);
	const rand = mulberry32(seed);
	const tasks = Array.from({ length: n }, () => task(rand, am));
	const res = { pid: process.pid, reads: 0, chunks: 0, regions: 0, bytes: 0, errors: {}, first: [] };
	const count = (kind, t, e) => {
		res.errors[kind] = (res.errors[kind] || 0) + 1;
		if (res.first.length < 3)
			res.first.push(`${t.name} ${t.kind} ${JSON.stringify(t.coords || t.sel)}: ${e}`);
	};
	await Promise.all(tasks.map(async (t) => {
		try {
			const [got, want] = await Promise.all([run(t, am), run(t, as)]);
			res.bytes += got.byteLength;
			if (!bytesOf(got).equals(bytesOf(want))) count("wrong values", t, "differs from the source");
		} catch (e) {
			count(e.code || e.name || "Error", t, e.message + (e.cause ? ` (${e.cause})` : ""));
		}
		res.reads++;
		res[t.kind === "chunk" ? "chunks" : "regions"]++;
	}));
	res.seconds = (Date.now() - t0) / 1000;
	return res;
}

function summary(what, r) {
	const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
	return `${what}: ${r.reads} reads (${r.chunks} chunks, ${r.regions} regions) at once, ` +
		`${r.bytes} decoded bytes compared, errors: ${errs}, ${r.seconds.toFixed(1)}s`;
}

async function procs(src, mnt, k, n, seed) {
	const t0 = Date.now();
	const self = fileURLToPath(import.meta.url);
	const runs = Array.from({ length: k }, (_, i) => new Promise((resolve) => {
		const child = spawn(process.execPath,
			[self, "concurrent", src, mnt, String(n), String(seed + i), "--json"],
			{ stdio: ["ignore", "pipe", "inherit"] });
		let out = "";
		child.stdout.on("data", (d) => (out += d));
		child.on("close", (code) => {
			let r;
			try {
				r = JSON.parse(out);
			} catch {
				r = { reads: 0, chunks: 0, regions: 0, bytes: 0, seconds: 0, errors: { "child failed": 1 }, first: [out.slice(0, 300)] };
			}
			r.code = code;
			resolve(r);
		});
	}));
	const results = await Promise.all(runs);
	const tot = { reads: 0, chunks: 0, regions: 0, bytes: 0, errors: {}, seconds: (Date.now() - t0) / 1000 };
	for (const r of results) {
		for (const f of ["reads", "chunks", "regions", "bytes"]) tot[f] += r[f];
		for (const [e, v] of Object.entries(r.errors)) tot.errors[e] = (tot.errors[e] || 0) + v;
		for (const l of r.first) console.log(`  pid ${r.pid}: ${l}`);
		if (r.code !== 0 && !Object.keys(r.errors).length) tot.errors[`exit ${r.code}`] = 1;
	}
	const pids = new Set(results.map((r) => r.pid));
	console.log(summary(`${k} processes (${pids.size} distinct pids) x ${n}`, tot));
	return !Object.keys(tot.errors).length && tot.reads === k * n && pids.size === k;
}

async function main() {
	const [mode, ...a] = process.argv.slice(2);
	let ok;
	if (mode === "full" && a.length === 3) ok = await full(...a);
	else if (mode === "concurrent" && (a.length === 4 || a.length === 5)) {
		const r = await concurrent(a[0], a[1], Number(a[2]), Number(a[3]));
		ok = !Object.keys(r.errors).length && r.reads === Number(a[2]);
		if (a[4] === "--json") console.log(JSON.stringify(r));
		else {
			for (const l of r.first) console.log(`  ${l}`);
			console.log(summary(`1 process, Promise.all of ${a[2]}`, r));
		}
	} else if (mode === "procs" && a.length === 5)
		ok = await procs(a[0], a[1], Number(a[2]), Number(a[3]), Number(a[4]));
	else {
		console.error("usage: readv3.mjs full SRC MNT MANIFEST | concurrent SRC MNT N SEED [--json] | procs SRC MNT PROCS N SEED");
		process.exit(2);
	}
	process.exit(ok ? 0 : 1);
}

main().catch((e) => {
	console.error("readv3.mjs:", e);
	process.exit(1);
});
