// Representational dissimilarity matrices, with rsatoolbox's conventions so numbers carry over:
// an RDM of K conditions is stored as its upper triangle, row by row (scipy's squareform order),
// K(K−1)/2 values; distances are rsatoolbox's (squared Euclidean and Mahalanobis divided by the
// number of channels, crossnobis cross-validated over folds, poisson the symmetrised KL divergence
// of Poisson rates); conditions are sorted as np.unique sorts them unless asked otherwise.
import { InputError } from "../io/errors.js";
import { observations, groupMeans, firstDuplicate, type PatternInput, type PatternOptions } from "./patterns.js";
import { squaredEuclidean, correlationDistance, cosineDistance, crossnobis, poissonRates, upperTriangle } from "./pattern-distances.js";
import { crossValidated, poissonPrior, whitener, isNested } from "./rdm-crossvalidated.js";
import type { CovarianceMethod } from "./noise-precision.js";
import { averageLinkageOrder } from "./cluster-order.js";
import { compareRdms, COMPARE_OPTIONS, type CompareMethod, type CompareOptions } from "./compare-rdms.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import {
  rankTransform,
  sqrtTransform,
  positiveTransform,
  mapTransform,
  minmaxTransform,
  geotopologicalTransform,
  type RankMethod,
  type Transformed,
} from "./rdm-transforms.js";

/** The dissimilarities `rdm` computes, with rsatoolbox's names. */
export type DistanceMethod = "euclidean" | "correlation" | "cosine" | "mahalanobis" | "crossnobis" | "poisson" | "poisson_cv";

/** rsatoolbox's dissimilarity_measure for each distance. */
const MEASURE: Record<DistanceMethod, string> = {
  euclidean: "squared euclidean",
  correlation: "correlation",
  cosine: "cosine",
  mahalanobis: "squared mahalanobis",
  crossnobis: "crossnobis",
  poisson: "poisson",
  poisson_cv: "poisson_cv",
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
   * The dissimilarities replaced by their ranks 1…n (rsatoolbox's rank_transform; ties share the
   * average rank unless another of scipy's methods is named). NaN stays NaN.
   * @example
   * fl.show(d.rank());
   */
  rank(method: RankMethod = "average"): RDM {
    return this.transformed(rankTransform(this.vector, this.dissimilarityMeasure, method));
  }

  /**
   * Square roots of the dissimilarities, negatives first set to 0 (rsatoolbox's sqrt_transform):
   * squared euclidean becomes euclidean.
   * @example
   * const e = fl.rdm(acts, { by: "stimulus" }).sqrt();   // euclidean / √C instead of squared
   */
  sqrt(): RDM {
    return this.transformed(sqrtTransform(this.vector, this.dissimilarityMeasure));
  }

  /**
   * Negative dissimilarities (cross-validated estimates below 0) set to 0 (rsatoolbox's positive_transform).
   * @example
   * const d0 = fl.rdm(acts, { by: "stimulus", distance: "crossnobis", folds: "run" }).positive();
   */
  positive(): RDM {
    return this.transformed(positiveTransform(this.vector, this.dissimilarityMeasure));
  }

  /**
   * Any function of each dissimilarity (rsatoolbox's transform); missing pairs (NaN) stay missing.
   * The measure becomes "transformed <measure>" unless named.
   * @example
   * const similarity = d.transform((x) => Math.exp(-x), "exp(−d)");
   */
  transform(fn: (value: number, index: number) => number, measure?: string): RDM {
    return this.transformed(mapTransform(this.vector, this.dissimilarityMeasure, fn, measure));
  }

  /**
   * The dissimilarities scaled to span [0, 1]: (d − min) / (max − min) (rsatoolbox's minmax_transform), NaN left out.
   * @example
   * const scaled = d.minmax();
   */
  minmax(): RDM {
    return this.transformed(minmaxTransform(this.vector, this.dissimilarityMeasure));
  }

  /**
   * The geo-topological transform (Lin & Kriegeskorte 2023; rsatoolbox's geotopological_transform):
   * below the `low` quantile 0, above the `up` quantile 1, linear in between.
   * @example
   * const gt = d.geotopological(0.1, 0.9);
   */
  geotopological(low: number, up: number): RDM {
    return this.transformed(geotopologicalTransform(this.vector, this.dissimilarityMeasure, low, up));
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

  private transformed(t: Transformed): RDM {
    return new RDM(t.vector, { labels: this.labels, dissimilarityMeasure: t.measure, name: this.name, descriptors: this.descriptors });
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
  /**
   * crossnobis / poisson_cv: cross-validate over pairs of measurements from different folds, as
   * rsatoolbox's calc_rdm_unbalanced, instead of fold means against the means of the other folds.
   * For designs where conditions have different numbers of measurements per fold or are missing
   * from some folds: every measurement pair counts once. Without `folds`, each measurement is its
   * own fold (only a measurement's product with itself is left out), as rsatoolbox does.
   */
  unbalanced?: boolean;
  /** poisson / poisson_cv: prior rate λ (default 1, rsatoolbox's prior_lambda). */
  priorLambda?: number;
  /** poisson / poisson_cv: weight w of the prior (default 0.1): rates are (x + λ·w) / (1 + w). */
  priorWeight?: number;
  /** A name for the RDM (a subject, a region). */
  name?: string;
}

const RDM_OPTIONS = optionNames<RdmOptions>({
  distance: true,
  precision: true,
  unbalanced: true,
  priorLambda: true,
  priorWeight: true,
  name: true,
  by: true,
  folds: true,
  conditions: true,
  channels: true,
  labels: true,
  order: true,
});

const CROSS_VALIDATED: readonly DistanceMethod[] = ["crossnobis", "poisson_cv"];

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
  if (opts.unbalanced && !CROSS_VALIDATED.includes(distance)) {
    throw new InputError(undefined, `rdm: \`unbalanced\` is for the cross-validated distances (${CROSS_VALIDATED.join(", ")}); ${distance} averages each condition's measurements, whatever their number`);
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
  } else if (distance === "poisson") {
    const { rates, logs } = poissonRates(means, ...poissonPrior(opts, obs, descriptors));
    vector = crossnobis([rates], [logs], K, C); // (λ_i − λ_j)·(log λ_i − log λ_j) / C
  } else {
    vector = crossValidated(obs, opts, descriptors, distance);
  }
  return new RDM(vector, { labels: obs.labels, dissimilarityMeasure: MEASURE[distance], name: opts.name, descriptors });
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


function preview(labels: readonly string[]): string {
  return labels.length <= 12 ? labels.join(", ") : `${labels.slice(0, 12).join(", ")}, … (${labels.length})`;
}
