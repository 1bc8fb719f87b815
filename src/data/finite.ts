// NaN and ±Inf in activations: found, reported (how many rows, the first one), optionally dropped.
import { InputError } from "../io/errors.js";
import type { ActivationSet } from "./activation-set.js";

/** Rows holding any NaN or ±Inf. */
export function nonFiniteRows(vectors: Float32Array, dim: number): Int32Array {
  const bad: number[] = [];
  const n = vectors.length / dim;
  for (let r = 0; r < n; r++) {
    const off = r * dim;
    for (let j = 0; j < dim; j++) {
      const v = vectors[off + j];
      if (v - v !== 0) {
        // v − v is NaN exactly for NaN and ±Inf
        bad.push(r);
        break;
      }
    }
  }
  return Int32Array.from(bad);
}

/** What to do with rows holding NaN or ±Inf: refuse the input (default), drop those rows, or keep them. */
export type NonFinitePolicy = "error" | "drop" | "keep";

/** Refuse, drop or keep rows holding NaN/±Inf, per the policy. */
export function applyNonFinite(acts: ActivationSet, policy: NonFinitePolicy): ActivationSet {
  if (policy === "keep") return acts;
  const bad = nonFiniteRows(acts.vectors, acts.dim);
  if (bad.length === 0) return acts;
  if (policy === "drop") {
    const keep: number[] = [];
    let b = 0;
    for (let r = 0; r < acts.numRows; r++) {
      if (b < bad.length && bad[b] === r) b++;
      else keep.push(r);
    }
    return acts.take(keep);
  }
  throw new InputError(
    acts.source,
    `${bad.length} of ${acts.numRows} rows hold NaN or ±Inf (first: row ${bad[0]}); pass { nonFinite: "drop" } to drop them or "keep" to keep them`,
  );
}
