import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/engine/random.js";
import { linearPredictivity } from "../../src/geometry/predictivity.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (|Δ| ${Math.abs(a - b)})`);
const mat = (n: number, p: number, f: (i: number, j: number) => number) => Array.from({ length: n }, (_, i) => Array.from({ length: p }, (_, j) => f(i, j)));

// Inputs: closed-form patterns, the same in the Python script that made the reference values.
const n = 30;
const S = mat(n, 6, (i, j) => Math.sin(0.3 + (0.19 + 0.27 * j) * i + 0.4 * j * j));
const T = mat(n, 4, (i, j) => S[i].reduce((s, v, c) => s + v * Math.cos(1 + j + c), 0) + 0.3 * Math.sin(0.5 * i * i + j));
const SW = mat(n, 40, (i, j) => Math.cos(0.1 + (0.13 + 0.07 * j) * i + 0.2 * j)); // more columns than training rows: the dual form
const REPS = Array.from({ length: 5 }, (_, r) => mat(n, 4, (i, j) => T[i][j] + 0.4 * Math.sin(1.7 * i * (r + 1) + 0.9 * j * r + r)));

// Reference (numpy 1.24, scipy 1.10), on the same folds (featurelab's seeded shuffle, written out as JSON):
// ridge as sklearn Ridge(fit_intercept) by numpy.linalg.solve(XcᵀXc + αI, XcᵀYc); PLS by a NumPy NIPALS written
// from sklearn's _pls.py (PLSRegression: power method mode A, max_iter 500, tol 1e-6, svd_flip_1d, regression
// deflation, coef = W·pinv(PᵀW)·Qᵀ·y_std) — sklearn itself is not installed here; scipy.stats.pearsonr per
// neuron, np.median over neurons, mean over folds (Brain-Score's CrossRegressedCorrelation aggregation);
// the ceiling as Brain-Score's InternalConsistency: halves of the repetitions averaged, pearsonr per
// neuron, Spearman-Brown 2r/(1+r), median, mean over 10 halvings.
const REF: [string, Parameters<typeof linearPredictivity>[2], number[][], number, number[]][] = [
  ["ridge α 1", { folds: 5, alpha: 1 }, S, 0.9828099642365463, [0.9833733787034236, 0.9806868509887676, 0.9787393820615355, 0.9847493449961242]],
  ["ridge α 0.01", { folds: 5, alpha: 0.01 }, S, 0.9821212323419617, [0.982809543396106, 0.9799255904632954, 0.9784335007438623, 0.9844861378462659]],
  ["ridge wide α 1 (dual)", { folds: 5 }, SW, 0.4442386558862651, [0.393796266657094, 0.4340959037953385, 0.4480086754874821, 0.3789858993067119]],
  ["ridge α by inner CV", { folds: 5, alphas: [0.001, 0.1, 1, 10, 100], seed: 7 }, SW, 0.5496276603291061, [0.49711558513544035, 0.4904549868344571, 0.5776864396987715, 0.42943087954992515]],
  ["pls 3, scale", { folds: 5, method: "pls", components: 3 }, S, 0.9825007602197446, [0.9852491872471062, 0.9782627373830306, 0.9688925126481541, 0.984673527423545]],
  ["pls 2, no scale", { folds: 5, method: "pls", components: 2, scale: false }, S, 0.9606837422692976, [0.9627498651389517, 0.9578986883067746, 0.9613082182494999, 0.962822787635088]],
];

test("linearPredictivity agrees with numpy's closed-form ridge and a NumPy NIPALS on the same folds", () => {
  for (const [what, opts, source, raw, per] of REF) {
    const r = linearPredictivity(source, T, opts);
    // ridge: closed form (eigendecomposition vs numpy solve); PLS: the same power iterations, so rounding only
    close(r.raw, raw, 1e-10, what);
    per.forEach((v, j) => close(r.perNeuron[j], v, 1e-10, `${what} neuron ${j}`));
    assert.equal(r.score, r.raw);
    assert.equal(r.ceiling, null);
  }
  assert.deepEqual(linearPredictivity(SW, T, { folds: 5, alphas: [0.001, 0.1, 1, 10, 100], seed: 7 }).alpha, [0.001, 10, 0.001, 0.001, 0.001], "α chosen per fold as numpy's inner CV chose");
  const one = linearPredictivity(S, T.map((r) => [r[0]]), { folds: 5, method: "pls", components: 4 });
  close(one.raw, 0.9827623647243594, 1e-10, "pls, one target column (one power step)");
});

test("the split-half ceiling agrees with Brain-Score's InternalConsistency; a given ceiling divides", () => {
  const r = linearPredictivity(S, T, { folds: 5, repetitions: REPS });
  close(r.ceiling!, 0.9884659589448108, 1e-12, "ceiling");
  close(r.score, 0.9828099642365463 / 0.9884659589448108, 1e-10, "raw / ceiling");
  const ev = linearPredictivity(S, T, { folds: 5, ceiling: 0.8, normalize: "explainedVariance" });
  close(ev.score, 0.9828099642365463 ** 2 / 0.8, 1e-10, "raw² / ceiling");
  // identical repetitions: perfectly reliable, ceiling 1
  close(linearPredictivity(S, T, { folds: 5, repetitions: [T, T, T] }).ceiling!, 1, 1e-12, "identical repetitions");
});

test("known answers: an exact linear map predicts every neuron perfectly; noise predicts nothing", () => {
  const rng = new Rng(2);
  const N = 200, p = 8, t = 5;
  const X = Array.from({ length: N }, () => Array.from({ length: p }, () => rng.normal()));
  const M = Array.from({ length: p }, () => Array.from({ length: t }, () => rng.normal()));
  const Y = X.map((row) => M[0].map((_, j) => row.reduce((s, v, c) => s + v * M[c][j], 3)));
  for (const r of [linearPredictivity(X, Y, { alpha: 1e-8 }), linearPredictivity(X, Y, { method: "pls", components: 8 })]) {
    close(r.raw, 1, 1e-9, "exact linear map");
  }
  const noise = Array.from({ length: N }, () => Array.from({ length: t }, () => rng.normal()));
  assert.ok(Math.abs(linearPredictivity(X, noise).raw) < 0.2, "independent noise");
  // the same seed gives the same folds and the same numbers
  assert.deepEqual(linearPredictivity(X, noise, { seed: 4 }), linearPredictivity(X, noise, { seed: 4 }));
});

test("bad input is refused naming the shapes", () => {
  assert.throws(() => linearPredictivity(S, T.slice(0, 20)), /source is 30×6 and target is 20×4/);
  assert.throws(() => linearPredictivity(S, T, { folds: 31 }), /folds must be an integer from 2 to the 30 rows of the 30×6 source/);
  assert.throws(() => linearPredictivity(S, T, { method: "pls", components: 7 }), /from 1 to the source's 6 columns \(source 30×6\)/);
  assert.throws(() => linearPredictivity(S, T, { repetitions: [T, S] }), /repetitions\[1\] is 30×6; the target is 30×4/);
  assert.throws(() => linearPredictivity(S, T, { alpha: 1, alphas: [1, 2] }), /alpha or alphas/);
  assert.throws(() => linearPredictivity(S, T, { alpha: -1 }), /≥ 0/);
  assert.throws(() => linearPredictivity(S, T, { fold: 3 } as never), /did you mean 'folds'/);
});
