// Model-evaluation tests and multiple-comparison criteria. Reference values computed once with
// rsatoolbox's util/inference_util.py (t_tests, t_test_0, t_test_nc, bootstrap_pair_tests,
// extract_variances), scipy.stats.t.cdf, and the FDR/Bonferroni criteria of
// vis/model_plot.py plot_model_comparison, run from its source on the inputs built below.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  studentTCdf, tTestsPairwise, tTestZero, tTestNoiseCeiling, bootstrapPairTests, extractVariances,
  significantPairs, fdrAdjust, bonferroniAdjust,
} from "../../src/geometry/rsa-tests.js";
import { InputError } from "../../src/io/errors.js";

const near = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const nearAll = (a: unknown, b: unknown, tol: number, what = ""): void => {
  if (typeof a === "number") return near(a, b as number, tol, what);
  const x = a as unknown[], y = b as unknown[];
  assert.equal(x.length, y.length, `${what}: length`);
  x.forEach((v, i) => nearAll(v, y[i], tol, `${what}[${i}]`));
};

// Python: E[b][m][s] = 0.3 + 0.1·sin(b+m+s) + 0.05·m, 6 samples × 3 models × 4 subjects, E[2][1][3] = NaN.
const E = Array.from({ length: 6 }, (_, b) => Array.from({ length: 3 }, (_, m) =>
  Array.from({ length: 4 }, (_, s) => (b === 2 && m === 1 && s === 3 ? NaN : 0.3 + 0.1 * Math.sin(b + m + s) + 0.05 * m))));

// A covariance of 3 models + the lower and upper noise ceilings.
const cov5 = [
  [0.04, 0.01, 0.005, 0.002, 0.001], [0.01, 0.05, 0.004, 0.003, 0.002], [0.005, 0.004, 0.03, 0.001, 0.0],
  [0.002, 0.003, 0.001, 0.02, 0.01], [0.001, 0.002, 0.0, 0.01, 0.03],
];
const scaled = (c: number[][], f: number) => c.map((r) => r.map((x) => x * f));

test("studentTCdf matches scipy.stats.t.cdf", () => {
  const cases: [number, number, number][] = [[2.0, 5, 0.9490302605850709], [-1.3, 2, 0.16162351590802027], [0.4, 30, 0.654004741742904],
    [7.5, 3, 0.9975445125370058], [1.0, 1, 0.7500000000000002], [-3.0, 1, 0.10241638234956672], [2.5, 2.5, 0.9477150184609223]];
  // Continued fraction vs scipy's cephes: agreement to ~1e-14.
  for (const [t, d, p] of cases) near(studentTCdf(t, d), p, 1e-13, `t=${t} dof=${d}`);
  assert.equal(studentTCdf(Infinity, 3), 1);
});

test("extractVariances matches rsatoolbox's extract_variances (1-D, 2-D, dual bootstrap)", () => {
  const ex2 = extractVariances(cov5);
  nearAll([ex2.modelVar, ex2.diffVar, ex2.ncVar], [[0.04, 0.05, 0.03], [0.07, 0.06, 0.072], [[0.05600000000000001, 0.068], [0.064, 0.076], [0.048, 0.06]]], 1e-15, "2-D");
  const ex2n = extractVariances(cov5, { nRdm: 10 });
  nearAll([ex2n.modelVar, ex2n.diffVar, ex2n.ncVar], [[0.044444444444444446, 0.05555555555555556, 0.03333333333333333], [0.07777777777777779, 0.06666666666666667, 0.08],
    [[0.062222222222222234, 0.07555555555555557], [0.07111111111111111, 0.08444444444444445], [0.05333333333333334, 0.06666666666666667]]], 1e-15, "2-D n");
  const three = [cov5, scaled(cov5, 0.45), scaled(cov5, 0.35)];
  const ex3 = extractVariances(three);
  nearAll([ex3.modelVar, ex3.diffVar, ex3.ncVar], [[0.024, 0.03, 0.018000000000000002], [0.04199999999999998, 0.036000000000000004, 0.043200000000000016],
    [[0.033600000000000005, 0.0408], [0.03839999999999999, 0.0456], [0.028800000000000006, 0.036000000000000004]]], 1e-15, "dual");
  const ex3n = extractVariances(three, { nRdm: 8, nPattern: 12 });
  nearAll([ex3n.modelVar, ex3n.diffVar, ex3n.ncVar], [[0.02587012987012987, 0.03233766233766234, 0.019402597402597397], [0.04527272727272725, 0.038805194805194794, 0.04656623376623378],
    [[0.036218181818181816, 0.043979220779220764], [0.041392207792207786, 0.049153246753246754], [0.03104415584415584, 0.038805194805194794]]], 1e-15, "dual n");
  const ex1 = extractVariances([0.01, 0.02, 0.03], { ncIncluded: false });
  nearAll([ex1.modelVar, ex1.diffVar, ex1.ncVar], [[0.01, 0.02, 0.03], [0.03, 0.04, 0.05], [[0.01, 0.01], [0.02, 0.02], [0.03, 0.03]]], 1e-15, "1-D");
});

test("t-tests match rsatoolbox's t_tests, t_test_0 and t_test_nc", () => {
  const v = extractVariances(cov5);
  nearAll(tTestsPairwise(E, v.diffVar.map((x) => x * 0.01), 5),
    [[1.0, 0.11194122562400999, 0.009104300921449981], [0.11194122562400999, 1.0, 0.12068225792588971], [0.009104300921449981, 0.12068225792588971, 1.0]], 1e-13, "pairs dof 5");
  nearAll(tTestsPairwise(E, v.diffVar.map((x) => x * 0.01), 1),
    [[1.0, 0.30476090506015274, 0.1513115330937551], [0.30476090506015274, 1.0, 0.31286871694998863], [0.1513115330937551, 0.31286871694998863, 1.0]], 1e-13, "pairs dof 1");
  nearAll(tTestZero(E, v.modelVar.map((x) => x * 0.1), 3), [0.009029033587129476, 0.007960605381561847, 0.002663213943993825], 1e-13, "zero");
  nearAll(tTestNoiseCeiling(E, v.ncVar.map((r) => r[0] * 0.1), 0.4, 7), [0.21605562574957426, 0.545764417794145, 0.9927765502384791], 1e-13, "nc");
});

test("bootstrapPairTests matches rsatoolbox's bootstrap_pair_tests", () => {
  // Python: 10 samples × 3 models, 0.2 + 0.1·sin(1.7b + 2.3m) + 0.02m.
  const B = Array.from({ length: 10 }, (_, b) => Array.from({ length: 3 }, (_, m) => 0.2 + 0.1 * Math.sin(1.7 * b + 2.3 * m) + 0.02 * m));
  nearAll(bootstrapPairTests(B), [[1.0, 1.0, 0.8200000000000001], [1.0, 1.0, 1.0], [0.8200000000000001, 1.0, 1.0]], 1e-15, "boot");
});

test("significantPairs applies model_plot's FDR and Bonferroni criteria", () => {
  const P = [[1, 0.001, 0.02, 0.04], [0.001, 1, 0.03, 0.2], [0.02, 0.03, 1, 0.011], [0.04, 0.2, 0.011, 1]];
  const asInt = (s: boolean[][]) => s.map((r) => r.map(Number));
  assert.deepEqual(asInt(significantPairs(P, 0.05, "fdr")), [[0, 1, 1, 1], [1, 0, 1, 0], [1, 1, 0, 1], [1, 0, 1, 0]]);
  assert.deepEqual(asInt(significantPairs(P, 0.05, "bonferroni")), [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  assert.deepEqual(asInt(significantPairs(P, 0.05, "uncorrected"))[1], [1, 0, 1, 0]);
  // Benjamini–Hochberg q-values, by hand: sorted 0.01, 0.03, 0.04 → 0.03, 0.045, 0.04 → monotone 0.03, 0.04, 0.04.
  nearAll(fdrAdjust([0.01, 0.04, 0.03]), [0.03, 0.04, 0.04], 1e-15, "bh");
  nearAll(bonferroniAdjust([0.01, 0.04, 0.5]), [0.03, 0.12, 1], 1e-15, "bonf");
});

test("bad shapes are rejected with the shape named", () => {
  assert.throws(() => tTestsPairwise(E, [0.1, 0.2]), (e: unknown) => e instanceof InputError && /diffVar has 2 entries, expected 3/.test((e as Error).message));
  assert.throws(() => tTestZero([[0.1, 0.2], [0.3]], [1, 1]), /row 1 has 1 models, expected 2/);
  assert.throws(() => extractVariances([[1, 0], [0, 1, 2]] as number[][], { ncIncluded: false }), /row 1 has 3 entries; a covariance must be 2 × 2/);
  assert.throws(() => extractVariances([cov5, cov5]), /3 covariances/);
  assert.throws(() => significantPairs([[1, 0.1]]), /1 × 1/);
  assert.throws(() => extractVariances(cov5, { nrdm: 3 } as never), /nrdm/);
});
