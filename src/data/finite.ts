// NaN and ±Inf in activations: one rule wherever data enters featurelab (fromVectors, load, open, the
// rows and tensors handed to geometry, rdm, fit and metrics): refused with the row and column of the
// first one, or — where the entry takes { nonFinite } — its rows dropped or kept.
import { InputError } from "../io/errors.js";
import type { ActivationSet } from "./activation-set.js";

/** The first NaN or ±Inf in row-major values of width `dim`: its row, column and value. */
export function firstNonFinite(values: ArrayLike<number>, dim: number): { row: number; column: number; value: number } | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return { row: Math.floor(i / dim), column: i % dim, value: v }; // NaN exactly for NaN and ±Inf
  }
  return undefined;
}

/**
 * Refuses values holding NaN or ±Inf: "<what>: row 3, column 7 is NaN (2 of 100 rows hold NaN or ±Inf)",
 * naming `source` (a file) when there is one. `hint` ends the message (e.g. how to drop them).
 */
export function assertFinite(values: ArrayLike<number>, dim: number, source: string | undefined, what: string, hint?: string): void {
  const first = firstNonFinite(values, dim);
  if (first === undefined) return;
  throw new InputError(source, `${what}: ${nonFiniteMessage(values, dim, first)}${hint ? `; ${hint}` : ""}`);
}

/** Refuses a set holding NaN or ±Inf (kept with { nonFinite: "keep" }, or built by hand) before `what` computes on it. */
export function assertFiniteSet(acts: ActivationSet, what: string): void {
  assertFinite(acts.vectors, acts.dim, acts.source, what, `drop those rows first (fl.load, fl.open or fl.fromVectors with { nonFinite: "drop" })`);
}

function nonFiniteMessage(values: ArrayLike<number>, dim: number, first: { row: number; column: number; value: number }): string {
  const rows = Math.floor(values.length / dim);
  const bad = nonFiniteRows(values, dim).length;
  return `row ${first.row}, column ${first.column} is ${first.value} (${bad} of ${rows} rows hold NaN or ±Inf)`;
}

/** Rows holding any NaN or ±Inf. */
export function nonFiniteRows(vectors: ArrayLike<number>, dim: number): Int32Array {
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
export const NON_FINITE_POLICIES = ["error", "drop", "keep"] as const;
/** What to do with rows holding NaN or ±Inf: `"error"` refuses the input (the default), `"drop"` drops the rows, `"keep"` keeps them. */
export type NonFinitePolicy = (typeof NON_FINITE_POLICIES)[number];

/** Refuse, drop or keep rows holding NaN/±Inf, per the policy. */
export function applyNonFinite(acts: ActivationSet, policy: NonFinitePolicy = "error", what = ""): ActivationSet {
  checkPolicy(policy, acts.source);
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
  const first = firstNonFinite(acts.vectors.subarray(bad[0] * acts.dim, (bad[0] + 1) * acts.dim), acts.dim)!;
  throw new InputError(
    acts.source,
    `${what ? `${what}: ` : ""}row ${bad[0]}, column ${first.column} is ${first.value} (${bad.length} of ${acts.numRows} rows hold NaN or ±Inf); ${DROP_HINT}`,
  );
}

/** How to get past a refusal, for entries that take { nonFinite }. */
export const DROP_HINT = `pass { nonFinite: "drop" } to drop those rows or "keep" to keep them`;

/** Refuses a policy that is not one of NON_FINITE_POLICIES. */
export function checkPolicy(policy: unknown, source?: string): asserts policy is NonFinitePolicy {
  if (!(NON_FINITE_POLICIES as readonly unknown[]).includes(policy)) {
    throw new InputError(source, `nonFinite must be one of ${NON_FINITE_POLICIES.map((p) => `"${p}"`).join(", ")}, got ${JSON.stringify(policy)}`);
  }
}
