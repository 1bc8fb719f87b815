// Activations larger than memory: an Arrow IPC file (random access to its record batches) or
// Parquet shards (row groups), read chunk by chunk. Shuffling permutes the chunk order and mixes rows
// through a bounded buffer, so peak memory depends on the batch and buffer sizes, not the file size.
import { open, stat } from "node:fs/promises";
import { extname } from "node:path";
import { RecordBatchReader, DataType, type AsyncRecordBatchFileReader } from "apache-arrow";
import { tf, ready } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import { checkArrowBatch, checkArrowIpc, checkArrowSchema } from "../io/arrow-ipc.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { listParquetShards, openParquetGroups, parquetInfo, readParquetBatches, type ParquetGroups } from "../io/parquet.js";
import { toFloat32 } from "../io/ndarray.js";
import { readRange } from "../io/read-range.js";
import { isRemote, listRemoteShards } from "../io/byte-source.js";
import { checkPolicy, DROP_HINT, firstNonFinite, nonFiniteRows, type NonFinitePolicy } from "./finite.js";

export interface RowBatch {
  vectors: Float32Array;
  rows: number;
}

/** A sequence of chunks that can be read in any order. */
interface ChunkSource {
  numChunks: number;
  read(i: number): Promise<RowBatch>;
  /** Where chunk i sits, for messages: "record batch 3", "shard-01.parquet row group 2". */
  where(i: number): string;
  close(): Promise<void>;
  /** Chunks read ahead of the one being consumed (default 1; more for remote shards, whose reads wait on the network). */
  readAhead?: number;
}

export interface StreamBatchOptions {
  size: number;
  shuffle?: boolean;
  seed?: number;
  /** Rows held for mixing when shuffling (default 16 × size). */
  bufferRows?: number;
}

const STREAM_BATCH_OPTIONS = optionNames<StreamBatchOptions>({ size: true, shuffle: true, seed: true, bufferRows: true });

/** Options of `open`. */
export interface OpenOptions {
  /** The vector column (default: the only fixed-size-list or list column). */
  vector?: string;
  /**
   * Rows holding NaN or ±Inf, met as they stream: refused, naming the chunk, row and column (default),
   * dropped, or kept. A dropping stream's row count is what the file declares until a pass has counted.
   */
  nonFinite?: NonFinitePolicy;
  /**
   * This worker's share of the data, for N training or caching processes reading one dataset: worker w
   * of `workers` reads the shards of a folder dealt to it round-robin — in the folder's natural order, or
   * in an order permuted by `seed` — and of a single file, its row groups the same way. Every worker
   * computes the same split from (shard index, seed); the shares are disjoint and cover the data.
   */
  worker?: number;
  /** How many workers share the data (with `worker`). */
  workers?: number;
  /** Permutes the shards before dealing them to workers (default: natural order). */
  seed?: number;
}

const OPEN_OPTIONS = optionNames<OpenOptions>({ vector: true, nonFinite: true, worker: true, workers: true, seed: true });

/** Indices 0..n-1 that worker `w` of `workers` takes: dealt round-robin, after a permutation by `seed`. */
export function workerShare(n: number, w: number, workers: number, seed: number | undefined): number[] {
  const order = seed === undefined ? Int32Array.from({ length: n }, (_, i) => i) : new Rng(seed).permutation(n);
  const mine: number[] = [];
  for (let k = w; k < n; k += workers) mine.push(order[k]);
  return mine.sort((a, b) => a - b);
}

function checkShare(path: string, opts: OpenOptions): { w: number; workers: number } | undefined {
  const { worker, workers } = opts;
  if (worker === undefined && workers === undefined) {
    if (opts.seed !== undefined) throw new InputError(path, "open: seed permutes the split between workers; it needs { worker, workers }");
    return undefined;
  }
  if (!Number.isInteger(workers) || workers! < 1) throw new InputError(path, `open: workers must be a positive integer, got ${workers}`);
  if (!Number.isInteger(worker) || worker! < 0 || worker! >= workers!) throw new InputError(path, `open: worker must be an integer from 0 to ${workers! - 1}, got ${worker}`);
  return { w: worker!, workers: workers! };
}

/**
 * Activations read from disk chunk by chunk (Arrow IPC record batches, Parquet row groups), for data larger
 * than memory: `fit` and `metrics` take it in place of an ActivationSet. Made by `fl.open`.
 *
 * @example
 * const stream = await fl.open("shards/", { vector: "resid" });
 * const sae = await fl.dictionary("topk", { width: 4096, k: 32 }).fit(stream, { steps: 10_000 });
 */
export class ActivationStream {
  private constructor(
    readonly source: string,
    readonly dim: number,
    readonly vectorName: string,
    private readonly openChunks: () => Promise<ChunkSource>,
    /** Rows, when the format says so without reading the data (Parquet); else undefined until counted. */
    private rowCount: number | undefined,
    private readonly nonFinite: NonFinitePolicy = "error",
  ) {}

  /**
   * Open an Arrow IPC file, a Parquet file or a folder of Parquet shards for streaming.
   * @example
   * const stream = await fl.ActivationStream.open("resid.arrow");   // the same as fl.open
   */
  static async open(path: string, opts: OpenOptions = {}): Promise<ActivationStream> {
    rejectUnknownOptions("open", opts, OPEN_OPTIONS);
    const nonFinite = opts.nonFinite ?? "error";
    checkPolicy(nonFinite, path);
    await ready();
    const remote = isRemote(path);
    const ext = extname(path).toLowerCase();
    const isFolder = remote ? ext !== ".parquet" : (await stat(path).catch(() => {
      throw new InputError(path, "no such file");
    })).isDirectory();
    const share = checkShare(path, opts);
    if (isFolder || ext === ".parquet") {
      let shards = isFolder ? (remote ? await listRemoteShards(path) : await listParquetShards(path)) : [path];
      if (share && isFolder) {
        if (shards.length < share.workers) throw new InputError(path, `holds ${shards.length} shard${shards.length === 1 ? "" : "s"}, too few for ${share.workers} workers to have one each`);
        shards = workerShare(shards.length, share.w, share.workers, opts.seed).map((i) => shards[i]);
      }
      const infos = await Promise.all(shards.map((s) => parquetInfo(s)));
      let groups = infos.flatMap((info, s) => info.rowGroups.map((_, g) => ({ shard: shards[s], group: g, rows: info.rowGroups[g].numRows })));
      if (share && !isFolder) {
        if (groups.length < share.workers) throw new InputError(path, `holds ${groups.length} row group${groups.length === 1 ? "" : "s"}, too few for ${share.workers} workers to have one each`);
        groups = workerShare(groups.length, share.w, share.workers, opts.seed).map((i) => groups[i]);
      }
      const first = await readParquetBatches(groups[0]?.shard ?? shards[0], { vector: opts.vector, rowGroups: [groups[0]?.group ?? 0] }).next();
      if (first.done) throw new InputError(path, "holds no rows");
      const dim = first.value.dim;
      const chunks = async (): Promise<ChunkSource> => {
        // Each shard opened once per pass (its footer read once), kept until the pass ends.
        const opened = new Map<string, Promise<ParquetGroups>>();
        const shardOf = (shard: string) => {
          if (!opened.has(shard)) {
            const p = openParquetGroups(shard, { vector: opts.vector, columns: [] });
            p.catch(() => {});
            opened.set(shard, p);
          }
          return opened.get(shard)!;
        };
        return {
          numChunks: groups.length,
          readAhead: remote ? 3 : 1,
          async read(i) {
            const { shard, group } = groups[i];
            const b = await (await shardOf(shard)).read(group);
            if (b.numRows === 0) return { vectors: new Float32Array(0), rows: 0 }; // a row group of no rows
            if (b.dim !== dim) throw new InputError(shard, `vectors have dim ${b.dim}, but ${shards[0]} has dim ${dim}`);
            return { vectors: b.vectors, rows: b.numRows };
          },
          where: (i) => `${groups[i].shard === path ? "" : `${groups[i].shard} `}row group ${groups[i].group}`,
          async close() {
            for (const p of opened.values()) await p.then((g) => g.close(), () => {});
          },
        };
      };
      const rows = groups.reduce((n, g) => n + g.rows, 0);
      return new ActivationStream(path, dim, opts.vector ?? "vector", chunks, nonFinite === "drop" ? undefined : rows, nonFinite);
    }
    if (![".arrow", ".feather", ".ipc"].includes(ext)) {
      throw new InputError(path, `cannot stream '${ext}': streaming reads Arrow IPC files (.arrow, .feather) and Parquet files or folders`);
    }
    if (share) throw new InputError(path, "open: { worker, workers } splits Parquet shards or row groups; write the Arrow file as Parquet shards to share it");
    const arrow = await openArrowFile(path);
    const { dim, vectorName } = pickVector(arrow.reader, path, opts.vector);
    await arrow.close();
    return new ActivationStream(path, dim, vectorName, async () => {
      const a = await openArrowFile(path);
      return {
        numChunks: a.reader.numRecordBatches,
        async read(i) {
          const rb = await a.reader.readRecordBatch(i).catch((err: Error) => {
            throw err instanceof InputError ? err : new InputError(path, `record batch ${i} is corrupt (${err.message.split("\n")[0]})`);
          });
          if (!rb) throw new InputError(path, `record batch ${i} is missing or corrupt`);
          checkArrowBatch(rb, i, path);
          return chunkVectors(rb.getChild(vectorName)!.data[0], dim, rb.numRows);
        },
        where: (i) => `record batch ${i}`,
        close: a.close,
      };
    }, undefined, nonFinite);
  }

  /**
   * Number of rows (reads the file once when the format does not record it).
   * @example
   * const n = await stream.count();
   */
  async count(): Promise<number> {
    if (this.rowCount === undefined) {
      let n = 0;
      for await (const b of this.rowBatches({ size: 65536 })) n += b.rows;
      this.rowCount = n;
    }
    return this.rowCount;
  }

  /** Rows, when known without reading (Parquet, or after `count()` or a pass); else undefined. */
  get numRows(): number | undefined {
    return this.rowCount;
  }

  /**
   * One pass over the rows in host batches of `size` rows (the last may be smaller).
   * @example
   * for await (const { vectors, rows } of stream.rowBatches({ size: 4096 })) console.log(rows);
   */
  rowBatches(opts: StreamBatchOptions): AsyncGenerator<RowBatch> {
    rejectUnknownOptions("ActivationStream.rowBatches", opts, STREAM_BATCH_OPTIONS);
    return this.hostBatches(opts);
  }

  private async *hostBatches(opts: StreamBatchOptions): AsyncGenerator<RowBatch> {
    const { size } = opts;
    const src = await this.openChunks();
    try {
      const rng = new Rng(opts.seed ?? 0);
      const order = opts.shuffle ? rng.permutation(src.numChunks) : Int32Array.from({ length: src.numChunks }, (_, i) => i);
      const keep = opts.shuffle ? Math.max(opts.bufferRows ?? 16 * size, size) : 0;
      const pool = new RowPool(this.dim);
      // Chunks read ahead while the current one is consumed (a remote row group's download overlaps training).
      const reads: Promise<RowBatch>[] = [];
      const readUpTo = (k: number) => {
        for (let j = reads.length; j <= Math.min(k, order.length - 1); j++) {
          reads.push(src.read(order[j]));
          reads[j].catch(() => {});
        }
      };
      const depth = src.readAhead ?? 1;
      for (let k = 0; k < order.length; k++) {
        const c = order[k];
        readUpTo(k);
        const current = await reads[k];
        delete reads[k]; // the pass holds only the chunks still ahead
        readUpTo(k + depth); // one read at a time until then: a file reader (Arrow's) may not take two at once
        const next = k + 1 < order.length;
        const chunk = this.finiteRows(current, src.where(c));
        pool.push(chunk.vectors);
        while (pool.rows >= size + keep) {
          // A read ahead makes progress only when the event loop turns (an HTTP body is parsed in JavaScript);
          // a consumer that computes synchronously between batches would otherwise starve it until it waits.
          if (next) await new Promise((r) => setImmediate(r));
          yield pool.take(size, opts.shuffle ? rng : undefined);
        }
      }
      while (pool.rows > 0) yield pool.take(Math.min(size, pool.rows), opts.shuffle ? rng : undefined);
    } finally {
      await src.close();
    }
  }

  /** A chunk as the stream's non-finite policy wants it: refused (naming chunk, row, column), without its bad rows, or as is. */
  private finiteRows(chunk: RowBatch, where: string): RowBatch {
    if (this.nonFinite === "keep") return chunk;
    const bad = nonFiniteRows(chunk.vectors, this.dim);
    if (bad.length === 0) return chunk;
    if (this.nonFinite === "error") {
      const row = bad[0];
      const { column, value } = firstNonFinite(chunk.vectors.subarray(row * this.dim, (row + 1) * this.dim), this.dim)!;
      throw new InputError(this.source, `${where}, row ${row}, column ${column} is ${value} (${bad.length} of ${chunk.rows} rows there hold NaN or ±Inf); ${DROP_HINT}`);
    }
    const kept = new Float32Array((chunk.rows - bad.length) * this.dim);
    let out = 0, b = 0;
    for (let r = 0; r < chunk.rows; r++) {
      if (b < bad.length && bad[b] === r) b++;
      else kept.set(chunk.vectors.subarray(r * this.dim, (r + 1) * this.dim), out++ * this.dim);
    }
    return { vectors: kept, rows: out };
  }

  /**
   * One pass as [size, dim] tensors (dispose each when done).
   * @example
   * for await (const x of stream.batches({ size: 1024, shuffle: true, seed: 0 })) x.dispose();
   */
  batches(opts: Partial<StreamBatchOptions> = {}): AsyncGenerator<tf.Tensor2D> {
    rejectUnknownOptions("ActivationStream.batches", opts, STREAM_BATCH_OPTIONS);
    return this.tensorBatches({ ...opts, size: opts.size ?? 1024 });
  }

  private async *tensorBatches(opts: StreamBatchOptions): AsyncGenerator<tf.Tensor2D> {
    for await (const b of this.hostBatches(opts)) yield tf.tensor2d(b.vectors, [b.rows, this.dim]);
  }

  /** "ActivationStream(path, dim …)". */
  toString(): string {
    return `ActivationStream(${this.source}, dim ${this.dim}${this.rowCount !== undefined ? `, ${this.rowCount} rows` : ""})`;
  }
}

/** Rows waiting to be batched; taken in order, or at random (swap-remove) when shuffling. */
class RowPool {
  private buf = new Float32Array(0);
  rows = 0;
  constructor(private readonly dim: number) {}

  push(v: Float32Array) {
    const need = (this.rows * this.dim) + v.length;
    if (need > this.buf.length) {
      const grown = new Float32Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.rows * this.dim));
      this.buf = grown;
    }
    this.buf.set(v, this.rows * this.dim);
    this.rows += v.length / this.dim;
  }

  take(n: number, rng?: Rng): RowBatch {
    const d = this.dim;
    const out = new Float32Array(n * d);
    if (!rng) {
      out.set(this.buf.subarray(0, n * d));
      this.buf.copyWithin(0, n * d, this.rows * d);
    } else {
      for (let k = 0; k < n; k++) {
        const i = rng.int(this.rows - k);
        const last = this.rows - k - 1;
        out.set(this.buf.subarray(i * d, (i + 1) * d), k * d);
        this.buf.copyWithin(i * d, last * d, (last + 1) * d);
      }
    }
    this.rows -= n;
    return { vectors: out, rows: n };
  }
}

async function openArrowFile(path: string): Promise<{ reader: AsyncRecordBatchFileReader; close: () => Promise<void> }> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    await checkArrowIpc((start, end) => readRange(fh, start, end, size, path), size, path, false);
    const reader = (await RecordBatchReader.from(fh)) as AsyncRecordBatchFileReader;
    await reader.open();
    if (typeof reader.readRecordBatch !== "function" || !reader.schema) throw new Error("not an Arrow IPC file");
    checkArrowSchema(reader.schema, path);
    return { reader, close: () => fh.close() };
  } catch (err) {
    await fh.close();
    if (err instanceof InputError) throw err;
    throw new InputError(path, `is not a readable Arrow IPC file (${(err as Error).message.split("\n")[0]}); streaming needs the IPC file format`);
  }
}

function pickVector(reader: AsyncRecordBatchFileReader, file: string, name?: string): { dim: number; vectorName: string } {
  const fields = reader.schema.fields;
  const vectors = fields.filter((f) => DataType.isFixedSizeList(f.type) && DataType.isFloat(f.type.children[0].type));
  const list = fields.map((f) => `${f.name}: ${f.type}`).join(", ");
  const field = name === undefined ? (vectors.length === 1 ? vectors[0] : undefined) : fields.find((f) => f.name === name);
  if (!field) {
    throw new InputError(file, name === undefined ? `needs exactly one FixedSizeList<Float> vector column to stream; columns: ${list}` : `no column '${name}'; columns: ${list}`);
  }
  if (!vectors.includes(field)) throw new InputError(file, `column '${field.name}' is ${field.type}, expected FixedSizeList<Float32>`);
  const dim = (field.type as any).listSize;
  if (!(dim > 0)) throw new InputError(file, `column '${field.name}' holds vectors of ${dim} values; a vector needs at least one`);
  return { dim, vectorName: field.name };
}

/** A record batch's vectors as float32 (copied, so the batch's buffers can be freed). */
function chunkVectors(data: any, dim: number, rows: number): RowBatch {
  const child = data.children[0];
  const start = child.offset + data.offset * dim;
  const values = child.values.subarray(start, start + rows * dim);
  if (values instanceof Float32Array) return { vectors: values.slice(), rows };
  const dtype = values instanceof Float64Array ? "float64" : "float16"; // Arrow keeps float16 as raw Uint16 bits
  return { vectors: toFloat32({ dtype, shape: [rows, dim], data: values }), rows };
}
