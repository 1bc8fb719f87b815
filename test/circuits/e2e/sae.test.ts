import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ready, tf } from "../../../src/engine/backend.js";
import { forEachEngine } from "../../engines.js";
import { Rng } from "../../../src/engine/random.js";
import { Transformer } from "../../../src/models/transformer.js";
import { loadModel } from "../../../src/models/load-model.js";
import { inductionSequences } from "../../../src/models/induction-task.js";
import { architecture } from "../../../src/dictionaries/registry.js";
import { Dictionary } from "../../../src/dictionaries/dictionary.js";
import { loadDictionary } from "../../../src/dictionaries/load-dictionary.js";
import { cleanBatch, e2eLoss, e2eSaeForward, e2eSite, E2E_LOSSES, type E2ELossKind, type E2EParams } from "../../../src/circuits/e2e/loss.js";
import { DOCS, D_MODEL, scaledTransformer } from "../fixtures.js";
import { learningRate } from "../../../src/training/schedule.js";
import { batchTensors, e2eInit, foldE2EParams, trainE2E, type E2ETrainingRecord } from "../../../src/circuits/e2e/sae.js";

const D = D_MODEL;
const tinyModel = (layers = 2) => scaledTransformer(layers);

function randomParams(seed: number, width: number): E2EParams {
  const rng = new Rng(seed);
  const t = (shape: number[], s: number, shift = 0) => tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)).map((v) => v * s + shift), shape);
  return { W_enc: t([D, width], 0.5) as tf.Tensor2D, b_enc: t([width], 0.3, 0.2) as tf.Tensor1D, W_dec: t([width, D], 0.5) as tf.Tensor2D, b_dec: t([D], 0.3) as tf.Tensor1D };
}

const batchOf = (docs: number[][], ignore: number[] = []) => batchTensors(docs, ignore);

const OPTS = { l1: 0.7, beta: 1.3, klCoefficient: 0.9, mseCoefficient: 1.1 };

function lossOf(model: Transformer, hook: string, kind: E2ELossKind, docs: number[][], p: E2EParams): tf.Scalar {
  const site = e2eSite(model, hook);
  const b = batchOf(docs);
  const clean = cleanBatch(model, site, b.tokens, b.mask, b.count, { logits: true, downstream: true });
  return e2eLoss(model, site, clean, p, { kind, ...OPTS }).loss;
}

for (const hook of ["blocks.0.hook_resid_post", "blocks.1.hook_resid_pre"]) {
  for (const kind of E2E_LOSSES) {
    test(`the ${kind} loss gradient at ${hook} agrees with finite differences, on every engine`, async () => {
      await ready();
      await forEachEngine(() => {
        const model = tinyModel();
        const p = randomParams(1, 12);
        const names = ["W_enc", "b_enc", "W_dec", "b_dec"] as const;
        const f = (...xs: tf.Tensor[]) => lossOf(model, hook, kind, DOCS, Object.fromEntries(names.map((n, i) => [n, xs[i]])) as unknown as E2EParams);
        const grads = tf.grads(f)(names.map((n) => p[n]));
        const rng = new Rng(17);
        // Directional derivatives along a random direction of each parameter, by central differences.
        names.forEach((name, i) => {
          const v = tf.tensor(rng.normals(p[name].size), p[name].shape);
          const eps = 1e-3;
          const at = (s: number) => f(...names.map((n, j) => (j === i ? tf.add(p[n], tf.mul(v, s)) : p[n]))).dataSync()[0];
          const numeric = (at(eps) - at(-eps)) / (2 * eps);
          const analytic = tf.sum(tf.mul(grads[i], v)).dataSync()[0];
          const err = Math.abs(numeric - analytic) / Math.max(1e-2, Math.abs(analytic));
          assert.ok(err < 2e-2, `${kind} ∂L/∂${name}·v: autodiff ${analytic}, finite differences ${numeric} (relative error ${err})`);
      });
      });
    });
  }
}

test("padding changes nothing: a padded batch's loss is the token-weighted mean of its documents' losses", async () => {
  await ready();
  const model = tinyModel();
  const p = randomParams(2, 12);
  for (const kind of E2E_LOSSES) {
    const together = lossOf(model, "blocks.0.hook_resid_post", kind, DOCS, p).dataSync()[0];
    const count = DOCS.reduce((s, d) => s + d.length, 0);
    const apart = DOCS.reduce((s, d) => s + (d.length / count) * lossOf(model, "blocks.0.hook_resid_post", kind, [d], p).dataSync()[0], 0);
    assert.ok(Math.abs(together - apart) < 1e-4 * Math.max(1, Math.abs(apart)), `${kind}: ${together} vs ${apart}`);
  }
});

test("the terms follow e2e_sae's normalisation: φ = λ/d_in on the token-mean L1, MSE per element, KL summed over the vocabulary", async () => {
  await ready();
  const model = tinyModel();
  const p = randomParams(3, 12);
  const site = e2eSite(model, "blocks.0.hook_resid_post");
  const b = batchOf([DOCS[0]]);
  const clean = cleanBatch(model, site, b.tokens, b.mask, b.count, { logits: true, downstream: true });
  const t = e2eLoss(model, site, clean, p, { kind: "e2e+ds", ...OPTS, allTerms: true });
  // By hand on host arrays.
  const a = tf.reshape(clean.resid, [-1, D]) as tf.Tensor2D;
  const { c, aHat } = e2eSaeForward(a, p);
  const [av, hv, cv] = [a, aHat, c].map((x) => x.dataSync());
  const n = DOCS[0].length;
  let mse = 0, l1 = 0;
  for (let i = 0; i < av.length; i++) mse += (av[i] - hv[i]) ** 2;
  for (const v of cv) l1 += Math.abs(v);
  mse /= n * D;
  l1 /= n;
  const ds = t.downstream!.dataSync()[0];
  const kl = t.kl!.dataSync()[0];
  const expected = (OPTS.l1 / D) * l1 + OPTS.klCoefficient * kl + OPTS.beta * ds; // one downstream stream: β/1 · MSE
  assert.ok(Math.abs(t.mse.dataSync()[0] - mse) < 1e-5 * Math.max(1, mse));
  assert.ok(Math.abs(t.l1.dataSync()[0] - l1) < 1e-4 * Math.max(1, l1));
  assert.ok(Math.abs(t.loss.dataSync()[0] - expected) < 1e-4 * Math.max(1, expected), `${t.loss.dataSync()[0]} vs ${expected}`);
  assert.deepEqual(site.downstream, ["blocks.1.hook_resid_post"]);
  // KL against the model run with â spliced in through a hook (the ablation machinery's path).
  const splicedRun = await model.run([DOCS[0]], { hooks: { "blocks.0.hook_resid_post": () => tf.reshape(aHat, [1, n, D]) } });
  const lp = tf.logSoftmax(tf.reshape(model.logits([DOCS[0]]), [n, -1])), lq = tf.logSoftmax(tf.reshape(splicedRun.logits!, [n, -1]));
  const klRef = tf.mean(tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, lq)), 1)).dataSync()[0];
  assert.ok(Math.abs(kl - klRef) < 1e-4 * Math.max(1, klRef), `KL ${kl} vs ${klRef}`);
});

test("ignored positions keep their clean activation and count in no term", async () => {
  await ready();
  const model = tinyModel();
  const p = randomParams(6, 12);
  const hook = "blocks.0.hook_resid_post";
  const site = e2eSite(model, hook);
  const b = batchOf([DOCS[0]], [0]);
  assert.equal(b.count, DOCS[0].length - 1);
  const clean = cleanBatch(model, site, b.tokens, b.mask, b.count, { logits: true, downstream: true });
  const t = e2eLoss(model, site, clean, p, { kind: "e2e", ...OPTS, allTerms: true });
  const n = DOCS[0].length;
  const a = tf.reshape(clean.resid, [-1, D]) as tf.Tensor2D;
  const { aHat } = e2eSaeForward(a, p);
  const keepFirst = tf.concat([tf.slice(a, [0, 0], [1, D]), tf.slice(aHat, [1, 0], [n - 1, D])]);
  const run = await model.run([DOCS[0]], { hooks: { [hook]: () => tf.reshape(keepFirst, [1, n, D]) } });
  const lp = tf.logSoftmax(tf.reshape(model.logits([DOCS[0]]), [n, -1])), lq = tf.logSoftmax(tf.reshape(run.logits!, [n, -1]));
  const perToken = tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, lq)), 1);
  const klRef = tf.mean(tf.slice(perToken, [1], [n - 1])).dataSync()[0];
  assert.ok(Math.abs(t.kl!.dataSync()[0] - klRef) < 1e-4 * Math.max(1, klRef), `${t.kl!.dataSync()[0]} vs ${klRef}`);
  const mse = tf.mean(tf.square(tf.sub(tf.slice(aHat, [1, 0], [n - 1, D]), tf.slice(a, [1, 0], [n - 1, D])))).dataSync()[0];
  assert.ok(Math.abs(t.mse.dataSync()[0] - mse) < 1e-5 * Math.max(1, mse));
});

test("the output never sees the residual stream's mean: shifting b_dec along (1,…,1) leaves KL unchanged", async () => {
  await ready();
  const model = tinyModel();
  const p = randomParams(4, 12);
  const site = e2eSite(model, "blocks.0.hook_resid_post");
  const b = batchOf(DOCS);
  const clean = cleanBatch(model, site, b.tokens, b.mask, b.count, { logits: true, downstream: true });
  const kl = (q: E2EParams) => e2eLoss(model, site, clean, q, { kind: "e2e", ...OPTS }).kl!.dataSync()[0];
  const shifted = { ...p, b_dec: tf.add(p.b_dec, 3) as tf.Tensor1D };
  assert.ok(Math.abs(kl(p) - kl(shifted)) < 1e-4 * Math.max(1, kl(p)), `${kl(p)} vs ${kl(shifted)}`);
  const moved = { ...p, b_dec: tf.add(p.b_dec, tf.tensor1d([3, 0, 0, 0, 0, 0, 0, 0])) as tf.Tensor1D };
  assert.ok(Math.abs(kl(p) - kl(moved)) > 1e-3, "a shift off the mean direction does change the output");
});

test("the folded dictionary computes what was trained; e2eInit is e2e_sae's; the schedule warms up and decays to the floor", async () => {
  await ready();
  const p = randomParams(5, 12);
  const dict = new Dictionary(architecture("relu", { decoder: "unit-norm" }), { architecture: "relu", d_in: D, d_sae: 12 }, foldE2EParams(p));
  const x = tf.tensor2d(new Rng(6).normals(20 * D), [20, D]);
  const { c, aHat } = e2eSaeForward(x, p);
  const f = dict.encodeTensor(x);
  assert.ok(tf.max(tf.abs(tf.sub(f, c))).dataSync()[0] < 1e-5);
  assert.ok(tf.max(tf.abs(tf.sub(dict.decodeTensor(f), aHat))).dataSync()[0] < 1e-5);
  const norms = tf.norm(dict.weights.W_dec, "euclidean", 1).dataSync();
  for (const v of norms) assert.ok(Math.abs(v - 1) < 1e-5);

  const init = e2eInit(6, 20, new Rng(0));
  const W = tf.tensor2d(init.W_dec.values, [20, 6]);
  const gram = tf.matMul(W, W, true, false).dataSync(); // columns orthonormal: WᵀW = I
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) assert.ok(Math.abs(gram[i * 6 + j] - (i === j ? 1 : 0)) < 1e-5);
  for (const v of init.W_enc.values) assert.ok(Math.abs(v) <= 1 / Math.sqrt(6));
  const tied = e2eInit(6, 20, new Rng(0), "tied");
  assert.deepEqual(tied.W_dec.values, init.W_dec.values);
  assert.deepEqual(Array.from(tf.transpose(tf.tensor2d(tied.W_enc.values, [6, 20])).dataSync()), Array.from(tied.W_dec.values));
  assert.ok(tied.b_enc.values.every((v) => v === 0));

  // e2e_sae's schedule: warm-up, then cosine decay to a tenth (learningRate with minFactor).
  const e2eLearningRate = (step: number, steps: number, lr: number, warmup: number, decay: "cosine" | "none", minFactor: number) =>
    learningRate(step, { lr, warmupSteps: warmup, decay, totalSteps: steps, minFactor });
  assert.equal(e2eLearningRate(0, 100, 1, 10, "cosine", 0.1), 0.1);
  assert.equal(e2eLearningRate(9, 100, 1, 10, "cosine", 0.1), 1);
  assert.equal(e2eLearningRate(10, 100, 1, 10, "cosine", 0.1), 1);
  assert.ok(Math.abs(e2eLearningRate(55, 100, 1, 10, "cosine", 0.1) - 0.55) < 1e-12); // halfway: 0.1 + 0.9·½
  assert.ok(Math.abs(e2eLearningRate(100, 100, 1, 10, "cosine", 0.1) - 0.1) < 1e-12);
  assert.equal(e2eLearningRate(90, 100, 1, 10, "none", 0.1), 1);
});

test("training leaves the model's weights untouched, repeats exactly with a seed, records every term, and saves/loads", async () => {
  await ready();
  const model = tinyModel();
  const before = Object.fromEntries(Object.entries(model.params).map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
  const docs = inductionSequences({ n: 40, length: 8, vocab: 10, minSpan: 2, maxSpan: 3, seed: 1 }).tokens;
  const opts = { hook: "blocks.0.hook_resid_post", loss: "e2e+ds" as const, width: 16, l1: 0.5, steps: 25, batchSize: 8, lr: 3e-3, progress: false, seed: 3, logEvery: 5 };
  const a = await trainE2E(model, docs, opts);
  for (const [k, t] of Object.entries(model.params)) assert.deepEqual(Float32Array.from(t.dataSync()), before[k], `model weight ${k} changed`);
  const b = await trainE2E(model, docs, opts);
  const c = await trainE2E(model, docs, { ...opts, seed: 4 });
  for (const k of ["W_enc", "b_enc", "W_dec", "b_dec"]) assert.deepEqual(a.params[k].dataSync(), b.params[k].dataSync(), `${k} differs between runs with one seed`);
  assert.notDeepEqual(a.params.W_enc.dataSync(), c.params.W_enc.dataSync());
  // Logging changes nothing: a logged step computes every term, an unlogged local step stops at the hook.
  const everyStep = await trainE2E(model, docs, { ...opts, loss: "local", logEvery: 1 });
  const rarely = await trainE2E(model, docs, { ...opts, loss: "local", logEvery: 7 });
  for (const k of ["W_enc", "b_enc", "W_dec", "b_dec"]) assert.deepEqual(everyStep.params[k].dataSync(), rarely.params[k].dataSync(), `${k} depends on logEvery`);
  const h = a.history as readonly E2ETrainingRecord[];
  assert.deepEqual(h.map((r) => r.step), [5, 10, 15, 20, 25]);
  for (const r of h) for (const k of ["loss", "kl", "mse", "sparsity", "downstreamMse", "l0", "fvu", "deadFraction"] as const) assert.ok(Number.isFinite(r[k]), `${k} at step ${r.step}: ${r[k]}`);
  assert.ok(h[h.length - 1].loss < h[0].loss, `the loss falls: ${h.map((r) => r.loss.toFixed(3)).join(" → ")}`);
  assert.equal((a.cfg.training as { loss: string }).loss, "e2e+ds");

  const dir = mkdtempSync(join(tmpdir(), "featurelab-e2e-"));
  try {
    await a.save(dir);
    const loaded = await loadDictionary(dir);
    assert.equal(loaded.cfg.architecture, "relu");
    assert.equal((loaded.cfg.training as { loss: string }).loss, "e2e+ds");
    const x = tf.tensor2d(new Rng(8).normals(30 * D), [30, D]);
    const [fa, fl] = [a.encodeTensor(x), loaded.encodeTensor(x)];
    assert.ok(tf.max(tf.abs(tf.sub(fa, fl))).dataSync()[0] < 1e-6);
    assert.ok(tf.max(tf.abs(tf.sub(a.decodeTensor(fa), loaded.decodeTensor(fl)))).dataSync()[0] < 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a loss that stops being finite ends the run with the last finite weights and says so", async () => {
  await ready();
  const model = tinyModel();
  const docs = inductionSequences({ n: 16, length: 8, vocab: 10, minSpan: 2, maxSpan: 3, seed: 1 }).tokens;
  const d = await trainE2E(model, docs, { hook: "blocks.0.hook_resid_post", loss: "e2e", width: 8, steps: 20, batchSize: 4, lr: 3e38, lrWarmupSteps: 0, clipGradNorm: 0, progress: false, logEvery: 1 });
  assert.match(d.note ?? "", /loss became (NaN|Infinity|-Infinity) at step (\d+); restored the weights of step \d+ and stopped/);
  for (const k of ["W_enc", "b_enc", "W_dec", "b_dec"]) assert.ok(Array.from(d.params[k].dataSync()).every(Number.isFinite), `${k} finite`);
  assert.ok(d.history.every((r) => Number.isFinite(r.loss)));
});

test("bad input is refused with errors that name the problem", async () => {
  await ready();
  const model = tinyModel();
  const docs = [[0, 1, 2, 3]];
  const base = { hook: "blocks.0.hook_resid_post", width: 8, steps: 1, progress: false };
  await assert.rejects(trainE2E(model, docs, { ...base, hook: "blocks.7.hook_resid_post" }), /has no hook point 'blocks\.7\.hook_resid_post'/);
  await assert.rejects(trainE2E(model, docs, { ...base, hook: "blocks.0.attn.hook_z" }), /'blocks\.0\.attn\.hook_z' is not a residual stream/);
  await assert.rejects(trainE2E(model, docs, { ...base, hook: "blocks.0.hook_resid_mid" }), /not a residual stream;.* resumes/);
  await assert.rejects(trainE2E({ name: "mlp" } as unknown as Transformer, docs, base), /needs a featurelab Transformer .*got mlp/);
  await assert.rejects(trainE2E(model, [], base), /needs token sequences/);
  await assert.rejects(trainE2E(model, "some text", base), /has no tokenizer/);
  await assert.rejects(trainE2E(model, docs, { ...base, hook: "blocks.1.hook_resid_post", loss: "e2e+ds" }), /last one; use "e2e"/);
  await assert.rejects(trainE2E(model, docs, { ...base, loss: "global" as E2ELossKind }), /loss must be one of "local", "e2e", "e2e\+ds"/);
  await assert.rejects(trainE2E(model, docs, { ...base, width: 0 }), /width must be a positive integer/);
  await assert.rejects(trainE2E(model, docs, { ...base, lambda: 2 } as never), /unknown option 'lambda'/);
  await assert.rejects(trainE2E(model, docs, { ...base, l1: -1 }), /l1 must be a finite number ≥ 0/);
  await assert.rejects(trainE2E(model, docs, { ...base, hook: undefined } as never), /needs \{ hook \}/);
  await assert.rejects(trainE2E(model, docs, { ...base, init: "zeros" } as never), /init must be "e2e_sae" or "tied"/);
  await assert.rejects(trainE2E(model, docs, { ...base, ignorePositions: [0, 1, 2, 3] }), /every position of a batch is ignored/);
  await assert.rejects(trainE2E(model, docs, { ...base, ignorePositions: 0 } as never), /ignorePositions must be an array/);
});

test("known answer: on a model that cannot see the residual stream's mean, local SAEs reconstruct it and e2e SAEs do not", async () => {
  await ready();
  // The shipped model with a large per-position offset along u = (1,…,1)/√d added to its position
  // embeddings: every read of the residual stream is a LayerNorm, which subtracts the mean, so the
  // model computes exactly what it did — but the activation at the hook now carries the offset.
  const base = await loadModel("models/tiny-induction");
  const d = base.cfg.d_model;
  const rng = new Rng(11);
  const offsets = rng.normals(base.cfg.n_ctx).map((v) => 2 * v);
  const wpe = tf.add(base.params["wpe.weight"], tf.mul(tf.tensor2d(offsets, [base.cfg.n_ctx, 1]), tf.ones([1, d])));
  const model = new Transformer(base.cfg, { ...base.params, "wpe.weight": wpe });
  const test = inductionSequences({ n: 32, seed: 7 }).tokens;
  const diff = tf.max(tf.abs(tf.sub(model.logits(test), base.logits(test)))).dataSync()[0];
  assert.ok(diff < 1e-3, `the offset model computes the same logits (max diff ${diff})`);

  const hook = "blocks.0.hook_resid_post";
  const train = inductionSequences({ n: 1280, seed: 1 }).tokens;
  const common = { hook, width: 64, steps: 80, batchSize: 16, lr: 1e-2, init: "tied" as const, progress: false, seed: 0 };
  const local = await trainE2E(model, train, { ...common, loss: "local", l1: 0.1 });
  const e2e = await trainE2E(model, train, { ...common, loss: "e2e", l1: 1 });
  const { cache } = await model.run(test, { cache: [hook], logits: false });
  const x = cache.get(hook).toTensor();
  // Explained variance of the activation's component along u.
  const evAlongU = (dict: Dictionary) =>
    tf.tidy(() => {
      const u = tf.div(tf.ones([d, 1]), Math.sqrt(d));
      const a = tf.matMul(x, u), ah = tf.matMul(dict.decodeTensor(dict.encodeTensor(x)), u);
      return 1 - tf.sum(tf.square(tf.sub(ah, a))).dataSync()[0] / tf.sum(tf.square(tf.sub(a, tf.mean(a)))).dataSync()[0];
    });
  const [evLocal, evE2e] = [evAlongU(local), evAlongU(e2e)];
  const kl = (e2e.history as E2ETrainingRecord[]).map((r) => r.kl);
  assert.ok(kl[kl.length - 1] < 0.2 * kl[0], `the e2e SAE did learn to keep the output: KL ${kl[0].toFixed(3)} → ${kl[kl.length - 1].toFixed(3)}`);
  assert.ok(evLocal > 0.9, `local reconstructs the offset: explained variance along u ${evLocal}`);
  assert.ok(evE2e < 0.5, `e2e does not: explained variance along u ${evE2e}`);
});
