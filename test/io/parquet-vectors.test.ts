// The vector column's fast path (src/io/parquet-vectors.ts) on files written two ways: featurelab's own
// writer (data pages v2) and DuckDB (@duckdb/node-api: data pages v1, several row groups, dictionary-
// encoded metadata), snappy, zstd and uncompressed, float and double. Values must come back exactly; the fast
// path must be the one that read them; what it does not handle (LZ4, null or ragged vectors) must reach
// hyparquet and its exact error or answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { open } from "node:fs/promises";
import { readFileSync, writeFileSync } from "node:fs";
import { parquetWriteBuffer } from "hyparquet-writer";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { parquetMetadataAsync, parquetSchema } from "hyparquet";
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getSchemaPath } from "hyparquet/src/schema.js";
import { readParquet, readParquetBatches, writeParquet } from "../../src/io/parquet.js";
import { decodeVectorChunk } from "../../src/io/parquet-vectors.js";
import { snappyDecompress, snappyLiterals } from "../../src/io/snappy.js";
import { zstdDecompress } from "../../src/io/zstd.js";
import { loadNative } from "../../src/engine/native.js";
import { decompress as fzstd } from "fzstd";
import { parquetHeader } from "hyparquet/src/column.js";
import { load } from "../../src/data/load.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-parquet-vectors-");
const N = 5000, D = 48;
/** The value DuckDB writes at row i, position j (exact in float32). */
const value = (i: number, j: number) => ((i * D + j) % 1000) / 8 - 60;
let con: DuckDBConnection;

before(async () => {
  con = await (await DuckDBInstance.create(":memory:")).connect();
});
after(() => con.closeSync());

async function duckdbFile(name: string, options: string, element = "FLOAT", vectorSql?: string): Promise<string> {
  const file = join(dir, name);
  const vector = vectorSql ?? `list_transform(range(${D}), j -> (((i * ${D} + j) % 1000) / 8 - 60)::${element})`;
  await con.run(`COPY (SELECT i::INTEGER AS document, (i % 7)::INTEGER AS position, 'doc' || (i % 3) AS source, ${vector} AS vector FROM range(${N}) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1024, ${options})`);
  return file;
}

function expected(rows = N): Float32Array {
  const out = new Float32Array(rows * D);
  for (let i = 0; i < rows; i++) for (let j = 0; j < D; j++) out[i * D + j] = value(i, j);
  return out;
}

/** Runs decodeVectorChunk on every row group of `file`'s vector column: how many it decoded. */
async function fastPathGroups(file: string): Promise<{ decoded: number; groups: number }> {
  const handle = await open(file, "r");
  try {
    const size = (await handle.stat()).size;
    const buffer = {
      byteLength: size,
      slice: async (s: number, e = size) => {
        const b = new Uint8Array(e - s);
        await handle.read(b, 0, e - s, s);
        return b.buffer;
      },
    };
    const metadata = await parquetMetadataAsync(buffer);
    parquetSchema(metadata);
    let decoded = 0;
    for (const group of metadata.row_groups) {
      const meta = group.columns.find((c) => c.meta_data?.path_in_schema[0] === "vector")!.meta_data!;
      const dict = Number(meta.dictionary_page_offset ?? 0);
      const start = dict > 0 ? Math.min(dict, Number(meta.data_page_offset)) : Number(meta.data_page_offset);
      const bytes = new Uint8Array(await buffer.slice(start, start + Number(meta.total_compressed_size)));
      const path = getSchemaPath(metadata.schema, meta.path_in_schema);
      const rows = Number(group.num_rows);
      const out = new Float32Array(rows * D);
      const r = decodeVectorChunk(bytes, meta, getMaxRepetitionLevel(path), getMaxDefinitionLevel(path), rows, () => ({ array: out, offset: 0 }));
      if (r) decoded++;
    }
    return { decoded, groups: metadata.row_groups.length };
  } finally {
    await handle.close();
  }
}

for (const [name, options, element] of [
  ["duckdb-snappy", "COMPRESSION snappy", "FLOAT"],
  ["duckdb-uncompressed", "COMPRESSION uncompressed", "FLOAT"],
  ["duckdb-double", "COMPRESSION snappy", "DOUBLE"],
  ["duckdb-zstd", "COMPRESSION zstd", "FLOAT"],
] as const) {
  test(`${name}: data pages v1 over several row groups decode on the fast path, exactly`, async () => {
    const file = await duckdbFile(`${name}.parquet`, options, element);
    const { decoded, groups } = await fastPathGroups(file);
    assert.ok(groups >= 3, `${groups} row groups`);
    assert.equal(decoded, groups, "every row group on the fast path");
    const table = await readParquet(file);
    assert.equal(table.dim, D);
    assert.deepEqual(table.vectors, expected());
    assert.deepEqual(Array.from(table.metadata.document as ArrayLike<number>).slice(0, 3), [0, 1, 2]);
    assert.deepEqual(Array.from(table.metadata.source as ArrayLike<string>).slice(0, 4), ["doc0", "doc1", "doc2", "doc0"]);
    // streaming gives the same rows, a row group at a time
    const parts: Float32Array[] = [];
    for await (const batch of readParquetBatches(file)) parts.push(batch.vectors);
    assert.deepEqual(Float32Array.from(parts.flatMap((p) => Array.from(p))), expected());
  });
}

for (const compression of ["SNAPPY", "UNCOMPRESSED"] as const) {
  test(`featurelab's own files (${compression}, data pages v2) decode on the fast path, exactly`, async () => {
    const file = join(dir, `own-${compression}.parquet`);
    const vectors = expected();
    await writeParquet(file, { vectors, dim: D, vectorName: "vector", metadata: { document: Int32Array.from({ length: N }, (_, i) => i) } }, { compression, rowGroupSize: 1500 });
    const { decoded, groups } = await fastPathGroups(file);
    assert.equal(groups, 4);
    assert.equal(decoded, groups);
    const set = await load(file);
    assert.deepEqual(set.vectors, vectors);
  });
}

test("a codec featurelab does not read (LZ4) is named; a null vector and a ragged row get hyparquet's errors, naming the row", async () => {
  const lz4 = await duckdbFile("lz4.parquet", "COMPRESSION lz4");
  assert.equal((await fastPathGroups(lz4)).decoded, 0);
  await assert.rejects(readParquet(lz4), (err: Error) => /lz4\.parquet/.test(err.message) && /LZ4/i.test(err.message));
  const nulls = await duckdbFile("null-row.parquet", "COMPRESSION snappy", "FLOAT", `CASE WHEN i = 3000 THEN NULL ELSE list_transform(range(${D}), j -> (i * ${D} + j)::FLOAT) END`);
  assert.equal((await fastPathGroups(nulls)).decoded, (await fastPathGroups(nulls)).groups - 1, "only the group with the null leaves the fast path");
  await assert.rejects(readParquet(nulls), /null-row\.parquet: column 'vector' has no vector in row 3000/);
  const ragged = await duckdbFile("ragged.parquet", "COMPRESSION snappy", "FLOAT", `list_transform(range(CASE WHEN i = 4100 THEN ${D - 1} ELSE ${D} END), j -> 1::FLOAT)`);
  await assert.rejects(readParquet(ragged), /ragged\.parquet: .*(ragged|4100)/);
});

test("snappy: literal-only framing round-trips; back-references (DuckDB's compressible pages) decode; malformed input is refused", () => {
  const data = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251);
  const framed = snappyLiterals(data);
  const back = new Uint8Array(data.length);
  snappyDecompress(framed, back);
  assert.deepEqual(back, data);
  // "abcabcabcabc…": a 3-byte literal, then an overlapping copy of offset 3
  const copy = new Uint8Array([12, 2 << 2, 97, 98, 99, ((9 - 4) << 2) | 1, 3]);
  const out = new Uint8Array(12);
  snappyDecompress(copy, out);
  assert.equal(new TextDecoder().decode(out), "abcabcabcabc");
  assert.throws(() => snappyDecompress(new Uint8Array([12, 2 << 2, 97, 98, 99, ((9 - 4) << 2) | 1, 9]), new Uint8Array(12)), /bad copy/);
  assert.throws(() => snappyDecompress(framed.subarray(0, framed.length - 10), new Uint8Array(data.length)), /past the end/);
});

test("zstd pages decode the same through the system's libzstd (native addon) and through fzstd; corrupt frames are refused", async () => {
  const file = await duckdbFile("zstd-page.parquet", "COMPRESSION zstd");
  const bytes = new Uint8Array(readFileSync(file));
  const metadata = await parquetMetadataAsync({ byteLength: bytes.length, slice: async (s: number, e?: number) => bytes.slice(s, e).buffer });
  const meta = metadata.row_groups[0].columns.find((c) => c.meta_data?.path_in_schema[0] === "vector")!.meta_data!;
  const reader = { view: new DataView(bytes.buffer, Number(meta.data_page_offset)), offset: 0 };
  const header = parquetHeader(reader);
  const page = bytes.subarray(Number(meta.data_page_offset) + reader.offset, Number(meta.data_page_offset) + reader.offset + header.compressed_page_size);
  const viaFzstd = fzstd(page, new Uint8Array(header.uncompressed_page_size));
  assert.deepEqual(zstdDecompress(page, header.uncompressed_page_size), viaFzstd);
  if (loadNative().addon) assert.ok(loadNative().addon!.zstdDecompress(page, new Uint8Array(header.uncompressed_page_size)) === header.uncompressed_page_size, "libzstd was there");
  const corrupt = page.slice();
  corrupt.fill(7, 20, 60);
  assert.throws(() => zstdDecompress(corrupt, header.uncompressed_page_size), /zstd/i);
});

test("float16 vectors (FLOAT16 logical type) decode on the fast path, exactly", async () => {
  const file = join(dir, "half.parquet");
  const rows = 700, dim = 24;
  const value = (i: number, j: number) => (((i * dim + j) % 400) - 200) / 4; // exact in float16
  const schema = [
    { name: "root", num_children: 1 },
    { name: "vector", repetition_type: "REQUIRED", converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", type: "FIXED_LEN_BYTE_ARRAY", type_length: 2, logical_type: { type: "FLOAT16" }, repetition_type: "REQUIRED" },
  ];
  const data = Array.from({ length: rows }, (_, i) => Array.from({ length: dim }, (_, j) => value(i, j)));
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({ schema: schema as never, columnData: [{ name: "vector", data: data as never, encoding: "PLAIN" }], rowGroupSize: 300 })));
  const table = await readParquet(file);
  assert.equal(table.dim, dim);
  assert.deepEqual(table.vectors, Float32Array.from(data.flat()));
  const bytes = new Uint8Array(readFileSync(file));
  const metadata = await parquetMetadataAsync({ byteLength: bytes.length, slice: async (s: number, e?: number) => bytes.slice(s, e).buffer });
  const meta = metadata.row_groups[0].columns[0].meta_data!;
  const chunk = bytes.subarray(Number(meta.data_page_offset), Number(meta.data_page_offset) + Number(meta.total_compressed_size));
  const out = new Float32Array(300 * dim);
  assert.deepEqual(decodeVectorChunk(chunk, meta, 1, 1, 300, () => ({ array: out, offset: 0 }), true), { dim });
  assert.deepEqual(out, Float32Array.from(data.slice(0, 300).flat()));
});
