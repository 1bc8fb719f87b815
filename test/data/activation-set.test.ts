import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";

test("fromVectors builds rows, dim and metadata", async () => {
  await ready();
  const acts = fromVectors(new Float32Array([1, 2, 3, 4, 5, 6]), 3, { label: ["a", "b"], doc: [0, 1] });
  assert.equal(acts.numRows, 2);
  assert.equal(acts.dim, 3);
  assert.deepEqual([...acts.row(1)], [4, 5, 6]);
  assert.deepEqual(Array.from(acts.column("label")), ["a", "b"]);
  const t = acts.toTensor();
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual([...t.dataSync()], [1, 2, 3, 4, 5, 6]);
  t.dispose();
});

test("fromVectors rejects bad shapes and metadata, naming the problem", () => {
  assert.throws(() => fromVectors(new Float32Array(7), 3), /7 values do not split into rows of dim 3/);
  assert.throws(() => fromVectors(new Float32Array(6), 0), /dim must be a positive integer/);
  assert.throws(() => fromVectors(new Float32Array(6), 3, { label: ["a"] }), /metadata column 'label' has 1 values, expected 2/);
});

test("filter keeps vectors and metadata together", async () => {
  await ready();
  const acts = fromVectors(Float32Array.from({ length: 12 }, (_, i) => i), 2, { split: ["train", "test", "train", "test", "train", "test"] });
  const train = acts.filter((d: any) => d.split === "train");
  assert.equal(train.numRows, 3);
  assert.deepEqual([...train.vectors], [0, 1, 4, 5, 8, 9]);
  assert.deepEqual(Array.from(train.column("split")), ["train", "train", "train"]);
  const few = acts.filter((d: any, $: any) => d.split === $.s, { s: "test" });
  assert.deepEqual([...few.vectors], [2, 3, 6, 7, 10, 11]);
  assert.equal(acts.numRows, 6, "the original set is unchanged");
});

test("toArrow gives a FixedSizeList<Float32> vector column next to the metadata", () => {
  const acts = fromVectors(new Float32Array([1, 2, 3, 4]), 2, { id: [7, 8] });
  const t = acts.toArrow();
  assert.equal(t.numRows, 2);
  assert.equal(String(t.schema.fields.find((f) => f.name === "vector")!.type), "FixedSizeList[2]<Float32>");
  assert.deepEqual([...t.getChild("vector")!.get(1)!], [3, 4]);
});

test("an unknown metadata column is named in the error", () => {
  const acts = fromVectors(new Float32Array(4), 2, { id: [1, 2] });
  assert.throws(() => acts.column("nope"), /no metadata column 'nope'; columns: id/);
  assert.ok(tf);
});
