// fl.load(path, { vector }) → ActivationSet. Reads Arrow IPC (file or stream; .arrow, .feather v2).
import { readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import * as aq from "arquero";
import { tableFromIPC, Table, Type, DataType } from "apache-arrow";
import { ready } from "../engine/backend.js";
import { ActivationSet } from "./activation-set.js";
import { InputError } from "../io/errors.js";

export interface LoadOptions {
  /** Name of the vector column (FixedSizeList of floats). Found automatically when there is one. */
  vector?: string;
}

const ARROW_EXTENSIONS = new Set([".arrow", ".feather", ".ipc", ".arrows"]);

export async function load(path: string, opts: LoadOptions = {}): Promise<ActivationSet> {
  await ready();
  const ext = extname(path).toLowerCase();
  const bytes = readInput(path);
  if (ARROW_EXTENSIONS.has(ext)) return fromArrowBytes(bytes, path, opts);
  throw new InputError(path, `unsupported file type '${ext || "(none)"}'; featurelab reads Arrow IPC files (.arrow, .feather)`);
}

function readInput(path: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(path, "is a folder, expected a file");
    size = st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === "ENOENT" ? "no such file" : `cannot read (${code ?? (err as Error).message})`);
  }
  if (size === 0) throw new InputError(path, "is empty (0 bytes)");
  return readFileSync(path);
}

/** Arrow IPC bytes → ActivationSet, with the file named in every error. */
export function fromArrowBytes(bytes: Uint8Array, file: string, opts: LoadOptions = {}): ActivationSet {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new InputError(file, `is not a valid Arrow IPC file or stream (${(err as Error).message.split("\n")[0]})`);
  }
  if (table.schema.fields.length === 0) throw new InputError(file, "is not a valid Arrow IPC file or stream (no schema found)");
  return fromArrowTable(table, file, opts);
}

export function fromArrowTable(table: Table, file: string | undefined, opts: LoadOptions = {}): ActivationSet {
  const fields = table.schema.fields;
  const describe = () => fields.map((f) => `${f.name}: ${f.type}`).join(", ");
  const vectorName = opts.vector ?? pickVectorColumn(table, file);
  const field = fields.find((f) => f.name === vectorName);
  if (!field) throw new InputError(file, `no column '${vectorName}'; columns: ${describe()}`);
  if (!DataType.isFixedSizeList(field.type) || !DataType.isFloat(field.type.children[0].type)) {
    throw new InputError(file, `column '${vectorName}' is ${field.type}, expected FixedSizeList<Float32> (a fixed-length float vector per row)`);
  }
  const dim = field.type.listSize;
  const column = table.getChild(vectorName)!;
  if (column.nullCount > 0) throw new InputError(file, `column '${vectorName}' has ${column.nullCount} null rows`);
  const vectors = flattenFloatList(column.data, dim, table.numRows);
  const meta: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.name === vectorName) continue;
    meta[f.name] = toPlainColumn(table.getChild(f.name)!.toArray());
  }
  return new ActivationSet(vectors, dim, aq.table(meta as any), { vectorName, source: file });
}

function pickVectorColumn(table: Table, file: string | undefined): string {
  const candidates = table.schema.fields.filter((f) => DataType.isFixedSizeList(f.type) && DataType.isFloat(f.type.children[0].type));
  if (candidates.length === 1) return candidates[0].name;
  const cols = table.schema.fields.map((f) => `${f.name}: ${f.type}`).join(", ");
  if (candidates.length === 0) throw new InputError(file, `has no vector column (FixedSizeList of floats); columns: ${cols}`);
  throw new InputError(file, `has several vector columns (${candidates.map((c) => c.name).join(", ")}); pass { vector: "<name>" }`);
}

/** One Float32Array for all chunks; zero-copy when the file holds a single Float32 chunk. */
function flattenFloatList(chunks: readonly any[], dim: number, numRows: number): Float32Array {
  const single = chunks.length === 1 ? chunks[0] : undefined;
  if (single && single.offset === 0 && single.children[0].type.typeId === Type.Float && single.children[0].values instanceof Float32Array) {
    const values: Float32Array = single.children[0].values;
    const start = single.children[0].offset;
    return values.subarray(start, start + numRows * dim);
  }
  const out = new Float32Array(numRows * dim);
  let row = 0;
  for (const data of chunks) {
    const child = data.children[0];
    const values = child.values as ArrayLike<number>;
    const from = (child.offset + data.offset * dim);
    const n = data.length * dim;
    const isHalf = child.type.precision === 0; // Float16: raw uint16 bits
    for (let i = 0; i < n; i++) out[row * dim + i] = isHalf ? halfToFloat(values[from + i]) : values[from + i];
    row += data.length;
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function toPlainColumn(values: any): unknown {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    return Float64Array.from(values as any, (v: bigint) => Number(v));
  }
  return values;
}
