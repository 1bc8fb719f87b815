import { test } from "node:test";
import assert from "node:assert/strict";
import { fromVectors } from "../../src/data/activation-set.js";
import { Codes } from "../../src/dictionaries/codes.js";

const dense = Float32Array.from([0, 2, 0, 1, /**/ 0, 0, 0, 0, /**/ 3, 0.5, 0, 0]);
const acts = fromVectors(new Float32Array(6), 2, { token: ["a", "<b>", "c"], doc: Int32Array.from([7, 7, 8]) });
const codes = Codes.fromDense(dense, 3, 4, acts);

test("Codes keep only the active entries, aligned with the input rows", () => {
  assert.deepEqual([...codes.indptr], [0, 2, 2, 4]);
  assert.deepEqual([...codes.indices], [1, 3, 0, 1]);
  assert.deepEqual([...codes.toDense()], [...dense]);
  assert.deepEqual([...codes.density()], [1 / 3, 2 / 3, 0, 1 / 3]);
  assert.equal(codes.l0(), 4 / 3);
  assert.deepEqual([...codes.feature(1)], [2, 0, 0.5]);
  assert.deepEqual(codes.mostFrequent(2), [1, 0]);
});

test("top(feature, n) gives the strongest rows with their metadata", () => {
  assert.deepEqual(codes.top(1, 5), [
    { row: 0, activation: 2, token: "a", doc: 7 },
    { row: 2, activation: 0.5, token: "c", doc: 8 },
  ]);
  assert.throws(() => codes.top(4), /feature 4 out of range 0\.\.3/);
});

test("toArrow: input metadata plus List<Int32> ids and List<Float32> activations per row", () => {
  const t = codes.toArrow();
  assert.equal(t.numRows, 3);
  assert.deepEqual(t.schema.fields.map((f) => f.name), ["token", "doc", "feature_ids", "feature_acts"]);
  assert.deepEqual([...t.getChild("feature_ids")!.get(2)!], [0, 1]);
  assert.deepEqual([...t.getChild("feature_acts")!.get(2)!], [3, 0.5]);
  assert.equal(t.getChild("feature_ids")!.get(1)!.length, 0);
});
