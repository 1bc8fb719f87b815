// Transforms of an RDM's dissimilarities, as rsatoolbox's rdm/transform.py: ranks, square root,
// negatives to zero, min–max scaling, the geo-topological transform (Lin & Kriegeskorte 2023), and
// any function of each value. Each takes the upper-triangle vector and the dissimilarity measure and
// gives both anew; RDM's methods (d.rank(), d.sqrt(), …) wrap them. A missing pair (NaN) stays
// missing and is left out of ranks, minima, maxima and quantiles.
import { InputError } from "../io/errors.js";
import { rankInfo } from "./ranks.js";

/** How ranks are given to tied values (scipy's rankdata methods; rsatoolbox's default "average"). */
export type RankMethod = "average" | "min" | "max" | "dense" | "ordinal";

const RANK_METHODS: readonly RankMethod[] = ["average", "min", "max", "dense", "ordinal"];

/** A transformed vector and what it now measures. */
export interface Transformed {
  vector: Float64Array;
  measure: string;
}

/** rsatoolbox's rank_transform: ranks 1…n of the non-NaN values; the measure gains " (ranks)" once. */
export function rankTransform(v: Float64Array, measure: string, method: RankMethod = "average"): Transformed {
  if (!RANK_METHODS.includes(method)) throw new InputError(undefined, `RDM.rank: unknown method '${method}'; use one of ${RANK_METHODS.join(", ")}`);
  const info = rankInfo(v);
  let vector: Float64Array;
  if (method === "average") vector = info.average;
  else {
    // Dense ranks give each value's tie group; the groups' places in sorted order give the rest.
    const { dense, starts } = info;
    const next = starts.slice(0, -1);
    vector = new Float64Array(v.length);
    for (let p = 0; p < v.length; p++) {
      const g = dense[p];
      if (g < 0) vector[p] = NaN;
      else if (method === "dense") vector[p] = g + 1;
      else if (method === "min") vector[p] = starts[g] + 1;
      else if (method === "max") vector[p] = starts[g + 1];
      else vector[p] = ++next[g]; // ordinal: ties in order of position, as scipy
    }
  }
  return { vector, measure: measure.includes("(ranks)") ? measure : `${measure} (ranks)` };
}

/** rsatoolbox's sqrt_transform: negatives to 0, then the square root; squared euclidean/mahalanobis lose "squared". */
export function sqrtTransform(v: Float64Array, measure: string): Transformed {
  const vector = v.map((x) => Math.sqrt(x < 0 ? 0 : x));
  const named: Record<string, string> = { "squared euclidean": "euclidean", "squared mahalanobis": "mahalanobis", unknown: "sqrt of unknown measure" };
  return { vector, measure: named[measure] ?? `sqrt of ${measure}` };
}

/** rsatoolbox's positive_transform: negative dissimilarities (cross-validated estimates) to 0. */
export function positiveTransform(v: Float64Array, measure: string): Transformed {
  return { vector: v.map((x) => (x < 0 ? 0 : x)), measure };
}

/** rsatoolbox's transform: any function of each dissimilarity (NaN stays NaN without a call). */
export function mapTransform(v: Float64Array, measure: string, fn: (value: number, index: number) => number, name?: string): Transformed {
  const vector = new Float64Array(v.length);
  for (let p = 0; p < v.length; p++) {
    if (v[p] !== v[p]) vector[p] = NaN;
    else {
      const y = Number(fn(v[p], p));
      if (!Number.isFinite(y) && y === y) throw new InputError(undefined, `RDM.transform: the function gave ${y} for dissimilarity ${p} (${v[p]}); use NaN for a missing value`);
      vector[p] = y;
    }
  }
  return { vector, measure: name ?? `transformed ${measure}` };
}

/**
 * rsatoolbox's minmax_transform: (d − min) / (max − min), so the values span [0, 1]. Over the
 * non-NaN values (rsatoolbox's min and max are NaN when any value is, making the whole RDM NaN).
 */
export function minmaxTransform(v: Float64Array, measure: string): Transformed {
  const [lo, hi] = range(v, "RDM.minmax");
  return { vector: v.map((x) => (x - lo) / (hi - lo)), measure: `minmax transformed ${measure}` };
}

/**
 * rsatoolbox's geotopological_transform (Lin & Kriegeskorte 2023): with l and u the `low` and `up`
 * quantiles of the dissimilarities (numpy's linear interpolation), values below l become 0, above u
 * become 1, and between them (d − l)/(u − l). The three cases are decided on the original values;
 * rsatoolbox decides them one after another on the partly transformed vector, so there a value
 * already rescaled into (u, 1] (possible when u < 1) is set to 1 as well.
 */
export function geotopologicalTransform(v: Float64Array, measure: string, low: number, up: number): Transformed {
  if (!(low >= 0 && low <= 1 && up >= 0 && up <= 1 && low < up)) {
    throw new InputError(undefined, `RDM.geotopological: need quantiles 0 ≤ low < up ≤ 1, got low ${low}, up ${up}`);
  }
  range(v, "RDM.geotopological");
  const sorted = Float64Array.from(v.filter((x) => x === x)).sort();
  const l = quantile(sorted, low), u = quantile(sorted, up);
  if (!(u > l)) throw new InputError(undefined, `RDM.geotopological: the ${low} and ${up} quantiles are equal (${l}); there is nothing between them to rescale`);
  const vector = v.map((x) => (x < l ? 0 : x > u ? 1 : (x - l) / (u - l)));
  return { vector, measure: `geo-topological transformed ${measure}` };
}

/** numpy's quantile (method "linear") of ascending values. */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  return i + 1 < sorted.length ? sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/** [min, max] of the non-NaN values; an error when there are none or all are equal. */
function range(v: Float64Array, fn: string): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo === Infinity) throw new InputError(undefined, `${fn}: all ${v.length} dissimilarities are NaN`);
  if (lo === hi) throw new InputError(undefined, `${fn}: all ${v.length} dissimilarities equal ${lo}; there is no range to scale`);
  return [lo, hi];
}
