// Checks what hyparquet would trust before it reads a Parquet file: the footer's counts (rows per row
// group, values per column chunk, byte ranges) against each other and the file size, and each column
// chunk's pages against the bytes that hold them. hyparquet trusts the counts it finds: a run of a
// run-length-encoded stream longer than its page makes it write past the end of its level or index
// array for as many values as the run claims (up to 2^31: a hang, then out of memory); a SNAPPY page's
// uncompressed size is allocated as given; a DELTA_BYTE_ARRAY prefix length is allocated as given.
// Page headers are parsed with hyparquet's own parser, so the checks see what the decoder will see.
import { snappyUncompress } from "hyparquet";
import { zstdDecompress } from "./zstd.js";
import type { ColumnMetaData, FileMetaData, PageHeader, SchemaTree } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { deltaBinaryUnpack } from "hyparquet/src/delta.js";
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getSchemaPath } from "hyparquet/src/schema.js";
import { readVarInt } from "hyparquet/src/thrift.js";

/** A snappy element writes at most 64 bytes for 3 bytes of input. */
const SNAPPY_RATIO = 22;

type Fail = (problem: string) => never;
interface Column {
  meta: ColumnMetaData;
  schemaPath: SchemaTree[];
}

const bitWidth = (max: number) => 32 - Math.clz32(max);
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/**
 * The footer's counts: row counts add up, every column chunk lies in the data (between the leading
 * magic and the footer at `dataEnd`), and holds one value per row (a flat column) or at least one (a list).
 */
export function checkFooter(metadata: FileMetaData, dataEnd: number, fail: Fail): void {
  let total = 0;
  metadata.row_groups.forEach((group, g) => {
    const rows = Number(group.num_rows);
    if (!isCount(rows)) fail(`row group ${g} claims ${group.num_rows} rows`);
    total += rows;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) continue;
      const name = `row group ${g}, column '${meta.path_in_schema.join(".")}'`;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const length = Number(meta.total_compressed_size);
      if (!isCount(start) || !isCount(length)) fail(`${name} has no byte range (data_page_offset ${meta.data_page_offset}, total_compressed_size ${meta.total_compressed_size})`);
      if (start < 4 || start + length > dataEnd) fail(`${name} claims bytes ${start}–${start + length}, outside the data (bytes 4–${dataEnd})`);
      const values = Number(meta.num_values);
      const flat = getSchemaPath(metadata.schema, meta.path_in_schema).every((node) => node.element.repetition_type !== "REPEATED");
      if (!isCount(values) || (flat ? values !== rows : values < rows)) fail(`${name} holds ${meta.num_values} values for ${rows} rows`);
    }
  });
  if (Number(metadata.num_rows) !== total) fail(`the footer says ${metadata.num_rows} rows, but its row groups hold ${total}`);
}

/** Checks every page of one column chunk; `read` gives bytes [start, end) of the file (checked against its size). */
export async function checkColumnChunk(read: (start: number, end: number) => Promise<Uint8Array>, column: Column, fail: Fail): Promise<void> {
  const { meta } = column;
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const end = start + Number(meta.total_compressed_size);
  let values = 0;
  for (let at = start; at < end - 1; ) {
    const { header, length } = await pageHeader(read, at, end, fail);
    const size = header.compressed_page_size;
    if (!isCount(size) || at + length + size > end) fail(`the page at byte ${at} claims ${size} bytes, past the end of its column chunk (byte ${end})`);
    const where = (problem: string): never => fail(`the page at byte ${at}: ${problem}`);
    const n = checkPage(header, await read(at + length, at + length + size), column, where);
    if (n === undefined) return; // a page type hyparquet refuses by itself
    values += n;
    at += length + size;
  }
  if (values !== Number(meta.num_values)) fail(`its pages hold ${values} values, but the footer says ${meta.num_values}`);
}

/** A page header at `at`, parsed from a small window first (headers are tens of bytes unless they carry statistics). */
async function pageHeader(read: (start: number, end: number) => Promise<Uint8Array>, at: number, end: number, fail: Fail): Promise<{ header: PageHeader; length: number }> {
  for (const window of [4096, end - at]) {
    const bytes = await read(at, Math.min(end, at + window));
    const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
    try {
      return { header: parquetHeader(reader), length: reader.offset };
    } catch (err) {
      if (at + window >= end) fail(`the page header at byte ${at} is corrupt (${(err as Error).message})`);
    }
  }
  return fail(`the page header at byte ${at} is corrupt`);
}

/** Checks one page; returns the values it holds (0 for a dictionary page), or undefined for a page type hyparquet does not read. */
function checkPage(header: PageHeader, body: Uint8Array, { meta, schemaPath }: Column, fail: Fail): number | undefined {
  const uncompressed = Number(header.uncompressed_page_size);
  if (!isCount(uncompressed)) fail(`its uncompressed size is ${header.uncompressed_page_size}`);
  const decompress = (bytes: Uint8Array, size: number): Uint8Array | undefined => {
    if (meta.codec === "UNCOMPRESSED") {
      if (size !== bytes.length) fail(`it says ${size} bytes uncompressed but holds ${bytes.length}`);
      return bytes;
    }
    if (meta.codec === "ZSTD") {
      // zstd can shrink a page of repeated values by far more than snappy: only a size no page has is refused
      if (size > 2 ** 30) fail(`it claims ${size} bytes uncompressed`);
      try {
        return zstdDecompress(bytes, size);
      } catch (err) {
        return fail(`its ZSTD data is corrupt (${(err as Error).message})`);
      }
    }
    if (meta.codec !== "SNAPPY") return undefined; // hyparquet refuses other codecs itself
    if (size > SNAPPY_RATIO * bytes.length + 16) fail(`${bytes.length} bytes of SNAPPY data cannot hold the ${size} bytes it claims uncompressed`);
    const out = new Uint8Array(size);
    try {
      snappyUncompress(bytes, out);
    } catch (err) {
      fail(`its SNAPPY data is corrupt (${(err as Error).message})`);
    }
    return out;
  };
  const maxRep = schemaPath.length > 1 ? getMaxRepetitionLevel(schemaPath) : 0;
  const maxDef = getMaxDefinitionLevel(schemaPath);
  const type = schemaPath[schemaPath.length - 1].element.type;

  if (header.type === "DICTIONARY_PAGE") {
    if (!isCount(header.dictionary_page_header?.num_values)) fail(`its dictionary size is ${header.dictionary_page_header?.num_values}`);
    decompress(body, uncompressed);
    return 0;
  }
  if (header.type === "DATA_PAGE") {
    const daph = header.data_page_header;
    if (!daph) return undefined;
    const n = daph.num_values;
    if (!isCount(n)) fail(`it claims ${n} values`);
    const page = decompress(body, uncompressed);
    if (!page) return n;
    let at = 0;
    const prefixed = (what: string, width: number, count: number) => {
      const length = u32(page, at, fail);
      const hits = hybrid(page, at + 4, at + 4 + length, width, count, what, fail);
      at += 4 + length;
      return hits;
    };
    if (maxRep) prefixed("repetition levels", bitWidth(maxRep), n);
    const present = maxDef ? prefixed("definition levels", bitWidth(maxDef), n) : n;
    checkValues(page, at, page.length, daph.encoding, present, type, false, fail);
    return n;
  }
  if (header.type === "DATA_PAGE_V2") {
    const v2 = header.data_page_header_v2;
    if (!v2) return undefined;
    const { num_values: n, num_nulls: nulls, num_rows: rows, repetition_levels_byte_length: repLength, definition_levels_byte_length: defLength } = v2;
    if (!isCount(n) || !isCount(nulls) || !isCount(rows) || nulls > n || rows > n) fail(`it claims ${n} values, ${nulls} nulls and ${rows} rows`);
    if (!isCount(repLength) || !isCount(defLength) || repLength + defLength > body.length) fail(`its levels claim ${repLength} + ${defLength} of its ${body.length} bytes`);
    if (maxRep) hybrid(body, 0, repLength, bitWidth(maxRep), n, "repetition levels", fail);
    if (maxDef) hybrid(body, repLength, repLength + defLength, bitWidth(maxDef), n, "definition levels", fail);
    const dataSize = uncompressed - repLength - defLength;
    if (dataSize < 0) fail(`its uncompressed size ${uncompressed} is smaller than its levels`);
    const data = body.subarray(repLength + defLength);
    const page = v2.is_compressed === false ? data : decompress(data, dataSize);
    if (page) checkValues(page, 0, page.length, v2.encoding, n - nulls, type, true, fail);
    return n;
  }
  return undefined;
}

const u32 = (b: Uint8Array, at: number, fail: Fail) => {
  if (at + 4 > b.length) fail(`a length at byte ${at} runs past its ${b.length} bytes`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
};

/** The encoded values of a page, `count` of them, from byte `at` to `end` (`v2`: a DATA_PAGE_V2, whose 0-bit indices hyparquet still decodes). */
function checkValues(page: Uint8Array, at: number, end: number, encoding: string, count: number, type: string | undefined, v2: boolean, fail: Fail): void {
  if (encoding === "RLE" && type === "BOOLEAN") {
    const length = u32(page, at, fail);
    hybrid(page, at + 4, at + 4 + length, 1, count, "boolean values", fail);
  } else if (encoding === "RLE_DICTIONARY" || encoding === "PLAIN_DICTIONARY" || encoding === "RLE") {
    if (at >= end) fail("its dictionary indices are missing");
    const width = page[at];
    if (width > 32) fail(`its dictionary indices claim ${width} bits each`);
    if (width || v2) hybrid(page, at + 1, end, width, count, "dictionary indices", fail);
  } else if (encoding === "BYTE_STREAM_SPLIT") {
    const width = type === "DOUBLE" || type === "INT64" ? 8 : 4;
    if (count * width > end - at) fail(`${count} split values need ${count * width} bytes, it holds ${end - at}`);
  } else if (encoding?.startsWith("DELTA_")) {
    checkDelta(page, at, end, encoding, count, fail);
  }
}

/**
 * Checks a run-length/bit-packed hybrid stream of `count` values of `width` bits in bytes [at, end):
 * no run may claim more values than remain (hyparquet writes every value a run claims). For definition
 * levels, returns how many equal the largest a `width` can encode: the non-null values.
 */
function hybrid(b: Uint8Array, at: number, end: number, width: number, count: number, what: string, fail: Fail): number {
  if (end > b.length) fail(`its ${what} claim bytes up to ${end}, past its ${b.length} bytes`);
  const view = new DataView(b.buffer, b.byteOffset, end);
  const reader = { view, offset: at };
  const max = 2 ** width - 1;
  let seen = 0;
  let hits = 0;
  while (seen < count) {
    if (reader.offset >= end) fail(`its ${what} end after ${seen} of ${count} values`);
    let header: number;
    try {
      header = readVarInt(reader);
    } catch {
      return fail(`its ${what} end inside a run header`);
    }
    if (header & 1) {
      // bit-packed groups of 8 values; the page's last run may claim more than remain (DuckDB pads it to
      // its block size); hyparquet keeps only the values that fit
      const values = Math.min((header >>> 1) * 8, count - seen);
      const bytes = (header >>> 1) * width;
      if (reader.offset + Math.ceil((values * width) / 8) > end) fail(`its ${what} end inside a bit-packed run`);
      for (let i = 0; i < values && what === "definition levels"; i++) {
        let v = 0;
        for (let bit = 0; bit < width; bit++) {
          const p = i * width + bit;
          if ((b[reader.offset + (p >> 3)] >> (p & 7)) & 1) v += 2 ** bit;
        }
        if (v === max) hits++;
      }
      seen += values;
      reader.offset += bytes;
    } else {
      const run = header >>> 1;
      if (run > count - seen) fail(`a run of ${run} ${what} overflows the ${count - seen} values left in the page`);
      const valueBytes = (width + 7) >> 3;
      if (reader.offset + valueBytes > end) fail(`its ${what} end inside a run`);
      let v = 0;
      for (let i = 0; i < valueBytes; i++) v += b[reader.offset + i] * 2 ** (8 * i);
      if (v === max) hits += run;
      seen += run;
      reader.offset += valueBytes;
    }
  }
  return hits;
}

/**
 * DELTA_* encodings: the block header must be the shape the format allows before hyparquet allocates by
 * it, and DELTA_BYTE_ARRAY's prefix and suffix lengths must fit what precedes and follows them.
 */
function checkDelta(page: Uint8Array, at: number, end: number, encoding: string, count: number, fail: Fail): void {
  const reader = { view: new DataView(page.buffer, page.byteOffset, end), offset: at };
  const lengths = (): Int32Array => {
    const start = reader.offset;
    let blockSize: number;
    let miniblocks: number;
    try {
      blockSize = readVarInt(reader);
      miniblocks = readVarInt(reader);
    } catch {
      return fail(`its ${encoding} header is cut off`);
    }
    if (!(blockSize > 0 && blockSize % 128 === 0 && miniblocks > 0 && miniblocks <= end - reader.offset && (blockSize / miniblocks) % 32 === 0)) {
      fail(`its ${encoding} header claims blocks of ${blockSize} values in ${miniblocks} miniblocks`);
    }
    reader.offset = start;
    const out = new Int32Array(count);
    try {
      deltaBinaryUnpack(reader, count, out);
    } catch (err) {
      fail(`its ${encoding} data is corrupt (${(err as Error).message})`);
    }
    return out;
  };
  if (encoding === "DELTA_BINARY_PACKED") {
    lengths();
    return;
  }
  const prefixes = encoding === "DELTA_BYTE_ARRAY" ? lengths() : new Int32Array(count);
  const suffixes = lengths();
  let previous = 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    if (prefixes[i] < 0 || prefixes[i] > previous || suffixes[i] < 0) fail(`value ${i} claims a prefix of ${prefixes[i]} bytes and ${suffixes[i]} more`);
    previous = prefixes[i] + suffixes[i];
    bytes += suffixes[i];
  }
  if (bytes > end - reader.offset) fail(`its values claim ${bytes} bytes, it holds ${end - reader.offset}`);
}
