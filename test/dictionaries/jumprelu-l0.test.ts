// Known answer (issue 16): JumpReLU learns its thresholds, so its sparsity coefficient sets L0. On the
// Sharkey et al. toy data, normalised as SAELens normalises activations (mean norm √d), at one fixed
// budget, L0 falls strictly as λ goes 1e-3 → 1e-2 → 0.1, and by at least 5× over that range (measured:
// ≈ 117, 42, 15; with θ trained as exp(log θ) from 0.001 every feature fired at every λ). ~10 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";

test("jumprelu: L0 falls strictly with the sparsity coefficient, ≥ 5× from 1e-3 to 0.1", { timeout: 300_000 }, async () => {
  await ready();
  const acts = sharkeyToyData({ rows: 4096, features: 64, dim: 32, avgActive: 3, seed: 1 }).acts.normalize();
  const l0 = [];
  for (const l1 of [1e-3, 1e-2, 0.1]) {
    const sae = await dictionary("jumprelu", { width: 128, l1 }).fit(acts, { steps: 600, batchSize: 256, lr: 5e-3, seed: 0, progress: false });
    l0.push(sae.metrics(acts).l0);
    sae.dispose();
  }
  const shown = l0.map((v) => v.toFixed(1)).join(", ");
  assert.ok(l0[0] > l0[1] && l0[1] > l0[2], `L0 at λ = 1e-3, 1e-2, 0.1: ${shown}`);
  assert.ok(l0[0] / l0[2] >= 5, `L0 falls only ${(l0[0] / l0[2]).toFixed(2)}× from λ = 1e-3 to 0.1 (${shown})`);
});
