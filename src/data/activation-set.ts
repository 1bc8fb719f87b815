// An ActivationSet is an Arrow-shaped table: metadata columns (held by arquero) plus one vector
// column, FixedSizeList<Float32>[dim], held as one contiguous Float32Array so tensors and batches
// are views, not copies.
import { writeFileAtomic } from "../io/atomic-write.js";
import * as aq from "arquero";
import { FixedSizeList, Field, Float32, makeData, makeVector, Table, tableFromArrays, Vector, tableToIPC } from "apache-arrow";
import { extname } from "node:path";
import { writeParquet } from "../io/parquet.js";
import { tf, ensureEngine, ready } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { groupRows, sampleGroups, splitRows } from "./row-groups.js";
import { applyNonFinite, type NonFinitePolicy } from "./finite.js";

/** Metadata columns by name, each one value per row (an array or typed array of length numRows). */
export type Metadata = Record<string, ArrayLike<unknown>>;
type ColumnTable = aq.ColumnTable;

/** The scale `normalize()` applied, recorded so a dictionary can fold it into its weights at save. */
export interface Normalization {
  method: "expected_average_only_in";
  /** Vectors were multiplied by this. */
  scale: number;
}

interface SetOptions {
  vectorName?: string;
  source?: string;
  normalization?: Normalization;
}

const SET_OPTIONS = optionNames<SetOptions>({ vectorName: true, source: true, normalization: true });
interface SampleOptions {
  seed?: number;
  replace?: boolean;
}
const SAMPLE_OPTIONS = optionNames<SampleOptions>({ seed: true, replace: true });
interface SplitOptions {
  by?: string;
  fraction?: number;
  seed?: number;
  groups?: string;
}
const SPLIT_OPTIONS = optionNames<SplitOptions>({ by: true, fraction: true, seed: true, groups: true });
interface BatchOptions {
  size?: number;
  shuffle?: boolean;
  seed?: number;
}
const BATCH_OPTIONS = optionNames<BatchOptions>({ size: true, shuffle: true, seed: true });

/**
 * Activations in memory: numRows vectors of width `dim` in one contiguous Float32Array, with a
 * metadata table (arquero) of one row per vector. Verbs return new sets sharing what they can.
 *
 * @example
 * const acts = await fl.load("resid.arrow", { vector: "resid" });
 * const train = acts.filter((d) => d.split === "train").normalize();
 * fl.show(train);                     // schema, size, a preview with vector norms
 */
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
  /** The scale applied by normalize(), if any (a dictionary folds it into its weights at save). */
  readonly normalization: Normalization | undefined;

  constructor(vectors: Float32Array, dim: number, meta: ColumnTable, opts: SetOptions = {}) {
    rejectUnknownOptions("ActivationSet", opts, SET_OPTIONS);
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
    this.normalization = opts.normalization;
  }

  /** Number of rows (vectors). */
  get numRows(): number {
    return this.vectors.length / this.dim;
  }

  /** Metadata column names. */
  get columns(): string[] {
    return this.meta.columnNames();
  }

  /**
   * A metadata column as an array.
   * @example
   * const docs = acts.column("document");   // one value per row
   */
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

  /**
   * Vector i as a view (no copy).
   * @example
   * const v = acts.row(0);                  // Float32Array of length acts.dim
   */
  row(i: number): Float32Array {
    return this.vectors.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /**
   * All vectors as a [numRows, dim] tensor.
   * @example
   * const x = acts.toTensor();              // [acts.numRows, acts.dim]; x.dispose() when done
   */
  toTensor(): tf.Tensor2D {
    ensureEngine();
    return tf.tensor2d(this.vectors, [this.numRows, this.dim]);
  }

  /**
   * Rows [start, end) as a [n, dim] tensor.
   * @example
   * const first = acts.sliceTensor(0, 128); // rows 0–127 as [128, dim]
   */
  sliceTensor(start: number, end: number): tf.Tensor2D {
    ensureEngine();
    return tf.tensor2d(this.vectors.subarray(start * this.dim, end * this.dim), [end - start, this.dim]);
  }

  /**
   * The rows at the given indices, in that order (vectors and metadata together).
   * @example
   * const some = acts.take([5, 2, 9]);      // rows 5, 2, 9 in that order
   */
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
    return new ActivationSet(out, this.dim, aq.table(cols as any), this.options());
  }

  /**
   * Keep the rows whose metadata satisfies an arquero predicate, e.g. `d => d.split === "train"`.
   * Outside values go in through `params` (`(d, $) => d.doc < $.n` with `{ n: 10 }`), as in arquero.
   * @example
   * const train = acts.filter((d) => d.split === "train");
   * const early = acts.filter((d, $) => d.position < $.n, { n: 16 });
   */
  filter(predicate: string | ((d: any, $: any) => unknown), params?: Record<string, unknown>): ActivationSet {
    const indexed = this.withRowIndex();
    const kept = (params ? indexed.params(params) : indexed).filter(predicate as any);
    return this.take(kept.array(ROW_INDEX) as ArrayLike<number>);
  }

  /**
   * The first n rows.
   * @example
   * fl.show(acts.head(10));
   */
  head(n: number): ActivationSet {
    return this.take(Int32Array.from({ length: Math.min(n, this.numRows) }, (_, i) => i));
  }

  /**
   * Keep only some metadata columns (the vectors stay).
   * @example
   * const slim = acts.select("document", "position");
   */
  select(...columns: string[]): ActivationSet {
    for (const c of columns) this.column(c); // names the missing one
    return this.withMeta(this.meta.select(...columns));
  }

  /**
   * Add or replace metadata columns computed by arquero expressions, e.g. `{ first: d => d.pos === 0 }`.
   * @example
   * const tagged = acts.derive({ first: (d) => d.position === 0 });
   */
  derive(values: Record<string, string | ((d: any, $: any) => unknown)>, params?: Record<string, unknown>): ActivationSet {
    const meta = params ? this.meta.params(params) : this.meta;
    return this.withMeta(meta.derive(values as any));
  }

  /**
   * Rows sorted by metadata keys (arquero's orderby: names, `aq.desc("x")`, or expressions).
   * @example
   * const sorted = acts.orderby("document", "position");
   */
  orderby(...keys: unknown[]): ActivationSet {
    const sorted = this.withRowIndex().orderby(...(keys as any[]));
    return this.take(sorted.array(ROW_INDEX) as ArrayLike<number>);
  }

  /**
   * Group rows by metadata columns, then `.sample(n, { seed })` per group.
   * @example
   * const perDoc = acts.groupby("document").sample(4, { seed: 0 });
   */
  groupby(...columns: string[]): GroupedActivationSet {
    return new GroupedActivationSet(this, columns);
  }

  /**
   * n rows drawn at random (seeded), without replacement unless asked.
   * @example
   * const small = acts.sample(1000, { seed: 0 });
   */
  sample(n: number, opts: SampleOptions = {}): ActivationSet {
    rejectUnknownOptions("ActivationSet.sample", opts, SAMPLE_OPTIONS);
    return this.take(sampleGroups([Array.from({ length: this.numRows }, (_, i) => i)], n, opts));
  }

  /**
   * Split the rows: `{ by: "split" }` → one set per value of that column; `{ fraction: 0.8, seed }` →
   * `{ train, test }` at random, with `groups: "document"` keeping each document on one side.
   * @example
   * const { train, test } = acts.split({ fraction: 0.8, seed: 0, groups: "document" });
   * const byLabel = acts.split({ by: "label" });   // { [value]: ActivationSet }
   */
  split(opts: { by: string }): Record<string, ActivationSet>;
  split(opts: { fraction: number; seed?: number; groups?: string }): { train: ActivationSet; test: ActivationSet };
  split(opts: SplitOptions): Record<string, ActivationSet> {
    rejectUnknownOptions("ActivationSet.split", opts, SPLIT_OPTIONS);
    if (opts.by !== undefined) {
      const out: Record<string, ActivationSet> = {};
      for (const rows of groupRows([this.column(opts.by)], this.numRows).values()) {
        out[String(this.column(opts.by)[rows[0]])] = this.take(rows);
      }
      return out;
    }
    if (opts.fraction === undefined) throw new Error("featurelab: split needs { by: column } or { fraction, seed }");
    const groups = opts.groups === undefined ? undefined : [...groupRows([this.column(opts.groups)], this.numRows).values()];
    const [a, b] = splitRows(this.numRows, opts.fraction, opts.seed ?? 0, groups);
    return { train: this.take(a), test: this.take(b) };
  }

  /**
   * Scale every vector by one factor so the mean norm becomes √dim (SAELens'
   * "expected_average_only_in"); pass `{ scale }` to apply a factor found on other data (e.g. the
   * training set). The factor is recorded in `.normalization` so a dictionary can fold it in at save.
   * @example
   * const train = split.train.normalize();
   * const test = split.test.normalize({ scale: train.normalization!.scale });
   */
  normalize(opts: { scale?: number } = {}): ActivationSet {
    rejectUnknownOptions("ActivationSet.normalize", opts, optionNames<typeof opts>({ scale: true }));
    let scale = opts.scale;
    if (scale === undefined) {
      let total = 0;
      for (let r = 0; r < this.numRows; r++) {
        const v = this.row(r);
        let s = 0;
        for (let j = 0; j < this.dim; j++) s += v[j] * v[j];
        total += Math.sqrt(s);
      }
      const meanNorm = total / this.numRows;
      if (!(meanNorm > 0)) throw new InputError(this.source, "cannot normalise: every vector is zero");
      scale = Math.sqrt(this.dim) / meanNorm;
    }
    const out = new Float32Array(this.vectors.length);
    for (let i = 0; i < out.length; i++) out[i] = this.vectors[i] * scale;
    const prior = this.normalization?.scale ?? 1;
    return new ActivationSet(out, this.dim, this.meta, { ...this.options(), normalization: { method: "expected_average_only_in", scale: prior * scale } });
  }

  /**
   * Rows as host batches of `size` rows (the last one may be smaller), shuffled when asked.
   * @example
   * for (const { vectors, rows } of acts.rowBatches({ size: 256 })) console.log(rows, vectors.length);
   */
  rowBatches(opts: BatchOptions & { size: number }): Generator<{ vectors: Float32Array; rows: number }> {
    rejectUnknownOptions("ActivationSet.rowBatches", opts, BATCH_OPTIONS);
    return this.hostBatches(opts);
  }

  private *hostBatches(opts: BatchOptions & { size: number }): Generator<{ vectors: Float32Array; rows: number }> {
    const order = opts.shuffle ? new Rng(opts.seed ?? 0).permutation(this.numRows) : undefined;
    for (let start = 0; start < this.numRows; start += opts.size) {
      const end = Math.min(this.numRows, start + opts.size);
      if (!order) {
        yield { vectors: this.vectors.subarray(start * this.dim, end * this.dim), rows: end - start };
        continue;
      }
      const out = new Float32Array((end - start) * this.dim);
      for (let k = start; k < end; k++) out.set(this.row(order[k]), (k - start) * this.dim);
      yield { vectors: out, rows: end - start };
    }
  }

  /**
   * One pass over the rows as [size, dim] tensors (dispose each when done), shuffled when asked.
   * @example
   * for await (const x of acts.batches({ size: 1024, shuffle: true, seed: 0 })) {
   *   // x: [1024, dim] tensor
   *   x.dispose();
   * }
   */
  batches(opts: BatchOptions = {}): AsyncGenerator<tf.Tensor2D> {
    rejectUnknownOptions("ActivationSet.batches", opts, BATCH_OPTIONS);
    return this.tensorBatches({ ...opts, size: opts.size ?? 1024 });
  }

  private async *tensorBatches(opts: BatchOptions & { size: number }): AsyncGenerator<tf.Tensor2D> {
    await ready();
    for (const b of this.hostBatches(opts)) yield tf.tensor2d(b.vectors, [b.rows, this.dim]);
  }

  /**
   * Metadata columns and their types, then the vector column.
   * @example
   * console.table(acts.schema());
   */
  schema(): { name: string; type: string }[] {
    const cols = this.columns.map((name) => ({ name, type: describeColumn(this.columnValues(name)) }));
    return [...cols, { name: this.vectorName, type: `FixedSizeList<Float32>[${this.dim}]` }];
  }

  private options() {
    return { vectorName: this.vectorName, source: this.source, normalization: this.normalization };
  }

  private withMeta(meta: ColumnTable): ActivationSet {
    return new ActivationSet(this.vectors, this.dim, meta, this.options());
  }

  private withRowIndex(): ColumnTable {
    return this.meta.assign({ [ROW_INDEX]: Int32Array.from({ length: this.numRows }, (_, i) => i) });
  }

  /**
   * The set as an Apache Arrow table: metadata columns + a FixedSizeList<Float32> vector column.
   * @example
   * const table = acts.toArrow();           // apache-arrow Table
   */
  toArrow(): Table {
    const arrays: Record<string, any> = {};
    for (const name of this.columns) arrays[name] = toArrowFriendly(this.columnValues(name));
    const base = tableFromArrays(arrays);
    const listType = new FixedSizeList(this.dim, new Field("item", new Float32(), false));
    const child = makeData({ type: new Float32(), length: this.vectors.length, data: this.vectors });
    const vec: Vector = makeVector(makeData({ type: listType, length: this.numRows, nullCount: 0, child }));
    return base.assign(new Table({ [this.vectorName]: vec }));
  }

  /**
   * Write the set to an Arrow IPC file (.arrow, .feather) or Parquet (.parquet), atomically.
   * @example
   * await acts.write("out/resid.parquet");
   */
  async write(path: string): Promise<void> {
    const ext = extname(path).toLowerCase();
    if (ext === ".parquet") {
      const metadata: Metadata = {};
      for (const c of this.columns) metadata[c] = this.columnValues(c);
      await writeParquet(path, { vectors: this.vectors, dim: this.dim, vectorName: this.vectorName, metadata });
      return;
    }
    if (![".arrow", ".feather", ".ipc"].includes(ext)) {
      throw new InputError(path, `cannot write '${ext || "(no extension)"}': use .arrow / .feather (Arrow IPC) or .parquet`);
    }
    writeFileAtomic(path, tableToIPC(this.toArrow(), "file"));
  }

  /** "ActivationSet(N rows × dim, metadata: …)". */
  toString(): string {
    return `ActivationSet(${this.numRows} rows × ${this.dim}, metadata: ${this.columns.join(", ")})`;
  }
}

const ROW_INDEX = "__featurelab_row";

/** Rows grouped by metadata keys; sample within each group. */
export class GroupedActivationSet {
  constructor(
    readonly set: ActivationSet,
    readonly keys: string[],
  ) {
    for (const k of keys) set.column(k);
  }

  /**
   * n rows of every group (all of a smaller group), seeded.
   * @example
   * const balanced = acts.groupby("label").sample(100, { seed: 0 });
   */
  sample(n: number, opts: SampleOptions = {}): ActivationSet {
    rejectUnknownOptions("GroupedActivationSet.sample", opts, SAMPLE_OPTIONS);
    const groups = groupRows(this.keys.map((k) => this.set.column(k)), this.set.numRows);
    return this.set.take(sampleGroups(groups.values(), n, opts));
  }

  /**
   * Number of rows in each group, as records.
   * @example
   * console.table(acts.groupby("label").counts());
   */
  counts(): Record<string, unknown>[] {
    const cols = this.keys.map((k) => this.set.column(k));
    return [...groupRows(cols, this.set.numRows).values()].map((rows) => ({
      ...Object.fromEntries(this.keys.map((k, j) => [k, cols[j][rows[0]]])),
      rows: rows.length,
    }));
  }
}

function describeColumn(values: ArrayLike<unknown>): string {
  if (ArrayBuffer.isView(values)) return values.constructor.name.replace("Array", "").replace(/^Big/, "");
  const first = Array.from(values).find((v) => v !== null && v !== undefined);
  return first === undefined ? "Null" : typeof first === "string" ? "Utf8" : typeof first === "boolean" ? "Bool" : typeof first === "number" ? "Float64" : typeof first;
}

function toArrowFriendly(values: ArrayLike<unknown>): unknown {
  if (ArrayBuffer.isView(values)) return values;
  const arr = Array.from(values);
  if (arr.every((v) => typeof v === "number")) return Float64Array.from(arr as number[]);
  if (arr.every((v) => typeof v === "bigint")) return BigInt64Array.from(arr as bigint[]);
  return arr.map((v) => (v === undefined || v === null ? null : typeof v === "string" ? v : String(v)));
}

/** Options of `fromVectors`. */
export interface FromVectorsOptions {
  /** Rows holding NaN or ±Inf: refused, naming the row and column (default), dropped, or kept. */
  nonFinite?: NonFinitePolicy;
}

const FROM_VECTORS_OPTIONS = optionNames<FromVectorsOptions>({ nonFinite: true });

/**
 * Build an ActivationSet from a flat Float32Array of numRows × dim values and optional metadata
 * columns (each of length numRows). Rows holding NaN or ±Inf are refused unless `opts.nonFinite` says.
 * @example
 * const acts = fl.fromVectors(new Float32Array([1, 0, 0, 1]), 2, { label: ["a", "b"] });
 * acts.numRows;                            // 2
 */
export function fromVectors(data: Float32Array | ArrayLike<number>, dim: number, metadata: Metadata = {}, opts: FromVectorsOptions = {}): ActivationSet {
  rejectUnknownOptions("fromVectors", opts, FROM_VECTORS_OPTIONS);
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
  return applyNonFinite(new ActivationSet(vectors, dim, aq.table(cols as any)), opts.nonFinite ?? "error", "fromVectors");
}
