// How well a parameter decomposition's components recover a known answer, one definition for every
// method (SPD's rank-one subcomponents, APD's full components): for the columns W_:,j of a target
// matrix [d_out, d_in] and column j of each component's matrix P_c [d_out, d_in],
//   MMCS = mean_j max_c cos(P_c[:, j], W_:,j)
//   ML2R = mean_j ‖P_{c*}[:, j]‖ / ‖W_:,j‖,  c* the argmax of that cosine
// (Bushnaq, Braun & Sharkey 2025, and the APD paper's Table, after Sharkey et al. 2022).
import { InputError } from "../../io/errors.js";

/** The component that best matches one column: its index, cosine and norm ratio (c = −1: none has a nonzero column). */
export interface ColumnMatch {
  c: number;
  cos: number;
  ratio: number;
}

/**
 * For each column j of W [d_out, d_in]: the component whose column j (from `column(c, j)`, d_out
 * numbers) points most nearly the same way. `who` names the caller in the error for a W of the wrong shape.
 */
export function matchColumns(who: string, W: number[][], column: (c: number, j: number) => ArrayLike<number>, C: number, dout: number, din: number): ColumnMatch[] {
  if (W.length !== dout || W.some((r) => r.length !== din)) throw new InputError(undefined, `${who}: the true directions must be a [${dout}, ${din}] matrix (one column per input feature), got [${W.length}, ${W[0]?.length ?? 0}]`);
  return Array.from({ length: din }, (_, j) => {
    const w = W.map((r) => r[j]);
    const wNorm = Math.hypot(...w);
    let best: ColumnMatch = { c: -1, cos: -Infinity, ratio: 0 };
    for (let c = 0; c < C; c++) {
      const p = column(c, j);
      let dot = 0, size = 0;
      for (let o = 0; o < dout; o++) {
        dot += p[o] * w[o];
        size += p[o] * p[o];
      }
      size = Math.sqrt(size);
      if (size === 0 || wNorm === 0) continue;
      const cos = dot / (size * wNorm);
      if (cos > best.cos) best = { c, cos, ratio: size / wNorm };
    }
    return best;
  });
}

/**
 * What every parameter decomposition shares (SPD's ParameterDecomposition, APD's ApdDecomposition):
 * its layers, training record, and the known-answer checks, for which each supplies its components' columns.
 */
export abstract class ComponentDecomposition<Record> {
  /** Names of the decomposed matrices, in the order the model applies them. */
  readonly layerNames: readonly string[];
  /** C, components (SPD: subcomponents per matrix; APD: components spanning every matrix). */
  readonly components: number;
  readonly history: readonly Record[];
  /** Wall-clock seconds of training. */
  readonly seconds: number;

  constructor(init: { names: string[]; components: number; history: Record[]; seconds: number }) {
    this.layerNames = Object.freeze([...init.names]);
    this.components = init.components;
    this.history = Object.freeze(init.history);
    this.seconds = init.seconds;
  }

  /** A layer's index from its name or index. */
  protected index(layer: string | number): number {
    const l = typeof layer === "number" ? layer : this.layerNames.indexOf(layer);
    if (!Number.isInteger(l) || l < 0 || l >= this.layerNames.length) throw new InputError(undefined, `${this.constructor.name}: no layer ${JSON.stringify(layer)}; its layers are ${this.layerNames.join(", ")}`);
    return l;
  }

  /** For each column j of W (default: the target's weight of the layer): the best-aligned component. */
  protected abstract matches(truth: number[][] | undefined, layer: string | number): ColumnMatch[];

  /**
   * Mean max cosine similarity of the components' columns to the columns of a known W [d_out, d_in]
   * (default: the target's own weight of that layer), as the SPD paper's Table 1 and APD's TMS table.
   * @example
   * dec.mmcs();                                 // 1.000 when every feature has its component
   * dec.mmcs(target.W, "linear1");
   */
  mmcs(truth?: number[][], layer: string | number = 0): number {
    const m = this.matches(truth, layer);
    return m.reduce((s, r) => s + r.cos, 0) / m.length;
  }

  /**
   * Mean L2 ratio ‖P_{c*}[:, j]‖/‖W_:,j‖ of each column's best-aligned component (1: no shrinkage).
   * @example
   * dec.ml2r();
   */
  ml2r(truth?: number[][], layer: string | number = 0): number {
    const m = this.matches(truth, layer);
    return m.reduce((s, r) => s + r.ratio, 0) / m.length;
  }

  /**
   * The component that best matches each column of W (input feature), with its cosine and norm ratio.
   * @example
   * console.table(dec.featureMatches());
   */
  featureMatches(truth?: number[][], layer: string | number = 0): { feature: number; component: number; cosine: number; l2Ratio: number }[] {
    return this.matches(truth, layer).map((r, j) => ({ feature: j, component: r.c, cosine: r.cos, l2Ratio: r.ratio }));
  }
}
