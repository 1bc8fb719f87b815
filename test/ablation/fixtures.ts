// Dictionaries with known behaviour for the ablation tests.
import { tf } from "../../src/engine/backend.js";
import { architecture } from "../../src/dictionaries/registry.js";
import { Dictionary } from "../../src/dictionaries/dictionary.js";

/**
 * A ReLU dictionary of width 2d that reconstructs exactly: features relu(x) and relu(−x), decoder rows
 * +e_i and −e_i, so x̂ = relu(x) − relu(−x) = x. `dropDims` zeroes those dims' decoder rows (a lossy one).
 */
export function identityDictionary(d: number, opts: { dropDims?: number[]; scaleDecoder?: number } = {}): Dictionary {
  const enc = new Float32Array(d * 2 * d);
  const dec = new Float32Array(2 * d * d);
  const s = opts.scaleDecoder ?? 1;
  for (let i = 0; i < d; i++) {
    enc[i * 2 * d + i] = 1;
    enc[i * 2 * d + d + i] = -1;
    if (opts.dropDims?.includes(i)) continue;
    dec[i * d + i] = s;
    dec[(d + i) * d + i] = -s;
  }
  const params = {
    W_enc: tf.tensor2d(enc, [d, 2 * d]),
    W_dec: tf.tensor2d(dec, [2 * d, d]),
    b_enc: tf.zeros([2 * d]),
    b_dec: tf.zeros([d]),
  };
  return new Dictionary(architecture("relu"), { architecture: "relu", d_in: d, d_sae: 2 * d }, params);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** log-softmax of one row of logits, by definition (max-shifted for stability). */
export function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}
