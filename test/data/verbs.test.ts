import { test } from "node:test";
import assert from "node:assert/strict";
import * as aq from "arquero";
import { ready } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";

const N = 40;
const acts = fromVectors(Float32Array.from({ length: N * 2 }, (_, i) => i), 2, {
  doc: Int32Array.from({ length: N }, (_, i) => Math.floor(i / 10)),
  pos: Int32Array.from({ length: N }, (_, i) => i % 10),
  label: Array.from({ length: N }, (_, i) => (i % 3 === 0 ? "a" : "b")),
});
const firstValues = (s: typeof acts) => Array.from({ length: s.numRows }, (_, r) => s.row(r)[0]);

test("select, derive and orderby act on metadata and keep vectors with their rows", () => {
  assert.deepEqual(acts.select("doc").columns, ["doc"]);
  assert.throws(() => acts.select("nope"), /no metadata column 'nope'/);
  const d = acts.derive({ first: (r: any) => r.pos === 0 });
  assert.equal(Array.from(d.column("first")).filter(Boolean).length, 4);
  const sorted = acts.orderby(aq.desc("pos"), "doc");
  assert.deepEqual(Array.from(sorted.column("pos")).slice(0, 4), [9, 9, 9, 9]);
  assert.deepEqual(firstValues(sorted).slice(0, 4), [18, 38, 58, 78]);
});

test("groupby + sample draws n rows per group, seeded", () => {
  const s1 = acts.groupby("doc").sample(3, { seed: 1 });
  const s2 = acts.groupby("doc").sample(3, { seed: 1 });
  const s3 = acts.groupby("doc").sample(3, { seed: 2 });
  assert.equal(s1.numRows, 12);
  assert.deepEqual(Array.from(s1.column("doc")), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  assert.deepEqual(firstValues(s1), firstValues(s2));
  assert.notDeepEqual(firstValues(s1), firstValues(s3));
  for (let r = 0; r < s1.numRows; r++) assert.equal(s1.row(r)[0], 2 * (Number(s1.column("doc")[r]) * 10 + Number(s1.column("pos")[r])));
  assert.deepEqual(acts.groupby("label").counts(), [{ label: "a", rows: 14 }, { label: "b", rows: 26 }]);
  assert.equal(acts.sample(5, { seed: 0 }).numRows, 5);
});

test("split by a column, or by fraction with whole groups on one side", () => {
  const byLabel = acts.split({ by: "label" });
  assert.deepEqual(Object.keys(byLabel), ["a", "b"]);
  assert.equal(byLabel.a.numRows + byLabel.b.numRows, N);
  const { train, test: held } = acts.split({ fraction: 0.75, seed: 3 });
  assert.equal(train.numRows, 30);
  assert.equal(held.numRows, 10);
  const all = [...firstValues(train), ...firstValues(held)].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: N }, (_, i) => 2 * i), "every row once");
  const byDoc = acts.split({ fraction: 0.5, seed: 3, groups: "doc" });
  const trainDocs = new Set(Array.from(byDoc.train.column("doc")));
  assert.ok(Array.from(byDoc.test.column("doc")).every((d) => !trainDocs.has(d)), "no document on both sides");
  assert.throws(() => acts.split({ fraction: 1.5 }), /between 0 and 1/);
});

test("normalize scales the mean norm to √d and records the factor", () => {
  const n = acts.normalize();
  let total = 0;
  for (let r = 0; r < n.numRows; r++) total += Math.hypot(...n.row(r));
  assert.ok(Math.abs(total / n.numRows - Math.SQRT2) < 1e-5);
  assert.ok(n.normalization && Math.abs(n.normalization.scale * 1 - n.row(1)[0] / acts.row(1)[0]) < 1e-6);
  const other = acts.head(4).normalize({ scale: n.normalization!.scale });
  assert.ok(Math.abs(other.row(1)[0] - n.row(1)[0]) < 1e-6, "a given scale is applied as is");
  assert.throws(() => fromVectors(new Float32Array(4), 2).normalize(), /every vector is zero/);
});

test("batches: every row once per pass, shuffled by seed", async () => {
  await ready();
  const seen: number[] = [];
  for await (const t of acts.batches({ size: 16, shuffle: true, seed: 4 })) {
    assert.equal(t.shape[1], 2);
    const v = t.dataSync();
    for (let i = 0; i < t.shape[0]; i++) seen.push(v[2 * i]);
    t.dispose();
  }
  assert.equal(seen.length, N);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => 2 * i));
  assert.notDeepEqual(seen, [...seen].sort((a, b) => a - b));
});

test("schema lists metadata types and the vector column", () => {
  assert.deepEqual(acts.schema(), [
    { name: "doc", type: "Int32" },
    { name: "pos", type: "Int32" },
    { name: "label", type: "Utf8" },
    { name: "vector", type: "FixedSizeList<Float32>[2]" },
  ]);
});
