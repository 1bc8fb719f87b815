import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { PYTHON, python, scratchDir, skipWithoutNumpy } from "../python.js";
import { InputError } from "../../src/io/errors.js";
import type { NdArray } from "../../src/io/ndarray.js";
import { readNpz, writeNpz } from "../../src/io/npz.js";

const skip = skipWithoutNumpy;
const dir = scratchDir("featurelab-npz-");

const ARRAYS: Record<string, NdArray> = {
  W_enc: { dtype: "float32", shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  b: { dtype: "float64", shape: [2], data: Float64Array.from([0.1, -0.2]) },
  half: { dtype: "float16", shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff]) },
  idx: { dtype: "int64", shape: [2], data: BigInt64Array.from([-1n, 2n ** 50n]) },
  mask: { dtype: "bool", shape: [2, 1], data: Uint8Array.from([0, 1]) },
  zeros: { dtype: "float32", shape: [500], data: new Float32Array(500) },
};

test("write → read gives back every array, stored and compressed", () => {
  for (const compress of [false, true]) {
    const bytes = writeNpz(ARRAYS, { compress });
    assert.deepEqual(readNpz(bytes, "x.npz"), ARRAYS);
    assert.deepEqual(Object.keys(unzipSync(bytes)).sort(), Object.keys(ARRAYS).map((k) => `${k}.npy`).sort());
  }
  assert.ok(writeNpz(ARRAYS, { compress: true }).length < writeNpz(ARRAYS).length - 1500, "compression shrinks the zeros");
  assert.deepEqual(readNpz(writeNpz({})), {});
});

test("reads np.savez and np.savez_compressed files, and numpy reads ours", { skip }, () => {
  writeFileSync(join(dir, "ours.npz"), writeNpz(ARRAYS));
  writeFileSync(join(dir, "ours-compressed.npz"), writeNpz(ARRAYS, { compress: true }));
  const out = python(
    `
import json, numpy as np
a = (np.arange(6, dtype=np.float32).reshape(2, 3) / 3).astype(np.float32)
b = np.array([-(2**40), 7], dtype=np.int64)
c = np.array([0.5, -1, 65504], dtype=np.float16)
np.savez('plain.npz', a, weights=a, ids=b)
np.savez_compressed('compressed.npz', weights=a, ids=b, half=c, ones=np.ones(1000))
out = {'a': a.ravel().tolist(), 'b': [str(v) for v in b.tolist()], 'c': c.view(np.uint16).tolist(), 'ours': {}}
for name in ['ours', 'ours-compressed']:
    z = np.load(name + '.npz')
    out['ours'][name] = {k: [z[k].dtype.str, list(z[k].shape), z[k].astype(np.float64).ravel().tolist()[:3]] for k in sorted(z.files)}
print(json.dumps(out))
`,
    dir,
  );
  const plain = readNpz(readFileSync(join(dir, "plain.npz")), "plain.npz");
  assert.deepEqual(Object.keys(plain).sort(), ["arr_0", "ids", "weights"]);
  assert.deepEqual(plain.weights.shape, [2, 3]);
  assert.deepEqual(Array.from(plain.arr_0.data as Float32Array), out.a);
  assert.deepEqual(Array.from(plain.weights.data as Float32Array), out.a);
  assert.deepEqual(Array.from(plain.ids.data as BigInt64Array), out.b.map(BigInt));
  const compressed = readNpz(readFileSync(join(dir, "compressed.npz")), "compressed.npz");
  assert.deepEqual(Object.keys(compressed).sort(), ["half", "ids", "ones", "weights"]);
  assert.deepEqual(Array.from(compressed.weights.data as Float32Array), out.a);
  assert.deepEqual(Array.from(compressed.half.data as Uint16Array), out.c);
  assert.equal(compressed.ones.dtype, "float64");
  assert.ok((compressed.ones.data as Float64Array).every((v) => v === 1));
  const expected = {
    W_enc: ["<f4", [3, 2], [1, 2, 3]],
    b: ["<f8", [2], [0.1, -0.2]],
    half: ["<f2", [3], [1, -2, 65504]],
    idx: ["<i8", [2], [-1, 2 ** 50]],
    mask: ["|b1", [2, 1], [0, 1]],
    zeros: ["<f4", [500], [0, 0, 0]],
  };
  assert.deepEqual(out.ours, { ours: expected, "ours-compressed": expected });
});

test("a file that is not a zip is refused, naming the file", () => {
  assert.throws(() => readNpz(new TextEncoder().encode("this is certainly not a zip archive"), "junk.npz"), (e: Error) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /^featurelab: junk\.npz: not a valid \.npz file \(corrupt or not a zip archive: .+\)$/);
    return true;
  });
  assert.throws(() => readNpz(new Uint8Array(3), "tiny.npz"), /featurelab: tiny\.npz: not a valid \.npz file/);
});

test("a corrupt archive or a corrupt member is refused, naming the file", () => {
  const bytes = writeNpz({ a: ARRAYS.W_enc }, { compress: true });
  const cut = bytes.subarray(0, bytes.length - 30); // end-of-central-directory record gone
  assert.throws(() => readNpz(cut, "cut.npz"), /featurelab: cut\.npz: not a valid \.npz file/);
  const stored = writeNpz({ a: ARRAYS.W_enc });
  const mangled = stored.slice();
  mangled[30 + "a.npy".length] = 0; // first byte of the member's npy magic
  assert.throws(() => readNpz(mangled, "m.npz"), /^InputError: featurelab: m\.npz\/a\.npy: not a \.npy file/);
});
