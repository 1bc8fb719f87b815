// An ActivationSet is an Arrow-shaped table: metadata columns (held by arquero) plus one vector
// column, FixedSizeList<Float32>[dim], held as one contiguous Float32Array so tensors and batches
// are views, not copies.
import * as aq from "arquero";
import { FixedSizeList, Field, Float32, makeData, makeVector, Table, tableFromArrays, Vector, tableToIPC } from "apache-arrow";
import { writeFileSync, renameSync } from "node:fs";
import { tf, assertReady } from "../engine/backend.js";
import { InputError } from "../io/errors.js";

export type Metadata = Record<string, ArrayLike<unknown>>;
type ColumnTable = aq.ColumnTable;

export class ActivationSet {
  /** Row-major vectors, numRows × dim. Treat as read-only: sets share it. */
  readonly vectors: Float32Array;
  readonly dim: number;
  /** Metadata columns, one row per vector (an arquero table). */
  readonly meta: ColumnTable;
  /** Name of the vector column when written out as Arrow. */
  readonly vectorName: string;
  /** Where the set came from (a file path), for messages and displays. */
  readonly source: string | undefined;

  constructor(vectors: Float32Array, dim: number, meta: ColumnTable, opts: { vectorName?: string; source?: string } = {}) {
    if (!Number.isInteger(dim) || dim <= 0) throw new InputError(opts.source, `vector dimension must be a positive integer, got ${dim}`);
    if (vectors.length % dim !== 0) {
      throw new InputError(opts.source, `${vectors.length} values do not split into rows of dim ${dim}`);
    }
    const rows = vectors.length / dim;
    if (meta.numCols() > 0 && meta.numRows() !== rows) {
      throw new InputError(opts.source, `metadata has ${meta.numRows()} rows but there are ${rows} vectors`);
    }
    this.vectors = vectors;
    this.dim = dim;
    this.meta = meta.numCols() > 0 ? meta : aq.table({ row: Int32Array.from({ length: rows }, (_, i) => i) });
    this.vectorName = opts.vectorName ?? "vector";
    this.source = opts.source;
  }

  get numRows(): number {
    return this.vectors.length / this.dim;
  }

  /** Metadata column names. */
  get columns(): string[] {
    return this.meta.columnNames();
  }

  /** A metadata column as an array. */
  column(name: string): ArrayLike<unknown> {
    if (!this.meta.columnNames().includes(name)) {
      throw new InputError(this.source, `no metadata column '${name}'; columns: ${this.columns.join(", ")}`);
    }
    return this.columnValues(name);
  }

  /** A column's values, keeping typed arrays typed. */
  private columnValues(name: string): ArrayLike<unknown> {
    const col = this.meta.column(name) as unknown;
    return ArrayBuffer.isView(col) ? (col as unknown as ArrayLike<unknown>) : (this.meta.array(name) as ArrayLike<unknown>);
  }

  /** Vector i as a view (no copy). */
  row(i: number): Float32Array {
    return this.vectors.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** All vectors as a [numRows, dim] tensor. */
  toTensor(): tf.Tensor2D {
    assertReady("toTensor()");
    return tf.tensor2d(this.vectors, [this.numRows, this.dim]);
  }

  /** Rows [start, end) as a [n, dim] tensor. */
  sliceTensor(start: number, end: number): tf.Tensor2D {
    assertReady("sliceTensor()");
    return tf.tensor2d(this.vectors.subarray(start * this.dim, end * this.dim), [end - start, this.dim]);
  }

  /** The rows at the given indices, in that order (vectors and metadata together). */
  take(indices: ArrayLike<number>): ActivationSet {
    const out = new Float32Array(indices.length * this.dim);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!(i >= 0 && i < this.numRows)) throw new RangeError(`featurelab: row ${i} out of range 0..${this.numRows - 1}`);
      out.set(this.row(i), k * this.dim);
    }
    const cols: Record<string, ArrayLike<unknown>> = {};
    for (const name of this.columns) {
      const src = this.columnValues(name);
      const Typed = ArrayBuffer.isView(src) ? (src.constructor as new (n: number) => any) : undefined;
      if (Typed) {
        const out = new Typed(indices.length);
        for (let k = 0; k < indices.length; k++) out[k] = src[indices[k]];
        cols[name] = out;
      } else {
        cols[name] = Array.from(indices, (i) => src[i]);
      }
    }
    return new ActivationSet(out, this.dim, aq.table(cols as any), { vectorName: this.vectorName, source: this.source });
  }

  /**
   * Keep the rows whose metadata satisfies an arquero predicate, e.g. `d => d.split === "train"`.
   * Outside values go in through `params` (`(d, $) => d.doc < $.n` with `{ n: 10 }`), as in arquero.
   */
  filter(predicate: string | ((d: any, $: any) => unknown), params?: Record<string, unknown>): ActivationSet {
    const indexed = this.withRowIndex();
    const kept = (params ? indexed.params(params) : indexed).filter(predicate as any);
    return this.take(kept.array(ROW_INDEX) as ArrayLike<number>);
  }

  /** The first n rows. */
  head(n: number): ActivationSet {
    return this.take(Int32Array.from({ length: Math.min(n, this.numRows) }, (_, i) => i));
  }

  private withRowIndex(): ColumnTable {
    return this.meta.assign({ [ROW_INDEX]: Int32Array.from({ length: this.numRows }, (_, i) => i) });
  }

  /** The set as an Apache Arrow table: metadata columns + a FixedSizeList<Float32> vector column. */
  toArrow(): Table {
    const arrays: Record<string, any> = {};
    for (const name of this.columns) arrays[name] = toArrowFriendly(this.columnValues(name));
    const base = tableFromArrays(arrays);
    const listType = new FixedSizeList(this.dim, new Field("item", new Float32(), false));
    const child = makeData({ type: new Float32(), length: this.vectors.length, data: this.vectors });
    const vec: Vector = makeVector(makeData({ type: listType, length: this.numRows, nullCount: 0, child }));
    return base.assign(new Table({ [this.vectorName]: vec }));
  }

  /** Write the set to an Arrow IPC file (.arrow / .feather v2), atomically. */
  write(path: string): void {
    const bytes = tableToIPC(this.toArrow(), "file");
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }

  toString(): string {
    return `ActivationSet(${this.numRows} rows × ${this.dim}, metadata: ${this.columns.join(", ")})`;
  }
}

const ROW_INDEX = "__featurelab_row";

function toArrowFriendly(values: ArrayLike<unknown>): unknown {
  if (ArrayBuffer.isView(values)) return values;
  const arr = Array.from(values);
  if (arr.every((v) => typeof v === "number")) return Float64Array.from(arr as number[]);
  if (arr.every((v) => typeof v === "bigint")) return BigInt64Array.from(arr as bigint[]);
  return arr.map((v) => (v === undefined || v === null ? null : typeof v === "string" ? v : String(v)));
}

/**
 * Build an ActivationSet from a flat Float32Array of numRows × dim values and optional metadata
 * columns (each of length numRows).
 */
export function fromVectors(data: Float32Array | ArrayLike<number>, dim: number, metadata: Metadata = {}): ActivationSet {
  const vectors = data instanceof Float32Array ? data : Float32Array.from(data);
  if (!Number.isInteger(dim) || dim <= 0) throw new InputError(undefined, `fromVectors: dim must be a positive integer, got ${dim}`);
  if (vectors.length % dim !== 0) {
    throw new InputError(undefined, `fromVectors: ${vectors.length} values do not split into rows of dim ${dim}`);
  }
  const rows = vectors.length / dim;
  const cols: Record<string, ArrayLike<unknown>> = {};
  for (const [name, col] of Object.entries(metadata)) {
    if (col == null || typeof col.length !== "number") {
      throw new InputError(undefined, `fromVectors: metadata column '${name}' is not an array`);
    }
    if (col.length !== rows) {
      throw new InputError(undefined, `fromVectors: metadata column '${name}' has ${col.length} values, expected ${rows} (one per vector)`);
    }
    cols[name] = col;
  }
  return new ActivationSet(vectors, dim, aq.table(cols as any));
}
