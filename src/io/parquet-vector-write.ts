// The vector column of a row group written straight from the Float32Array: data pages v2 of PLAIN floats
// (as hyparquet-writer and pyarrow lay out list<float>), the repetition levels as one bit-packed run (a 0
// starting each row, 1s after it), the definition levels as one run of 1s (no nulls), the floats framed
// as snappy literals (activations do not compress; searching for matches would only cost time) or left
// uncompressed. No per-value JavaScript: building nested arrays for hyparquet-writer capped writing at
// ~10 MB/s.
import type { ColumnChunk } from "hyparquet";
import type { Writer } from "hyparquet-writer";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { snappyLiterals } from "./snappy.js";

/** Target bytes of floats per page. */
const PAGE_BYTES = 1 << 20;

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return out;
}

/** Repetition levels of `rows` lists of `dim` values: one bit-packed run, 1s but for the bit starting each row. */
function repetitionLevels(rows: number, dim: number): Uint8Array {
  const n = rows * dim;
  const groups = Math.ceil(n / 8);
  const header = varint((groups << 1) | 1);
  const out = new Uint8Array(header.length + groups).fill(0xff);
  out.set(header, 0);
  for (let r = 0; r < rows; r++) {
    const bit = r * dim;
    out[header.length + (bit >>> 3)] &= ~(1 << (bit & 7));
  }
  const tail = n & 7; // padding bits past the last value: 0
  if (tail) out[out.length - 1] &= (1 << tail) - 1;
  return out;
}

/** Definition levels of `n` present values (maximum level 1): one RLE run. */
function definitionLevels(n: number): Uint8Array {
  return Uint8Array.from([...varint(n << 1), 1]);
}

/**
 * Write rows [rowStart, rowEnd) of `vectors` (row-major, `dim` floats each) as the column chunk of the
 * list column `path` (e.g. ["vector", "list", "element"]); returns its metadata for the row group.
 */
export function writeVectorChunk(writer: Writer, vectors: Float32Array, dim: number, rowStart: number, rowEnd: number, path: string[], codec: "SNAPPY" | "UNCOMPRESSED"): ColumnChunk {
  const start = writer.offset;
  const rowsPerPage = Math.max(1, Math.floor(PAGE_BYTES / (4 * dim)));
  let uncompressed = 0;
  for (let from = rowStart; from < rowEnd; from += rowsPerPage) {
    const rows = Math.min(rowsPerPage, rowEnd - from);
    const n = rows * dim;
    const rep = repetitionLevels(rows, dim);
    const def = definitionLevels(n);
    const floats = new Uint8Array(vectors.buffer, vectors.byteOffset + from * dim * 4, n * 4);
    const body = codec === "SNAPPY" ? snappyLiterals(floats) : floats;
    const headerStart = writer.offset;
    writePageHeader(writer, {
      type: "DATA_PAGE_V2",
      uncompressed_page_size: rep.length + def.length + floats.length,
      compressed_page_size: rep.length + def.length + body.length,
      data_page_header_v2: { num_values: n, num_nulls: 0, num_rows: rows, encoding: "PLAIN", definition_levels_byte_length: def.length, repetition_levels_byte_length: rep.length, is_compressed: codec === "SNAPPY" },
    });
    writer.appendBytes(rep);
    writer.appendBytes(def);
    writer.appendBytes(body);
    uncompressed += writer.offset - headerStart - body.length + floats.length;
  }
  return {
    file_offset: BigInt(start),
    meta_data: {
      type: "FLOAT",
      encodings: ["PLAIN", "RLE"],
      path_in_schema: path,
      codec,
      num_values: BigInt((rowEnd - rowStart) * dim),
      total_uncompressed_size: BigInt(uncompressed),
      total_compressed_size: BigInt(writer.offset - start),
      data_page_offset: BigInt(start),
    },
  };
}
