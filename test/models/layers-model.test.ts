import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { hooked } from "../../src/models/layers-model.js";
import { ablate } from "../../src/ablation/sweep.js";
import { ablateUnits } from "../../src/ablation/edits.js";

function classifier(): tf.Sequential {
  const m = tf.sequential({
    name: "mlp",
    layers: [tf.layers.dense({ units: 6, inputShape: [3], activation: "relu", name: "hidden", kernelInitializer: "glorotNormal", biasInitializer: "ones" }), tf.layers.dense({ units: 4, activation: "softmax", name: "out" })],
  });
  return m;
}

const X = [
  [0.5, -1, 2],
  [1, 1, 1],
  [-2, 0.3, 0.1],
  [0, 2, -1],
  [3, -0.5, 0.7],
];

test("a Sequential model: layer names are hook points; run caches them as ActivationSets and matches predict", async () => {
  await ready();
  const base = classifier();
  const model = await hooked(base);
  assert.deepEqual(model.hookNames, ["hidden", "out"]);
  const { logits, cache } = await model.run(X, { cache: ["hidden"], batchSize: 2 });
  const predicted = base.predict(tf.tensor2d(X)) as tf.Tensor;
  // Softmax outputs come back as log-probabilities.
  const back = tf.exp(logits!);
  assert.ok(Math.max(...Array.from(tf.abs(tf.sub(back, predicted)).dataSync())) < 1e-6);
  const hidden = cache.get("hidden");
  assert.equal(hidden.numRows, 5);
  assert.equal(hidden.dim, 6);
  assert.deepEqual(Array.from(hidden.column("document") as Int32Array), [0, 1, 2, 3, 4]);
  const direct = (base.layers[0].apply(tf.tensor2d(X)) as tf.Tensor).dataSync();
  assert.ok(Math.max(...Array.from(hidden.vectors, (v, i) => Math.abs(v - direct[i]))) < 1e-6);
  tf.dispose([logits!, back, predicted]);
});

test("edits and ablation sweeps work on a functional model", async () => {
  await ready();
  const input = tf.input({ shape: [3] });
  const a = tf.layers.dense({ units: 5, activation: "tanh", name: "a" }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 5, name: "b" }).apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: "sum" }).apply([a, b]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, name: "logits" }).apply(sum) as tf.SymbolicTensor;
  const base = tf.model({ inputs: input, outputs: out, name: "branches" });
  const model = await hooked(base);
  assert.deepEqual(model.hookNames, ["a", "b", "sum", "logits"]);
  // Zeroing branch "b" leaves a's contribution: the output is the last layer applied to a alone.
  const { logits } = await model.run(X, { hooks: { b: (x) => tf.zerosLike(x) } });
  const aOnly = base.layers.find((l) => l.name === "logits")!.apply(base.layers.find((l) => l.name === "a")!.apply(tf.tensor2d(X))) as tf.Tensor;
  assert.ok(Math.max(...Array.from(tf.abs(tf.sub(logits!, aOnly)).dataSync())) < 1e-6);

  const labels = [0, 2, 1, 1, 0];
  const sweep = await ablate(model, "sum", { input: X, labels, units: [0, 3], metric: ["ce", "kl"] });
  assert.deepEqual(sweep.units.map((u) => u.label), ["sum[0]", "sum[3]"]);
  const ablated = (await model.run(X, { hooks: { sum: ablateUnits({ units: [3] }) } })).logits!;
  const ce = tf.tidy(() => {
    const lp = tf.logSoftmax(ablated).arraySync() as number[][];
    return labels.reduce((s, y, i) => s - lp[i][y], 0) / labels.length;
  });
  const row = sweep.rows.find((r) => r.unit === "sum[3]" && r.metric === "ce")!;
  assert.ok(Math.abs(row.ablated - ce) < 1e-5);
  await assert.rejects(model.run([[1, 2]]), /takes input \[batch,3\]; got \[1,2\]/);
  tf.dispose([logits!, aOnly, ablated]);
});
