// Training steps in the native engine: the weights, their gradients and Adam's moments live in
// Float32Arrays, and one fused C++ call computes the loss and every gradient (native/sae_steps.cc);
// Adam and the decoder constraint run in C++ too. Same arithmetic as the tfjs path, to float32
// rounding. Used for architectures with a `fused` step; fit() falls back to tfjs-trainer otherwise.
import { tf } from "../engine/backend.js";
import type { NativeAddon } from "../engine/native.js";
import type { FusedStep } from "../dictionaries/architecture.js";
import type { StepInput, StepNumbers, Trainer, TrainerSetup } from "./trainer.js";

const NAMES = ["W_enc", "W_dec", "b_enc", "b_dec"] as const;
type Name = (typeof NAMES)[number];
type Arrays = Record<Name, Float32Array>;

/** Why the native trainer cannot run this setup, or undefined when it can. */
export function nativeUnsupported(s: Pick<TrainerSetup, "arch" | "rowDim" | "dIn" | "resample">): string | undefined {
  if (!s.arch.fused) return `${s.arch.name} has no fused native step`;
  if (s.rowDim !== s.dIn) return "transcoders train on tfjs";
  if (s.resample) return "resampling runs on tfjs";
  return undefined;
}

export function nativeTrainer(addon: NativeAddon, s: TrainerSetup): Trainer {
  const fused = s.arch.fused as FusedStep;
  const { width: h, dIn: d, batchSize: B, deadWindow } = s;
  const shapes: Record<Name, number[]> = { W_enc: [d, h], W_dec: [h, d], b_enc: [h], b_dec: [d] };
  const zeros = () => Object.fromEntries(NAMES.map((n) => [n, new Float32Array(shapes[n].reduce((a, b) => a * b, 1))])) as Arrays;
  const params = zeros(), grads = zeros(), m = zeros(), v = zeros();
  for (const n of NAMES) params[n].set(s.init[n].values);
  const sinceFired = new Float64Array(h);
  let adamStep = 0;
  if (s.resume) {
    const c = s.resume;
    for (const n of NAMES) {
      params[n].set(c.tensors[n].dataSync() as Float32Array);
      m[n].set(c.tensors[`adam_m.${n}`].dataSync() as Float32Array);
      v[n].set(c.tensors[`adam_v.${n}`].dataSync() as Float32Array);
    }
    sinceFired.set(c.tensors.since_fired.dataSync());
    adamStep = c.adamStep;
    tf.dispose(Object.values(c.tensors));
  }
  const [beta1, beta2] = s.betas ?? [0.9, 0.999];
  const unitNorm = fused.kind === "topk" || fused.unitNorm;
  const kAux = fused.kind === "topk" ? fused.kAux(d) : 0;
  const ws = addon.createWorkspace();
  const fired = new Uint8Array(h);
  const stats = new Float64Array(7);
  const dead = new Int32Array(h);
  let lastGood = copy(params);

  return {
    kind: "native",
    step({ rows, lr, l1, record }: StepInput): StepNumbers | undefined {
      const p = params, g = grads;
      if (fused.kind === "relu") {
        addon.reluStep(ws, rows, p.W_enc, p.W_dec, p.b_enc, p.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, l1, fused.unitNorm, fired, stats);
      } else {
        let nDead = 0;
        if (fused.auxKCoefficient > 0) for (let i = 0; i < h; i++) if (sinceFired[i] >= deadWindow) dead[nDead++] = i;
        addon.topkStep(ws, rows, p.W_enc, p.W_dec, p.b_enc, p.b_dec, g.W_enc, g.W_dec, g.b_enc, g.b_dec, B, d, h, fused.k, kAux, fused.auxKCoefficient, dead, nDead, fired, stats);
      }
      if (s.clipGradNorm) {
        // As torch.nn.utils.clip_grad_norm_: scale by min(1, max/(‖g‖ + 1e-6)).
        const norm = Math.sqrt(NAMES.reduce((sum, n) => sum + addon.sumSquares(g[n]), 0));
        const factor = Math.min(1, s.clipGradNorm / (norm + 1e-6));
        if (factor < 1) for (const n of NAMES) addon.scale(g[n], factor);
      }
      adamStep++;
      for (const n of NAMES) addon.adam(p[n], g[n], m[n], v[n], lr, beta1, beta2, 1e-8, adamStep);
      if (unitNorm) addon.normaliseRows(p.W_dec, h, d);
      let deadCount = 0;
      for (let i = 0; i < h; i++) {
        sinceFired[i] = fired[i] ? 0 : sinceFired[i] + B;
        if (sinceFired[i] >= deadWindow) deadCount++;
      }
      if (!record) return undefined;
      const [loss, mse, sparsity, , l0, sse, centred] = stats;
      return { loss, mse, sparsity: fused.kind === "relu" ? sparsity : NaN, l0, fvu: sse / centred, deadFraction: deadCount / h };
    },
    keep() {
      lastGood = copy(params);
    },
    rollback() {
      for (const n of NAMES) params[n].set(lastGood[n]);
    },
    checkpointState() {
      const tensors: Record<string, tf.Tensor> = {};
      for (const n of NAMES) {
        tensors[n] = tf.tensor(params[n], shapes[n]);
        tensors[`adam_m.${n}`] = tf.tensor(m[n], shapes[n]);
        tensors[`adam_v.${n}`] = tf.tensor(v[n], shapes[n]);
      }
      tensors.since_fired = tf.tensor(Float32Array.from(sinceFired), [h]);
      return { adamStep, tensors, release: () => tf.dispose(Object.values(tensors)) };
    },
    finish() {
      return Object.fromEntries(NAMES.map((n) => [n, tf.tensor(params[n], shapes[n])]));
    },
    dispose() {},
  };
}

function copy(a: Arrays): Arrays {
  return Object.fromEntries(NAMES.map((n) => [n, a[n].slice()])) as Arrays;
}
