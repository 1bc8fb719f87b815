import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PYTHON, python, scratchDir, skipWithoutNumpy } from "../python.js";
import { InputError } from "../../src/io/errors.js";
import { type NdArray, toFloat32 } from "../../src/io/ndarray.js";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "../../src/io/safetensors.js";

const skip = skipWithoutNumpy;
const dir = scratchDir("featurelab-safetensors-");

/** A file with the given header (an object, or raw text) followed by `dataLength` zero bytes. */
function craft(header: unknown, dataLength: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/** Asserts that reading throws an InputError whose message names the file and matches `problem`. */
function refuses(bytes: Uint8Array, problem: RegExp, file = "bad.safetensors") {
  assert.throws(() => readSafetensors(bytes, file), (e: Error) => {
    assert.ok(e instanceof InputError, `${e}`);
    assert.ok(e.message.startsWith(`featurelab: ${file}: `), e.message);
    assert.match(e.message, problem);
    return true;
  });
}

const TENSORS: Record<string, NdArray> = {
  "encoder.weight": { dtype: "float32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) },
  b_dec: { dtype: "bfloat16", shape: [3], data: Uint16Array.from([0x3f80, 0xc000, 0x4049]) },
  h: { dtype: "float16", shape: [1, 2], data: Uint16Array.from([0x3c00, 0x0001]) },
  d: { dtype: "float64", shape: [2], data: Float64Array.from([Math.E, -0.5]) },
  i8: { dtype: "int8", shape: [3], data: Int8Array.from([-1, 2, -128]) },
  u8: { dtype: "uint8", shape: [1], data: Uint8Array.from([200]) },
  i16: { dtype: "int16", shape: [1], data: Int16Array.from([-300]) },
  u16: { dtype: "uint16", shape: [1], data: Uint16Array.from([60000]) },
  i32: { dtype: "int32", shape: [1], data: Int32Array.from([-70000]) },
  u32: { dtype: "uint32", shape: [1], data: Uint32Array.from([4e9]) },
  i64: { dtype: "int64", shape: [2], data: BigInt64Array.from([-(2n ** 60n), 5n]) },
  u64: { dtype: "uint64", shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
  mask: { dtype: "bool", shape: [3], data: Uint8Array.from([1, 0, 1]) },
  scalar: { dtype: "float32", shape: [], data: Float32Array.from([4]) },
  empty: { dtype: "float32", shape: [0, 4], data: new Float32Array(0) },
};

test("write → read gives back every tensor and the metadata, as views over the file", () => {
  const bytes = writeSafetensors(TENSORS, { format: "pt", note: "ünïcode" });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0, "header padded to a multiple of 8");
  const { tensors, metadata } = readSafetensors(bytes, "x.safetensors");
  assert.deepEqual(tensors, TENSORS);
  assert.deepEqual(metadata, { format: "pt", note: "ünïcode" });
  for (const t of Object.values(tensors)) assert.equal(t.data.buffer, bytes.buffer, "zero-copy");
  // the Python library's layout: back to back, no gaps, larger elements first
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const spans = Object.entries(header).filter(([k]) => k !== "__metadata__").map(([, v]: [string, any]) => v.data_offsets as number[]).sort((a, b) => a[0] - b[0]);
  spans.forEach((s, i) => assert.equal(s[0], i === 0 ? 0 : spans[i - 1][1]));
  assert.equal(spans.at(-1)![1], bytes.length - 8 - n);
  assert.deepEqual(readSafetensors(writeSafetensors({})), { tensors: {}, metadata: {} });
});

test("the header can be read from the first bytes of a big file", () => {
  const bytes = writeSafetensors(TENSORS);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const h = readSafetensorsHeader(bytes.subarray(0, 8 + n), bytes.length, "big.safetensors");
  assert.equal(h.dataStart, 8 + n);
  assert.deepEqual(h.metadata, {});
  assert.deepEqual(h.tensors.d, { dtype: "float64", shape: [2], begin: 0, end: 16 });
  assert.throws(() => readSafetensorsHeader(bytes.subarray(0, 20), bytes.length, "big.safetensors"), /big\.safetensors: need the first \d+ bytes to read the \.safetensors header, got 20/);
});

test("reads a file written the safetensors way by a numpy script, misaligned tensors included, and Python reads ours", { skip }, () => {
  writeFileSync(join(dir, "ours.safetensors"), writeSafetensors(TENSORS, { format: "np" }));
  const out = python(
    `
import json, struct, numpy as np
tensors = {
  'w': (np.arange(12, dtype=np.float32).reshape(3, 4) / 3).astype(np.float32),
  'b': np.array([-(2**53), 1, 2], dtype='<i8'),
  'h': np.array([1, -2, 65504, 2.0**-24], dtype='<f2'),
  'm': np.array([True, False, True]),
  'bf': (np.array([1.0, -2.5, 3.140625], dtype='<f4').view('<u4') >> 16).astype('<u2'),
  'd': np.array([[0.1, 0.2], [0.3, 0.4]], dtype='<f8'),
}
codes = {'w': 'F32', 'b': 'I64', 'h': 'F16', 'm': 'BOOL', 'bf': 'BF16', 'd': 'F64'}
header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
for name in sorted(tensors):  # b, bf, d, h, m, w: bf leaves d at an odd offset
    raw = tensors[name].tobytes()
    header[name] = {'dtype': codes[name], 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(raw)]}
    blobs.append(raw); offset += len(raw)
h = json.dumps(header).encode()
h += b' ' * (-len(h) % 8)
with open('numpy.safetensors', 'wb') as f:
    f.write(struct.pack('<Q', len(h))); f.write(h); f.write(b''.join(blobs))
out = {'w': tensors['w'].ravel().tolist(), 'b': [str(v) for v in tensors['b'].tolist()], 'h': tensors['h'].astype(float).tolist(),
       'd': tensors['d'].ravel().tolist(), 'ours': {}}
raw = open('ours.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
head = json.loads(raw[8:8 + n])
out['ours_meta'] = head.pop('__metadata__')
np_types = {'F32': '<f4', 'F64': '<f8', 'F16': '<f2', 'BF16': '<u2', 'I8': 'i1', 'U8': 'u1', 'I16': '<i2', 'U16': '<u2', 'I32': '<i4', 'U32': '<u4', 'I64': '<i8', 'U64': '<u8', 'BOOL': '?'}
for name, t in head.items():
    begin, end = t['data_offsets']
    a = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=np_types[t['dtype']]).reshape(t['shape'])
    values = a.astype(float).ravel().tolist() if a.dtype.kind in 'fb' else [str(v) for v in a.ravel().tolist()]
    out['ours'][name] = [t['dtype'], t['shape'], values]
print(json.dumps(out))
`,
    dir,
  );
  const { tensors, metadata } = readSafetensors(readFileSync(join(dir, "numpy.safetensors")), "numpy.safetensors");
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(Object.keys(tensors).sort(), ["b", "bf", "d", "h", "m", "w"]);
  assert.deepEqual(tensors.w.shape, [3, 4]);
  assert.deepEqual(Array.from(tensors.w.data as Float32Array), out.w);
  assert.deepEqual(Array.from(tensors.b.data as BigInt64Array), out.b.map(BigInt));
  assert.deepEqual(Array.from(toFloat32(tensors.h)), out.h);
  assert.deepEqual(Array.from(tensors.m.data), [1, 0, 1]);
  assert.equal(tensors.m.dtype, "bool");
  assert.deepEqual(Array.from(toFloat32(tensors.bf)), [1, -2.5, 3.140625]);
  assert.equal(tensors.d.dtype, "float64");
  assert.deepEqual(tensors.d.shape, [2, 2]);
  assert.deepEqual(Array.from(tensors.d.data as Float64Array), out.d);

  assert.deepEqual(out.ours_meta, { format: "np" });
  const CODES: Record<string, string> = { float16: "F16", bfloat16: "BF16", float32: "F32", float64: "F64", int8: "I8", uint8: "U8", int16: "I16", uint16: "U16", int32: "I32", uint32: "U32", int64: "I64", uint64: "U64", bool: "BOOL" };
  for (const [name, t] of Object.entries(TENSORS)) {
    const [code, shape, values] = out.ours[name];
    assert.equal(code, CODES[t.dtype], name);
    assert.deepEqual(shape, t.shape, name);
    // floats and bools come back as numbers, integers (and bfloat16, read as its uint16 bits) as decimal strings
    const isFloat = /^float|^bool$/.test(t.dtype);
    const expected = t.dtype === "float16" ? Array.from(toFloat32(t)) : Array.from(t.data as ArrayLike<number | bigint>, (v) => (isFloat ? Number(v) : String(v)));
    assert.deepEqual(values, expected, name);
  }
});

test("a header length past the end of the file is refused at once, without allocating", () => {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setBigUint64(0, 2n ** 40n, true);
  const start = performance.now();
  refuses(bytes, /header length 1099511627776 runs past the end of the file \(16 bytes\)/);
  assert.ok(performance.now() - start < 500);
  new DataView(bytes.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
  refuses(bytes, /header length 18446744073709551615 runs past the end of the file/);
  refuses(new Uint8Array(5), /not a \.safetensors file: 5 bytes is too short for the 8-byte header length/);
  // a header length within a (claimed) huge file but beyond any sane header
  const big = new Uint8Array(8);
  new DataView(big.buffer).setBigUint64(0, 200_000_000n, true);
  assert.throws(() => readSafetensorsHeader(big, 2 ** 40, "big.safetensors"), /featurelab: big\.safetensors: .*header length 200000000 is larger than 100000000 bytes/);
});

test("data_offsets past the end of the data are refused", () => {
  refuses(craft({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 12), /tensor "w": data_offsets \[0, 16\] lie outside the 12 bytes of data in the file/);
  refuses(craft({ w: { dtype: "F32", shape: [0], data_offsets: [8, 4] } }, 12), /tensor "w": data_offsets \[8, 4\] lie outside/);
  refuses(craft({ w: { dtype: "F32", shape: [1], data_offsets: [-4, 0] } }, 12), /tensor "w": data_offsets \[-4,0\] is not \[begin, end\]/);
});

test("offsets inconsistent with the shape are refused", () => {
  refuses(craft({ w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 16] } }, 32), /tensor "w": data_offsets \[0, 16\] hold 16 bytes but shape \[2, 3\] of F32 needs 24/);
  refuses(craft({ w: { dtype: "F32", shape: [2, -3], data_offsets: [0, 16] } }, 32), /tensor "w": shape \[2,-3\] is not a list of non-negative integers/);
});

test("an invalid JSON header is refused", () => {
  refuses(craft('{"w": {"dtype": "F32", ', 0), /the \.safetensors header is not valid JSON: /);
  refuses(craft("[1, 2]", 0), /the \.safetensors header is not a JSON object/);
  const latin = craft("{}", 0);
  latin[9] = 0xff; // not UTF-8
  refuses(latin, /not valid JSON/);
  refuses(craft({ __metadata__: { n: 3 } }, 0), /__metadata__\.n must be a string, got 3/);
});

test("an unknown dtype is refused, naming the tensor and the dtype", () => {
  refuses(craft({ "layers.0.w": { dtype: "F8_E4M3", shape: [2], data_offsets: [0, 2] } }, 2), /tensor "layers\.0\.w": unknown dtype "F8_E4M3" \(supported: F16, BF16, F32/);
  refuses(craft({ x: { dtype: "toString", shape: [1], data_offsets: [0, 1] } }, 1), /tensor "x": unknown dtype "toString"/);
});
