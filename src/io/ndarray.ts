// A plain n-dimensional array as the file formats store it: a dtype, a C-order shape and a typed
// array. The readers and writers in src/io/ speak only this type; conversion to float32 for the
// engine happens here so that every format converts half precision the same way.
//
// Byte order: the formats are little-endian and every typed array here is read in host order. Node
// runs little-endian on every platform featurelab supports, so the host order is the file order.

export type DType =
  | "float16"
  | "bfloat16"
  | "float32"
  | "float64"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool";

/** The typed array behind an NdArray. float16 and bfloat16 are raw bits in a Uint16Array; bool is 0/1 bytes. */
export type NdData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface NdArray {
  dtype: DType;
  /** C (row-major) order; [] is a scalar. */
  shape: number[];
  /** numel(shape) elements; float16/bfloat16 as Uint16Array bits, bool as Uint8Array, int64 as BigInt64Array. */
  data: NdData;
}

type Ctor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NdData; readonly BYTES_PER_ELEMENT: number };

const CTORS: Record<DType, Ctor> = {
  float16: Uint16Array,
  bfloat16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/** Every DType, e.g. to validate a dtype name from a config file. */
export const DTYPES = Object.keys(CTORS) as DType[];

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/**
 * `count` elements of `dtype` starting at `byteOffset` in `bytes`, as a view over the same memory when
 * the absolute offset is aligned for the element size, else as a copy (typed arrays require alignment).
 * The caller has already checked that the bytes are there.
 */
export function viewBytes(dtype: DType, bytes: Uint8Array, byteOffset: number, count: number): NdData {
  const C = CTORS[dtype];
  const size = C.BYTES_PER_ELEMENT;
  const start = bytes.byteOffset + byteOffset;
  if (start % size === 0) return new C(bytes.buffer, start, count);
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(byteOffset, byteOffset + count * size));
  return new C(copy.buffer, 0, count);
}

/** The raw little-endian bytes of an array's data (a view, no copy). */
export function dataBytes(a: NdArray): Uint8Array {
  return new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

/** Throws unless the data is the dtype's typed array with numel(shape) elements (a programming error, not bad input). */
export function checkArray(a: NdArray, what: string): void {
  if (!(a.data instanceof CTORS[a.dtype])) throw new TypeError(`${what}: dtype ${a.dtype} needs a ${CTORS[a.dtype].name}, got ${a.data.constructor.name}`);
  if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RangeError(`${what}: bad shape [${a.shape.join(", ")}]`);
  if (a.data.length !== numel(a.shape)) throw new RangeError(`${what}: shape [${a.shape.join(", ")}] needs ${numel(a.shape)} elements, data has ${a.data.length}`);
}

// float16 → float32 bits for all 65536 half values, built on first use: exact (every half is a
// float32), and a table lookup is much faster than bit fiddling per element for large weights.
let HALF_TABLE: Uint32Array | undefined;

function halfTable(): Uint32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    if (exp === 0x1f) t[h] = sign | 0x7f800000 | (mant << 13); // inf, nan (payload kept)
    else if (exp !== 0) t[h] = sign | ((exp + 112) << 23) | (mant << 13); // rebias 15 → 127
    else if (mant === 0) t[h] = sign; // ±0
    else {
      // subnormal half: shift the mantissa up until its leading 1 becomes the implicit bit
      let e = 113;
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        e--;
      }
      t[h] = sign | (e << 23) | ((mant & 0x3ff) << 13);
    }
  }
  return (HALF_TABLE = t);
}

const SCRATCH_F = new Float32Array(1);
const SCRATCH_U = new Uint32Array(SCRATCH_F.buffer);

/** float32 bits → float16 bits, rounding to nearest even; overflow → ±inf, nan stays nan. */
function toHalfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) return abs === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
  if (abs >= 0x47800000) return sign | 0x7c00; // ≥ 65536: beyond rounding range
  if (abs < 0x38800000) {
    // below the smallest normal half (2^-14): the result is a multiple of 2^-24
    SCRATCH_U[0] = abs;
    const f = SCRATCH_F[0] * 2 ** 24; // exact in a double
    let m = Math.floor(f);
    const rest = f - m;
    if (rest > 0.5 || (rest === 0.5 && (m & 1) === 1)) m++;
    return sign | m; // m = 0x400 is correctly the smallest normal
  }
  let h = (((abs >>> 23) - 112) << 10) | ((abs >>> 13) & 0x3ff);
  const rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry may roll into the exponent or to inf: correct
  return sign | h;
}

/** float32 bits → bfloat16 bits (the top half), rounding to nearest even; nan stays a quiet nan. */
function toBfloatBits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The values as float32: the same buffer when already float32, else converted (half exactly, wider types rounded). */
export function toFloat32(a: NdArray, into?: Float32Array): Float32Array {
  const d = a.data;
  if (into && into.length !== d.length) throw new RangeError(`toFloat32: ${d.length} values into an array of ${into.length}`);
  if (a.dtype === "float32" && !into) return d as Float32Array;
  const out = into ?? new Float32Array(d.length);
  if (a.dtype === "float32") {
    out.set(d as Float32Array);
    return out;
  }
  if (a.dtype === "float16") {
    const t = halfTable();
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    const h = d as Uint16Array;
    for (let i = 0; i < h.length; i++) bits[i] = t[h[i]];
  } else if (a.dtype === "bfloat16") {
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    const h = d as Uint16Array;
    for (let i = 0; i < h.length; i++) bits[i] = h[i] << 16;
  } else if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  } else {
    out.set(d);
  }
  return out;
}

/** An NdArray of the given float dtype from float32 values (float16/bfloat16 rounded to nearest even). */
export function fromFloat32(values: Float32Array, shape: number[], dtype: "float32" | "float16" | "bfloat16" | "float64"): NdArray {
  if (values.length !== numel(shape)) throw new RangeError(`fromFloat32: shape [${shape.join(", ")}] needs ${numel(shape)} values, got ${values.length}`);
  if (dtype === "float32") return { dtype, shape: [...shape], data: values };
  if (dtype === "float64") return { dtype, shape: [...shape], data: Float64Array.from(values) };
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  const convert = dtype === "float16" ? toHalfBits : toBfloatBits;
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]);
  return { dtype, shape: [...shape], data: out };
}
