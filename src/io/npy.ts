// NumPy .npy files (format versions 1.0, 2.0, 3.0): magic, version, a Python dict literal header
// (descr, fortran_order, shape), then the raw data. The header is parsed as a literal — never
// evaluated — and object dtypes are refused outright, because loading them means unpickling, which
// can run arbitrary code.
import { InputError } from "./errors.js";
import { type DType, type NdArray, checkArray, dataBytes, itemSize, numel, viewBytes } from "./ndarray.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64; // numpy pads the header so the data starts on a 64-byte boundary

/** A Python literal as it appears in a header: tuples and lists both become arrays. */
type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Parses the small subset of Python literal syntax numpy writes; `fail` throws. */
function parseLiteral(text: string, fail: (problem: string) => never): PyValue {
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (depth: number): PyValue => {
    if (depth > 32) fail("nesting too deep");
    skip();
    const c = text[i];
    if (c === "{" || c === "(" || c === "[") return sequence(c, depth);
    if (c === "'" || c === '"') return string(c);
    const m = /^(?:True|False|None|-?\d+L?)/.exec(text.slice(i, i + 32));
    if (!m) fail(`unexpected ${c === undefined ? "end of header" : JSON.stringify(c)} at position ${i}`);
    i += m[0].length;
    if (m[0] === "True") return true;
    if (m[0] === "False") return false;
    if (m[0] === "None") return null;
    return Number(m[0].replace("L", "")); // Python 2 headers write longs as 3L
  };
  const sequence = (open: string, depth: number): PyValue => {
    const close = open === "{" ? "}" : open === "(" ? ")" : "]";
    const items: PyValue[] = [];
    const entries: [string, PyValue][] = [];
    i++;
    for (;;) {
      skip();
      if (text[i] === close) break;
      const item = value(depth + 1);
      if (open === "{") {
        skip();
        if (text[i++] !== ":") fail(`expected ':' after dict key at position ${i - 1}`);
        entries.push([String(item), value(depth + 1)]);
      } else items.push(item);
      skip();
      if (text[i] === ",") i++;
      else if (text[i] !== close) fail(`expected ',' or '${close}' at position ${i}`);
    }
    i++;
    return open === "{" ? Object.fromEntries(entries) : items;
  };
  const string = (quote: string): string => {
    let out = "";
    for (i++; i < text.length && text[i] !== quote; i++) {
      if (text[i] !== "\\") out += text[i];
      else {
        const e = text[++i];
        out += e === "n" ? "\n" : e === "t" ? "\t" : e === "0" ? "\0" : e ?? "";
      }
    }
    if (i >= text.length) fail("unterminated string");
    i++;
    return out;
  };
  const result = value(0);
  skip();
  if (i < text.length) fail(`unexpected text after the header dict at position ${i}`);
  return result;
}

const KINDS: Record<string, DType> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  b1: "bool",
  "?1": "bool",
};

/** descr → dtype and byte order; refuses objects, structured and other unsupported dtypes. */
function parseDescr(descr: PyValue, file: string | undefined): { dtype: DType; bigEndian: boolean } {
  const shown = typeof descr === "string" ? `'${descr}'` : JSON.stringify(descr);
  if (shown.includes("O")) throw new InputError(file, `dtype ${shown} holds Python objects: object arrays (pickles) are never loaded`);
  if (typeof descr !== "string") throw new InputError(file, `structured dtype ${shown} is not supported; save plain numeric arrays`);
  const m = /^([<>|=]?)([a-z?])(\d+)?$/i.exec(descr);
  const dtype = m ? KINDS[m[2] + (m[3] ?? "1")] : undefined;
  if (!m || !dtype) throw new InputError(file, `unsupported dtype '${descr}' (supported: float16/32/64, int8–64, uint8–64, bool)`);
  return { dtype, bigEndian: m[1] === ">" };
}

function swapBytes(raw: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += size) for (let b = 0; b < size; b++) out[i + b] = raw[i + size - 1 - b];
  return out;
}

/** Reorders column-major (Fortran) elements of `shape` into row-major (C) order. */
function fortranToC(raw: Uint8Array, shape: number[], size: number): Uint8Array {
  const n = numel(shape);
  const nd = shape.length;
  const out = new Uint8Array(raw.length);
  const fstride: number[] = [];
  for (let j = 0, s = 1; j < nd; j++) (fstride[j] = s), (s *= shape[j]);
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    for (let b = 0, src = f * size, dst = c * size; b < size; b++) out[dst + b] = raw[src + b];
    for (let j = nd - 1; j >= 0; j--) {
      f += fstride[j];
      if (++idx[j] < shape[j]) break;
      f -= fstride[j] * shape[j];
      idx[j] = 0;
    }
  }
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Reads a .npy file. The result views `bytes` when the data is aligned little-endian C order, else it is a copy. */
export function readNpy(bytes: Uint8Array, file?: string): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new InputError(file, "not a .npy file (it does not start with the magic bytes \\x93NUMPY)");
  const [major, minor] = [bytes[6], bytes[7]];
  if (major < 1 || major > 3 || minor !== 0) throw new InputError(file, `unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pre = major === 1 ? 10 : 12;
  if (bytes.length < pre) throw new InputError(file, `truncated: ${bytes.length} bytes is shorter than the ${pre}-byte .npy preamble`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = pre + headerLength;
  if (dataStart > bytes.length) throw new InputError(file, `truncated: the header is ${headerLength} bytes but only ${bytes.length - pre} bytes follow the preamble`);

  const headerBytes = bytes.subarray(pre, dataStart);
  let text: string;
  try {
    text = major === 3 ? new TextDecoder("utf-8", { fatal: true }).decode(headerBytes) : latin1(headerBytes);
  } catch {
    throw new InputError(file, "the .npy header is not valid UTF-8");
  }
  const fail = (problem: string): never => {
    throw new InputError(file, `bad .npy header (${problem}): ${JSON.stringify(text.slice(0, 200))}`);
  };
  const header = parseLiteral(text, fail);
  if (header === null || typeof header !== "object" || Array.isArray(header)) return fail("not a dict");
  if (!("descr" in header) || !("shape" in header) || !("fortran_order" in header)) return fail("needs the keys 'descr', 'fortran_order' and 'shape'");
  const { dtype, bigEndian } = parseDescr(header.descr, file);
  const shapeValue = header.shape;
  if (!Array.isArray(shapeValue) || !shapeValue.every((d): d is number => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    return fail("shape must be a tuple of non-negative integers");
  }
  const shape = shapeValue;
  if (typeof header.fortran_order !== "boolean") return fail("fortran_order must be True or False");

  // check the data is all there before allocating anything
  const size = itemSize(dtype);
  const count = numel(shape);
  const needed = count * size;
  const available = bytes.length - dataStart;
  if (needed > available) {
    throw new InputError(file, `truncated: the header says shape (${shape.join(", ")}) of '${header.descr}' needs ${needed} bytes of data, but only ${available} bytes follow the header`);
  }
  let raw = bytes.subarray(dataStart, dataStart + needed);
  if (bigEndian && size > 1) raw = swapBytes(raw, size);
  if (header.fortran_order && shape.length > 1) raw = fortranToC(raw, shape, size);
  return { dtype, shape: [...shape], data: viewBytes(dtype, raw, 0, count) };
}

const DESCR: Record<DType, string | undefined> = {
  float16: "<f2",
  bfloat16: undefined, // numpy has no bfloat16
  float32: "<f4",
  float64: "<f8",
  int8: "|i1",
  uint8: "|u1",
  int16: "<i2",
  uint16: "<u2",
  int32: "<i4",
  uint32: "<u4",
  int64: "<i8",
  uint64: "<u8",
  bool: "|b1",
};

/** Writes a C-order .npy file (version 1.0, or 2.0 when the header needs more than 64 KiB) as np.save does. */
export function writeNpy(a: NdArray): Uint8Array {
  checkArray(a, "writeNpy");
  const descr = DESCR[a.dtype];
  if (descr === undefined) throw new TypeError(`writeNpy: numpy has no ${a.dtype} dtype; convert with toFloat32 first`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / ALIGN) * ALIGN;
  if (total - pre > 0xffff) {
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / ALIGN) * ALIGN;
  }
  const data = dataBytes(a);
  const out = new Uint8Array(total + data.length);
  out.set(MAGIC);
  out[6] = pre === 10 ? 1 : 2;
  const view = new DataView(out.buffer);
  if (pre === 10) view.setUint16(8, total - pre, true);
  else view.setUint32(8, total - pre, true);
  const header = dict.padEnd(total - pre - 1, " ") + "\n";
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(data, total);
  return out;
}
