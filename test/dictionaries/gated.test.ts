import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { gated as gatedFactory } from "../../src/dictionaries/gated.js";
import type { Params } from "../../src/dictionaries/architecture.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { forEachEngine } from "../engines.js";
import { checkGradients, relErr } from "./gradcheck.js";
import { removeParallel } from "../../src/dictionaries/sae-parts.js";

const gated = gatedFactory({});

function randomParams(dIn: number, width: number, seed: number): Params {
  const rng = new Rng(seed);
  const p: Params = {};
  for (const [k, t] of Object.entries(gated.init(dIn, width, rng))) p[k] = tf.tensor(t.values, t.shape);
  // Away from the symmetric init, so gates and magnitudes disagree on some features.
  p.W_enc = tf.add(p.W_enc, tf.tensor(rng.normals(dIn * width), [dIn, width]).mul(0.05));
  p.W_dec = tf.add(p.W_dec, tf.tensor(rng.normals(dIn * width), [width, dIn]).mul(0.05));
  // Biases of the scale of unit-norm rows' projections, so the gate and the magnitude often disagree.
  p.b_gate = tf.tensor(rng.normals(width), [width]).mul(0.5);
  p.b_mag = tf.tensor(rng.normals(width), [width]).mul(0.5);
  p.r_mag = tf.tensor(rng.normals(width), [width]).mul(0.5);
  p.b_dec = tf.tensor(rng.normals(dIn), [dIn]).mul(0.1);
  return p;
}

test("gated: SAELens parameter names and init (tied, unit-norm decoder rows, r_mag = b_gate = b_mag = 0)", () => {
  assert.equal(gated.saeLensName, "gated");
  const init = gated.init(4, 6, new Rng(0));
  assert.deepEqual(Object.keys(init).sort(), ["W_dec", "W_enc", "b_dec", "b_gate", "b_mag", "r_mag"]);
  for (let i = 0; i < 6; i++) {
    let n = 0;
    for (let j = 0; j < 4; j++) n += init.W_dec.values[i * 4 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(n) - 1) < 1e-6);
    for (let j = 0; j < 4; j++) assert.equal(init.W_enc.values[j * 6 + i], init.W_dec.values[i * 4 + j]);
  }
  for (const k of ["b_gate", "b_mag", "r_mag", "b_dec"]) assert.ok(init[k].values.every((v) => v === 0), k);
});

test("gated: forward pass and loss terms match the formulas computed by hand", async () => {
  await ready();
  const B = 3, d = 3, h = 5, l1 = 0.4;
  const p = randomParams(d, h, 1);
  const x = tf.tensor2d(new Rng(9).normals(B * d), [B, d]);
  const W = p.W_enc.arraySync() as number[][], D = p.W_dec.arraySync() as number[][];
  const [bg, bm, rm, bd] = ["b_gate", "b_mag", "r_mag", "b_dec"].map((k) => p[k].arraySync() as number[]);
  const xs = x.arraySync();
  const f = gated.encode(x, p).arraySync();
  const res = gated.step(x, p, { l1 });
  const norm = D.map((r) => Math.hypot(...r));
  let mse = 0, sparsity = 0, aux = 0, open = 0, closedByMag = 0;
  for (let b = 0; b < B; b++) {
    const fb: number[] = [], gateAct: number[] = [];
    for (let i = 0; i < h; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (xs[b][j] - bd[j]) * W[j][i];
      const piGate = s + bg[i], piMag = s * Math.exp(rm[i]) + bm[i];
      fb.push(piGate > 0 ? Math.max(0, piMag) : 0);
      gateAct.push(Math.max(0, piGate));
      open += piGate > 0 ? 1 : 0;
      closedByMag += piGate > 0 && piMag <= 0 ? 1 : 0;
      assert.ok(Math.abs(f[b][i] - fb[i]) < 1e-6, `f[${b}][${i}]`);
      sparsity += (gateAct[i] * norm[i]) / B;
    }
    for (let j = 0; j < d; j++) {
      const xHat = bd[j] + fb.reduce((s, v, i) => s + v * D[i][j], 0);
      const viaGate = bd[j] + gateAct.reduce((s, v, i) => s + v * D[i][j], 0);
      mse += (xHat - xs[b][j]) ** 2 / B;
      aux += (viaGate - xs[b][j]) ** 2 / B;
    }
  }
  assert.ok(open > 0 && open < B * h && closedByMag > 0, "some gates closed, some open with the magnitude on or off");
  const close = (t: tf.Tensor, v: number, what: string) => assert.ok(Math.abs(t.dataSync()[0] - v) < 1e-5, `${what}: ${t.dataSync()[0]} vs ${v}`);
  close(res.terms.mse, mse, "mse");
  close(res.terms.l1, sparsity, "sparsity");
  close(res.terms.aux, aux, "aux");
  close(res.loss, mse + l1 * sparsity + aux, "loss");
});

test("gated: hand-written backward pass agrees with tfjs autodiff, W_dec's projected on the unit-norm tangent space (relative error < 1e-4)", async () => {
  await forEachEngine(async () => {
    await ready();
    for (const [B, dIn, width, l1] of [[16, 8, 32, 0.7], [64, 24, 96, 3], [5, 3, 7, 0]] as const) {
      const p = randomParams(dIn, width, B);
      const x = tf.tensor2d(new Rng(B + 1).normals(B * dIn), [B, dIn]);
      checkGradients(gated, p, x, { l1 }, `B=${B}, d=${dIn}, h=${width}`);
    }
  });
});

test("gated: the auxiliary reconstruction sends no gradient to W_dec (stop-gradient)", async () => {
  await ready();
  const l1 = 0.5;
  const p = randomParams(6, 10, 3);
  const x = tf.tensor2d(new Rng(4).normals(20 * 6), [20, 6]);
  const res = gated.step(x, p, { l1 });
  // The loss without its auxiliary term, through encode/decode: its ∂/∂W_dec must be the whole ∂L/∂W_dec.
  const gWdec = tf.grad((W_dec: tf.Tensor) => {
    const q = { ...p, W_dec };
    const xHat = gated.decode(gated.encode(x, q), q);
    const gateAct = tf.relu(tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_gate));
    const sparsity = tf.mean(tf.sum(tf.mul(gateAct, tf.norm(W_dec, "euclidean", 1)), 1));
    return tf.add(tf.mean(tf.sum(tf.square(tf.sub(xHat, x)), 1)), tf.mul(l1, sparsity)) as tf.Scalar;
  })(p.W_dec);
  assert.ok(relErr(res.grads.W_dec, removeParallel(gWdec as tf.Tensor2D, p.W_dec as tf.Tensor2D)) < 1e-4);
  assert.ok(res.terms.aux.dataSync()[0] > 0);
});

test("gated: recovers known ground-truth features", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });
  const sae = await dictionary("gated", { width: 96, l1: 0.3 }).fit(toy.acts, { steps: 1500, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const m = sae.metrics(toy.acts);
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  assert.ok(score >= 0.9, `MMCS to ground truth ${score}`);
  assert.ok(m.l0 > 1 && m.l0 < 6, `L0 ${m.l0}`);
  assert.ok(m.fvu < 0.25, `FVU ${m.fvu}`);
  assert.ok(sae.history[sae.history.length - 1].loss < sae.history[0].loss, "loss went down");
  assert.ok(!("b_enc" in sae.params));
  const norms = tf.norm(sae.weights.W_dec, "euclidean", 1).dataSync();
  assert.ok(norms.every((n) => Math.abs(n - 1) < 1e-5), "decoder rows stay at unit norm");
});
