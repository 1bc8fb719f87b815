// SPD: the written-out gradient against tfjs autodiff of the same loss and against central finite
// differences (float64), MMCS/ML2R on a decomposition built by hand, a short seeded run on TMS 5-2
// that finds the five feature directions, and the errors for bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fl from "../../src/index.js";
import { tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { InputError } from "../../src/io/errors.js";
import { sampleFeatures } from "../../src/models/toy-superposition.js";
import { initGate } from "../../src/circuits/parameter-decomposition/causal-importance.js";
import { spdLossTerms, type Chain, type SpdParams } from "../../src/circuits/parameter-decomposition/spd-loss.js";
import { spdStep, stepLayout, type StepConfig, type StepModel } from "../../src/circuits/parameter-decomposition/spd-step.js";
import { ParameterDecomposition } from "../../src/circuits/parameter-decomposition/decomposition.js";
import { assertBlocksMatch, assertFiniteDifferences } from "./gradient-checks.js";
import { annealedP, spdLearningRate } from "../../src/circuits/parameter-decomposition/spd.js";

// A TMS 5-2 target trained by fl.tmsTarget({ seed: 0 }) (10k steps; the pentagon), rounded.
const W52 = [
  [1.103, 0.593, 0.078, -1.056, -0.728],
  [0.26, -0.963, 1.128, 0.422, -0.859],
];
const B52 = [-0.25, -0.239, -0.235, -0.246, -0.239];

/** TMS 5-2+ID as a step model (three layers, the last tied to the first), with random parameters that keep every gate regime busy. */
function fixture(B: number, C = 6, H = 4) {
  const rng = new Rng(3);
  const n = 5, m = 2;
  const W = Float64Array.from(W52.flat());
  const WT = new Float64Array(n * m);
  for (let o = 0; o < m; o++) for (let i = 0; i < n; i++) WT[i * m + o] = W[o * n + i];
  const model: StepModel = { layers: [{ din: n, dout: m, W }, { din: m, dout: m, W: Float64Array.from([1, 0, 0, 1]) }, { din: m, dout: n, W: WT, tiedTo: 0 }], bias: Float64Array.from(B52), C, H };
  const lay = stepLayout(model);
  const theta = new Float64Array(lay.size);
  for (const l of [0, 1]) {
    theta.set(rng.normals(model.layers[l].din * C).map((v) => 0.6 * v), lay.V[l]);
    theta.set(rng.normals(C * model.layers[l].dout).map((v) => 0.6 * v), lay.U[l]);
  }
  for (let l = 0; l < 3; l++) {
    const g = initGate(rng, C, H);
    theta.set(g.wIn, lay.wIn[l]);
    theta.set(rng.normals(C * H).map((v) => 0.3 * v), lay.bIn[l]);
    theta.set(g.wOut, lay.wOut[l]);
    theta.set(rng.normals(C).map((v) => 0.4 * v + 0.5), lay.bOut[l]);
  }
  const x = Float64Array.from(sampleFeatures(rng, [0.4], B, n));
  const uniforms = () => [0, 1, 2].map(() => Float64Array.from({ length: B * C }, () => rng.uniform()));
  return { model, lay, theta, x, uFull: uniforms(), uLayer: uniforms(), n, C, H };
}

const CFG: StepConfig = { faithfulness: 1, stochasticRecon: 1, stochasticReconLayerwise: 1, importanceMinimality: 3e-3, p: 1, sigmoid: "leaky_hard" };

test("the written-out SPD gradient equals tfjs autodiff of the loss (TMS 5-2+ID, tied, p = 1 and p = 2)", () => {
  const B = 32;
  const f = fixture(B);
  const { model, lay, theta, C, H } = f;
  for (const cfg of [CFG, { ...CFG, p: 2, importanceMinimality: 0.05 }, { ...CFG, sigmoid: "hard" as const }]) {
    const grad = new Float64Array(lay.size);
    const ours = spdStep(model, lay, theta, grad, f.x, B, f.uFull, f.uLayer, cfg);
    const v = (o: number, shape: number[]) => tf.variable(tf.tensor(Float32Array.from(theta.subarray(o, o + shape.reduce((a, b) => a * b))), shape));
    const params: SpdParams = {
      V: [v(lay.V[0], [5, C]), v(lay.V[1], [2, C]), undefined] as SpdParams["V"],
      U: [v(lay.U[0], [C, 2]), v(lay.U[1], [C, 2]), undefined] as SpdParams["U"],
      gates: [0, 1, 2].map((l) => ({ wIn: v(lay.wIn[l], [C, H]) as tf.Variable<tf.Rank.R2>, bIn: v(lay.bIn[l], [C, H]) as tf.Variable<tf.Rank.R2>, wOut: v(lay.wOut[l], [C, H]) as tf.Variable<tf.Rank.R2>, bOut: v(lay.bOut[l], [C]) as tf.Variable<tf.Rank.R1> })),
    };
    const chain: Chain = { layers: model.layers.map((ly, l) => ({ name: String(l), weight: tf.tensor2d(Float32Array.from(ly.W), [ly.dout, ly.din]), tiedTo: ly.tiedTo })), bias: tf.tensor1d(Float32Array.from(model.bias)) };
    const t2 = (a: Float64Array[]) => a.map((u) => tf.tensor2d(Float32Array.from(u), [B, C]));
    const X = tf.tensor2d(Float32Array.from(f.x), [B, 5]);
    const { value, grads } = tf.variableGrads(() => spdLossTerms(chain, params, X, { full: t2(f.uFull), layerwise: t2(f.uLayer) }, cfg).total);
    assert.ok(Math.abs(value.dataSync()[0] - ours.total) < 1e-5 * Math.max(1, ours.total), `loss ${value.dataSync()[0]} vs ${ours.total}`);
    const blocks: [tf.Variable, number][] = [[params.V[0] as tf.Variable, lay.V[0]], [params.U[0] as tf.Variable, lay.U[0]], [params.V[1] as tf.Variable, lay.V[1]], [params.U[1] as tf.Variable, lay.U[1]]];
    params.gates.forEach((g, l) => blocks.push([g.wIn as tf.Variable, lay.wIn[l]], [g.bIn as tf.Variable, lay.bIn[l]], [g.wOut as tf.Variable, lay.wOut[l]], [g.bOut as tf.Variable, lay.bOut[l]]));
    assertBlocksMatch(grads, blocks, grad, 1e-4, `${cfg.p}/${cfg.sigmoid}`);
    tf.dispose([value, ...Object.values(grads), ...blocks.map(([t]) => t), X, chain.bias, ...chain.layers.map((l) => l.weight)]);
  }
});

test("the SPD gradient matches central finite differences (float64, directional and per coordinate)", () => {
  const B = 16;
  const f = fixture(B);
  const { model, lay, theta } = f;
  const grad = new Float64Array(lay.size);
  const scratch = new Float64Array(lay.size);
  spdStep(model, lay, theta, grad, f.x, B, f.uFull, f.uLayer, CFG);
  const loss = (t: Float64Array) => spdStep(model, lay, t, scratch, f.x, B, f.uFull, f.uLayer, CFG).total;
  // Directional derivatives along random directions through every parameter at once, and one
  // coordinate from each block (V, U of both owned layers, every gate's four tensors).
  const coords = [lay.V[0] + 3, lay.U[0] + 1, lay.V[1] + 2, lay.U[1] + 5, ...[0, 1, 2].flatMap((l) => [lay.wIn[l] + 2, lay.bIn[l] + 5, lay.wOut[l] + 7, lay.bOut[l] + 1])];
  assertFiniteDifferences(loss, theta, grad, coords);
});

test("MMCS and ML2R: 1 for the exact answer, and they see sign, shrinkage and a shared direction", () => {
  // linear1 of TMS 5-2 decomposed exactly: subcomponent j = column j of W (V = e_j, U_j = W[:, j]).
  const { model, lay } = fixture(1, 7, 2);
  const theta = new Float64Array(lay.size);
  const C = 7;
  for (let j = 0; j < 5; j++) {
    theta[lay.V[0] + j * C + j] = 1;
    theta[lay.U[0] + j * 2] = W52[0][j];
    theta[lay.U[0] + j * 2 + 1] = W52[1][j];
  }
  const dec = new ParameterDecomposition({ names: ["linear1", "hidden_layers.0", "linear2"], model, layout: lay, theta, history: [], seconds: 0 });
  assert.ok(Math.abs(dec.mmcs() - 1) < 1e-12 && Math.abs(dec.ml2r() - 1) < 1e-12);
  assert.deepEqual(dec.featureMatches().map((r) => r.component), [0, 1, 2, 3, 4]);
  assert.deepEqual(dec.weight("linear1").map((r) => r.map((v) => +v.toFixed(6))), W52);
  // Halve subcomponent 2 and flip the sign of its V: feature 2's best match is now anti-aligned…
  theta[lay.V[0] + 2 * C + 2] = -0.5;
  const flipped = new ParameterDecomposition({ names: ["linear1", "hidden_layers.0", "linear2"], model, layout: lay, theta, history: [], seconds: 0 });
  assert.ok(Math.abs(flipped.mmcs() - (4 + -1) / 5) < 1e-12);
  // …and with a second, aligned copy at 60% the max cosine is 1 again, the L2 ratio that copy's.
  theta[lay.V[0] + 2 * C + 5] = 0.6;
  for (let o = 0; o < 2; o++) theta[lay.U[0] + 5 * 2 + o] = W52[o][2];
  const shared = new ParameterDecomposition({ names: ["linear1", "hidden_layers.0", "linear2"], model, layout: lay, theta, history: [], seconds: 0 });
  assert.ok(Math.abs(shared.mmcs() - 1) < 1e-12);
  assert.ok(Math.abs(shared.ml2r() - (4 + 0.6) / 5) < 1e-12);
  assert.throws(() => shared.mmcs([[1, 0]]), InputError);
  assert.throws(() => shared.V("linear3"), /no layer "linear3"/);
});

test("the repo's schedules: quarter-cosine learning rate, linear p annealing", () => {
  assert.equal(spdLearningRate(0, 100, 1e-3, "cosine"), 1e-3);
  assert.ok(Math.abs(spdLearningRate(99, 100, 1e-3, "cosine")) < 1e-18);
  assert.ok(Math.abs(spdLearningRate(33, 67, 1, "cosine") - Math.SQRT1_2) < 1e-12);
  assert.equal(annealedP(0.2, 2, 1, 0.5, 1), 2);
  assert.equal(annealedP(0.75, 2, 1, 0.5, 1), 1.5);
  assert.equal(annealedP(1, 2, 1, 0.5, 1), 1);
  assert.equal(annealedP(0.9, 2, undefined, 0, 1), 2);
});

test("SPD on TMS 5-2, a short seeded run: one subcomponent per feature direction", async () => {
  const target = new fl.TmsTarget({ W: W52, b: B52 });
  // The paper's settings except the budget: 500 steps of 512 rows at lr 1e-2 (the paper: 40k of 4096 at 1e-3).
  const dec = await fl.spd(target, { steps: 500, batchSize: 512, lr: 1e-2, seed: 0 });
  assert.deepEqual(dec.layerNames, ["linear1", "linear2"]);
  const mmcs = dec.mmcs();
  assert.ok(mmcs > 0.93, `MMCS ${mmcs}`);
  // The five features find five different subcomponents, and the sum of all of them is the target.
  assert.equal(new Set(dec.featureMatches().map((r) => r.component)).size, 5);
  const last = dec.history[dec.history.length - 1];
  assert.ok(last.faithfulness < 1e-3, `faithfulness ${last.faithfulness}`);
  // Causal importances of one-hot inputs are in [0, 1] and one per row.
  const oneHot = [0, 1, 2, 3, 4].map((i) => [0, 1, 2, 3, 4].map((j) => (i === j ? 0.75 : 0)));
  const ci = dec.causalImportances(oneHot, "linear1");
  assert.equal(ci.length, 5);
  assert.ok(ci.every((row) => row.length === 20 && row.every((g) => g >= 0 && g <= 1)));
  assert.match(String(dec), /ParameterDecomposition\(linear1, linear2; C=20\)/);
});

test("bad options are refused with InputErrors that say what is wrong", async () => {
  const target = new fl.TmsTarget({ W: W52, b: B52 });
  for (const [opts, pattern] of [
    [{ components: 0 }, /components must be a positive integer/],
    [{ steps: 1.5 }, /steps must be a positive integer/],
    [{ lr: -1 }, /lr must be a positive number/],
    [{ p: 0 }, /p must be a positive number/],
    [{ importanceMinimality: -1 }, /importanceMinimality must be a finite number ≥ 0/],
    [{ sigmoid: "soft" }, /sigmoid must be "leaky_hard" or "hard"/],
    [{ lrSchedule: "step" }, /lrSchedule must be/],
    [{ pAnnealStart: 0.8, pAnnealEnd: 0.2 }, /pAnnealStart ≤ pAnnealEnd/],
    [{ featureProbability: 2 }, /featureProbability must be in \(0, 1\]/],
    [{ model: 1 }, /a TmsTarget is one model/],
  ] as [object, RegExp][]) {
    await assert.rejects(fl.spd(target, opts as fl.SpdOptions), (err: Error) => err instanceof InputError && pattern.test(err.message), JSON.stringify(opts));
  }
  await assert.rejects(fl.spd(target, { component: 3 } as never), /unknown option 'component' — did you mean 'components'\?/);
  await assert.rejects(fl.spd({} as never), (err: Error) => err instanceof InputError && /TmsTarget/.test(err.message));
  assert.throws(() => new fl.TmsTarget({ W: W52, b: [0, 0] }), (err: Error) => err instanceof InputError && /b has 2 entries for 5 features/.test(err.message));
  await assert.rejects(fl.tmsTarget({ features: 0 }), InputError);
});
