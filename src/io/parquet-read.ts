// Reading activation tables from Parquet (through hyparquet, and parquet-vectors.ts for the vector column): the
// footer alone for parquetInfo, then one row group at a time by positioned reads on a file or Range requests on
// a URL (byte-source.ts), so memory stays bounded by the row group size.
import { parquetMetadataAsync, parquetRead, parquetSchema, readOffsetIndex } from "hyparquet";
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getSchemaPath } from "hyparquet/src/schema.js";
import type { AsyncBuffer, ColumnData, FileMetaData, OffsetIndex, SchemaElement, SchemaTree } from "hyparquet";
import { InputError } from "./errors.js";
import { checkColumnChunk, checkFooter } from "./parquet-check.js";
import { byteSource, type ByteSource } from "./byte-source.js";
import { uninitialisedFloat32 } from "../engine/native.js";
import { zstdDecompress } from "./zstd.js";
import { decodeVectorChunk } from "./parquet-vectors.js";

export interface ParquetInfo {
  file: string;
  numRows: number;
  rowGroups: { numRows: number }[];
  /** Top-level columns, with a readable type: "int32", "string", "list<float>", "struct<a: int64>", … */
  columns: { name: string; type: string }[];
}

export interface ReadParquetOptions {
  /** The vector column: a list of float (or double, converted to float32) per row, all of one length.
   *  Found automatically when the file has exactly one list-of-float column. */
  vector?: string;
  /** Metadata columns to read; default every column but the vector column. */
  columns?: string[];
  /** Row groups to read, by index, in the order given; default all of them in file order. */
  rowGroups?: number[];
}

/** A batch (one row group) or a whole table: `numRows` vectors of `dim` floats, row-major, plus metadata columns. */
export interface ParquetTable {
  vectors: Float32Array;
  dim: number;
  numRows: number;
  metadata: Record<string, ArrayLike<unknown>>;
}

const MAGIC = 0x31524150; // "PAR1", little-endian
/** Key-value metadata written by writeParquet: {"vector": name, "dim": n}. */
export const FEATURELAB_KEY = "featurelab";

interface OpenFile {
  file: string;
  /** Where the bytes come from: a local file or a URL (byte-source.ts). */
  source: ByteSource;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
  schema: SchemaTree;
  /** Column chunks whose pages checkColumnChunk has passed, as "group/column". */
  checked: Set<string>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0];

async function openParquet(file: string): Promise<OpenFile> {
  const source = await byteSource(file);
  try {
    const buffer = sourceBuffer(source);
    return { file, source, buffer, ...(await readFooter(file, buffer)), checked: new Set() };
  } catch (err) {
    await source.close();
    throw err;
  }
}

/** An AsyncBuffer over a byte source: each slice is one read of exactly the bytes asked for. */
function sourceBuffer(source: ByteSource): AsyncBuffer {
  return {
    byteLength: source.size,
    slice(start: number, end: number = source.size): Promise<ArrayBuffer> {
      const bytes = source.read(start, end).then((b) => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : b.slice().buffer) as ArrayBuffer);
      // hyparquet starts reads it may never await when an earlier one fails; such a rejection must not
      // go unhandled (tfjs-wasm turns an unhandled rejection into the death of the process)
      bytes.catch(() => {});
      return bytes;
    },
  };
}

/** Checks the magic bytes at both ends and the footer length before parsing, so every failure names the problem. */
async function readFooter(file: string, buffer: AsyncBuffer): Promise<{ metadata: FileMetaData; schema: SchemaTree }> {
  const size = buffer.byteLength;
  if (size === 0) throw new InputError(file, "is empty (0 bytes), not a Parquet file");
  const head = size >= 4 ? new DataView(await buffer.slice(0, 4)).getUint32(0, true) : 0;
  if (head !== MAGIC) throw new InputError(file, "is not a Parquet file (it does not start with the magic bytes 'PAR1')");
  if (size < 12) throw new InputError(file, `is truncated: ${size} bytes is too short for a Parquet file`);
  const tail = new DataView(await buffer.slice(size - 8, size));
  if (tail.getUint32(4, true) !== MAGIC) {
    throw new InputError(file, "is truncated: it starts like a Parquet file but does not end with the footer magic 'PAR1' (cut short, or still being written?)");
  }
  const footerLength = tail.getUint32(0, true);
  if (footerLength > size - 12) {
    throw new InputError(file, `is truncated or corrupt: its footer claims ${footerLength} bytes of metadata but the file has ${size} bytes`);
  }
  try {
    // geoparquet: false — hyparquet's GeoParquet pass walks the schema by num_children and never ends on a
    // negative count; featurelab reads no geometry columns
    const metadata = await parquetMetadataAsync(buffer, { initialFetchSize: footerLength + 8, geoparquet: false });
    let schema: SchemaTree;
    try {
      schema = parquetSchema(metadata);
    } catch {
      throw new InputError(file, `has a corrupt Parquet footer: its ${metadata.schema.length} schema elements do not nest as their num_children say`);
    }
    checkFooter(metadata, size - footerLength - 8, (problem) => {
      throw new InputError(file, `has a corrupt Parquet footer: ${problem}`);
    });
    return { metadata, schema };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(file, `has a corrupt Parquet footer (${message(err)})`);
  }
}

// ---- schema → readable types ----

/** The item of a list column (3-level LIST, legacy 2-level LIST, or a bare repeated field), else undefined. */
function listItem(node: SchemaTree): SchemaTree | undefined {
  const el = node.element;
  if (el.repetition_type === "REPEATED") return node.children.length ? undefined : node;
  if (el.converted_type !== "LIST" && el.logical_type?.type !== "LIST") return undefined;
  if (node.children.length !== 1) return undefined;
  const repeated = node.children[0];
  if (repeated.element.repetition_type !== "REPEATED") return undefined;
  if (repeated.children.length === 0) return repeated;
  return repeated.children.length === 1 ? repeated.children[0] : repeated;
}

function leafType(el: SchemaElement): string {
  const lt = el.logical_type;
  const ct = el.converted_type;
  if (lt?.type === "STRING" || lt?.type === "ENUM" || ct === "UTF8" || ct === "ENUM") return "string";
  if (lt?.type === "JSON" || ct === "JSON") return "json";
  if (lt?.type === "FLOAT16") return "float16";
  if (lt?.type === "UUID") return "uuid";
  if (lt?.type === "DECIMAL") return `decimal(${lt.precision},${lt.scale})`;
  if (ct === "DECIMAL") return `decimal(${el.precision},${el.scale})`;
  if (lt?.type === "DATE" || ct === "DATE") return "date";
  if (lt?.type === "TIMESTAMP") return `timestamp[${lt.unit.toLowerCase()}]`;
  if (ct === "TIMESTAMP_MILLIS" || ct === "TIMESTAMP_MICROS") return `timestamp[${ct.slice(10).toLowerCase()}]`;
  if (lt?.type === "TIME" || ct === "TIME_MILLIS" || ct === "TIME_MICROS") return "time";
  if (lt?.type === "INTEGER") return `${lt.isSigned ? "int" : "uint"}${lt.bitWidth}`;
  if (ct?.startsWith("INT_") || ct?.startsWith("UINT_")) return ct.toLowerCase().replace("_", "");
  switch (el.type) {
    case "BYTE_ARRAY": return "binary";
    case "FIXED_LEN_BYTE_ARRAY": return `fixed_binary(${el.type_length})`;
    case undefined: return "unknown";
    default: return el.type === "BOOLEAN" ? "boolean" : el.type.toLowerCase();
  }
}

function describe(node: SchemaTree): string {
  const item = listItem(node);
  if (item) return `list<${item === node ? leafType(node.element) : describe(item)}>`;
  const el = node.element;
  if ((el.converted_type === "MAP" || el.logical_type?.type === "MAP") && node.children[0]?.children.length === 2) {
    const [k, v] = node.children[0].children;
    return `map<${describe(k)}, ${describe(v)}>`;
  }
  if (node.children.length) return `struct<${node.children.map((c) => `${c.element.name}: ${describe(c)}`).join(", ")}>`;
  return leafType(el);
}

function isFloatList(node: SchemaTree): boolean {
  const item = listItem(node);
  if (!item || item.children.length) return false;
  return item.element.type === "FLOAT" || item.element.type === "DOUBLE" || item.element.logical_type?.type === "FLOAT16";
}

const describeColumns = (top: SchemaTree[]) => top.map((c) => `${c.element.name}: ${describe(c)}`).join(", ");

export async function parquetInfo(path: string): Promise<ParquetInfo> {
  const pq = await openParquet(path);
  await pq.source.close();
  return {
    file: path,
    numRows: Number(pq.metadata.num_rows),
    rowGroups: pq.metadata.row_groups.map((g) => ({ numRows: Number(g.num_rows) })),
    columns: pq.schema.children.map((c) => ({ name: c.element.name, type: describe(c) })),
  };
}

// ---- reading ----

interface Prepared {
  pq: OpenFile;
  vector: string;
  columns: string[];
  groups: { index: number; rowStart: number; numRows: number }[];
  /** dim recorded by writeParquet, used when there are no rows to measure it from */
  savedDim: number | undefined;
}

async function prepare(path: string, opts: ReadParquetOptions): Promise<Prepared> {
  const pq = await openParquet(path);
  try {
    const top = pq.schema.children;
    const names = top.map((c) => c.element.name);
    let vector = opts.vector;
    if (vector === undefined) {
      const lists = top.filter(isFloatList);
      if (lists.length !== 1) {
        throw new InputError(path, `${lists.length === 0 ? "has no list-of-float column to use as the vector column" : `has ${lists.length} list-of-float columns; say which is the vector column with { vector }`}; columns: ${describeColumns(top)}`);
      }
      vector = lists[0].element.name;
    }
    const node = top.find((c) => c.element.name === vector);
    if (!node) throw new InputError(path, `no column '${vector}'; columns: ${describeColumns(top)}`);
    if (!isFloatList(node)) {
      throw new InputError(path, `column '${vector}' is ${describe(node)}, expected a list of float or double (one fixed-length vector per row)`);
    }
    const missing = (opts.columns ?? []).filter((c) => !names.includes(c));
    if (missing.length) {
      throw new InputError(path, `no column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `'${c}'`).join(", ")}; columns: ${describeColumns(top)}`);
    }
    const columns = [...new Set(opts.columns ?? names)].filter((c) => c !== vector);

    const starts: number[] = [];
    let at = 0;
    for (const g of pq.metadata.row_groups) {
      starts.push(at);
      at += Number(g.num_rows);
    }
    const count = starts.length;
    const indices = opts.rowGroups ?? starts.map((_, i) => i);
    for (const g of indices) {
      if (!Number.isInteger(g) || g < 0 || g >= count) {
        throw new InputError(path, `has no row group ${g}; it has ${count} row group${count === 1 ? "" : "s"}${count ? ` (0–${count - 1})` : ""}`);
      }
    }
    const groups = indices.map((index) => ({ index, rowStart: starts[index], numRows: Number(pq.metadata.row_groups[index].num_rows) }));
    return { pq, vector, columns, groups, savedDim: savedDim(pq.metadata, vector) };
  } catch (err) {
    await pq.source.close();
    throw err;
  }
}

function savedDim(metadata: FileMetaData, vector: string): number | undefined {
  const entry = metadata.key_value_metadata?.find((kv) => kv.key === FEATURELAB_KEY);
  try {
    const saved = JSON.parse(entry?.value ?? "null");
    return saved?.vector === vector && Number.isInteger(saved.dim) ? saved.dim : undefined;
  } catch {
    return undefined;
  }
}

/** Joins column chunks into one array: a typed array when every part has the same typed array type. */
export function concatColumn(parts: ArrayLike<unknown>[], length: number): ArrayLike<unknown> {
  if (parts.length === 1 && parts[0].length === length) return parts[0];
  const first = parts[0];
  const Typed = ArrayBuffer.isView(first) ? (first.constructor as { new (n: number): { set(a: ArrayLike<unknown>, at: number): void } & ArrayLike<unknown> }) : undefined;
  if (Typed && parts.every((p) => p.constructor === Typed)) {
    const out = new Typed(length);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  const out: unknown[] = [];
  for (const p of parts) for (let i = 0; i < p.length; i++) out.push(p[i]);
  return out;
}

/** Flat numeric columns without nulls come back as typed arrays whatever the encoding of the page. */
function normalize(node: SchemaTree, data: ArrayLike<unknown>): ArrayLike<unknown> {
  if (node.children.length || !Array.isArray(data)) return data;
  const el = node.element;
  const lt = el.logical_type;
  const plain = !el.converted_type && !lt;
  const Typed =
    el.type === "DOUBLE" ? Float64Array
    : el.type === "FLOAT" && !lt ? Float32Array
    : el.type === "INT32" && (plain || el.converted_type === "INT_32" || (lt?.type === "INTEGER" && lt.isSigned)) ? Int32Array
    : el.type === "INT64" && (plain || el.converted_type === "INT_64" || (lt?.type === "INTEGER" && lt.isSigned)) ? BigInt64Array
    : undefined;
  if (!Typed || data.some((v) => typeof v !== (Typed === BigInt64Array ? "bigint" : "number"))) return data;
  return Typed === BigInt64Array ? BigInt64Array.from(data as bigint[]) : (Typed as Float64ArrayConstructor).from(data as number[]);
}

/** Checks the pages of a row group's column chunks under `columns` (once each) before hyparquet decodes them. */
async function checkPages(pq: OpenFile, groupIndex: number, columns: string[]): Promise<void> {
  const chunks = pq.metadata.row_groups[groupIndex].columns;
  for (let c = 0; c < chunks.length; c++) {
    const meta = chunks[c].meta_data;
    const key = `${groupIndex}/${c}`;
    if (!meta || !columns.includes(meta.path_in_schema[0]) || pq.checked.has(key)) continue;
    const read = (start: number, end: number) => pq.source.read(start, end);
    await checkColumnChunk(read, { meta, schemaPath: getSchemaPath(pq.metadata.schema, meta.path_in_schema) }, (problem) => {
      throw new InputError(pq.file, `row group ${groupIndex}, column '${meta.path_in_schema.join(".")}' is corrupt: ${problem}`);
    });
    pq.checked.add(key);
  }
}

/** Reads rows [rowStart, rowEnd) of some columns; each column comes back as one array of exactly those rows. */
async function readRows(pq: OpenFile, columns: string[], rowStart: number, rowEnd: number, groupIndex: number, useOffsetIndex: boolean): Promise<Map<string, ArrayLike<unknown>>> {
  const parts = new Map<string, ColumnData[]>(columns.map((c) => [c, []]));
  try {
    await checkPages(pq, groupIndex, columns);
    await parquetRead({ file: pq.buffer, metadata: pq.metadata, columns, rowStart, rowEnd, useOffsetIndex, compressors: { ZSTD: (input, size) => zstdDecompress(input, size) }, onChunk: (chunk) => parts.get(chunk.columnName)?.push(chunk) });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(pq.file, `cannot decode row group ${groupIndex} (${message(err)})`);
  }
  const out = new Map<string, ArrayLike<unknown>>();
  for (const [name, chunks] of parts) {
    chunks.sort((x, y) => x.rowStart - y.rowStart);
    const pieces: ArrayLike<unknown>[] = [];
    let at = rowStart;
    for (const c of chunks) {
      if (c.rowEnd <= at || c.rowStart > at) continue;
      const from = at - c.rowStart;
      const to = Math.min(c.rowEnd, rowEnd) - c.rowStart;
      pieces.push(from === 0 && to === c.columnData.length ? c.columnData : c.columnData.slice(from, to));
      at += to - from;
    }
    if (at !== rowEnd) throw new InputError(pq.file, `row group ${groupIndex}, column '${name}' has ${at - rowStart} values for rows ${rowStart}–${rowEnd}`);
    out.set(name, concatColumn(pieces, rowEnd - rowStart));
  }
  return out;
}

/** Bytes of vector pages decoded per hyparquet call. hyparquet assembles list rows into JS arrays (plus level
 *  arrays); decoding a row group in small page-aligned slices lets those die young instead of piling up in the
 *  old generation, which measured ~1.5x faster and with about half the RSS growth of whole-row-group reads. */
const SLICE_BYTES = 256 * 1024;

/** Page-aligned row slices (relative to the row group) of about SLICE_BYTES, from the vector column's offset
 *  index; the whole row group at once when the file has no offset index (pyarrow's default). */
async function vectorSlices(pq: OpenFile, group: Prepared["groups"][number], vector: string): Promise<[number, number][]> {
  const whole: [number, number][] = [[0, group.numRows]];
  const chunk = pq.metadata.row_groups[group.index].columns.find((c) => c.meta_data?.path_in_schema[0] === vector);
  const at = Number(chunk?.offset_index_offset ?? 0);
  const length = chunk?.offset_index_length ?? 0;
  if (!at || !length || at + length > pq.buffer.byteLength) return whole;
  let pages: OffsetIndex["page_locations"];
  try {
    pages = readOffsetIndex({ view: new DataView(await pq.buffer.slice(at, at + length)), offset: 0 }).page_locations;
  } catch {
    return whole; // an unreadable index is only a lost optimisation
  }
  // Slices must start on pages that start rows: first_row_index strictly increasing from 0.
  const firsts = pages.map((p) => Number(p.first_row_index));
  if (!firsts.length || firsts[0] !== 0 || firsts.some((f, i) => i > 0 && f <= firsts[i - 1]) || firsts[firsts.length - 1] >= group.numRows) return whole;
  const slices: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  for (let p = 0; p < pages.length; p++) {
    bytes += pages[p].compressed_page_size;
    if (bytes >= SLICE_BYTES || p + 1 === pages.length) {
      const next = p + 1 < pages.length ? firsts[p + 1] : group.numRows;
      slices.push([start, next]);
      start = next;
      bytes = 0;
    }
  }
  return slices;
}

/** Buffers the fast path reads column chunks into, reused (fresh memory costs a page fault per 4 KB); one per read in flight. */
const chunkBuffers: Uint8Array[] = [];

/** The vector column chunk decoded by the fast path (parquet-vectors.ts), or undefined to read it with hyparquet. */
async function fastVectors(pq: OpenFile, group: Prepared["groups"][number], vector: string, target: Target): Promise<{ dim: number } | undefined> {
  const meta = pq.metadata.row_groups[group.index].columns.find((c) => c.meta_data?.path_in_schema[0] === vector)?.meta_data;
  if (!meta) return undefined;
  const dictionary = Number(meta.dictionary_page_offset ?? 0);
  const start = dictionary > 0 ? Math.min(dictionary, Number(meta.data_page_offset)) : Number(meta.data_page_offset);
  const end = start + Number(meta.total_compressed_size);
  if (!(start >= 4 && end <= pq.buffer.byteLength && end > start)) return undefined;
  const path = getSchemaPath(pq.metadata.schema, meta.path_in_schema);
  const i = chunkBuffers.findIndex((b) => b.length >= end - start);
  const buffer = i >= 0 ? chunkBuffers.splice(i, 1)[0] : new Uint8Array(end - start);
  try {
    const bytes = await pq.source.read(start, end, buffer);
    const half = path[path.length - 1].element.logical_type?.type === "FLOAT16";
    return decodeVectorChunk(bytes, meta, getMaxRepetitionLevel(path), getMaxDefinitionLevel(path), group.numRows, target, half);
  } finally {
    // kept for the next chunk (four at most: a remote stream's three reads ahead and a load can overlap)
    chunkBuffers.push(buffer);
    if (chunkBuffers.length > 4) chunkBuffers.sort((a, b) => b.length - a.length).pop();
  }
}

/** Where readGroup puts a row group's vectors once their dim is known: an array and the index of the first float. */
type Target = (dim: number, numRows: number) => { array: Float32Array; offset: number };

/** Reads one row group: vectors into `target`, metadata columns returned. `dim` < 0: take it from the first row. */
async function readGroup(prep: Prepared, group: Prepared["groups"][number], dim: number, target: Target): Promise<{ dim: number; metadata: Record<string, ArrayLike<unknown>> }> {
  const { pq, vector, columns } = prep;
  const { rowStart, numRows } = group;
  let out: { array: Float32Array; offset: number } | undefined;
  const fast = await fastVectors(pq, group, vector, target);
  if (fast && (dim < 0 || fast.dim === dim)) dim = fast.dim;
  else for (const [from, to] of await vectorSlices(pq, group, vector)) {
    const rows = (await readRows(pq, [vector], rowStart + from, rowStart + to, group.index, true)).get(vector) as ArrayLike<ArrayLike<unknown> | null>;
    if (dim < 0) dim = vectorLength(pq.file, vector, rows, rowStart + from);
    out ??= target(dim, numRows);
    fillVectors(pq.file, vector, rows, rowStart + from, dim, out.array, out.offset + from * dim);
  }
  // every row holds dim values and no nulls, so the vector column holds exactly numRows × dim: fewer
  // rows read means the row group's count lies and rows were skipped
  const values = pq.metadata.row_groups[group.index].columns.find((c) => c.meta_data?.path_in_schema[0] === vector)?.meta_data?.num_values;
  if (values !== undefined && Number(values) !== numRows * dim) {
    throw new InputError(pq.file, `row group ${group.index} claims ${numRows} rows, but its column '${vector}' holds ${values} values, not ${numRows} × ${dim}`);
  }
  const metadata: Record<string, ArrayLike<unknown>> = {};
  if (columns.length) {
    const data = await readRows(pq, columns, rowStart, rowStart + numRows, group.index, false);
    const top = pq.schema.children;
    for (const name of columns) metadata[name] = normalize(top.find((c) => c.element.name === name)!, data.get(name)!);
  }
  return { dim, metadata };
}

/** A decoded list (hyparquet gives a struct where the schema's list annotation is damaged). */
const isList = (row: unknown): row is ArrayLike<unknown> => Array.isArray(row) || ArrayBuffer.isView(row);

function notList(file: string, column: string, row: number): InputError {
  return new InputError(file, `column '${column}' holds ${JSON.stringify(row)?.slice(0, 60)} in row ${row}, not a list of numbers`);
}

function noVector(file: string, column: string, row: number): InputError {
  return new InputError(file, `column '${column}' has no vector in row ${row} (null); every row needs one`);
}

/** The length of the first row's vector, which every other row must match. */
function vectorLength(file: string, column: string, rows: ArrayLike<ArrayLike<unknown> | null>, firstRow: number): number {
  const row = rows[0];
  if (row === null || row === undefined) throw noVector(file, column, firstRow);
  if (!isList(row)) throw notList(file, column, firstRow);
  if (row.length === 0) throw new InputError(file, `column '${column}' holds an empty list in row ${firstRow}; expected a vector in every row`);
  return row.length;
}

/** Copies list rows into `out` (row-major, from `offset`), checking every row holds `dim` numbers. */
function fillVectors(file: string, column: string, rows: ArrayLike<ArrayLike<unknown> | null>, firstRow: number, dim: number, out: Float32Array, offset: number): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row === null || row === undefined) throw noVector(file, column, firstRow + i);
    if (!isList(row)) throw notList(file, column, firstRow + i);
    if (row.length !== dim) {
      throw new InputError(file, `column '${column}' is ragged: row ${firstRow + i} has ${row.length} values where earlier rows have ${dim}; a vector column needs the same length in every row`);
    }
    const base = offset + i * dim;
    if (row instanceof Float32Array || row instanceof Float64Array) {
      out.set(row, base);
      continue;
    }
    for (let j = 0; j < dim; j++) {
      const v = row[j];
      if (typeof v !== "number") throw new InputError(file, `column '${column}' has a null in row ${firstRow + i} at position ${j}; vectors cannot hold nulls`);
      out[base + j] = v;
    }
  }
}

export async function* readParquetBatches(path: string, opts: ReadParquetOptions = {}): AsyncGenerator<ParquetTable> {
  const prep = await prepare(path, opts);
  let open = true;
  const close = async () => {
    if (open) await prep.pq.source.close();
    open = false;
  };
  try {
    let dim = -1;
    const groups = prep.groups.filter((g) => g.numRows > 0);
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i];
      let vectors: Float32Array = new Float32Array(0);
      const read = await readGroup(prep, group, dim, (d, n) => ({ array: (vectors = uninitialisedFloat32(d * n)), offset: 0 }));
      dim = read.dim;
      // The file is closed before the last batch is handed out, so a caller that takes one batch with
      // .next() and drops the generator (common with rowGroups: [g]) leaves no file handle open.
      if (i === groups.length - 1) await close();
      yield { vectors, dim, numRows: group.numRows, metadata: read.metadata };
    }
  } finally {
    await close();
  }
}

/** A Parquet file kept open to read its row groups in any order (a stream's chunks), by index. */
export interface ParquetGroups {
  numGroups: number;
  read(group: number): Promise<ParquetTable>;
  close(): Promise<void>;
}

/** Open `path` once (footer read once — for a URL, one request fewer per row group) and read row groups on demand. */
export async function openParquetGroups(path: string, opts: Omit<ReadParquetOptions, "rowGroups"> = {}): Promise<ParquetGroups> {
  const prep = await prepare(path, opts);
  return {
    numGroups: prep.groups.length,
    async read(index) {
      const group = prep.groups[index];
      if (!group) throw new InputError(path, `has no row group ${index}`);
      let vectors: Float32Array = new Float32Array(0);
      if (group.numRows === 0) return { vectors, dim: Math.max(0, prep.savedDim ?? 0), numRows: 0, metadata: {} };
      const read = await readGroup(prep, group, -1, (d, n) => ({ array: (vectors = uninitialisedFloat32(d * n)), offset: 0 }));
      return { vectors, dim: read.dim, numRows: group.numRows, metadata: read.metadata };
    },
    close: () => prep.pq.source.close(),
  };
}

export async function readParquet(path: string, opts: ReadParquetOptions = {}): Promise<ParquetTable> {
  const prep = await prepare(path, opts);
  try {
    const total = prep.groups.reduce((s, g) => s + g.numRows, 0);
    let vectors: Float32Array | undefined;
    let dim = -1;
    let at = 0;
    const parts: Record<string, ArrayLike<unknown>[]> = Object.fromEntries(prep.columns.map((c) => [c, []]));
    for (const group of prep.groups) {
      if (group.numRows === 0) continue;
      const read = await readGroup(prep, group, dim, (d) => ({ array: (vectors ??= uninitialisedFloat32(total * d)), offset: at * d }));
      dim = read.dim;
      at += group.numRows;
      for (const c of prep.columns) parts[c].push(read.metadata[c]);
    }
    const metadata: Record<string, ArrayLike<unknown>> = {};
    for (const c of prep.columns) metadata[c] = parts[c].length ? concatColumn(parts[c], total) : [];
    return { vectors: vectors ?? new Float32Array(0), dim: dim >= 0 ? dim : (prep.savedDim ?? 0), numRows: total, metadata };
  } finally {
    await prep.pq.source.close();
  }
}
