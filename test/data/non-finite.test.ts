// One rule for NaN and ±Inf wherever data enters: refused with the row and column of the first one
// (and the file, when there is one), or dropped / kept where the entry takes { nonFinite }.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fl from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "featurelab-nonfinite-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const N = 12, D = 5;
const clean = Float32Array.from({ length: N * D }, (_, i) => Math.sin(i) * 3);
const bad = clean.slice();
bad[2 * D + 1] = NaN; // row 2, column 1
bad[7 * D] = Infinity; // row 7, column 0
const FIRST = /row 2, column 1 is NaN \(2 of 12 rows hold NaN or ±Inf\)/;

test("fl.fromVectors refuses NaN/±Inf naming the row and column, drops or keeps those rows when asked", () => {
  assert.throws(() => fl.fromVectors(bad, D), new RegExp(`fromVectors: ${FIRST.source}; pass \\{ nonFinite: "drop" \\}`));
  const dropped = fl.fromVectors(bad, D, { doc: Array.from({ length: N }, (_, i) => i) }, { nonFinite: "drop" });
  assert.equal(dropped.numRows, 10);
  assert.deepEqual(dropped.column("doc").slice(0, 3), [0, 1, 3], "the metadata of dropped rows goes with them");
  assert.ok(dropped.vectors.every(Number.isFinite));
  assert.equal(fl.fromVectors(bad, D, {}, { nonFinite: "keep" }).numRows, N);
  assert.throws(() => fl.fromVectors(bad, D, {}, { nonFinite: "skip" as never }), /nonFinite must be one of "error", "drop", "keep", got "skip"/);
});

test("fl.load refuses a file with NaN/±Inf naming the file, row and column, or drops or keeps them", async () => {
  for (const ext of [".arrow", ".parquet", ".npy"]) {
    const file = join(dir, `nan${ext}`);
    if (ext === ".npy") {
      const { writeNpy } = await import("../../src/io/npy.js");
      const { fromFloat32 } = await import("../../src/io/ndarray.js");
      writeFileSync(file, writeNpy(fromFloat32(bad, [N, D], "float32")));
    } else await fl.fromVectors(bad, D, {}, { nonFinite: "keep" }).write(file);
    await assert.rejects(fl.load(file), (err: Error) => err.message.includes(file) && FIRST.test(err.message), ext);
    const dropped = await fl.load(file, { nonFinite: "drop" });
    assert.equal(dropped.numRows, 10, ext);
    assert.ok(dropped.vectors.every(Number.isFinite), ext);
    assert.equal((await fl.load(file, { nonFinite: "keep" })).numRows, N, ext);
  }
});

test("fl.open refuses NaN/±Inf as it streams, naming the file, chunk, row and column, or drops those rows", async () => {
  // Two record batches / row groups: the bad rows sit in the second.
  const rows = 40;
  const values = Float32Array.from({ length: rows * D }, (_, i) => Math.cos(i));
  values[(25 * D) + 3] = -Infinity;
  const set = fl.fromVectors(values, D, {}, { nonFinite: "keep" });
  const arrow = join(dir, "stream.arrow");
  const { tableToIPC, Table } = await import("apache-arrow");
  const t = set.toArrow();
  writeFileSync(arrow, tableToIPC(new Table([...t.slice(0, 20).batches, ...t.slice(20).batches]), "file"));
  const stream = await fl.open(arrow);
  const drain = async (s: fl.ActivationStream) => {
    let n = 0, finite = true;
    for await (const b of s.rowBatches({ size: 16 })) {
      finite &&= b.vectors.every(Number.isFinite);
      n += b.rows;
    }
    return { n, finite };
  };
  await assert.rejects(drain(stream), (err: Error) => err.message.includes(arrow) && /record batch 1, row 5, column 3 is -Infinity \(1 of 20 rows there hold NaN or ±Inf\); pass \{ nonFinite: "drop" \}/.test(err.message));
  assert.deepEqual(await drain(await fl.open(arrow, { nonFinite: "drop" })), { n: rows - 1, finite: true });
  assert.deepEqual(await drain(await fl.open(arrow, { nonFinite: "keep" })), { n: rows, finite: false });

  // Parquet: the chunk is a row group.
  const parquet = join(dir, "stream.parquet");
  await set.write(parquet);
  await assert.rejects(drain(await fl.open(parquet)), (err: Error) => err.message.includes(parquet) && /row group \d+, row \d+, column 3 is -Infinity/.test(err.message));
  assert.deepEqual(await drain(await fl.open(parquet, { nonFinite: "drop" })), { n: rows - 1, finite: true });
});

test("rows and tensors handed to geometry, rdm, fit and metrics: refused naming the row and column", async () => {
  const kept = fl.fromVectors(bad, D, { stimulus: Array.from({ length: N }, (_, i) => `s${i % 3}`) }, { nonFinite: "keep" });
  const tensor = fl.tf.tensor2d(bad, [N, D]);
  const good = fl.fromVectors(clean, D);
  assert.throws(() => fl.cka(tensor, good), new RegExp(`CKA: X: ${FIRST.source}`));
  assert.throws(() => fl.cka(good, kept), FIRST);
  assert.throws(() => fl.rdm(tensor), new RegExp(`rdm: .*${FIRST.source}`));
  assert.throws(() => fl.rdm(kept, { by: "stimulus" }), FIRST);
  assert.throws(() => fl.umap(tensor, { nNeighbors: 3 }), FIRST);
  await assert.rejects(fl.dictionary("relu", { width: 8 }).fit(kept, { steps: 2, progress: false }), new RegExp(`fit: ${FIRST.source}; drop those rows first`));
  const sae = await fl.dictionary("relu", { width: 8 }).fit(good, { steps: 2, progress: false });
  assert.throws(() => sae.metrics(kept), new RegExp(`Dictionary.metrics: ${FIRST.source}`));
  await assert.rejects(fl.dictionary("transcoder", { width: 8 }).fit({ input: good, output: kept }, { steps: 2, progress: false }), new RegExp(`transcoder output: ${FIRST.source}`));
  tensor.dispose();
});
