// Inference on RDM comparisons, as rsatoolbox does it: the noise ceiling (Nili et al. 2014), the
// bootstrap over conditions, subjects or both (rsatoolbox's eval_bootstrap*), and a permutation
// test of condition labels. Every random choice takes a seed.
import { RDM, pairIndex } from "./rdm.js";
import { Rng } from "../engine/random.js";
import { InputError } from "../io/errors.js";
import { rankInfo } from "./ranks.js";
import { checkMethod, checkSameConditions, compareVectors, named, type CompareMethod, type CompareOptions, type RdmCollection } from "./compare-rdms.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** What `noiseCeiling` returns: lower and upper bounds on the best possible model's score. */
export interface NoiseCeiling {
  /** Mean over subjects of compare(pool of the other subjects, subject): a lower bound on the true model's score. */
  lower: number;
  /** Mean over subjects of compare(pool of all subjects, subject): an upper bound (the pool has seen the subject). */
  upper: number;
  method: CompareMethod;
}

/**
 * The RDM that scores best on average under `method` (rsatoolbox's pool_rdm): the mean of the RDMs
 * after the normalisation the method ignores (scaled for cosine, z-scored for corr, ranked for the
 * rank methods). NaN wherever any RDM is NaN.
 */
export function poolVectors(vectors: readonly Float64Array[], method: CompareMethod): Float64Array {
  // rsatoolbox's pool_rdm has no pooling for the Bures comparisons (no closed-form best RDM), so
  // neither a pooled RDM nor a noise ceiling exists for them there; say so instead of guessing one.
  if (method === "bures" || method === "bures_metric") {
    throw new InputError(undefined, `no pooled RDM (and so no noise ceiling) for method '${method}': rsatoolbox's pool_rdm defines none; use a correlation or rank method for the ceiling`);
  }
  const n = vectors[0].length;
  const out = new Float64Array(n);
  for (const v0 of vectors) {
    let v: Float64Array;
    if (method === "cosine" || method === "cosine_cov") {
      const rms = Math.sqrt(nanMean(v0.map((x) => x * x)));
      v = v0.map((x) => x / rms);
    } else if (method === "corr" || method === "corr_cov") {
      const m = nanMean(v0);
      const sd = Math.sqrt(nanMean(v0.map((x) => (x - m) ** 2)));
      v = v0.map((x) => (x - m) / sd);
    } else {
      v = rankInfo(v0).average; // NaN stays NaN
    }
    for (let p = 0; p < n; p++) out[p] += v[p];
  }
  // Sum, then divide (as numpy's mean): averaged ranks that tie stay exactly tied.
  for (let p = 0; p < n; p++) out[p] /= vectors.length;
  if (method === "corr" || method === "corr_cov") {
    let min = Infinity;
    for (const x of out) if (x < min) min = x;
    for (let p = 0; p < n; p++) out[p] -= min;
  }
  return out;
}

/**
 * rsatoolbox's pool_rdm: the RDM that best fits a group of RDMs under `method` (see poolVectors).
 * @example
 * const pooled = fl.poolRdms(subjectRdms, "corr");
 */
export function poolRdms(rdms: RdmCollection, method: CompareMethod = "cosine"): RDM {
  checkMethod(method);
  const list = named(rdms);
  if (list.length === 0) throw new InputError(undefined, "poolRdms: no RDMs");
  for (const [, r] of list.slice(1)) checkSameConditions(list[0][1], r);
  const first = list[0][1];
  return new RDM(poolVectors(list.map(([, r]) => r.vector), method), {
    labels: first.labels,
    dissimilarityMeasure: first.dissimilarityMeasure,
    name: `pooled (${method})`,
  });
}

/**
 * The noise ceiling of a group of subjects' RDMs (at least 2), for a comparison method (default "cosine").
 * @example
 * const { lower, upper } = fl.noiseCeiling(subjectRdms, "tau-a");
 */
export function noiseCeiling(data: RdmCollection, opts: CompareMethod | ({ method?: CompareMethod } & CompareOptions) = {}): NoiseCeiling {
  const o = typeof opts === "string" ? { method: opts } : opts;
  rejectUnknownOptions("noiseCeiling", o, optionNames<{ method?: CompareMethod } & CompareOptions>({ method: true, sigmaK: true }));
  const method = o.method ?? "cosine";
  checkMethod(method);
  const rdms = subjectsOf(data, "noiseCeiling");
  const vectors = rdms.map(([, r]) => r.vector);
  const [lower, upper] = ceilingOf(vectors, vectors.map((_, i) => i), method, o);
  return { lower, upper, method };
}

/**
 * Noise ceiling over vectors tagged with subject ids (a bootstrap sample repeats ids; a subject's copies
 * leave together). With one distinct subject there is no other to pool: NaN, or — `alonePoolsAll`, as
 * rsatoolbox's sets_leave_one_out_rdm does inside bootstrap_crossval — the subject's own pool.
 */
export function ceilingOf(vectors: readonly Float64Array[], ids: readonly number[], method: CompareMethod, opts: CompareOptions, alonePoolsAll = false): [number, number] {
  const all = poolVectors(vectors, method);
  const unique = [...new Set(ids)];
  if (unique.length < 2 && !alonePoolsAll) return [NaN, NaN];
  let lower = 0, upper = 0;
  for (const u of unique) {
    const test = vectors.filter((_, i) => ids[i] === u);
    const rest = unique.length > 1 ? poolVectors(vectors.filter((_, i) => ids[i] !== u), method) : all;
    lower += mean(test.map((t) => compareVectors(rest, t, method, opts))) / unique.length;
    upper += mean(test.map((t) => compareVectors(all, t, method, opts))) / unique.length;
  }
  return [lower, upper];
}

/** Options of `bootstrapCompare`. */
export interface BootstrapOptions extends CompareOptions {
  /** Comparison method (default "cosine", as rsatoolbox). */
  method?: CompareMethod;
  /** Bootstrap samples (default 1000; 0 for point estimates only). */
  n?: number;
  /** What to resample: "conditions", "subjects", or "both" (default, rsatoolbox's eval_bootstrap). */
  over?: "conditions" | "subjects" | "both";
  seed?: number;
  /** Coverage of the percentile intervals (default 0.95). */
  ci?: number;
}

const BOOTSTRAP_OPTIONS = optionNames<BootstrapOptions>({ method: true, n: true, over: true, seed: true, ci: true, sigmaK: true });

/** Models evaluated against subjects' data RDMs, with bootstrap intervals and the noise ceiling. */
export class ModelComparison {
  constructor(
    readonly method: CompareMethod,
    readonly models: readonly string[],
    readonly subjects: readonly string[],
    /** perSubject[m][s] = compare(model m, subject s). */
    readonly perSubject: readonly (readonly number[])[],
    /** samples[m][b]: the mean over subjects in bootstrap sample b (NaN if the sample had < 3 distinct conditions). */
    readonly samples: readonly Float64Array[],
    readonly noiseCeiling: NoiseCeiling,
    readonly options: { n: number; over: "conditions" | "subjects" | "both"; seed: number; ci: number },
  ) {}

  /** Mean over subjects of each model's comparison with a subject's RDM. */
  get values(): number[] {
    return this.perSubject.map(mean);
  }

  /** Percentile bootstrap intervals [low, high] per model (NaN without samples). */
  get intervals(): [number, number][] {
    const a = (1 - this.options.ci) / 2;
    return this.samples.map((s) => {
      const ok = Float64Array.from(s.filter((v) => !Number.isNaN(v))).sort();
      return [percentile(ok, a), percentile(ok, 1 - a)];
    });
  }

  /** Standard deviation of each model's bootstrap distribution (its standard error). */
  get sem(): number[] {
    return this.samples.map((s) => {
      const ok = s.filter((v) => !Number.isNaN(v));
      if (ok.length < 2) return NaN;
      const m = mean(Array.from(ok));
      return Math.sqrt(ok.reduce((t, v) => t + (v - m) ** 2, 0) / (ok.length - 1));
    });
  }

  /**
   * One record per model: value, interval, standard error, noise ceiling.
   * @example
   * console.table(fl.bootstrapCompare(models, subjects, { n: 1000, seed: 0 }).records());
   */
  records(): Record<string, string | number>[] {
    const values = this.values, iv = this.intervals, sem = this.sem;
    const pct = Math.round(this.options.ci * 100);
    return this.models.map((model, m) => ({
      model,
      method: this.method,
      value: values[m],
      [`ci${pct} low`]: iv[m][0],
      [`ci${pct} high`]: iv[m][1],
      sem: sem[m],
      "ceiling low": this.noiseCeiling.lower,
      "ceiling high": this.noiseCeiling.upper,
    }));
  }

  /** "ModelComparison(method, models, subjects)". */
  toString(): string {
    return `ModelComparison(${this.method}, ${this.models.length} models, ${this.subjects.length} subjects)`;
  }
}

/**
 * Evaluate model RDMs against subjects' data RDMs: each model's mean comparison over subjects, a
 * bootstrap distribution of it (resampling conditions, subjects or both, seeded), and the noise
 * ceiling. A condition drawn twice is one condition twice: the pairs of a condition with its own
 * copy are dropped (NaN), as rsatoolbox does.
 * @example
 * const mc = fl.bootstrapCompare({ animacy, size }, subjectRdms, { method: "tau-a", n: 1000, seed: 0 });
 * fl.show(fl.plot.modelComparison(mc));
 */
export function bootstrapCompare(models: RDM | RdmCollection, data: RdmCollection, opts: BootstrapOptions = {}): ModelComparison {
  rejectUnknownOptions("bootstrapCompare", opts, BOOTSTRAP_OPTIONS);
  const method = opts.method ?? "cosine";
  checkMethod(method);
  const n = opts.n ?? 1000, over = opts.over ?? "both", seed = opts.seed ?? 0, ci = opts.ci ?? 0.95;
  if (!Number.isInteger(n) || n < 0) throw new InputError(undefined, `bootstrapCompare: n must be a non-negative integer, got ${n}`);
  if (!["conditions", "subjects", "both"].includes(over)) throw new InputError(undefined, `bootstrapCompare: over must be "conditions", "subjects" or "both", got '${over}'`);
  if (!(ci > 0 && ci < 1)) throw new InputError(undefined, `bootstrapCompare: ci must be in (0, 1), got ${ci}`);
  const subjects = subjectsOf(data, "bootstrapCompare");
  const mods = named(models);
  if (mods.length === 0) throw new InputError(undefined, "bootstrapCompare: no models");
  for (const [, m] of mods) checkSameConditions(m, subjects[0][1]);
  const K = subjects[0][1].nConditions, S = subjects.length;
  const perSubject = mods.map(([, m]) => subjects.map(([, s]) => compareVectors(m.vector, s.vector, method, opts)));
  const samples = mods.map(() => new Float64Array(n));
  const rng = new Rng(seed);
  for (let b = 0; b < n; b++) {
    const subj = over === "conditions" ? range(S) : Array.from({ length: S }, () => rng.int(S));
    const cond = over === "subjects" ? null : Array.from({ length: K }, () => rng.int(K)).sort((x, y) => x - y);
    if (cond && new Set(cond).size < 3) {
      for (const s of samples) s[b] = NaN;
      continue;
    }
    // Without the whitened methods (which need each pair's place), the pairs of a condition with its
    // own copy are simply left out, and each resampled vector is ranked once for all comparisons.
    const pick = cond ? (v: Float64Array) => (method.endsWith("_cov") ? resample(v, K, cond) : resample(v, K, cond, true)) : (v: Float64Array) => v;
    const dataVecs = subj.map((i) => pick(subjects[i][1].vector));
    mods.forEach(([, m], j) => {
      const mv = pick(m.vector);
      samples[j][b] = mean(dataVecs.map((d) => compareVectors(mv, d, method, opts)));
    });
  }
  const vectors = subjects.map(([, s]) => s.vector);
  const [lower, upper] = ceilingOf(vectors, range(S), method, opts);
  return new ModelComparison(
    method,
    mods.map(([name]) => name),
    subjects.map(([name]) => name),
    perSubject,
    samples,
    { lower, upper, method },
    { n, over, seed, ci },
  );
}

/** What `permutationTest` returns: the observed score, its p-value and the null distribution. */
export class PermutationTest {
  constructor(
    /** The model's mean comparison with the data RDMs. */
    readonly observed: number,
    /** One-sided p-value: (1 + #{permuted ≥ observed}) / (1 + n). */
    readonly p: number,
    /** The statistic under each permutation of the model's condition labels. */
    readonly nullDistribution: Float64Array,
    readonly method: CompareMethod,
    readonly n: number,
    readonly seed: number,
  ) {}

  /** "PermutationTest(method: observed, p, permutations)". */
  toString(): string {
    return `PermutationTest(${this.method}: observed ${this.observed.toPrecision(4)}, p = ${this.p.toPrecision(3)}, ${this.n} permutations)`;
  }
}

/**
 * Is the model RDM related to the data beyond chance? The model's conditions are shuffled (rows and
 * columns together) n times; the p-value is the share of shuffles scoring at least as well.
 * @example
 * const t = fl.permutationTest(animacy, subjectRdms, { method: "tau-a", n: 1000, seed: 0 });
 * t.p;
 */
export function permutationTest(
  model: RDM,
  data: RDM | RdmCollection,
  opts: { method?: CompareMethod; n?: number; seed?: number } & CompareOptions = {},
): PermutationTest {
  rejectUnknownOptions("permutationTest", opts, optionNames<typeof opts>({ method: true, n: true, seed: true, sigmaK: true }));
  const method = opts.method ?? "cosine";
  checkMethod(method);
  const n = opts.n ?? 1000, seed = opts.seed ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new InputError(undefined, `permutationTest: n must be a positive integer, got ${n}`);
  const subjects = named(data);
  for (const [, s] of subjects) checkSameConditions(model, s);
  const K = model.nConditions;
  const stat = (mv: Float64Array) => mean(subjects.map(([, s]) => compareVectors(mv, s.vector, method, opts)));
  const observed = stat(model.vector);
  const rng = new Rng(seed);
  const nul = new Float64Array(n);
  let atLeast = 0;
  for (let b = 0; b < n; b++) {
    nul[b] = stat(resample(model.vector, K, Array.from(rng.permutation(K))));
    if (nul[b] >= observed) atLeast++;
  }
  return new PermutationTest(observed, (1 + atLeast) / (1 + n), nul, method, n, seed);
}

/**
 * The RDM vector of conditions idx (with repeats): pairs of a condition with its own copy are NaN,
 * or left out with `dropSelf`.
 */
export function resample(v: Float64Array, K: number, idx: readonly number[], dropSelf = false): Float64Array {
  const m = idx.length;
  let selfPairs = 0; // pairs of a condition with its own copy: Σ c(c−1)/2 over repeat counts c
  if (dropSelf) {
    const seen = new Map<number, number>();
    for (const i of idx) {
      const c = seen.get(i) ?? 0;
      selfPairs += c;
      seen.set(i, c + 1);
    }
  }
  const out = new Float64Array((m * (m - 1)) / 2 - selfPairs);
  let p = 0;
  for (let a = 0; a < m; a++) {
    const i = idx[a];
    for (let b = a + 1; b < m; b++) {
      const j = idx[b];
      if (i !== j) out[p++] = v[i < j ? pairIndex(K, i, j) : pairIndex(K, j, i)];
      else if (!dropSelf) out[p++] = NaN;
    }
  }
  return out;
}

function subjectsOf(data: RdmCollection, fn: string): [string, RDM][] {
  const s = named(data);
  if (s.length < 2) throw new InputError(undefined, `${fn}: needs the RDMs of at least 2 subjects, got ${s.length}`);
  for (const [, r] of s.slice(1)) checkSameConditions(s[0][1], r);
  return s;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = q * (sorted.length - 1), lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

function nanMean(v: Float64Array): number {
  let s = 0, n = 0;
  for (const x of v) if (x === x) (s += x), n++;
  return s / n;
}

function mean(v: readonly number[]): number {
  return v.reduce((s, x) => s + x, 0) / v.length;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
