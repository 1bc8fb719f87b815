// fl.open(dir, { worker, workers, seed }): N processes reading one dataset each take a disjoint share,
// together all of it, computed the same way by each (shard index and seed) — shards of a folder, row
// groups of a single file. Each row's vector holds its global row number, so shares can be checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ActivationStream } from "../../src/data/stream.js";
import { writeParquet } from "../../src/io/parquet.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-stream-workers-");
const D = 3;

async function shard(file: string, first: number, rows: number, rowGroupSize = rows) {
  const vectors = new Float32Array(rows * D).map((_, k) => first + Math.floor(k / D));
  await writeParquet(file, { vectors, dim: D, vectorName: "v", metadata: {} }, { rowGroupSize });
}

async function rowsOf(path: string, opts: Parameters<typeof ActivationStream.open>[1]): Promise<{ rows: number[]; declared: number | undefined }> {
  const stream = await ActivationStream.open(path, opts);
  const rows: number[] = [];
  for await (const b of stream.rowBatches({ size: 7 })) for (let r = 0; r < b.rows; r++) rows.push(b.vectors[r * D]);
  return { rows: rows.sort((a, b) => a - b), declared: stream.numRows };
}

test("shards of a folder are dealt to workers: disjoint shares that cover every row, the same for every worker that computes them", async () => {
  const folder = join(dir, "shards");
  mkdirSync(folder);
  for (let s = 0; s < 5; s++) await shard(join(folder, `part-${s}.parquet`), s * 10, 10);
  const all = Array.from({ length: 50 }, (_, i) => i);
  for (const seed of [undefined, 7]) {
    const shares = [];
    for (let w = 0; w < 3; w++) {
      const share = await rowsOf(folder, { worker: w, workers: 3, seed });
      assert.equal(share.declared, share.rows.length, "numRows is the share's");
      assert.deepEqual((await rowsOf(folder, { worker: w, workers: 3, seed })).rows, share.rows, "the same share every time");
      shares.push(share.rows);
    }
    assert.deepEqual(shares.flat().sort((a, b) => a - b), all, `seed ${seed}: disjoint and complete`);
    assert.deepEqual(shares.map((s) => s.length / 10), [2, 2, 1], "whole shards, round-robin");
  }
  const plain = (await rowsOf(folder, { worker: 0, workers: 3 })).rows;
  assert.deepEqual(plain, [...all.slice(0, 10), ...all.slice(30, 40)], "natural order: shards 0 and 3");
  assert.notDeepEqual((await rowsOf(folder, { worker: 0, workers: 3, seed: 7 })).rows, plain, "a seed permutes which shards a worker gets");
});

test("a single file is split by row groups", async () => {
  const file = join(dir, "one.parquet");
  await shard(file, 0, 40, 10);
  const a = await rowsOf(file, { worker: 0, workers: 2 });
  const b = await rowsOf(file, { worker: 1, workers: 2 });
  assert.deepEqual(a.rows, [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
  assert.deepEqual([...a.rows, ...b.rows].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
});

test("a split that cannot be made is refused, naming the path and why", async () => {
  const folder = join(dir, "two");
  mkdirSync(folder);
  for (let s = 0; s < 2; s++) await shard(join(folder, `part-${s}.parquet`), s * 10, 10);
  await assert.rejects(ActivationStream.open(folder, { worker: 0, workers: 3 }), /two: holds 2 shards, too few for 3 workers/);
  await assert.rejects(ActivationStream.open(folder, { worker: 3, workers: 3 }), /worker must be an integer from 0 to 2, got 3/);
  await assert.rejects(ActivationStream.open(folder, { worker: 0 }), /workers must be a positive integer, got undefined/);
  await assert.rejects(ActivationStream.open(folder, { seed: 1 }), /seed permutes the split between workers; it needs \{ worker, workers \}/);
});
