import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/engine/random.js";
import { cca, svcca, pwcca } from "../../src/geometry/cca.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (|Δ| ${Math.abs(a - b)})`);
const mat = (n: number, p: number, f: (i: number, j: number) => number) => Array.from({ length: n }, (_, i) => Array.from({ length: p }, (_, j) => f(i, j)));

// Inputs: closed-form patterns, the same in the Python script that made the reference values.
const n = 40;
const X = mat(n, 5, (i, j) => Math.sin(1 + (0.31 + 0.23 * j) * i + 1.3 * j * j) + 0.1 * i * (j % 2));
const Y = mat(n, 4, (i, j) => Math.cos(0.3 + (0.17 + 0.29 * j) * i + 0.5 * j) + 0.05 * i);
const Z = mat(n, 5, (i, j) => Math.sin(0.2 * i * i + j) + Math.cos(0.1 * i * j));

// google/svcca (1f3fbf1) cca_core.get_cca_similarity(X.T, Y.T, epsilon, compute_dirns=True) with numpy 1.24:
// cca_coef1; full_coef_x @ full_invsqrt_xx (first 4 rows, transposed to p × k); the same for y;
// cca_dirns1 − neuron_means1 (first 3 datapoints).
const RHO_XY = [0.9172069007744488, 0.6671846068450382, 0.415815266486821, 0.04426840179422755];
const WX_XY = [0.08967145862695791, 0.08236208514020942, 0.36183499492326143, 1.9699012149224229, -0.34648904265752506, 0.5513747423198693, -1.1620109104840377, 0.4983183980135648, 1.1614101860245154, 1.4865810230920518, 0.4283887056604272, -0.20231023175122134, -0.4570296307785049, 0.17198847645019222, 1.331872707242216, -0.18980588475093338, -0.03351795879867839, 0.02226906842974643, -0.5546296295265186, 0.5180310639363982];
const WY_XY = [-0.1643013517840308, 0.6125367961865866, 0.6035046417734912, 0.8724241751814182, -0.2191839068004824, 0.46857118626254274, 0.34766449779361713, -1.1302428323704254, -0.9707861351464465, -0.8714302357428025, -0.18301536309562796, 0.04750134485548666, 0.10565317075269083, 0.4522298738392216, -1.23920130677334, 0.05766484085222927];
const SX_XY = [1.2109399896438318, -1.0388070821370838, -0.9439821940739612, 1.5681246201590935, 1.812250549716613, -0.02797796963175969, 1.5592409383136467, 0.7844454469873203, 2.361327481609197, 0.279156790163714, 2.2282992507499273, 0.602124242810528];
const RHO_XY_EPS = [0.9053024893775085, 0.6535797427078833, 0.404114120424811, 0.04287429292245519]; // epsilon 1e-2
const RHO_XZ = [0.9719183222226523, 0.8306802730021321, 0.33672234597849243, 0.13047848176831917, 0.055783717793533145];

/** Compares column by column up to the sign an SVD leaves free. */
function closeColumns(got: Float64Array, want: number[], cols: number, tol: number, what: string) {
  const rows = want.length / cols;
  for (let c = 0; c < cols; c++) {
    let sign = 1, best = 0;
    for (let r = 0; r < rows; r++) if (Math.abs(want[r * cols + c]) > best) [best, sign] = [Math.abs(want[r * cols + c]), Math.sign(want[r * cols + c]) * Math.sign(got[r * cols + c])];
    for (let r = 0; r < rows; r++) close(sign * got[r * cols + c], want[r * cols + c], tol, `${what}[${r}, ${c}]`);
  }
}

test("cca agrees with cca_core.get_cca_similarity: ρ, directions and variates; epsilon; a square pair", () => {
  const r = cca(X, Y);
  assert.equal(r.k, 4);
  RHO_XY.forEach((v, i) => close(r.rho[i], v, 1e-12, `ρ ${i}`));
  closeColumns(r.xWeights, WX_XY, 4, 1e-10, "xWeights");
  closeColumns(r.yWeights, WY_XY, 4, 1e-10, "yWeights");
  closeColumns(r.xScores.slice(0, 12), SX_XY, 4, 1e-10, "xScores");
  // corr of each pair of variates is its ρ
  for (let c = 0; c < 4; c++) {
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < n; i++) {
      const a = r.xScores[i * 4 + c], b = r.yScores[i * 4 + c];
      sxy += a * b; sxx += a * a; syy += b * b;
    }
    close(Math.abs(sxy) / Math.sqrt(sxx * syy), RHO_XY[c], 1e-10, `corr of variates ${c}`);
  }
  const e = cca(X, Y, { epsilon: 1e-2 });
  RHO_XY_EPS.forEach((v, i) => close(e.rho[i], v, 1e-12, `ρ ε ${i}`));
  const z = cca(X, Z);
  RHO_XZ.forEach((v, i) => close(z.rho[i], v, 1e-12, `ρ XZ ${i}`));
  // { data, rows, cols } is the same input
  const flat = { data: Float64Array.from(X.flat()), rows: n, cols: 5 };
  close(cca(flat, Y).rho[0], RHO_XY[0], 1e-12, "flat input");
});

// The same with a sixth X column of variance ~1e-6 (scaled ~1e-6 < ε = 1e-4), which cca_core drops
// (x_idxs False): ρ, the weights (a zero row for the dropped column) and the variates.
test("cca drops the columns whose scaled variance is below epsilon, as cca_core's remove_small", () => {
  const X6 = X.map((r, i) => [...r, 1e-3 * Math.cos(i)]);
  const r = cca(X6, Y, { epsilon: 1e-4 });
  [0.9170824205878934, 0.6670475278858486, 0.4156947084687654, 0.04425397910660302].forEach((v, i) => close(r.rho[i], v, 1e-12, `ρ ${i}`));
  closeColumns(r.xWeights, [0.0896486086746786, 0.08233344039830608, 0.3618801880726915, 1.9694497377756348, -0.3466393588572194, 0.5512655594843711, -1.1617335204954349, 0.49819055563012005, 1.1606731458534658, 1.4866858483998364, 0.4283384052382077, -0.20226083708271284, -0.4571144555190528, 0.17177502247322965, 1.3315996008094193, -0.1897483101407498, -0.033499675576277574, 0.022283358917979335, -0.5545604288495734, 0.5179649632028022, 0, 0, 0, 0], 4, 1e-10, "xWeights");
  closeColumns(r.xScores.slice(0, 8), [1.2113304557112496, -1.0383147776920252, -0.9437462869824574, 1.5677661075674574, 1.8120687362990517, -0.027577309250624626, 1.559038559897939, 0.7842303991297639], 4, 1e-10, "xScores");
});

test("cca known answers: a rotated and scaled copy gives ρ all 1; independent noise gives small ρ", () => {
  const rng = new Rng(3);
  const N = 400, p = 6;
  const A = Array.from({ length: N }, () => Array.from({ length: p }, () => rng.normal()));
  const M = Array.from({ length: p }, () => Array.from({ length: p }, () => rng.normal()));
  const B = A.map((row) => M.map((_, j) => 3 * row.reduce((s, v, t) => s + v * M[t][j], 0) + 5));
  for (const v of cca(A, B).rho) close(v, 1, 1e-10, "ρ of a linear copy");
  const C = Array.from({ length: N }, () => Array.from({ length: p }, () => rng.normal()));
  const rho = cca(A, C).rho;
  assert.ok(rho[0] < 0.35, `largest ρ of independent noise ${rho[0]}`);
  assert.ok(rho.reduce((s, v) => s + v, 0) / p < 0.2, "mean ρ of independent noise");
});

// google/svcca's tutorial 001 SVCCA: SVD of the centred activations, svacts = s[:k]·V[:k], then
// get_cca_similarity(svacts1, svacts2, epsilon=1e-10) and np.mean(cca_coef1). Squared-singular-value
// variance fractions: X 0.627, 0.741, 0.835, 0.927, 1; Z 0.448, 0.765, 0.882, 0.975, 1.
test("svcca agrees with the svcca tutorial's recipe; keep as a count, a pair and a variance fraction; symmetric", () => {
  close(svcca(X, Z, { keep: 3 }), 0.35217016319789396, 1e-12, "X,Z keep 3");
  close(svcca(X, Y, { keep: [3, 2] }), 0.6651613903860829, 1e-12, "X,Y keep 3,2");
  close(svcca(Y, X, { keep: [2, 3] }), 0.6651613903860829, 1e-12, "symmetric");
  close(svcca(X, Z, { keep: 0.8 }), 0.35217016319789396, 1e-12, "80% keeps 3 on both sides");
  // 0.99 keeps everything here, so it is plain CCA's mean ρ
  close(svcca(X, Z), 0.46511662788765695, 1e-12, "default keep 0.99 keeps all 5 (the same recipe with k = 5)");
});

// google/svcca pwcca.compute_pwcca(A.T, B.T, epsilon) on the column-centred inputs (on uncentred ones its
// value depends on LAPACK's singular-vector signs: it adds neuron means back to the directions).
// compute_pwcca(X.T, Y.T), X the wider, raises IndexError in the reference (its narrower-Y branch indexes
// acts1 with y_idxs).
const centre = (A: number[][]) => {
  const m = A[0].map((_, j) => A.reduce((s, r) => s + r[j], 0) / A.length);
  return A.map((r) => r.map((v, j) => v - m[j]));
};
test("pwcca agrees with compute_pwcca: the narrower side's directions weight; equal widths take X's", () => {
  const [Xc, Yc, Zc] = [centre(X), centre(Y), centre(Z)];
  close(pwcca(Yc, Xc), 0.6202946840980734, 1e-12, "pwcca(Y, X)");
  close(pwcca(Xc, Yc), 0.6202946840980734, 1e-12, "pwcca(X, Y) uses Y's directions");
  close(pwcca(Yc, Xc, { epsilon: 1e-2 }), 0.6102957059801972, 1e-12, "epsilon");
  close(pwcca(Xc, Zc), 0.5820046625781686, 1e-12, "pwcca(X, Z)");
  close(pwcca(Zc, Xc), 0.5244817055541505, 1e-12, "pwcca(Z, X): not symmetric");
  close(pwcca(X, Z), 0.5820046625781686, 1e-12, "uncentred inputs are centred first");
  // identical representations: every ρ is 1, so the weighted mean is 1
  close(pwcca(X, X), 1, 1e-10, "pwcca(X, X)");
});

// compute_pwcca(A.T, B.T) on 300 × 80 and 300 × 90 inputs made by featurelab's Rng(11) (normals; B's columns
// a scaled column of A plus noise), passed to Python as JSON and column-centred there: more directions
// than one block of featurelab's blocked Gram-Schmidt. (Distinct ρ: with tied ρ the reference's value
// depends on which basis LAPACK picks for the tied singular vectors.)
test("pwcca with many directions (blocked orthogonalisation) agrees with compute_pwcca", () => {
  const rng = new Rng(11);
  const A = Array.from({ length: 300 }, () => Array.from({ length: 80 }, () => rng.normal()));
  const B = A.map((r) => Array.from({ length: 90 }, (_, j) => r[(3 * j) % 80] * (0.2 + 0.01 * j) + rng.normal()));
  close(pwcca(A, B), 0.6918795171956686, 1e-10, "pwcca 300×80 vs 300×90");
});

test("bad input is refused naming the shapes", () => {
  assert.throws(() => cca(X, Y.slice(0, 30)), /X is 40×5 and Y is 30×4/);
  assert.throws(() => cca(mat(4, 6, (i, j) => i + j * j), mat(4, 2, (i, j) => i * j)), /X is 4×6; CCA needs more rows/);
  assert.throws(() => cca(X, mat(n, 2, () => 1)), /Y \(40×2\) is constant/);
  assert.throws(() => cca({ data: new Float64Array(10), rows: 3, cols: 4 }, Y), /10 values for 3×4/);
  assert.throws(() => svcca(X, Y, { keep: [3, 9] }), /keep 9 for Y \(40×4\)/);
  assert.throws(() => cca(X, Y, { epsilom: 1 } as never), /did you mean 'epsilon'/);
});
