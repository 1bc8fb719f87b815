// RSA models as rsatoolbox.model defines them: a fixed RDM, a selection among RDMs, a weighted sum of
// RDMs and an interpolation between neighbouring RDMs, each with rsatoolbox's default fitter
// (fit_mock, fit_select, fit_optimize, fit_interpolate) and the closed-form fitters of fitter.py
// (fit_regress: ridge least squares; fit_regress_nn: non-negative least squares, Bro & de Jong 1997)
// and the general ones (fit_optimize, fit_optimize_positive: BFGS from several starts).
import { RDM } from "./rdm.js";
import { Rng } from "../engine/random.js";
import { minimizeBfgs } from "../engine/minimize.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { checkMethod, compareVectors, named, type CompareMethod, type RdmCollection } from "./compare-rdms.js";
import { poolVectors } from "./rsa-inference.js";

/** Options of `model.fit` and the fitters. */
export interface ModelFitOptions {
  /** Comparison the fit maximises (rsatoolbox's method). Default "cosine". */
  method?: CompareMethod;
  /** Ridge weight of fitRegress / fitRegressNn (on the normal equations) and fitOptimize* (ridgeWeight·|θ|² added to the loss). Default 0. */
  ridgeWeight?: number;
  /** Scale θ to unit norm (fitRegress / fitRegressNn; the comparison ignores the scale). Default true. */
  normalize?: boolean;
  /** A fitter other than the model's default. */
  fitter?: Fitter;
  /** Seed of the random starting points of fitOptimize / fitOptimizePositive. Default 0. */
  seed?: number;
}
export const MODEL_FIT_OPTIONS = optionNames<ModelFitOptions>({ method: true, ridgeWeight: true, normalize: true, fitter: true, seed: true });

/** A fitter: model + data RDMs → θ (rsatoolbox's fitter signature). */
export type Fitter = (model: RsaModel, data: RdmCollection, opts?: ModelFitOptions) => number[];

type RdmsInput = RDM | readonly RDM[] | readonly (ArrayLike<number>)[];

function toRdms(fn: string, rdm: RdmsInput): RDM[] {
  const list = rdm instanceof RDM ? [rdm] : (rdm as readonly (RDM | ArrayLike<number>)[]).map((r) => (r instanceof RDM ? r : new RDM(r)));
  if (list.length === 0) throw new InputError(undefined, `${fn}: no RDMs`);
  const K = list[0].nConditions;
  list.forEach((r, i) => {
    if (r.nConditions !== K) throw new InputError(undefined, `${fn}: RDM ${i} has ${r.nConditions} conditions, expected ${K} (${K * (K - 1) / 2} dissimilarities)`);
  });
  return list;
}

/** The shared shape of rsatoolbox's models: a name, RDMs, a number of parameters, a default fitter. */
export abstract class RsaModel {
  readonly name: string;
  /** The model's RDMs (one for ModelFixed). */
  readonly rdms: readonly RDM[];
  abstract readonly nParam: number;
  abstract readonly defaultFitter: Fitter;

  constructor(fn: string, name: string, rdm: RdmsInput) {
    this.name = name;
    this.rdms = Object.freeze(toRdms(fn, rdm));
  }

  /** Conditions of the model's RDMs. */
  get nConditions(): number {
    return this.rdms[0].nConditions;
  }

  /**
   * The same model on a subset of the conditions (indices or labels), for cross-validation.
   * @example
   * const train = weighted.subset([0, 1, 2, 4]);
   */
  subset(conditions: readonly (string | number)[]): this {
    const Ctor = this.constructor as new (name: string, rdm: RdmsInput) => this;
    return new Ctor(this.name, this.rdms.map((r) => r.subset(conditions)));
  }

  /**
   * The predicted dissimilarity vector (upper triangle) for parameters θ.
   * @example
   * const v = weighted.predict(weighted.fit(subjectRdms));
   */
  abstract predict(theta?: readonly number[]): Float64Array;

  /**
   * The prediction as an RDM (labels and measure of the model's first RDM).
   * @example
   * const r = weighted.predictRdm([0.5, 0.5]);
   */
  predictRdm(theta?: readonly number[]): RDM {
    const r = this.rdms[0];
    return new RDM(this.predict(theta), { labels: r.labels, dissimilarityMeasure: r.dissimilarityMeasure, name: this.name });
  }

  /**
   * θ fitted to the data RDMs with the model's default fitter (or `opts.fitter`).
   * @example
   * const theta = weighted.fit(subjectRdms, { method: "corr" });
   */
  fit(data: RdmCollection, opts: ModelFitOptions = {}): number[] {
    rejectUnknownOptions(`${this.constructor.name}.fit`, opts, MODEL_FIT_OPTIONS);
    return (opts.fitter ?? this.defaultFitter)(this, data, opts);
  }
}

/**
 * rsatoolbox's ModelFixed: predicts one RDM (the mean of the given RDMs); no parameters.
 * @example
 * const m = new fl.ModelFixed("animacy", animacyRdm);
 */
export class ModelFixed extends RsaModel {
  readonly nParam = 0;
  readonly defaultFitter: Fitter = fitMock;
  private readonly mean: Float64Array;
  constructor(name: string, rdm: RdmsInput) {
    super("ModelFixed", name, rdm);
    const n = this.rdms[0].nPairs;
    this.mean = new Float64Array(n);
    for (const r of this.rdms) for (let p = 0; p < n; p++) this.mean[p] += r.vector[p] / this.rdms.length;
  }
  /**
   * The mean of the model's RDMs, whatever θ.
   * @example
   * const v = new fl.ModelFixed("animacy", animacyRdm).predict();
   */
  predict(): Float64Array {
    return this.mean.slice();
  }
}

/**
 * rsatoolbox's ModelSelect: predicts one of its RDMs; θ = [index].
 * @example
 * const m = new fl.ModelSelect("layers", layerRdms); m.fit(subjectRdms); // → [best layer]
 */
export class ModelSelect extends RsaModel {
  readonly nParam = 1;
  readonly defaultFitter: Fitter = fitSelect;
  constructor(name: string, rdm: RdmsInput) {
    super("ModelSelect", name, rdm);
  }
  /**
   * The RDM θ[0] selects.
   * @example
   * const v = new fl.ModelSelect("layers", layerRdms).predict([2]);
   */
  predict(theta: readonly number[] = [0]): Float64Array {
    const i = theta[0];
    if (!Number.isInteger(i) || i < 0 || i >= this.rdms.length) throw new InputError(undefined, `ModelSelect.predict: θ = [${i}] is not an index into ${this.rdms.length} RDMs`);
    return this.rdms[i].vector.slice();
  }
}

function weightedSum(fn: string, rdms: readonly RDM[], theta: readonly number[]): Float64Array {
  if (theta.length !== rdms.length) throw new InputError(undefined, `${fn}: θ has ${theta.length} weights for ${rdms.length} RDMs`);
  const out = new Float64Array(rdms[0].nPairs);
  rdms.forEach((r, k) => { for (let p = 0; p < out.length; p++) out[p] += r.vector[p] * theta[k]; });
  return out;
}

/**
 * rsatoolbox's ModelWeighted: Σ θ_k·RDM_k (θ defaults to ones); default fitter fitOptimize, as
 * rsatoolbox's fit_optimize (fitRegress gives the same optimum in closed form for cosine and corr).
 * @example
 * const m = new fl.ModelWeighted("features", [rdmA, rdmB]); const theta = m.fit(subjectRdms, { fitter: fl.fitRegressNn });
 */
export class ModelWeighted extends RsaModel {
  readonly defaultFitter: Fitter = fitOptimize;
  constructor(name: string, rdm: RdmsInput) {
    super("ModelWeighted", name, rdm);
  }
  /** One weight per RDM. */
  get nParam(): number {
    return this.rdms.length;
  }
  /**
   * Σ θ_i · RDM_i (θ defaults to all ones).
   * @example
   * const v = new fl.ModelWeighted("features", [rdmA, rdmB]).predict([0.7, 0.3]);
   */
  predict(theta?: readonly number[]): Float64Array {
    return weightedSum("ModelWeighted.predict", this.rdms, theta ?? this.rdms.map(() => 1));
  }
}

/**
 * rsatoolbox's ModelInterpolate: a mix of two neighbouring RDMs of an ordered list (θ defaults to ½, ½, 0…).
 * @example
 * const m = new fl.ModelInterpolate("noise levels", rdms); const theta = m.fit(subjectRdms);
 */
export class ModelInterpolate extends RsaModel {
  readonly defaultFitter: Fitter = fitInterpolate;
  constructor(name: string, rdm: RdmsInput) {
    super("ModelInterpolate", name, rdm);
    if (this.rdms.length < 2) throw new InputError(undefined, `ModelInterpolate: needs at least 2 RDMs, got ${this.rdms.length}`);
  }
  /** One weight per RDM (only two neighbours non-zero). */
  get nParam(): number {
    return this.rdms.length;
  }
  /**
   * Σ θ_i · RDM_i over the ordered RDMs (θ defaults to ½, ½, 0…).
   * @example
   * const v = interpModel.predict([0, 0.3, 0.7]);
   */
  predict(theta?: readonly number[]): Float64Array {
    return weightedSum("ModelInterpolate.predict", this.rdms, theta ?? this.rdms.map((_, k) => (k < 2 ? 0.5 : 0)));
  }
}

function dataList(fn: string, model: RsaModel, data: RdmCollection): RDM[] {
  const list = named(data).map(([, r]) => r);
  if (list.length === 0) throw new InputError(undefined, `${fn}: no data RDMs`);
  list.forEach((r, i) => {
    if (r.nConditions !== model.nConditions) throw new InputError(undefined, `${fn}: data RDM ${i} has ${r.nConditions} conditions, the model ${model.nConditions}`);
  });
  return list;
}

// Mean comparison of a predicted vector with every data RDM (rsatoolbox's np.mean(compare(pred, data))).
function meanScore(pred: Float64Array, data: readonly RDM[], method: CompareMethod): number {
  let s = 0;
  for (const r of data) s += compareVectors(pred, r.vector, method);
  return s / data.length;
}

/**
 * rsatoolbox's fit_mock: θ of zeros (the fixed model's fitter).
 * @example
 * fl.fitMock(fixedModel, subjectRdms); // []
 */
export function fitMock(model: RsaModel, _data: RdmCollection, _opts: ModelFitOptions = {}): number[] {
  rejectUnknownOptions("fitMock", _opts, MODEL_FIT_OPTIONS);
  return new Array<number>(model.nParam).fill(0);
}

/**
 * rsatoolbox's fit_select: the index of the RDM with the best mean comparison to the data.
 * @example
 * const [best] = fl.fitSelect(selectModel, subjectRdms, { method: "spearman" });
 */
export function fitSelect(model: RsaModel, data: RdmCollection, opts: ModelFitOptions = {}): number[] {
  rejectUnknownOptions("fitSelect", opts, MODEL_FIT_OPTIONS);
  const method = opts.method ?? "cosine";
  checkMethod(method);
  const list = dataList("fitSelect", model, data);
  let best = 0, bestScore = -Infinity;
  model.rdms.forEach((r, i) => {
    const s = meanScore(r.vector, list, method);
    if (s > bestScore) { bestScore = s; best = i; } // first maximum, as np.argmax
  });
  return [best];
}

// The best of BFGS runs from several starts (the first of equal losses, as np.argmin) — a NaN loss
// (an undefined comparison) never wins.
function bestOfStarts(loss: (theta: number[]) => number, starts: readonly number[][]): number[] {
  let best: number[] = starts[0], bestLoss = Infinity;
  for (const x0 of starts) {
    const r = minimizeBfgs(loss, x0);
    if (r.fun < bestLoss) { bestLoss = r.fun; best = r.x; }
  }
  return best;
}

// rsatoolbox's _loss: −mean comparison of the prediction with the data + ridge·|θ|².
function optimizeLoss(fn: string, model: RsaModel, data: RdmCollection, opts: ModelFitOptions): (theta: number[]) => number {
  const method = opts.method ?? "cosine", ridge = opts.ridgeWeight ?? 0;
  checkMethod(method);
  checkRidge(fn, ridge);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InputError(undefined, `${fn}: seed must be an integer, got ${seed}`);
  const list = dataList(fn, model, data);
  const keep = method === "cosine" || method === "corr" ? sharedPairs([...list, ...model.rdms]) : null;
  if (!keep) return (theta) => -meanScore(model.predict(theta), list, method) + ridge * dot(theta, theta);
  const compact = (v: Float64Array) => Float64Array.from(keep, (p) => v[p]);
  const kept = list.map((r) => compact(r.vector));
  return (theta) => {
    const pred = compact(model.predict(theta));
    return -kept.reduce((s, v) => s + compareVectors(pred, v, method), 0) / kept.length + ridge * dot(theta, theta);
  };
}

// The pairs every RDM has, when all miss the same ones (a bootstrap sample's pairs of a condition with
// its own copy) and there are at least 3 of them — then cosine and corr may compare those alone, which
// is what they would do pair by pair, without filtering at every step; null otherwise.
function sharedPairs(rdms: readonly RDM[]): number[] | null {
  const first = rdms[0].vector, keep: number[] = [];
  for (let p = 0; p < first.length; p++) {
    const missing = Number.isNaN(first[p]);
    for (const r of rdms) if (Number.isNaN(r.vector[p]) !== missing) return null;
    if (!missing) keep.push(p);
  }
  return keep.length < first.length && keep.length >= 3 ? keep : null;
}

/**
 * rsatoolbox's fit_optimize: θ maximising the mean comparison with the data (minus ridgeWeight·|θ|²),
 * by BFGS from 2·nParam uniform random starts in [0, 1) (seeded), the best run kept, scaled to unit
 * norm. Any comparison method; the score of cosine and corr ignores θ's scale.
 * @example
 * const theta = fl.fitOptimize(weightedModel, subjectRdms, { method: "corr", seed: 1 });
 */
export function fitOptimize(model: RsaModel, data: RdmCollection, opts: ModelFitOptions = {}): number[] {
  rejectUnknownOptions("fitOptimize", opts, MODEL_FIT_OPTIONS);
  const loss = optimizeLoss("fitOptimize", model, data, opts);
  const rng = new Rng(opts.seed ?? 0);
  const starts = Array.from({ length: 2 * model.nParam }, () => Array.from({ length: model.nParam }, () => rng.uniform()));
  return normalised(starts.length ? bestOfStarts(loss, starts) : [], opts.normalize ?? true);
}

/**
 * rsatoolbox's fit_optimize_positive: as fitOptimize with θ ≥ 0 through θ = φ² (BFGS over φ), from
 * φ = 0, one uniform random start (seeded) and, per parameter, a start of 1 there and 0.001 elsewhere;
 * θ = φ² of the best run, scaled to unit norm.
 * @example
 * const theta = fl.fitOptimizePositive(weightedModel, subjectRdms, { method: "cosine" });
 */
export function fitOptimizePositive(model: RsaModel, data: RdmCollection, opts: ModelFitOptions = {}): number[] {
  rejectUnknownOptions("fitOptimizePositive", opts, MODEL_FIT_OPTIONS);
  const loss = optimizeLoss("fitOptimizePositive", model, data, opts);
  const n = model.nParam, rng = new Rng(opts.seed ?? 0);
  // φ = 0 stays put (the loss is even in each φ_i, so its central-difference gradient is 0): it is
  // rsatoolbox's unoptimised candidate θ = 0.
  const starts = [new Array<number>(n).fill(0), Array.from({ length: n }, () => rng.uniform())];
  for (let i = 0; i < n; i++) starts.push(Array.from({ length: n }, (_, j) => (i === j ? 1 : 0.001)));
  const phi = bestOfStarts((p) => loss(p.map((v) => v * v)), starts);
  return normalised(phi.map((v) => v * v), opts.normalize ?? true);
}

// Golden-section search on [0, 1] for the minimum of a unimodal-ish function.
function minimiseOnUnit(f: (w: number) => number): { x: number; fun: number } {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = 0, b = 1, c = b - g * (b - a), d = a + g * (b - a), fc = f(c), fd = f(d);
  while (b - a > 1e-10) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c); }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d); }
  }
  const candidates = [[a, f(a)], [b, f(b)], [c, fc], [d, fd]] as [number, number][];
  candidates.sort((u, v) => u[1] - v[1]);
  return { x: candidates[0][0], fun: candidates[0][1] };
}

/**
 * rsatoolbox's fit_interpolate: for each neighbouring pair (k, k+1) the mix w·RDM_k + (1−w)·RDM_{k+1}
 * maximising the mean comparison (bounded 1-D search), and the best pair's θ.
 * @example
 * const theta = fl.fitInterpolate(interpModel, subjectRdms, { method: "corr" });
 */
export function fitInterpolate(model: RsaModel, data: RdmCollection, opts: ModelFitOptions = {}): number[] {
  rejectUnknownOptions("fitInterpolate", opts, MODEL_FIT_OPTIONS);
  const method = opts.method ?? "cosine";
  checkMethod(method);
  const list = dataList("fitInterpolate", model, data);
  const R = model.rdms.length;
  if (R < 2) throw new InputError(undefined, `fitInterpolate: needs a model with at least 2 RDMs, got ${R}`);
  let best = { pair: 0, x: 0.5, fun: Infinity };
  for (let k = 0; k < R - 1; k++) {
    const a = model.rdms[k].vector, b = model.rdms[k + 1].vector;
    const r = minimiseOnUnit((w) => -meanScore(a.map((x, p) => w * x + (1 - w) * b[p]), list, method));
    if (r.fun < best.fun) best = { pair: k, ...r };
  }
  const theta = new Array<number>(R).fill(0);
  theta[best.pair] = best.x;
  theta[best.pair + 1] = 1 - best.x;
  return theta;
}

// The regression design of fit_regress(_nn): model vectors (rows) and the pooled data vector, NaN
// pairs dropped, centred for corr.
function regressionDesign(fn: string, model: RsaModel, data: RdmCollection, method: CompareMethod): { X: Float64Array[]; y: Float64Array } {
  if (method !== "cosine" && method !== "corr") throw new InputError(undefined, `${fn}: method must be "cosine" or "corr" (the closed forms rsatoolbox's fit_regress has without a pattern covariance), got ${String(method)}`);
  const list = dataList(fn, model, data);
  const y0 = poolVectors(list.map((r) => r.vector), method);
  const keep: number[] = [];
  for (let p = 0; p < y0.length; p++) if (!Number.isNaN(y0[p]) && model.rdms.every((r) => !Number.isNaN(r.vector[p]))) keep.push(p);
  const y = Float64Array.from(keep, (p) => y0[p]);
  const X = model.rdms.map((r) => {
    const v = Float64Array.from(keep, (p) => r.vector[p]);
    if (method === "corr") {
      let m = 0;
      for (const x of v) m += x;
      m /= v.length;
      for (let p = 0; p < v.length; p++) v[p] -= m;
    }
    return v;
  });
  return { X, y };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// Solves A x = b (small, dense) by Gaussian elimination with partial pivoting.
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    if (M[piv][c] === 0) throw new InputError(undefined, "fitRegress: the model RDMs are linearly dependent (singular normal equations); add ridgeWeight");
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

function normalised(theta: number[], normalize: boolean): number[] {
  if (!normalize) return theta;
  const n = Math.sqrt(dot(theta, theta));
  return n === 0 ? theta : theta.map((t) => t / n);
}

function checkRidge(fn: string, w: number): void {
  if (!(w >= 0)) throw new InputError(undefined, `${fn}: ridgeWeight must be ≥ 0, got ${w}`);
}

/**
 * rsatoolbox's fit_regress: θ = (XXᵀ + λI)⁻¹ X y with X the model RDMs and y the data pooled for the
 * method (cosine: scaled; corr: z-scored, models centred), then scaled to unit norm.
 * @example
 * const theta = fl.fitRegress(weightedModel, subjectRdms, { method: "corr", ridgeWeight: 0.1 });
 */
export function fitRegress(model: RsaModel, data: RdmCollection, opts: ModelFitOptions = {}): number[] {
  rejectUnknownOptions("fitRegress", opts, MODEL_FIT_OPTIONS);
  const method = opts.method ?? "cosine", ridge = opts.ridgeWeight ?? 0;
  checkRidge("fitRegress", ridge);
  const { X, y } = regressionDesign("fitRegress", model, data, method);
  const G = X.map((a, i) => X.map((b, j) => dot(a, b) + (i === j ? ridge : 0)));
  return normalised(solve(G, X.map((a) => dot(a, y))), opts.normalize ?? true);
}

/**
 * rsatoolbox's fit_regress_nn: as fitRegress with θ ≥ 0 (the active-set NNLS of Bro & de Jong 1997,
 * with the ridge term), scaled to unit norm.
 * @example
 * const theta = fl.fitRegressNn(weightedModel, subjectRdms, { method: "cosine" });
 */
export function fitRegressNn(model: RsaModel, data: RdmCollection, opts: ModelFitOptions = {}): number[] {
  rejectUnknownOptions("fitRegressNn", opts, MODEL_FIT_OPTIONS);
  const method = opts.method ?? "cosine", ridge = opts.ridgeWeight ?? 0;
  checkRidge("fitRegressNn", ridge);
  const { X, y } = regressionDesign("fitRegressNn", model, data, method);
  const n = X.length;
  const ATA = X.map((a, i) => X.map((b, j) => dot(a, b) + (i === j ? ridge : 0)));
  const Aty = X.map((a) => dot(a, y));
  const x = new Array<number>(n).fill(0);
  const P = new Array<boolean>(n).fill(false);
  const solveP = (): number[] => {
    const idx = P.flatMap((on, i) => (on ? [i] : []));
    return solve(idx.map((i) => idx.map((j) => ATA[i][j])), idx.map((i) => Aty[i]));
  };
  let w = Aty.slice();
  const tol = 100 * 2.220446049250313e-16;
  for (let iter = 0; iter < 10 * n + 10 && Math.max(...w) > tol; iter++) {
    P[w.indexOf(Math.max(...w))] = true;
    let idx = P.flatMap((on, i) => (on ? [i] : []));
    let s = solveP();
    while (s.some((v) => v < 0)) {
      // Step toward s until the first coefficient hits 0; drop it from the active set.
      let alpha = Infinity, drop = -1;
      s.forEach((v, k) => {
        const a = v > 0 ? 1 : x[idx[k]] / (x[idx[k]] - v);
        if (a < alpha) { alpha = a; drop = k; }
      });
      idx.forEach((i, k) => { x[i] += alpha * (s[k] - x[i]); });
      x[idx[drop]] = 0;
      P[idx[drop]] = false;
      idx = P.flatMap((on, i) => (on ? [i] : []));
      s = solveP();
    }
    idx.forEach((i, k) => { x[i] = s[k]; });
    w = Aty.map((v, i) => v - dot(ATA[i], x));
  }
  return normalised(x, opts.normalize ?? true);
}
