// eval_fixed and crossval. Reference values computed once with rsatoolbox's inference/evaluate.py
// (eval_fixed, crossval with the fixed sets below, Result.test_pairwise/test_zero/test_noise/get_sem),
// run from its source on the RDMs below.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RDM } from "../../src/geometry/rdm.js";
import { ModelFixed, ModelWeighted, fitRegress } from "../../src/geometry/rsa-models.js";
import { evalFixed, crossval, setsKFold, setsLeaveOneOut, type CrossvalSet } from "../../src/geometry/rsa-crossval.js";
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

// Python: crossvalsets.sets_k_fold(rdms, k_rdm=2, k_pattern=3, random=False) on 5 RDMs of 11 conditions;
// rows [trainSubjects, trainConditions, testSubjects, testConditions]: the n mod k left-over ids join the
// first groups from the end (group 0 gets 10 and subject 4).
test("setsKFold forms rsatoolbox's groups when n is not a multiple of k", () => {
  const want = [
    [[2, 3], [3, 4, 5, 6, 7, 8, 9], [0, 1, 4], [0, 1, 2, 10]],
    [[2, 3], [0, 1, 2, 6, 7, 8, 10], [0, 1, 4], [3, 4, 5, 9]],
    [[2, 3], [0, 1, 2, 3, 4, 5, 9, 10], [0, 1, 4], [6, 7, 8]],
    [[0, 1, 4], [3, 4, 5, 6, 7, 8, 9], [2, 3], [0, 1, 2, 10]],
    [[0, 1, 4], [0, 1, 2, 6, 7, 8, 10], [2, 3], [3, 4, 5, 9]],
    [[0, 1, 4], [0, 1, 2, 3, 4, 5, 9, 10], [2, 3], [6, 7, 8]],
  ];
  assert.deepEqual(setsKFold(11, { kPattern: 3, kRdm: 2, nRdm: 5 }).map((s) => [s.trainSubjects, s.trainConditions, s.testSubjects, s.testConditions]), want);
});

test("setsKFold with random shuffles (seeded): subjects once, conditions anew per subject group", () => {
  const opts = { kPattern: 3, kRdm: 2, nRdm: 6, random: true, seed: 5 } as const;
  const sets = setsKFold(12, opts);
  assert.deepEqual(setsKFold(12, opts), sets, "same seed, same sets");
  assert.notDeepEqual(setsKFold(12, { ...opts, seed: 6 }), sets);
  assert.notDeepEqual(sets, setsKFold(12, { kPattern: 3, kRdm: 2, nRdm: 6 }), "differs from the fixed groups");
  for (const g of [0, 1]) {
    const block = sets.slice(3 * g, 3 * g + 3);
    assert.deepEqual(block.flatMap((s) => s.testConditions).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
    for (const s of block) {
      assert.deepEqual([...s.trainConditions, ...s.testConditions].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
      assert.deepEqual(s.testSubjects, block[0].testSubjects);
    }
  }
  assert.deepEqual([...sets[0].testSubjects!, ...sets[3].testSubjects!].sort(), [0, 1, 2, 3, 4, 5]);
  assert.notDeepEqual(sets.slice(0, 3).map((s) => s.testConditions), sets.slice(3).map((s) => s.testConditions), "new condition groups for the second subject group");
});

// Python: sets_leave_one_out_pattern(rdms, 'g') with g = b a b c a c b a c c a over 11 conditions, and
// sets_leave_one_out_rdm(rdms, 'h') with h = 2 1 2 1 3 over 5 subjects: groups in sorted order of the values.
test("setsLeaveOneOut matches rsatoolbox's sets_leave_one_out_pattern and _rdm", () => {
  const all = Array.from({ length: 11 }, (_, i) => i);
  const byCondition = setsLeaveOneOut(11, { groups: ["b", "a", "b", "c", "a", "c", "b", "a", "c", "c", "a"] });
  assert.deepEqual(byCondition.map((s) => s.testConditions), [[1, 4, 7, 10], [0, 2, 6], [3, 5, 8, 9]]);
  assert.deepEqual(byCondition.map((s) => s.trainConditions.length), [7, 8, 7]);
  assert.ok(byCondition.every((s) => s.trainSubjects === undefined));
  const bySubject = setsLeaveOneOut(11, { over: "subjects", groups: [2, 1, 2, 1, 3] });
  assert.deepEqual(bySubject.map((s) => [s.trainSubjects, s.testSubjects]), [[[0, 2, 4], [1, 3]], [[1, 3, 4], [0, 2]], [[0, 1, 2, 3], [4]]]);
  assert.ok(bySubject.every((s) => s.trainConditions.length === 11 && s.testConditions.length === 11));
  assert.deepEqual(setsLeaveOneOut(4), [0, 1, 2, 3].map((i) => ({ trainConditions: [0, 1, 2, 3].filter((j) => j !== i), testConditions: [i] })));
  assert.deepEqual(setsLeaveOneOut(11, { over: "subjects", nRdm: 1 }), [{ trainConditions: all, testConditions: all }], "one group: everything on both sides");
  // Scored by crossval: each held-out subject group on all conditions.
  const r = crossval([f0], data, setsLeaveOneOut(6, { over: "subjects", nRdm: 4 }));
  assert.equal(r.evaluations[0][0].length, 4);
  assert.ok(r.evaluations[0][0].every((x) => x > 0.8 && x <= 1));
});

test("bad input is rejected with the shape named", () => {
  assert.throws(() => evalFixed([f0], [new RDM([1, 2, 3])]), (e: unknown) => e instanceof InputError && /model 0 \(f0\) has 6 conditions, the data 3/.test((e as Error).message));
  assert.throws(() => crossval([f0], data, [{ trainConditions: [0, 1, 9], testConditions: [3, 4, 5] }]), /set 0 trainConditions has index 9, outside 0…5/);
  assert.throws(() => setsKFold(5, { kPattern: 2 }), /kPattern 2 needs at least 6 conditions/);
  assert.throws(() => evalFixed([f0], data, { methd: "corr" } as never), /methd/);
  assert.throws(() => crossval([f0], data, [], {}), /no cross-validation sets/);
  assert.throws(() => crossval([f0], data, setsKFold(6, { kPattern: 2 }), { fitter: [] }), /fitter must list one fitter \(or undefined\) per model: 1, got 0/);
  assert.throws(() => setsKFold(9, { kPattern: 2.5 }), /kPattern must be an integer ≥ 1, got 2.5/);
  assert.throws(() => setsKFold(9, { kPattern: 3, random: true, seed: 0.5 }), /seed must be an integer/);
  assert.throws(() => setsLeaveOneOut(6, { groups: [0, 0, 1] }), (e: unknown) => e instanceof InputError && /groups must have one entry per condition: 6, got 3/.test((e as Error).message));
  assert.throws(() => setsLeaveOneOut(6, { over: "subjects" }), /nRdm must be an integer ≥ 1, got undefined/);
  assert.throws(() => setsLeaveOneOut(6, { over: "rdm" as never }), /over must be "conditions" or "subjects"/);
  assert.throws(() => setsLeaveOneOut(6, { grups: [] } as never), /unknown option 'grups' — did you mean 'groups'\?/);
});
