// fl.load(path, opts) → ActivationSet, from Arrow IPC (file or stream), Parquet (a file or a folder
// of shards), .npy, .npz and .safetensors, with metadata from the file itself or a CSV/JSON table.
import { readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import * as aq from "arquero";
import { ready } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { readNpy } from "../io/npy.js";
import { readNpz } from "../io/npz.js";
import { readSafetensors } from "../io/safetensors.js";
import { toFloat32, type NdArray } from "../io/ndarray.js";
import { concatColumn, listParquetShards, readParquet } from "../io/parquet.js";
import { isRemote, listRemoteShards } from "../io/byte-source.js";
import { uninitialisedFloat32 } from "../engine/native.js";
import { ActivationSet, type Metadata } from "./activation-set.js";
import { fromArrowBytes } from "./arrow.js";
import { applyNonFinite, type NonFinitePolicy } from "./finite.js";

/** Options of `load`. */
export interface LoadOptions {
  /** The vector column (Arrow, Parquet) or array/tensor name (.npz, .safetensors); found when there is one. */
  vector?: string;
  /** A CSV or JSON table (path) or columns, one row per vector, joined to the vectors row by row. */
  metadata?: string | Metadata;
  /** Rows with NaN/±Inf: "error" (default: refuse, saying how many and the first), "drop", or "keep". */
  nonFinite?: NonFinitePolicy;
}

const LOAD_OPTIONS = optionNames<LoadOptions>({ vector: true, metadata: true, nonFinite: true });

const ARROW = new Set([".arrow", ".feather", ".ipc", ".arrows"]);

/**
 * Read activations into memory from an Arrow IPC file or stream (`.arrow`, `.feather`), Parquet (a file or a
 * folder of shards), `.npy`, `.npz` or `.safetensors` (`[N, d]`, or `[N, seq, d]` flattened with
 * `document`/`position` columns). float16, bfloat16 and float64 become float32. Throws an `InputError` naming
 * the file for a missing, truncated or corrupt file, a missing vector column, or (by default) NaN/±Inf.
 *
 * @example
 * const acts = await fl.load("resid.arrow", { vector: "resid" });
 * const labelled = await fl.load("acts.npy", { metadata: "labels.csv" });
 */
export async function load(path: string, opts: LoadOptions = {}): Promise<ActivationSet> {
  rejectUnknownOptions("load", opts, LOAD_OPTIONS);
  await ready();
  let acts = await readAny(path, opts);
  if (opts.metadata !== undefined) acts = await joinMetadata(acts, opts.metadata, path);
  return applyNonFinite(acts, opts.nonFinite ?? "error");
}

async function readAny(path: string, opts: LoadOptions): Promise<ActivationSet> {
  if (isRemote(path)) {
    // Remote: a Parquet file by byte ranges, or an hf:// folder of shards.
    if (path.toLowerCase().endsWith(".parquet")) return parquetSet(path, await readShards([path], opts.vector), opts.vector);
    return parquetSet(path, await readShards(await listRemoteShards(path), opts.vector), opts.vector);
  }
  const st = statOrThrow(path);
  const ext = extname(path).toLowerCase();
  if (st.isDirectory()) {
    const shards = await listParquetShards(path);
    return parquetSet(path, await readShards(shards, opts.vector), opts.vector);
  }
  if (st.size === 0) throw new InputError(path, "is empty (0 bytes)");
  if (ext === ".parquet") return parquetSet(path, await readShards([path], opts.vector), opts.vector);
  if (ARROW.has(ext)) return fromArrowBytes(readFileSync(path), path, opts);
  if (ext === ".npy") return fromArrays({ array: readNpy(readFileSync(path), path) }, path, "array");
  if (ext === ".npz") return fromArrays(readNpz(readFileSync(path), path), path, opts.vector);
  if (ext === ".safetensors") return fromArrays(readSafetensors(readFileSync(path), path).tensors, path, opts.vector);
  throw new InputError(path, `unsupported file type '${ext || "(none)"}'; featurelab reads .arrow/.feather, .parquet (or a folder of them), .npy, .npz and .safetensors`);
}

function statOrThrow(path: string) {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === "ENOENT" ? "no such file" : `cannot read (${code ?? (err as Error).message})`);
  }
}

async function readShards(shards: string[], vector: string | undefined) {
  const parts = [];
  for (const s of shards) parts.push(await readParquet(s, { vector }));
  const dim = parts[0].dim;
  const bad = parts.findIndex((p) => p.dim !== dim);
  if (bad >= 0) throw new InputError(shards[bad], `vectors have dim ${parts[bad].dim}, but ${shards[0]} has dim ${dim}`);
  if (parts.length === 1) return parts[0];
  const vectors = uninitialisedFloat32(parts.reduce((n, p) => n + p.vectors.length, 0));
  let off = 0;
  for (const p of parts) {
    vectors.set(p.vectors, off);
    off += p.vectors.length;
  }
  const metadata: Record<string, ArrayLike<unknown>> = {};
  for (const name of Object.keys(parts[0].metadata)) metadata[name] = concatColumn(parts.map((p) => p.metadata[name] ?? []), parts.reduce((n, p) => n + p.numRows, 0));
  return { vectors, dim, metadata };
}

function parquetSet(path: string, t: { vectors: Float32Array; dim: number; metadata: Record<string, ArrayLike<unknown>> }, vector?: string) {
  return new ActivationSet(t.vectors, t.dim, aq.table(t.metadata as any), { vectorName: vector ?? "vector", source: path });
}

/**
 * Arrays of a .npy/.npz/.safetensors file: the vector array is [N, d] or [N, seq, d] (rows are then
 * (document, position) pairs); 1-D arrays of length N (or N·seq) become metadata columns.
 */
function fromArrays(arrays: Record<string, NdArray>, file: string, vector: string | undefined): ActivationSet {
  const names = Object.keys(arrays);
  const isFloat = (a: NdArray) => a.dtype.startsWith("float") || a.dtype === "bfloat16";
  const describe = () => names.map((n) => `${n}: ${arrays[n].dtype}[${arrays[n].shape.join(", ")}]`).join(", ");
  if (vector === undefined) {
    const candidates = names.filter((n) => isFloat(arrays[n]) && (arrays[n].shape.length === 2 || arrays[n].shape.length === 3));
    if (candidates.length !== 1) {
      throw new InputError(file, candidates.length === 0 ? `has no float array of shape [N, d] or [N, seq, d]; arrays: ${describe()}` : `has several vector arrays (${candidates.join(", ")}); pass { vector: "<name>" }`);
    }
    vector = candidates[0];
  }
  const arr = arrays[vector];
  if (!arr) throw new InputError(file, `no array '${vector}'; arrays: ${describe()}`);
  if (!isFloat(arr)) throw new InputError(file, `array '${vector}' has dtype ${arr.dtype}; vectors must be float16, bfloat16, float32 or float64`);
  if (arr.shape.length !== 2 && arr.shape.length !== 3) {
    throw new InputError(file, `array '${vector}' has shape [${arr.shape.join(", ")}]; expected [N, d] or [N, seq, d]`);
  }
  const dim = arr.shape[arr.shape.length - 1];
  // with dim ≥ 1, rows ≤ the values the file holds: a shape like [2^32, 2^32, 0] cannot size the metadata
  if (dim === 0) throw new InputError(file, `array '${vector}' has shape [${arr.shape.join(", ")}]: its vectors are empty`);
  const rows = arr.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const meta: Metadata = {};
  if (arr.shape.length === 3) {
    const seq = arr.shape[1];
    meta.document = Int32Array.from({ length: rows }, (_, i) => Math.floor(i / seq));
    meta.position = Int32Array.from({ length: rows }, (_, i) => i % seq);
  }
  for (const name of names) {
    const a = arrays[name];
    if (name === vector || a.shape.length !== 1 || a.shape[0] !== rows) continue;
    meta[name] = a.dtype === "float16" || a.dtype === "bfloat16" ? toFloat32(a) : (a.data as ArrayLike<unknown>);
  }
  return new ActivationSet(toFloat32(arr), dim, aq.table(meta as any), { vectorName: vector, source: file });
}

async function joinMetadata(acts: ActivationSet, metadata: string | Metadata, file: string): Promise<ActivationSet> {
  let table: aq.ColumnTable;
  let where = "metadata";
  if (typeof metadata === "string") {
    where = metadata;
    const text = (() => {
      try {
        return readFileSync(metadata, "utf8");
      } catch (err) {
        throw new InputError(metadata, (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message);
      }
    })();
    const ext = extname(metadata).toLowerCase();
    try {
      table = ext === ".json" ? aq.fromJSON(text) : ext === ".csv" || ext === ".tsv" ? aq.fromCSV(text, ext === ".tsv" ? { delimiter: "\t" } : {}) : (() => {
        throw new Error(`unsupported metadata file type '${ext}'; use .csv, .tsv or .json`);
      })();
    } catch (err) {
      throw new InputError(metadata, `cannot parse as a table (${(err as Error).message.split("\n")[0]})`);
    }
  } else {
    table = aq.table(metadata as any);
  }
  if (table.numRows() !== acts.numRows) {
    throw new InputError(where, `has ${table.numRows()} rows, but ${file} has ${acts.numRows} vectors (metadata joins row by row)`);
  }
  const cols: Metadata = {};
  for (const c of acts.columns) cols[c] = acts.column(c);
  for (const c of table.columnNames()) cols[c] = table.array(c) as ArrayLike<unknown>;
  return new ActivationSet(acts.vectors, acts.dim, aq.table(cols as any), { vectorName: acts.vectorName, source: acts.source });
}
