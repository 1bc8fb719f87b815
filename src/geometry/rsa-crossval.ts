// Model evaluation as rsatoolbox's inference/evaluate.py: eval_fixed (every subject scores every
// model; variance across subjects) and crossval over given train/test splits of conditions and
// subjects (fit on the training part, score on the held-out part), with sets_k_fold's deterministic
// splits. The result carries what rsatoolbox's Result does: evaluations, noise ceiling, variances,
// dof, and its tests.
import { RDM } from "./rdm.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { checkMethod, compareVectors, named, type CompareMethod, type RdmCollection } from "./compare-rdms.js";
import { noiseCeiling } from "./rsa-inference.js";
import { RsaModel, type Fitter } from "./rsa-models.js";
import { extractVariances, tTestsPairwise, tTestZero, tTestNoiseCeiling, type EvaluationVariances } from "./rsa-tests.js";

/**
 * rsatoolbox's Result: evaluations samples × models × (subjects | folds), the noise ceiling
 * (lower, upper; per fold for cross-validation), variances and the degrees of freedom of the tests.
 */
export class RsaResult {
  readonly models: readonly string[];
  readonly evaluations: number[][][];
  readonly method: CompareMethod;
  readonly cvMethod: "fixed" | "crossvalidation";
  /** [lower, upper] — each a number, or one per fold. */
  readonly noiseCeiling: [number[], number[]];
  readonly dof: number;
  readonly variances: EvaluationVariances | undefined;

  constructor(init: { models: readonly string[]; evaluations: number[][][]; method: CompareMethod; cvMethod: "fixed" | "crossvalidation"; noiseCeiling: [number[], number[]]; dof: number; variances?: EvaluationVariances }) {
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
    if (!this.variances) throw new InputError(undefined, `RsaResult.${fn}: no variance estimate (one subject, or cross-validation without a bootstrap)`);
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
  if (sets.length === 0) throw new InputError(undefined, "crossval: no cross-validation sets");
  const allS = list.map((_, i) => i);
  const folds: number[][] = [], lower: number[] = [], upper: number[] = [];
  sets.forEach((set, f) => {
    for (const [what, idx, n] of [["trainConditions", set.trainConditions, K], ["testConditions", set.testConditions, K], ["trainSubjects", set.trainSubjects ?? allS, S], ["testSubjects", set.testSubjects ?? allS, S]] as const) {
      for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= n) throw new InputError(undefined, `crossval: set ${f} ${what} has index ${i}, outside 0…${n - 1}`);
    }
    const trS = set.trainSubjects ?? allS, teS = set.testSubjects ?? allS;
    if (trS.length === 0 || teS.length === 0 || set.trainConditions.length <= 2 || set.testConditions.length <= 2) {
      folds.push(ms.map(() => NaN));
      return;
    }
    const train = trS.map((s) => list[s].subset(set.trainConditions));
    const test = teS.map((s) => list[s].subset(set.testConditions));
    folds.push(ms.map((m, j) => {
      const theta = (opts.fitter?.[j] ?? m.defaultFitter)(m.subset(set.trainConditions), train, { method });
      const pred = new RDM(m.predict(theta), { labels: m.rdms[0].labels }).subset(set.testConditions).vector;
      return test.reduce((s, r) => s + compareVectors(pred, r.vector, method), 0) / test.length;
    }));
    const nc = noiseCeiling(list.map((r) => r.subset(set.testConditions)), method);
    lower.push(nc.lower);
    upper.push(nc.upper);
  });
  const evaluations = [ms.map((_, j) => folds.map((f) => f[j]))];
  return new RsaResult({ models: ms.map((m) => m.name), evaluations, method, cvMethod: "crossvalidation", noiseCeiling: [lower, upper], dof: 1 });
}

/** Options of `setsKFold`. */
export interface SetsKFoldOptions {
  /** Number of subjects (for kRdm > 1). */
  nRdm?: number;
  /** Folds over subjects (default 1: all subjects in training and test). */
  kRdm?: number;
  /** Folds over conditions (default 5, at most nConditions / 3 as rsatoolbox asserts). */
  kPattern?: number;
}
export const SETS_K_FOLD_OPTIONS = optionNames<SetsKFoldOptions>({ nRdm: true, kRdm: true, kPattern: true });

// rsatoolbox's sets_k_fold_* with random=False: group g holds the indices ⌊g·n/k⌋ … ⌊(g+1)·n/k⌋−1.
function groups(n: number, k: number): number[][] {
  return Array.from({ length: k }, (_, g) => {
    const out: number[] = [];
    for (let i = Math.floor((g * n) / k); i < Math.floor(((g + 1) * n) / k); i++) out.push(i);
    return out;
  });
}

/**
 * Deterministic k-fold splits over conditions (and subjects), as rsatoolbox's sets_k_fold with
 * random=False: every combination of a held-out condition group and a held-out subject group.
 * @example
 * const sets = fl.setsKFold(12, { kPattern: 3 });
 */
export function setsKFold(nConditions: number, opts: SetsKFoldOptions = {}): CrossvalSet[] {
  rejectUnknownOptions("setsKFold", opts, SETS_K_FOLD_OPTIONS);
  const kP = opts.kPattern ?? 5, kR = opts.kRdm ?? 1;
  if (!Number.isInteger(nConditions) || nConditions < 3) throw new InputError(undefined, `setsKFold: nConditions must be an integer ≥ 3, got ${nConditions}`);
  if (!Number.isInteger(kP) || kP < 1 || nConditions < 3 * kP) throw new InputError(undefined, `setsKFold: kPattern ${kP} needs at least ${3 * kP} conditions (3 per fold), got ${nConditions}`);
  if (kR > 1 && (opts.nRdm === undefined || opts.nRdm < kR)) throw new InputError(undefined, `setsKFold: kRdm ${kR} needs nRdm ≥ ${kR}, got ${opts.nRdm}`);
  const pg = groups(nConditions, kP);
  const rg = kR > 1 ? groups(opts.nRdm as number, kR) : [undefined];
  const all = Array.from({ length: nConditions }, (_, i) => i);
  const sets: CrossvalSet[] = [];
  for (const r of rg) for (const p of pg) {
    const testConditions = p, trainConditions = kP > 1 ? all.filter((i) => !p.includes(i)) : all;
    const set: CrossvalSet = { trainConditions, testConditions };
    if (r) {
      set.testSubjects = r;
      set.trainSubjects = Array.from({ length: opts.nRdm as number }, (_, i) => i).filter((i) => !r.includes(i));
    }
    sets.push(set);
  }
  return sets;
}
