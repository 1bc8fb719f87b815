// Training steps in the native engine: the weights, their gradients and Adam's moments live in
// Float32Arrays, and one fused C++ call computes the loss and every gradient (native/sae_steps.cc);
// Adam and the decoder constraint run in C++ too. Same arithmetic as the tfjs path, to float32
// rounding. Used for architectures with a `fused` step; fit() falls back to tfjs-trainer otherwise.
import { tf } from "../engine/backend.js";
import type { NativeAddon } from "../engine/native.js";
import type { FusedStep } from "../dictionaries/architecture.js";
import { THRESHOLD_BETA } from "../dictionaries/batchtopk.js";
import type { StepInput, StepNumbers, Trainer, TrainerSetup } from "./trainer.js";

type Arrays = Record<string, Float32Array>;
const NONE = new Float32Array(0);

/** The parameters a fused step trains: JumpReLU's threshold too (BatchTopK's is an EMA, kept apart). */
function trainedNames(fused: FusedStep): string[] {
  const base = ["W_enc", "W_dec", "b_enc", "b_dec"];
  if (fused.kind === "jumprelu") return [...base, "threshold"];
  if (fused.kind === "transcoder") return [...base, "b_dec_out", ...(fused.skip ? ["W_skip"] : [])];
  if (fused.kind === "gated") return ["W_enc", "W_dec", "b_gate", "b_mag", "r_mag", "b_dec"];
  return base;
}

/** Why the native trainer cannot run this setup, or undefined when it can. */
export function nativeUnsupported(s: Pick<TrainerSetup, "arch" | "rowDim" | "dIn" | "resample">): string | undefined {
  const fused = s.arch.fused;
  if (!fused) return `${s.arch.name} has no fused native step`;
  const readsPairs = fused.kind === "transcoder" || (fused.kind === "jumprelu" && !fused.centreInput);
  if (s.rowDim !== s.dIn && !readsPairs) return `${s.arch.name} reconstructs its input: it cannot train on [input | target] pairs natively`;
  if (s.resample) return "resampling runs on tfjs";
  return undefined;
}

export function nativeTrainer(addon: NativeAddon, s: TrainerSetup): Trainer {
  const fused = s.arch.fused as FusedStep;
  const { width: h, dIn: d, rowDim, batchSize: B, deadWindow } = s;
  const dOut = rowDim === d ? d : rowDim - d;
  const names = trainedNames(fused);
  const shapes = Object.fromEntries(names.map((n) => [n, s.init[n].shape]));
  const zeros = () => Object.fromEntries(names.map((n) => [n, new Float32Array(s.init[n].values.length)])) as Arrays;
  const params = zeros(), grads = zeros(), m = zeros(), v = zeros();
  for (const n of names) params[n].set(s.init[n].values);
  // BatchTopK's inference threshold θ [1]: not trained, an EMA of each batch's smallest kept activation.
  const threshold = fused.kind === "batchtopk" ? Float32Array.from(s.resume ? s.resume.tensors.threshold.dataSync() : s.init.threshold.values) : undefined;
  const sinceFired = new Float64Array(h);
  let adamStep = 0;
  if (s.resume) {
    const c = s.resume;
    for (const n of names) {
      params[n].set(c.tensors[n].dataSync() as Float32Array);
      m[n].set(c.tensors[`adam_m.${n}`].dataSync() as Float32Array);
      v[n].set(c.tensors[`adam_v.${n}`].dataSync() as Float32Array);
    }
    sinceFired.set(c.tensors.since_fired.dataSync());
    adamStep = c.adamStep;
    tf.dispose(Object.values(c.tensors));
  }
  const [beta1, beta2] = s.betas ?? [0.9, 0.999];
  const unitNorm = fused.kind === "relu" ? fused.unitNorm : fused.kind === "topk" || fused.kind === "batchtopk" || fused.kind === "gated";
  const kAux = fused.kind === "topk" || fused.kind === "batchtopk" ? fused.kAux(d) : 0;
  const prefixEnds = fused.kind === "batchtopk" ? Int32Array.from(fused.prefixes(h)) : undefined;
  // A CLT's weights outside its blocks stay exactly zero: masked gradients, masked weights after Adam.
  const masks = fused.kind === "jumprelu" ? fused.masks?.(d, h, dOut) : undefined;
  const ws = addon.createWorkspace();
  const fired = new Uint8Array(h);
  const stats = new Float64Array(8);
  const dead = new Int32Array(h);
  const deadMask = new Float32Array(fused.kind === "jumprelu" && fused.options.preActLossCoefficient !== undefined ? h : 0);
  // A transcoder's rows are [x | y]; the step reads them apart.
  const [xs, ys] = rowDim === d ? [undefined, new Float32Array(0)] : [new Float32Array(B * d), new Float32Array(B * dOut)];
  let lastGood = copy(params);
  let lastThreshold = threshold?.slice();
  /** [x | y] rows → x and y (y empty when the rows are inputs only). */
  const splitRows = (rows: Float32Array): [Float32Array, Float32Array] => {
    if (!xs) return [rows, ys];
    for (let b = 0; b < B; b++) {
      xs.set(rows.subarray(b * rowDim, b * rowDim + d), b * d);
      ys.set(rows.subarray(b * rowDim + d, (b + 1) * rowDim), b * dOut);
    }
    return [xs, ys];
  };

  return {
    kind: "native",
    step({ rows, lr, l1, record }: StepInput): StepNumbers | undefined {
      const p = params, g = grads;
      if (fused.kind === "relu") {
        addon.reluStep(ws, rows, p.W_enc, p.W_dec, p.b_enc, p.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, l1, fused.unitNorm, fired, stats);
      } else if (fused.kind === "gated") {
        addon.gatedStep(ws, rows, p.W_enc, p.W_dec, p.b_gate, p.b_mag, p.r_mag, p.b_dec, g.W_enc, g.W_dec, g.b_gate, g.b_mag, g.r_mag, g.b_dec, B, d, h, l1, fired, stats);
      } else if (fused.kind === "transcoder") {
        const [x, y] = splitRows(rows);
        const skip = fused.skip ? [p.W_skip, g.W_skip] : [NONE, NONE];
        addon.reluTranscoderStep(ws, x, y.length ? y : x, p.W_enc, p.W_dec, p.b_enc, p.b_dec, p.b_dec_out, skip[0], g.W_enc, g.W_dec, g.b_enc, g.b_dec, g.b_dec_out, skip[1], B, d, dOut, h, l1, fired, stats);
      } else if (fused.kind === "jumprelu") {
        const [x, ys] = splitRows(rows);
        for (let i = 0; i < deadMask.length; i++) deadMask[i] = sinceFired[i] >= deadWindow ? 1 : 0;
        const o = fused.options;
        addon.jumpreluStep(ws, x, ys, p.W_enc, p.W_dec, p.b_enc, p.b_dec, p.threshold, g.W_enc, g.W_dec, g.b_enc, g.b_dec, g.threshold, B, d, dOut, h, l1, o.bandwidth, o.sparsityLossMode === "tanh", o.tanhScale, o.preActLossCoefficient ?? -1, fused.centreInput, deadMask, fired, stats);
        if (masks) {
          multiplyInto(g.W_enc, masks.enc);
          multiplyInto(g.W_dec, masks.dec);
        }
      } else {
        let nDead = 0;
        if (fused.auxKCoefficient > 0) for (let i = 0; i < h; i++) if (sinceFired[i] >= deadWindow) dead[nDead++] = i;
        if (fused.kind === "topk") {
          addon.topkStep(ws, rows, p.W_enc, p.W_dec, p.b_enc, p.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, fused.k, kAux, fused.auxKCoefficient, dead, nDead, fired, stats);
        } else {
          addon.batchTopkStep(ws, rows, p.W_enc, p.W_dec, p.b_enc, p.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, fused.k, kAux, fused.auxKCoefficient, dead, nDead, prefixEnds!, prefixEnds!.length, fired, stats);
          threshold![0] = nextThreshold(threshold![0], stats[7]);
        }
      }
      if (s.clipGradNorm) {
        // As torch.nn.utils.clip_grad_norm_: scale by min(1, max/(‖g‖ + 1e-6)).
        const norm = Math.sqrt(names.reduce((sum, n) => sum + addon.sumSquares(g[n]), 0));
        const factor = Math.min(1, s.clipGradNorm / (norm + 1e-6));
        if (factor < 1) for (const n of names) addon.scale(g[n], factor);
      }
      adamStep++;
      for (const n of names) addon.adam(p[n], g[n], m[n], v[n], lr, beta1, beta2, 1e-8, adamStep);
      if (unitNorm) addon.normaliseRows(p.W_dec, h, d);
      if (masks) {
        multiplyInto(p.W_enc, masks.enc);
        multiplyInto(p.W_dec, masks.dec);
      }
      let deadCount = 0;
      for (let i = 0; i < h; i++) {
        sinceFired[i] = fired[i] ? 0 : sinceFired[i] + B;
        if (sinceFired[i] >= deadWindow) deadCount++;
      }
      if (!record) return undefined;
      const [loss, mse, sparsity, , l0, sse, centred] = stats;
      const hasSparsity = fused.kind === "relu" || fused.kind === "jumprelu" || fused.kind === "transcoder" || fused.kind === "gated";
      return { loss, mse, sparsity: hasSparsity ? sparsity : NaN, l0, fvu: sse / centred, deadFraction: deadCount / h };
    },
    keep() {
      lastGood = copy(params);
      lastThreshold = threshold?.slice();
    },
    rollback() {
      for (const n of names) params[n].set(lastGood[n]);
      if (threshold) threshold.set(lastThreshold!);
    },
    checkpointState() {
      const tensors: Record<string, tf.Tensor> = {};
      for (const n of names) {
        tensors[n] = tf.tensor(params[n], shapes[n]);
        tensors[`adam_m.${n}`] = tf.tensor(m[n], shapes[n]);
        tensors[`adam_v.${n}`] = tf.tensor(v[n], shapes[n]);
      }
      tensors.since_fired = tf.tensor(Float32Array.from(sinceFired), [h]);
      if (threshold) tensors.threshold = tf.tensor(threshold.slice(), [1]);
      return { adamStep, tensors, release: () => tf.dispose(Object.values(tensors)) };
    },
    finish() {
      const out: Record<string, tf.Tensor> = Object.fromEntries(names.map((n) => [n, tf.tensor(params[n], shapes[n])]));
      if (threshold) out.threshold = tf.tensor(threshold.slice(), [1]);
      return out;
    },
    dispose() {},
  };
}

function copy(a: Arrays): Arrays {
  return Object.fromEntries(Object.entries(a).map(([n, t]) => [n, t.slice()]));
}

function multiplyInto(a: Float32Array, mask: Float32Array): void {
  for (let i = 0; i < a.length; i++) a[i] *= mask[i];
}

/** batchtopk.ts's updatedThreshold in float32: the first batch sets θ, then β·θ + (1 − β)·minKept; a batch with nothing kept leaves it. */
function nextThreshold(theta: number, minKept: number): number {
  if (!Number.isFinite(minKept)) return theta;
  const m = Math.fround(minKept);
  if (theta <= 0) return m;
  return Math.fround(Math.fround(theta * Math.fround(THRESHOLD_BETA)) + Math.fround(m * Math.fround(1 - THRESHOLD_BETA)));
}
