import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { reconstructionStats, type Reconstructor } from "../../src/metrics/reconstruction.js";
import { quantileBins, suppression, Suppression } from "../../src/metrics/suppression.js";
import { suppressionPlot } from "../../src/display/plots/features/suppression-plot.js";
import { represent } from "../../src/display/core/represent.js";

const close = (a: number, b: number, what: string, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${what}: ${a} vs ${b}`);

test("x̂ = 0.8·x has γ = 0.8 and L2 ratio 0.8, overall and in every bin", async () => {
  await ready();
  const shrink: Reconstructor = { width: 3, encodeTensor: (x) => tf.relu(x), decodeTensor: (f) => tf.mul(f, 0.8) };
  const n = 50;
  const X = Float32Array.from({ length: n * 3 }, (_, i) => 0.1 + ((i * 7919) % 97) / 10);
  const acts = fromVectors(X, 3);
  const s = suppression(shrink, acts, { by: ["norm", "activation", "frequency"], bins: 5 });
  for (const r of s.rows) {
    close(r.gamma, 0.8, `γ ${r.grouping} ${r.bin}`);
    close(r.l2Ratio, 0.8, `L2 ratio ${r.grouping} ${r.bin}`);
    close(r.cosine, 1, `cosine ${r.grouping} ${r.bin}`);
  }
  assert.equal(s.overall.rows, n);
  assert.equal(s.by("norm").length, 5);
  assert.equal(s.by("norm").reduce((a, r) => a + r.rows, 0), n);
  // The overall row agrees with sae.metrics' γ and L2 ratio.
  const { metrics } = reconstructionStats(shrink, acts);
  close(s.overall.gamma, metrics.shrinkage, "γ vs metrics");
  close(s.overall.l2Ratio, metrics.l2Ratio, "L2 ratio vs metrics");
  close(s.overall.mse, metrics.mse, "MSE vs metrics");
});

test("γ = argmin_γ E‖x̂/γ − x‖² on a generic reconstruction", async () => {
  await ready();
  const noisy: Reconstructor = { width: 2, encodeTensor: (x) => tf.relu(x), decodeTensor: (f) => tf.add(tf.mul(f, 0.7), 0.05) };
  const X = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i) + 1.2);
  const acts = fromVectors(X, 2);
  const g = suppression(noisy, acts, { by: [] }).overall.gamma;
  const H = Array.from(X, (v) => 0.7 * v + 0.05);
  const loss = (c: number) => H.reduce((a, h, i) => a + (h / c - X[i]) ** 2, 0);
  assert.ok(loss(g) <= loss(g * 1.001) && loss(g) <= loss(g * 0.999), `γ ${g} is not the minimiser`);
});

test("rows are binned by strength and grouped by their most active feature's frequency", async () => {
  await ready();
  // Feature 0 is reconstructed at half size, feature 1 exactly; feature 0 fires on 8 of 11 rows, feature 1 on 2.
  const halfFirst: Reconstructor = { width: 2, encodeTensor: (x) => tf.relu(x), decodeTensor: (f) => tf.mul(f, tf.tensor1d([0.5, 1])) };
  const rows = [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0], [7, 0], [8, 0], [0, 1], [0, 3], [0, 0]];
  const acts = fromVectors(Float32Array.from(rows.flat()), 2);
  const s = suppression(halfFirst, acts, { by: ["frequency", "norm"], bins: 2 });
  const freq = s.by("frequency");
  assert.deepEqual(freq.map((r) => [r.bin, r.rows]), [[-1, 1], [0, 2], [1, 8]]);
  close(freq[1].mean, Math.log10(2 / 11), "rarer feature's log10 frequency");
  close(freq[2].mean, Math.log10(8 / 11), "commoner feature's log10 frequency");
  close(freq[1].gamma, 1, "γ of rows led by feature 1");
  close(freq[2].gamma, 0.5, "γ of rows led by feature 0");
  close(freq[2].l2Ratio, 0.5, "L2 ratio of rows led by feature 0");
  // Overall: Σ‖x̂‖² / Σ x̂·x by hand.
  const a2 = [1, 2, 3, 4, 5, 6, 7, 8].reduce((t, a) => t + a * a, 0);
  close(s.overall.gamma, (0.25 * a2 + 10) / (0.5 * a2 + 10), "overall γ");
  // The all-zero row counts in γ and MSE but not in the L2 ratio.
  close(s.overall.l2Ratio, (8 * 0.5 + 2) / 10, "overall L2 ratio");
  // Norm halves: the 0-norm row and the 5 smallest, then the rest; ties of 1 stay together.
  const norm = s.by("norm");
  assert.equal(norm.length, 2);
  assert.ok(norm[0].hi < norm[1].lo);
  assert.equal(norm[0].rows + norm[1].rows, 11);
});

test("quantile bins: equal counts without ties, tied values share a bin", () => {
  const deciles = quantileBins(Float64Array.from({ length: 100 }, (_, i) => 99 - i), 10);
  for (let b = 0; b < 10; b++) assert.equal(deciles.filter((v) => v === b).length, 10);
  assert.equal(deciles[0], 9);
  assert.equal(deciles[99], 0);
  const tied = quantileBins([1, 1, 1, 1, 1, 1, 2, 3], 4);
  assert.deepEqual(Array.from(tied), [0, 0, 0, 0, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(quantileBins([5, 5, 5], 10)), [0, 0, 0]);
});

test("suppression has a figure and a table display, and several results share a figure", async () => {
  await ready();
  const shrink: Reconstructor = { width: 2, encodeTensor: (x) => tf.relu(x), decodeTensor: (f) => tf.mul(f, 0.8) };
  const acts = fromVectors(Float32Array.from({ length: 80 }, (_, i) => (i % 9) + 0.5), 2);
  const s = suppression(shrink, acts);
  assert.ok(s instanceof Suppression);
  const fig = suppressionPlot({ before: s, "<after>": s });
  // 2 metrics × 2 groupings × 2 dictionaries.
  assert.equal(fig.data.length, 8);
  assert.ok(fig.data.every((t) => !String(t.name).includes("<")), "names are escaped");
  const bundle = represent(s);
  assert.ok(String(bundle["text/html"]).includes("featurelab-table"));
  assert.ok(bundle["application/vnd.plotly.v1+json"]);
  assert.match(String(bundle["text/plain"]), /γ = 0\.8000/);
  assert.equal(s.table().numRows(), s.rows.length);
  assert.throws(() => suppression(shrink, acts, { by: ["strength" as never] }), /unknown breakdown 'strength'/);
});
