import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { relu as reluFactory } from "../../src/dictionaries/relu.js";
const relu = reluFactory({});
import type { Params } from "../../src/dictionaries/architecture.js";
import { forEachEngine } from "../engines.js";
import { checkUnprojectedGradients } from "./gradcheck.js";

function randomParams(dIn: number, width: number, seed: number): Params {
  const rng = new Rng(seed);
  const init = relu.init(dIn, width, rng);
  const p: Params = {};
  for (const [k, t] of Object.entries(init)) p[k] = tf.tensor(t.values, t.shape);
  // Move away from the symmetric init so every gradient term is exercised.
  p.W_enc = tf.add(p.W_enc, tf.tensor(rng.normals(dIn * width), [dIn, width]).mul(0.05));
  p.b_enc = tf.tensor(rng.normals(width), [width]).mul(0.05);
  p.b_dec = tf.tensor(rng.normals(dIn), [dIn]).mul(0.1);
  return p;
}

test("init: decoder rows of norm 0.1, W_enc = W_decᵀ, zero biases", () => {
  const init = relu.init(4, 6, new Rng(0));
  for (let i = 0; i < 6; i++) {
    let n = 0;
    for (let j = 0; j < 4; j++) n += init.W_dec.values[i * 4 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(n) - 0.1) < 1e-6);
    for (let j = 0; j < 4; j++) assert.equal(init.W_enc.values[j * 6 + i], init.W_dec.values[i * 4 + j]);
  }
  assert.ok(init.b_enc.values.every((v) => v === 0) && init.b_dec.values.every((v) => v === 0));
});

test("forward pass matches the formula computed by hand", async () => {
  await ready();
  const p = randomParams(3, 5, 1);
  const x = tf.tensor2d([[0.3, -0.2, 0.5], [1, 0.1, -0.4]]);
  const f = relu.encode(x, p).arraySync();
  const W = p.W_enc.arraySync() as number[][], be = p.b_enc.arraySync() as number[], bd = p.b_dec.arraySync() as number[];
  const D = p.W_dec.arraySync() as number[][];
  const xs = x.arraySync();
  for (let b = 0; b < 2; b++) {
    for (let i = 0; i < 5; i++) {
      let s = be[i];
      for (let j = 0; j < 3; j++) s += (xs[b][j] - bd[j]) * W[j][i];
      assert.ok(Math.abs(f[b][i] - Math.max(0, s)) < 1e-6);
    }
  }
  const xHat = relu.decode(tf.tensor2d(f), p).arraySync();
  for (let b = 0; b < 2; b++) {
    for (let j = 0; j < 3; j++) {
      let s = bd[j];
      for (let i = 0; i < 5; i++) s += f[b][i] * D[i][j];
      assert.ok(Math.abs(xHat[b][j] - s) < 1e-6);
    }
  }
});

test("hand-written backward pass agrees with tfjs autodiff (relative error < 1e-4)", async () => {
  await forEachEngine(async () => {
    await ready();
    for (const [B, dIn, width, l1] of [[16, 8, 32, 0.7], [64, 24, 96, 3], [5, 3, 7, 0]] as const) {
      const p = randomParams(dIn, width, B);
      const x = tf.tensor2d(new Rng(B + 1).normals(B * dIn), [B, dIn]);
      checkUnprojectedGradients(relu, p, x, { l1 }, `B=${B}, d=${dIn}, h=${width}`);
    }
  });
});
