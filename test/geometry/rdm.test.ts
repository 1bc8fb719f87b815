// RDMs against rsatoolbox: every expected vector below was computed once with rsatoolbox's own
// calc_rdm / cov_from_residuals (rsagroup/rsatoolbox, run from source with numpy) and written here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { rdm, RDM, categoricalRdm, pairIndex } from "../../src/geometry/rdm.js";
import { covFromResiduals, precFromResiduals } from "../../src/geometry/noise-precision.js";

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12, what = "") {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

// Four conditions × three channels.
const P = [
  [1, 2, 3],
  [3, 2, 1],
  [1, 3, 2],
  [2, 2, 5],
];

test("euclidean, correlation and cosine distances of a pattern matrix match rsatoolbox", () => {
  const e = rdm(P);
  // Squared distance / channels: (0,1) is (4+0+4)/3.
  close(e.vector, [2.6666666666666665, 0.6666666666666666, 1.6666666666666667, 2.0, 5.666666666666667, 3.6666666666666665], 1e-14, "euclidean");
  assert.equal(e.dissimilarityMeasure, "squared euclidean");
  assert.deepEqual(e.labels, ["0", "1", "2", "3"]);
  // 1 − r: [1,2,3] vs [3,2,1] is r = −1 → 2; vs [1,3,2] r = ½ → ½.
  close(rdm(P, { distance: "correlation" }).vector, [2, 0.5, 0.13397459621556118, 1.5, 1.8660254037844388, 1.0], 1e-14, "correlation");
  close(
    rdm(P, { distance: "cosine" }).vector,
    [0.2857142857142857, 0.0714285714285714, 0.02299157908160554, 0.2142857142857142, 0.3021368422011468, 0.16256421064137616],
    1e-14,
    "cosine",
  );
});

test("the same matrix as a flat Float32Array, a Float64Array and a tensor gives the same RDM", async () => {
  await ready();
  const flat = Float64Array.from(P.flat());
  const expected = rdm(P).vector;
  close(rdm(flat, { conditions: 4, channels: 3 }).vector, Array.from(expected), 1e-15, "Float64Array");
  close(rdm(Float32Array.from(flat), { conditions: 4, channels: 3 }).vector, Array.from(expected), 1e-6, "Float32Array");
  const t = tf.tensor2d(P);
  close(rdm(t).vector, Array.from(expected), 1e-6, "tensor");
  t.dispose();
});

// Three conditions measured in three folds (runs), three channels.
const X = [
  [1.0, 0.2, -0.5], [0.8, 0.1, -0.3], [1.3, 0.4, -0.6],
  [-0.2, 1.1, 0.4], [0.1, 0.9, 0.2], [-0.4, 1.4, 0.7],
  [0.5, -0.7, 1.2], [0.3, -0.4, 0.9], [0.9, -0.8, 1.0],
];
const byA = ["a", "a", "a", "b", "b", "b", "c", "c", "c"];
const fold = [0, 1, 2, 0, 1, 2, 0, 1, 2];
// The same measurements with condition b's rows first, to check grouping sorts the conditions.
const shuffled = [3, 4, 5, 0, 1, 2, 6, 7, 8].map((i) => X[i]);
const cond = ["b", "b", "b", "a", "a", "a", "c", "c", "c"];
const Prec = [
  [2.0, 0.3, 0.1],
  [0.3, 1.5, -0.2],
  [0.1, -0.2, 1.0],
];

test("an ActivationSet grouped by a column averages each condition, in rsatoolbox's sorted order", () => {
  const acts = fromVectors(Float32Array.from(shuffled.flat()), 3, { stimulus: cond, run: fold });
  const r = rdm(acts, { by: "stimulus" });
  assert.deepEqual(r.labels, ["a", "b", "c"]);
  assert.equal(r.descriptors.by, "stimulus");
  // Same as the matrix with the rows in rsatoolbox's order (float32 storage: 1e-6).
  close(r.vector, [1.0199999999999998, 1.0729629629629631, 1.3396296296296297], 1e-6, "by column");
  assert.deepEqual(rdm(acts, { by: "stimulus", order: "appearance" }).labels, ["b", "a", "c"]);
  // Numbers sort as numbers, not as text.
  const nums = fromVectors(new Float32Array([0, 1, 2, 3, 4, 5]), 1, { k: [10, 9, 10, 2, 9, 2] });
  assert.deepEqual(rdm(nums, { by: "k" }).labels, ["2", "9", "10"]);
});

test("mahalanobis and crossnobis with a given precision match rsatoolbox", () => {
  close(rdm(X, { by: byA }).vector, [1.0199999999999998, 1.0729629629629631, 1.3396296296296297], 1e-14, "euclidean by");
  close(rdm(X, { by: byA, distance: "mahalanobis", precision: Prec }).vector, [1.2389999999999999, 1.4782962962962964, 1.9506296296296297], 1e-14, "mahalanobis");
  const xn = rdm(X, { by: byA, folds: fold, distance: "crossnobis", precision: Prec });
  close(xn.vector, [1.1735555555555557, 1.4468888888888891, 1.8643333333333336], 1e-14, "crossnobis");
  assert.equal(xn.dissimilarityMeasure, "crossnobis");
  close(
    rdm(X, { by: byA, folds: fold, distance: "crossnobis", precision: "identity" }).vector,
    [0.9733333333333333, 1.051111111111111, 1.2755555555555558],
    1e-14,
    "crossnobis identity",
  );
  // rsatoolbox's default folds: the k-th measurement of each condition is fold k.
  close(rdm(X, { by: byA, distance: "crossnobis", precision: "identity" }).vector, [0.9733333333333333, 1.051111111111111, 1.2755555555555558], 1e-14, "default folds");
  // Identity precision is the squared euclidean distance.
  close(rdm(X, { by: byA, distance: "mahalanobis", precision: "identity" }).vector, Array.from(rdm(X, { by: byA }).vector), 1e-14, "identity");
});

test("crossnobis with two folds is (a_i − a_j)·(b_i − b_j) / C, worked by hand", () => {
  // Conditions x, y in folds 0 and 1, two channels.
  const rows = [
    [1, 0], [3, 1], // x in fold 0, 1
    [0, 2], [1, 1], // y in fold 0, 1
  ];
  const r = rdm(rows, { by: ["x", "x", "y", "y"], folds: [0, 1, 0, 1], distance: "crossnobis", precision: "identity" });
  // fold 0 test: a = fold 1 (3,1)−(1,1) = (2,0), b = fold 0 (1,0)−(0,2) = (1,−2): 2/2 = 1; fold 1 the same product.
  close(r.vector, [1], 1e-15, "hand");
});

test("precision estimated from residuals around the condition means, as rsatoolbox's prec_from_unbalanced", () => {
  const cases: Record<string, [number[], number[]]> = {
    shrinkage_diag: [[20.13986013986014, 27.222222222222232, 29.725718725718725], [19.250582750582755, 26.688811188811197, 28.53263403263404]],
    shrinkage_eye: [[14.493544628927879, 23.633878197296, 27.183170396944394], [13.80485016768822, 23.146477206271246, 26.23603622014802]],
    diag: [[20.13986013986014, 27.222222222222232, 29.725718725718725], [19.250582750582755, 26.688811188811197, 28.53263403263404]],
    full: [[11.483965014577267, 32.0652354448273, 32.831999293223795], [10.924463291810234, 31.40864622905441, 32.044303089201065]],
  };
  for (const [method, [mahal, xnobis]] of Object.entries(cases)) {
    const m = rdm(X, { by: byA, distance: "mahalanobis", precision: method as any });
    close(m.vector, mahal, 1e-12, `mahalanobis ${method}`);
    assert.match(String(m.descriptors.noise), new RegExp(`${method} from residuals \\(dof 6\\)`));
    close(rdm(X, { by: byA, folds: fold, distance: "crossnobis", precision: method as any }).vector, xnobis, 1e-12, `crossnobis ${method}`);
  }
  // The default is shrinkage_diag.
  close(rdm(X, { by: byA, distance: "mahalanobis" }).vector, cases.shrinkage_diag[0], 1e-12, "default");
});

// An unbalanced design: 11 measurements × 3 channels in closed form; 'a' has two measurements in
// fold 0, 'c' none there. rsatoolbox: rdm/calc_unbalanced.py calc_rdm_unbalanced(Dataset(U, cond,
// fold), 'crossnobis', descriptor='cond', cv_descriptor='fold', noise=…) run from source (its
// cengine/similarity.pyx calc() run as Python with the Cython types removed; Cython is not installed).
const U = Array.from({ length: 11 }, (_, r) => Array.from({ length: 3 }, (_, c) => Math.sin(0.9 * r + 1.7 * c) + 0.5 * Math.cos(2.1 * r * c + 0.3)));
const uCond = ["a", "a", "a", "a", "b", "b", "b", "c", "c", "c", "c"];
const uFold = [0, 0, 1, 2, 0, 1, 1, 1, 2, 2, 2];

test("crossnobis on an unbalanced design matches rsatoolbox's calc_rdm_unbalanced", () => {
  const run = (precision: any, folds: number[] | null = uFold) => rdm(U, { by: uCond, folds: folds ?? undefined, distance: "crossnobis", unbalanced: true, precision });
  close(run("identity").vector, [0.3435550983992039, -0.41169451547598346, 0.689214810992038], 1e-12, "identity");
  close(run(Prec).vector, [0.7251511687227483, -0.5692783794990699, 1.036630158469866], 1e-12, "given precision");
  // noise = rsatoolbox's prec_from_unbalanced(dataset, 'cond', method=…), as featurelab estimates it.
  close(run(undefined).vector, [3.232614554575529, -1.219161040917875, 3.0167102076866925], 1e-12, "shrinkage_diag");
  close(run("full").vector, [3.7555922011234184, -1.2291557575763123, 2.8415316154388215], 1e-12, "full");
  // Without folds rsatoolbox makes each measurement its own fold: only self-products are left out.
  const own = run("identity", null);
  close(own.vector, [0.7127517226163564, -0.217921739831879, 0.8461594141563743], 1e-12, "no folds");
  assert.equal(own.descriptors.folds, "each measurement");
  assert.equal(run("identity").descriptors.unbalanced, true);
  assert.equal(run("identity").dissimilarityMeasure, "crossnobis");
  // One measurement per condition and fold: the pairs estimator is the fold-means one (rsatoolbox's
  // calc_rdm_unbalanced gives 0.9733333333333334, 1.051111111111111, 1.2755555555555558 here).
  const balanced = rdm(X, { by: byA, folds: fold, distance: "crossnobis", precision: "identity" }).vector;
  close(rdm(X, { by: byA, folds: fold, distance: "crossnobis", precision: "identity", unbalanced: true }).vector, Array.from(balanced), 1e-14, "balanced");
  // Folds given as an ActivationSet column, rows in another order: the same numbers.
  const perm = [7, 3, 10, 0, 5, 8, 1, 9, 2, 6, 4];
  const acts = fromVectors(Float32Array.from(perm.flatMap((r) => U[r])), 3, { cond: perm.map((r) => uCond[r]), run: perm.map((r) => uFold[r]) });
  close(rdm(acts, { by: "cond", folds: "run", distance: "crossnobis", unbalanced: true, precision: "identity" }).vector, [0.3435550983992039, -0.41169451547598346, 0.689214810992038], 1e-6, "column");
});

// Spike counts: 12 measurements × 4 channels, conditions x, y, z once in each of folds 0–3.
const Y = Array.from({ length: 12 }, (_, r) => Array.from({ length: 4 }, (_, c) => Math.floor(3 + 2.5 * Math.sin(1.1 * r + 0.6 * c) + c)));
const yCond = Y.map((_, r) => ["x", "y", "z"][r % 3]);
const yFold = Y.map((_, r) => Math.floor(r / 3));

test("poisson and poisson_cv: symmetrised KL of Poisson rates, as rsatoolbox's calc_rdm_poisson(_cv)", () => {
  assert.deepEqual(Y[0], [3, 5, 7, 8]); // the same counts as the Python script's
  // rsatoolbox calc_rdm(Dataset(Y, cond), 'poisson', descriptor='cond') (prior_lambda 1, prior_weight 0.1).
  const p = rdm(Y, { by: yCond, distance: "poisson" });
  close(p.vector, [0.015321993264399758, 0.04073609878572526, 0.011512608840534178], 1e-12, "poisson");
  assert.equal(p.dissimilarityMeasure, "poisson");
  assert.deepEqual(p.descriptors.prior, { lambda: 1, weight: 0.1 });
  close(rdm(Y, { by: yCond, distance: "poisson", priorLambda: 2, priorWeight: 0.5 }).vector, [0.008894103189474478, 0.023046030003027518, 0.006700017530837599], 1e-12, "prior");
  // By hand for two rates: λ = (x + 0.1)/1.1 per channel, d = Σ(λ₁ − λ₂)(log λ₁ − log λ₂)/C.
  const l1 = [1.1 / 1.1, 3.1 / 1.1], l2 = [2.1 / 1.1, 0.1 / 1.1];
  const hand = l1.reduce((s, a, c) => s + (a - l2[c]) * (Math.log(a) - Math.log(l2[c])), 0) / 2;
  close(rdm([[1, 3], [2, 0]], { distance: "poisson" }).vector, [hand], 1e-14, "hand");
  // poisson_cv: rsatoolbox's calc_rdm_poisson_cv returns only the last fold's term (its loop over
  // folds overwrites the result: −0.5042989065897459, −0.5483514716006153, −0.2810251873673486 here).
  // featurelab averages the folds, as crossnobis does; the terms are rsatoolbox's, each fold in turn
  // relabelled to sort last, and their mean:
  close(rdm(Y, { by: yCond, folds: yFold, distance: "poisson_cv" }).vector, [-0.4050910177475052, -0.6001073754595929, -0.30364646961889386], 1e-12, "poisson_cv");
  // Default folds: the k-th measurement of each condition (here the same folds).
  close(rdm(Y, { by: yCond, distance: "poisson_cv" }).vector, [-0.4050910177475052, -0.6001073754595929, -0.30364646961889386], 1e-12, "default folds");
  // Unbalanced: rsatoolbox's calc_rdm_unbalanced(…, 'poisson_cv', cv_descriptor='fold') on counts in U's design.
  const YU = Y.slice(0, 11);
  close(rdm(YU, { by: uCond, folds: uFold, distance: "poisson_cv", unbalanced: true }).vector, [-0.5835566143202455, -0.07431129769485789, -0.8223451446603169], 1e-12, "unbalanced");
  close(
    rdm(YU, { by: uCond, folds: uFold, distance: "poisson_cv", unbalanced: true, priorLambda: 2, priorWeight: 0.5 }).vector,
    [-0.32571061901530396, -0.11043589882131521, -0.35953412805547935],
    1e-12,
    "unbalanced prior",
  );
});

test("covFromResiduals: full, diag and both shrinkage estimators as rsatoolbox's cov_from_residuals", () => {
  const R = [
    [0.0, 0.18, 0.04], [-0.89, -0.99, -0.89], [0.06, 0.85, 0.49], [-0.62, -0.2, 0.2], [0.11, -0.47, -0.45], [0.7, -0.25, -0.65],
    [-1.9, -2.29, -1.95], [-0.24, -0.95, -0.6], [0.16, 0.01, -1.05], [-0.54, -0.46, -0.14], [-1.53, -1.51, -1.09], [-0.81, -0.01, -0.04],
  ];
  const expected: Record<string, number[]> = {
    shrinkage_diag: [0.558469696969697, 0.32297170979598383, 0.17689104065208197, 0.32297170979598383, 0.6914750000000001, 0.32782822821183993, 0.17689104065208197, 0.32782822821183993, 0.4583356060606061],
    shrinkage_eye: [0.5630856690376363, 0.272817475393711, 0.14942165417816852, 0.272817475393711, 0.6400587733088767, 0.2769198257025163, 0.14942165417816852, 0.2769198257025163, 0.50513586068379],
    diag: [0.558469696969697, 0, 0, 0, 0.6914750000000001, 0, 0, 0, 0.4583356060606061],
    full: [0.558469696969697, 0.47141363636363637, 0.2581924242424242, 0.47141363636363637, 0.6914750000000001, 0.47850227272727275, 0.2581924242424242, 0.47850227272727275, 0.458335606060606],
  };
  for (const [method, cov] of Object.entries(expected)) close(covFromResiduals(R, { method: method as any }), cov, 1e-13, method);
  close(covFromResiduals(R, { method: "shrinkage_diag", dof: 5 }), [1.2286333333333332, 0, 0, 0, 1.5212450000000002, 0, 0, 0, 1.0083383333333333], 1e-13, "dof 5");
  // Precision · covariance = I.
  const cov = covFromResiduals(R), prec = precFromResiduals(R);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += prec[i * 3 + k] * cov[k * 3 + j];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12);
    }
  }
});

test("an RDM stores the upper triangle row by row and reads back by label", () => {
  const m = [
    [0, 1, 2, 3],
    [1, 0, 4, 5],
    [2, 4, 0, 6],
    [3, 5, 6, 0],
  ];
  const r = RDM.fromMatrix(m, { labels: ["w", "x", "y", "z"], name: "toy" });
  assert.deepEqual(Array.from(r.vector), [1, 2, 3, 4, 5, 6]); // scipy squareform order
  assert.deepEqual(r.matrix, m);
  assert.equal(r.nConditions, 4);
  assert.equal(r.nPairs, 6);
  assert.equal(r.get("y", "x"), 4);
  assert.equal(r.get(3, 0), 3);
  assert.equal(r.get("z", "z"), 0);
  assert.equal(pairIndex(4, 1, 3), 4);
  const re = r.reorder(["z", "y", "x", "w"]);
  assert.deepEqual(re.labels, ["z", "y", "x", "w"]);
  assert.equal(re.get("y", "x"), 4);
  assert.deepEqual(Array.from(re.vector), [6, 5, 3, 4, 2, 1]);
  const sub = r.subset(["z", "x"]);
  assert.deepEqual(sub.labels, ["x", "z"]); // kept in the RDM's order, as rsatoolbox's subset_pattern
  assert.deepEqual(Array.from(sub.vector), [5]);
  assert.equal(r.withName("other").name, "other");
  assert.equal(String(r), "RDM(toy, 4 conditions, unknown)");
});

test("reorder('cluster') puts clusters together (average linkage)", () => {
  // Two groups interleaved: {0,2,4} close together, {1,3,5} close together.
  const group = [0, 1, 0, 1, 0, 1];
  const m = group.map((g, i) => group.map((h, j) => (i === j ? 0 : g === h ? 0.1 + 0.01 * Math.abs(i - j) : 1)));
  const r = RDM.fromMatrix(m).reorder("cluster");
  assert.deepEqual(r.labels, ["0", "2", "4", "1", "3", "5"]);
  assert.equal(r.descriptors.reordered, "average linkage");
});

test("categoricalRdm is 0 within a category and 1 between (rsatoolbox's get_categorical_rdm)", () => {
  const r = categoricalRdm(["face", "face", "body", "object"], { labels: ["f1", "f2", "b1", "o1"] });
  assert.deepEqual(Array.from(r.vector), [0, 1, 1, 1, 1, 1]);
  const two = categoricalRdm([["animate", "face"], ["animate", "body"], ["animate", "face"]]);
  assert.deepEqual(Array.from(two.vector), [1, 0, 1]);
});

test("bad input is refused with an error naming the column, shape or condition", () => {
  const acts = fromVectors(Float32Array.from(shuffled.flat()), 3, { stimulus: cond, run: fold });
  assert.throws(() => rdm(acts, { by: "label" }), /no metadata column 'label'; columns: stimulus, run/);
  assert.throws(() => rdm(acts, { by: "stimulus", distance: "manhattan" as any }), /unknown distance 'manhattan'/);
  const one = fromVectors(new Float32Array([1, 2, 3, 4]), 2, { s: ["a", "a"] });
  assert.throws(() => rdm(one, { by: "s" }), /at least 2 conditions; column 's' has 1 \('a'\)/);
  assert.throws(() => rdm(acts, { by: "stimulus", folds: Array(9).fill(0), distance: "crossnobis" }), /crossnobis needs at least 2 folds/);
  assert.throws(() => rdm(acts, { by: "stimulus", folds: [0, 1, 2, 0, 1, 1, 0, 1, 2], distance: "crossnobis", precision: "identity" }), /condition 'a' has no measurement in fold '2'/);
  assert.throws(() => rdm([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
  assert.throws(() => rdm([[1, NaN], [3, 4]]), /rdm: pattern matrix \[2, 2\]: row 0, column 1 is NaN \(1 of 2 rows hold NaN or ±Inf\)/);
  assert.throws(() => rdm(new Float32Array(6)), /needs its shape: \{ conditions, channels \}/);
  assert.throws(() => rdm(new Float32Array(6), { conditions: 4, channels: 2 }), /6 values are not 4 conditions × 2 channels/);
  assert.throws(() => rdm(P, { by: "stimulus" }), /names a metadata column, which only an ActivationSet has/);
  assert.throws(() => rdm(P, { by: ["a", "b"] }), /`by` has 2 values for 4 rows/);
  assert.throws(() => rdm(P, { distance: "mahalanobis" }), /needs a noise precision: pass \{ precision \}/);
  assert.throws(() => rdm(P, { distance: "mahalanobis", precision: [[1, 0], [0, 1]] }), /precision matrix must be 3×3/);
  assert.throws(() => rdm(P, { distance: "mahalanobis", precision: [[1, 0, 0], [0, -1, 0], [0, 0, 1]] }), /not positive definite/);
  assert.throws(() => rdm([[1, 1, 1], [1, 2, 3]], { distance: "correlation" }), /condition '0' is constant/);
  assert.throws(() => rdm(X, { by: byA.slice(0, 8).concat(["b"]), distance: "crossnobis" }), /same number of measurements per condition/);
  assert.throws(() => new RDM([1, 2]), /2 dissimilarities is not K\(K−1\)\/2/);
  assert.throws(() => new RDM([1, 2, 3], { labels: ["a", "a", "b"] }), /labels must be unique; 'a'/);
  assert.throws(() => new RDM([1, Infinity, 3]), /dissimilarity 1 is Infinity/);
  assert.throws(() => RDM.fromMatrix([[0, 1], [2, 0]]), /not symmetric at \(0, 1\)/);
  assert.throws(() => RDM.fromMatrix([[1, 1], [1, 0]]), /diagonal entry \(0, 0\) is 1/);
  assert.throws(() => rdm(P, { distance: "poisson_kl" as any }), /unknown distance 'poisson_kl'; use one of euclidean, correlation, cosine, mahalanobis, crossnobis, poisson, poisson_cv/);
  // Unbalanced designs: the balanced estimator names the missing cell and points to `unbalanced`.
  assert.throws(() => rdm(U, { by: uCond, folds: uFold, distance: "crossnobis", precision: "identity" }), /condition 'c' has no measurement in fold '0' \(pass unbalanced: true/);
  assert.throws(() => rdm(U, { by: uCond, distance: "crossnobis" }), /'a' has 4, 'b' has 3 \(or pass unbalanced: true\)/);
  // A condition in one fold only has no cross-validated pattern of its own.
  const oneFold = uFold.map((f, r) => (uCond[r] === "b" ? 1 : f));
  assert.throws(() => rdm(U, { by: uCond, folds: oneFold, distance: "crossnobis", unbalanced: true }), /condition 'b' is measured only in fold '1'; cross-validation needs each condition in two folds/);
  assert.throws(() => rdm(U.slice(0, 8), { by: uCond.slice(0, 8), distance: "crossnobis", unbalanced: true }), /condition 'c' has a single measurement/);
  assert.throws(() => rdm(U, { by: uCond, distance: "euclidean", unbalanced: true }), /`unbalanced` is for the cross-validated distances \(crossnobis, poisson_cv\)/);
  assert.throws(() => rdm([[1, 2], [0, -1]], { distance: "poisson" }), /poisson needs rates \(counts\) with x \+ priorLambda·priorWeight > 0; row 1 \(condition '1'\), channel 1 is -1/);
  assert.throws(() => rdm([[1, 2], [0, 0]], { distance: "poisson", priorWeight: 0 }), /row 1 \(condition '1'\), channel 0 is 0/);
  assert.throws(() => rdm([[1, 2], [0, 1]], { distance: "poisson", priorLambda: -1 }), /priorLambda and priorWeight must be finite and ≥ 0, got -1 and 0.1/);
  const r = RDM.fromMatrix([[0, 1], [1, 0]], { labels: ["a", "b"] });
  assert.throws(() => r.get("a", "c"), /no condition 'c'; conditions: a, b/);
  assert.throws(() => r.reorder(["a"]), /exactly once/);
});
