// Writing activation tables to Parquet (through hyparquet-writer), one row group at a time, to a temp file
// in the target folder that is renamed into place at the end, so readers never see a half-written file.
//
// The vector column is written the way pyarrow writes list<float32> / fixed_size_list<float32>:
//   required group <vectorName> (LIST) { repeated group list { required float element; } }
import { randomBytes } from "node:crypto";
import { open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { ColumnSource, SchemaElement, Writer } from "hyparquet-writer";
import { InputError } from "./errors.js";
import { FEATURELAB_KEY } from "./parquet-read.js";
import { writeVectorChunk } from "./parquet-vector-write.js";

export interface ParquetWriteTable {
  /** numRows × dim floats, row-major */
  vectors: Float32Array;
  dim: number;
  vectorName: string;
  /** One value per row each. Int32Array (also Int8/Int16/Uint8/Uint16Array) → INT32, Float32Array → FLOAT,
   *  Float64Array and number[] → DOUBLE, BigInt64Array and bigint[] → INT64, string[] → UTF8 string, boolean[] → BOOLEAN.
   *  Plain arrays may hold null/undefined (written as an optional column). */
  metadata: Record<string, ArrayLike<unknown>>;
}

export interface WriteParquetOptions {
  /** Rows per row group (default: about 32 MB of vectors, at most 65536 rows). A reader holds one row group in memory. */
  rowGroupSize?: number;
  compression?: "SNAPPY" | "UNCOMPRESSED";
}

/** Target page size. Smaller than the usual 1 MB: a reader decoding a page of a list column allocates level
 *  arrays of 8 bytes per value, and below ~128 KB those stay ordinary young objects that die cheaply. */
const PAGE_BYTES = 32 * 1024;

type Column = { name: string; element: SchemaElement; data: ArrayLike<unknown> & { slice(start: number, end: number): ArrayLike<unknown> } };

function planColumn(path: string, name: string, values: ArrayLike<unknown>): Column {
  const column = (type: SchemaElement["type"], data: Column["data"], extra: Partial<SchemaElement> = {}): Column => ({
    name,
    element: { name, type, repetition_type: "REQUIRED", ...extra },
    data,
  });
  if (values instanceof Int32Array || values instanceof Int16Array || values instanceof Int8Array || values instanceof Uint16Array || values instanceof Uint8Array) {
    return column("INT32", values);
  }
  if (values instanceof Float32Array) return column("FLOAT", values);
  if (values instanceof Float64Array) return column("DOUBLE", values);
  if (values instanceof BigInt64Array) return column("INT64", values);
  if (ArrayBuffer.isView(values)) {
    throw new InputError(path, `cannot write metadata column '${name}': ${values.constructor.name} is not supported (use Int32Array, Float32Array, Float64Array, BigInt64Array or an array of numbers, strings, bigints or booleans)`);
  }
  const data = Array.isArray(values) ? values : Array.from(values);
  const kinds = new Set<string>();
  let nullable = false;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === null || v === undefined) nullable = true;
    else if (typeof v === "number" || typeof v === "string" || typeof v === "bigint" || typeof v === "boolean") kinds.add(typeof v);
    else throw new InputError(path, `cannot write metadata column '${name}': row ${i} holds a value of type ${v?.constructor?.name ?? typeof v}; columns hold numbers, strings, bigints or booleans`);
  }
  if (kinds.size > 1) throw new InputError(path, `cannot write metadata column '${name}': it mixes ${[...kinds].join(" and ")} values`);
  const kind = [...kinds][0] ?? "string";
  const extra: Partial<SchemaElement> = nullable ? { repetition_type: "OPTIONAL" } : {};
  if (kind === "number") return column("DOUBLE", data, extra);
  if (kind === "bigint") return column("INT64", data, extra);
  if (kind === "boolean") return column("BOOLEAN", data, extra);
  return column("BYTE_ARRAY", data, { converted_type: "UTF8", logical_type: { type: "STRING" }, ...extra });
}

/** A hyparquet-writer Writer that appends to a file handle after each row group (and at the end). */
function fileWriter(handle: FileHandle): Writer {
  const bytes = new ByteWriter(1 << 20);
  const writer: Writer = bytes;
  const drain = async () => {
    const chunk = new Uint8Array(bytes.buffer, 0, bytes.index);
    for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at, chunk.length - at)).bytesWritten;
    bytes.index = 0;
  };
  writer.flush = drain;
  writer.finish = drain;
  return writer;
}

export async function writeParquet(path: string, table: ParquetWriteTable, opts: WriteParquetOptions = {}): Promise<void> {
  const { vectors, dim, vectorName, metadata } = table;
  // A reader holds a row group in memory: bound it by bytes, not rows.
  const rowGroupSize = opts.rowGroupSize ?? Math.max(1, Math.min(65536, Math.floor(32e6 / (4 * Math.max(1, table.dim)))));
  const codec = opts.compression ?? "SNAPPY";
  if (!(vectors instanceof Float32Array)) throw new InputError(path, "cannot write: vectors must be a Float32Array");
  if (!Number.isInteger(dim) || dim < 1) throw new InputError(path, `cannot write: dim must be a positive integer, got ${dim}`);
  if (vectors.length % dim !== 0) throw new InputError(path, `cannot write: ${vectors.length} floats is not a whole number of vectors of dim ${dim}`);
  if (typeof vectorName !== "string" || vectorName === "") throw new InputError(path, "cannot write: vectorName must be a non-empty string");
  if (Object.hasOwn(metadata, vectorName)) throw new InputError(path, `cannot write: metadata has a column named '${vectorName}' like the vector column`);
  if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) throw new InputError(path, `cannot write: rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  if (codec !== "SNAPPY" && codec !== "UNCOMPRESSED") throw new InputError(path, `cannot write: compression must be "SNAPPY" or "UNCOMPRESSED", got ${String(codec)}`);
  const numRows = vectors.length / dim;
  const columns = Object.entries(metadata).map(([name, values]) => {
    if (values?.length !== numRows) throw new InputError(path, `cannot write: metadata column '${name}' has ${values?.length} values for ${numRows} vectors`);
    return planColumn(path, name, values);
  });
  const schema: SchemaElement[] = [
    { name: "root", num_children: columns.length + 1 },
    ...columns.map((c) => c.element),
    { name: vectorName, repetition_type: "REQUIRED", converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", type: "FLOAT", repetition_type: "REQUIRED" },
  ];

  if (await stat(path).then((st) => st.isDirectory(), () => false)) throw new InputError(path, "is a folder; give writeParquet a file path");
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, "wx");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === "ENOENT" ? `cannot write: folder ${dirname(path)} does not exist` : `cannot write (${code ?? (err as Error).message})`);
  }
  let done = false;
  try {
    const pq = new ParquetWriter({
      writer: fileWriter(handle),
      schema,
      codec,
      createdBy: "featurelab",
      kvMetadata: [{ key: FEATURELAB_KEY, value: JSON.stringify({ vector: vectorName, dim }) }],
    });
    for (let start = 0; start < numRows; start += rowGroupSize) {
      const end = Math.min(numRows, start + rowGroupSize);
      // Metadata columns through hyparquet-writer (which adds the row group), then the vector column's
      // chunk written straight from the floats (parquet-vector-write.ts) into the same row group.
      if (columns.length) {
        const columnData: ColumnSource[] = columns.map((c) => ({ name: c.name, data: c.data.slice(start, end) as ColumnSource["data"] }));
        await pq.write({ columnData, rowGroupSize: end - start, pageSize: PAGE_BYTES });
      } else {
        pq.row_groups.push({ columns: [], total_byte_size: 0n, num_rows: BigInt(end - start), total_compressed_size: 0n });
        pq.num_rows += BigInt(end - start);
      }
      const group = pq.row_groups[pq.row_groups.length - 1];
      const chunk = writeVectorChunk(pq.writer, vectors, dim, start, end, [vectorName, "list", "element"], codec);
      group.columns.push(chunk);
      group.total_byte_size += chunk.meta_data!.total_uncompressed_size;
      group.total_compressed_size = (group.total_compressed_size ?? 0n) + chunk.meta_data!.total_compressed_size;
      await pq.writer.flush?.();
    }
    await pq.finish();
    await handle.datasync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
    done = true;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `cannot write (${(err as Error).message})`);
  } finally {
    if (!done) {
      await handle?.close().catch(() => {});
      await unlink(temp).catch(() => {});
    }
  }
}
