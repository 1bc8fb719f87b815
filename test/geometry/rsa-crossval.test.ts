// eval_fixed and crossval. Reference values computed once with rsatoolbox's inference/evaluate.py
// (eval_fixed, crossval with the fixed sets below, Result.test_pairwise/test_zero/test_noise/get_sem),
// run from its source on the RDMs below.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RDM } from "../../src/geometry/rdm.js";
import { ModelFixed, ModelWeighted, fitRegress } from "../../src/geometry/rsa-models.js";
import { evalFixed, crossval, setsKFold, type CrossvalSet } from "../../src/geometry/rsa-crossval.js";
import { InputError } from "../../src/io/errors.js";

const nearAll = (a: ArrayLike<number>, b: readonly number[], tol: number, what = "") => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

// Python: 6 conditions (15 pairs); M[k][p] = 1 + sin(1.3p + 0.7k) + 0.3k, k = 0…2;
// D[s][p] = 0.6·M[0] + 0.3·M[1] + 0.2·cos(2.1p + s) + 0.1s + 1, 4 subjects.
const P = 15;
const M = Array.from({ length: 3 }, (_, k) => Array.from({ length: P }, (_, p) => 1 + Math.sin(1.3 * p + 0.7 * k) + 0.3 * k));
const data = Array.from({ length: 4 }, (_, s) => new RDM(Array.from({ length: P }, (_, p) => 0.6 * M[0][p] + 0.3 * M[1][p] + 0.2 * Math.cos(2.1 * p + s) + 0.1 * s + 1)));
const f0 = new ModelFixed("f0", [M[0]]), f1 = new ModelFixed("f1", [M[1]]), w = new ModelWeighted("w", M);

test("evalFixed matches rsatoolbox's eval_fixed and its Result tests", () => {
  const r = evalFixed([f0, f1, w], data, { method: "corr", theta: [undefined, undefined, [1, 0.5, -0.3]] });
  const want = [[0.9455813120276781, 0.9462746304271459, 0.9464123747994204, 0.9452673079989924], [0.8557890995975423, 0.8557056432837071, 0.858516252441099, 0.8610699236618731], [0.9499894476957236, 0.9506640186528981, 0.9508854447218544, 0.9498460295214941]];
  want.forEach((row, m) => nearAll(r.evaluations[0][m], row, 1e-13, `eval ${m}`));
  nearAll([r.noiseCeiling[0][0], r.noiseCeiling[1][0]], [0.9625144037303, 0.9789330255672657], 1e-13, "nc");
  assert.equal(r.dof, 3);
  // p-values of order 1e-6 from t ≈ 50–150: relative agreement ~1e-8 (the eps-free differences of evaluations).
  const p = r.testPairwise();
  nearAll([p[0][1], p[0][2], p[1][2], p[0][0]], [9.240842750335432e-06, 1.93699026485028e-06, 7.271941086628431e-06, 1], 1e-12, "pairs");
  nearAll(r.testZero(), [2.6927238216956084e-11, 3.6559207883257727e-09, 2.0850321469367827e-11], 1e-14, "zero");
  nearAll(r.testNoise(), [9.899079058683924e-06, 4.01347395251328e-06, 1.9835190995909358e-05], 1e-12, "noise");
  nearAll(r.sem() as number[], [0.0002744237989043351, 0.0012790596717075441, 0.00025318574792229046], 1e-14, "sem");
});

test("crossval matches rsatoolbox's crossval on fixed sets", () => {
  const sets: CrossvalSet[] = [
    { trainConditions: [0, 1, 2], testConditions: [3, 4, 5], trainSubjects: [0, 1], testSubjects: [2, 3] },
    { trainConditions: [3, 4, 5], testConditions: [0, 1, 2], trainSubjects: [2, 3], testSubjects: [0, 1] },
    { trainConditions: [0, 2, 4], testConditions: [1, 3, 5] },
  ];
  const r = crossval([f0, w], data, sets, { method: "cosine", fitter: [undefined, fitRegress] });
  nearAll(r.evaluations[0][0], [0.8313112268591961, 0.9744726495472007, 0.888323510364506], 1e-13, "fixed model");
  nearAll(r.evaluations[0][1], [0.9754686873899029, 0.9993899320995769, 0.9963336446850802], 1e-12, "weighted model");
  nearAll(r.noiseCeiling[0], [0.9944809234335376, 0.9982131276364887, 0.9947239493306341], 1e-13, "nc lower");
  nearAll(r.noiseCeiling[1], [0.9968956862691731, 0.9989949379265146, 0.9970321352379194], 1e-13, "nc upper");
  assert.equal(r.cvMethod, "crossvalidation");
  // A split with 2 test conditions cannot be scored: NaN, as rsatoolbox.
  const nan = crossval([f0], data, [{ trainConditions: [0, 1, 2, 3], testConditions: [4, 5] }]);
  assert.ok(Number.isNaN(nan.evaluations[0][0][0]));
});

test("setsKFold gives disjoint test groups that cover every condition", () => {
  const sets = setsKFold(9, { kPattern: 3, kRdm: 2, nRdm: 4 });
  assert.equal(sets.length, 6);
  assert.deepEqual(sets[0], { trainConditions: [3, 4, 5, 6, 7, 8], testConditions: [0, 1, 2], testSubjects: [0, 1], trainSubjects: [2, 3] });
  assert.deepEqual(sets.slice(0, 3).flatMap((s) => s.testConditions), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

test("bad input is rejected with the shape named", () => {
  assert.throws(() => evalFixed([f0], [new RDM([1, 2, 3])]), (e: unknown) => e instanceof InputError && /model 0 \(f0\) has 6 conditions, the data 3/.test((e as Error).message));
  assert.throws(() => crossval([f0], data, [{ trainConditions: [0, 1, 9], testConditions: [3, 4, 5] }]), /set 0 trainConditions has index 9, outside 0…5/);
  assert.throws(() => setsKFold(5, { kPattern: 2 }), /kPattern 2 needs at least 6 conditions/);
  assert.throws(() => evalFixed([f0], data, { methd: "corr" } as never), /methd/);
  assert.throws(() => crossval([f0], data, [], {}), /no cross-validation sets/);
});
