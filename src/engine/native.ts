// The optional native addon (native/, built by node-gyp at install against Debian's OpenBLAS):
// sgemm for tfjs's matMul, and fused SAE training steps. Absent or broken, featurelab runs on wasm.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Opaque scratch memory owned by the addon, reused across steps. */
export type Workspace = { readonly __workspace: unique symbol };

export interface NativeAddon {
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number): void;
  /** The same in float64 (RDM Gram matrices). */
  dgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float64Array, lda: number, B: Float64Array, ldb: number, beta: number, C: Float64Array, ldc: number): void;
  createWorkspace(): Workspace;
  /** Loss, gradients, fired flags and stats [loss, mse, sparsity, auxk, l0, sse, centred] of a ReLU SAE. */
  reluStep(ws: Workspace, x: Float32Array, W_enc: Float32Array, W_dec: Float32Array, b_enc: Float32Array, b_dec: Float32Array, gW_enc: Float32Array, gW_dec: Float32Array, gb_enc: Float32Array, gb_dec: Float32Array, B: number, d: number, h: number, l1: number, unitNorm: boolean, fired: Uint8Array, stats: Float64Array): void;
  /** The same for a TopK SAE with AuxK over the `dead` feature indices. */
  topkStep(ws: Workspace, x: Float32Array, W_enc: Float32Array, W_dec: Float32Array, b_enc: Float32Array, b_dec: Float32Array, gW_enc: Float32Array, gW_dec: Float32Array, gb_enc: Float32Array, gb_dec: Float32Array, B: number, d: number, h: number, k: number, kAux: number, auxCoefficient: number, dead: Int32Array, nDead: number, fired: Uint8Array, stats: Float64Array): void;
  /** The same for a BatchTopK SAE (Matryoshka with more than one prefix end); stats[7] gets the smallest kept activation. */
  batchTopkStep(ws: Workspace, x: Float32Array, W_enc: Float32Array, W_dec: Float32Array, b_enc: Float32Array, b_dec: Float32Array, gW_enc: Float32Array, gW_dec: Float32Array, gb_enc: Float32Array, gb_dec: Float32Array, B: number, d: number, h: number, k: number, kAux: number, auxCoefficient: number, dead: Int32Array, nDead: number, prefixEnds: Int32Array, nPrefixes: number, fired: Uint8Array, stats: Float64Array): void;
  /** A JumpReLU SAE or transcoder step (y empty: reconstruct x; dead empty: no pre-activation loss; preActCoefficient < 0: off). */
  jumpreluStep(ws: Workspace, x: Float32Array, y: Float32Array, W_enc: Float32Array, W_dec: Float32Array, b_enc: Float32Array, b_dec: Float32Array, threshold: Float32Array, gW_enc: Float32Array, gW_dec: Float32Array, gb_enc: Float32Array, gb_dec: Float32Array, gThreshold: Float32Array, B: number, dIn: number, dOut: number, h: number, l1: number, bandwidth: number, tanhMode: boolean, tanhScale: number, preActCoefficient: number, centreInput: boolean, dead: Float32Array, fired: Uint8Array, stats: Float64Array): void;
  /** A ReLU transcoder step (W_skip and its gradient empty: no skip connection). */
  reluTranscoderStep(ws: Workspace, x: Float32Array, y: Float32Array, W_enc: Float32Array, W_dec: Float32Array, b_enc: Float32Array, b_dec: Float32Array, b_dec_out: Float32Array, W_skip: Float32Array, gW_enc: Float32Array, gW_dec: Float32Array, gb_enc: Float32Array, gb_dec: Float32Array, gb_dec_out: Float32Array, gW_skip: Float32Array, B: number, dIn: number, dOut: number, h: number, l1: number, fired: Uint8Array, stats: Float64Array): void;
  /** A Gated SAE step; stats[3] gets the auxiliary reconstruction term. */
  gatedStep(ws: Workspace, x: Float32Array, W_enc: Float32Array, W_dec: Float32Array, b_gate: Float32Array, b_mag: Float32Array, r_mag: Float32Array, b_dec: Float32Array, gW_enc: Float32Array, gW_dec: Float32Array, gb_gate: Float32Array, gb_mag: Float32Array, gr_mag: Float32Array, gb_dec: Float32Array, B: number, d: number, h: number, l1: number, fired: Uint8Array, stats: Float64Array): void;
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number, beta2: number, eps: number, t: number): void;
  normaliseRows(W: Float32Array, rows: number, cols: number): void;
  removeParallel(g: Float32Array, W: Float32Array, rows: number, cols: number): void;
  sumSquares(g: Float32Array): number;
  scale(g: Float32Array, factor: number): void;
  info(): { blas: string; core: string; blasThreads: number; ompThreads: number };
  /** An ArrayBuffer of `bytes` on transparent huge pages (not zero-filled when memory is reused). */
  hugeBuffer(bytes: number): ArrayBuffer;
  /** SPD's causal-importance MLPs for inner activations a [B, C]: pre [B, C], and Φ, φ of every GELU input [B, C, H]. */
  spdGateForward(a: Float64Array, wIn: Float64Array, bIn: Float64Array, wOut: Float64Array, bOut: Float64Array, B: number, C: number, H: number, cdf: Float64Array, pdf: Float64Array, pre: Float64Array): void;
  /** Their backward pass: accumulates gwIn, gbIn, gwOut, gbOut; writes da [B, C]. */
  spdGateBackward(a: Float64Array, dpre: Float64Array, wIn: Float64Array, bIn: Float64Array, wOut: Float64Array, B: number, C: number, H: number, cdf: Float64Array, pdf: Float64Array, gwIn: Float64Array, gbIn: Float64Array, gwOut: Float64Array, gbOut: Float64Array, da: Float64Array): void;
  /** Decompress a zstd frame into `output` with the system's libzstd: bytes written, or −1 without libzstd. */
  zstdDecompress(input: Uint8Array, output: Uint8Array): number;
}

/** Where `npm install` builds the addon (the same path from src/engine and dist/engine). */
export const ADDON_PATH = fileURLToPath(new URL("../../native/build/Release/featurelab_native.node", import.meta.url));

let loaded: { addon?: NativeAddon; problem?: string } | undefined;

/** The addon, or why there is none (not built, or it failed to load). */
export function loadNative(): { addon?: NativeAddon; problem?: string } {
  if (loaded) return loaded;
  if (process.env.FEATURELAB_NATIVE === "0") {
    loaded = { problem: "the native addon is switched off (FEATURELAB_NATIVE=0)" };
    return loaded;
  }
  if (!existsSync(ADDON_PATH)) {
    loaded = { problem: "the native addon is not built (npm install builds it when g++, node-gyp and libopenblas-dev are present)" };
    return loaded;
  }
  // OpenMP threads that spin after a parallel loop would steal the cores OpenBLAS needs next.
  process.env.OMP_WAIT_POLICY ??= "PASSIVE";
  try {
    loaded = { addon: createRequire(import.meta.url)(ADDON_PATH) as NativeAddon };
  } catch (err) {
    loaded = { problem: `the native addon failed to load: ${String((err as Error).message).split("\n")[0]}` };
  }
  return loaded;
}

/**
 * A Float32Array of `n` elements for a large result the caller fills entirely: on huge pages through the
 * addon when it is there (fresh memory is filled ~1.5× faster), else an ordinary array. Its contents
 * start undefined.
 */
export function uninitialisedFloat32(n: number): Float32Array {
  const addon = n * 4 >= 16 << 20 ? loadNative().addon : undefined;
  if (addon && typeof addon.hugeBuffer === "function") {
    try {
      return new Float32Array(addon.hugeBuffer(n * 4), 0, n);
    } catch {
      // an older build, or no external buffers here: the ordinary way
    }
  }
  return new Float32Array(n);
}
