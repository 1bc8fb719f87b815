// The fast path for the vector column of an activation table: a row group's list<float> column chunk
// decoded straight into a Float32Array. Activation files are written one way by nearly every tool —
// PLAIN floats, uncompressed, snappy or zstd, data pages v1 or v2, every row a full vector — and for those the
// work is: a page header, a memcpy-speed snappy pass, one scan of the repetition levels (a row starts
// at each 0: every row must hold `dim` values), a check that no definition level marks a null, and a
// copy of the floats. Anything else (dictionary pages, other encodings or codecs, nulls, ragged rows)
// returns undefined and hyparquet reads the chunk, with its exact error messages.
import { parquetHeader } from "hyparquet/src/column.js";
import type { ColumnMetaData, PageHeader } from "hyparquet";
import { snappyDecompress } from "./snappy.js";
import { zstdDecompress } from "./zstd.js";
import { toFloat32 } from "./ndarray.js";

/** Decompressed pages, reused from chunk to chunk. */
let scratch = new Uint8Array(0);

/** Where the decoded vectors go, once their length is known. */
export type VectorTarget = (dim: number, numRows: number) => { array: Float32Array; offset: number };

const bitWidth = (max: number) => (max === 0 ? 0 : 32 - Math.clz32(max));

function varint(bytes: Uint8Array, state: { p: number }): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (state.p >= bytes.length) throw new Error("level run header past the end");
    const b = bytes[state.p++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return value;
    shift += 7;
  }
}

/** Every one of `n` levels in an RLE / bit-packed run equals `want` (no nulls, no empty lists). */
function allLevels(levels: Uint8Array, n: number, width: number, want: number): boolean {
  const state = { p: 0 };
  let seen = 0;
  const bytesPerValue = Math.ceil(width / 8);
  while (seen < n) {
    const header = varint(levels, state);
    if (header & 1) {
      const count = (header >>> 1) * 8;
      const bytes = (header >>> 1) * width;
      if (state.p + bytes > levels.length) return false;
      // Unpack `width`-bit values, least significant bit first.
      let bit = state.p * 8;
      for (let i = 0; i < count && seen < n; i++, seen++) {
        let v = 0;
        for (let b = 0; b < width; b++, bit++) v |= ((levels[bit >>> 3] >>> (bit & 7)) & 1) << b;
        if (v !== want) return false;
      }
      state.p += bytes;
    } else {
      const count = header >>> 1;
      let v = 0;
      for (let b = 0; b < bytesPerValue; b++) v |= levels[state.p++] << (8 * b);
      if (v !== want && count > 0) return false;
      seen += count;
    }
  }
  return true;
}

/** Rows so far (`rows`) and the length of the row in progress (`length`, −1 before the first). */
interface RowState {
  rows: number;
  length: number;
}

/**
 * Walks `n` repetition levels (bit width 1: 0 starts a row, 1 continues it), checking every finished
 * row holds `dim` values. False when one does not.
 */
function walkRows(levels: Uint8Array, n: number, dim: number, s: RowState): boolean {
  const state = { p: 0 };
  let seen = 0;
  const startRow = () => {
    if (s.length !== -1 && s.length !== dim) return false;
    s.rows++;
    s.length = 1;
    return true;
  };
  while (seen < n) {
    const header = varint(levels, state);
    if (header & 1) {
      const groups = header >>> 1;
      if (state.p + groups > levels.length) return false;
      for (let g = 0; g < groups && seen < n; g++) {
        const byte = levels[state.p + g];
        if (byte === 0xff && seen + 8 <= n && s.length >= 0) {
          s.length += 8;
          seen += 8;
          continue;
        }
        for (let j = 0; j < 8 && seen < n; j++, seen++) {
          if ((byte >>> j) & 1) {
            if (s.length < 0) return false;
            s.length++;
          } else if (!startRow()) return false;
        }
      }
      state.p += groups;
    } else {
      const count = header >>> 1;
      const v = levels[state.p++];
      if (v === 1) {
        if (s.length < 0) return false;
        s.length += count;
      } else if (v === 0) {
        for (let i = 0; i < count; i++) if (!startRow()) return false;
      } else return false;
      seen += count;
    }
  }
  return true;
}

/**
 * Decode the vector column chunk `chunk` (its bytes, from its first page) of a row group of `numRows`
 * rows into the target, or undefined when the fast path does not apply (see the top of this file).
 * `maxRep`, `maxDef`: the column's maximum repetition and definition levels.
 */
export function decodeVectorChunk(chunk: Uint8Array, meta: ColumnMetaData, maxRep: number, maxDef: number, numRows: number, target: VectorTarget, half = false): { dim: number } | undefined {
  // `half`: the elements are float16 (FIXED_LEN_BYTE_ARRAY of 2 bytes with the FLOAT16 logical type)
  if (maxRep !== 1 || (meta.type !== "FLOAT" && meta.type !== "DOUBLE" && !(half && meta.type === "FIXED_LEN_BYTE_ARRAY"))) return undefined;
  if (meta.codec !== "UNCOMPRESSED" && meta.codec !== "SNAPPY" && meta.codec !== "ZSTD") return undefined;
  const total = Number(meta.num_values);
  if (numRows === 0 || total % numRows !== 0) return undefined;
  const dim = total / numRows;
  if (dim === 0) return undefined;
  const width = half ? 2 : meta.type === "FLOAT" ? 4 : 8;
  const defWidth = bitWidth(maxDef);
  const rows: RowState = { rows: 0, length: -1 };
  let out: { array: Float32Array; offset: number } | undefined;
  let done = 0;
  let pos = 0;
  const decompress = (bytes: Uint8Array, size: number): Uint8Array => {
    if (meta.codec === "UNCOMPRESSED") return bytes;
    if (scratch.length < size) scratch = new Uint8Array(size);
    const into = scratch.subarray(0, size);
    if (meta.codec === "ZSTD") return zstdDecompress(bytes, size, into);
    snappyDecompress(bytes, into);
    return into;
  };
  try {
    while (done < total) {
      if (pos >= chunk.length) return undefined;
      const reader = { view: new DataView(chunk.buffer, chunk.byteOffset + pos, chunk.length - pos), offset: 0 };
      const header: PageHeader = parquetHeader(reader);
      pos += reader.offset;
      const page = chunk.subarray(pos, pos + header.compressed_page_size);
      pos += header.compressed_page_size;
      if (page.length !== header.compressed_page_size) return undefined;
      let rep: Uint8Array, def: Uint8Array, values: Uint8Array, n: number;
      if (header.type === "DATA_PAGE" && header.data_page_header) {
        const h = header.data_page_header;
        if (h.encoding !== "PLAIN") return undefined;
        const raw = decompress(page, header.uncompressed_page_size);
        const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
        let p = 0;
        const repLength = view.getUint32(p, true);
        rep = raw.subarray(p + 4, p + 4 + repLength);
        p += 4 + repLength;
        const defLength = view.getUint32(p, true);
        def = raw.subarray(p + 4, p + 4 + defLength);
        p += 4 + defLength;
        values = raw.subarray(p);
        n = h.num_values;
      } else if (header.type === "DATA_PAGE_V2" && header.data_page_header_v2) {
        const h = header.data_page_header_v2;
        if (h.encoding !== "PLAIN" || h.num_nulls) return undefined;
        const levels = h.repetition_levels_byte_length + h.definition_levels_byte_length;
        rep = page.subarray(0, h.repetition_levels_byte_length);
        def = page.subarray(h.repetition_levels_byte_length, levels);
        const body = page.subarray(levels);
        values = h.is_compressed === false ? body : decompress(body, header.uncompressed_page_size - levels);
        n = h.num_values;
      } else if (header.type === "DICTIONARY_PAGE") {
        return undefined;
      } else continue; // index pages carry no values
      if (n > total - done || values.length < n * width) return undefined;
      if (!walkRows(rep, n, dim, rows) || !allLevels(def, n, defWidth, maxDef)) return undefined;
      out ??= target(dim, numRows);
      const at = out.offset + done;
      if (width === 4) new Uint8Array(out.array.buffer, out.array.byteOffset + at * 4, n * 4).set(values.subarray(0, n * 4));
      else if (width === 2) {
        const bytes = values.byteOffset % 2 ? values.slice(0, n * 2) : values; // a Uint16Array view needs even alignment
        toFloat32({ dtype: "float16", shape: [n], data: new Uint16Array(bytes.buffer, bytes.byteOffset, n) }, out.array.subarray(at, at + n));
      } else {
        const doubles = new DataView(values.buffer, values.byteOffset, n * 8);
        for (let i = 0; i < n; i++) out.array[at + i] = doubles.getFloat64(i * 8, true);
      }
      done += n;
    }
  } catch {
    return undefined; // malformed: hyparquet and the page checks say what is wrong
  }
  return rows.rows === numRows && rows.length === dim ? { dim } : undefined;
}
