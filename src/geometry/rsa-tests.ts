// Significance tests on model evaluations, as rsatoolbox's inference_util does them: pairwise t-tests
// on differences, one-sided tests against 0, two-sided tests against the lower noise ceiling, the
// bootstrap pair test, the variance extraction (with Schütt et al. 2023's dual-bootstrap correction)
// and the FDR / Bonferroni criteria its model plot uses. Evaluations are samples × models
// (× subjects/folds …), the layout of rsatoolbox's Result.evaluations.
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Evaluations: samples × models, optionally with trailing axes (subjects, folds) averaged NaN-aware. */
export type Evaluations = readonly (readonly (number | readonly (number | readonly number[])[])[])[];

const EPS = 2.220446049250313e-16; // numpy's finfo(float).eps: the floor rsatoolbox puts under variances

function nanMean(xs: readonly number[]): number {
  let s = 0, n = 0;
  for (const x of xs) if (!Number.isNaN(x)) { s += x; n++; }
  return n ? s / n : NaN;
}

// Averages all trailing axes of one cell, last axis first (numpy's repeated nanmean(axis=-1)).
function collapse(x: number | readonly unknown[]): number {
  if (typeof x === "number") return x;
  return nanMean((x as readonly (number | readonly unknown[])[]).map(collapse));
}

function checkEvaluations(fn: string, e: Evaluations): number {
  if (!Array.isArray(e) || e.length === 0 || !Array.isArray(e[0])) throw new InputError(undefined, `${fn}: evaluations must be samples × models (a nested array), got ${Array.isArray(e) ? `${e.length} rows` : typeof e}`);
  const M = e[0].length;
  e.forEach((row, i) => {
    if (row.length !== M) throw new InputError(undefined, `${fn}: evaluations row ${i} has ${row.length} models, expected ${M}`);
  });
  return M;
}

// Per model: nanmean over samples first, then over the trailing axes (t_tests' order).
function meanOverSamplesFirst(e: Evaluations, M: number): number[] {
  const out: number[] = [];
  for (let m = 0; m < M; m++) {
    const cells = e.map((row) => row[m]);
    if (typeof cells[0] === "number") { out.push(nanMean(cells as number[])); continue; }
    // Average across samples elementwise, keeping the trailing shape, then collapse it.
    const avg = (xs: readonly unknown[]): number | unknown[] => typeof xs[0] === "number"
      ? nanMean(xs as number[])
      : (xs[0] as unknown[]).map((_, k) => avg(xs.map((x) => (x as unknown[])[k])));
    out.push(collapse(avg(cells) as number | readonly unknown[]));
  }
  return out;
}

function checkLength(fn: string, what: string, v: ArrayLike<number>, n: number): void {
  if (v.length !== n) throw new InputError(undefined, `${fn}: ${what} has ${v.length} entries, expected ${n}`);
}

// Regularised incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes' betacf).
function lnGamma(z: number): number {
  const g = 7, c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let x = c[0];
  for (let i = 1; i < g + 2; i++) x += c[i] / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

function incBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/**
 * Student's t cumulative distribution function with `dof` degrees of freedom (scipy.stats.t.cdf).
 * @example
 * fl.studentTCdf(2.0, 5); // ≈ 0.949
 */
export function studentTCdf(t: number, dof: number): number {
  if (!(dof > 0)) throw new InputError(undefined, `studentTCdf: dof must be > 0, got ${dof}`);
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  // dof = 1 is the Cauchy distribution: use its closed form.
  const tail = dof === 1 ? 0.5 - Math.atan(Math.abs(t)) / Math.PI : 0.5 * incBeta(dof / 2, 0.5, dof / (dof + t * t));
  return t >= 0 ? 1 - tail : tail;
}

/**
 * rsatoolbox's t_tests: two-sided p-values for every pair of models, from the mean evaluations and the
 * variances of their pairwise differences (pairs (0,1), (0,2), …, (1,2), … as `extractVariances` gives).
 * Returns a symmetric models × models matrix with 1 on the diagonal.
 * @example
 * const p = fl.tTestsPairwise(evals, variances.diffVar, 1);
 */
export function tTestsPairwise(evaluations: Evaluations, diffVar: ArrayLike<number>, dof = 1): number[][] {
  const M = checkEvaluations("tTestsPairwise", evaluations);
  checkLength("tTestsPairwise", "diffVar", diffVar, (M * (M - 1)) / 2);
  const mean = meanOverSamplesFirst(evaluations, M);
  const p = Array.from({ length: M }, () => new Array<number>(M).fill(1));
  let k = 0;
  for (let i = 0; i < M; i++) for (let j = i + 1; j < M; j++, k++) {
    const t = (mean[i] - mean[j]) / Math.sqrt(Math.max(diffVar[k], EPS));
    p[i][j] = p[j][i] = 2 * (1 - studentTCdf(Math.abs(t), dof));
  }
  return p;
}

/**
 * rsatoolbox's t_test_0: one-sided p-values that each model's mean evaluation exceeds 0.
 * @example
 * const p0 = fl.tTestZero(evals, variances.modelVar, 1);
 */
export function tTestZero(evaluations: Evaluations, modelVar: ArrayLike<number>, dof = 1): number[] {
  const M = checkEvaluations("tTestZero", evaluations);
  checkLength("tTestZero", "modelVar", modelVar, M);
  return meanOverSamplesFirst(evaluations, M).map((m, i) => 1 - studentTCdf(m / Math.sqrt(Math.max(modelVar[i], EPS)), dof));
}

/**
 * rsatoolbox's t_test_nc: two-sided p-values of each model's mean evaluation against a fixed value
 * (the lower noise ceiling), with the variances of the model − ceiling differences.
 * @example
 * const pNc = fl.tTestNoiseCeiling(evals, variances.ncVar.map((v) => v[0]), ceiling.lower, 1);
 */
export function tTestNoiseCeiling(evaluations: Evaluations, ncVar: ArrayLike<number>, noiseCeil: number, dof = 1): number[] {
  const M = checkEvaluations("tTestNoiseCeiling", evaluations);
  checkLength("tTestNoiseCeiling", "ncVar", ncVar, M);
  return meanOverSamplesFirst(evaluations, M).map((m, i) => {
    const t = (m - noiseCeil) / Math.sqrt(Math.max(ncVar[i], EPS));
    return 2 * (1 - studentTCdf(Math.abs(t), dof));
  });
}

/**
 * rsatoolbox's bootstrap_pair_tests: two-sided bootstrap p-values for every pair of models
 * (2 × the smaller share of samples favouring either model, shrunk toward 1/n as rsatoolbox does).
 * @example
 * const p = fl.bootstrapPairTests(bootEvals);
 */
export function bootstrapPairTests(evaluations: Evaluations): number[][] {
  const M = checkEvaluations("bootstrapPairTests", evaluations);
  const e = evaluations.map((row) => row.map((c) => collapse(c as number | readonly unknown[])));
  const n = e.length;
  const p = Array.from({ length: M }, () => new Array<number>(M).fill(1));
  for (let i = 0; i < M; i++) for (let j = i + 1; j < M; j++) {
    let less = 0, equal = 0;
    for (const row of e) { if (row[i] < row[j]) less++; else if (row[i] === row[j]) equal++; }
    const prop = less / (n - equal);
    const two = Math.min(prop, 1 - prop) * 2;
    p[i][j] = p[j][i] = ((n - 1) / n) * two + 1 / n;
  }
  return p;
}

/** Variances of single models, of pairwise differences and of model − noise ceiling (lower, upper). */
export interface EvaluationVariances {
  modelVar: number[];
  /** One per pair (0,1), (0,2), …, (1,2), … */
  diffVar: number[];
  /** models × 2: against the lower and the upper noise ceiling. */
  ncVar: number[][];
}

/** Options of `extractVariances`. */
export interface ExtractVariancesOptions {
  /** The last two entries (rows/cols) are the lower and upper noise ceilings (rsatoolbox's nc_included). Default true. */
  ncIncluded?: boolean;
  /** Number of subjects: corrects the variance by n/(n−1) (and enables the exact dual-bootstrap formula). */
  nRdm?: number;
  /** Number of conditions: as nRdm. */
  nPattern?: number;
}
const EXTRACT_OPTIONS = optionNames<ExtractVariancesOptions>({ ncIncluded: true, nRdm: true, nPattern: true });

function correct1d(v: number, o: ExtractVariancesOptions): number {
  const n = o.nPattern !== undefined && o.nRdm !== undefined ? Math.min(o.nRdm, o.nPattern) : o.nPattern ?? o.nRdm;
  return n === undefined ? v : (n / (n - 1)) * v;
}

// Schütt et al. 2023: from the double, subject-only and condition-only bootstrap variances.
function dualBootstrap(v0: number, v1: number, v2: number, o: ExtractVariancesOptions): number {
  const { nRdm: r, nPattern: p } = o;
  if (r === undefined || p === undefined) {
    return Math.min(Math.max(Math.max(2 * (v1 + v2) - v0, v1), v2), v0);
  }
  const cr = r / (r - 1), cp = p / (p - 1);
  const v = cr * v1 + cp * v2 - ((p * r) / (p - 1) / (r - 1)) * (v0 - v1 - v2);
  return Math.min(Math.max(Math.max(v, cr * v1), cp * v2), v0);
}

// From one covariance (full matrix) the three families of variances, uncorrected.
function fromCovariance(cov: readonly (readonly number[])[], ncIncluded: boolean): EvaluationVariances {
  const N = cov.length;
  const M = ncIncluded ? N - 2 : N;
  const modelVar = Array.from({ length: M }, (_, i) => cov[i][i]);
  const diffVar: number[] = [];
  for (let i = 0; i < M; i++) for (let j = i + 1; j < M; j++) diffVar.push(cov[i][i] + cov[j][j] - 2 * cov[i][j]);
  const ncVar = modelVar.map((mv, i) => ncIncluded
    ? [N - 2, N - 1].map((c) => mv - 2 * cov[i][c] + cov[c][c])
    : [mv, mv]);
  return { modelVar, diffVar, ncVar };
}

/**
 * rsatoolbox's extract_variances: from the variances (1-D: independent), one covariance (2-D) or the
 * three covariances of a dual bootstrap (3-D: both, subjects only, conditions only — corrected as
 * Schütt et al. 2023) of the model evaluations, the variances the t-tests need.
 * @example
 * const v = fl.extractVariances(covariance, { ncIncluded: true, nRdm: 10 });
 */
export function extractVariances(
  variance: number | readonly number[] | readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[],
  opts: ExtractVariancesOptions = {},
): EvaluationVariances {
  rejectUnknownOptions("extractVariances", opts, EXTRACT_OPTIONS);
  const nc = opts.ncIncluded ?? true;
  const square = (c: readonly (readonly number[])[], what: string) => c.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== c.length) throw new InputError(undefined, `extractVariances: ${what} row ${i} has ${Array.isArray(row) ? row.length : "no"} entries; a covariance must be ${c.length} × ${c.length}`);
  });
  const v = typeof variance === "number" ? [variance] : variance;
  const minN = nc ? 3 : 1;
  const dual = Array.isArray(v[0]) && Array.isArray((v[0] as readonly unknown[])[0]);
  if (!dual && v.length < minN) throw new InputError(undefined, `extractVariances: ${v.length} entries; need at least ${minN}${nc ? " (models + 2 noise ceilings)" : ""}`);
  const correct = (r: EvaluationVariances): EvaluationVariances => ({
    modelVar: r.modelVar.map((x) => correct1d(x, opts)),
    diffVar: r.diffVar.map((x) => correct1d(x, opts)),
    ncVar: r.ncVar.map((row) => row.map((x) => correct1d(x, opts))),
  });
  if (typeof v[0] === "number") {
    const d = v as readonly number[];
    return correct(fromCovariance(d.map((x, i) => d.map((_, j) => (i === j ? x : 0))), nc));
  }
  if (typeof (v[0] as readonly unknown[])[0] === "number") {
    square(v as readonly (readonly number[])[], "covariance");
    return correct(fromCovariance(v as readonly (readonly number[])[], nc));
  }
  const three = v as readonly (readonly (readonly number[])[])[];
  if (three.length !== 3) throw new InputError(undefined, `extractVariances: a dual bootstrap gives 3 covariances (both, subjects, conditions), got ${three.length}`);
  three.forEach((c, k) => square(c, `covariance ${k}`));
  const [a, b, c] = three.map((cov) => fromCovariance(cov, nc));
  return {
    modelVar: a.modelVar.map((x, i) => dualBootstrap(x, b.modelVar[i], c.modelVar[i], opts)),
    diffVar: a.diffVar.map((x, i) => dualBootstrap(x, b.diffVar[i], c.diffVar[i], opts)),
    ncVar: a.ncVar.map((row, i) => row.map((x, k) => dualBootstrap(x, b.ncVar[i][k], c.ncVar[i][k], opts))),
  };
}

/** How rsatoolbox's model plot corrects the pairwise tests for multiple comparisons. */
export type MultipleTesting = "fdr" | "bonferroni" | "uncorrected";

/**
 * Which pairs of a symmetric p-value matrix are significant at `alpha`, as rsatoolbox's
 * plot_model_comparison decides: Bonferroni (p < α/#pairs), FDR (Benjamini–Hochberg: p below the
 * largest k·α/n criterion any sorted p passes) or uncorrected (p < α). Diagonal false.
 * @example
 * const sig = fl.significantPairs(p, 0.05, "fdr");
 */
export function significantPairs(p: readonly (readonly number[])[], alpha = 0.05, correction: MultipleTesting = "fdr"): boolean[][] {
  const M = p.length;
  p.forEach((row, i) => {
    if (row.length !== M) throw new InputError(undefined, `significantPairs: p row ${i} has ${row.length} entries; expected a ${M} × ${M} matrix`);
  });
  const upper: number[] = [];
  for (let i = 0; i < M; i++) for (let j = i + 1; j < M; j++) upper.push(p[i][j]);
  const n = upper.length;
  let crit: number;
  if (correction === "bonferroni") crit = alpha / n;
  else if (correction === "uncorrected") crit = alpha;
  else if (correction === "fdr") {
    const ps = upper.slice().sort((a, b) => a - b);
    crit = 0;
    ps.forEach((x, k) => { if (x < (alpha * (k + 1)) / n) crit = (alpha * (k + 1)) / n; });
  } else throw new InputError(undefined, `significantPairs: correction must be "fdr", "bonferroni" or "uncorrected", got ${String(correction)}`);
  return p.map((row, i) => row.map((x, j) => i !== j && x < crit));
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values) of a list of p-values: min over k ≥ rank of p_(k)·n/k.
 * @example
 * fl.fdrAdjust([0.01, 0.04, 0.03]); // [0.03, 0.04, 0.04]
 */
export function fdrAdjust(p: readonly number[]): number[] {
  const n = p.length;
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b]);
  const out = new Array<number>(n);
  let run = 1;
  for (let r = n - 1; r >= 0; r--) {
    run = Math.min(run, (p[order[r]] * n) / (r + 1));
    out[order[r]] = run;
  }
  return out;
}

/**
 * Bonferroni-adjusted p-values: min(1, p·n).
 * @example
 * fl.bonferroniAdjust([0.01, 0.04]); // [0.02, 0.08]
 */
export function bonferroniAdjust(p: readonly number[]): number[] {
  return p.map((x) => Math.min(1, x * p.length));
}
