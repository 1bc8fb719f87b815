// fl.load over every format: the same activations read back identically, metadata joined, and
// non-finite values reported or dropped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fromVectors } from "../../src/data/activation-set.js";
import { load } from "../../src/data/load.js";
import { ActivationStream } from "../../src/data/stream.js";
import { writeNpy } from "../../src/io/npy.js";
import { writeNpz } from "../../src/io/npz.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { fromFloat32 } from "../../src/io/ndarray.js";

const dir = mkdtempSync(join(tmpdir(), "featurelab-formats-"));
const N = 12, D = 5;
const values = Float32Array.from({ length: N * D }, (_, i) => Math.sin(i) * 3);
const acts = fromVectors(values, D, { doc: Int32Array.from({ length: N }, (_, i) => i >> 2), tok: Array.from({ length: N }, (_, i) => `t${i}`) });

test("Arrow and Parquet round-trip vectors and metadata", async () => {
  for (const ext of ["arrow", "parquet"]) {
    const file = join(dir, `rt.${ext}`);
    await acts.write(file);
    const back = await load(file);
    assert.deepEqual([...back.vectors], [...values], ext);
    assert.deepEqual(Array.from(back.column("doc")).map(Number), Array.from(acts.column("doc")).map(Number), ext);
    assert.deepEqual(Array.from(back.column("tok")), Array.from(acts.column("tok")), ext);
  }
});

test("a folder of Parquet shards loads in natural order", async () => {
  const shards = join(dir, "shards");
  mkdirSync(shards);
  await acts.take([8, 9, 10, 11]).write(join(shards, "part-10.parquet"));
  await acts.take([0, 1, 2, 3]).write(join(shards, "part-1.parquet"));
  await acts.take([4, 5, 6, 7]).write(join(shards, "part-2.parquet"));
  const back = await load(shards);
  assert.deepEqual([...back.vectors], [...values]);
  const stream = await ActivationStream.open(shards);
  assert.equal(stream.numRows, N);
  const seen: number[] = [];
  for await (const b of stream.rowBatches({ size: 5 })) seen.push(...b.vectors);
  assert.deepEqual(seen, [...values]);
});

test(".npy [N, d] and [N, seq, d], .npz with metadata arrays, .safetensors in float16", async () => {
  const npy = join(dir, "a.npy");
  writeFileSync(npy, writeNpy(fromFloat32(values, [N, D], "float32")));
  assert.deepEqual([...(await load(npy)).vectors], [...values]);

  const seq = join(dir, "seq.npy");
  writeFileSync(seq, writeNpy(fromFloat32(values, [3, 4, D], "float64")));
  const s = await load(seq);
  assert.equal(s.numRows, 12);
  assert.deepEqual(Array.from(s.column("document")), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  assert.deepEqual(Array.from(s.column("position")), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  assert.ok(Math.abs(s.vectors[7] - values[7]) < 1e-6);

  const npz = join(dir, "b.npz");
  const label = { dtype: "int32" as const, shape: [N], data: Int32Array.from({ length: N }, (_, i) => i % 3) };
  writeFileSync(npz, writeNpz({ resid: fromFloat32(values, [N, D], "float32"), label }, { compress: true }));
  const z = await load(npz);
  assert.deepEqual(Array.from(z.column("label")), Array.from(label.data));
  assert.equal(z.vectorName, "resid");

  const st = join(dir, "c.safetensors");
  writeFileSync(st, writeSafetensors({ acts: fromFloat32(values, [N, D], "float16") }));
  const h = await load(st, { vector: "acts" });
  for (let i = 0; i < values.length; i++) assert.ok(Math.abs(h.vectors[i] - values[i]) <= 2e-3 * Math.abs(values[i]) + 1e-3);
  await assert.rejects(load(st, { vector: "nope" }), /c\.safetensors: no array 'nope'; arrays: acts: float16\[12, 5\]/);
  const ints = join(dir, "d.npy");
  writeFileSync(ints, writeNpy({ dtype: "int32", shape: [2, 2], data: new Int32Array(4) }));
  await assert.rejects(load(ints), /d\.npy: array 'array' has dtype int32; vectors must be float/);
});

test("a CSV or JSON table joins row by row; a wrong row count is named", async () => {
  const file = join(dir, "m.arrow");
  await acts.select("doc").write(file);
  const csv = join(dir, "labels.csv");
  writeFileSync(csv, "label,score\n" + Array.from({ length: N }, (_, i) => `${i % 2 ? "odd" : "even"},${i / 10}`).join("\n"));
  const joined = await load(file, { metadata: csv });
  assert.deepEqual(joined.columns, ["doc", "label", "score"]);
  assert.equal(joined.column("label")[3], "odd");
  const json = join(dir, "labels.json");
  writeFileSync(json, JSON.stringify({ flag: Array.from({ length: N }, (_, i) => i === 0) }));
  assert.equal((await load(file, { metadata: json })).column("flag")[0], true);
  const short = join(dir, "short.csv");
  writeFileSync(short, "label\na\nb");
  await assert.rejects(load(file, { metadata: short }), /short\.csv: has 2 rows, but .*m\.arrow has 12 vectors/);
});

test("files written by numpy load (skipped without numpy)", { skip: spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status !== 0 ? "numpy is not installed for /usr/bin/python3" : false }, async () => {
  const script = `
import numpy as np, sys
d = sys.argv[1]
x = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7)
np.save(d + "/np3d.npy", x)
np.savez(d + "/np.npz", acts=x.reshape(6, 4), label=np.arange(6))
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script, dir], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const a = await load(join(dir, "np3d.npy"));
  assert.equal(a.numRows, 6);
  assert.ok(Math.abs(a.row(5)[3] - 23 / 7) < 1e-6);
  const z = await load(join(dir, "np.npz"));
  assert.deepEqual(Array.from(z.column("label")).map(Number), [0, 1, 2, 3, 4, 5]);
});
