// The native engine's fused steps against tfjs autodiff of the same loss (every gradient, with and
// without dead features), and whole training runs agreeing across engines from the same seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, ready } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { loadNative } from "../../src/engine/native.js";
import { architecture } from "../../src/dictionaries/registry.js";
import { preActivations, removeParallel } from "../../src/dictionaries/sae-parts.js";
import { batchTopK } from "../../src/dictionaries/sparsity-helpers.js";
import type { Architecture, Params } from "../../src/dictionaries/architecture.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { fit } from "../../src/training/fit.js";
import { mmcs } from "../../src/metrics/mmcs.js";
import { randomParams, relErr } from "../dictionaries/gradcheck.js";
import { availableEngines, forEachEngine } from "../engines.js";

const addon = loadNative().addon;
const skip = addon ? false : "the native addon is not built";
const NAMES = ["W_enc", "W_dec", "b_enc", "b_dec"] as const;

/** One fused step on copies of p: loss terms and gradients as tensors. */
function fusedStep(arch: Architecture, p: Params, x: tf.Tensor2D, l1: number, dead: number[]) {
  const [B, d] = x.shape;
  const h = p.W_dec.shape[0];
  const host = Object.fromEntries(NAMES.map((n) => [n, p[n].dataSync() as Float32Array])) as Record<(typeof NAMES)[number], Float32Array>;
  const g = Object.fromEntries(NAMES.map((n) => [n, new Float32Array(host[n].length)])) as Record<(typeof NAMES)[number], Float32Array>;
  const stats = new Float64Array(8);
  const fired = new Uint8Array(h);
  const ws = addon!.createWorkspace();
  const xs = x.dataSync() as Float32Array;
  const f = arch.fused!;
  if (f.kind === "relu") addon!.reluStep(ws, xs, host.W_enc, host.W_dec, host.b_enc, host.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, l1, f.unitNorm, fired, stats);
  else if (f.kind === "topk") addon!.topkStep(ws, xs, host.W_enc, host.W_dec, host.b_enc, host.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, f.k, f.kAux(d), f.auxKCoefficient, Int32Array.from(dead), dead.length, fired, stats);
  else {
    const ends = Int32Array.from(f.prefixes(h));
    addon!.batchTopkStep(ws, xs, host.W_enc, host.W_dec, host.b_enc, host.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, f.k, f.kAux(d), f.auxKCoefficient, Int32Array.from(dead), dead.length, ends, ends.length, fired, stats);
  }
  return { stats, fired, grads: Object.fromEntries(NAMES.map((n) => [n, tf.tensor(g[n], p[n].shape)])) as Record<string, tf.Tensor> };
}

for (const [name, options, projected] of [
  ["relu", {}, false],
  ["relu", { decoder: "unit-norm" }, true],
  ["topk", { k: 5 }, true],
  ["topk", { k: 3, auxK: 4 }, true],
  ["batchtopk", { k: 4 }, true],
  ["batchtopk", { k: 2, auxK: 3 }, true],
  ["matryoshka", { k: 3, prefixes: [5, 12, 25, 40] }, true],
  ["matryoshka", { k: 40 }, true],
] as const) {
  test(`native fused ${name} ${JSON.stringify(options)}: loss and every gradient agree with autodiff (< 1e-4)`, { skip }, async () => {
    await ready();
    const arch = architecture(name, options as Record<string, unknown>);
    const [dIn, width] = [12, 40];
    // The last case shifts b_enc so ~5 % of pre-activations are positive: the ReLU step's sparse path.
    for (const [B, deadEvery, sparse] of [[16, 0, false], [33, 3, false], [7, 1, false], [64, 0, true]] as const) {
      const p = randomParams(arch, dIn, width, B);
      const x = tf.tensor2d(new Rng(B + 100).normals(B * dIn), [B, dIn]);
      if (sparse) {
        const pre = Array.from(preActivations(x, p).dataSync()).sort((a, b) => a - b);
        p.b_enc = tf.sub(p.b_enc, pre[Math.floor(0.95 * pre.length)]);
      }
      const dead = deadEvery ? Array.from({ length: width }, (_, i) => i).filter((i) => i % deadEvery === 0) : [];
      const deadMask = tf.tensor1d(Array.from({ length: width }, (_, i) => (dead.includes(i) ? 1 : 0)));
      const opts = { l1: 0.7, dead: deadMask };
      const names = [...NAMES];
      const lossOf = (...ts: tf.Tensor[]) => arch.referenceLoss(x, { ...p, ...Object.fromEntries(names.map((n, i) => [n, ts[i]])) }, opts);
      const { value, grads } = tf.valueAndGrads(lossOf)(names.map((n) => p[n]));
      const got = fusedStep(arch, p, x, 0.7, dead);
      if (sparse) assert.ok(got.stats[4] < width / 8, `sparse case: L0 ${got.stats[4]} of ${width}`);
      const want = value.dataSync()[0];
      assert.ok(Math.abs(got.stats[0] - want) / Math.abs(want) < 1e-5, `loss ${got.stats[0]} vs ${want} (B=${B}, dead every ${deadEvery})`);
      if (name !== "relu" && dead.length > 0) assert.ok(got.stats[3] > 0, "AuxK contributes when features are dead");
      if (arch.fused!.kind === "batchtopk") {
        // The threshold's input: the smallest kept activation, as the tfjs step's batchTopK finds it.
        const { minKept } = batchTopK(tf.relu(preActivations(x, p)) as tf.Tensor2D, options.k);
        assert.equal(Math.fround(got.stats[7]), minKept.dataSync()[0], "smallest kept activation");
      }
      names.forEach((n, i) => {
        let expected = grads[i];
        if (n === "W_dec" && projected) expected = removeParallel(expected as tf.Tensor2D, p.W_dec as tf.Tensor2D);
        const e = relErr(got.grads[n], expected);
        assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (B=${B}, dead every ${deadEvery})`);
      });
      // Features that fired in the batch, as the tfjs step reports them.
      const f = arch.step(x, p, { l1: 0.7 }).features; // BatchTopK's training batch, not its inference threshold
      const firedWant = tf.greater(tf.max(f, 0), 0).dataSync();
      assert.deepEqual(Array.from(got.fired), Array.from(firedWant, Number));
    }
  });
}

test("native fused batchtopk: exact ties at the batch's threshold are kept in row-major order, as tf.topk keeps them", { skip }, async () => {
  await ready();
  const arch = architecture("batchtopk", { k: 3 });
  const [B, dIn, width] = [5, 12, 40];
  const p = randomParams(arch, dIn, width, 3);
  // Features j and j + 20 are copies: every activation appears twice in its row, so an odd budget (B·k = 15)
  // splits a tied pair at the threshold.
  const half = tf.slice(p.W_enc, [0, 0], [dIn, width / 2]);
  p.W_enc = tf.concat([half, half], 1);
  const bHalf = tf.slice(p.b_enc, [0], [width / 2]);
  p.b_enc = tf.concat([bHalf, bHalf]);
  const x = tf.tensor2d(new Rng(77).normals(B * dIn), [B, dIn]);
  const names = [...NAMES];
  const lossOf = (...ts: tf.Tensor[]) => arch.referenceLoss(x, { ...p, ...Object.fromEntries(names.map((n, i) => [n, ts[i]])) }, { l1: 0 });
  const { grads } = tf.valueAndGrads(lossOf)(names.map((n) => p[n]));
  const got = fusedStep(arch, p, x, 0, []);
  assert.equal(got.stats[4], 3, "exactly B·k entries kept (L0 = k)");
  names.forEach((n, i) => {
    const expected = n === "W_dec" ? removeParallel(grads[i] as tf.Tensor2D, p.W_dec as tf.Tensor2D) : grads[i];
    const e = relErr(got.grads[n], expected);
    assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e}`);
  });
});

/** One fused JumpReLU step (SAE when y is undefined, else a transcoder or CLT) on copies of p. */
function fusedJumpRelu(arch: Architecture, p: Params, x: tf.Tensor2D, y: tf.Tensor2D | undefined, l1: number, dead: number[]) {
  const f = arch.fused!;
  if (f.kind !== "jumprelu") throw new Error("not a JumpReLU architecture");
  const names = [...NAMES, "threshold"];
  const [B, dIn] = x.shape;
  const [h, dOut] = p.W_dec.shape;
  const host = Object.fromEntries(names.map((n) => [n, p[n].dataSync() as Float32Array]));
  const g = Object.fromEntries(names.map((n) => [n, new Float32Array(host[n].length)]));
  const stats = new Float64Array(8);
  const fired = new Uint8Array(h);
  const deadMask = f.options.preActLossCoefficient === undefined ? new Float32Array(0) : Float32Array.from({ length: h }, (_, i) => (dead.includes(i) ? 1 : 0));
  const o = f.options;
  addon!.jumpreluStep(addon!.createWorkspace(), x.dataSync() as Float32Array, y ? (y.dataSync() as Float32Array) : new Float32Array(0), host.W_enc, host.W_dec, host.b_enc, host.b_dec, host.threshold,
    g.W_enc, g.W_dec, g.b_enc, g.b_dec, g.threshold, B, dIn, dOut, h, l1, o.bandwidth, o.sparsityLossMode === "tanh", o.tanhScale, o.preActLossCoefficient ?? -1, f.centreInput, deadMask, fired, stats);
  const masks = f.masks?.(dIn, h, dOut);
  if (masks) {
    g.W_enc.forEach((v, i) => (g.W_enc[i] = v * masks.enc[i]));
    g.W_dec.forEach((v, i) => (g.W_dec[i] = v * masks.dec[i]));
  }
  return { stats, fired, grads: Object.fromEntries(names.map((n) => [n, tf.tensor(g[n], p[n].shape)])) as Record<string, tf.Tensor> };
}

for (const [name, options] of [
  ["jumprelu", {}],
  ["jumprelu", { sparsityLossMode: "tanh", bandwidth: 0.2 }],
  ["jumprelu", { preActLossCoefficient: 0.3, bandwidth: 0.2 }],
  ["clt", { nLayers: 2, d_out: 10 }],
  ["clt", { nLayers: 2, d_out: 10, crossLayer: false, preActLossCoefficient: 0.2, sparsityLossMode: "step" }],
] as const) {
  test(`native fused ${name} ${JSON.stringify(options)}: the loss agrees with autodiff, every gradient with the tfjs step (< 1e-4)`, { skip }, async () => {
    await ready();
    const arch = architecture(name, options as Record<string, unknown>);
    const [dIn, width] = [12, 40];
    for (const [B, deadEvery] of [[16, 0], [33, 3], [7, 1]] as const) {
      const p = randomParams(arch, dIn, width, B);
      // Thresholds spread around the pre-activations, some ≤ 0 (no gradient through ReLU(θ)).
      p.threshold = tf.tensor1d(new Rng(B + 7).normals(width).map((v) => 0.3 * v));
      if (name === "clt") p.b_dec = tf.tensor1d(new Rng(B + 8).normals(10).map((v) => 0.1 * v)); // an output bias [d_out]
      const x = tf.tensor2d(new Rng(B + 100).normals(B * dIn), [B, dIn]);
      const y = name === "clt" ? tf.tensor2d(new Rng(B + 200).normals(B * 10), [B, 10]) : undefined;
      const dead = deadEvery ? Array.from({ length: width }, (_, i) => i).filter((i) => i % deadEvery === 0) : [];
      const opts = { l1: 0.7, dead: tf.tensor1d(Array.from({ length: width }, (_, i) => (dead.includes(i) ? 1 : 0))), target: y };
      const want = arch.step(x, p, opts);
      const reference = arch.referenceLoss(x, p, opts).dataSync()[0];
      const got = fusedJumpRelu(arch, p, x, y, 0.7, dead);
      const what = `B=${B}, dead every ${deadEvery}`;
      assert.ok(Math.abs(got.stats[0] - reference) / Math.abs(reference) < 1e-5, `loss ${got.stats[0]} vs ${reference} (${what})`);
      assert.ok(Math.abs(got.stats[2] - want.terms.l1.dataSync()[0]) < 1e-4 * Math.max(1, Math.abs(got.stats[2])), `sparsity term (${what})`);
      for (const n of Object.keys(want.grads)) {
        const e = relErr(got.grads[n], want.grads[n]);
        assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (${what})`);
      }
      assert.ok(tf.max(tf.abs(want.grads.threshold)).dataSync()[0] > 0, "the threshold gets a gradient");
      const firedWant = tf.greater(tf.max(want.features, 0), 0).dataSync();
      assert.deepEqual(Array.from(got.fired), Array.from(firedWant, Number));
    }
  });
}

for (const name of ["transcoder", "skip-transcoder"] as const) {
  test(`native fused ${name}: the loss agrees with autodiff, every gradient with the tfjs step (< 1e-4), with and without a separate target`, { skip }, async () => {
    await ready();
    const [dIn, dOut, width] = [12, 9, 40];
    for (const [B, withTarget] of [[16, true], [33, true], [7, false]] as const) {
      const arch = architecture(name, withTarget ? { d_out: dOut } : {});
      const p = randomParams(arch, dIn, width, B);
      const d = withTarget ? dOut : dIn;
      p.b_dec_out = tf.tensor1d(new Rng(B + 9).normals(d).map((v) => 0.1 * v));
      if (p.W_skip) p.W_skip = tf.tensor2d(new Rng(B + 10).normals(dIn * d).map((v) => 0.2 * v), [dIn, d]);
      const x = tf.tensor2d(new Rng(B + 100).normals(B * dIn), [B, dIn]);
      const y = withTarget ? tf.tensor2d(new Rng(B + 200).normals(B * dOut), [B, dOut]) : undefined;
      const opts = { l1: 0.7, target: y };
      const want = arch.step(x, p, opts);
      const reference = arch.referenceLoss(x, p, opts).dataSync()[0];
      const names = Object.keys(want.grads);
      const host = Object.fromEntries(names.map((n) => [n, p[n].dataSync() as Float32Array]));
      const g = Object.fromEntries(names.map((n) => [n, new Float32Array(host[n].length)]));
      const stats = new Float64Array(8);
      const fired = new Uint8Array(width);
      const none = new Float32Array(0);
      const xs = x.dataSync() as Float32Array;
      addon!.reluTranscoderStep(addon!.createWorkspace(), xs, y ? (y.dataSync() as Float32Array) : xs, host.W_enc, host.W_dec, host.b_enc, host.b_dec, host.b_dec_out, host.W_skip ?? none,
        g.W_enc, g.W_dec, g.b_enc, g.b_dec, g.b_dec_out, g.W_skip ?? none, B, dIn, d, width, 0.7, fired, stats);
      const what = `B=${B}, ${withTarget ? "target" : "no target"}`;
      assert.ok(Math.abs(stats[0] - reference) / Math.abs(reference) < 1e-5, `loss ${stats[0]} vs ${reference} (${what})`);
      for (const n of names) {
        const e = relErr(tf.tensor(g[n], p[n].shape), want.grads[n]);
        assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (${what})`);
      }
      assert.deepEqual(Array.from(fired), Array.from(tf.greater(tf.max(want.features, 0), 0).dataSync(), Number));
    }
  });
}

test("native fused gated: the loss agrees with autodiff, every gradient with the tfjs step (< 1e-4)", { skip }, async () => {
  await ready();
  const arch = architecture("gated", {});
  const [d, width] = [12, 40];
  const names = ["W_enc", "W_dec", "b_gate", "b_mag", "r_mag", "b_dec"];
  for (const B of [16, 33, 7]) {
    const p = randomParams(arch, d, width, B);
    const rng = new Rng(B + 11);
    p.b_gate = tf.tensor1d(rng.normals(width).map((v) => 0.2 * v));
    p.b_mag = tf.tensor1d(rng.normals(width).map((v) => 0.2 * v));
    p.r_mag = tf.tensor1d(rng.normals(width).map((v) => 0.3 * v));
    const x = tf.tensor2d(new Rng(B + 100).normals(B * d), [B, d]);
    const want = arch.step(x, p, { l1: 0.7 });
    const reference = arch.referenceLoss(x, p, { l1: 0.7 }).dataSync()[0];
    const host = Object.fromEntries(names.map((n) => [n, p[n].dataSync() as Float32Array]));
    const g = Object.fromEntries(names.map((n) => [n, new Float32Array(host[n].length)]));
    const stats = new Float64Array(8);
    const fired = new Uint8Array(width);
    addon!.gatedStep(addon!.createWorkspace(), x.dataSync() as Float32Array, host.W_enc, host.W_dec, host.b_gate, host.b_mag, host.r_mag, host.b_dec,
      g.W_enc, g.W_dec, g.b_gate, g.b_mag, g.r_mag, g.b_dec, B, d, width, 0.7, fired, stats);
    assert.ok(Math.abs(stats[0] - reference) / Math.abs(reference) < 1e-5, `loss ${stats[0]} vs ${reference} (B=${B})`);
    assert.ok(Math.abs(stats[3] - want.terms.aux.dataSync()[0]) / stats[3] < 1e-5, "the auxiliary term");
    for (const n of names) {
      const e = relErr(tf.tensor(g[n], p[n].shape), want.grads[n]);
      assert.ok(e < 1e-4, `∂L/∂${n}: relative error ${e} (B=${B})`);
    }
    assert.deepEqual(Array.from(fired), Array.from(tf.greater(tf.max(want.features, 0), 0).dataSync(), Number));
  }
});

test("training agrees across engines: same seed → metrics within 1e-3 (relu, relu unit-norm, topk with AuxK, batchtopk, matryoshka, jumprelu, gated)", { skip: false }, async () => {
  await ready();
  const engines = await availableEngines();
  if (engines.length < 2) return;
  const toy = sharkeyToyData({ rows: 4096, features: 256, dim: 64, avgActive: 4, seed: 2 });
  for (const [name, options] of [
    ["relu", { width: 256, l1: 0.1 }],
    ["relu", { width: 256, l1: 0.1, decoder: "unit-norm" }],
    ["topk", { width: 256, k: 4 }],
    ["batchtopk", { width: 256, k: 4 }],
    ["matryoshka", { width: 256, k: 4 }],
    ["jumprelu", { width: 256, l1: 0.003 }],
    ["gated", { width: 256, l1: 0.2 }],
  ] as const) {
    const { width, l1 = 0, ...archOptions } = options as { width: number; l1?: number };
    const results: Record<string, { fvu: number; l0: number; mmcs: number; loss: number; trainer: string }> = {};
    const thresholds: Record<string, number | undefined> = {};
    await forEachEngine(async (e) => {
      const d = await fit({ arch: architecture(name, archOptions), width, l1 }, toy.acts, { steps: 120, batchSize: 256, lr: 3e-3, seed: 5, progress: false, deadWindowTokens: 4096 });
      const m = d.metrics(toy.acts);
      thresholds[e] = d.weights.threshold?.dataSync()[0];
      results[e] = { fvu: m.fvu, l0: m.l0, mmcs: mmcs(d.decoderDirections(), { values: toy.features, dim: 64 }), loss: d.history.at(-1)!.loss, trainer: (d.cfg.training as { engine: string }).engine };
      d.dispose();
    });
    const [a, b] = [results.native, results.wasm];
    assert.equal(a.trainer, "native");
    assert.equal(b.trainer, "tfjs");
    const what = `${name} ${JSON.stringify(options)}: ${JSON.stringify(results)}`;
    assert.ok(Math.abs(a.fvu - b.fvu) < 1e-3, what);
    assert.ok(Math.abs(a.mmcs - b.mmcs) < 1e-3, what);
    assert.ok(Math.abs(a.l0 - b.l0) / b.l0 < 1e-3, what);
    assert.ok(Math.abs(a.loss - b.loss) / b.loss < 1e-3, what);
    // BatchTopK's inference threshold, kept by the native trainer outside the weights, agrees too.
    if (name === "batchtopk" || name === "matryoshka") assert.ok(Math.abs(thresholds.native! - thresholds.wasm!) / thresholds.wasm! < 1e-3, `${what} θ ${JSON.stringify(thresholds)}`);
  }
});
