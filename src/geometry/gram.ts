// Inner products of condition patterns in float64 (as rsatoolbox computes RDMs with numpy). The
// kernel works on 4×4 blocks of rows so each loaded value feeds four multiply-adds; V8 keeps the 16
// partial sums in registers. tfjs would be faster but only has float32, whose rounding shows in
// small dissimilarities between large patterns.
//
// Large products are shared with worker threads: the inputs go into SharedArrayBuffers, every
// thread (this one included) claims bands of four rows from a shared counter until none are left,
// and this thread waits (Atomics.wait) for the bands others claimed. A band a worker claimed but did
// not finish within a few seconds (a worker that died) is recomputed here, so the result never
// depends on the workers arriving.
//
// With the native engine's addon built, OpenBLAS's dgemm does it instead (tens of milliseconds for
// 2,000 × 768).
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { loadNative } from "../engine/native.js";

/** { native: false } keeps the product in JavaScript even where the addon is built (tests). */
export interface GramOptions {
  native?: boolean;
}

/** X·Xᵀ for X of K rows × C columns (row-major); a full symmetric K×K matrix, row-major. */
export function gram(X: Float64Array, K: number, C: number, opts: GramOptions = {}): Float64Array {
  return product(X, X, K, C, true, opts.native ?? true);
}

/** A·Bᵀ for A and B of K rows × C columns; K×K, row-major (not symmetric). */
export function crossGram(A: Float64Array, B: Float64Array, K: number, C: number, opts: GramOptions = {}): Float64Array {
  return product(A, B, K, C, false, opts.native ?? true);
}

/** Multiply-adds above which the work is shared with worker threads (~10 ms on one core). */
const PARALLEL_WORK = 2e7;

function product(A: Float64Array, B: Float64Array, K: number, C: number, symmetric: boolean, native: boolean): Float64Array {
  const blas = native ? loadNative().addon : undefined;
  if (blas && K > 0 && C > 0) {
    const G = new Float64Array(K * K);
    blas.dgemm(false, true, K, K, C, 1, A, C, B, C, 0, G, K);
    if (symmetric) mirror(G, K); // blocked kernels need not sum (i, j) and (j, i) in the same order
    return G;
  }
  const bands = Math.ceil(K / 4);
  const work = (symmetric ? 0.5 : 1) * K * K * C;
  const pool = work >= PARALLEL_WORK ? workers() : [];
  if (pool.length === 0) {
    const G = new Float64Array(K * K);
    for (let b = bands - 1; b >= 0; b--) band(A, B, G, K, C, b, symmetric);
    if (symmetric) mirror(G, K);
    return G;
  }
  const shared = (x: Float64Array) => {
    const s = new Float64Array(new SharedArrayBuffer(x.length * 8));
    s.set(x);
    return s;
  };
  const a = shared(A), b = symmetric ? a : shared(B);
  const G = new Float64Array(new SharedArrayBuffer(K * K * 8));
  // control[0]: next band to claim (counting down from the largest); status[band]: 0 free, 1 claimed, 2 done.
  const control = new Int32Array(new SharedArrayBuffer(4 * (1 + bands)));
  const status = control.subarray(1);
  const job = { A: a.buffer, B: b.buffer, G: G.buffer, control: control.buffer, K, C, symmetric };
  for (const w of pool) w.postMessage(job);
  claimBands(a, b, G, K, C, symmetric, control, status, bands);
  // Wait for the bands the workers hold; take over any that stall.
  let lastDone = -1, stalledSince = performance.now();
  for (;;) {
    let done = 0, pending = -1;
    for (let i = 0; i < bands; i++) {
      if (Atomics.load(status, i) === 2) done++;
      else pending = i;
    }
    if (done === bands) break;
    if (done !== lastDone) (lastDone = done), (stalledSince = performance.now());
    if (performance.now() - stalledSince > 3000) {
      band(a, b, G, K, C, pending, symmetric);
      Atomics.store(status, pending, 2);
      continue;
    }
    Atomics.wait(status, pending, 1, 50);
  }
  if (symmetric) mirror(G, K);
  return G;
}

/** Claim bands from the shared counter and compute them (runs in every thread). */
function claimBands(A: Float64Array, B: Float64Array, G: Float64Array, K: number, C: number, symmetric: boolean, control: Int32Array, status: Int32Array, bands: number): void {
  for (;;) {
    const b = bands - 1 - Atomics.add(control, 0, 1);
    if (b < 0) return;
    Atomics.store(status, b, 1);
    band(A, B, G, K, C, b, symmetric);
    Atomics.store(status, b, 2);
    Atomics.notify(status, b);
  }
}

/** Rows 4b..4b+3 of A·Bᵀ (only columns ≤ the row when symmetric). */
function band(A: Float64Array, B: Float64Array, G: Float64Array, K: number, C: number, b: number, symmetric: boolean): void {
  const i = 4 * b;
  const K4 = K - (K % 4);
  const jEnd = symmetric ? Math.min(i + 4, K4) : K4;
  if (i + 4 <= K) for (let j = 0; j < jEnd; j += 4) block4(A, B, i, j, C, G, K);
  for (let r = i; r < Math.min(i + 4, K); r++) {
    const from = i + 4 <= K ? jEnd : 0;
    const to = symmetric ? r + 1 : K;
    for (let j = from; j < to; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += A[r * C + c] * B[j * C + c];
      G[r * K + j] = s;
    }
  }
}

function mirror(G: Float64Array, K: number): void {
  for (let i = 1; i < K; i++) for (let j = 0; j < i; j++) G[j * K + i] = G[i * K + j];
}

/** G[i..i+3][j..j+3] = A[i..i+3] · B[j..j+3]ᵀ. */
function block4(A: Float64Array, B: Float64Array, i: number, j: number, C: number, G: Float64Array, K: number): void {
  const a0 = i * C, a1 = a0 + C, a2 = a1 + C, a3 = a2 + C;
  const b0 = j * C, b1 = b0 + C, b2 = b1 + C, b3 = b2 + C;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let c = 0; c < C; c++) {
    const y0 = B[b0 + c], y1 = B[b1 + c], y2 = B[b2 + c], y3 = B[b3 + c];
    let x = A[a0 + c];
    s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
    x = A[a1 + c];
    s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
    x = A[a2 + c];
    s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
    x = A[a3 + c];
    s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
  }
  let r = i * K + j;
  G[r] = s00; G[r + 1] = s01; G[r + 2] = s02; G[r + 3] = s03;
  r += K;
  G[r] = s10; G[r + 1] = s11; G[r + 2] = s12; G[r + 3] = s13;
  r += K;
  G[r] = s20; G[r + 1] = s21; G[r + 2] = s22; G[r + 3] = s23;
  r += K;
  G[r] = s30; G[r + 1] = s31; G[r + 2] = s32; G[r + 3] = s33;
}

let pool: Worker[] | undefined;

/** The worker threads (one fewer than the cores, at most 7), started once and never keeping the process alive. */
function workers(): Worker[] {
  if (pool) return pool;
  pool = [];
  const n = Math.min(availableParallelism() - 1, 7);
  if (n < 1 || process.env.FEATURELAB_THREADS === "1") return pool;
  // The same functions, as source, in each worker (they use nothing outside their arguments).
  const source = `const { parentPort } = require("node:worker_threads");
${block4.toString()}
${band.toString()}
${claimBands.toString()}
parentPort.on("message", (m) => {
  const control = new Int32Array(m.control);
  const A = new Float64Array(m.A), B = m.B === m.A ? A : new Float64Array(m.B);
  claimBands(A, B, new Float64Array(m.G), m.K, m.C, m.symmetric, control, control.subarray(1), control.length - 1);
});`;
  try {
    for (let k = 0; k < n; k++) {
      const w = new Worker(source, { eval: true });
      w.unref();
      w.on("error", () => pool!.splice(pool!.indexOf(w), 1));
      pool.push(w);
    }
  } catch {
    pool.length = 0; // no workers here: compute on this thread
  }
  return pool;
}
