// Noise ceiling, bootstrap and permutation test. Reference values were computed once with
// rsatoolbox's boot_noise_ceiling, pool_rdm and subsample_pattern + compare (run from its source).
import { test } from "node:test";
import assert from "node:assert/strict";
import { RDM } from "../../src/geometry/rdm.js";
import { compareRdms, compareVectors, COMPARE_METHODS } from "../../src/geometry/compare-rdms.js";
import { noiseCeiling, poolRdms, bootstrapCompare, permutationTest, resample, ModelComparison } from "../../src/geometry/rsa-inference.js";
import { Rng } from "../../src/engine/random.js";

const near = (a: number, b: number, tol = 1e-12, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// Four subjects' RDMs of five conditions.
const subjects = [
  [0.2, 0.9, 1.1, 0.8, 1.0, 0.7, 0.9, 0.3, 1.2, 1.0],
  [0.4, 0.8, 1.3, 0.6, 0.9, 1.0, 0.8, 0.2, 1.0, 1.1],
  [0.1, 1.1, 0.9, 0.9, 1.2, 0.8, 0.7, 0.5, 1.1, 0.8],
  [0.3, 0.7, 1.0, 1.0, 0.8, 0.9, 1.0, 0.3, 1.3, 0.9],
].map((v, i) => new RDM(v, { name: `s${i + 1}` }));

test("noise ceiling matches rsatoolbox's boot_noise_ceiling for every method", () => {
  const expected: Record<string, [number, number]> = {
    cosine: [0.9808397294837099, 0.9892273132812031],
    corr: [0.8415327882334915, 0.9111442626436161],
    spearman: [0.6364215456472604, 0.7901279314656177],
    kendall: [0.5045083864264507, 0.673550902236139],
    "tau-b": [0.5045083864264507, 0.673550902236139],
    "tau-a": [0.4833333333333333, 0.6444444444444444],
    "rho-a": [0.6287878787878788, 0.7803030303030303],
    cosine_cov: [0.9571582462316013, 0.9759385074484347],
    corr_cov: [0.8853474185375136, 0.9357039466614749],
  };
  for (const m of COMPARE_METHODS) {
    if (m === "bures" || m === "bures_metric") {
      // rsatoolbox's pool_rdm raises for these; so do we, naming the method.
      assert.throws(() => noiseCeiling(subjects, { method: m }), new RegExp(`no pooled RDM.*'${m}'`));
      continue;
    }
    const nc = noiseCeiling(subjects, { method: m });
    near(nc.lower, expected[m][0], 1e-13, `${m} lower`);
    near(nc.upper, expected[m][1], 1e-13, `${m} upper`);
    assert.ok(nc.lower <= nc.upper);
  }
});

test("the noise ceiling by its definition (Nili 2014) on a constructed example", () => {
  // Two subjects: lower = compare(the other, subject) = cos(s1, s2); upper = mean cos(pool, s_i),
  // the pool being the mean of the RMS-normalised RDMs (cosine's pooling).
  const s1 = new RDM([1, 0, 0]), s2 = new RDM([1, 1, 0]);
  const nc = noiseCeiling([s1, s2], "cosine");
  near(nc.lower, 1 / Math.SQRT2, 1e-15, "lower");
  const rms1 = Math.sqrt(1 / 3), rms2 = Math.sqrt(2 / 3);
  const pool = [1 / rms1 / 2 + 1 / rms2 / 2, 1 / rms2 / 2, 0];
  const cos = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0) / Math.hypot(...x) / Math.hypot(...y);
  near(nc.upper, (cos(pool, [1, 0, 0]) + cos(pool, [1, 1, 0])) / 2, 1e-15, "upper");
  // Identical subjects without ties: both bounds are 1 (ties would keep tau-a below 1).
  const s3 = new RDM([3, 1, 2]);
  const same = noiseCeiling([s3, s3.withName("copy")], "tau-a");
  near(same.lower, 1, 1e-15);
  near(same.upper, 1, 1e-15);
});

test("pooling as rsatoolbox's pool_rdm: normalised for cosine, z-scored for corr, ranks for rank methods", () => {
  const expected: Record<string, number[]> = {
    cosine: [0.2874731819063925, 1.0072700163843906, 1.2369701021507284, 0.9491378807868569, 1.1223393301959224, 0.9779274013874344, 0.9777947902656892, 0.37413274990049056, 1.323079252492021, 1.093129021456775],
    corr: [0.0, 2.0257733896443026, 2.672123952665769, 1.8747216146842738, 2.3502529077561007, 1.947718972040534, 1.9517170673566027, 0.24593455716877877, 2.926813680743535, 2.268149059460359],
    "tau-a": [1.375, 5.375, 8.375, 5.375, 6.875, 5.125, 5.25, 1.625, 9.0, 6.625],
  };
  for (const [m, v] of Object.entries(expected)) {
    const p = poolRdms(subjects, m as any);
    v.forEach((x, i) => near(p.vector[i], x, 1e-14, `${m}[${i}]`));
  }
});

test("a bootstrap sample of conditions with repeats: pairs of a condition with its copy are dropped", () => {
  const idx = [0, 0, 2, 3, 3];
  const r = resample(subjects[0].vector, 5, idx);
  assert.deepEqual(Array.from(r, (v) => (Number.isNaN(v) ? null : v)), [null, 0.9, 1.1, 1.1, 0.9, 1.1, 1.1, 0.3, 0.3, null]);
  // One sample, as rsatoolbox's subsample_pattern + compare + mean over subjects.
  const model = Float64Array.from([1, 2, 2, 1, 2, 2, 2, 1, 2, 2]);
  const expected: Record<string, number> = { cosine: 0.9831924572682551, spearman: 0.8164965809277261, "tau-a": 0.42857142857142855, corr_cov: 0.9276180429377625 };
  for (const [m, v] of Object.entries(expected)) {
    const mv = resample(model, 5, idx);
    const vals = subjects.map((s) => compareVectors(mv, resample(s.vector, 5, idx), m as any));
    near(vals.reduce((x, y) => x + y) / vals.length, v, 1e-14, m);
  }
});

/** Subjects' RDMs: a categorical truth plus independent noise per subject. */
function simulated(K: number, S: number, noise: number, seed: number) {
  const rng = new Rng(seed);
  const cat = Array.from({ length: K }, (_, i) => i % 3);
  const truth: number[] = [];
  for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) truth.push(cat[i] === cat[j] ? 0.5 : 1.5);
  const subs = Array.from({ length: S }, (_, s) => new RDM(truth.map((t) => t + noise * rng.normal()), { name: `sub${s}` }));
  return { truth: new RDM(truth, { name: "truth" }), subs, rng };
}

test("bootstrapCompare: seeded, reproducible, intervals around the estimate, the right model ahead", () => {
  const { truth, subs, rng } = simulated(12, 6, 0.4, 1);
  const random = new RDM(Array.from(truth.vector, () => rng.uniform()), { name: "random" });
  const opts = { method: "tau-a" as const, n: 200, seed: 7 };
  const res = bootstrapCompare([truth, random], subs, opts);
  assert.ok(res instanceof ModelComparison);
  assert.deepEqual(res.models, ["truth", "random"]);
  assert.deepEqual(res.subjects, subs.map((s) => s.name));
  // Point estimates are the mean over subjects of compare(model, subject).
  near(res.values[0], subs.reduce((t, s) => t + compareRdms(truth, s, "tau-a"), 0) / subs.length, 1e-15);
  const again = bootstrapCompare([truth, random], subs, opts);
  assert.deepEqual(Array.from(again.samples[0]), Array.from(res.samples[0]), "same seed, same samples");
  const other = bootstrapCompare([truth, random], subs, { ...opts, seed: 8 });
  assert.notDeepEqual(Array.from(other.samples[0]), Array.from(res.samples[0]), "another seed, other samples");
  const [lo, hi] = res.intervals[0];
  assert.ok(lo < res.values[0] && res.values[0] < hi, `${lo} < ${res.values[0]} < ${hi}`);
  assert.ok(res.intervals[1][1] < lo, "the random model's interval lies below the true model's");
  assert.ok(res.sem[0] > 0 && res.sem[0] < 0.2);
  assert.ok(res.noiseCeiling.lower > res.intervals[1][1], "the random model is far below the noise ceiling");
  const recs = res.records();
  assert.deepEqual(Object.keys(recs[0]), ["model", "method", "value", "ci95 low", "ci95 high", "sem", "ceiling low", "ceiling high"]);
  // Each way of resampling gives finite samples (K = 12: every condition sample has ≥ 3 distinct).
  for (const over of ["conditions", "subjects", "both"] as const) {
    const r = bootstrapCompare(truth, subs, { method: "spearman", n: 50, over, seed: 1 });
    assert.ok(r.samples[0].every(Number.isFinite), over);
  }
  // n = 0: point estimates and the noise ceiling only.
  const point = bootstrapCompare({ truth: truth }, subs, { method: "corr", n: 0 });
  assert.deepEqual(point.models, ["truth"]);
  assert.ok(Number.isNaN(point.intervals[0][0]));
});

test("permutation test: a small p for structured data, a large one for random data", () => {
  const { truth, subs, rng } = simulated(12, 5, 0.5, 2);
  const structured = permutationTest(truth, subs, { method: "tau-a", n: 500, seed: 3 });
  near(structured.observed, subs.reduce((t, s) => t + compareRdms(truth, s, "tau-a"), 0) / subs.length, 1e-15);
  assert.ok(structured.p < 0.01, `p = ${structured.p}`);
  assert.equal(structured.nullDistribution.length, 500);
  assert.ok(structured.p >= 1 / 501, "p is never below 1/(n+1)");
  const noise = Array.from({ length: 5 }, () => new RDM(Array.from(truth.vector, () => rng.normal())));
  const random = permutationTest(truth, noise, { method: "tau-a", n: 500, seed: 3 });
  assert.ok(random.p > 0.05, `p = ${random.p}`);
  const again = permutationTest(truth, noise, { method: "tau-a", n: 500, seed: 3 });
  assert.equal(again.p, random.p, "seeded");
  // A single data RDM works too.
  assert.ok(permutationTest(truth, subs[0], { n: 100 }).p < 0.05);
});

test("inference refuses bad input with a clear message", () => {
  assert.throws(() => noiseCeiling([subjects[0]]), /at least 2 subjects, got 1/);
  assert.throws(() => noiseCeiling(subjects, "tau" as any), /unknown method 'tau'/);
  assert.throws(() => bootstrapCompare(subjects[0], subjects, { n: -1 }), /n must be a non-negative integer/);
  assert.throws(() => bootstrapCompare(subjects[0], subjects, { over: "rows" as any }), /over must be/);
  assert.throws(() => bootstrapCompare(subjects[0], subjects, { ci: 95 }), /ci must be in \(0, 1\)/);
  assert.throws(() => bootstrapCompare(new RDM([1, 2, 3]), subjects), /has 3 conditions, .* has 5/);
  assert.throws(() => permutationTest(subjects[0], subjects, { n: 0 }), /n must be a positive integer/);
});
