// RDM comparisons against rsatoolbox's rdm.compare (values computed once with rsatoolbox's source and
// written here), against hand counts, and against brute-force O(n²) definitions on larger vectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RDM } from "../../src/geometry/rdm.js";
import { compareRdms, compareVectors, RdmComparisons, COMPARE_METHODS } from "../../src/geometry/compare-rdms.js";
import { Rng } from "../../src/engine/random.js";

const near = (a: number, b: number, tol = 1e-12, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// Two RDMs of 5 conditions with ties in both.
const a = new RDM([0.5, 1.0, 1.0, 2.0, 0.5, 3.0, 1.5, 2.0, 2.5, 1.0]);
const b = new RDM([1.0, 1.0, 2.0, 2.0, 0.0, 3.0, 1.0, 2.5, 2.5, 0.5]);

test("every method matches rsatoolbox on RDMs with ties", () => {
  const expected: Record<string, number> = {
    cosine: 0.9653444830965845,
    corr: 0.8631255258376012,
    spearman: 0.8553459119496857,
    kendall: 0.7749999999999999,
    "tau-b": 0.7749999999999999,
    "tau-a": 0.6888888888888889,
    "rho-a": 0.8242424242424242,
    cosine_cov: 0.9451947093524533,
    corr_cov: 0.9098850028575961,
    // rsatoolbox's formula evaluated with 50-digit mpmath (see the bures test below).
    bures: 1.0927500747784167,
    bures_metric: -0.5648796991791494,
  };
  for (const m of COMPARE_METHODS) near(compareRdms(a, b, m), expected[m], m.startsWith("bures") ? 1e-13 : 1e-14, m);
  assert.equal(a.compare(b), compareRdms(a, b, "cosine"), "cosine is the default, as in rsatoolbox");
});

test("whitened comparisons with a sigma_k: a vector of variances, or a full matrix", () => {
  near(compareRdms(a, b, "cosine_cov", { sigmaK: [1.0, 2.0, 0.5, 1.5, 1.0] }), 0.9542078818277745, 1e-14, "vector");
  const S = [
    [1.0, 0.2, 0, 0, 0.1],
    [0.2, 1.5, 0.3, 0, 0],
    [0, 0.3, 1.0, 0.1, 0],
    [0, 0, 0.1, 2.0, 0.4],
    [0.1, 0, 0, 0.4, 1.2],
  ];
  // Exact solutions of V x = d (numpy.linalg.solve); rsatoolbox's conjugate gradients stop at a
  // relative residual of 1e-5 and give 0.912966038048935 and 0.879913674977452.
  near(compareRdms(a, b, "cosine_cov", { sigmaK: S }), 0.9129660380526488, 1e-10, "matrix cosine_cov");
  near(compareRdms(a, b, "corr_cov", { sigmaK: S }), 0.8799128972277079, 1e-10, "matrix corr_cov");
  assert.throws(() => compareRdms(a, b, "cosine_cov", { sigmaK: [1, 2] }), /sigmaK must be 5 variances or a 5×5 matrix/);
});

test("tau-a and tau-b with ties, counted by hand", () => {
  // x = 1,2,2,3 and y = 1,3,2,2: pairs (0,1),(0,2),(0,3) concordant, (1,3) discordant, (1,2) tied
  // in x, (2,3) tied in y → tau-a = (3−1)/6, tau-b = (3−1)/√((6−1)(6−1)).
  const xv = Float64Array.from([1, 2, 2, 3]), yv = Float64Array.from([1, 3, 2, 2]);
  near(compareVectors(xv, yv, "tau-a"), 1 / 3, 1e-15, "tau-a");
  near(compareVectors(xv, yv, "kendall"), 2 / 5, 1e-15, "tau-b");
  // Ties in both at the same pairs: joint ties count as neither, and leave tau-b's denominator.
  const xj = Float64Array.from([1, 1, 2, 3]), yj = Float64Array.from([5, 5, 6, 4]);
  // pairs: (0,1) tied in both; (0,2),(1,2) concordant; (0,3),(1,3),(2,3) discordant → (2−3)/6, (2−3)/√(5·5)
  near(compareVectors(xj, yj, "tau-a"), -1 / 6, 1e-15, "tau-a joint");
  near(compareVectors(xj, yj, "kendall"), -1 / 5, 1e-15, "tau-b joint");
  // A constant vector: tau-b undefined (scipy gives NaN), tau-a 0, cosine-type 0 for a zero vector.
  const c = Float64Array.from([2, 2, 2]), v = Float64Array.from([1, 2, 3]);
  assert.ok(Number.isNaN(compareVectors(c, v, "kendall")));
  assert.equal(compareVectors(c, v, "tau-a"), 0);
  assert.equal(compareVectors(c, v, "corr"), 0);
});

test("rho-a is 12·Σ(r1−r̄)(r2−r̄)/(n³−n) and spearman the Pearson r of average ranks", () => {
  const x = Float64Array.from([3, 1, 2]), y = Float64Array.from([1, 2, 3]);
  // ranks 3,1,2 and 1,2,3: Σ(r1−2)(r2−2) = (1)(−1) + (−1)(0) + 0 = −1 → rho-a = −12/24, spearman −1/2.
  near(compareVectors(x, y, "rho-a"), -0.5, 1e-15);
  near(compareVectors(x, y, "spearman"), -0.5, 1e-15);
  // With ties the two differ: ties shrink rho-a, spearman renormalises.
  const t = Float64Array.from([1, 1, 2]);
  near(compareVectors(t, y, "rho-a"), (12 * ((-0.5) * -1 + (-0.5) * 0 + 1 * 1)) / 24, 1e-15);
});

test("NaN pairs are left out, as rsatoolbox does", () => {
  const nan = (r: RDM) => new RDM(r.vector.map((v, i) => (i === 1 || i === 6 ? NaN : v)));
  const an = nan(a), bn = nan(b);
  const expected: Record<string, number> = {
    cosine: 0.9684012243937801,
    corr: 0.8745197012377653,
    spearman: 0.9018574629445801,
    kendall: 0.823687767580373,
    "tau-b": 0.823687767580373,
    "tau-a": 0.75,
    "rho-a": 0.875,
    cosine_cov: 0.9506160924062343,
    corr_cov: 0.9143117000448976,
  };
  const pairwise = COMPARE_METHODS.filter((m) => !m.startsWith("bures"));
  for (const m of pairwise) near(compareRdms(an, bn, m), expected[m], 1e-13, m);
  // NaN in only one RDM: the pair is dropped from both (rsatoolbox requires the same NaN places).
  const only = new RDM(a.vector.map((v, i) => (i === 1 || i === 6 ? NaN : v)));
  for (const m of pairwise) near(compareRdms(only, b, m), expected[m], 1e-13, `one-sided ${m}`);
  // The Bures comparisons need the whole kernel matrix: rsatoolbox raises, and so do we, naming the pair.
  assert.throws(() => compareRdms(an, bn, "bures"), /bures needs complete RDMs; the dissimilarity of conditions 0 and 2 is NaN/);
  assert.throws(() => compareVectors(Float64Array.from([1, 2]), Float64Array.from([2, 1]), "bures_metric"), /a vector of 2 dissimilarities is not K\(K−1\)\/2/);
});

/** O(n²) definitions to check the O(n log n) ones. */
function bruteTau(x: ArrayLike<number>, y: ArrayLike<number>) {
  let c = 0, d = 0, tx = 0, ty = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = Math.sign(x[i] - x[j]) * Math.sign(y[i] - y[j]);
      if (s > 0) c++;
      else if (s < 0) d++;
      if (x[i] === x[j]) tx++;
      if (y[i] === y[j]) ty++;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  return { a: (c - d) / n0, b: (c - d) / Math.sqrt((n0 - tx) * (n0 - ty)) };
}

function bruteRanks(v: ArrayLike<number>): number[] {
  return Array.from(v, (x) => {
    let less = 0, equal = 0;
    for (let i = 0; i < v.length; i++) (v[i] < x ? less++ : v[i] === x ? equal++ : 0);
    return less + (equal + 1) / 2;
  });
}

test("Knight's tau and the radix ranks agree with O(n²) definitions (ties, negatives, −0)", () => {
  const rng = new Rng(11);
  // K = 101 (5,050 pairs) takes the radix-sort path; the others the comparison-sort path.
  for (const [K, levels] of [[46, 0], [46, 5], [30, 2], [60, 40], [101, 0], [101, 7]] as const) {
    const n = (K * (K - 1)) / 2;
    const draw = () => (levels ? rng.int(levels) - levels / 2 : rng.normal());
    const x = Float64Array.from({ length: n }, draw), y = Float64Array.from({ length: n }, (_, i) => (rng.uniform() < 0.5 ? x[i] : draw()));
    if (levels === 0) x[3] = -0, x[4] = 0; // −0 ties with +0
    const t = bruteTau(x, y);
    near(compareVectors(x, y, "tau-a"), t.a, 1e-12, `tau-a K=${K} levels=${levels}`);
    near(compareVectors(x, y, "kendall"), t.b, 1e-12, `tau-b K=${K} levels=${levels}`);
    const rx = bruteRanks(x), ry = bruteRanks(y);
    const m = (n + 1) / 2;
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < n; i++) (sxy += (rx[i] - m) * (ry[i] - m)), (sxx += (rx[i] - m) ** 2), (syy += (ry[i] - m) ** 2);
    near(compareVectors(x, y, "spearman"), sxy / Math.sqrt(sxx * syy), 1e-12, "spearman");
    near(compareVectors(x, y, "rho-a"), (12 * sxy) / (n ** 3 - n), 1e-12, "rho-a");
  }
});

test("values far apart in magnitude and sharing their high bits still rank correctly", () => {
  // 1 + k·2⁻⁴⁰ share the top 32 bits of their float64 representation; the sort must use the rest.
  const n = 5000; // the radix path: these differ only below the 48 bits it sorts on
  const x = Float64Array.from({ length: n }, (_, k) => 1 + ((k * 7919) % n) * 2 ** -50);
  const y = Float64Array.from(x, (v) => -v);
  near(compareVectors(x, y, "tau-a"), -1, 1e-15);
  near(compareVectors(x, y, "spearman"), -1, 1e-15);
  const big = Float64Array.from([1e300, -1e300, 5e-324, -5e-324, 0, 1]);
  near(compareVectors(big, Float64Array.from([6, 1, 4, 2, 3, 5]), "tau-a"), 1, 1e-15);
});

// Six conditions × four channels in closed form; squared euclidean / C RDMs (rank 4 kernels: each has
// a zero eigenvalue besides the one centring gives).
const K6 = 6, C4 = 4;
const patterns = (f: (k: number, c: number) => number) => Array.from({ length: K6 }, (_, k) => Array.from({ length: C4 }, (_, c) => f(k, c)));
const P1 = patterns((k, c) => Math.sin(k + 1 + 0.7 * c));
const P2 = patterns((k, c) => Math.cos(0.5 * k + 0.3 * c * c) + 0.1 * k);
const P3 = patterns((k, c) => P1[k][c] + 0.3 * P2[k][c]);
const euclid = (P: number[][], name: string) => {
  const v: number[] = [];
  for (let i = 0; i < K6; i++) for (let j = i + 1; j < K6; j++) v.push(P[i].reduce((s, x, c) => s + (x - P[j][c]) ** 2, 0) / C4);
  return new RDM(v, { name });
};

test("bures and bures_metric: rsatoolbox's formula, without its √ε noise", () => {
  // rsatoolbox (rdm/compare.py compare_bures_similarity / compare_bures_metric) on these RDMs,
  // evaluated exactly: its formula (G = double-centred −D/2, tr((A₊^½ B A₊^½)₊^½) over √(tr A·tr B),
  // tr A + tr B − 2·that) with mpmath at 50 digits on the patterns above. rsatoolbox's own float64
  // results differ from these by up to 1.3e-8 (bures) and 6.6e-8 (bures_metric): it takes square
  // roots of eigenvalues that are zero up to rounding (e.g. bures(P1, P1) = 1.0000000096615318,
  // bures(P1, P2) = 0.7865700985363477 one way and 0.7865701087636258 the other); featurelab drops
  // eigenvalues below K·ε·max and agrees with the exact values to 4e-15 (asserted at 1e-13).
  const R = [euclid(P1, "p1"), euclid(P2, "p2"), euclid(P3, "p3")];
  const exact: Record<string, [number, number]> = {
    "01": [0.7865700964246094, 1.1372869640396035],
    "02": [0.993248842030517, 0.12262049711132077],
    "12": [0.8483629312183606, 1.28532455716008],
  };
  for (const [ij, [sim, metric]] of Object.entries(exact)) {
    const [x, y] = [R[+ij[0]], R[+ij[1]]];
    near(compareRdms(x, y, "bures"), sim, 1e-13, `bures ${ij}`);
    near(compareRdms(y, x, "bures"), sim, 1e-13, `bures ${ij} reversed`);
    near(compareRdms(x, y, "bures_metric"), metric, 1e-13, `bures_metric ${ij}`);
  }
  for (const r of R) {
    near(compareRdms(r, r, "bures"), 1, 1e-13, `bures self ${r.name}`);
    near(compareRdms(r, r, "bures_metric"), 0, 1e-13, `bures_metric self ${r.name}`);
  }
  // The Bures similarity does not see scale; the metric is the squared distance √A ↔ √B, so scales with it.
  const twice = new RDM(R[1].vector.map((v) => 2 * v));
  near(compareRdms(R[0], twice, "bures"), exact["01"][0], 1e-13, "scale-free");
  // Many-vs-many, as the other methods.
  const table = compareRdms(R, R, "bures_metric");
  near(table.values[2][1], exact["12"][1], 1e-13, "table");
  // RDMs that are not squared-euclidean (the ties RDMs above) are not symmetric under bures, as in
  // rsatoolbox: A's negative eigenvalues are dropped, B's kept. Exact values (mpmath) of both orders;
  // rsatoolbox float64: 1.092750080571919, −0.5648797345147649 for (a, b) and 1.093550509524642,
  // −0.5697616949929847 for (b, a).
  near(compareRdms(a, b, "bures"), 1.0927500747784167, 1e-13, "ties a,b");
  near(compareRdms(b, a, "bures"), 1.0935505008617799, 1e-13, "ties b,a");
  near(compareRdms(b, a, "bures_metric"), -0.569761642156626, 1e-13, "ties b,a metric");
  // Mixed: q is not squared-Euclidean (its kernel has eigenvalue −0.39), P1's RDM is. Exact (mpmath);
  // rsatoolbox float64: 0.5933485572445251, 2.921149624375002 and 0.5834954161686863, 2.98979246470439.
  const q = new RDM([1, 2, 1, 3, 0.5, 2.5, 1, 2, 1.5, 3, 0.5, 1, 2, 2.5, 1]);
  near(compareRdms(q, R[0], "bures"), 0.5933485493141527, 1e-13, "q, p1");
  near(compareRdms(q, R[0], "bures_metric"), 2.9211496796226926, 1e-13, "q, p1 metric");
  near(compareRdms(R[0], q, "bures"), 0.5834954108171042, 1e-13, "p1, q");
  near(compareRdms(R[0], q, "bures_metric"), 2.989792501986694, 1e-13, "p1, q metric");
  // An all-zero RDM has no kernel: rsatoolbox's 0/0.
  assert.ok(Number.isNaN(compareRdms(new RDM([0, 0, 0]), new RDM([1, 2, 3]), "bures")));
});

test("many-vs-many: a matrix of similarities and a tidy table", () => {
  const c = new RDM([3, 1, 2, 0, 5, 4, 1, 2, 3, 3], { name: "c" });
  const res = compareRdms([a.withName("a"), b.withName("b")], { model: c, self: a }, "spearman");
  assert.ok(res instanceof RdmComparisons);
  assert.deepEqual(res.rows, ["a", "b"]);
  assert.deepEqual(res.columns, ["model", "self"]);
  near(res.values[0][1], 1, 1e-15);
  near(res.values[1][0], compareRdms(b, c, "spearman"), 0);
  const recs = res.records();
  assert.equal(recs.length, 4);
  assert.deepEqual(Object.keys(recs[0]), ["a", "b", "method", "value"]);
  assert.deepEqual([recs[2].a, recs[2].b, recs[2].method], ["b", "model", "spearman"]);
  // Unnamed RDMs in an array are named by position.
  assert.deepEqual(compareRdms([a, b], c).rows, ["#0", "#1"]);
});

test("RDMs that cannot be compared are refused", () => {
  const three = new RDM([1, 2, 3], { labels: ["x", "y", "z"] });
  assert.throws(() => compareRdms(a, three), /has 5 conditions, .* has 3/);
  assert.throws(() => compareRdms(a, b, "pearson" as any), /unknown method 'pearson'/);
  const shuffled = three.reorder(["z", "x", "y"]);
  assert.throws(() => compareRdms(three, shuffled), /same conditions in different orders; use b\.reorder\(a\.labels\)/);
  near(compareRdms(three, shuffled.reorder(three.labels as string[])), 1, 1e-15);
});
