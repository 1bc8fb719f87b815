// Adam with PyTorch's update rule (bias-corrected moments, ε added to √v̂), so runs agree with
// SAELens and dictionary_learning step for step.
import { tf } from "../engine/backend.js";

export interface AdamOptions {
  betas?: [number, number];
  eps?: number;
}

export class Adam {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private t = 0;

  constructor(opts: AdamOptions = {}) {
    [this.b1, this.b2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
  }

  /** One update of every parameter that has a gradient, at learning rate lr. */
  apply(params: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr: number): void {
    this.t++;
    const c1 = 1 - this.b1 ** this.t;
    const c2 = Math.sqrt(1 - this.b2 ** this.t);
    for (const [name, g] of Object.entries(grads)) {
      const p = params[name];
      if (!p) continue;
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        // Inside tidy: the zeros the variables start from are freed (the variables keep their own copy).
        m = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
        v = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const mm = m, vv = v;
      tf.tidy(() => {
        mm.assign(tf.add(tf.mul(mm, this.b1), tf.mul(g, 1 - this.b1)));
        vv.assign(tf.add(tf.mul(vv, this.b2), tf.mul(tf.square(g), 1 - this.b2)));
        const denom = tf.add(tf.div(tf.sqrt(vv), c2), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(mm, denom), lr / c1)));
      });
    }
  }

  /** Zero the moments of a parameter where `keep` (broadcast to its shape) is 0, e.g. resampled features. */
  forget(name: string, keep: tf.Tensor): void {
    for (const moments of [this.m, this.v]) {
      const t = moments.get(name);
      if (t) t.assign(tf.mul(t, keep));
    }
  }

  /** Moments and step count, for a checkpoint (names prefixed "adam_m." and "adam_v."). */
  state(): { step: number; tensors: Record<string, tf.Tensor> } {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, m] of this.m) tensors[`adam_m.${k}`] = m;
    for (const [k, v] of this.v) tensors[`adam_v.${k}`] = v;
    return { step: this.t, tensors };
  }

  /** Continue from a checkpoint's state. */
  restore(step: number, tensors: Record<string, tf.Tensor>): void {
    this.t = step;
    for (const [key, t] of Object.entries(tensors)) {
      const [kind, name] = [key.slice(0, 7), key.slice(7)];
      if (kind === "adam_m.") this.m.set(name, tf.variable(t, false));
      else if (kind === "adam_v.") this.v.set(name, tf.variable(t, false));
    }
  }

  dispose(): void {
    tf.dispose([...this.m.values(), ...this.v.values()]);
    this.m.clear();
    this.v.clear();
  }
}

/** Scale gradients so their global L2 norm is at most maxNorm (as torch.nn.utils.clip_grad_norm_). */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(tf.addN(sq));
    const scale = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)]));
  });
}
