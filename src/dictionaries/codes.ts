// Feature activations of a dictionary on an ActivationSet, kept sparse (CSR: per input row, the ids
// and values of its active features) and aligned with the input rows and their metadata.
import { Field, Float32, Int32, List, makeData, makeVector, Table, tableFromArrays } from "apache-arrow";
import type { ActivationSet } from "../data/activation-set.js";

export interface TopActivation {
  row: number;
  activation: number;
  [metadata: string]: unknown;
}

/**
 * Sparse feature activations (CSR), one row per input row and aligned with its metadata. Made by `sae.encode(acts)`.
 *
 * @example
 * const codes = sae.encode(acts);
 * console.table(codes.top(7, 10));            // feature 7's strongest rows with their metadata
 */
export class Codes {
  /** Row r's active features are indices[indptr[r] .. indptr[r+1]), with activations values[…]. */
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly numRows: number;
  readonly width: number;
  /** The input rows (for their metadata). */
  readonly acts: ActivationSet | undefined;

  constructor(indptr: Int32Array, indices: Int32Array, values: Float32Array, width: number, acts?: ActivationSet) {
    if (indptr.length < 1 || indptr[indptr.length - 1] !== indices.length || indices.length !== values.length) {
      throw new Error("featurelab: Codes: indptr, indices and values do not describe the same entries");
    }
    this.indptr = indptr;
    this.indices = indices;
    this.values = values;
    this.numRows = indptr.length - 1;
    this.width = width;
    this.acts = acts;
  }

  /**
   * From dense rows × width activations (zeros dropped).
   * @example
   * const codes = fl.Codes.fromDense(new Float32Array([0, 1, 2, 0]), 2, 2);
   */
  static fromDense(dense: Float32Array, numRows: number, width: number, acts?: ActivationSet): Codes {
    const builder = new CodesBuilder(width);
    builder.addDense(dense, numRows);
    return builder.finish(acts);
  }

  /**
   * The activations as a dense rows × width array.
   * @example
   * const dense = codes.toDense();              // numRows × width
   */
  toDense(): Float32Array {
    const out = new Float32Array(this.numRows * this.width);
    for (let r = 0; r < this.numRows; r++) {
      for (let k = this.indptr[r]; k < this.indptr[r + 1]; k++) out[r * this.width + this.indices[k]] = this.values[k];
    }
    return out;
  }

  /**
   * Fraction of rows on which each feature is nonzero.
   * @example
   * const density = codes.density();            // one fraction per feature
   */
  density(): Float64Array {
    const counts = new Float64Array(this.width);
    for (const i of this.indices) counts[i]++;
    return counts.map((c) => c / this.numRows);
  }

  /**
   * Mean number of nonzero features per row.
   * @example
   * codes.l0();
   */
  l0(): number {
    return this.indices.length / this.numRows;
  }

  /**
   * Activations of one feature over all rows (dense).
   * @example
   * const a = codes.feature(7);                 // feature 7 on every row
   */
  feature(i: number): Float32Array {
    this.checkFeature(i);
    const out = new Float32Array(this.numRows);
    for (let r = 0; r < this.numRows; r++) {
      for (let k = this.indptr[r]; k < this.indptr[r + 1]; k++) if (this.indices[k] === i) out[r] = this.values[k];
    }
    return out;
  }

  /**
   * The n rows on which a feature activates most, strongest first, with their metadata.
   * @example
   * console.table(codes.top(7, 10));
   */
  top(feature: number, n = 10): TopActivation[] {
    const acts = this.feature(feature);
    const rows = Array.from(acts.keys())
      .filter((r) => acts[r] > 0)
      .sort((a, b) => acts[b] - acts[a] || a - b)
      .slice(0, n);
    const columns = this.acts?.columns ?? [];
    return rows.map((row) => ({ row, activation: acts[row], ...Object.fromEntries(columns.map((c) => [c, this.acts!.column(c)[row]])) }));
  }

  /**
   * The k most frequently firing features, most frequent first (ties: lower id first).
   * @example
   * const top = codes.mostFrequent(20);
   */
  mostFrequent(k: number): number[] {
    const d = this.density();
    return Array.from(d.keys())
      .sort((a, b) => d[b] - d[a] || a - b)
      .slice(0, k);
  }

  /**
   * An Arrow table aligned with the input rows: their metadata, then List<Int32> ids and List<Float32> activations.
   * @example
   * const table = codes.toArrow();
   */
  toArrow(): Table {
    const meta: Record<string, any> = {};
    for (const c of this.acts?.columns ?? []) {
      const col = this.acts!.column(c);
      meta[c] = ArrayBuffer.isView(col) ? col : Array.from(col as ArrayLike<unknown>);
    }
    const list = <T extends Int32 | Float32>(type: T, data: Int32Array | Float32Array) =>
      makeVector(
        makeData({
          type: new List(new Field("item", type, false)),
          length: this.numRows,
          nullCount: 0,
          valueOffsets: this.indptr,
          child: makeData({ type, length: data.length, data } as any),
        } as any),
      );
    const lists = new Table({ feature_ids: list(new Int32(), this.indices), feature_acts: list(new Float32(), this.values) });
    return Object.keys(meta).length > 0 ? tableFromArrays(meta).assign(lists) : lists;
  }

  private checkFeature(i: number) {
    if (!(Number.isInteger(i) && i >= 0 && i < this.width)) throw new RangeError(`featurelab: feature ${i} out of range 0..${this.width - 1}`);
  }

  /** "Codes(rows × width, L0 …)". */
  toString(): string {
    return `Codes(${this.numRows} rows × ${this.width} features, L0 ${this.l0().toFixed(2)})`;
  }
}

/** Accumulates dense batches into CSR without holding the dense whole. */
export class CodesBuilder {
  private indptr: number[] = [0];
  private indices: number[] = [];
  private values: number[] = [];
  constructor(private readonly width: number) {}

  addDense(dense: Float32Array, rows: number): void {
    for (let r = 0; r < rows; r++) {
      const off = r * this.width;
      for (let i = 0; i < this.width; i++) {
        const v = dense[off + i];
        if (v !== 0) {
          this.indices.push(i);
          this.values.push(v);
        }
      }
      this.indptr.push(this.indices.length);
    }
  }

  finish(acts?: ActivationSet): Codes {
    return new Codes(Int32Array.from(this.indptr), Int32Array.from(this.indices), Float32Array.from(this.values), this.width, acts);
  }
}
