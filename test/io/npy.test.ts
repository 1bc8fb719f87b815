import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PYTHON, python, scratchDir, skipWithoutNumpy } from "../python.js";
import { InputError } from "../../src/io/errors.js";
import { type NdArray, toFloat32 } from "../../src/io/ndarray.js";
import { readNpy, writeNpy } from "../../src/io/npy.js";

const skip = skipWithoutNumpy;
const dir = scratchDir("featurelab-npy-");

/** A .npy file with a hand-written header dict (version 1.0, or 2.0/3.0), padded as numpy pads it. */
function craft(dict: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const header = new TextEncoder().encode(dict.padEnd(Math.ceil((pre + dict.length + 1) / 64) * 64 - pre - 1, " ") + "\n");
  const out = new Uint8Array(pre + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) new DataView(out.buffer).setUint16(8, header.length, true);
  else new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, pre);
  out.set(data, pre + header.length);
  return out;
}

const SAMPLES: NdArray[] = [
  { dtype: "float32", shape: [2, 3], data: Float32Array.from([0.5, -1, 3.25, 1e-30, 7, -0]) },
  { dtype: "float64", shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
  { dtype: "float16", shape: [2, 2], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]) },
  { dtype: "int8", shape: [2], data: Int8Array.from([-128, 127]) },
  { dtype: "uint8", shape: [1, 3], data: Uint8Array.from([0, 1, 255]) },
  { dtype: "int16", shape: [2], data: Int16Array.from([-32768, 32767]) },
  { dtype: "uint16", shape: [2], data: Uint16Array.from([0, 65535]) },
  { dtype: "int32", shape: [2, 1, 2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, 5]) },
  { dtype: "uint32", shape: [1], data: Uint32Array.from([2 ** 32 - 1]) },
  { dtype: "int64", shape: [3], data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 42n]) },
  { dtype: "uint64", shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
  { dtype: "bool", shape: [4], data: Uint8Array.from([1, 0, 0, 1]) },
  { dtype: "float32", shape: [], data: Float32Array.from([9]) },
  { dtype: "float64", shape: [0, 3], data: new Float64Array(0) },
];

test("write → read gives back dtype, shape and values for every dtype", () => {
  for (const a of SAMPLES) {
    const bytes = writeNpy(a);
    assert.equal((bytes.length - a.data.byteLength) % 64, 0, "the data starts on a 64-byte boundary");
    const b = readNpy(bytes, "x.npy");
    assert.equal(b.dtype, a.dtype);
    assert.deepEqual(b.shape, a.shape);
    assert.deepEqual(b.data, a.data);
  }
});

test("aligned data is a view over the input; misaligned data is copied", () => {
  const bytes = writeNpy(SAMPLES[1]);
  assert.equal(readNpy(bytes).data.buffer, bytes.buffer);
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const b = readNpy(shifted.subarray(1));
  assert.notEqual(b.data.buffer, shifted.buffer);
  assert.deepEqual(b.data, SAMPLES[1].data);
});

test("versions 2.0 and 3.0, big-endian, Python 2 longs and fortran order from hand-made headers", () => {
  const le = new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer);
  const v2 = readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", le, 2));
  assert.deepEqual(Array.from(v2.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  const v3 = readNpy(craft(`{"descr": "<f4", "shape": (6,), "fortran_order": False}`, le, 3));
  assert.deepEqual(v3.shape, [6]);
  const be = new Uint8Array(8);
  new DataView(be.buffer).setFloat64(0, -1.25, false);
  assert.deepEqual(Array.from(readNpy(craft("{'descr': '>f8', 'fortran_order': False, 'shape': (1L,), }", be)).data as Float64Array), [-1.25]);
  // column-major [[1,2,3],[4,5,6]] is stored 1,4,2,5,3,6
  const f = readNpy(craft("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(Float32Array.from([1, 4, 2, 5, 3, 6]).buffer)));
  assert.deepEqual(Array.from(f.data as Float32Array), [1, 2, 3, 4, 5, 6]);
});

test("reads files numpy wrote, and numpy reads ours", { skip }, () => {
  writeFileSync(join(dir, "ours.npy"), writeNpy({ dtype: "int16", shape: [2, 2], data: Int16Array.from([1, -2, 300, -400]) }));
  writeFileSync(join(dir, "ours16.npy"), writeNpy(SAMPLES[2]));
  const out = python(
    `
import json, numpy as np
out = {}
a = (np.arange(12, dtype=np.float32).reshape(3, 4) / 7).astype(np.float32); np.save('f32.npy', a); out['f32'] = a.ravel().tolist()
b = np.linspace(-1, 1, 5) ** 3 + 1e-9; np.save('f64.npy', b); out['f64'] = b.tolist()
h = np.array([[1, -2, 65504], [2.0**-24, 0.1, -3.5]], dtype=np.float16); np.save('f16.npy', h)
out['f16'] = h.astype(np.float64).ravel().tolist(); out['f16bits'] = h.view(np.uint16).ravel().tolist()
be = (np.arange(6, dtype=np.float32).reshape(2, 3) * 1.5 - 2).astype('>f4'); assert be.dtype.str == '>f4'; np.save('be.npy', be); out['be'] = be.ravel().tolist()
fo = np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)); assert not fo.flags.c_contiguous
np.save('fortran.npy', fo); out['fortran'] = fo.ravel(order='C').tolist()
i = np.array([-(2**62) + 3, 0, 2**40 + 1, -1], dtype=np.int64); np.save('i64.npy', i); out['i64'] = [str(v) for v in i.tolist()]
for name in ['ours', 'ours16']:
    o = np.load(name + '.npy'); out[name] = {'dtype': o.dtype.str, 'shape': list(o.shape), 'values': o.astype(np.float64).ravel().tolist()}
print(json.dumps(out))
`,
    dir,
  );
  const load = (name: string) => readNpy(readFileSync(join(dir, name)), name);
  const f32 = load("f32.npy");
  assert.equal(f32.dtype, "float32");
  assert.deepEqual(f32.shape, [3, 4]);
  assert.deepEqual(Array.from(f32.data as Float32Array), out.f32);
  const f64 = load("f64.npy");
  assert.equal(f64.dtype, "float64");
  assert.deepEqual(Array.from(f64.data as Float64Array), out.f64);
  const f16 = load("f16.npy");
  assert.equal(f16.dtype, "float16");
  assert.deepEqual(f16.shape, [2, 3]);
  assert.deepEqual(Array.from(f16.data as Uint16Array), out.f16bits);
  assert.deepEqual(Array.from(toFloat32(f16)), out.f16);
  const be = load("be.npy");
  assert.equal(be.dtype, "float32");
  assert.deepEqual(Array.from(be.data as Float32Array), out.be);
  const fo = load("fortran.npy");
  assert.deepEqual(fo.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(fo.data as Float32Array), out.fortran);
  const i64 = load("i64.npy");
  assert.equal(i64.dtype, "int64");
  assert.deepEqual(Array.from(i64.data as BigInt64Array), out.i64.map(BigInt));
  assert.deepEqual(out.ours, { dtype: "<i2", shape: [2, 2], values: [1, -2, 300, -400] });
  assert.deepEqual(out.ours16, { dtype: "<f2", shape: [2, 2], values: [1, -2, 65504, 2 ** -24] });
});

test("object arrays are refused, whether numpy pickled them or the header was hand-made", { skip }, () => {
  python(`import numpy as np; np.save('object.npy', np.array([{}], dtype=object), allow_pickle=True); print(1)`, dir);
  assert.throws(() => readNpy(readFileSync(join(dir, "object.npy")), "object.npy"), (e: Error) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /^featurelab: object\.npy: dtype '\|O' holds Python objects: object arrays \(pickles\) are never loaded$/);
    return true;
  });
});

test("hand-made object and structured headers are refused", () => {
  assert.throws(() => readNpy(craft("{'descr': '<O8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), "h.npy"), /featurelab: h\.npy: .*object arrays \(pickles\) are never loaded/);
  assert.throws(
    () => readNpy(craft("{'descr': [('x', '<f4'), ('y', '|O')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(12)), "s.npy"),
    /featurelab: s\.npy: .*object arrays \(pickles\) are never loaded/,
  );
  assert.throws(() => readNpy(craft("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), "s.npy"), /featurelab: s\.npy: structured dtype .* is not supported/);
  assert.throws(() => readNpy(craft("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), "c.npy"), /featurelab: c\.npy: unsupported dtype '<c8'/);
});

test("truncated data is refused with the byte counts, before allocating", () => {
  const bytes = writeNpy(SAMPLES[0]);
  assert.throws(() => readNpy(bytes.subarray(0, bytes.length - 5), "t.npy"), /^InputError: featurelab: t\.npy: truncated: the header says shape \(2, 3\) of '<f4' needs 24 bytes of data, but only 19 bytes follow the header$/);
  assert.throws(() => readNpy(craft("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000, 1000000), }"), "huge.npy"), /huge\.npy: truncated: .* needs 8000000000000000000 bytes of data, but only 0 bytes follow/);
  assert.throws(() => readNpy(bytes.subarray(0, 40), "h.npy"), /featurelab: h\.npy: truncated: the header is 118 bytes but only 30 bytes follow the preamble/);
});

test("bad magic, bad version and malformed headers are refused", () => {
  assert.throws(() => readNpy(new TextEncoder().encode("PK\x03\x04 this is a zip, not npy"), "z.npy"), /^InputError: featurelab: z\.npy: not a \.npy file \(it does not start with the magic bytes/);
  assert.throws(() => readNpy(new Uint8Array(4), "short.npy"), /featurelab: short\.npy: not a \.npy file/);
  const v9 = writeNpy(SAMPLES[0]);
  v9[6] = 9;
  assert.throws(() => readNpy(v9, "v9.npy"), /featurelab: v9\.npy: unsupported \.npy format version 9\.0/);
  assert.throws(() => readNpy(craft("{'descr': '<f4', 'shape': (1,), }", new Uint8Array(4)), "k.npy"), /k\.npy: bad \.npy header \(needs the keys 'descr', 'fortran_order' and 'shape'\)/);
  assert.throws(() => readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new Uint8Array(4)), "n.npy"), /n\.npy: bad \.npy header \(shape must be a tuple of non-negative integers\)/);
  assert.throws(() => readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os'), }"), "e.npy"), /e\.npy: bad \.npy header \(unexpected "_" at position/);
  assert.throws(() => readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)"), "u.npy"), /u\.npy: bad \.npy header \(expected ',' or '}'/);
});
