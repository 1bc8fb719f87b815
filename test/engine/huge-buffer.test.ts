// Large results on transparent huge pages (native hugeBuffer): the array is the length asked for, holds
// what is written, survives a collection of others, and bad sizes are refused by name; without the addon
// an ordinary array comes back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadNative, uninitialisedFloat32 } from "../../src/engine/native.js";

const addon = loadNative().addon;

test("uninitialisedFloat32 gives n writable floats, on the addon's huge pages when it is built", () => {
  const n = 5_000_003;
  const a = uninitialisedFloat32(n);
  assert.equal(a.length, n);
  a.fill(1.5);
  a[n - 1] = 7;
  assert.equal(a[0] + a[n - 1], 8.5);
  const small = uninitialisedFloat32(10);
  assert.equal(small.length, 10);
  assert.deepEqual(Array.from(small), new Array(10).fill(0), "small arrays are ordinary, zero-filled");
});

test("hugeBuffer refuses sizes it cannot give, naming itself", { skip: addon ? false : "the native addon is not built" }, () => {
  assert.throws(() => addon!.hugeBuffer(0), /featurelab native hugeBuffer: bytes must be from 1 to 1e13/);
  assert.throws(() => addon!.hugeBuffer(Number.NaN), /hugeBuffer: bytes must be from 1/);
  const b = addon!.hugeBuffer(3 << 20);
  assert.equal(b.byteLength, 3 << 20);
  new Uint8Array(b).fill(255);
  assert.equal(new Uint8Array(b)[(3 << 20) - 1], 255);
});
