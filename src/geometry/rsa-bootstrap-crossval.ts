// Cross-validation inside a bootstrap, as rsatoolbox's inference/evaluate.py does it: bootstrap_crossval
// (resample subjects and/or conditions, run a k-fold cross-validation on each sample nCv times with
// new random folds) and eval_dual_bootstrap (the same sample evaluated three ways — both resampled,
// subjects only, conditions only). The variance of the mean evaluation is corrected for the
// cross-validation's own randomness, (nCv·var(mean of nCv runs) − var(one run)) / (nCv − 1), and for
// the bootstrap's bias (Schütt et al. 2023) through extractVariances with the numbers of subjects and
// conditions. Every random choice takes a seed; explicit samples and folds can be given instead.
import { RDM } from "./rdm.js";
import { Rng } from "../engine/random.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { checkMethod, compareVectors, named, type CompareMethod, type RdmCollection } from "./compare-rdms.js";
import { ceilingOf, poolVectors, resample } from "./rsa-inference.js";
import { RsaModel, type Fitter } from "./rsa-models.js";
import { extractVariances } from "./rsa-tests.js";
import { RsaResult, checkFitters, crossvalFolds, kFoldSets, type CrossvalSet, type RsaCvMethod } from "./rsa-crossval.js";

/**
 * One bootstrap sample given by hand: the subjects and conditions drawn (indices into the data, with
 * repeats) and, for each cross-validation run, its splits over the distinct subjects and conditions
 * drawn (indices into the data, as setsKFold gives them). evalDualBootstrap takes three lists of
 * splits per run, in rsatoolbox's order: both resampled, subjects only, conditions only.
 */
export interface BootstrapSample {
  rdmIdx: readonly number[];
  patternIdx: readonly number[];
  /** Per run: the splits (kPattern·kRdm of them). Unused for a sample with too few distinct conditions or subjects. */
  folds: readonly (readonly CrossvalSet[])[];
}

/** Options of `bootstrapCrossval`. */
export interface BootstrapCrossvalOptions {
  /** Comparison method. Default "cosine". */
  method?: CompareMethod;
  /** One fitter per model (default: each model's own). */
  fitter?: readonly (Fitter | undefined)[];
  /** Folds over conditions. Default rsatoolbox's default_k_pattern of (1 − 1/e)·conditions: 2…5. */
  kPattern?: number;
  /** Folds over subjects. Default 1 for one subject, else default_k_rdm of (1 − 1/e)·subjects: 2…5. */
  kRdm?: number;
  /** Bootstrap samples (rsatoolbox's N). Default 1000. */
  n?: number;
  /** Cross-validation runs per sample, each with new folds. Default 2. */
  nCv?: number;
  /** Resample "both" (default), only "pattern"s (conditions) or only "rdm"s (subjects). */
  bootType?: "both" | "pattern" | "rdm";
  /** Correct the variance for the randomness of the folds (needs nCv ≥ 2). Default true. */
  useCorrection?: boolean;
  /** Seed of the samples and folds. Default 0. */
  seed?: number;
  /** The samples and folds to use instead of drawing them (then n and seed are not used). */
  samples?: readonly BootstrapSample[];
}
export const BOOTSTRAP_CROSSVAL_OPTIONS = optionNames<BootstrapCrossvalOptions>({ method: true, fitter: true, kPattern: true, kRdm: true, n: true, nCv: true, bootType: true, useCorrection: true, seed: true, samples: true });

/** Options of `evalDualBootstrap`. */
export type EvalDualBootstrapOptions = Omit<BootstrapCrossvalOptions, "bootType">;
export const EVAL_DUAL_BOOTSTRAP_OPTIONS = optionNames<EvalDualBootstrapOptions>({ method: true, fitter: true, kPattern: true, kRdm: true, n: true, nCv: true, useCorrection: true, seed: true, samples: true });

/** rsatoolbox's default_k_pattern: 2 folds below 12 conditions, 3 below 24, 4 below 40, else 5. */
function defaultKPattern(n: number): number {
  return n < 12 ? 2 : n < 24 ? 3 : n < 40 ? 4 : 5;
}

/** rsatoolbox's default_k_rdm: 2 folds below 6 subjects, 3 below 12, 4 below 20, else 5. */
function defaultKRdm(n: number): number {
  return n < 6 ? 2 : n < 12 ? 3 : n < 20 ? 4 : 5;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const distinct = (xs: readonly number[]) => [...new Set(xs)].sort((a, b) => a - b);

// Positions in `drawn` whose value is one of `ids` (all copies).
function positions(drawn: readonly number[], ids: readonly number[]): number[] {
  const want = new Set(ids);
  return drawn.flatMap((v, q) => (want.has(v) ? [q] : []));
}

// rsatoolbox's cv_noise_ceiling on a sample (positions): per split, the pool of the training subjects
// on the test conditions (lower) and the pool of all subjects restricted to them (upper), each scored
// on the test subjects; both averaged over the splits.
function cvCeiling(data: readonly RDM[], sets: readonly CrossvalSet[], method: CompareMethod): [number, number] {
  const all = new RDM(poolVectors(data.map((r) => r.vector), method));
  const lower: number[] = [], upper: number[] = [];
  for (const set of sets) {
    const onTest = (s: number) => data[s].subset(set.testConditions).vector;
    const train = poolVectors((set.trainSubjects ?? range(data.length)).map(onTest), method);
    const pooled = all.subset(set.testConditions).vector;
    const test = (set.testSubjects ?? range(data.length)).map(onTest);
    lower.push(mean(test.map((t) => compareVectors(train, t, method))));
    upper.push(mean(test.map((t) => compareVectors(pooled, t, method))));
  }
  return [mean(lower), mean(upper)];
}

interface Setup {
  fn: string;
  ms: RsaModel[];
  list: RDM[];
  method: CompareMethod;
  fitter: readonly (Fitter | undefined)[] | undefined;
  kP: number;
  kR: number;
}

// One sample (subjects rdmIdx, conditions patternIdx) cross-validated over each run's splits (data
// indices): per run the models' scores per split and the noise ceiling.
function evaluateSample(st: Setup, rdmIdx: readonly number[], patternIdx: readonly number[], runs: readonly (readonly CrossvalSet[])[]): { evals: number[][][]; ceiling: [number, number][] } {
  const K = st.list[0].nConditions;
  const cond = patternIdx.slice().sort((a, b) => a - b); // subsample_pattern's sorted order
  const data = rdmIdx.map((s) => new RDM(resample(st.list[s].vector, K, cond)));
  const models = st.ms.map((m) => {
    const Ctor = m.constructor as new (name: string, rdm: readonly Float64Array[]) => RsaModel;
    return new Ctor(m.name, m.rdms.map((r) => resample(r.vector, K, cond)));
  });
  const cv = st.kP > 1 || st.kR > 1;
  const evals: number[][][] = [], ceiling: [number, number][] = [];
  for (const sets of runs) {
    const local = sets.map((set) => ({
      trainConditions: positions(cond, set.trainConditions),
      testConditions: positions(cond, set.testConditions),
      trainSubjects: set.trainSubjects && positions(rdmIdx, set.trainSubjects),
      testSubjects: set.testSubjects && positions(rdmIdx, set.testSubjects),
    }));
    evals.push(crossvalFolds(models, data, local, st.method, st.fitter, false).folds);
    // Without folds, rsatoolbox's boot_noise_ceiling: each distinct subject (with its copies) left out once.
    ceiling.push(cv ? cvCeiling(data, local, st.method) : ceilingOf(data.map((r) => r.vector), rdmIdx, st.method, {}, true));
  }
  return { evals, ceiling };
}

function checkSample(st: Setup, b: number, s: BootstrapSample, runs: number): void {
  const S = st.list.length, K = st.list[0].nConditions;
  for (const [what, idx, n] of [["rdmIdx", s.rdmIdx, S], ["patternIdx", s.patternIdx, K]] as const) {
    if (!Array.isArray(idx) || idx.length === 0) throw new InputError(undefined, `${st.fn}: samples[${b}].${what} must be a non-empty array of indices`);
    for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= n) throw new InputError(undefined, `${st.fn}: samples[${b}].${what} has index ${i}, outside 0…${n - 1}`);
  }
  if (!usable(st, s.rdmIdx, s.patternIdx)) return;
  if (!Array.isArray(s.folds) || s.folds.length !== runs) throw new InputError(undefined, `${st.fn}: samples[${b}].folds must hold ${runs} lists of splits (one per run), got ${Array.isArray(s.folds) ? s.folds.length : typeof s.folds}`);
  s.folds.forEach((sets, r) => {
    if (!Array.isArray(sets) || sets.length !== st.kP * st.kR) throw new InputError(undefined, `${st.fn}: samples[${b}].folds[${r}] must hold kPattern·kRdm = ${st.kP * st.kR} splits, got ${Array.isArray(sets) ? sets.length : typeof sets}`);
  });
}

// rsatoolbox's test that a sample allows the cross-validation: ≥ kRdm distinct subjects, ≥ 3·kPattern distinct conditions.
function usable(st: Setup, rdmIdx: readonly number[], patternIdx: readonly number[]): boolean {
  return new Set(rdmIdx).size >= st.kR && new Set(patternIdx).size >= 3 * st.kP;
}

function setup(fn: string, models: RsaModel | readonly RsaModel[], data: RdmCollection, opts: EvalDualBootstrapOptions, kDefault: boolean): Setup & { n: number; nCv: number; useCorrection: boolean; seed: number } {
  const method = opts.method ?? "cosine";
  checkMethod(method);
  const list = named(data).map(([, r]) => r);
  if (list.length === 0) throw new InputError(undefined, `${fn}: no data RDMs`);
  const K = list[0].nConditions, S = list.length;
  list.forEach((r, i) => {
    if (r.nConditions !== K) throw new InputError(undefined, `${fn}: data RDM ${i} has ${r.nConditions} conditions, expected ${K}`);
  });
  const ms = models instanceof RsaModel ? [models] : [...models];
  if (ms.length === 0) throw new InputError(undefined, `${fn}: no models`);
  ms.forEach((m, i) => {
    if (!(m instanceof RsaModel)) throw new InputError(undefined, `${fn}: model ${i} is not an RsaModel (ModelFixed, ModelWeighted, …)`);
    if (m.nConditions !== K) throw new InputError(undefined, `${fn}: model ${i} (${m.name}) has ${m.nConditions} conditions, the data ${K}`);
  });
  checkFitters(fn, opts.fitter, ms.length);
  const shrink = 1 - 1 / Math.E;
  const kP = opts.kPattern ?? (kDefault ? defaultKPattern(shrink * K) : 1);
  const kR = opts.kRdm ?? (kDefault ? (S === 1 ? 1 : defaultKRdm(shrink * S)) : 1);
  const n = opts.samples ? opts.samples.length : opts.n ?? 1000, nCv = opts.nCv ?? 2, seed = opts.seed ?? 0;
  const int = (what: string, v: number, min: number, max = Infinity) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new InputError(undefined, `${fn}: ${what} must be an integer in ${min}…${max}, got ${v}`);
  };
  int("kPattern", kP, 1);
  if (3 * kP > K) throw new InputError(undefined, `${fn}: kPattern ${kP}${opts.kPattern === undefined ? " (the default)" : ""} needs at least ${3 * kP} conditions (3 distinct per fold in every sample), the data have ${K}`);
  int("kRdm", kR, 1);
  if (kR > S) throw new InputError(undefined, `${fn}: kRdm ${kR}${opts.kRdm === undefined ? " (the default)" : ""} needs at least ${kR} subjects, the data have ${S}`);
  int(opts.samples ? "samples.length" : "n", n, 1);
  int("nCv", nCv, 1);
  int("seed", seed, -Infinity);
  return { fn, ms, list, method, fitter: opts.fitter, kP, kR, n, nCv, useCorrection: opts.useCorrection ?? true, seed };
}

// Column-wise covariance (ddof 1) of rows (samples × variables).
function cov(rows: readonly (readonly number[])[]): number[][] {
  const n = rows.length, V = rows[0].length;
  const m = range(V).map((j) => mean(rows.map((r) => r[j])));
  return range(V).map((i) => range(V).map((j) => rows.reduce((s, r) => s + (r[i] - m[i]) * (r[j] - m[j]), 0) / (n - 1)));
}

// The variance of the mean evaluation over valid samples: rows of (models…, lower, upper) per run;
// corrected as rsatoolbox does for nCv runs, (nCv·cov(mean over runs) − mean over runs of cov(run)) / (nCv − 1).
function cvCorrectedCovariance(perRun: readonly (readonly (readonly number[])[])[], correct: boolean): number[][] {
  const nCv = perRun[0].length;
  const meanRows = perRun.map((runs) => runs[0].map((_, j) => mean(runs.map((r) => r[j]))));
  const vMean = cov(meanRows);
  if (!correct) return vMean;
  const v1 = range(nCv).map((r) => cov(perRun.map((runs) => runs[r])));
  return vMean.map((row, i) => row.map((x, j) => (nCv * x - mean(v1.map((v) => v[i][j]))) / (nCv - 1)));
}

function checkCorrection(fn: string, useCorrection: boolean, nCv: number): void {
  if (useCorrection && nCv < 2) throw new InputError(undefined, `${fn}: useCorrection needs nCv ≥ 2 runs per sample (the correction compares one run with their mean); set nCv: 2 or useCorrection: false`);
}

function drawSample(rng: Rng, S: number, K: number, over: "both" | "pattern" | "rdm"): { rdmIdx: number[]; patternIdx: number[] } {
  const rdmIdx = over === "pattern" ? range(S) : range(S).map(() => rng.int(S));
  const patternIdx = over === "rdm" ? range(K) : range(K).map(() => rng.int(K));
  return { rdmIdx, patternIdx };
}

/**
 * rsatoolbox's bootstrap_crossval: n bootstrap samples of the subjects and/or conditions; in each, nCv
 * runs of k-fold cross-validation (kPattern × kRdm splits, new random folds each run; a sample with
 * fewer than kRdm distinct subjects or 3·kPattern distinct conditions is NaN) with the noise ceiling of
 * each run. Evaluations: samples × models × (split·nCv + run). The variance of the mean evaluation is
 * corrected for the folds' randomness (useCorrection, nCv ≥ 2) and by n/(n−1) for the number of
 * subjects and/or conditions resampled (Schütt et al. 2023), so result.testPairwise() etc. work.
 * `samples` gives the samples and folds explicitly (as rsatoolbox drew them, say).
 * @example
 * const res = fl.bootstrapCrossval([fixedModel, weightedModel], rdms, { method: "corr", n: 200, seed: 0 });
 * res.testPairwise();
 */
export function bootstrapCrossval(models: RsaModel | readonly RsaModel[], data: RdmCollection, opts: BootstrapCrossvalOptions = {}): RsaResult {
  rejectUnknownOptions("bootstrapCrossval", opts, BOOTSTRAP_CROSSVAL_OPTIONS);
  const bootType = opts.bootType ?? "both";
  if (!["both", "pattern", "rdm"].includes(bootType)) throw new InputError(undefined, `bootstrapCrossval: bootType must be "both", "pattern" or "rdm", got '${String(bootType)}'`);
  const st = setup("bootstrapCrossval", models, data, opts, true);
  checkCorrection(st.fn, st.useCorrection, st.nCv);
  const S = st.list.length, K = st.list[0].nConditions, M = st.ms.length;
  opts.samples?.forEach((s, b) => checkSample(st, b, s, st.nCv));
  const rng = new Rng(st.seed);
  const nanRuns = () => range(st.nCv).map(() => range(st.kP * st.kR).map(() => range(M).map(() => NaN)));
  const evaluations: number[][][] = [], lower: number[] = [], upper: number[] = [];
  const perRun: number[][][] = []; // valid samples × runs × (models…, lower, upper)
  for (let b = 0; b < st.n; b++) {
    const given = opts.samples?.[b];
    const { rdmIdx, patternIdx } = given ?? drawSample(rng, S, K, bootType);
    let evals = nanRuns(), ceiling: [number, number][] = range(st.nCv).map(() => [NaN, NaN]);
    if (usable(st, rdmIdx, patternIdx)) {
      const runs = given ? given.folds : range(st.nCv).map(() => kFoldSets(distinct(rdmIdx), distinct(patternIdx), st.kR, st.kP, rng));
      ({ evals, ceiling } = evaluateSample(st, rdmIdx, patternIdx, runs));
    }
    // evals: runs × splits × models → models × (split·nCv + run), numpy's C order of [split][run].
    evaluations.push(range(M).map((m) => range(st.kP * st.kR).flatMap((f) => range(st.nCv).map((r) => evals[r][f][m]))));
    ceiling.forEach(([lo, up]) => { lower.push(lo); upper.push(up); });
    if (!Number.isNaN(evals[0][0][0])) perRun.push(range(st.nCv).map((r) => [...range(M).map((m) => mean(evals[r].map((f) => f[m]))), ...ceiling[r]]));
  }
  const cvMethod: RsaCvMethod = bootType === "both" ? "bootstrap_crossval" : bootType === "pattern" ? "bootstrap_crossval_pattern" : "bootstrap_crossval_rdm";
  const dof = bootType === "both" ? Math.min(S, K) - 1 : bootType === "pattern" ? K - 1 : S - 1;
  const counts = { nRdm: bootType === "pattern" ? undefined : S, nPattern: bootType === "rdm" ? undefined : K };
  const variances = perRun.length > 1 ? extractVariances(cvCorrectedCovariance(perRun, st.useCorrection && st.nCv > 1), { ncIncluded: true, ...counts }) : undefined;
  return new RsaResult({ models: st.ms.map((m) => m.name), evaluations, method: st.method, cvMethod, noiseCeiling: [lower, upper], dof, variances });
}

/**
 * rsatoolbox's eval_dual_bootstrap: each of n samples evaluated three ways with the same draws —
 * subjects and conditions resampled, subjects only, conditions only — each cross-validated nCv times
 * (kPattern, kRdm default 1: no cross-validation, then nCv = 1 and no fold correction). The three
 * covariances give the variance of the mean evaluation by Schütt et al. 2023's dual-bootstrap formula
 * (extractVariances with the numbers of subjects and conditions). Evaluations: samples × models ×
 * (split·nCv·3 + run·3 + kind). `samples` gives the draws and folds explicitly (3·nCv lists of splits
 * per sample, run by run: both, subjects only, conditions only).
 * @example
 * const res = fl.evalDualBootstrap([fixedModel, selectModel], rdms, { method: "corr", n: 200, seed: 0 });
 * res.sem();
 */
export function evalDualBootstrap(models: RsaModel | readonly RsaModel[], data: RdmCollection, opts: EvalDualBootstrapOptions = {}): RsaResult {
  rejectUnknownOptions("evalDualBootstrap", opts, EVAL_DUAL_BOOTSTRAP_OPTIONS);
  const st = setup("evalDualBootstrap", models, data, opts, false);
  const cv = st.kP > 1 || st.kR > 1;
  // As rsatoolbox: without cross-validation one run suffices and there is nothing to correct.
  const nCv = cv ? st.nCv : 1, correct = cv ? st.useCorrection : false;
  checkCorrection(st.fn, correct, nCv);
  const S = st.list.length, K = st.list[0].nConditions, M = st.ms.length, F = st.kP * st.kR;
  opts.samples?.forEach((s, b) => checkSample(st, b, s, 3 * nCv));
  const rng = new Rng(st.seed);
  const evaluations: number[][][] = [], lower: number[] = [], upper: number[] = [];
  const perKind: number[][][][] = [[], [], []]; // kind × valid samples × runs × (models…, lower, upper)
  for (let b = 0; b < st.n; b++) {
    const given = opts.samples?.[b];
    const { rdmIdx, patternIdx } = given ?? drawSample(rng, S, K, "both");
    const kinds = [[rdmIdx, patternIdx], [rdmIdx, range(K)], [range(S), patternIdx]] as const;
    // out[kind][run]: splits × models, and the ceilings.
    let out: { evals: number[][][]; ceiling: [number, number][] }[] = kinds.map(() => ({ evals: range(nCv).map(() => range(F).map(() => range(M).map(() => NaN))), ceiling: range(nCv).map(() => [NaN, NaN] as [number, number]) }));
    if (usable(st, rdmIdx, patternIdx)) {
      // Folds drawn run by run, each run drawing both, subjects-only, conditions-only in turn.
      const folds: CrossvalSet[][][] = kinds.map(() => []);
      for (let r = 0; r < nCv; r++) kinds.forEach(([ri, pi], k) => {
        folds[k].push(given ? [...given.folds[3 * r + k]] : kFoldSets(distinct(ri), distinct(pi), st.kR, st.kP, rng));
      });
      out = kinds.map(([ri, pi], k) => evaluateSample(st, ri, pi, folds[k]));
      // rsatoolbox keeps the samples whose first score (model 0, split 0, run 0, both resampled) is a number.
      if (!Number.isNaN(out[0].evals[0][0][0])) out.forEach((o, k) => perKind[k].push(range(nCv).map((r) => [...range(M).map((m) => mean(o.evals[r].map((f) => f[m]))), ...o.ceiling[r]])));
    }
    evaluations.push(range(M).map((m) => range(F).flatMap((f) => range(nCv).flatMap((r) => out.map((o) => o.evals[r][f][m])))));
    for (let r = 0; r < nCv; r++) out.forEach((o) => { lower.push(o.ceiling[r][0]); upper.push(o.ceiling[r][1]); });
  }
  const variances = perKind[0].length > 1 ? extractVariances(perKind.map((p) => cvCorrectedCovariance(p, correct)), { ncIncluded: true, nRdm: S, nPattern: K }) : undefined;
  return new RsaResult({ models: st.ms.map((m) => m.name), evaluations, method: st.method, cvMethod: "dual_bootstrap", noiseCeiling: [lower, upper], dof: Math.min(S, K) - 1, variances });
}
