// Model evaluation as rsatoolbox's inference/evaluate.py: eval_fixed (every subject scores every
// model; variance across subjects) and crossval over given train/test splits of conditions and
// subjects (fit on the training part, score on the held-out part), with the splits of
// crossvalsets.py (sets_k_fold, deterministic or seeded random; sets_leave_one_out_pattern / _rdm).
// The result carries what rsatoolbox's Result does: evaluations, noise ceiling, variances, dof, and
// its tests.
import { RDM } from "./rdm.js";
import { Rng } from "../engine/random.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { checkMethod, compareVectors, named, type CompareMethod, type RdmCollection } from "./compare-rdms.js";
import { noiseCeiling } from "./rsa-inference.js";
import { RsaModel, type Fitter } from "./rsa-models.js";
import { extractVariances, tTestsPairwise, tTestZero, tTestNoiseCeiling, type EvaluationVariances } from "./rsa-tests.js";

/** How a result's evaluations were made (rsatoolbox's cv_method). */
export type RsaCvMethod = "fixed" | "crossvalidation" | "bootstrap_crossval" | "bootstrap_crossval_pattern" | "bootstrap_crossval_rdm" | "dual_bootstrap";

/**
 * rsatoolbox's Result: evaluations samples × models × (subjects | folds; for the bootstraps the folds
 * and runs flattened), the noise ceiling (lower, upper; per fold for cross-validation, per sample and
 * run for the bootstraps), variances and the degrees of freedom of the tests.
 */
export class RsaResult {
  readonly models: readonly string[];
  readonly evaluations: number[][][];
  readonly method: CompareMethod;
  readonly cvMethod: RsaCvMethod;
  /** [lower, upper] — each a number, or one per fold. */
  readonly noiseCeiling: [number[], number[]];
  readonly dof: number;
  readonly variances: EvaluationVariances | undefined;

  constructor(init: { models: readonly string[]; evaluations: number[][][]; method: CompareMethod; cvMethod: RsaCvMethod; noiseCeiling: [number[], number[]]; dof: number; variances?: EvaluationVariances }) {
    this.models = init.models;
    this.evaluations = init.evaluations;
    this.method = init.method;
    this.cvMethod = init.cvMethod;
    this.noiseCeiling = init.noiseCeiling;
    this.dof = init.dof;
    this.variances = init.variances;
  }

  /**
   * Mean evaluation per model (NaN folds ignored), as rsatoolbox's get_means.
   * @example
   * result.means();
   */
  means(): number[] {
    return this.models.map((_, m) => nanMean(this.evaluations.map((s) => nanMean(s[m]))));
  }

  /**
   * Standard error per model: √ of the model variances (rsatoolbox's get_sem).
   * @example
   * result.sem();
   */
  sem(): number[] | undefined {
    return this.variances?.modelVar.map((v) => Math.sqrt(Math.max(v, 0)));
  }

  private need(fn: string): EvaluationVariances {
    if (!this.variances) throw new InputError(undefined, `RsaResult.${fn}: no variance estimate (one subject, cross-validation without a bootstrap, or fewer than 2 usable bootstrap samples)`);
    return this.variances;
  }

  /**
   * Pairwise two-sided t-tests (rsatoolbox's Result.test_pairwise): models × models p-values.
   * @example
   * const p = result.testPairwise();
   */
  testPairwise(): number[][] {
    return tTestsPairwise(this.evaluations, this.need("testPairwise").diffVar, this.dof);
  }

  /**
   * One-sided t-tests of each model against 0 (rsatoolbox's Result.test_zero).
   * @example
   * const p0 = result.testZero();
   */
  testZero(): number[] {
    return tTestZero(this.evaluations, this.need("testZero").modelVar, this.dof);
  }

  /**
   * Two-sided t-tests of each model against the mean lower noise ceiling (rsatoolbox's Result.test_noise).
   * @example
   * const pNc = result.testNoise();
   */
  testNoise(): number[] {
    const v = this.need("testNoise");
    return tTestNoiseCeiling(this.evaluations, v.ncVar.map((r) => r[0]), nanMean(this.noiseCeiling[0]), this.dof);
  }
}

function nanMean(xs: readonly number[]): number {
  let s = 0, n = 0;
  for (const x of xs) if (!Number.isNaN(x)) { s += x; n++; }
  return n ? s / n : NaN;
}

function checkModels(fn: string, models: RsaModel | readonly RsaModel[], K: number): RsaModel[] {
  const list = models instanceof RsaModel ? [models] : [...models];
  if (list.length === 0) throw new InputError(undefined, `${fn}: no models`);
  list.forEach((m, i) => {
    if (!(m instanceof RsaModel)) throw new InputError(undefined, `${fn}: model ${i} is not an RsaModel (ModelFixed, ModelWeighted, …)`);
    if (m.nConditions !== K) throw new InputError(undefined, `${fn}: model ${i} (${m.name}) has ${m.nConditions} conditions, the data ${K}`);
  });
  return list;
}

function checkData(fn: string, data: RdmCollection): RDM[] {
  const list = named(data).map(([, r]) => r);
  if (list.length === 0) throw new InputError(undefined, `${fn}: no data RDMs`);
  const K = list[0].nConditions;
  list.forEach((r, i) => {
    if (r.nConditions !== K) throw new InputError(undefined, `${fn}: data RDM ${i} has ${r.nConditions} conditions, expected ${K}`);
  });
  return list;
}

/** Options of `evalFixed`. */
export interface EvalFixedOptions {
  method?: CompareMethod;
  /** One θ per model (default: each model's predict default). */
  theta?: readonly (readonly number[] | undefined)[];
}
export const EVAL_FIXED_OPTIONS = optionNames<EvalFixedOptions>({ method: true, theta: true });

/**
 * rsatoolbox's eval_fixed: every model (at θ) compared with every subject's RDM; variance of the mean
 * across subjects (covariance/n, corrected n/(n−1)), dof = n − 1, Nili noise ceiling.
 * @example
 * const res = fl.evalFixed([modelA, modelB], subjectRdms, { method: "corr" }); res.testPairwise();
 */
export function evalFixed(models: RsaModel | readonly RsaModel[], data: RdmCollection, opts: EvalFixedOptions = {}): RsaResult {
  rejectUnknownOptions("evalFixed", opts, EVAL_FIXED_OPTIONS);
  const method = opts.method ?? "cosine";
  checkMethod(method);
  const list = checkData("evalFixed", data);
  const ms = checkModels("evalFixed", models, list[0].nConditions);
  if (opts.theta && opts.theta.length !== ms.length) throw new InputError(undefined, `evalFixed: ${opts.theta.length} θ for ${ms.length} models`);
  const evals = ms.map((m, k) => {
    const pred = m.predict(opts.theta?.[k] as number[] | undefined);
    return list.map((r) => compareVectors(pred, r.vector, method));
  });
  const nc = noiseCeiling(list, method);
  const n = list.length;
  let variances: EvaluationVariances | undefined;
  if (n > 1) {
    // np.cov(evals, ddof=0) / n, models only (the ceiling is taken as fixed).
    const mean = evals.map((e) => e.reduce((a, b) => a + b, 0) / n);
    const cov = evals.map((a, i) => evals.map((b, j) => a.reduce((s, x, t) => s + (x - mean[i]) * (b[t] - mean[j]), 0) / n / n));
    variances = extractVariances(cov, { ncIncluded: false, nRdm: n });
  }
  return new RsaResult({ models: ms.map((m) => m.name), evaluations: [evals], method, cvMethod: "fixed", noiseCeiling: [[nc.lower], [nc.upper]], dof: n > 1 ? n - 1 : 0, variances });
}

/** One cross-validation split: subjects and conditions (indices) to fit on and to test on. */
export interface CrossvalSet {
  trainSubjects?: readonly number[];
  trainConditions: readonly number[];
  testSubjects?: readonly number[];
  testConditions: readonly number[];
}

/** Options of `crossval`. */
export interface CrossvalOptions {
  method?: CompareMethod;
  /** One fitter per model (default: each model's own). */
  fitter?: readonly (Fitter | undefined)[];
}
export const CROSSVAL_OPTIONS = optionNames<CrossvalOptions>({ method: true, fitter: true });

/**
 * rsatoolbox's crossval: for each split, each model is fitted to the training subjects' RDMs on the
 * training conditions and scored (mean comparison) on the test subjects' RDMs on the test conditions;
 * the noise ceiling of all subjects on the test conditions per split. Splits with ≤ 2 conditions or no
 * subjects on either side give NaN, as rsatoolbox does.
 * @example
 * const res = fl.crossval([weighted], subjectRdms, fl.setsKFold(8, { kPattern: 2 }), { method: "corr" });
 */
export function crossval(models: RsaModel | readonly RsaModel[], data: RdmCollection, sets: readonly CrossvalSet[], opts: CrossvalOptions = {}): RsaResult {
  rejectUnknownOptions("crossval", opts, CROSSVAL_OPTIONS);
  const method = opts.method ?? "cosine";
  checkMethod(method);
  const list = checkData("crossval", data);
  const K = list[0].nConditions, S = list.length;
  const ms = checkModels("crossval", models, K);
  checkFitters("crossval", opts.fitter, ms.length);
  if (sets.length === 0) throw new InputError(undefined, "crossval: no cross-validation sets");
  sets.forEach((set, f) => {
    for (const [what, idx, n] of [["trainConditions", set.trainConditions, K], ["testConditions", set.testConditions, K], ["trainSubjects", set.trainSubjects, S], ["testSubjects", set.testSubjects, S]] as const) {
      if (idx === undefined) continue;
      for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= n) throw new InputError(undefined, `crossval: set ${f} ${what} has index ${i}, outside 0…${n - 1}`);
    }
  });
  const { folds, lower, upper } = crossvalFolds(ms, list, sets, method, opts.fitter, true);
  const evaluations = [ms.map((_, j) => folds.map((f) => f[j]))];
  return new RsaResult({ models: ms.map((m) => m.name), evaluations, method, cvMethod: "crossvalidation", noiseCeiling: [lower, upper], dof: 1 });
}

/** @internal Checks a per-model fitter list: an array as long as the models, of functions or undefined. */
export function checkFitters(fn: string, fitter: readonly (Fitter | undefined)[] | undefined, nModels: number): void {
  if (fitter === undefined) return;
  if (!Array.isArray(fitter) || fitter.length !== nModels) throw new InputError(undefined, `${fn}: fitter must list one fitter (or undefined) per model: ${nModels}, got ${Array.isArray(fitter) ? fitter.length : typeof fitter}`);
  fitter.forEach((f, j) => {
    if (f !== undefined && typeof f !== "function") throw new InputError(undefined, `${fn}: fitter ${j} is not a function`);
  });
}

/**
 * @internal crossval's work on checked input: per split the models' mean test scores (NaN where a side
 * has no subjects or ≤ 2 conditions, counting repeats) and, with `ceiling`, the noise ceiling of all
 * subjects on the test conditions.
 */
export function crossvalFolds(ms: readonly RsaModel[], list: readonly RDM[], sets: readonly CrossvalSet[], method: CompareMethod, fitter: readonly (Fitter | undefined)[] | undefined, ceiling: boolean): { folds: number[][]; lower: number[]; upper: number[] } {
  const allS = list.map((_, i) => i);
  const folds: number[][] = [], lower: number[] = [], upper: number[] = [];
  for (const set of sets) {
    const trS = set.trainSubjects ?? allS, teS = set.testSubjects ?? allS;
    if (trS.length === 0 || teS.length === 0 || set.trainConditions.length <= 2 || set.testConditions.length <= 2) {
      folds.push(ms.map(() => NaN));
      continue;
    }
    const train = trS.map((s) => list[s].subset(set.trainConditions));
    const test = teS.map((s) => list[s].subset(set.testConditions));
    folds.push(ms.map((m, j) => {
      const theta = (fitter?.[j] ?? m.defaultFitter)(m.subset(set.trainConditions), train, { method });
      const pred = new RDM(m.predict(theta), { labels: m.rdms[0].labels }).subset(set.testConditions).vector;
      return test.reduce((s, r) => s + compareVectors(pred, r.vector, method), 0) / test.length;
    }));
    if (ceiling) {
      const nc = noiseCeiling(list.map((r) => r.subset(set.testConditions)), method);
      lower.push(nc.lower);
      upper.push(nc.upper);
    }
  }
  return { folds, lower, upper };
}

/** Options of `setsKFold`. */
export interface SetsKFoldOptions {
  /** Number of subjects (for kRdm > 1). */
  nRdm?: number;
  /** Folds over subjects (default 1: all subjects in training and test). */
  kRdm?: number;
  /** Folds over conditions (default 5, at most nConditions / 3 so that every test fold can be scored). */
  kPattern?: number;
  /**
   * Shuffle before grouping (rsatoolbox's random): subjects once, conditions anew for each subject
   * fold, as sets_k_fold does. Default false: the fixed groups of random=False.
   */
  random?: boolean;
  /** Seed of the shuffles (with random). Default 0. */
  seed?: number;
}
export const SETS_K_FOLD_OPTIONS = optionNames<SetsKFoldOptions>({ nRdm: true, kRdm: true, kPattern: true, random: true, seed: true });

/**
 * @internal rsatoolbox's k-fold groups over `order` (a list of ids, shuffled or not): group g holds the
 * ⌊n/k⌋ entries from g·⌊n/k⌋ on and, for the first n mod k groups, one more from the end (entry
 * n − 1 − g). Each group sorted.
 */
export function kFoldGroups(order: readonly number[], k: number): number[][] {
  const n = order.length, size = Math.floor(n / k), extra = n % k;
  return Array.from({ length: k }, (_, g) => {
    const out = order.slice(g * size, (g + 1) * size);
    if (g < extra) out.push(order[n - 1 - g]);
    return out.sort((a, b) => a - b);
  });
}

/**
 * @internal The splits of rsatoolbox's sets_k_fold over the given subject and condition ids: each
 * subject group (or all subjects, kRdm = 1) with each condition group (or all conditions, kPattern = 1)
 * held out; `rng` shuffles the subjects once and the conditions for each subject group.
 */
export function kFoldSets(subjects: readonly number[], conditions: readonly number[], kRdm: number, kPattern: number, rng?: Rng): CrossvalSet[] {
  const shuffle = (ids: readonly number[]) => (rng ? Array.from(rng.permutation(ids.length), (i) => ids[i]) : ids.slice());
  const rg = kRdm > 1 ? kFoldGroups(shuffle(subjects), kRdm) : [undefined];
  const sets: CrossvalSet[] = [];
  for (const r of rg) {
    for (const p of kPattern > 1 ? kFoldGroups(shuffle(conditions), kPattern) : [conditions.slice()]) {
      const set: CrossvalSet = { trainConditions: kPattern > 1 ? conditions.filter((i) => !p.includes(i)) : p, testConditions: p };
      if (r) {
        set.testSubjects = r;
        set.trainSubjects = subjects.filter((i) => !r.includes(i));
      }
      sets.push(set);
    }
  }
  return sets;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function checkCount(fn: string, what: string, n: unknown, min: number): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) throw new InputError(undefined, `${fn}: ${what} must be an integer ≥ ${min}, got ${String(n)}`);
}

/**
 * k-fold splits over conditions (and subjects), as rsatoolbox's sets_k_fold: every combination of a
 * held-out subject group and a held-out condition group. Groups as rsatoolbox forms them: ⌊n/k⌋
 * consecutive ids each, the n mod k left over added one each to the first groups, taken from the end.
 * Fixed groups by default (random=False); `random: true` shuffles with `seed`, subjects once and
 * conditions anew for each subject group, as sets_k_fold(random=True).
 * @example
 * const sets = fl.setsKFold(12, { kPattern: 3, kRdm: 2, nRdm: 8, random: true, seed: 1 });
 */
export function setsKFold(nConditions: number, opts: SetsKFoldOptions = {}): CrossvalSet[] {
  rejectUnknownOptions("setsKFold", opts, SETS_K_FOLD_OPTIONS);
  const kP = opts.kPattern ?? 5, kR = opts.kRdm ?? 1;
  checkCount("setsKFold", "nConditions", nConditions, 3);
  checkCount("setsKFold", "kPattern", kP, 1);
  checkCount("setsKFold", "kRdm", kR, 1);
  if (nConditions < 3 * kP) throw new InputError(undefined, `setsKFold: kPattern ${kP} needs at least ${3 * kP} conditions (3 per fold), got ${nConditions}`);
  if (kR > 1 && (opts.nRdm === undefined || opts.nRdm < kR)) throw new InputError(undefined, `setsKFold: kRdm ${kR} needs nRdm ≥ ${kR}, got ${opts.nRdm}`);
  if (opts.nRdm !== undefined) checkCount("setsKFold", "nRdm", opts.nRdm, 1);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InputError(undefined, `setsKFold: seed must be an integer, got ${seed}`);
  return kFoldSets(range(opts.nRdm ?? 0), range(nConditions), kR, kP, opts.random ? new Rng(seed) : undefined);
}

/** Options of `setsLeaveOneOut`. */
export interface SetsLeaveOneOutOptions {
  /** Leave out one condition group ("conditions", default: sets_leave_one_out_pattern) or one subject group ("subjects": sets_leave_one_out_rdm). */
  over?: "conditions" | "subjects";
  /** Number of subjects (needed with over: "subjects" unless `groups` gives one entry per subject). */
  nRdm?: number;
  /**
   * A descriptor, one entry per condition (or subject): entries that are equal form a group that
   * leaves together (rsatoolbox's pattern_descriptor / rdm_descriptor). Default: each on its own.
   * Groups come in the sorted order of their values, as np.unique.
   */
  groups?: readonly (string | number)[];
}
export const SETS_LEAVE_ONE_OUT_OPTIONS = optionNames<SetsLeaveOneOutOptions>({ over: true, nRdm: true, groups: true });

/**
 * Leave-one-out splits, as rsatoolbox's sets_leave_one_out_pattern (over conditions: each group of
 * conditions is the test set once, the other conditions the training set, all subjects on both sides)
 * and sets_leave_one_out_rdm (over subjects: each group of subjects is tested once on all conditions,
 * fitted on the others; a single group gives one split with everything on both sides). Leaving single
 * conditions out gives test sets crossval cannot score (it needs 3 conditions): use `groups`.
 * @example
 * const sets = fl.setsLeaveOneOut(12, { groups: [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3] });
 * const bySubject = fl.setsLeaveOneOut(12, { over: "subjects", nRdm: 8 });
 */
export function setsLeaveOneOut(nConditions: number, opts: SetsLeaveOneOutOptions = {}): CrossvalSet[] {
  rejectUnknownOptions("setsLeaveOneOut", opts, SETS_LEAVE_ONE_OUT_OPTIONS);
  const over = opts.over ?? "conditions";
  if (over !== "conditions" && over !== "subjects") throw new InputError(undefined, `setsLeaveOneOut: over must be "conditions" or "subjects", got '${String(over)}'`);
  checkCount("setsLeaveOneOut", "nConditions", nConditions, 3);
  const n = over === "conditions" ? nConditions : opts.nRdm ?? opts.groups?.length;
  if (over === "subjects") checkCount("setsLeaveOneOut", "nRdm", n, 1);
  const groups = opts.groups ?? range(n as number);
  if (!Array.isArray(groups) || groups.length !== n) throw new InputError(undefined, `setsLeaveOneOut: groups must have one entry per ${over === "conditions" ? "condition" : "subject"}: ${n}, got ${Array.isArray(groups) ? groups.length : typeof groups}`);
  const values = [...new Set(groups)].sort((a, b) => (typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : typeof a === "number" ? -1 : 1));
  const members = values.map((v) => groups.flatMap((g, i) => (g === v ? [i] : [])));
  const all = range(nConditions);
  if (over === "conditions") {
    return members.map((test) => ({ trainConditions: all.filter((i) => !test.includes(i)), testConditions: test }));
  }
  if (members.length < 2) return [{ trainConditions: all, testConditions: all }];
  const subjects = range(n as number);
  return members.map((test) => ({ trainConditions: all, testConditions: all, trainSubjects: subjects.filter((i) => !test.includes(i)), testSubjects: test }));
}
