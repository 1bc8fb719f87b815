import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { lastFit } from "../../src/training/fit.js";
import { mmcs } from "../../src/metrics/mmcs.js";

const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });

test("a ReLU SAE recovers known ground-truth features", async () => {
  await ready();
  const sae = await dictionary("relu", { width: 96, l1: 0.2 }).fit(toy.acts, { steps: 1500, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const m = sae.metrics(toy.acts);
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  assert.ok(score > 0.95, `MMCS to ground truth ${score}`);
  assert.ok(m.fvu < 0.2, `FVU ${m.fvu}`);
  assert.ok(m.l0 > 1.5 && m.l0 < 8, `L0 ${m.l0}`);
  assert.ok(sae.history.length > 10);
  assert.ok(sae.history[sae.history.length - 1].loss < sae.history[0].loss, "loss went down");
  assert.deepEqual(sae.weights.W_dec.shape, [96, 24]);
  assert.deepEqual(sae.weights.W_enc.shape, [24, 96]);
});

test("the same seed repeats a run exactly; another seed does not", async () => {
  await ready();
  const spec = dictionary("relu", { width: 32, l1: 0.1 });
  const opts = { steps: 40, batchSize: 64, lr: 1e-3, progress: false } as const;
  const a = await spec.fit(toy.acts, { ...opts, seed: 7 });
  const b = await spec.fit(toy.acts, { ...opts, seed: 7 });
  const c = await spec.fit(toy.acts, { ...opts, seed: 8 });
  assert.deepEqual(a.weights.W_dec.dataSync(), b.weights.W_dec.dataSync());
  assert.notDeepEqual(a.weights.W_dec.dataSync(), c.weights.W_dec.dataSync());
});

test("a NaN loss stops training, restores the last good weights and says so", async () => {
  await ready();
  const sae = await dictionary("relu", { width: 16, l1: 0.1 }).fit(toy.acts, { steps: 200, batchSize: 32, lr: 1e30, seed: 0, progress: false, logEvery: 1 });
  assert.match(sae.note ?? "", /loss became (NaN|Infinity) at step \d+; restored the weights of step \d+ and stopped/);
  assert.ok(sae.weights.W_dec.dataSync().every(Number.isFinite));
});

test("an interrupt stops at the next step and keeps the dictionary trained so far", async () => {
  await ready();
  let updates = 0;
  const sink = {
    update() {
      if (++updates === 1) process.emit("SIGINT", "SIGINT");
    },
  };
  const sae = await dictionary("relu", { width: 16, l1: 0.1 }).fit(toy.acts, { steps: 5000, batchSize: 32, seed: 0, progress: sink });
  assert.match(sae.note ?? "", /interrupted at step \d+/);
  assert.ok((sae.cfg.training as { steps: number }).steps < 5000);
  assert.equal(lastFit(), sae, "kept for a notebook whose cell the kernel abandoned");
});

test("a transcoder needs { input, output }, and a plain dictionary refuses it", async () => {
  await assert.rejects(dictionary("transcoder", { width: 4 }).fit(toy.acts), /transcoder trains on \{ input, output \} sets/);
  await assert.rejects(dictionary("relu", { width: 4 }).fit({ input: toy.acts, output: toy.acts }), /relu trains on one set of activations/);
});

test("bad options are refused with a clear message", () => {
  assert.throws(() => dictionary("nope", { width: 4 }), /unknown dictionary architecture 'nope'; known: relu/);
  assert.throws(() => dictionary("relu", { width: 0 }), /width must be a positive integer/);
  assert.throws(() => dictionary("relu", { width: 4, l1: -1 }), /l1 must be ≥ 0/);
  assert.throws(() => dictionary("jumprelu", { width: 4, bandwith: 0.1 }), /dictionary\("jumprelu"\): unknown option 'bandwith' — did you mean 'bandwidth'\? Its options are: width, l1, /);
  assert.throws(() => dictionary("gated", { width: 4, k: 3 }), /dictionary\("gated"\): unknown option 'k'\. Its options are: width, l1\./);
});
