// The Parquet seed files of the fuzzer, written as writeParquet wrote them before its vector column got
// its own fast writer (src/io/parquet-vector-write.ts): everything through hyparquet-writer, lists as
// nested arrays, 32 KB pages. The fuzzer's mutants (and the regressions pinned to them in
// fuzz-regressions.test.ts) are indices into these exact bytes; the reader's fast path reads this layout
// too (data pages v2, PLAIN floats), so the fuzzer still reaches it.
import { writeFileSync } from "node:fs";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { ColumnSource, SchemaElement } from "hyparquet-writer";
import { FEATURELAB_KEY } from "../../src/io/parquet-read.js";

type Table = { vectors: Float32Array; dim: number; vectorName: string; metadata: Record<string, Int32Array | Float64Array | string[]> };

export function legacyParquet(path: string, table: Table, opts: { rowGroupSize?: number; compression?: "SNAPPY" | "UNCOMPRESSED" } = {}): void {
  const { vectors, dim, vectorName, metadata } = table;
  const numRows = vectors.length / dim;
  const rowGroupSize = opts.rowGroupSize ?? Math.max(1, Math.min(65536, Math.floor(32e6 / (4 * dim))));
  const element = (name: string, values: Table["metadata"][string]): SchemaElement =>
    values instanceof Int32Array ? { name, type: "INT32", repetition_type: "REQUIRED" }
    : values instanceof Float64Array ? { name, type: "DOUBLE", repetition_type: "REQUIRED" }
    : { name, type: "BYTE_ARRAY", repetition_type: "REQUIRED", converted_type: "UTF8", logical_type: { type: "STRING" } };
  const names = Object.keys(metadata);
  const schema: SchemaElement[] = [
    { name: "root", num_children: names.length + 1 },
    ...names.map((n) => element(n, metadata[n])),
    { name: vectorName, repetition_type: "REQUIRED", converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", type: "FLOAT", repetition_type: "REQUIRED" },
  ];
  const bytes = new ByteWriter(1 << 20);
  const pq = new ParquetWriter({ writer: bytes, schema, codec: opts.compression ?? "SNAPPY", createdBy: "featurelab", kvMetadata: [{ key: FEATURELAB_KEY, value: JSON.stringify({ vector: vectorName, dim }) }] });
  for (let start = 0; start < numRows; start += rowGroupSize) {
    const end = Math.min(numRows, start + rowGroupSize);
    const rows: number[][] = [];
    for (let r = start; r < end; r++) rows.push(Array.from(vectors.subarray(r * dim, (r + 1) * dim)));
    const columnData: ColumnSource[] = names.map((n) => ({ name: n, data: metadata[n].slice(start, end) as ColumnSource["data"] }));
    columnData.push({ name: vectorName, data: rows, statistics: false });
    pq.write({ columnData, rowGroupSize: end - start, pageSize: 32 * 1024 });
  }
  pq.finish();
  writeFileSync(path, bytes.getBytes());
}
