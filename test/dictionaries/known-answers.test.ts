// Known answers (REFERENCE.md, Toy models): on the Sharkey et al. toy data — 512 ground-truth features
// in 256 dims, ~5 active per row — ReLU and TopK dictionaries of width 1024 recover the ground truth
// with MMCS ≥ 0.95. Fixed seeds; about a minute each on two cores.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";

const toy = sharkeyToyData({ rows: 32768, features: 512, dim: 256, avgActive: 5, seed: 1 });
const truth = { values: toy.features, dim: 256 };
const schedule = { steps: 1500, batchSize: 256, lrDecay: "linear", lrDecaySteps: 300, seed: 0, progress: false } as const;

test("relu, width 1024, recovers the ground truth (MMCS ≥ 0.95)", { timeout: 600_000 }, async () => {
  await ready();
  const sae = await dictionary("relu", { width: 1024, l1: 0.05 }).fit(toy.acts, { ...schedule, lr: 4e-3 });
  const score = mmcs(truth, sae.weights.W_dec);
  assert.ok(score >= 0.95, `MMCS ${score}`);
  sae.dispose();
});

test("topk (k = 6, AuxK), width 1024, recovers the ground truth (MMCS ≥ 0.95)", { timeout: 600_000 }, async () => {
  await ready();
  const sae = await dictionary("topk", { width: 1024, k: 6 }).fit(toy.acts, { ...schedule, lr: 2e-3, deadWindowTokens: 10_000 });
  const score = mmcs(truth, sae.weights.W_dec);
  assert.ok(score >= 0.95, `MMCS ${score}`);
  sae.dispose();
});
