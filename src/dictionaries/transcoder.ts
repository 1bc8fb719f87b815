// Transcoders read a component's input and predict its output (Dunefsky et al. 2024; SAELens
// "transcoder"): z = ReLU((x − b_dec)·W_enc + b_enc), ŷ = z·W_dec + b_dec_out (+ x·W_skip for the skip
// transcoder); loss = mean_B Σ (ŷ − y)² + λ · mean_B Σ_i z_i ‖W_dec,i‖.
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import { defineArchitecture, type Architecture, type HostTensor, type LossOptions, type Params, type StepResult } from "./architecture.js";

function makeTranscoder(name: string, saeLensName: string, skip: boolean) {
  return defineArchitecture(name, saeLensName, ["d_out"], (options): Architecture => {
    const dOut = options.d_out;
    if (dOut !== undefined && !(Number.isInteger(dOut) && (dOut as number) > 0)) {
      throw new Error(`featurelab: ${name}: d_out must be a positive integer, got ${dOut}`);
    }
    const init = (dIn: number, width: number, rng: Rng): Record<string, HostTensor> => {
      const d = (dOut as number | undefined) ?? dIn;
      const wDec = rng.normals(width * d);
      for (let i = 0; i < width; i++) {
        const row = wDec.subarray(i * d, (i + 1) * d);
        const n = Math.hypot(...row);
        for (let j = 0; j < d; j++) row[j] *= 0.1 / n;
      }
      const wEnc = rng.normals(dIn * width).map((v) => v * (0.1 / Math.sqrt(dIn)));
      const out: Record<string, HostTensor> = {
        W_enc: { shape: [dIn, width], values: wEnc },
        W_dec: { shape: [width, d], values: wDec },
        b_enc: { shape: [width], values: new Float32Array(width) },
        b_dec: { shape: [dIn], values: new Float32Array(dIn) },
        b_dec_out: { shape: [d], values: new Float32Array(d) },
      };
      if (skip) out.W_skip = { shape: [dIn, d], values: new Float32Array(dIn * d) };
      return out;
    };
    const pre = (x: tf.Tensor2D, p: Params) => tf.add(tf.matMul(tf.sub(x, p.b_dec), p.W_enc as tf.Tensor2D), p.b_enc) as tf.Tensor2D;
    const encode = (x: tf.Tensor2D, p: Params) => tf.tidy(() => tf.relu(pre(x, p)));
    // decode sees only the features; the skip path needs x, so reconstruct() adds it.
    const decode = (f: tf.Tensor2D, p: Params) => tf.tidy(() => tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec_out) as tf.Tensor2D);
    const reconstruct = (x: tf.Tensor2D, f: tf.Tensor2D, p: Params) =>
      tf.tidy(() => (skip ? tf.add(decode(f, p), tf.matMul(x, p.W_skip as tf.Tensor2D)) : decode(f, p)) as tf.Tensor2D);

    const referenceLoss = (x: tf.Tensor2D, p: Params, { l1, target }: LossOptions): tf.Scalar =>
      tf.tidy(() => {
        const z = tf.relu(pre(x, p));
        const yHat = reconstruct(x, z, p);
        const mse = tf.mean(tf.sum(tf.square(tf.sub(yHat, target ?? x)), 1));
        const sparsity = tf.mean(tf.sum(tf.mul(z, tf.norm(p.W_dec, "euclidean", 1)), 1));
        return tf.add(mse, tf.mul(l1, sparsity)) as tf.Scalar;
      });

    const step = (x: tf.Tensor2D, p: Params, { l1, target }: LossOptions): StepResult =>
      tf.tidy(() => {
        const y = target ?? x;
        const B = x.shape[0];
        const W_enc = p.W_enc as tf.Tensor2D, W_dec = p.W_dec as tf.Tensor2D;
        const xIn = tf.sub(x, p.b_dec) as tf.Tensor2D;
        const a = tf.add(tf.matMul(xIn, W_enc), p.b_enc) as tf.Tensor2D;
        const z = tf.relu(a) as tf.Tensor2D;
        const yHat = reconstruct(x, z, p);
        const err = tf.sub(yHat, y);
        const norms = tf.norm(W_dec, "euclidean", 1) as tf.Tensor1D;
        const mse = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
        const sparsity = tf.div(tf.sum(tf.matMul(z, tf.reshape(norms, [-1, 1]))), B) as tf.Scalar;
        const loss = tf.add(mse, tf.mul(l1, sparsity)) as tf.Scalar;
        const g = tf.mul(err, 2 / B) as tf.Tensor2D;
        const gZ = tf.add(tf.matMul(g, tf.transpose(W_dec)), tf.mul(norms, l1 / B));
        const gA = tf.mul(gZ, tf.step(a, 0)) as tf.Tensor2D;
        const fire = tf.sum(z, 0);
        const grads: Params = {
          W_dec: tf.add(tf.matMul(tf.transpose(z), g), tf.mul(tf.reshape(tf.div(tf.mul(fire, l1 / B), norms), [-1, 1]), W_dec)),
          W_enc: tf.matMul(tf.transpose(xIn), gA),
          b_enc: tf.sum(gA, 0),
          b_dec: tf.neg(tf.reshape(tf.matMul(W_enc, tf.reshape(tf.sum(gA, 0), [-1, 1])), [-1])),
          b_dec_out: tf.sum(g, 0),
        };
        if (skip) grads.W_skip = tf.matMul(tf.transpose(x), g);
        return { loss, terms: { mse, l1: sparsity }, grads, features: z, reconstruction: yHat };
      });

    return { name, saeLensName, options: { ...options }, init, encode, decode, reconstruct, step, referenceLoss, fused: { kind: "transcoder", skip } };
  });
}

export const transcoder = makeTranscoder("transcoder", "transcoder", false);
export const skipTranscoder = makeTranscoder("skip-transcoder", "skip_transcoder", true);
