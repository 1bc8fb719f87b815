// A small random transformer for the circuit tests: weights scaled up (and LayerNorm γ, β perturbed)
// so that every layer and every term matters, and three documents of unequal length.
import { tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { Transformer } from "../../src/models/transformer.js";

export const D_MODEL = 8;

export const DOCS = [
  [0, 4, 2, 7, 3, 5, 9],
  [0, 2, 2, 8, 1],
  [0, 3, 9, 4, 4, 2, 8],
];

export function scaledTransformer(layers: number): Transformer {
  const m = Transformer.init({ d_model: D_MODEL, n_layers: layers, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 5 });
  const rng = new Rng(9);
  const params = Object.fromEntries(
    Object.entries(m.params).map(([k, t]) => {
      if (k.includes("ln_")) return [k, tf.add(t, tf.tensor(rng.normals(t.size).map((v) => 0.3 * v), t.shape))];
      return [k, tf.mul(t, 8)];
    }),
  );
  return new Transformer(m.cfg, params);
}
