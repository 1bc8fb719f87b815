// The engine: which one runs and why, the matMul kernels each engine installs (any transposes,
// batches, bias and ReLU) agreeing with a plain product, and the fallbacks when the addon is absent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { tf, ready, engine } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { loadNative } from "../../src/engine/native.js";
import { forEachEngine } from "../engines.js";

const root = join(import.meta.dirname, "..", "..");

/** Product by definition, in float64, of [b, M, K]·[b, K, N] (batch broadcast when one side has 1). */
function reference(a: Float32Array, b: Float32Array, batchA: number, batchB: number, M: number, K: number, N: number): Float64Array {
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ia = batchA === 1 ? 0 : t, ib = batchB === 1 ? 0 : t;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ia * M * K + i * K + k] * b[ib * K * N + k * N + j];
        out[t * M * N + i * N + j] = s;
      }
  }
  return out;
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / Math.max(scale, 1e-30);
}

test("fl.engine() names the engine, the tfjs backend under it, and why, in one line", async () => {
  const info = await engine();
  assert.ok(["tensorflow", "native", "wasm", "cpu"].includes(info.engine));
  assert.ok(info.reason.length > 10 && !info.reason.includes("\n"), info.reason);
  assert.ok(info.tried.some((t) => t.engine === info.engine && t.ok));
  if (loadNative().addon && !process.env.FEATURELAB_BACKEND) {
    assert.equal(info.engine, "native", "the addon is built, so it runs");
    assert.match(info.reason, /OpenBLAS/);
    assert.ok(info.native && info.native.threads >= 1);
  }
});

test("matMul agrees with the product by definition on every engine: transposes, batches, broadcast, empty", async () => {
  await ready();
  const rng = new Rng(4);
  await forEachEngine(() => {
    for (const [M, K, N] of [[5, 7, 3], [64, 33, 17], [1, 9, 1], [0, 4, 3], [3, 0, 2]]) {
      for (const [batchA, batchB] of [[1, 1], [3, 3], [3, 1], [1, 2]]) {
        const a = rng.normals(batchA * M * K), b = rng.normals(batchB * K * N);
        const want = reference(a, b, batchA, batchB, M, K, N);
        for (const tA of [false, true]) {
          for (const tB of [false, true]) {
            const got = tf.tidy(() => {
              let A = tf.tensor3d(a, [batchA, M, K]), B = tf.tensor3d(b, [batchB, K, N]);
              if (tA) A = tf.transpose(A, [0, 2, 1]);
              if (tB) B = tf.transpose(B, [0, 2, 1]);
              return tf.matMul(A, B, tA, tB).dataSync();
            });
            assert.equal(got.length, want.length);
            assert.ok(maxRelErr(got, want) < 1e-5, `[${batchA},${M},${K}]·[${batchB},${K},${N}] tA=${tA} tB=${tB}`);
          }
        }
      }
    }
    // 2-D, and the fused product with bias and ReLU (what tf.layers.dense runs).
    const a = rng.normals(6 * 4), b = rng.normals(4 * 5), bias = rng.normals(5);
    const want = reference(a, b, 1, 1, 6, 4, 5).map((v, i) => Math.max(0, v + bias[i % 5]));
    const got = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(a, [6, 4]), b: tf.tensor2d(b, [4, 5]), bias: tf.tensor1d(bias), activation: "relu" }).dataSync());
    assert.ok(maxRelErr(got, want) < 1e-5);
    const gotT = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(a, [6, 4]).transpose(), b: tf.tensor2d(b, [4, 5]), transposeA: true, bias: tf.tensor1d(bias), activation: "relu" }).dataSync());
    assert.ok(maxRelErr(gotT, want) < 1e-5);
  });
});

test("matMul's gradient (autodiff, which uses transposed products) agrees across engines", async () => {
  const rng = new Rng(9);
  const a = rng.normals(40 * 30), b = rng.normals(30 * 20);
  const grads: Record<string, Float32Array[]> = {};
  await forEachEngine((name) => {
    grads[name] = tf.tidy(() => {
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y)));
      const [ga, gb] = tf.grads(f)([tf.tensor2d(a, [40, 30]), tf.tensor2d(b, [30, 20])]);
      return [ga.dataSync() as Float32Array, gb.dataSync() as Float32Array];
    });
  });
  const names = Object.keys(grads);
  for (const n of names.slice(1)) for (const i of [0, 1]) assert.ok(maxRelErr(grads[n][i], grads[names[0]][i]) < 1e-5, `${n} vs ${names[0]}`);
});

function engineOf(env: Record<string, string>): { status: number | null; out: string; err: string } {
  const script = `import { engine } from "./src/engine/backend.ts"; const i = await engine(); console.log(JSON.stringify({ engine: i.engine, backend: i.backend, reason: i.reason }));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

test("without the addon featurelab runs on wasm and says why; FEATURELAB_BACKEND picks an engine or fails clearly", () => {
  const off = engineOf({ FEATURELAB_NATIVE: "0", FEATURELAB_BACKEND: "" });
  assert.equal(off.status, 0, off.err);
  const info = JSON.parse(off.out);
  assert.equal(info.engine, "wasm");
  assert.match(info.reason, /FEATURELAB_NATIVE=0/);

  const wasm = engineOf({ FEATURELAB_BACKEND: "wasm" });
  assert.equal(JSON.parse(wasm.out).engine, "wasm");

  const bad = engineOf({ FEATURELAB_BACKEND: "gpu" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /FEATURELAB_BACKEND=gpu is not an engine; use one of tensorflow, native, wasm, cpu/);

  const noNative = engineOf({ FEATURELAB_BACKEND: "native", FEATURELAB_NATIVE: "0" });
  assert.notEqual(noNative.status, 0);
  assert.match(noNative.err, /native: the native addon is switched off/);
});

/** Runs `body` in a fresh process after `import * as fl from featurelab`; prints the backend before it. */
function freshProcess(body: string): Promise<{ status: number | null; out: string; err: string }> {
  const script = `import * as fl from "./src/index.ts"; console.log("before:" + fl.tf.engine().backendName); ${body}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, env: process.env });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, out: out.trim(), err });
    });
  });
}

test("no call needs `await fl.ready()`: importing starts no engine, the first computation starts the chosen one", async () => {
  const data = `const acts = fl.fromVectors(Float32Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i * 1.3)), 8, { stimulus: Array.from({ length: 64 }, (_, i) => "s" + (i % 4)) });`;
  const engineLine = `const info = await fl.engine(); console.log("engine:" + fl.tf.getBackend() + ":" + info.engine);`;
  const firsts: Record<string, string> = {
    cka: `console.log("value:" + fl.cka(acts, acts).toFixed(6));`,
    rdm: `console.log("value:" + fl.rdm(acts, { by: "stimulus" }).vector.length);`,
    fit: `const sae = await fl.dictionary("relu", { width: 16 }).fit(acts, { steps: 3, batchSize: 32 }); console.log("value:" + sae.encode(acts).numRows);`,
    "tf directly": `console.log("value:" + fl.tf.sum(fl.tf.ones([3])).dataSync()[0]);`,
  };
  const want: Record<string, string> = { cka: "value:1.000000", rdm: "value:6", fit: "value:64", "tf directly": "value:3" };
  const runs = await Promise.all(Object.values(firsts).map((first) => freshProcess(`${data} ${first} ${engineLine}`)));
  const expected = await engine();
  Object.keys(firsts).forEach((name, i) => {
    const { status, out, err } = runs[i];
    assert.equal(status, 0, `${name} as the first call: ${err}`);
    const lines = out.split("\n");
    assert.match(lines[0], /^before:(null|undefined)$/, `${name}: importing featurelab started a backend`);
    assert.equal(lines[1], want[name], name);
    assert.equal(lines[2], `engine:${expected.backend}:${expected.engine}`, name);
  });
});
