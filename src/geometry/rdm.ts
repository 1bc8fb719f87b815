// Representational dissimilarity matrices, with rsatoolbox's conventions so numbers carry over:
// an RDM of K conditions is stored as its upper triangle, row by row (scipy's squareform order),
// K(K−1)/2 values; distances are rsatoolbox's (squared Euclidean and Mahalanobis divided by the
// number of channels, crossnobis cross-validated over folds); conditions are sorted as np.unique
// sorts them unless asked otherwise.
import { InputError } from "../io/errors.js";
import { observations, groupMeans, groupValues, firstDuplicate, type PatternInput, type PatternOptions, type Observations } from "./patterns.js";
import {
  squaredEuclidean,
  correlationDistance,
  cosineDistance,
  crossnobis,
  precisionWhitener,
  covarianceWhitener,
  upperTriangle,
  type Whitener,
} from "./pattern-distances.js";
import { covFromResiduals, type CovarianceMethod } from "./noise-precision.js";
import { averageLinkageOrder } from "./cluster-order.js";
import { compareRdms, COMPARE_OPTIONS, type CompareMethod, type CompareOptions } from "./compare-rdms.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** The dissimilarities `rdm` computes, with rsatoolbox's names. */
export type DistanceMethod = "euclidean" | "correlation" | "cosine" | "mahalanobis" | "crossnobis";

/** rsatoolbox's dissimilarity_measure for each distance. */
const MEASURE: Record<DistanceMethod, string> = {
  euclidean: "squared euclidean",
  correlation: "correlation",
  cosine: "cosine",
  mahalanobis: "squared mahalanobis",
  crossnobis: "crossnobis",
};

/** Labels, name and provenance of an RDM. */
export interface RdmInit {
  /** Condition names (default "0", "1", …); unique. */
  labels?: readonly string[];
  /** What the numbers measure, e.g. "squared euclidean" (rsatoolbox's dissimilarity_measure). */
  dissimilarityMeasure?: string;
  /** A name for tables and legends (a subject, a region, a model). */
  name?: string;
  /** Anything else worth keeping (rsatoolbox's descriptors): how it was computed. */
  descriptors?: Record<string, unknown>;
}

const RDM_INIT = optionNames<RdmInit>({ labels: true, dissimilarityMeasure: true, name: true, descriptors: true });

/**
 * An immutable RDM: K conditions, K(K−1)/2 dissimilarities.
 * @example
 * const d = fl.rdm(acts, { by: "stimulus", distance: "correlation" });
 * d.get("cat", "dog");
 * fl.show(d.reorder("cluster"));
 */
export class RDM {
  /** Upper triangle row by row: (0,1), (0,2), …, (0,K−1), (1,2), … Treat as read-only. */
  readonly vector: Float64Array;
  readonly labels: readonly string[];
  readonly dissimilarityMeasure: string;
  readonly name: string | undefined;
  readonly descriptors: Readonly<Record<string, unknown>>;
  readonly nConditions: number;
  private readonly index: Map<string, number>;

  constructor(vector: ArrayLike<number>, init: RdmInit = {}) {
    rejectUnknownOptions("RDM", init, RDM_INIT);
    const K = conditionsFor(vector.length);
    this.vector = Float64Array.from(vector);
    for (let p = 0; p < this.vector.length; p++) {
      const v = this.vector[p];
      if (v === Infinity || v === -Infinity) throw new InputError(undefined, `RDM: dissimilarity ${p} is ${v}; use NaN for a missing value`);
    }
    const labels = init.labels ? init.labels.map(String) : Array.from({ length: K }, (_, i) => String(i));
    if (labels.length !== K) throw new InputError(undefined, `RDM: ${labels.length} labels for ${K} conditions`);
    if (new Set(labels).size !== K) throw new InputError(undefined, `RDM: labels must be unique; ${firstDuplicate(labels)} appears more than once`);
    this.labels = Object.freeze(labels);
    this.nConditions = K;
    this.dissimilarityMeasure = init.dissimilarityMeasure ?? "unknown";
    this.name = init.name;
    this.descriptors = Object.freeze({ ...(init.descriptors ?? {}) });
    this.index = new Map(labels.map((l, i) => [l, i]));
  }

  /**
   * From a K×K symmetric matrix with zeros on the diagonal (number[][] or a flat row-major array).
   * @example
   * const m = fl.RDM.fromMatrix([[0, 1, 2], [1, 0, 1], [2, 1, 0]], { labels: ["a", "b", "c"] });
   */
  static fromMatrix(matrix: readonly (readonly number[])[] | ArrayLike<number>, init: RdmInit = {}): RDM {
    rejectUnknownOptions("RDM.fromMatrix", init, RDM_INIT);
    const flat = isNested(matrix) ? null : (matrix as ArrayLike<number>);
    const K = flat ? Math.round(Math.sqrt(flat.length)) : (matrix as number[][]).length;
    const at = flat ? (i: number, j: number) => flat[i * K + j] : (i: number, j: number) => (matrix as number[][])[i][j];
    if (flat && K * K !== flat.length) throw new InputError(undefined, `RDM.fromMatrix: ${flat.length} values are not a square matrix`);
    if (!flat) (matrix as number[][]).forEach((row, i) => {
      if (row.length !== K) throw new InputError(undefined, `RDM.fromMatrix: row ${i} has ${row.length} values, expected ${K}`);
    });
    let scale = 0;
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) if (Number.isFinite(at(i, j))) scale = Math.max(scale, Math.abs(at(i, j)));
    const tol = 1e-9 * Math.max(scale, 1e-300);
    for (let i = 0; i < K; i++) {
      if (Math.abs(at(i, i)) > tol) throw new InputError(undefined, `RDM.fromMatrix: diagonal entry (${i}, ${i}) is ${at(i, i)}, not 0`);
      for (let j = i + 1; j < K; j++) {
        const a = at(i, j), b = at(j, i);
        if (!(Math.abs(a - b) <= tol || (Number.isNaN(a) && Number.isNaN(b)))) {
          throw new InputError(undefined, `RDM.fromMatrix: not symmetric at (${i}, ${j}): ${a} vs ${b}`);
        }
      }
    }
    return new RDM(upperTriangle(K, at), init);
  }

  /** Number of dissimilarities, K(K−1)/2. */
  get nPairs(): number {
    return this.vector.length;
  }

  /** The full K×K matrix as number[][] (a new array each call), zeros on the diagonal. */
  get matrix(): number[][] {
    const K = this.nConditions;
    const m = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    let p = 0;
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        m[i][j] = this.vector[p];
        m[j][i] = this.vector[p++];
      }
    }
    return m;
  }

  /**
   * Position of a condition (by label, or an index checked for range).
   * @example
   * d.indexOf("cat");
   */
  indexOf(condition: string | number): number {
    if (typeof condition === "number") {
      if (!Number.isInteger(condition) || condition < 0 || condition >= this.nConditions) {
        throw new RangeError(`featurelab: RDM: condition index ${condition} out of range 0..${this.nConditions - 1}`);
      }
      return condition;
    }
    const i = this.index.get(condition);
    if (i === undefined) throw new InputError(undefined, `RDM: no condition '${condition}'; conditions: ${preview(this.labels)}`);
    return i;
  }

  /**
   * The dissimilarity between two conditions (labels or indices); 0 for a condition with itself.
   * @example
   * d.get("cat", "dog");
   */
  get(a: string | number, b: string | number): number {
    const i = this.indexOf(a), j = this.indexOf(b);
    if (i === j) return 0;
    return this.vector[pairIndex(this.nConditions, Math.min(i, j), Math.max(i, j))];
  }

  /**
   * The same RDM with its conditions in another order: all labels (or indices), or "cluster" (average linkage).
   * @example
   * fl.show(d.reorder("cluster"));
   */
  reorder(order: "cluster" | readonly (string | number)[]): RDM {
    const K = this.nConditions;
    let idx: number[];
    if (order === "cluster") {
      const D = new Float64Array(K * K);
      this.matrix.forEach((row, i) => D.set(row, i * K));
      idx = averageLinkageOrder(D, K);
    } else {
      idx = order.map((c) => this.indexOf(c));
      if (idx.length !== K || new Set(idx).size !== K) {
        throw new InputError(undefined, `RDM.reorder: give every one of the ${K} conditions exactly once (got ${idx.length}, ${new Set(idx).size} distinct)`);
      }
    }
    return this.pick(idx, { reordered: order === "cluster" ? "average linkage" : "by hand" });
  }

  /**
   * The RDM of some conditions only, kept in this RDM's order.
   * @example
   * const animals = d.subset(["cat", "dog", "horse"]);
   */
  subset(conditions: readonly (string | number)[]): RDM {
    const keep = new Set(conditions.map((c) => this.indexOf(c)));
    if (keep.size < 2) throw new InputError(undefined, `RDM.subset: an RDM needs at least 2 conditions, got ${keep.size}`);
    return this.pick([...keep].sort((a, b) => a - b), {});
  }

  /**
   * The same RDM under another name.
   * @example
   * const named = d.withName("subject 1");
   */
  withName(name: string): RDM {
    return new RDM(this.vector, { labels: this.labels, dissimilarityMeasure: this.dissimilarityMeasure, name, descriptors: this.descriptors });
  }

  /**
   * Similarity to another RDM of the same conditions (rsatoolbox's compare; default "cosine").
   * @example
   * d.compare(modelRdm, "tau-a");
   */
  compare(other: RDM, method: CompareMethod = "cosine", opts: CompareOptions = {}): number {
    rejectUnknownOptions("RDM.compare", opts, COMPARE_OPTIONS);
    return compareRdms(this, other, method, opts);
  }

  /** "RDM(K conditions, measure)". */
  toString(): string {
    return `RDM(${this.name ? this.name + ", " : ""}${this.nConditions} conditions, ${this.dissimilarityMeasure})`;
  }

  private pick(idx: number[], extra: Record<string, unknown>): RDM {
    const K = this.nConditions;
    const v = upperTriangle(idx.length, (a, b) => {
      const i = idx[a], j = idx[b];
      return this.vector[pairIndex(K, Math.min(i, j), Math.max(i, j))];
    });
    return new RDM(v, {
      labels: idx.map((i) => this.labels[i]),
      dissimilarityMeasure: this.dissimilarityMeasure,
      name: this.name,
      descriptors: { ...this.descriptors, ...extra },
    });
  }
}

/** Position of pair (i, j), i < j, in the upper-triangle vector of K conditions. */
export function pairIndex(K: number, i: number, j: number): number {
  return i * K - (i * (i + 1)) / 2 + (j - i - 1);
}

/** K from a vector length K(K−1)/2 (an error for other lengths). */
export function conditionsFor(length: number): number {
  const K = Math.round((1 + Math.sqrt(1 + 8 * length)) / 2);
  if ((K * (K - 1)) / 2 !== length || K < 2) {
    throw new InputError(undefined, `RDM: ${length} dissimilarities is not K(K−1)/2 for any K ≥ 2`);
  }
  return K;
}

/** Options of `rdm`. */
export interface RdmOptions extends PatternOptions {
  /** Dissimilarity (default "euclidean", as rsatoolbox's calc_rdm). */
  distance?: DistanceMethod;
  /**
   * mahalanobis / crossnobis: the noise precision (C×C, number[][] or flat row-major), "identity",
   * or how to estimate the covariance from the residuals around the condition means (default
   * "shrinkage_diag"; see covFromResiduals). rsatoolbox uses the identity when no noise is given.
   */
  precision?: readonly (readonly number[])[] | Float64Array | Float32Array | "identity" | CovarianceMethod;
  /** A name for the RDM (a subject, a region). */
  name?: string;
}

const RDM_OPTIONS = optionNames<RdmOptions>({ distance: true, precision: true, name: true, by: true, folds: true, conditions: true, channels: true, labels: true, order: true });

/**
 * The RDM of an ActivationSet (rows grouped into conditions by the metadata column `by`, averaged)
 * or of a conditions × channels pattern matrix.
 * @example
 * const d = fl.rdm(acts, { by: "stimulus", distance: "crossnobis", folds: "run" });
 * fl.show(d);                                  // a labelled heatmap
 */
export function rdm(input: PatternInput, opts: RdmOptions = {}): RDM {
  rejectUnknownOptions("rdm", opts, RDM_OPTIONS);
  const distance = opts.distance ?? "euclidean";
  if (!(distance in MEASURE)) {
    throw new InputError(undefined, `rdm: unknown distance '${distance}'; use one of ${Object.keys(MEASURE).join(", ")}`);
  }
  const obs = observations(input, opts);
  const K = obs.labels.length, C = obs.channels;
  const { means } = groupMeans(obs.data, C, obs.condition, K);
  const descriptors: Record<string, unknown> = { distance, channels: C, observations: obs.rows };
  if (typeof opts.by === "string") descriptors.by = opts.by;
  let vector: Float64Array;
  if (distance === "euclidean") vector = squaredEuclidean(means, K, C);
  else if (distance === "correlation") vector = correlationDistance(means, K, C, obs.labels);
  else if (distance === "cosine") vector = cosineDistance(means, K, C, obs.labels);
  else if (distance === "mahalanobis") {
    const w = whitener(opts, obs, means, descriptors);
    vector = squaredEuclidean(w ? w(means, K) : means, K, C);
  } else {
    vector = crossnobisOf(obs, opts, descriptors);
  }
  return new RDM(vector, { labels: obs.labels, dissimilarityMeasure: MEASURE[distance], name: opts.name, descriptors });
}

function crossnobisOf(obs: Observations, opts: RdmOptions, descriptors: Record<string, unknown>): Float64Array {
  const K = obs.labels.length, C = obs.channels;
  let fold = obs.fold, foldLabels = obs.foldLabels;
  if (!fold) {
    // rsatoolbox's default: the k-th measurement of each condition belongs to fold k.
    const seen = new Int32Array(K);
    const k = Int32Array.from(obs.condition, (c) => seen[c]++);
    if (!seen.every((n) => n === seen[0])) {
      const c = seen.findIndex((n) => n !== seen[0]);
      throw new InputError(undefined, `rdm: crossnobis without \`folds\` needs the same number of measurements per condition; '${obs.labels[0]}' has ${seen[0]}, '${obs.labels[c]}' has ${seen[c]}`);
    }
    ({ index: fold, labels: foldLabels } = groupValues(k, "fold", "sorted"));
  } else descriptors.folds = typeof opts.folds === "string" ? opts.folds : "given";
  const F = foldLabels!.length;
  if (F < 2) throw new InputError(undefined, `rdm: crossnobis needs at least 2 folds; ${typeof opts.folds === "string" ? `column '${opts.folds}'` : "the data"} has ${F}`);
  // Sums per (fold, condition); the train patterns of fold f are the means over the other folds.
  const sums = new Float64Array(F * K * C);
  const counts = new Int32Array(F * K);
  for (let r = 0; r < obs.rows; r++) {
    const g = fold[r] * K + obs.condition[r];
    counts[g]++;
    for (let c = 0; c < C; c++) sums[g * C + c] += obs.data[r * C + c];
  }
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < K; k++) {
      if (counts[f * K + k] === 0) throw new InputError(undefined, `rdm: crossnobis: condition '${obs.labels[k]}' has no measurement in fold '${foldLabels![f]}'`);
    }
  }
  const { means } = groupMeans(obs.data, C, obs.condition, K);
  const w = whitener(opts, obs, means, descriptors);
  const total = new Float64Array(K * C);
  const totalCount = new Int32Array(K);
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < K; k++) {
      totalCount[k] += counts[f * K + k];
      for (let c = 0; c < C; c++) total[k * C + c] += sums[(f * K + k) * C + c];
    }
  }
  const train: Float64Array[] = [], test: Float64Array[] = [];
  for (let f = 0; f < F; f++) {
    const a = new Float64Array(K * C), b = new Float64Array(K * C);
    for (let k = 0; k < K; k++) {
      const n = counts[f * K + k], rest = totalCount[k] - n;
      for (let c = 0; c < C; c++) {
        const s = sums[(f * K + k) * C + c];
        b[k * C + c] = s / n;
        a[k * C + c] = (total[k * C + c] - s) / rest;
      }
    }
    train.push(w ? w(a, K) : a);
    test.push(w ? w(b, K) : b);
  }
  descriptors.nFolds = F;
  return crossnobis(train, test, K, C);
}

/** The noise whitening for mahalanobis/crossnobis: given, identity (undefined), or estimated from residuals. */
function whitener(opts: RdmOptions, obs: Observations, means: Float64Array, descriptors: Record<string, unknown>): Whitener | undefined {
  const C = obs.channels, K = obs.labels.length;
  const p = opts.precision;
  if (p === "identity") {
    descriptors.noise = "identity";
    return undefined;
  }
  if (p !== undefined && typeof p !== "string") {
    const flat = isNested(p) ? Float64Array.from((p as number[][]).flat()) : Float64Array.from(p as ArrayLike<number>);
    if (flat.length !== C * C) {
      throw new InputError(undefined, `rdm: the precision matrix must be ${C}×${C} (channels × channels), got ${isNested(p) ? `${(p as number[][]).length} rows` : `${flat.length} values`}`);
    }
    descriptors.noise = "precision given";
    return precisionWhitener(flat, C);
  }
  const method = p ?? "shrinkage_diag";
  const dof = obs.rows - K;
  if (dof <= 0) {
    throw new InputError(
      undefined,
      `rdm: ${opts.distance} needs a noise precision: pass { precision } (a ${C}×${C} matrix or "identity"), or repeated measurements per condition (\`by\`) to estimate it from their residuals (${obs.rows} rows, ${K} conditions)`,
    );
  }
  const residuals = new Float64Array(obs.rows * C);
  for (let r = 0; r < obs.rows; r++) {
    const m = obs.condition[r] * C;
    for (let c = 0; c < C; c++) residuals[r * C + c] = obs.data[r * C + c] - means[m + c];
  }
  descriptors.noise = `${method} from residuals (dof ${dof})`;
  return covarianceWhitener(covFromResiduals(residuals, { channels: C, method, dof }), C);
}

/**
 * A categorical model RDM (rsatoolbox's get_categorical_rdm): 0 between conditions of the same
 * category, 1 otherwise. A condition's category may be an array (several factors): 1 if any differs.
 * @example
 * const animacy = fl.categoricalRdm(["animal", "animal", "tool", "tool"], { labels: ["cat", "dog", "saw", "pen"], name: "animacy" });
 */
export function categoricalRdm(categories: ArrayLike<unknown>, init: RdmInit = {}): RDM {
  rejectUnknownOptions("categoricalRdm", init, RDM_INIT);
  const K = categories.length;
  const key = (v: unknown) => (Array.isArray(v) ? v.map(String) : [String(v)]);
  const keys = Array.from(categories, key);
  const v = upperTriangle(K, (i, j) => (keys[i].length === keys[j].length && keys[i].every((x, t) => x === keys[j][t]) ? 0 : 1));
  return new RDM(v, { dissimilarityMeasure: "categorical", ...init });
}

function isNested(m: unknown): boolean {
  return Array.isArray(m) && m.length > 0 && typeof m[0] === "object" && m[0] !== null;
}

function preview(labels: readonly string[]): string {
  return labels.length <= 12 ? labels.join(", ") : `${labels.slice(0, 12).join(", ")}, … (${labels.length})`;
}
