import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../../src/engine/backend.js";
import { Rng } from "../../../src/engine/random.js";
import { skipTrigrams } from "../../../src/circuits/gated-attention/skip-trigrams.js";
import { AttentionOnlyModel, trainAttentionOnly } from "../../../src/circuits/gated-attention/attention-only-model.js";
import { gatedBlockForward, gatedBlockLoss, gateSparsity, initGatedBlock, GATED_WEIGHT_NAMES, type GatedBlockWeights } from "../../../src/circuits/gated-attention/block.js";
import { gatedAttention } from "../../../src/circuits/gated-attention/gated-attention.js";
import { headsNeeded, trigramHeads } from "../../../src/circuits/gated-attention/trigram-heads.js";
import { represent } from "../../../src/display/core/represent.js";
import { trigramHeadsPlot } from "../../../src/display/plots/circuits/gated-attention-plot.js";
import { forEachEngine } from "../../engines.js";

type Arr = number[];
const arr = (t: tf.Tensor) => Array.from(t.dataSync());

/** The block computed element by element in plain JavaScript (float64), straight from the definition. */
function referenceBlock(x: number[][][], w: Record<string, Arr>, H: number, d: number, dh: number) {
  const B = x.length, T = x[0].length;
  const W = (name: string, h: number, i: number, j: number, rows: number, cols: number) => w[name][(h * rows + i) * cols + j];
  // Unit-normalised W_V columns (over d_model) and W_O rows (over d_model).
  const vNorm = (h: number, j: number) => Math.sqrt(Array.from({ length: d }, (_, i) => W("W_V", h, i, j, d, dh) ** 2).reduce((s, v) => s + v, 0));
  const oNorm = (h: number, j: number) => Math.sqrt(Array.from({ length: d }, (_, i) => W("W_O", h, j, i, dh, d) ** 2).reduce((s, v) => s + v, 0));
  const out = Array.from({ length: B }, () => Array.from({ length: T }, () => new Array(d).fill(0)));
  const gates: number[][][][] = Array.from({ length: B }, () => Array.from({ length: H }, () => Array.from({ length: T }, () => new Array(T).fill(0))));
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const proj = (name: string, bias: string, t: number, j: number) => x[b][t].reduce((s, xi, i) => s + xi * W(name, h, i, j, d, dh), 0) + w[bias][h * dh + j];
      const gate = (wn: string, bn: string, t: number) => x[b][t].reduce((s, xi, i) => s + xi * w[wn][h * d + i], 0) + w[bn][h];
      for (let q = 0; q < T; q++) {
        const scores = Array.from({ length: q + 1 }, (_, k) => Array.from({ length: dh }, (_, j) => proj("W_Q", "b_Q", q, j) * proj("W_K", "b_K", k, j)).reduce((s, v) => s + v, 0) / Math.sqrt(dh));
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const Z = e.reduce((s, v) => s + v, 0);
        for (let k = 0; k < T; k++) gates[b][h][q][k] = Math.min(1, Math.max(0, gate("w_gQ", "b_gQ", q) * gate("w_gK", "b_gK", k)));
        for (let k = 0; k <= q; k++) {
          const p = gates[b][h][q][k] * (e[k] / Z);
          for (let j = 0; j < dh; j++) {
            const v = x[b][k].reduce((s, xi, i) => s + (xi * W("W_V", h, i, j, d, dh)) / vNorm(h, j), 0) + w.b_V[h * dh + j];
            for (let i = 0; i < d; i++) out[b][q][i] += (p * v * W("W_O", h, j, i, dh, d)) / oNorm(h, j);
          }
        }
      }
    }
  return { out, gates };
}

function randomBlock(H: number, d: number, dh: number, seed: number): GatedBlockWeights {
  const rng = new Rng(seed);
  const shapes: Record<string, number[]> = { W_Q: [H, d, dh], b_Q: [H, dh], W_K: [H, d, dh], b_K: [H, dh], W_V: [H, d, dh], b_V: [H, dh], W_O: [H, dh, d], w_gQ: [H, d], b_gQ: [H], w_gK: [H, d], b_gK: [H] };
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(rng.normals(s.reduce((a, b) => a * b, 1)).map((v) => (k.startsWith("b_g") ? 0.6 + 0.3 * v : v)), s)])) as unknown as GatedBlockWeights;
}

test("the gated block's forward pass matches a per-element computation of the definition, on every engine", async () => {
  await ready();
  await forEachEngine(() => {
    const B = 2, T = 4, d = 5, H = 3, dh = 2;
    const rng = new Rng(1);
    const x = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from(rng.normals(d))));
    const p = randomBlock(H, d, dh, 2);
    const w = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, arr(t as tf.Tensor)]));
    const ref = referenceBlock(x, w, H, d, dh);
    const got = gatedBlockForward(tf.tensor3d(x), p);
    const outGot = arr(got.out), gateGot = arr(got.gate);
    const outRef = ref.out.flat(2), gateRef = ref.gates.flat(3);
    outRef.forEach((v, i) => assert.ok(Math.abs(v - outGot[i]) < 1e-4 * (1 + Math.abs(v)), `out[${i}] ${outGot[i]} vs ${v}`));
    gateRef.forEach((v, i) => assert.ok(Math.abs(v - gateGot[i]) < 1e-5, `gate[${i}] ${gateGot[i]} vs ${v}`));
    assert.ok(gateRef.some((v) => v === 0) && gateRef.some((v) => v > 0 && v < 1), "the case exercises closed and open gates");
    // Per-head outputs sum to the output.
    assert.ok(tf.max(tf.abs(tf.sub(tf.sum(got.perHead, 1), got.out))).dataSync()[0] < 1e-5);
  });
});

test("the loss terms are MSE and mean_{b,q,k} (Σ_h G^0.6)^(1/0.6), as defined", async () => {
  await ready();
  const B = 2, T = 4, d = 5, H = 3, dh = 2;
  const rng = new Rng(4);
  const x = tf.tensor3d(rng.normals(B * T * d), [B, T, d]);
  const target = tf.tensor3d(rng.normals(B * T * d), [B, T, d]);
  const p = randomBlock(H, d, dh, 5);
  const { out, gate } = gatedBlockForward(x, p);
  const o = arr(out), y = arr(target), g = arr(gate);
  const mse = o.reduce((s, v, i) => s + (v - y[i]) ** 2, 0) / o.length;
  let sp = 0;
  for (let b = 0; b < B; b++)
    for (let q = 0; q < T; q++)
      for (let k = 0; k < T; k++) {
        let s = 0;
        for (let h = 0; h < H; h++) s += g[((b * H + h) * T + q) * T + k] ** 0.6;
        sp += s ** (1 / 0.6);
      }
  sp /= B * T * T;
  const alpha = 0.37;
  const terms = gatedBlockLoss(x, target, p, alpha);
  assert.ok(Math.abs(terms.mse.dataSync()[0] - mse) < 1e-5 * mse);
  assert.ok(Math.abs(terms.sparsity.dataSync()[0] - sp) < 1e-5 * sp);
  assert.ok(Math.abs(terms.loss.dataSync()[0] - (mse + alpha * sp)) < 1e-5 * (mse + alpha * sp));
  // One head open at G = 1 everywhere: the penalty is exactly 1; two heads at 1: 2^(1/0.6).
  const ones = tf.ones([1, 2, 3, 3]) as tf.Tensor4D;
  assert.ok(Math.abs(gateSparsity(tf.concat([tf.ones([1, 1, 3, 3]), tf.zeros([1, 1, 3, 3])], 1) as tf.Tensor4D).dataSync()[0] - 1) < 1e-6);
  assert.ok(Math.abs(gateSparsity(ones).dataSync()[0] - 2 ** (1 / 0.6)) < 1e-5);
});

test("autodiff gradients of the loss agree with central finite differences, and closed gates give no NaN", async () => {
  await ready();
  const B = 2, T = 4, d = 5, H = 3, dh = 2;
  const rng = new Rng(6);
  const x = tf.tensor3d(rng.normals(B * T * d), [B, T, d]);
  const target = tf.tensor3d(rng.normals(B * T * d), [B, T, d]);
  const p = randomBlock(H, d, dh, 7);
  const names = [...GATED_WEIGHT_NAMES];
  const lossOf = (...ts: tf.Tensor[]) => gatedBlockLoss(x, target, Object.fromEntries(names.map((n, i) => [n, ts[i]])) as unknown as GatedBlockWeights, 0.5).loss;
  const params = names.map((n) => p[n] as tf.Tensor);
  const grads = tf.grads(lossOf)(params);
  for (const g of grads) assert.ok(arr(g).every(Number.isFinite), "finite gradients");
  const check = new Rng(8);
  let compared = 0;
  for (let i = 0; i < names.length; i++) {
    const base = arr(params[i]);
    for (let r = 0; r < 3; r++) {
      const j = check.int(base.length);
      const eps = 1e-2;
      const at = (delta: number) => {
        const v = Float32Array.from(base);
        v[j] += delta;
        const ps = params.map((t, k) => (k === i ? tf.tensor(v, t.shape) : t));
        return lossOf(...ps).dataSync()[0];
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      const ad = arr(grads[i])[j];
      assert.ok(Math.abs(fd - ad) < 2e-2 * Math.max(1, Math.abs(ad)), `∂L/∂${names[i]}[${j}]: autodiff ${ad}, finite difference ${fd}`);
      compared++;
    }
  }
  assert.equal(compared, 3 * names.length);
  // All gates closed: the penalty and its gradient are 0, not NaN.
  const closed = tf.variable(tf.fill([1, 2, 3, 3], -0.5));
  const { value, grads: g2 } = tf.variableGrads(() => gateSparsity(tf.clipByValue(closed, 0, 1) as tf.Tensor4D), [closed]);
  assert.equal(value.dataSync()[0], 0);
  assert.ok(arr(g2[closed.name]).every((v) => v === 0));
});

test("trigramHeads: one head per trigram in a hand-built model; headsNeeded counts the largest effects", async () => {
  await ready();
  assert.deepEqual(headsNeeded([3, 2, 0]), { count: 2, carriers: [0, 1] });
  assert.deepEqual(headsNeeded([5, -0.2, 0.1]), { count: 1, carriers: [0] });
  assert.ok(Number.isNaN(headsNeeded([-1, 0.5]).count));
  const n = 3, V = 2 + 2 * n, H = n;
  const data = skipTrigrams({ n: 300, trigrams: n, length: 9, seed: 2 });
  // Head h: query B_h, key A (score 20 there, 0 elsewhere), value 1 from A, writes 4 on C_h.
  const z = (s: number[]) => new Float32Array(s.reduce((a, b) => a * b, 1));
  const WQ = z([H, V, 1]), WK = z([H, V, 1]), WV = z([H, V, 1]), WO = z([H, 1, V]);
  for (let h = 0; h < H; h++) {
    WQ[h * V + 2 + h] = 20;
    WK[h * V + 1] = 1;
    WV[h * V + 1] = 1;
    WO[h * V + 2 + n + h] = 4;
  }
  const model = new AttentionOnlyModel({ W_Q: tf.tensor3d(WQ, [H, V, 1]), b_Q: tf.zeros([H, 1]), W_K: tf.tensor3d(WK, [H, V, 1]), b_K: tf.zeros([H, 1]), W_V: tf.tensor3d(WV, [H, V, 1]), b_V: tf.zeros([H, 1]), W_O: tf.tensor3d(WO, [H, 1, V]) });
  const map = trigramHeads(model, data);
  assert.equal(map.rows.length, n);
  map.rows.forEach((r, t) => {
    assert.equal(r.headsNeeded, 1, `${r.trigram}: ${r.effects}`);
    assert.deepEqual(r.carriers, [t]);
    assert.ok(r.effects[t] > 3.5, `head ${t} writes ≈ 4 on C_${t}: ${r.effects[t]}`);
    assert.equal(r.accuracy, 1);
  });
  assert.equal(map.monosemantic, n);
  assert.equal(model.evaluate(data).accuracy, 1);
  // Display: the bundle has the heatmap and the table; trigram labels are escaped in HTML.
  const bundle = represent(map) as Record<string, string>;
  assert.ok(bundle["text/html"].includes("A … B0 → C0") && bundle["text/html"].includes("heads for 90%"));
  assert.equal(trigramHeadsPlot([map, map]).data.length, 2);
});

test("the toy model learns the task; the gated block trains deterministically and reports its metrics", async () => {
  await ready();
  const data = skipTrigrams({ n: 600, trigrams: 3, length: 9, seed: 0 });
  const model = trainAttentionOnly(data, { heads: 3, steps: 250, batchSize: 64, lr: 0.02, seed: 0 });
  assert.ok(model.score!.accuracy > 0.9, `planted-C accuracy ${model.score!.accuracy}`);
  const run = () => gatedAttention(model, data, { steps: 60, batchSize: 32, alpha: 0.1, seed: 3 });
  const a = run(), b = run();
  for (const n of GATED_WEIGHT_NAMES) assert.deepEqual(arr(a.weights[n]), arr(b.weights[n]), `${n} reproducible`);
  const m = a.metrics;
  assert.ok(m.mse < a.history[0].mse, `MSE falls: ${a.history[0].mse} → ${m.mse}`);
  assert.ok(m.fvu > 0 && Number.isFinite(m.fvu));
  assert.equal(m.original.ce, model.score!.ce);
  assert.ok(m.zeroAblated.ce > m.original.ce);
  assert.ok(Math.abs(m.loss - (m.mse + 0.1 * m.sparsity)) < 1e-6);
  const html = (represent(a) as Record<string, string>)["text/html"];
  assert.ok(html.includes("CE spliced") && html.includes("FVU"));
  assert.ok((represent(model) as Record<string, string>)["text/html"].includes("planted-C accuracy"));
});

test("bad input: errors name the option, the layer or the shape", async () => {
  await ready();
  const data = skipTrigrams({ n: 20, trigrams: 2, seed: 0 });
  const model = trainAttentionOnly(data, { heads: 1, steps: 2, batchSize: 4 });
  assert.throws(() => gatedAttention(model, data, { layer: 1, steps: 1 }), /featurelab: gatedAttention: layer 1 does not exist/);
  assert.throws(() => gatedAttention(model, data, { alpha: -1, steps: 1 }), /alpha must be ≥ 0/);
  assert.throws(() => gatedAttention(model, data, { heads: 0 }), /heads must be a positive integer/);
  assert.throws(() => gatedAttention(model, skipTrigrams({ n: 5, trigrams: 3 }), { steps: 1 }), /vocabulary \(8\) is not the model's d_model \(6\)/);
  assert.throws(() => gatedAttention({} as AttentionOnlyModel, data), /model must be an AttentionOnlyModel/);
  assert.throws(() => gatedAttention(model, { tokens: [[0, 1]] } as never), /expected the output of fl.toy.skipTrigrams/);
  assert.throws(() => trainAttentionOnly(data, { heads: 0 }), /trainAttentionOnly: heads must be a positive integer/);
  assert.throws(() => trigramHeads(model, data, { share: 2 }), /share must be in \(0, 1\]/);
  assert.throws(() => model.run([[0, 1, 9]]), /token 9 at sequence 0, position 2 is outside the vocabulary 0..5/);
  assert.throws(() => new AttentionOnlyModel({ ...model.weights, W_O: tf.zeros([1, 2, 6]) as tf.Tensor3D }), /weight 'W_O' has shape \[1,2,6\], expected \[1,1,6\]/);
  assert.ok(initGatedBlock(2, 6, 1, 0).w_gQ.shape.join() === "2,6");
});
