import { test } from "node:test";
import assert from "node:assert/strict";
import { QrDecomposition, Matrix } from "ml-matrix";
import { Rng } from "../../src/engine/random.js";
import { shapeDistance, permutationDistance, buresSimilarity, buresDistance } from "../../src/geometry/shape-metrics.js";
import { shapeDistances } from "../../src/geometry/shape-metrics-pairwise.js";
import { linearSumAssignment } from "../../src/geometry/linear-assignment.js";
import { classicalMds } from "../../src/geometry/mds.js";
import { RDM } from "../../src/geometry/rdm.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (|Δ| ${Math.abs(a - b)})`);
const mat = (n: number, p: number, f: (i: number, j: number) => number) => Array.from({ length: n }, (_, i) => Array.from({ length: p }, (_, j) => f(i, j)));

// Inputs: closed-form patterns, the same in the Python script that made the reference values.
const X = mat(12, 5, (i, j) => Math.sin(1 + 0.7 * i + 1.3 * j * j) + 0.1 * i * (j % 2));
const Y = mat(12, 5, (i, j) => Math.cos(0.3 + (1.1 * i * j) / 5 + 0.5 * j));
const Z = mat(12, 3, (i, j) => Math.sin(0.2 * i * i + j)); // narrower: zero-padded to 5 columns
const W = mat(8, 10, (i, j) => Math.sin(0.5 + 0.9 * i + 0.4 * j * j)); // more columns than rows
const V = mat(8, 10, (i, j) => Math.cos(0.1 * i * j + 0.7 * i + 0.3 * j));
const P: Record<string, number[][]> = { X, Y, Z, W, V };

// netrep (ahwillia/netrep 0186b8a) with numpy 1.24: LinearMetric(alpha, center_columns, score_method)
// .fit(A, B).score(A, B) and PermutationMetric(...).fit(A, B).score(A, B) on the inputs above.
const LINEAR: [string, number, "angular" | "euclidean", boolean, number][] = [
  ["XY", 1, "angular", true, 0.5060252745282532],
  ["XY", 1, "euclidean", true, 2.7420494327903815],
  ["XY", 0.5, "angular", true, 0.47354849105073],
  ["XY", 0.5, "euclidean", true, 2.5411564791540546],
  ["XY", 0, "angular", true, 0.5280424853515446],
  ["XY", 0, "euclidean", true, 2.2201865561025502],
  ["XY", 0.5, "angular", false, 0.633591754159639],
  ["XZ", 1, "angular", true, 1.3346800867630295],
  ["XZ", 1, "euclidean", true, 6.1594735856667855],
  ["XZ", 0.5, "angular", true, 1.3238352301211775],
  ["XZ", 0.5, "euclidean", true, 5.955744994412962],
  ["XZ", 0.5, "angular", false, 1.2976800679062355],
  ["WV", 1, "angular", true, 0.7198428855522173],
  ["WV", 1, "euclidean", true, 4.427795154447385],
  ["WV", 0.5, "angular", true, 0.7650308705911131],
  ["WV", 0.5, "euclidean", true, 4.496433952743892],
  ["WV", 0, "angular", true, 1.0068536854279655],
  ["WV", 0, "euclidean", true, 4.373185044600109],
  ["WV", 0.5, "angular", false, 0.7787991361050592],
];

test("shapeDistance agrees with netrep's LinearMetric: α 1, ½, 0; angular and euclidean; zero-padded; uncentred; more columns than rows", () => {
  for (const [pair, alpha, score, center, want] of LINEAR) {
    const got = shapeDistance(P[pair[0]], P[pair[1]], { alpha, score, center_columns: center });
    // Closed form up to eigen/SVD rounding; the whitened CCA of 8 rows in 10 columns divides by √1e-7 (netrep's clip).
    close(got, want, alpha === 0 && pair === "WV" ? 1e-8 : 1e-10, `${pair} α=${alpha} ${score}${center ? "" : " uncentred"}`);
    close(shapeDistance(P[pair[1]], P[pair[0]], { alpha, score, center_columns: center }), want, 1e-8, `${pair} swapped`);
  }
});

const PERM: [string, "angular" | "euclidean", boolean, number][] = [
  ["XY", "angular", true, 1.083216527317998],
  ["XY", "euclidean", true, 5.336665509486036],
  ["XY", "angular", false, 1.0914415714097936],
  ["XZ", "angular", true, 1.3914094320731734],
  ["XZ", "euclidean", true, 6.366626204171202],
  ["XZ", "angular", false, 1.3538399061695623],
  ["WV", "angular", true, 0.9780666057174973],
  ["WV", "euclidean", true, 5.903393521837109],
  ["WV", "angular", false, 0.9831004605834339],
];

test("permutationDistance agrees with netrep's PermutationMetric (Hungarian matching of units)", () => {
  for (const [pair, score, center, want] of PERM) {
    close(permutationDistance(P[pair[0]], P[pair[1]], { score, center_columns: center }), want, 1e-12, `${pair} ${score}${center ? "" : " uncentred"}`);
  }
  // Permuting and flipping nothing else: a column permutation of X is at distance 0 from X.
  const perm = [3, 0, 4, 1, 2];
  const Xp = X.map((r) => perm.map((c) => r[c]));
  close(permutationDistance(X, Xp), 0, 1e-12, "permuted copy (angular)");
  close(permutationDistance(X, Xp, { score: "euclidean" }), 0, 1e-12, "permuted copy (euclidean)");
  assert.ok(shapeDistance(X, Xp) < 1e-7, "a permutation is a rotation too");
});

// netrep.utils.sq_bures_metric(A Aᵀ, B Bᵀ) on the centred (or raw) inputs, rooted; NBS from it as
// (tr K_a + tr K_b − d²) / (2√(tr K_a tr K_b)). netrep's eigh of the rank-deficient n × n Gram
// matrices takes square roots of rounding-level eigenvalues, so its own values carry ~1e-8 of error.
const BURES: [string, number, number, number][] = [
  ["XY", 2.742049414254827, 0.8746779810514181, 3.9723226904804694],
  ["XZ", 6.159473580507264, 0.2339284010256538, 6.740247350877041],
  ["WV", 4.427795131846491, 0.751909321257499, 4.507631363115464],
];

test("buresSimilarity and buresDistance agree with netrep's sq_bures_metric; arccos(NBS) is the α = 1 angular shape distance", () => {
  for (const [pair, dist, nbs, distRaw] of BURES) {
    const a = P[pair[0]], b = P[pair[1]];
    close(buresDistance(a, b), dist, 1e-7, `${pair} Bures distance`);
    close(buresSimilarity(a, b), nbs, 1e-8, `${pair} NBS`);
    close(buresDistance(a, b, { center_columns: false }), distRaw, 1e-7, `${pair} Bures distance, uncentred`);
    // The duality (Harvey et al. 2023): exact up to rounding, against netrep's LinearMetric values.
    const lin = LINEAR.find(([p, al, s, c]) => p === pair && al === 1 && s === "angular" && c)![4];
    close(buresDistance(a, b, { score: "angular" }), lin, 1e-12, `${pair} Bures angle = angular Procrustes`);
    close(Math.acos(buresSimilarity(a, b)), lin, 1e-12, `${pair} arccos NBS`);
  }
  // Precomputed Gram matrices: K = AAᵀ, double-centred by default, gives the same numbers.
  const gram = (A: number[][]) => A.map((r) => A.map((s) => r.reduce((t, v, k) => t + v * s[k], 0)));
  close(buresSimilarity(gram(X), gram(Y), { gram: true }), BURES[0][2], 1e-8, "NBS from Gram matrices");
  close(buresDistance(gram(X), gram(Y), { gram: true, center_columns: false }), BURES[0][3], 1e-7, "Bures distance from raw Gram matrices");
  assert.throws(() => buresSimilarity(X, Y, { gram: true }), /12×5; a Gram matrix is square/);
});

test("shapeDistances: the pairwise matrix of netrep's pairwise_distances, as an RDM of networks that classicalMds embeds", () => {
  const T = mat(12, 4, (i, j) => Math.sin(0.3 * i + 0.8 * j) * (1 + 0.1 * j));
  const nets = { X, Y, Z, T };
  // netrep: LinearMetric(alpha, score_method="angular")._compute_distance(i, j, …) for i < j (what
  // pairwise_distances runs per pair), and PermutationMetric(score_method="euclidean") likewise.
  const want: [object, number[]][] = [
    [{ alpha: 1 }, [0.5060252745282532, 1.3346800867630295, 0.9275596715161356, 1.2451128346966138, 0.7411422428037109, 1.2044898453450985]],
    [{ alpha: 0.5 }, [0.47354849105073, 1.3238352301211775, 0.8609205858304677, 1.2323310263856644, 0.740438769166299, 1.1927624236701417]],
    [{ metric: "permutation", score: "euclidean" }, [5.336665509486036, 6.366626204171202, 6.911732320070599, 5.586637115785239, 5.357532555831568, 5.332755715853262]],
  ];
  for (const [opts, vec] of want) {
    const D = shapeDistances(nets, opts);
    assert.ok(D instanceof RDM);
    assert.deepEqual([...D.labels], ["X", "Y", "Z", "T"]);
    vec.forEach((v, p) => close(D.vector[p], v, 1e-10, `${JSON.stringify(opts)} pair ${p}`));
  }
  const D = shapeDistances([X, Y, Z, T], { name: "shape space" });
  assert.deepEqual([...D.labels], ["0", "1", "2", "3"]);
  assert.equal(D.name, "shape space");
  assert.match(D.dissimilarityMeasure, /angular shape distance \(alpha 1\)/);
  const emb = classicalMds(D);
  assert.equal(emb.n, 4);
  assert.deepEqual(emb.labels, ["0", "1", "2", "3"]);
});

function randomOrthogonal(d: number, rng: Rng): Matrix {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m.set(i, j, rng.normal());
  return new QrDecomposition(m).orthogonalMatrix;
}

test("invariances: 0 for a rotated, translated copy (α = 1) and for an invertible linear map (α = 0); small distances keep their digits", () => {
  const rng = new Rng(3);
  const n = 40, d = 6;
  const A = new Matrix(n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) A.set(i, j, rng.normal() * (1 + j));
  const rotated = A.mmul(randomOrthogonal(d, rng)).add(2.5).to2DArray();
  const mixed = A.mmul(new Matrix(Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 2 : 0.3 * Math.sin(i + 2 * j)))))).to2DArray();
  const a = A.to2DArray();
  for (const score of ["angular", "euclidean"] as const) {
    assert.ok(shapeDistance(a, rotated, { score }) < 1e-12, `rotated copy, ${score}`);
    // netrep keeps trace(XᵀX) through the whitening, so CCA's euclidean distance still sees the scale.
    if (score === "angular") assert.ok(shapeDistance(a, mixed, { alpha: 0, score }) < 1e-9, "linear map under CCA");
    assert.ok(shapeDistance(a, mixed, { alpha: 1, score }) > 1e-3, `but not under Procrustes, ${score}`);
    assert.ok(buresDistance(a, rotated, { score }) < 1e-12, `Bures, ${score}`);
  }
  close(buresSimilarity(a, rotated), 1, 1e-15, "NBS of a rotated copy");
  // A perturbation of size ε: the distance is ≈ ε-proportional, not swamped by rounding (√eps ≈ 1e-8).
  const eps = 1e-9;
  const nudged = a.map((r, i) => r.map((v, j) => v + eps * Math.sin(i * 7 + j)));
  let e2 = 0, a2 = 0;
  a.forEach((r, i) => r.forEach((v, j) => {
    e2 += (eps * Math.sin(i * 7 + j)) ** 2;
    a2 += v * v;
  }));
  // At most ‖E‖ (no alignment at all), and of its order: not 0 and not the ~1e-7 of √(rounding).
  const dEu = shapeDistance(a, nudged, { score: "euclidean" });
  assert.ok(dEu > 0.1 * Math.sqrt(e2) && dEu <= Math.sqrt(e2) * (1 + 1e-6), `euclidean distance of an ε-perturbation ${dEu}, ‖E‖ ${Math.sqrt(e2)}`);
  const dAng = shapeDistance(a, nudged);
  assert.ok(dAng > 0.01 * Math.sqrt(e2 / a2) && dAng < 10 * Math.sqrt(e2 / a2), `angular distance of an ε-perturbation ${dAng}`);
});

test("the distances are metrics: symmetric and the triangle inequality on random triples (angular and euclidean, α ½ and 1, permutation)", () => {
  const rng = new Rng(11);
  const n = 20;
  const rand = (p: number) => mat(n, p, () => rng.normal());
  for (let t = 0; t < 12; t++) {
    const [a, b, c] = [rand(4), rand(4), rand(4)];
    // Correlate the triple a little so that some triangles are thin.
    const bb = b.map((r, i) => r.map((v, j) => 0.3 * v + a[i][j]));
    for (const score of ["angular", "euclidean"] as const) {
      for (const alpha of [0.5, 1]) {
        const d = (x: number[][], y: number[][]) => shapeDistance(x, y, { alpha, score });
        const ab = d(a, bb), bc = d(bb, c), ac = d(a, c);
        close(ab, d(bb, a), 1e-10, "symmetric");
        assert.ok(ac <= ab + bc + 1e-10 && ab <= ac + bc + 1e-10 && bc <= ab + ac + 1e-10, `triangle α=${alpha} ${score}: ${ab}, ${bc}, ${ac}`);
      }
      const d = (x: number[][], y: number[][]) => permutationDistance(x, y, { score });
      const ab = d(a, bb), bc = d(bb, c), ac = d(a, c);
      assert.ok(ac <= ab + bc + 1e-10 && ab <= ac + bc + 1e-10 && bc <= ab + ac + 1e-10, `triangle permutation ${score}`);
    }
    // Mixed widths (zero padding) with α = 1.
    const [x3, y5, z4] = [rand(3), rand(5), rand(4)];
    const ab = shapeDistance(x3, y5), bc = shapeDistance(y5, z4), ac = shapeDistance(x3, z4);
    assert.ok(ac <= ab + bc + 1e-10 && ab <= ac + bc + 1e-10 && bc <= ab + ac + 1e-10, "triangle, mixed widths");
  }
});

test("linearSumAssignment agrees with scipy's linear_sum_assignment (rectangular both ways, min and max)", () => {
  const C = mat(7, 5, (i, j) => Math.sin(1.7 * i + 2.3 * j * j + 0.4));
  const Ct = C[0].map((_, j) => C.map((r) => r[j]));
  // scipy 1.10: linear_sum_assignment(C, maximize) and of Cᵀ.
  const cases: [number[][], boolean, number[], number[], number][] = [
    [C, false, [1, 3, 4, 5, 6], [1, 4, 2, 3, 0], -4.476380132298001],
    [C, true, [0, 1, 3, 5, 6], [3, 0, 1, 4, 2], 4.442449240895695],
    [Ct, false, [0, 1, 2, 3, 4], [6, 1, 4, 5, 3], -4.476380132298001],
    [Ct, true, [0, 1, 2, 3, 4], [1, 3, 6, 0, 5], 4.442449240895695],
  ];
  for (const [M, maximize, rows, cols, total] of cases) {
    const r = linearSumAssignment(M, { maximize });
    assert.deepEqual([...r.rowInd], rows);
    assert.deepEqual([...r.colInd], cols);
    close(r.total, total, 1e-12, "total");
  }
  // Brute force over every permutation of a 6 × 6 matrix with ties.
  const rng = new Rng(5);
  const B = mat(6, 6, () => Math.floor(rng.uniform() * 4));
  let best = Infinity;
  const walk = (row: number, used: number, s: number) => {
    if (row === 6) return void (best = Math.min(best, s));
    for (let j = 0; j < 6; j++) if (!(used & (1 << j))) walk(row + 1, used | (1 << j), s + B[row][j]);
  };
  walk(0, 0, 0);
  close(linearSumAssignment({ values: B.flat(), rows: 6, cols: 6 }).total, best, 0, "6 × 6 with ties");
});

test("bad input: errors name the function and the shapes", () => {
  assert.throws(() => shapeDistance(X, W), /shapeDistance: X is 12×5 and Y is 8×10; both need the same rows/);
  assert.throws(() => shapeDistance(X, Z, { zero_pad: false }), /X is 12×5 and Y is 12×3; with zero_pad false/);
  assert.throws(() => permutationDistance(X, Z, { zero_pad: false }), /permutationDistance: X is 12×5 and Y is 12×3/);
  assert.throws(() => shapeDistance(X, Y, { alpha: 1.5 }), /alpha must be a number in \[0, 1\]/);
  assert.throws(() => shapeDistance(X, Y, { score: "cosine" as never }), /score must be "angular" or "euclidean"/);
  assert.throws(() => shapeDistance(X, Y, { centre_columns: false } as never), /unknown option 'centre_columns' — did you mean 'center_columns'/);
  assert.throws(() => shapeDistance(X, X.map((r) => r.map(() => 1))), /Y is zero after centring/);
  assert.throws(() => shapeDistances({ X, W }), /network 'W' is 8×10 and 'X' is 12×5/);
  assert.throws(() => shapeDistances({ X }), /at least 2 networks/);
  assert.throws(() => shapeDistances({ X, Y }, { metric: "permutation", alpha: 0.5 }), /alpha applies to the linear metric/);
  assert.throws(() => linearSumAssignment({ values: [1, 2, 3], rows: 2, cols: 2 }), /rows × cols = values.length \(3\); got 2 × 2/);
  assert.throws(() => linearSumAssignment([[1, NaN], [0, 1]]), /entry \(0, 1\) of the 2×2 cost matrix is NaN/);
  assert.throws(() => shapeDistance({ values: [1, 2, 3], dim: 2 }, Y), /do not split into rows of dim 2/);
});
