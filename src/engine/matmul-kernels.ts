// tfjs-wasm's matMul kernels, replaced by two faster paths: with the native engine, OpenBLAS sgemm
// straight on the wasm heap (any transposes, both cores); without it, an explicit transpose first,
// because tfjs-wasm runs matMul with transposeA/transposeB as a slow scalar loop — and autodiff of
// every matMul produces exactly those. One install, after the wasm backend has started.
import * as tf from "@tensorflow/tfjs";
import type { NativeAddon } from "./native.js";

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
}
type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; backend: WasmBackend; attrs: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => TensorInfo;

let blas: NativeAddon | undefined;
let installed = false;

/** Route matMul through OpenBLAS (an addon) or through wasm with explicit transposes (undefined). */
export function useNativeMatMul(addon: NativeAddon | undefined): void {
  blas = addon;
}

export function installMatMulKernels(): void {
  if (installed) return;
  installed = true;
  for (const name of ["BatchMatMul", "_FusedMatMul"]) {
    const original = tf.getKernel(name, "wasm");
    if (!original) continue;
    const wasmFunc = original.kernelFunc as unknown as KernelFunc;
    const fused = name === "_FusedMatMul";
    const kernelFunc: KernelFunc = (args) => {
      if (!blas) return untransposed(wasmFunc, args);
      const shape = dims(args);
      return nativeApplies(args, shape, fused) ? nativeMatMul(blas, args, shape) : untransposed(wasmFunc, args);
    };
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/** The wasm kernel on operands transposed beforehand, so it runs its fast untransposed path. */
function untransposed(wasmFunc: KernelFunc, args: KernelArgs): TensorInfo {
  const { transposeA, transposeB } = args.attrs;
  if (!transposeA && !transposeB) return wasmFunc(args);
  const transpose = tf.getKernel("Transpose", "wasm").kernelFunc as unknown as KernelFunc;
  const swapLast = (t: TensorInfo) => {
    const perm = t.shape.map((_, i) => i);
    [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
    return transpose({ inputs: { x: t }, backend: args.backend, attrs: { perm } });
  };
  const a = transposeA ? swapLast(args.inputs.a!) : args.inputs.a!;
  const b = transposeB ? swapLast(args.inputs.b!) : args.inputs.b!;
  try {
    return wasmFunc({ ...args, inputs: { ...args.inputs, a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    if (a !== args.inputs.a) args.backend.disposeData(a.dataId);
    if (b !== args.inputs.b) args.backend.disposeData(b.dataId);
  }
}

function dims(args: KernelArgs) {
  const a = args.inputs.a!, b = args.inputs.b!;
  const tA = Boolean(args.attrs.transposeA), tB = Boolean(args.attrs.transposeB);
  const ra = a.shape.length, rb = b.shape.length;
  const M = tA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchA = a.shape.slice(0, -2).reduce((s, v) => s * v, 1);
  const batchB = b.shape.slice(0, -2).reduce((s, v) => s * v, 1);
  return { a, b, tA, tB, M, K, N, batchA, batchB };
}

type Dims = ReturnType<typeof dims>;

/** What the native path covers: float32, batch dims equal or one side unbatched, bias on the last axis, linear/ReLU. */
function nativeApplies(args: KernelArgs, { a, b, batchA, batchB }: Dims, fused: boolean): boolean {
  if (a.dtype !== "float32" || b.dtype !== "float32") return false;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return false;
  if (a.shape.length !== b.shape.length && batchA !== 1 && batchB !== 1) return false;
  if (!fused) return true;
  const { bias, preluActivationWeights } = args.inputs;
  const activation = args.attrs.activation ?? "linear";
  return preluActivationWeights == null && (activation === "linear" || activation === "relu") && (bias == null || bias.shape.length === 1);
}

function nativeMatMul(addon: NativeAddon, args: KernelArgs, { a, b, tA, tB, M, K, N, batchA, batchB }: Dims): TensorInfo {
  const Kb = tB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  if (K !== Kb) {
    throw new Error(`Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${tA} and transposeB=${tB} must match.`);
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const out = args.backend.makeOutput([...outer, M, N], "float32");
  // Views taken after makeOutput: allocating may grow (and so move) the wasm heap.
  const C = args.backend.typedArrayFromHeap(out);
  if (M > 0 && N > 0) {
    if (K === 0) C.fill(0);
    else {
      const A = args.backend.typedArrayFromHeap(a), B = args.backend.typedArrayFromHeap(b);
      for (let i = 0; i < batch; i++) {
        const ia = batchA === 1 ? 0 : i, ib = batchB === 1 ? 0 : i;
        addon.sgemm(tA, tB, M, N, K, 1, A.subarray(ia * M * K, (ia + 1) * M * K), tA ? M : K, B.subarray(ib * K * N, (ib + 1) * K * N), tB ? K : N, 0, C.subarray(i * M * N, (i + 1) * M * N), N);
      }
    }
  }
  const bias = args.inputs.bias;
  const relu = args.attrs.activation === "relu";
  if (bias || relu) {
    const bv = bias ? args.backend.typedArrayFromHeap(bias) : undefined;
    const n = bv?.length ?? 1;
    for (let i = 0; i < C.length; i++) {
      const v = bv ? C[i] + bv[i % n] : C[i];
      C[i] = relu && v < 0 ? 0 : v;
    }
  }
  return out;
}
