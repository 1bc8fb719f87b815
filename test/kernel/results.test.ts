// The bundles a cell's last value is shown with when featurelab has not attached its own displays:
// Arrow and arquero tables as HTML tables (escaped, first rows, vectors previewed), tfjs tensors with
// shape, dtype and a preview, toMimeBundle() objects as they say, everything else util.inspect text.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as aq from "arquero";
import { makeData, makeVector, tableFromArrays, Table, FixedSizeList, Field, Float32 } from "apache-arrow";
import { attachRepresenter, bundleOf } from "../../src/kernel/results.js";

attachRepresenter(undefined);

test("plain values: util.inspect text, strings quoted", async () => {
  assert.deepEqual(await bundleOf(42), { "text/plain": "42" });
  assert.deepEqual(await bundleOf("hi"), { "text/plain": "'hi'" });
  assert.deepEqual(await bundleOf({ a: [1, 2] }), { "text/plain": "{ a: [ 1, 2 ] }" });
  assert.deepEqual(await bundleOf(null), { "text/plain": "null" });
});

test("an Arrow table: an HTML table with a caption, escaped cells, vectors previewed", async () => {
  const t = tableFromArrays({ id: Int32Array.from([1, 2, 3]), label: ["a", "<b>", "c"] });
  const b = await bundleOf(t);
  assert.match(b["text/plain"] as string, /^Arrow table: 3 rows × 2 columns\nid\s+label\n1\s+a/);
  assert.match(b["text/html"] as string, /<td>&lt;b&gt;<\/td>/);
  const child = makeData({ type: new Float32(), length: 6, data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  const vectors = new Table({ v: makeVector(makeData({ type: new FixedSizeList(3, new Field("x", new Float32())), length: 2, nullCount: 0, child })) });
  const vb = await bundleOf(vectors);
  assert.match(vb["text/html"] as string, /<td>\[1, 2, 3\]<\/td>/);
  const many = tableFromArrays({ i: Int32Array.from({ length: 100 }, (_, i) => i) });
  assert.match((await bundleOf(many))["text/plain"] as string, /100 rows × 1 column \(first 20 shown\)/);
});

test("an arquero table and a tfjs tensor", async () => {
  const a = await bundleOf(aq.table({ x: [1, 2], y: ["p", "q"] }));
  assert.match(a["text/plain"] as string, /^arquero table: 2 rows × 2 columns/);
  assert.match(a["text/html"] as string, /<th>x<\/th><th>y<\/th>/);
  await tf.setBackend("cpu");
  const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const tb = await bundleOf(t);
  assert.match(tb["text/plain"] as string, /^Tensor float32 \[2, 3\] \(6 values\)\n\[\[1, 2, 3\],\s*\[4, 5, 6\]\]/);
  assert.match(tb["text/html"] as string, /^<pre>Tensor float32/);
  t.dispose();
});

test("toMimeBundle() objects, featurelab's representer when attached, and a failing display falls back to text", async () => {
  assert.deepEqual(await bundleOf({ toMimeBundle: () => ({ "text/html": "<i>x</i>", "text/plain": "x", "not a mime": 1 }) }), { "text/html": "<i>x</i>", "text/plain": "x" });
  attachRepresenter((x) => ({ "text/plain": `represented ${typeof x}`, "image/png": new Uint8Array([1, 2]) }));
  try {
    assert.deepEqual(await bundleOf({}), { "text/plain": "represented object", "image/png": "AQI=" });
    assert.deepEqual(await bundleOf(7), { "text/plain": "7" }, "primitives never go to the representer");
    attachRepresenter(() => {
      throw new Error("no display");
    });
    assert.match((await bundleOf({ a: 1 }))["text/plain"] as string, /\{ a: 1 \}\n\(its rich display failed: no display\)/);
  } finally {
    attachRepresenter(undefined);
  }
});
