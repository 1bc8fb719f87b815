import { test, before } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../../src/engine/backend.js";
import { Rng } from "../../../src/engine/random.js";
import { Transformer } from "../../../src/models/transformer.js";
import { collectQkData } from "../../../src/circuits/qk/data.js";
import { qkSlice, maskedKl } from "../../../src/circuits/qk/evaluate.js";
import { negativeEntropy, patternKl, qkCausalMask, qkLoss, qkReconstruct, qkScores, QK_WEIGHT_NAMES, type QkWeights } from "../../../src/circuits/qk/loss.js";
import { qkStep } from "../../../src/circuits/qk/gradients.js";
import { bilinearScores, qkPairTerms } from "../../../src/circuits/qk/feature-pairs.js";
import { qkDictionary, QkDictionary } from "../../../src/circuits/qk/dictionary.js";
import { qkMaskStep } from "../../../src/circuits/qk/mask.js";
import { inductionScores } from "../../../src/circuits/qk/pairs.js";
import { forEachEngine } from "../../engines.js";

const T = 8;
let model: Transformer;
let docs: number[][];

before(async () => {
  await ready();
  const m = Transformer.init({ d_model: 16, n_layers: 2, n_heads: 2, d_vocab: 12, n_ctx: T }, { seed: 4 });
  // Larger weights than GPT-2's init (q and k most), so patterns are far from uniform and every term matters.
  model = new Transformer(m.cfg, Object.fromEntries(Object.entries(m.params).map(([k, t]) => [k, k.includes("ln_") ? t : tf.mul(t, k.includes("c_attn") ? 30 : 6)])));
  const rng = new Rng(2);
  docs = Array.from({ length: 12 }, () => Array.from({ length: T }, () => rng.int(12)));
});

/** Random transcoder weights with about half the features firing. */
function randomWeights(seed: number, d: number, hd: number, width: number): QkWeights {
  const rng = new Rng(seed);
  const t = (shape: number[], s: number) => tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)).map((v) => v * s), shape);
  return {
    W_encQ: t([d, width], 0.5), b_encQ: t([width], 0.2), D_Q: t([width, hd], 0.6), b_Q: t([hd], 0.3),
    W_encK: t([d, width], 0.5), b_encK: t([width], 0.2), D_K: t([width, hd], 0.6), b_K: t([hd], 0.3),
  } as QkWeights;
}

function relErr(a: Float32Array | number[], b: Float32Array | number[]): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) (num += (a[i] - b[i]) ** 2, (den += b[i] ** 2));
  return Math.sqrt(num / Math.max(den, 1e-30));
}

test("KL(A‖Â) is Σ_k A log(A/Â) per query row, averaged over (document, head, query) rows (checked in plain JS)", async () => {
  const data = await collectQkData(model, docs, 1);
  const w = randomWeights(1, 16, 16, 10);
  const b = qkSlice(data, 0, 3);
  const mask = qkCausalMask(T);
  const { qHat, kHat } = qkReconstruct(w, b.r);
  const got = patternKl(b.pattern, qkScores(qHat, kHat, b, mask)).dataSync()[0];
  // By hand: scores per head, softmax over keys ≤ query, KL per row.
  const q = qHat.dataSync(), k = kHat.dataSync(), A = b.pattern.dataSync();
  const H = 2, dh = 8;
  let sum = 0, rows = 0;
  for (let d = 0; d < 3; d++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const s: number[] = [];
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let e = 0; e < dh; e++) dot += q[(d * T + i) * 16 + h * dh + e] * k[(d * T + j) * 16 + h * dh + e];
      s.push(dot * data.scale);
    }
    const mx = Math.max(...s), z = s.reduce((a, v) => a + Math.exp(v - mx), 0);
    let kl = 0;
    for (let j = 0; j <= i; j++) {
      const a = A[((d * H + h) * T + i) * T + j], logHat = s[j] - mx - Math.log(z);
      if (a > 0) kl += a * (Math.log(a) - logHat);
    }
    sum += kl;
    rows++;
  }
  assert.ok(Math.abs(got - sum / rows) < 1e-4 * Math.max(1, sum / rows), `${got} vs ${sum / rows}`);
  // The model's own q and k give back its own pattern: KL 0.
  assert.ok(patternKl(b.pattern, qkScores(b.q, b.k, b, mask)).dataSync()[0] < 1e-5);
});

test("hand-written gradients of the loss equal tfjs autodiff (every weight, every engine)", async () => {
  await forEachEngine(async () => {
    const data = await collectQkData(model, docs, 1);
    const w = randomWeights(3, 16, 16, 10);
    const b = qkSlice(data, 2, 6);
    const mask = qkCausalMask(T);
    const c = 0.05;
    const ne = negativeEntropy(b.pattern);
    const step = qkStep(w, b, c, mask, ne, true);
    const names = QK_WEIGHT_NAMES;
    const auto = tf.grads((...xs: tf.Tensor[]) => qkLoss(Object.fromEntries(names.map((n, i) => [n, xs[i]])) as unknown as QkWeights, b, c, mask).loss)(names.map((n) => w[n]));
    const scale = Math.max(...auto.map((g) => tf.norm(g).dataSync()[0]));
    names.forEach((n, i) => {
      const a = step.grads[n].dataSync() as Float32Array, r = auto[i].dataSync() as Float32Array;
      const e = relErr(a, r);
      // b_K shifts every key's score of a query equally, so its true gradient is 0: compare it to the others' scale.
      if (n === "b_K") assert.ok(tf.norm(tf.sub(step.grads[n], auto[i])).dataSync()[0] < 1e-5 * scale, `b_K: ${a} vs ${r}`);
      else assert.ok(e < 1e-3, `${n}: relative error ${e}`);
    });
    const ref = qkLoss(w, b, c, mask);
    for (const k of ["loss", "klFull", "klQueries", "klKeys", "sparsityQ", "sparsityK"] as const) {
      const a = step.parts![k], r = ref[k].dataSync()[0];
      assert.ok(Math.abs(a - r) <= 1e-4 * Math.max(1, Math.abs(r)), `${k}: ${a} vs ${r}`);
    }
  });
});

test("the score is bilinear in the features: f_Q M_h f_Kᵀ + bias terms = q̂_h·k̂_h exactly; mask 1 gives back KL(A‖Â(q̂,k̂))", async () => {
  const data = await collectQkData(model, docs, 1);
  const w = randomWeights(5, 16, 16, 10);
  const b = qkSlice(data, 0, 4);
  const { fQ, fK, qHat, kHat } = qkReconstruct(w, b.r);
  const terms = qkPairTerms(w, 2);
  const fromFeatures = bilinearScores(fQ, fK, terms, 4, T, { full: true }).dataSync() as Float32Array;
  const zero = tf.zeros([T, T]) as tf.Tensor2D;
  const direct = qkScores(qHat, kHat, { ...b, scale: 1 }, zero).dataSync() as Float32Array;
  assert.ok(relErr(fromFeatures, direct) < 1e-5, `relative error ${relErr(fromFeatures, direct)}`);
  // M_h[i,j] is the dot product of the head-h slices of decoder rows i and j.
  const M = terms.M.dataSync(), DQ = w.D_Q.dataSync(), DK = w.D_K.dataSync();
  for (const [h, i, j] of [[0, 1, 2], [1, 9, 0], [1, 4, 4]]) {
    let dot = 0;
    for (let e = 0; e < 8; e++) dot += DQ[i * 16 + h * 8 + e] * DK[j * 16 + h * 8 + e];
    assert.ok(Math.abs(M[(h * 10 + i) * 10 + j] - dot) < 1e-5);
  }
  // Without the query-only terms the pattern is the same (they are constant along each query row).
  const causal = qkCausalMask(T);
  const klBilinear = patternKl(b.pattern, tf.add(tf.mul(bilinearScores(fQ, fK, terms, 4, T), data.scale), causal) as tf.Tensor4D).dataSync()[0];
  const klDirect = patternKl(b.pattern, qkScores(qHat, kHat, b, causal)).dataSync()[0];
  assert.ok(Math.abs(klBilinear - klDirect) < 1e-4 * Math.max(1, klDirect), `${klBilinear} vs ${klDirect}`);
  const ones = tf.ones([2, 10, 10]) as tf.Tensor3D;
  const whole = maskedKl(w, data, ones);
  const full = patternKl(qkSlice(data, 0, 12).pattern, qkScores(qkReconstruct(w, qkSlice(data, 0, 12).r).qHat, qkReconstruct(w, qkSlice(data, 0, 12).r).kHat, qkSlice(data, 0, 12), causal)).dataSync()[0];
  assert.ok(Math.abs(whole - full) < 1e-4 * Math.max(1, full), `${whole} vs ${full}`);
});

test("stage 2: the hand-written gradient in the mask equals tfjs autodiff of KL + c·Σ√(m + ε)", async () => {
  const data = await collectQkData(model, docs, 1);
  const w = randomWeights(6, 16, 16, 10);
  const b = qkSlice(data, 1, 5);
  const { fQ, fK } = qkReconstruct(w, b.r);
  const terms = qkPairTerms(w, 2);
  const causal = qkCausalMask(T);
  const rng = new Rng(11);
  const m = tf.tensor3d(Float32Array.from({ length: 200 }, () => 0.05 + 0.95 * rng.uniform()), [2, 10, 10]);
  const c = 0.02;
  const ne = negativeEntropy(b.pattern);
  const mine = qkMaskStep(fQ, fK, b.pattern, ne, terms, m, c, data.scale, causal, true);
  const loss = (mm: tf.Tensor) => tf.add(patternKl(b.pattern, tf.add(tf.mul(bilinearScores(fQ, fK, terms, 4, T, { mask: mm as tf.Tensor3D }), data.scale), causal) as tf.Tensor4D), tf.mul(tf.sum(tf.sqrt(tf.add(mm, 1e-7))), c)) as tf.Scalar;
  const auto = tf.grad(loss)(m);
  const e = relErr(mine.grad.dataSync() as Float32Array, auto.dataSync() as Float32Array);
  assert.ok(e < 1e-3, `relative error ${e}`);
  const value = loss(m).dataSync()[0];
  assert.ok(Math.abs(mine.kl! + mine.penalty! - value) < 1e-4 * Math.max(1, value), `${mine.kl! + mine.penalty!} vs ${value}`);
});

test("training lowers the pattern KL well below uniform attention, repeats exactly with a seed, and differs with another", async () => {
  const opts = { layer: 1, width: 24, sparsity: 0.01, steps: 150, batchSize: 6, lr: 1e-2 };
  const a = await qkDictionary(model, docs, { ...opts, seed: 7 });
  const b = await qkDictionary(model, docs, { ...opts, seed: 7 });
  const c = await qkDictionary(model, docs, { ...opts, seed: 8 });
  assert.ok(a instanceof QkDictionary);
  assert.ok(a.metrics.klFull < 0.5 * a.metrics.klUniform, `KL ${a.metrics.klFull} vs uniform ${a.metrics.klUniform}`);
  assert.ok(a.metrics.explained > 0.5 && a.metrics.explained <= 1);
  assert.ok(a.history[a.history.length - 1].klFull < a.history[0].klFull, "the KL falls during training");
  assert.deepEqual(Array.from(a.weights.D_K.dataSync()), Array.from(b.weights.D_K.dataSync()), "same seed, same weights");
  assert.notDeepEqual(Array.from(a.weights.D_K.dataSync()), Array.from(c.weights.D_K.dataSync()), "another seed, other weights");
  // Decoder rows stay unit norm.
  const norms = tf.norm(a.weights.D_Q, 2, 1).dataSync();
  for (const n of norms) assert.ok(Math.abs(n - 1) < 1e-4);
  // L0 as defined: mean number of nonzero features per position.
  const { fQ } = a.activations();
  let nz = 0;
  for (const v of fQ) if (v > 0) nz++;
  assert.ok(Math.abs(nz / (fQ.length / 24) - a.metrics.l0Q) < 1e-9);
});

test("stage 2: the mask stays in [0, 1] after every step, prunes pairs under a strong penalty, and m = 1 reproduces the dictionary's KL", async () => {
  const qk = await qkDictionary(model, docs, { layer: 1, width: 16, sparsity: 0.01, steps: 60, batchSize: 6, lr: 1e-2, seed: 1 });
  const mask = await qk.mask({ sparsity: 0.003, steps: 80, lr: 0.02, seed: 0 });
  assert.equal(mask.values.length, 2 * 16 * 16);
  for (const v of mask.values) assert.ok(v >= 0 && v <= 1, `mask value ${v}`);
  assert.equal(mask.history.length, 80, "every step recorded (80 steps)");
  for (const h of mask.history) assert.ok(h.min >= 0 && h.max <= 1, `step ${h.step}: mask in [${h.min}, ${h.max}]`);
  assert.ok(mask.history.some((h) => h.min === 0), "some entries were clamped at 0");
  assert.ok(mask.surviving > 0 && mask.surviving < 2 * 16 * 16, `some pairs are pruned, some kept: ${mask.surviving}`);
  assert.ok(mask.klMasked >= mask.klUnmasked - 1e-6 && mask.klMasked < mask.klUniform, "pruning costs some KL, not all of it");
  assert.equal(mask.perHead.reduce((s, h) => s + h.surviving, 0), mask.surviving);
  assert.ok(Math.abs(mask.klUnmasked - qk.metrics.klFull) < 1e-4 * Math.max(1, qk.metrics.klFull), `${mask.klUnmasked} vs ${qk.metrics.klFull}`);
  // A penalty of 0 prunes (almost) nothing: only the KL moves the mask, and the clamp caps it at 1.
  const none = await qk.mask({ sparsity: 0, steps: 5, seed: 0 });
  assert.ok(none.surviving > 0.9 * 2 * 16 * 16);
  // A strong penalty prunes everything, and the KL is then that of uniform attention over what the key-bias term leaves.
  const all = await qk.mask({ sparsity: 1, steps: 60, lr: 0.05, seed: 0 });
  assert.equal(all.surviving, 0);
});

test("pairs: ranked by attention-weighted contribution, examples are real (query ≥ key, values as defined), tokens fall back to ids", async () => {
  const qk = await qkDictionary(model, docs, { layer: 1, width: 16, sparsity: 0.01, steps: 60, batchSize: 6, lr: 1e-2, seed: 1 });
  const p = qk.pairs(1, { n: 5, examples: 3 });
  assert.equal(p.pairs.length, 5);
  for (let i = 1; i < p.pairs.length; i++) assert.ok(p.pairs[i - 1].contribution >= p.pairs[i].contribution);
  const { fQ, fK } = qk.activations();
  for (const pair of p.pairs) {
    assert.ok(pair.examples.length > 0);
    for (const e of pair.examples) {
      assert.ok(e.key <= e.query);
      const fq = fQ[(e.document * T + e.query) * 16 + pair.queryFeature], fk = fK[(e.document * T + e.key) * 16 + pair.keyFeature];
      const A = qk.data.pattern[((e.document * 2 + 1) * T + e.query) * T + e.key];
      assert.ok(Math.abs(e.value - A * fq * fk * pair.weight) < 1e-5 * Math.max(1, Math.abs(e.value)));
      assert.equal(e.queryToken, String(docs[e.document][e.query]), "no tokenizer: ids");
    }
  }
  // Token overlap Σ_X min(P_i(X), R_j(X)) recomputed from the activations for the first pair.
  const first = p.pairs[0];
  const P = new Map<number, number>(), R = new Map<number, number>();
  let sp = 0, sr = 0;
  docs.forEach((doc, d) => doc.forEach((tok, t) => {
    const a = fQ[(d * T + t) * 16 + first.queryFeature];
    if (a > 0) (P.set(tok, (P.get(tok) ?? 0) + a), (sp += a));
    const b = t > 0 ? fK[(d * T + t) * 16 + first.keyFeature] : 0;
    if (b > 0) (R.set(doc[t - 1], (R.get(doc[t - 1]) ?? 0) + b), (sr += b));
  }));
  let overlap = 0;
  for (const [tok, a] of P) overlap += Math.min(a / sp, (R.get(tok) ?? 0) / sr);
  assert.ok(Math.abs(first.overlap - overlap) < 1e-9, `${first.overlap} vs ${overlap}`);
  assert.ok(p.baselineOverlap >= 0 && p.baselineOverlap <= 1);
  const byWeight = qk.pairs(1, { n: 5, by: "weight" });
  for (let i = 1; i < 5; i++) assert.ok(Math.abs(byWeight.pairs[i - 1].weight) >= Math.abs(byWeight.pairs[i].weight));
});

test("scoreTerms: one score's feature-pair, bias and constant terms add up to scale·q̂_h·k̂_h; the model's own score beside it", async () => {
  const qk = await qkDictionary(model, docs, { layer: 1, width: 16, sparsity: 0.01, steps: 60, batchSize: 6, lr: 1e-2, seed: 2 });
  let checked = 0;
  for (const [h, d, q, k] of [[0, 0, 5, 2], [1, 3, 7, 7], [1, 11, 6, 0], [0, 4, 3, 1]]) {
    const t = qk.scoreTerms(h, d, q, k);
    assert.ok(Math.abs(t.fromFeatures - t.reconstructed) < 1e-4 * Math.max(1, Math.abs(t.reconstructed)), `${t.fromFeatures} vs ${t.reconstructed}`);
    assert.ok(Math.abs(t.pairs + t.keyFeatures + t.queryFeatures + t.constant - t.fromFeatures) < 1e-9);
    // The model's score: scale·q·k read from the data, as the model computed it (hook_attn_scores).
    let dot = 0;
    for (let e = 0; e < 8; e++) dot += qk.data.q[(d * T + q) * 16 + h * 8 + e] * qk.data.k[(d * T + k) * 16 + h * 8 + e];
    assert.ok(Math.abs(t.model - dot * qk.data.scale) < 1e-5);
    checked++;
  }
  assert.equal(checked, 4);
  assert.throws(() => qk.scoreTerms(0, 0, 2, 3), /need 0 ≤ key ≤ query < 8, got query 2, key 3/);
  assert.throws(() => qk.scoreTerms(0, 12, 2, 1), /document 12 is out of range 0\.\.11/);
});

test("induction score: 1 for a head that attends only to keys after an earlier copy of the query token, 0 for one that never does", async () => {
  const T2 = 6, doc = [0, 1, 2, 1, 2, 3];
  const pattern = new Float32Array(2 * T2 * T2);
  for (let q = 0; q < T2; q++) {
    const hits: number[] = [];
    for (let k = 1; k <= q; k++) if (doc[k - 1] === doc[q]) hits.push(k);
    for (const k of hits) pattern[q * T2 + k] = 1 / hits.length; // head 0: induction
    pattern[(T2 + q) * T2 + q] = 1; // head 1: attends to itself
  }
  const data = { n: 1, T: T2, heads: 2, tokens: [doc], pattern } as unknown as Parameters<typeof inductionScores>[0];
  const s = inductionScores(data);
  assert.ok(Math.abs(s[0] - 1) < 1e-6, `${s[0]}`);
  assert.equal(s[1], 0);
});

test("bad input: a model that is not a Transformer, a layer out of range, an unknown option, ragged documents, a head out of range", async () => {
  await assert.rejects(qkDictionary({ run() {} }, docs, { layer: 0 }), /featurelab: qkDictionary decomposes the attention of a Transformer.*got Object/);
  await assert.rejects(qkDictionary(model, docs, { layer: 2 }), /featurelab: qkDictionary: layer 2 is out of range; .* has layers 0\.\.1 \(hook blocks\.\{layer\}\.attn\.hook_pattern\)/);
  await assert.rejects(qkDictionary(model, docs, { layer: -1 }), /layer -1 is out of range/);
  await assert.rejects(qkDictionary(model, docs, { layer: 0, widht: 8 } as never), /unknown option 'widht'/);
  await assert.rejects(qkDictionary(model, [[0, 1, 2], [0, 1]], { layer: 0 }), /every document must have the same length \(document 0 has 3 tokens, document 1 has 2\)/);
  await assert.rejects(qkDictionary(model, docs, { layer: 0, steps: 0 }), /steps must be a positive integer, got 0/);
  await assert.rejects(qkDictionary(model, docs, { layer: 0, sparsity: -1 }), /sparsity must be ≥ 0, got -1/);
  await assert.rejects(qkDictionary(model, docs, { layer: 0, init: "zeros" as never }), /init must be "data" or "random", got "zeros"/);
  await assert.rejects(qkDictionary(model, docs, { layer: 0, width: 200 }), /init "data" starts each of the 200 features at a different position, but there are only 96/);
  const qk = await qkDictionary(model, docs, { layer: 0, width: 8, steps: 2, batchSize: 4, init: "random" });
  assert.throws(() => qk.pairs(2), /featurelab: QK dictionary of layer 0: head 2 is out of range; blocks\.0\.attn has heads 0\.\.1/);
  assert.throws(() => qk.pairs(0, { by: "size" as never }), /by must be "contribution" or "weight"/);
  await assert.rejects(qk.mask({ stpes: 3 } as never), /qk\.mask: unknown option 'stpes'/);
});
