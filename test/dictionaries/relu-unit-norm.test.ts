import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { relu as reluFactory } from "../../src/dictionaries/relu.js";
import type { Params } from "../../src/dictionaries/architecture.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { forEachEngine } from "../engines.js";

const unitNorm = reluFactory({ decoder: "unit-norm" });

function randomParams(dIn: number, width: number, seed: number): Params {
  const rng = new Rng(seed);
  const p: Params = {};
  for (const [k, t] of Object.entries(unitNorm.init(dIn, width, rng))) p[k] = tf.tensor(t.values, t.shape);
  p.W_enc = tf.add(p.W_enc, tf.tensor(rng.normals(dIn * width), [dIn, width]).mul(0.2));
  p.b_enc = tf.tensor(rng.normals(width), [width]).mul(0.1);
  p.b_dec = tf.tensor(rng.normals(dIn), [dIn]).mul(0.1);
  return p;
}

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];
}

function rowNorms(W: tf.Tensor): Float32Array {
  return tf.norm(W, "euclidean", 1).dataSync() as Float32Array;
}

test("relu decoder option: default weighted-l1, unit-norm recorded, unknown values refused", () => {
  assert.equal(reluFactory({}).options.decoder, "weighted-l1");
  assert.equal(reluFactory({}).afterStep, undefined);
  assert.equal(unitNorm.options.decoder, "unit-norm");
  assert.equal(unitNorm.saeLensName, "standard");
  for (const bad of ["unit", "UNIT-NORM", 1, true]) {
    assert.throws(() => reluFactory({ decoder: bad }), /relu: option 'decoder' must be one of "weighted-l1", "unit-norm"; got/);
  }
  assert.throws(() => dictionary("relu", { width: 8, decoder: "l2" }), /option 'decoder'.*got "l2"/);
});

test("unit-norm: init with unit decoder rows and W_enc = W_decᵀ", () => {
  const init = unitNorm.init(5, 7, new Rng(0));
  for (let i = 0; i < 7; i++) {
    let n = 0;
    for (let j = 0; j < 5; j++) n += init.W_dec.values[i * 5 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(n) - 1) < 1e-6);
    for (let j = 0; j < 5; j++) assert.equal(init.W_enc.values[j * 7 + i], init.W_dec.values[i * 5 + j]);
  }
});

test("unit-norm: the penalty is λ·mean_B Σ_i f_i, not weighted by the row norms", async () => {
  await ready();
  const p = randomParams(3, 4, 1);
  p.W_dec = tf.mul(p.W_dec, tf.tensor2d([[2], [0.5], [1], [3]])); // off the sphere: norms must not enter
  const x = tf.tensor2d([[0.3, -0.2, 0.5], [1, 0.1, -0.4]]);
  const l1 = 0.6;
  const res = unitNorm.step(x, p, { l1 });
  const f = unitNorm.encode(x, p).arraySync();
  const xHat = unitNorm.decode(tf.tensor2d(f), p).arraySync();
  const xs = x.arraySync();
  let mse = 0, l1Sum = 0;
  for (let b = 0; b < 2; b++) {
    for (let j = 0; j < 3; j++) mse += (xHat[b][j] - xs[b][j]) ** 2 / 2;
    for (const v of f[b]) l1Sum += v / 2;
  }
  assert.ok(l1Sum > 0);
  assert.ok(Math.abs(res.terms.l1.dataSync()[0] - l1Sum) < 1e-6);
  assert.ok(Math.abs(res.loss.dataSync()[0] - (mse + l1 * l1Sum)) < 1e-5);
  assert.ok(Math.abs(unitNorm.referenceLoss(x, p, { l1 }).dataSync()[0] - (mse + l1 * l1Sum)) < 1e-5);
});

test("unit-norm: ∂L/∂W_dec is the autodiff gradient with each row's parallel component removed", async () => {
  await forEachEngine(async () => {
    await ready();
    for (const [B, dIn, width, l1] of [[16, 8, 32, 0.7], [64, 24, 96, 3], [5, 3, 7, 0]] as const) {
      const p = randomParams(dIn, width, B);
      const x = tf.tensor2d(new Rng(B + 1).normals(B * dIn), [B, dIn]);
      const res = unitNorm.step(x, p, { l1 });
      const names = Object.keys(p);
      const lossOf = (...ts: tf.Tensor[]) => unitNorm.referenceLoss(x, Object.fromEntries(names.map((n, i) => [n, ts[i]])), { l1 });
      const { value, grads } = tf.valueAndGrads(lossOf)(names.map((n) => p[n]));
      assert.ok(relErr(res.loss, value) < 1e-5, `loss differs for B=${B}`);
      names.forEach((n, i) => {
        let expected = grads[i];
        if (n === "W_dec") {
          // Projection written out here rather than reusing the library's: g − (g·w)w per unit row w.
          const w = p.W_dec.arraySync() as number[][];
          const g = expected.arraySync() as number[][];
          expected = tf.tensor2d(g.map((row, r) => {
            const dot = row.reduce((s, v, j) => s + v * w[r][j], 0);
            return row.map((v, j) => v - dot * w[r][j]);
          }));
        }
        const e = relErr(res.grads[n], expected);
        assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (B=${B}, d=${dIn}, h=${width})`);
      });
      const along = tf.sum(tf.mul(res.grads.W_dec, p.W_dec), 1);
      assert.ok(tf.max(tf.abs(along)).dataSync()[0] < 1e-5 * tf.max(tf.abs(res.grads.W_dec)).dataSync()[0] + 1e-7, "no component along the rows");
      assert.ok(relErr(res.grads.W_dec, grads[names.indexOf("W_dec")]) > 1e-3, "the projection changed something");
    }
  });
});

test("unit-norm: afterStep rescales every decoder row to unit norm, keeping its direction", async () => {
  await ready();
  const W = tf.tensor2d([[3, 4], [0.1, 0], [-2, 2], [0.3, -0.4]]);
  const before = W.arraySync();
  const params = { W_dec: tf.variable(W), W_enc: tf.variable(tf.ones([2, 4])) };
  unitNorm.afterStep!(params);
  for (const n of rowNorms(params.W_dec)) assert.ok(Math.abs(n - 1) < 1e-6);
  const after = params.W_dec.arraySync();
  for (let i = 0; i < 4; i++) {
    const cos = (before[i][0] * after[i][0] + before[i][1] * after[i][1]) / Math.hypot(...before[i]);
    assert.ok(Math.abs(cos - 1) < 1e-6, `row ${i} kept its direction`);
  }
  assert.deepEqual(Array.from(params.W_enc.dataSync()), Array(8).fill(1), "the encoder is untouched");
});

test("unit-norm: recovers known ground-truth features, decoder rows stay unit norm", async () => {
  await ready();
  const toy = sharkeyToyData({ rows: 8192, features: 48, dim: 24, avgActive: 3, decay: 0.97, seed: 5 });
  const sae = await dictionary("relu", { width: 96, l1: 0.2, decoder: "unit-norm" }).fit(toy.acts, { steps: 1500, batchSize: 128, lr: 3e-3, seed: 0, progress: false });
  const m = sae.metrics(toy.acts);
  const score = mmcs({ values: toy.features, dim: 24 }, sae.weights.W_dec);
  assert.ok(score >= 0.9, `MMCS to ground truth ${score}`);
  assert.ok(m.l0 > 1.5 && m.l0 < 8, `L0 ${m.l0}`);
  assert.ok(m.fvu < 0.2, `FVU ${m.fvu}`);
  for (const n of rowNorms(sae.weights.W_dec)) assert.ok(Math.abs(n - 1) < 1e-5);
  assert.equal(sae.cfg.decoder, "unit-norm");
});
