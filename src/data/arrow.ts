// Arrow tables ↔ ActivationSet: the vector column is FixedSizeList<Float> (or a List<Float> whose
// rows all have the same length); every other column is metadata.
import * as aq from "arquero";
import { tableFromIPC, Table, Type, DataType } from "apache-arrow";
import { checkArrowBatch, checkArrowIpc, checkArrowSchema } from "../io/arrow-ipc.js";
import { InputError } from "../io/errors.js";
import { toFloat32 } from "../io/ndarray.js";
import { ActivationSet } from "./activation-set.js";

interface ArrowOptions {
  vector?: string;
}

/** Arrow IPC bytes → ActivationSet, with the file named in every error. */
export async function fromArrowBytes(bytes: Uint8Array, file: string, opts: ArrowOptions = {}): Promise<ActivationSet> {
  await checkArrowIpc((start, end) => bytes.subarray(start, end), bytes.length, file, true);
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new InputError(file, `is not a valid Arrow IPC file or stream (${(err as Error).message.split("\n")[0]})`);
  }
  if (table.schema.fields.length === 0) throw new InputError(file, "is not a valid Arrow IPC file or stream (no schema found)");
  checkArrowSchema(table.schema, file);
  table.batches.forEach((b, i) => checkArrowBatch(b, i, file));
  return fromArrowTable(table, file, opts);
}

export function fromArrowTable(table: Table, file: string | undefined, opts: ArrowOptions = {}): ActivationSet {
  const fields = table.schema.fields;
  const describe = () => fields.map((f) => `${f.name}: ${f.type}`).join(", ");
  const vectorName = opts.vector ?? pickVectorColumn(table, file);
  const field = fields.find((f) => f.name === vectorName);
  if (!field) throw new InputError(file, `no column '${vectorName}'; columns: ${describe()}`);
  if (!isFloatList(field.type)) {
    throw new InputError(file, `column '${vectorName}' is ${field.type}, expected FixedSizeList<Float32> (a fixed-length float vector per row)`);
  }
  const column = table.getChild(vectorName)!;
  if (column.nullCount > 0) throw new InputError(file, `column '${vectorName}' has ${column.nullCount} null rows`);
  const dim = DataType.isFixedSizeList(field.type) ? field.type.listSize : listDim(column.data, vectorName, file);
  if (!(dim > 0)) throw new InputError(file, `column '${vectorName}' holds vectors of ${dim} values; a vector needs at least one`);
  const vectors = DataType.isFixedSizeList(field.type) ? flattenFloatList(column.data, dim, table.numRows) : flattenVariableList(column.data, dim, table.numRows);
  const meta: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.name === vectorName) continue;
    meta[f.name] = toPlainColumn(table.getChild(f.name)!.toArray());
  }
  return new ActivationSet(vectors, dim, aq.table(meta as any), { vectorName, source: file });
}

function pickVectorColumn(table: Table, file: string | undefined): string {
  const candidates = table.schema.fields.filter((f) => isFloatList(f.type));
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
    const from = child.offset + data.offset * dim;
    out.set(floatValues(child, from, data.length * dim), row * dim);
    row += data.length;
  }
  return out;
}

function isFloatList(type: DataType): boolean {
  return (DataType.isFixedSizeList(type) || DataType.isList(type)) && DataType.isFloat(type.children[0].type);
}

/** The common length of a List<Float> column's rows; ragged rows are an error naming the first. */
function listDim(chunks: readonly any[], name: string, file: string | undefined): number {
  let dim = -1;
  let row = 0;
  for (const data of chunks) {
    const offsets: Int32Array = data.valueOffsets;
    for (let i = 0; i < data.length; i++, row++) {
      const len = offsets[data.offset + i + 1] - offsets[data.offset + i];
      if (dim < 0) dim = len;
      else if (len !== dim) throw new InputError(file, `column '${name}' is ragged: row 0 has ${dim} values, row ${row} has ${len}`);
    }
  }
  if (dim <= 0) throw new InputError(file, `column '${name}' has empty vectors`);
  return dim;
}

function flattenVariableList(chunks: readonly any[], dim: number, numRows: number): Float32Array {
  const out = new Float32Array(numRows * dim);
  let row = 0;
  for (const data of chunks) {
    const child = data.children[0];
    for (let i = 0; i < data.length; i++, row++) {
      out.set(floatValues(child, child.offset + data.valueOffsets[data.offset + i], dim), row * dim);
    }
  }
  return out;
}

/** n values of a float column's data from `start`, as float32 (Arrow keeps float16 as raw Uint16 bits). */
function floatValues(child: any, start: number, n: number): ArrayLike<number> {
  const values = child.values.subarray(start, start + n);
  return child.type.precision === 0 ? toFloat32({ dtype: "float16", shape: [n], data: values }) : values;
}

function toPlainColumn(values: any): unknown {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    return Float64Array.from(values as any, (v: bigint) => Number(v));
  }
  return values;
}
