// SPD on the residual MLP: the structured float64 step against tfjs autodiff of the plain loss (the
// 1000-wide residual built outright, small here) and against central finite differences, one and
// two layers; a short run on a small residual MLP whose features each find their own subcomponent
// in mlp_in; the target's forward pass and training; the errors for bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fl from "../../src/index.js";
import { tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { InputError } from "../../src/io/errors.js";
import { causalImportance, gateOutput, initGate, type GateParams } from "../../src/circuits/parameter-decomposition/causal-importance.js";
import { stepLayout, type StepConfig } from "../../src/circuits/parameter-decomposition/spd-step.js";
import { residSpdStep, residStepModel } from "../../src/circuits/parameter-decomposition/resid-mlp-step.js";
import { sampleResidFeatures } from "../../src/circuits/parameter-decomposition/resid-mlp-target.js";
import { assertBlocksMatch, assertFiniteDifferences } from "./gradient-checks.js";

/** A small residual MLP with random parameters that keep every gate regime busy. */
function fixture(L: number, B: number, n = 8, d = 16, h = 4, C = 6, H = 4) {
  const rng = new Rng(5 + L);
  const E = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = rng.normals(d);
    const norm = Math.hypot(...row);
    for (let k = 0; k < d; k++) E[i * d + k] = row[k] / norm;
  }
  const layers = Array.from({ length: L }, () => ({ Win: Float64Array.from(rng.normals(h * d), (v) => v / 2), Wout: Float64Array.from(rng.normals(d * h), (v) => v / 2) }));
  const rm = residStepModel(E, n, d, layers, h, C, H);
  const lay = stepLayout(rm.step);
  const theta = new Float64Array(lay.size);
  rm.step.layers.forEach((ly, k) => {
    theta.set(rng.normals(ly.din * C).map((v) => 0.6 * v), lay.V[k]);
    theta.set(rng.normals(C * ly.dout).map((v) => 0.6 * v), lay.U[k]);
    const g = initGate(rng, C, H);
    theta.set(g.wIn, lay.wIn[k]);
    theta.set(rng.normals(C * H).map((v) => 0.3 * v), lay.bIn[k]);
    theta.set(g.wOut, lay.wOut[k]);
    theta.set(rng.normals(C).map((v) => 0.4 * v + 0.5), lay.bOut[k]);
  });
  const x = sampleResidFeatures(rng, 0.3, B, n);
  // Two rows with no active feature (the step folds such rows into one, weighted).
  x.fill(0, 0, n);
  x.fill(0, 5 * n, 6 * n);
  const uniforms = () => rm.step.layers.map(() => Float64Array.from({ length: B * C }, () => rng.uniform()));
  return { rm, lay, theta, x, uFull: uniforms(), uLayer: uniforms(), n, d, h, C, H, L };
}

const CFG: StepConfig = { faithfulness: 1, stochasticRecon: 1, stochasticReconLayerwise: 1, importanceMinimality: 0.02, p: 2, sigmoid: "leaky_hard" };

/** The SPD loss of the residual MLP written plainly in tfjs: the d-wide residual built, each matrix its own V, U. */
function plainLoss(f: ReturnType<typeof fixture>, V: tf.Tensor2D[], U: tf.Tensor2D[], gates: GateParams[], cfg: StepConfig): tf.Scalar {
  const { rm, n, d, h, L, C } = f;
  const B = f.x.length / n;
  const E = tf.tensor2d(Float32Array.from(rm.E), [n, d]);
  const W = rm.step.layers.map((ly) => tf.tensor2d(Float32Array.from(ly.W), [ly.dout, ly.din]));
  const x = tf.tensor2d(Float32Array.from(f.x), [B, n]);
  const r0 = tf.matMul(x, E);
  // The target, and each matrix's input (for the gates).
  const inputs: tf.Tensor2D[] = [];
  let r = r0;
  for (let l = 0; l < L; l++) {
    inputs.push(r);
    const hid = tf.relu(tf.matMul(r, W[2 * l], false, true)) as tf.Tensor2D;
    inputs.push(hid);
    r = tf.add(r, tf.matMul(hid, W[2 * l + 1], false, true));
  }
  const target = tf.matMul(r, E, false, true);
  const cis = inputs.map((inp, k) => causalImportance(gateOutput(tf.matMul(inp, V[k]), gates[k]), cfg.sigmoid));
  const masked = (masks: (tf.Tensor2D | undefined)[]) => {
    let res = r0;
    for (let l = 0; l < L; l++) {
      const layer = (z: tf.Tensor2D, k: number) => (masks[k] ? tf.matMul(tf.mul(tf.matMul(z, V[k]), masks[k]!), U[k]) : tf.matMul(z, W[k], false, true)) as tf.Tensor2D;
      const hid = tf.relu(layer(res, 2 * l)) as tf.Tensor2D;
      res = tf.add(res, layer(hid, 2 * l + 1));
    }
    return tf.mean(tf.square(tf.sub(tf.matMul(res, E, false, true), target))) as tf.Scalar;
  };
  const mask = (k: number, u: Float64Array) => {
    const g = cis[k].ci;
    return tf.add(g, tf.mul(tf.sub(1, g), tf.tensor2d(Float32Array.from(u), [B, C]))) as tf.Tensor2D;
  };
  let nParams = 0;
  let faith: tf.Scalar = tf.scalar(0);
  W.forEach((w, k) => {
    nParams += w.size;
    faith = tf.add(faith, tf.sum(tf.square(tf.sub(w, tf.transpose(tf.matMul(V[k], U[k])))))) as tf.Scalar;
  });
  faith = tf.div(faith, nParams) as tf.Scalar;
  const recon = masked(W.map((_, k) => mask(k, f.uFull[k])));
  let layerwise: tf.Scalar = tf.scalar(0);
  W.forEach((_, k) => (layerwise = tf.add(layerwise, masked(W.map((__, q) => (q === k ? mask(k, f.uLayer[k]) : undefined)))) as tf.Scalar));
  layerwise = tf.div(layerwise, W.length) as tf.Scalar;
  let minimality: tf.Scalar = tf.scalar(0);
  for (const c of cis) minimality = tf.add(minimality, tf.div(tf.sum(cfg.p === 1 ? c.ciUpper : tf.square(c.ciUpper)), B)) as tf.Scalar;
  void h;
  return tf.addN([tf.mul(faith, cfg.faithfulness), tf.mul(recon, cfg.stochasticRecon), tf.mul(layerwise, cfg.stochasticReconLayerwise), tf.mul(minimality, cfg.importanceMinimality)]) as tf.Scalar;
}

for (const L of [1, 2]) {
  test(`the structured residual-MLP SPD gradient equals tfjs autodiff of the plain loss (${L} layer${L > 1 ? "s" : ""})`, () => {
    const B = 24;
    const f = fixture(L, B);
    const { rm, lay, theta, C, H } = f;
    for (const cfg of [CFG, { ...CFG, sigmoid: "hard" as const, p: 1 }]) {
      const grad = new Float64Array(lay.size);
      const ours = residSpdStep(rm, lay, theta, grad, f.x, B, f.uFull, f.uLayer, cfg);
      const v = (o: number, shape: number[]) => tf.variable(tf.tensor(Float32Array.from(theta.subarray(o, o + shape.reduce((a, b) => a * b))), shape));
      const V = rm.step.layers.map((ly, k) => v(lay.V[k], [ly.din, C]) as tf.Variable<tf.Rank.R2>);
      const U = rm.step.layers.map((ly, k) => v(lay.U[k], [C, ly.dout]) as tf.Variable<tf.Rank.R2>);
      const gates = rm.step.layers.map((_, k) => ({ wIn: v(lay.wIn[k], [C, H]) as tf.Variable<tf.Rank.R2>, bIn: v(lay.bIn[k], [C, H]) as tf.Variable<tf.Rank.R2>, wOut: v(lay.wOut[k], [C, H]) as tf.Variable<tf.Rank.R2>, bOut: v(lay.bOut[k], [C]) as tf.Variable<tf.Rank.R1> }));
      const { value, grads } = tf.variableGrads(() => plainLoss(f, V, U, gates, cfg));
      assert.ok(Math.abs(value.dataSync()[0] - ours.total) < 1e-5 * Math.max(1, ours.total), `loss ${value.dataSync()[0]} vs ${ours.total}`);
      const blocks: [tf.Variable, number][] = [];
      rm.step.layers.forEach((_, k) => blocks.push([V[k], lay.V[k]], [U[k], lay.U[k]], [gates[k].wIn, lay.wIn[k]], [gates[k].bIn, lay.bIn[k]], [gates[k].wOut, lay.wOut[k]], [gates[k].bOut, lay.bOut[k]]));
      assertBlocksMatch(grads, blocks, grad, 2e-4, cfg.sigmoid);
      tf.dispose([value, ...Object.values(grads), ...blocks.map(([t]) => t)]);
    }
  });

  test(`the residual-MLP SPD gradient matches central finite differences (${L} layer${L > 1 ? "s" : ""})`, () => {
    const B = 12;
    const f = fixture(L, B);
    const { rm, lay, theta } = f;
    const grad = new Float64Array(lay.size), scratch = new Float64Array(lay.size);
    residSpdStep(rm, lay, theta, grad, f.x, B, f.uFull, f.uLayer, CFG);
    const loss = (t: Float64Array) => residSpdStep(rm, lay, t, scratch, f.x, B, f.uFull, f.uLayer, CFG).total;
    const coords = rm.step.layers.flatMap((_, k) => [lay.V[k] + 3, lay.U[k] + 1, lay.wIn[k] + 2, lay.bIn[k] + 5, lay.wOut[k] + 7, lay.bOut[k] + 1]);
    assertFiniteDifferences(loss, theta, grad, coords, 1e-5, 3);
  });
}

/**
 * A residual MLP that is its own answer: orthonormal embeddings e_i, neuron i reads e_i and writes
 * e_i back, so ŷ_i = x_i + ReLU(x_i) exactly and each feature's computation is one rank-one piece of
 * mlp_in (and of mlp_out).
 */
function exactTarget(n: number, d: number): fl.ResidMlpTarget {
  const rng = new Rng(2);
  // Gram–Schmidt on random rows: n orthonormal embeddings in d dimensions.
  const E: number[][] = [];
  while (E.length < n) {
    let v = Array.from(rng.normals(d));
    for (const e of E) {
      const dot = v.reduce((s, x, k) => s + x * e[k], 0);
      v = v.map((x, k) => x - dot * e[k]);
    }
    const norm = Math.hypot(...v);
    E.push(v.map((x) => x / norm));
  }
  return new fl.ResidMlpTarget({ W_E: E, layers: [{ W_in: E.map((e) => [...e]), W_out: Array.from({ length: d }, (_, k) => E.map((e) => e[k])) }], featureProbability: 0.1 });
}

test("SPD on a residual MLP with a known answer: each feature's computation in its own subcomponent of mlp_in", async () => {
  const n = 6;
  const target = exactTarget(n, 12);
  const x = target.sample(200, 3);
  assert.ok(target.loss(x) < 1e-20, `the exact target's loss ${target.loss(x)}`);
  const dec = await fl.spd(target, { components: 12, steps: 600, batchSize: 256, lr: 1e-2, importanceMinimality: 3e-3, p: 1, seed: 0 });
  assert.deepEqual(dec.layerNames, ["layers.0.mlp_in", "layers.0.mlp_out"]);
  const [mlpIn, mlpOut] = dec.aliveSubcomponents();
  // One subcomponent per feature in mlp_in, a different one for each.
  assert.deepEqual(mlpIn.perFeature, Array(n).fill(1), `mlp_in per feature ${mlpIn.perFeature}`);
  assert.equal(mlpIn.alive, n);
  assert.ok(mlpOut.perFeature.every((v) => v >= 1), `mlp_out per feature ${mlpOut.perFeature}`);
  // That subcomponent's neuron contributions are the target's.
  const nc = dec.neuronContributions(0);
  assert.equal(new Set(nc.map((r) => r.component)).size, n);
  for (const r of nc) {
    const dot = r.target.reduce((s, v, j) => s + v * r.subcomponent[j], 0);
    const cos = dot / (Math.hypot(...r.target) * Math.hypot(...r.subcomponent));
    assert.ok(cos > 0.99, `feature ${r.feature}: cosine ${cos}`);
  }
  // The decomposed model with causal-importance masks computes what the target does.
  // Against the answer itself (column i of mlp_in's truth is neuron i reading feature i's embedding
  // along one residual direction): with the embeddings as the basis, MMCS is 1.
  const E = target.W_E;
  const inFeatureBasis = (W: number[][]) => W.map((row) => E.map((e) => row.reduce((s, v, k) => s + v * e[k], 0)));
  const Vf = dec.V("layers.0.mlp_in"), Uf = dec.U("layers.0.mlp_in");
  const perFeatureCols = E.map((e) => Uf.map((u, c) => u.map((x) => x * e.reduce((s, v, k) => s + v * Vf[k][c], 0))));
  for (let i = 0; i < n; i++) {
    const truth = inFeatureBasis(target.layers[0].W_in).map((r) => r[i]);
    const best = Math.max(...perFeatureCols[i].map((col) => col.reduce((s, v, j) => s + v * truth[j], 0) / (Math.hypot(...col) * Math.hypot(...truth) || 1)));
    assert.ok(best > 0.99, `feature ${i}: best cosine ${best}`);
  }
  assert.ok(Math.abs(dec.mmcs(undefined, "layers.0.mlp_in")) <= 1);
  const losses = dec.losses({ rows: 2000 });
  assert.ok(losses.target < 1e-20 && losses.ciMasked < 1e-3 && losses.unmasked < 1e-4, JSON.stringify(losses));
  assert.match(String(dec), /ResidMlpDecomposition\(layers\.0\.mlp_in, layers\.0\.mlp_out; C=12\)/);
});

test("residMlpTarget trains the repo's model: unit-norm embeddings, W_U = W_Eᵀ, better than no MLP", async () => {
  const target = await fl.residMlpTarget({ features: 10, resid: 40, neurons: 5, featureProbability: 0.1, steps: 300, batchSize: 256, seed: 1 });
  assert.ok(target.W_E.every((r) => Math.abs(Math.hypot(...r) - 1) < 1e-6));
  assert.deepEqual(target.matrices().map((m) => [m.name, m.W.length, m.W[0].length]), [["layers.0.mlp_in", 5, 40], ["layers.0.mlp_out", 40, 5]]);
  const x = target.sample(4000, 9);
  // Without its MLP the model outputs W_E·W_Eᵀx ≈ x; the labels want x + ReLU(x).
  const bare = new fl.ResidMlpTarget({ W_E: target.W_E, layers: [{ W_in: target.layers[0].W_in.map((r) => r.map(() => 0)), W_out: target.layers[0].W_out.map((r) => r.map(() => 0)) }], featureProbability: 0.1 });
  assert.ok(target.loss(x) < 0.8 * bare.loss(x), `trained ${target.loss(x)}, no MLP ${bare.loss(x)}`);
  assert.equal(target.labels([[0.5, -0.5]])[0].join(), "1,-0.5");
  const two = await fl.residMlpTarget({ features: 6, resid: 16, layers: 2, steps: 2, batchSize: 8 });
  assert.deepEqual(two.matrices().map((m) => m.name), ["layers.0.mlp_in", "layers.0.mlp_out", "layers.1.mlp_in", "layers.1.mlp_out"]);
  assert.equal(two.neurons, 25);
});

test("bad input to the residual MLP and its decomposition is refused with InputErrors that say what is wrong", async () => {
  const target = exactTarget(4, 8);
  await assert.rejects(fl.residMlpTarget({ neurons: 0 }), (e: Error) => e instanceof InputError && /neurons must be a positive integer/.test(e.message));
  await assert.rejects(fl.residMlpTarget({ featureProbability: 0 }), (e: Error) => e instanceof InputError && /featureProbability must be in \(0, 1\]/.test(e.message));
  await assert.rejects(fl.residMlpTarget({ neuron: 3 } as never), /did you mean 'neurons'/);
  assert.throws(() => new fl.ResidMlpTarget({ W_E: [[1, 0]], layers: [{ W_in: [[1, 0, 0]], W_out: [[1], [0]] }] }), (e: Error) => e instanceof InputError && /layers\[0\]\.W_in must be \[1, 2\]/.test(e.message));
  assert.throws(() => new fl.ResidMlpTarget({ W_E: [[1, 0]], layers: [] }), (e: Error) => e instanceof InputError && /non-empty array/.test(e.message));
  assert.throws(() => target.forward([[1, 0]]), (e: Error) => e instanceof InputError && /rows of 4 features/.test(e.message));
  assert.throws(() => target.sample(0), InputError);
  await assert.rejects(fl.spd(target, { model: 1 }), (e: Error) => e instanceof InputError && /a ResidMlpTarget is one model/.test(e.message));
  await assert.rejects(fl.spd(target, { components: 0 }), (e: Error) => e instanceof InputError && /components must be a positive integer/.test(e.message));
  const dec = await fl.spd(target, { components: 3, steps: 2, batchSize: 8 });
  assert.throws(() => dec.V("layers.1.mlp_in"), (e: Error) => e instanceof InputError && /no layer "layers.1.mlp_in"; its layers are layers.0.mlp_in, layers.0.mlp_out/.test(e.message));
  assert.throws(() => dec.causalImportances([[1, 0]]), (e: Error) => e instanceof InputError && /rows of 4 features/.test(e.message));
  assert.throws(() => dec.subcomponent(0, 3), (e: Error) => e instanceof InputError && /subcomponent 3 out of range 0..2/.test(e.message));
  assert.throws(() => dec.aliveSubcomponents({ threshold: 1 }), (e: Error) => e instanceof InputError && /threshold must be in \[0, 1\)/.test(e.message));
  assert.throws(() => dec.aliveSubcomponents({ treshold: 0.2 } as never), /did you mean 'threshold'/);
  assert.throws(() => dec.neuronContributions(1), (e: Error) => e instanceof InputError && /layer must be an integer in 0..0/.test(e.message));
  assert.throws(() => dec.losses({ rows: 0 }), (e: Error) => e instanceof InputError && /rows must be a positive integer/.test(e.message));
  assert.throws(() => dec.maskedOutput([[0, 0, 0, 1]], [[[1, 1, 1]]]), (e: Error) => e instanceof InputError && /one \[1, 3\] array per matrix \(2 matrices\)/.test(e.message));
});
