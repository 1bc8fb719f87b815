import { test } from "node:test";
import assert from "node:assert/strict";
import { type NdArray, fromFloat32, itemSize, numel, toFloat32 } from "../../src/io/ndarray.js";

const half = (...bits: number[]): NdArray => ({ dtype: "float16", shape: [bits.length], data: Uint16Array.from(bits) });
const bf16 = (...bits: number[]): NdArray => ({ dtype: "bfloat16", shape: [bits.length], data: Uint16Array.from(bits) });
const bitsOf = (values: number[], dtype: "float16" | "bfloat16") => Array.from(fromFloat32(Float32Array.from(values), [values.length], dtype).data as Uint16Array);

test("float16 → float32 matches known bit patterns, subnormals, infinities and nan", () => {
  const v = toFloat32(half(0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x0000, 0x8000, 0x7e00, 0x7c01));
  assert.equal(v[0], 1);
  assert.equal(v[1], -2);
  assert.equal(v[2], 65504);
  assert.equal(v[3], 2 ** -24);
  assert.equal(v[4], 1023 * 2 ** -24);
  assert.equal(v[5], 2 ** -14);
  assert.equal(v[6], 0.333251953125);
  assert.equal(v[7], Infinity);
  assert.equal(v[8], -Infinity);
  assert.ok(Object.is(v[9], 0) && Object.is(v[10], -0));
  assert.ok(Number.isNaN(v[11]) && Number.isNaN(v[12]));
});

test("float32 → float16 rounds to nearest even, overflows to inf, keeps nan", () => {
  assert.deepEqual(bitsOf([1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, 0], "float16"), [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0]);
  assert.deepEqual(bitsOf([1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20], "float16"), [0x3c00, 0x3c02, 0x3c01]); // ties to even; above a tie rounds up
  assert.deepEqual(bitsOf([65519, 65520, 1e6], "float16"), [0x7bff, 0x7c00, 0x7c00]); // 65520 is the tie between 65504 and inf
  assert.deepEqual(bitsOf([2 ** -25, 1.5 * 2 ** -24, 2.5 * 2 ** -24, 1023.5 * 2 ** -24, 2 ** -26], "float16"), [0, 0x0002, 0x0002, 0x0400, 0]); // subnormal ties
  assert.deepEqual(bitsOf([-(2 ** -24)], "float16"), [0x8001]);
  const nan = bitsOf([NaN], "float16")[0];
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.ok((nan & 0x3ff) !== 0);
});

test("every float16 value survives float16 → float32 → float16 exactly", () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const back = fromFloat32(toFloat32({ dtype: "float16", shape: [65536], data: all }), [65536], "float16").data as Uint16Array;
  for (let h = 0; h < 65536; h++) {
    const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    if (isNaN) assert.ok((back[h] & 0x7c00) === 0x7c00 && (back[h] & 0x3ff) !== 0, `nan ${h.toString(16)}`);
    else if (back[h] !== h) assert.fail(`0x${h.toString(16)} came back as 0x${back[h].toString(16)}`);
  }
});

test("bfloat16 is the top half of a float32, rounded to nearest even", () => {
  const v = toFloat32(bf16(0x3f80, 0xc000, 0x4049, 0x7f80, 0xff80, 0x7fc0, 0x0001));
  assert.deepEqual(Array.from(v.slice(0, 5)), [1, -2, 3.140625, Infinity, -Infinity]);
  assert.ok(Number.isNaN(v[5]));
  assert.equal(v[6], 2 ** -133); // bfloat16 subnormal = float32 subnormal
  assert.deepEqual(bitsOf([1, -2, Math.PI, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4028234663852886e38], "bfloat16"), [0x3f80, 0xc000, 0x4049, 0x3f80, 0x3f82, 0x7f80]);
  assert.equal(bitsOf([NaN], "bfloat16")[0] & 0x7fc0, 0x7fc0);
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const back = fromFloat32(toFloat32({ dtype: "bfloat16", shape: [65536], data: all }), [65536], "bfloat16").data as Uint16Array;
  for (let h = 0; h < 65536; h++) if ((h & 0x7f80) !== 0x7f80 || (h & 0x7f) === 0) assert.equal(back[h], h);
});

test("toFloat32 returns float32 data as is and converts the other dtypes", () => {
  const f = Float32Array.from([1.5, -2]);
  assert.equal(toFloat32({ dtype: "float32", shape: [2], data: f }), f);
  assert.deepEqual(Array.from(toFloat32({ dtype: "float64", shape: [2], data: Float64Array.from([0.1, -3]) })), [Math.fround(0.1), -3]);
  assert.deepEqual(Array.from(toFloat32({ dtype: "int64", shape: [3], data: BigInt64Array.from([-5n, 0n, 1n << 40n]) })), [-5, 0, 2 ** 40]);
  assert.deepEqual(Array.from(toFloat32({ dtype: "uint64", shape: [1], data: BigUint64Array.from([7n]) })), [7]);
  assert.deepEqual(Array.from(toFloat32({ dtype: "int8", shape: [2], data: Int8Array.from([-128, 127]) })), [-128, 127]);
  assert.deepEqual(Array.from(toFloat32({ dtype: "bool", shape: [2], data: Uint8Array.from([1, 0]) })), [1, 0]);
  assert.deepEqual(Array.from(toFloat32({ dtype: "uint32", shape: [1], data: Uint32Array.from([4e9]) })), [Math.fround(4e9)]);
});

test("fromFloat32 keeps the shape and checks the length", () => {
  const v = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const a = fromFloat32(v, [2, 3], "float64");
  assert.deepEqual(a.shape, [2, 3]);
  assert.ok(a.data instanceof Float64Array);
  assert.equal(fromFloat32(v, [6], "float32").data, v);
  assert.throws(() => fromFloat32(v, [4], "float16"), /needs 4 values, got 6/);
});

test("numel and itemSize", () => {
  assert.equal(numel([]), 1);
  assert.equal(numel([3, 0, 2]), 0);
  assert.equal(numel([2, 3, 4]), 24);
  assert.deepEqual(
    (["float16", "bfloat16", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "bool"] as const).map(itemSize),
    [2, 2, 4, 8, 1, 1, 2, 2, 4, 4, 8, 8, 1],
  );
});
