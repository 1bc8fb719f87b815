// Training steps with tfjs tensors on whatever backend runs: the architecture's hand-written step,
// Adam, optional clipping and resampling, and dead-feature counters kept on the device.
import { tf } from "../engine/backend.js";
import type { StepResult } from "../dictionaries/architecture.js";
import { Adam, clipByGlobalNorm } from "./adam.js";
import { resampleDeadFeatures } from "./resample.js";
import type { StepInput, StepNumbers, Trainer, TrainerSetup } from "./trainer.js";

export function tfjsTrainer(s: TrainerSetup): Trainer {
  const { arch, width, dIn, rowDim, batchSize, deadWindow } = s;
  const params: Record<string, tf.Variable> = {};
  for (const [name, t] of Object.entries(s.init)) params[name] = tf.variable(tf.tensor(t.values, t.shape), true, undefined);
  const adam = new Adam({ betas: s.betas });
  // Rows seen since each feature last fired, on the device: the dead mask for AuxK each step.
  const sinceFired = tf.variable(tf.zeros([width]), false);
  if (s.resume) {
    const c = s.resume;
    for (const [name, v] of Object.entries(params)) v.assign(c.tensors[name]);
    adam.restore(c.adamStep, c.tensors);
    sinceFired.assign(c.tensors.since_fired);
    tf.dispose(Object.entries(c.tensors).filter(([k]) => !k.startsWith("adam_")).map(([, t]) => t));
  }
  let lastGood = snapshot(params);

  const deadMask = () => tf.tidy(() => tf.cast(tf.greaterEqual(sinceFired, deadWindow), "float32")) as tf.Tensor1D;

  return {
    kind: "tfjs",
    step({ rows, lr, l1, step, record }: StepInput): StepNumbers | undefined {
      const rowsT = tf.tensor2d(rows, [batchSize, rowDim]);
      const [x, target] = rowDim === dIn ? [rowsT, undefined] : splitPair(rowsT, dIn);
      const dead = deadMask();
      const res = arch.step(x, params, { l1, dead, target });
      const grads = s.clipGradNorm ? clipByGlobalNorm(res.grads, s.clipGradNorm) : res.grads;
      adam.apply(params, grads, lr);
      for (const [name, value] of Object.entries(res.updates ?? {})) params[name].assign(value);
      if (s.resample && (step + 1) % s.resample.every === 0) {
        const { resampled } = resampleDeadFeatures(params, adam, dead.dataSync() as Float32Array, x, res.reconstruction, s.resampleRng);
        if (resampled.length > 0) tf.tidy(() => sinceFired.assign(tf.mul(sinceFired, tf.sub(1, tf.scatterND(tf.tensor2d(resampled, [resampled.length, 1], "int32"), tf.ones([resampled.length]), [width])))));
      }
      arch.afterStep?.(params);
      tf.tidy(() => {
        const fired = tf.greater(tf.max(res.features, 0), 0);
        sinceFired.assign(tf.where(fired, tf.zerosLike(sinceFired), tf.add(sinceFired, batchSize)));
      });
      const numbers = record ? readNumbers(target ?? x, res) : undefined;
      if (numbers) numbers.deadFraction = tf.tidy(() => tf.mean(tf.cast(tf.greaterEqual(sinceFired, deadWindow), "float32")).dataSync()[0]);
      tf.dispose([dead, x, res.loss, res.features, res.reconstruction, ...Object.values(res.terms), ...Object.values(res.grads), ...Object.values(res.updates ?? {})]);
      if (grads !== res.grads) tf.dispose(Object.values(grads));
      if (target) tf.dispose([rowsT, target]);
      return numbers;
    },
    keep() {
      tf.dispose(Object.values(lastGood));
      lastGood = snapshot(params);
    },
    rollback() {
      for (const [k, v] of Object.entries(params)) v.assign(lastGood[k]);
    },
    checkpointState() {
      const { step, tensors } = adam.state();
      return { adamStep: step, tensors: { ...params, ...tensors, since_fired: sinceFired }, release() {} };
    },
    finish() {
      return Object.fromEntries(Object.entries(params).map(([name, v]) => [name, tf.clone(v)]));
    },
    dispose() {
      adam.dispose();
      sinceFired.dispose();
      tf.dispose(Object.values(lastGood));
      tf.dispose(Object.values(params));
    },
  };
}

function readNumbers(x: tf.Tensor2D, res: StepResult): StepNumbers {
  const vals = tf.tidy(() => {
    const err = tf.sum(tf.square(tf.sub(x, res.reconstruction)));
    const centred = tf.sum(tf.square(tf.sub(x, tf.mean(x, 0))));
    const l0 = tf.div(tf.sum(tf.cast(tf.greater(res.features, 0), "float32")), x.shape[0]);
    return tf.stack([res.loss, res.terms.mse ?? tf.scalar(NaN), res.terms.l1 ?? tf.scalar(NaN), l0, tf.div(err, centred)]);
  });
  const [loss, mse, sparsity, l0, fvu] = vals.dataSync();
  vals.dispose();
  return { loss, mse, sparsity, l0, fvu, deadFraction: 0 };
}

/** [x_in | y] rows → x_in [B, d_in] and y [B, d_out]. */
function splitPair(rows: tf.Tensor2D, dIn: number): [tf.Tensor2D, tf.Tensor2D] {
  const [B, d] = rows.shape;
  return [tf.slice(rows, [0, 0], [B, dIn]), tf.slice(rows, [0, dIn], [B, d - dIn])];
}

function snapshot(params: Record<string, tf.Variable>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.clone(v)]));
}
