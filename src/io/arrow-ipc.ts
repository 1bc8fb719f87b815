// Checks Arrow IPC framing and metadata before apache-arrow reads it. apache-arrow trusts every length,
// offset and count it finds: a lying footer length makes it allocate that many bytes, a lying flatbuffer
// vector length makes it loop billions of times, a record batch block that holds another kind of message
// makes its file reader loop forever, and a lying row count is taken at its word. Here every one is
// checked against the bytes that are really there first, and every failure names the file.
//
// Layout (https://arrow.apache.org/docs/format/Columnar.html#ipc-file-format): a file is "ARROW1\0\0",
// a stream of messages, a flatbuffer Footer, its int32 length and "ARROW1"; a stream is messages alone.
// A message is [0xFFFFFFFF] int32 metadata length, a flatbuffer Message, then bodyLength bytes of body.
import { DataType, type Data, type Field, type RecordBatch, type Schema } from "apache-arrow";
import { InputError } from "./errors.js";

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
/** The int32 footer length and the closing magic. */
export const ARROW_TAIL = 10;
const CONTINUATION = 0xffffffff;
const SCHEMA = 1;
const DICTIONARY_BATCH = 2;
const RECORD_BATCH = 3;
const TIMESTAMP = 10;
const UNION = 14;

/** Where a message sits in an IPC file, as the footer records it. */
export interface ArrowBlock {
  offset: number;
  metaDataLength: number;
  bodyLength: number;
}

export function hasArrowMagic(bytes: Uint8Array, at = 0): boolean {
  return MAGIC.every((m, i) => bytes[at + i] === m);
}

/**
 * A bounds-checked walk over one flatbuffer. Every table, vector and string must lie inside the buffer,
 * and the walk visits at most one table per 4 bytes (each table needs 4), so shared or cyclic
 * references cannot make the work grow beyond the buffer's size.
 */
class Flatbuffer {
  private readonly view: DataView;
  private budget: number;
  constructor(
    private readonly bytes: Uint8Array,
    readonly fail: (problem: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.budget = Math.floor(bytes.length / 4) + 1;
  }

  private need(at: number, n: number): void {
    if (!(Number.isSafeInteger(at) && at >= 0 && n >= 0 && at + n <= this.bytes.length)) this.fail(`it points at bytes ${at}–${at + n}, outside its ${this.bytes.length} bytes`);
  }

  u8 = (at: number) => (this.need(at, 1), this.view.getUint8(at));
  i32 = (at: number) => (this.need(at, 4), this.view.getInt32(at, true));
  i64 = (at: number) => (this.need(at, 8), Number(this.view.getBigInt64(at, true)));

  /** The target of the offset stored at `at`. */
  ref(at: number): number {
    this.need(at, 4);
    return at + this.view.getUint32(at, true);
  }

  /** A table at `pos`: returns field i's absolute position, or 0 when absent. */
  table(pos: number): (i: number) => number {
    if (--this.budget < 0) this.fail("it holds more tables than its size allows");
    const vtable = pos - this.i32(pos);
    this.need(vtable, 4);
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2) this.fail(`a vtable is ${vtableSize} bytes`);
    this.need(vtable, vtableSize);
    this.need(pos, tableSize);
    return (i) => {
      const at = 4 + 2 * i;
      if (at + 2 > vtableSize) return 0;
      const offset = this.view.getUint16(vtable + at, true);
      if (offset !== 0 && offset + 1 > tableSize) this.fail(`a field lies outside its table`);
      return offset ? pos + offset : 0;
    };
  }

  /** The vector whose offset is stored at `at` (0: absent): its first element and length. */
  vector(at: number, elementSize: number): [number, number] {
    if (!at) return [0, 0];
    const v = this.ref(at);
    this.need(v, 4);
    const n = this.view.getUint32(v, true);
    this.need(v + 4, n * elementSize);
    return [v + 4, n];
  }

  /** Each table of the vector of tables whose offset is stored at `at`. */
  tables(at: number, visit: (pos: number) => void): void {
    const [start, n] = this.vector(at, 4);
    for (let i = 0; i < n; i++) visit(this.ref(start + 4 * i));
  }
}

// ---- the Arrow schemas (field indices as in Schema.fbs, Message.fbs, File.fbs) ----

function keyValues(fb: Flatbuffer, at: number): void {
  fb.tables(at, (pos) => {
    const kv = fb.table(pos);
    fb.vector(kv(0), 1);
    fb.vector(kv(1), 1);
  });
}

function field(fb: Flatbuffer, pos: number, depth: number): void {
  if (depth > 64) fb.fail("its fields nest more than 64 deep");
  const f = fb.table(pos);
  fb.vector(f(0), 1); // name
  const typeId = f(2) ? fb.u8(f(2)) : 0;
  if (f(3)) {
    const type = fb.table(fb.ref(f(3)));
    if (typeId === TIMESTAMP) fb.vector(type(1), 1); // timezone
    if (typeId === UNION) fb.vector(type(1), 4); // typeIds
  }
  if (f(4)) {
    const dictionary = fb.table(fb.ref(f(4)));
    if (dictionary(1)) fb.table(fb.ref(dictionary(1))); // index type
  }
  fb.tables(f(5), (child) => field(fb, child, depth + 1));
  keyValues(fb, f(6));
}

function schema(fb: Flatbuffer, pos: number): void {
  const s = fb.table(pos);
  fb.tables(s(1), (f) => field(fb, f, 0));
  keyValues(fb, s(2));
  fb.vector(s(3), 8); // features
}

function recordBatch(fb: Flatbuffer, pos: number): void {
  const r = fb.table(pos);
  fb.vector(r(1), 16); // nodes: length, null_count
  fb.vector(r(2), 16); // buffers: offset, length
  if (r(3)) fb.table(fb.ref(r(3))); // compression
  fb.vector(r(4), 8); // variadic buffer counts
}

/** Checks a Message flatbuffer; returns its header type and body length. */
function message(bytes: Uint8Array, fail: (problem: string) => never): { type: number; bodyLength: number } {
  const fb = new Flatbuffer(bytes, fail);
  const m = fb.table(fb.ref(0));
  const type = m(1) ? fb.u8(m(1)) : 0;
  const header = m(2) ? fb.ref(m(2)) : 0;
  if (!header) fail("a message has no header");
  if (type === SCHEMA) schema(fb, header);
  else if (type === DICTIONARY_BATCH) {
    const d = fb.table(header);
    if (d(1)) recordBatch(fb, fb.ref(d(1)));
  } else if (type === RECORD_BATCH) recordBatch(fb, header);
  else fail(`a message of type ${type} is not a schema, dictionary or record batch (tensors are not read)`);
  const bodyLength = m(3) ? fb.i64(m(3)) : 0;
  if (!(Number.isSafeInteger(bodyLength) && bodyLength >= 0)) fail(`a message claims a body of ${bodyLength} bytes`);
  keyValues(fb, m(4));
  return { type, bodyLength };
}

/**
 * Reads the message framing at the start of `bytes` (the rest of the file or block from there):
 * metadata length (after the optional continuation marker), then the checked Message.
 * Returns undefined at an end-of-stream marker.
 */
function framedMessage(bytes: Uint8Array, fail: (problem: string) => never): { type: number; bodyLength: number; metadataEnd: number } | undefined {
  if (bytes.length < 4) fail(`a message is cut off after ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  if (view.getUint32(0, true) === CONTINUATION) {
    if (bytes.length < 8) fail("a message is cut off after its continuation marker");
    at = 4;
  }
  const length = view.getInt32(at, true);
  at += 4;
  if (length === 0) return undefined;
  if (length < 0 || at + length > bytes.length) fail(`a message claims ${length} bytes of metadata, but ${bytes.length - at} bytes follow`);
  return { ...message(bytes.subarray(at, at + length), fail), metadataEnd: at + length };
}

function failing(file: string | undefined, where: string, what = "Arrow IPC file"): (problem: string) => never {
  return (problem) => {
    throw new InputError(file, `is not a valid ${what}: ${where}: ${problem}`);
  };
}

/** The footer length from the file's last 10 bytes, checked against the file size. */
export function arrowFooterLength(tail: Uint8Array, size: number, file?: string): number {
  if (size < 8 + ARROW_TAIL || !hasArrowMagic(tail, 4)) {
    throw new InputError(file, "starts like an Arrow IPC file but does not end with its footer magic 'ARROW1' (cut short, or still being written?)");
  }
  const length = new DataView(tail.buffer, tail.byteOffset, tail.byteLength).getInt32(0, true);
  if (length <= 0 || length > size - 8 - ARROW_TAIL) throw new InputError(file, `is not a valid Arrow IPC file: its footer claims ${length} bytes, but the file has ${size}`);
  return length;
}

/** Checks the footer flatbuffer and that every block it lists lies between the leading magic and the footer. */
export function arrowFooter(footer: Uint8Array, size: number, file?: string): { dictionaries: ArrowBlock[]; recordBatches: ArrowBlock[] } {
  const fail = failing(file, "footer");
  const fb = new Flatbuffer(footer, fail);
  const f = fb.table(fb.ref(0));
  if (!f(1)) fail("it has no schema");
  schema(fb, fb.ref(f(1)));
  keyValues(fb, f(4));
  const dataEnd = size - ARROW_TAIL - footer.length;
  const blocks = (at: number, what: string): ArrowBlock[] => {
    const [start, n] = fb.vector(at, 24);
    return Array.from({ length: n }, (_, i) => {
      const b = { offset: fb.i64(start + 24 * i), metaDataLength: fb.i32(start + 24 * i + 8), bodyLength: fb.i64(start + 24 * i + 16) };
      if (!(b.offset >= 8 && b.metaDataLength >= 8 && b.bodyLength >= 0 && b.offset + b.metaDataLength + b.bodyLength <= dataEnd)) {
        fail(`${what} ${i} claims bytes ${b.offset}–${b.offset + b.metaDataLength + b.bodyLength}, but the data ends at byte ${dataEnd}`);
      }
      return b;
    });
  };
  return { dictionaries: blocks(f(2), "dictionary batch"), recordBatches: blocks(f(3), "record batch") };
}

/**
 * Checks the message of a block (`metadata`: the block's first metaDataLength bytes) is the kind the
 * footer says and that its body ends before `dataEnd`, the footer's start.
 */
export function arrowBlockMessage(metadata: Uint8Array, block: ArrowBlock, dataEnd: number, kind: "dictionary batch" | "record batch", index: number, file?: string): void {
  const fail = failing(file, `${kind} ${index} (at byte ${block.offset})`);
  const m = framedMessage(metadata, fail);
  if (!m || m.type !== (kind === "record batch" ? RECORD_BATCH : DICTIONARY_BATCH)) return fail(`it does not hold a ${kind} message`);
  if (block.offset + m.metadataEnd + m.bodyLength > dataEnd) fail(`its body of ${m.bodyLength} bytes runs past the end of the data (byte ${dataEnd})`);
}

/**
 * Checks an IPC file or stream before apache-arrow parses it: the framing, the footer, and the
 * metadata of every message, reading only those (`read` gives bytes [start, end) of the file).
 * `streams`: whether the stream format (no footer) is accepted; it is read message by message.
 */
export async function checkArrowIpc(read: (start: number, end: number) => Uint8Array | Promise<Uint8Array>, size: number, file: string, streams: boolean): Promise<void> {
  if (size >= 8 && hasArrowMagic(await read(0, 8))) {
    const length = arrowFooterLength(await read(size - ARROW_TAIL, size), size, file);
    const dataEnd = size - ARROW_TAIL - length;
    const { dictionaries, recordBatches } = arrowFooter(await read(dataEnd, dataEnd + length), size, file);
    for (const [kind, blocks] of [["dictionary batch", dictionaries], ["record batch", recordBatches]] as const) {
      for (const [i, b] of blocks.entries()) arrowBlockMessage(await read(b.offset, b.offset + b.metaDataLength), b, dataEnd, kind, i, file);
    }
    return;
  }
  if (!streams) throw new InputError(file, "is not an Arrow IPC file (it does not start with 'ARROW1'); streaming needs the IPC file format, not the stream format");
  for (let at = 0, n = 0; at < size; n++) {
    // neither 'ARROW1' nor a message at the start: most likely not Arrow at all, so say so first
    const fail = failing(file, `message ${n} (at byte ${at})`, n === 0 ? "Arrow IPC file or stream (it starts with neither 'ARROW1' nor an IPC message)" : "Arrow IPC stream");
    const m = framedMessage(await read(at, size), fail);
    if (!m) return;
    if (n === 0 && m.type !== SCHEMA) fail("it is not a schema message");
    if (at + m.metadataEnd + m.bodyLength > size) fail(`it claims a body of ${m.bodyLength} bytes, but ${size - at - m.metadataEnd} follow`);
    at += m.metadataEnd + m.bodyLength;
  }
}

// ---- decoded schema and columns ----

/** Every list or map type has its one child type (a lying children count leaves none, and apache-arrow cannot even name the type). */
export function checkArrowSchema(schema: Schema, file?: string): void {
  const visit = (f: Field, path: string, depth: number): void => {
    if (depth > 64) throw new InputError(file, `is not a valid Arrow IPC file: column '${path}' nests more than 64 deep`);
    const t = f.type;
    if ((DataType.isFixedSizeList(t) || DataType.isList(t) || DataType.isMap(t)) && t.children?.length !== 1) {
      throw new InputError(file, `is not a valid Arrow IPC file: column '${path}' is a list with ${t.children?.length ?? 0} value types instead of one`);
    }
    for (const c of t.children ?? []) visit(c, `${path}.${c.name}`, depth + 1);
  };
  for (const f of schema.fields) visit(f, f.name, 0);
}


/**
 * Every column of a decoded record batch holds the batch's rows, and every buffer holds what its length
 * implies (values, offsets, validity bits, children). apache-arrow builds columns as views of the message
 * body without these checks, so a lying length would otherwise reach the caller.
 */
export function checkArrowBatch(batch: RecordBatch, index: number, file?: string): void {
  const rows = batch.numRows;
  batch.schema.fields.forEach((f, i) => {
    const data = batch.data.children[i];
    const fail = (problem: string): never => {
      throw new InputError(file, `is not a valid Arrow IPC file: record batch ${index}, column '${f.name}': ${problem}`);
    };
    if (!data) return fail("is missing");
    if (data.length !== rows) fail(`holds ${data.length} rows, the batch ${rows}`);
    checkData(data, fail, 0);
  });
}

function checkData(d: Data, fail: (problem: string) => never, depth: number): void {
  if (depth > 64) fail("nests too deeply");
  const end = d.offset + d.length;
  if (!(Number.isSafeInteger(d.length) && d.length >= 0 && Number.isSafeInteger(d.offset) && d.offset >= 0)) fail(`has length ${d.length} at offset ${d.offset}`);
  const covers = (n: number | undefined, need: number, what: string) => {
    if ((n ?? 0) < need) fail(`${d.length} rows need ${need} ${what}, the file holds ${n ?? 0}`);
  };
  if (d.nullBitmap && d.nullBitmap.length > 0) covers(d.nullBitmap.length * 8, end, "validity bits");
  const t = d.type;
  const offsets = d.valueOffsets as ArrayLike<number | bigint> | undefined;
  const checkOffsets = (limit: number) => {
    if (d.length === 0) return;
    covers(offsets?.length, end + 1, "offsets");
    let last = Number(offsets![d.offset]);
    if (last < 0) fail(`has an offset of ${last}`);
    for (let i = d.offset + 1; i <= end; i++) {
      const o = Number(offsets![i]);
      if (o < last || o > limit) fail(`has offsets out of order or past its ${limit} values`);
      last = o;
    }
  };
  if ((DataType.isFixedSizeList(t) || DataType.isList(t) || DataType.isMap(t)) && !d.children[0]) fail("has no list values");
  if (DataType.isFixedSizeList(t)) covers(d.children[0]?.length, end * t.listSize, "list values");
  else if (DataType.isList(t) || DataType.isMap(t)) checkOffsets(d.children[0]?.length ?? 0);
  else if (DataType.isUtf8(t) || DataType.isBinary(t) || DataType.isLargeUtf8(t) || DataType.isLargeBinary(t)) checkOffsets(d.values?.length ?? 0);
  else if (DataType.isBool(t)) covers((d.values?.length ?? 0) * 8, end, "bits");
  else if (DataType.isStruct(t)) d.children.forEach((c) => covers(c.length, end, "child values"));
  else if (!DataType.isNull(t) && !DataType.isUnion(t) && d.values !== undefined) covers(d.values.length, end * d.stride, "values");
  for (const c of d.children) checkData(c, fail, depth + 1);
  if (d.dictionary) for (const chunk of d.dictionary.data) checkData(chunk, fail, depth + 1);
}
