// .safetensors: an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then the raw
// little-endian tensor bytes. Every length and offset is checked against the file size before
// anything is allocated, so a corrupt or hostile header fails fast instead of exhausting memory.
import { InputError } from "./errors.js";
import { type DType, type NdArray, checkArray, dataBytes, itemSize, numel, viewBytes } from "./ndarray.js";

const MAX_HEADER = 100_000_000; // the Python library's own limit; real headers are kilobytes
const METADATA = "__metadata__";

const DTYPES: Record<string, DType> = {
  F16: "float16",
  BF16: "bfloat16",
  F32: "float32",
  F64: "float64",
  I8: "int8",
  U8: "uint8",
  I16: "int16",
  U16: "uint16",
  I32: "int32",
  U32: "uint32",
  I64: "int64",
  U64: "uint64",
  BOOL: "bool",
};
const NAMES = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v, k])) as Record<DType, string>;

export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data section (dataStart). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: Record<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Offset of the data section in the file: 8 + N. */
  dataStart: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and validates the header. `bytes` holds at least the first 8 + N bytes of the file (a big
 * file's header can be read from its start alone); `fileSize` is the whole file's size.
 */
export function readSafetensorsHeader(bytes: Uint8Array, fileSize: number, file?: string): SafetensorsHeader {
  if (fileSize < 8 || bytes.length < 8) throw new InputError(file, `not a .safetensors file: ${Math.min(fileSize, bytes.length)} bytes is too short for the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (8n + n > BigInt(fileSize)) throw new InputError(file, `not a valid .safetensors file: the header length ${n} runs past the end of the file (${fileSize} bytes)`);
  if (n > BigInt(MAX_HEADER)) throw new InputError(file, `not a valid .safetensors file: the header length ${n} is larger than ${MAX_HEADER} bytes`);
  const headerLength = Number(n);
  const dataStart = 8 + headerLength;
  if (bytes.length < dataStart) throw new InputError(file, `need the first ${dataStart} bytes to read the .safetensors header, got ${bytes.length}`);

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    throw new InputError(file, `the .safetensors header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) throw new InputError(file, "the .safetensors header is not a JSON object");

  const dataSize = fileSize - dataStart;
  const metadata: [string, string][] = [];
  const tensors: [string, TensorInfo][] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === METADATA) {
      if (entry === null) continue; // the Python library accepts an explicit null
      if (!isObject(entry)) throw new InputError(file, `${METADATA} must be an object of strings`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") throw new InputError(file, `${METADATA}.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata.push([k, v]);
      }
      continue;
    }
    const bad = (problem: string): never => {
      throw new InputError(file, `tensor ${JSON.stringify(name)}: ${problem}`);
    };
    if (!isObject(entry)) bad("its header entry is not an object");
    const { dtype: code, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    const dtype = typeof code === "string" && Object.hasOwn(DTYPES, code) ? DTYPES[code] : undefined;
    if (dtype === undefined) return bad(`unknown dtype ${JSON.stringify(code)} (supported: ${Object.keys(DTYPES).join(", ")})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) return bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) return bad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataSize) bad(`data_offsets [${begin}, ${end}] lie outside the ${dataSize} bytes of data in the file`);
    const needed = numel(shape) * itemSize(dtype);
    if (end - begin !== needed) bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape [${shape.join(", ")}] of ${code} needs ${needed}`);
    tensors.push([name, { dtype, shape: shape as number[], begin, end }]);
  }
  // fromEntries defines own properties, so a tensor named __proto__ cannot reach the prototype
  return { tensors: Object.fromEntries(tensors), metadata: Object.fromEntries(metadata), dataStart };
}

/** Reads a whole .safetensors file; tensors view `bytes` where alignment allows, else are copies. */
export function readSafetensors(bytes: Uint8Array, file?: string): { tensors: Record<string, NdArray>; metadata: Record<string, string> } {
  const header = readSafetensorsHeader(bytes, bytes.length, file);
  const tensors = Object.fromEntries(
    Object.entries(header.tensors).map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: viewBytes(t.dtype, bytes, header.dataStart + t.begin, numel(t.shape)) }]),
  );
  return { tensors, metadata: header.metadata };
}

/**
 * Writes a .safetensors file as the Python library does: compact JSON header padded with spaces to a
 * multiple of 8 bytes, tensors back to back with no gaps. Order: larger element sizes first, then by
 * name (the library sorts by dtype, largest first) — every tensor then starts at a multiple of its
 * element size, so readers can view the data in place.
 */
export function writeSafetensors(tensors: Record<string, NdArray>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort((a, b) => itemSize(tensors[b].dtype) - itemSize(tensors[a].dtype) || (a < b ? -1 : a > b ? 1 : 0));
  const header: [string, unknown][] = [];
  if (metadata && Object.keys(metadata).length > 0) header.push([METADATA, metadata]);
  let offset = 0;
  for (const name of names) {
    if (name === METADATA) throw new RangeError(`writeSafetensors: ${METADATA} cannot be a tensor name`);
    const a = tensors[name];
    checkArray(a, `writeSafetensors: tensor ${name}`);
    header.push([name, { dtype: NAMES[a.dtype], shape: a.shape, data_offsets: [offset, offset + a.data.byteLength] }]);
    offset += a.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(header)));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const name of names) {
    out.set(dataBytes(tensors[name]), at);
    at += tensors[name].data.byteLength;
  }
  return out;
}
