// Checking a unit-norm-decoder architecture's hand-written step against tfjs autodiff: loss and every
// gradient to a relative error < 1e-4, with W_dec's autodiff gradient projected as the step projects it.
import assert from "node:assert/strict";
import { tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { removeParallel } from "../../src/dictionaries/sae-parts.js";
import type { Architecture, LossOptions, Params } from "../../src/dictionaries/architecture.js";

export function randomParams(arch: Architecture, dIn: number, width: number, seed: number): Params {
  const rng = new Rng(seed);
  const p: Params = {};
  for (const [k, t] of Object.entries(arch.init(dIn, width, rng))) p[k] = tf.tensor(t.values, t.shape);
  // Move away from the symmetric init so every gradient term is exercised.
  p.W_enc = tf.add(p.W_enc, tf.tensor(rng.normals(dIn * width), [dIn, width]).mul(0.3));
  p.b_enc = tf.tensor(rng.normals(width), [width]).mul(0.1);
  p.b_dec = tf.tensor(rng.normals(dIn), [dIn]).mul(0.1);
  return p;
}

export const relErr = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];
export const deadEvery = (width: number, n: number) => tf.tensor1d(Array.from({ length: width }, (_, i) => (i % n === 0 ? 1 : 0)));

/** step's loss and gradients against tf.valueAndGrads of referenceLoss, W_dec's projected as step's is. */
export function checkGradients(arch: Architecture, p: Params, x: tf.Tensor2D, opts: LossOptions, what: string) {
  const res = arch.step(x, p, opts);
  const names = Object.keys(res.grads);
  assert.ok(!names.includes("threshold"), "a threshold kept by EMA is not trained by gradient");
  const lossOf = (...ts: tf.Tensor[]) => arch.referenceLoss(x, { ...p, ...Object.fromEntries(names.map((n, i) => [n, ts[i]])) }, opts);
  const { value, grads } = tf.valueAndGrads(lossOf)(names.map((n) => p[n]));
  assert.ok(relErr(res.loss, value) < 1e-5, `loss differs (${what}): ${res.loss.dataSync()[0]} vs ${value.dataSync()[0]}`);
  names.forEach((n, i) => {
    const expected = n === "W_dec" ? removeParallel(grads[i] as tf.Tensor2D, p.W_dec as tf.Tensor2D) : grads[i];
    const e = relErr(res.grads[n], expected);
    assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (${what})`);
  });
  // The projected decoder gradient has no component along its row.
  const along = tf.max(tf.abs(tf.sum(tf.mul(res.grads.W_dec, p.W_dec), 1))).dataSync()[0];
  assert.ok(along < 1e-5 * tf.max(tf.abs(res.grads.W_dec)).dataSync()[0] * x.shape[1], `W_dec gradient not projected (${what})`);
  return res;
}

/**
 * checkGradients on random parameters and inputs [B, dIn], with no dead mask (`l1` as given), then with
 * every third feature, a single feature and every feature dead: AuxK (k-sparse architectures) must be
 * active in each of the last three. Returns the check without a dead mask.
 */
export function checkAuxKGradients(arch: Architecture, B: number, dIn: number, width: number, l1: number) {
  const p = randomParams(arch, dIn, width, B);
  const x = tf.tensor2d(new Rng(B + 1).normals(B * dIn), [B, dIn]);
  const plain = checkGradients(arch, p, x, { l1 }, `B=${B} no dead mask`);
  for (const [what, dead] of [["every third dead", deadEvery(width, 3)], ["one dead (n_dead < k_aux)", deadEvery(width, width)], ["all dead", tf.ones([width])]] as const) {
    const res = checkGradients(arch, p, x, { l1: 0, dead: dead as tf.Tensor1D }, `B=${B} ${what}`);
    assert.ok(res.terms.auxk.dataSync()[0] > 0, `AuxK active (${what})`);
  }
  return { plain, p, x };
}

/**
 * step's loss and every gradient against tf.valueAndGrads of referenceLoss, unprojected (architectures
 * without a unit-norm decoder); also checks that some features fire and some do not.
 */
export function checkUnprojectedGradients(arch: Architecture, p: Params, x: tf.Tensor2D, opts: LossOptions, what: string) {
  const res = arch.step(x, p, opts);
  const names = Object.keys(p);
  const lossOf = (...ts: tf.Tensor[]) => arch.referenceLoss(x, Object.fromEntries(names.map((n, i) => [n, ts[i]])), opts);
  const { value, grads } = tf.valueAndGrads(lossOf)(names.map((n) => p[n]));
  assert.ok(relErr(res.loss, value) < 1e-5, `loss differs for ${what}`);
  names.forEach((n, i) => {
    const e = relErr(res.grads[n], grads[i]);
    assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (${what})`);
  });
  const active = tf.sum(tf.cast(tf.greater(res.features, 0), "float32")).dataSync()[0];
  assert.ok(active > 0 && active < x.shape[0] * p.W_dec.shape[0], "some features active, some not");
  return res;
}
