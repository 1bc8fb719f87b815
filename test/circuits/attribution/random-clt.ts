// A random cross-layer transcoder over scaledTransformer's layers (test/circuits/fixtures.ts) and a prompt
// for the attribution tests: weights larger than the initialisation so that features fire and matter.
import { tf } from "../../../src/engine/backend.js";
import { Rng } from "../../../src/engine/random.js";
import { crossLayerTranscoder } from "../../../src/dictionaries/cross-layer-transcoder.js";
import { Dictionary } from "../../../src/dictionaries/dictionary.js";
import type { Params } from "../../../src/dictionaries/architecture.js";
import { D_MODEL } from "../fixtures.js";

export const PROMPT = [0, 4, 2, 7, 3, 5, 4, 2];

/** A random CLT over the model's layers whose features fire often enough to make a busy graph. */
export function randomClt(layers: number, perLayer: number, seed: number, crossLayer = true): Dictionary {
  const arch = crossLayerTranscoder({ nLayers: layers, crossLayer, d_out: layers * D_MODEL });
  const rng = new Rng(seed);
  const p: Params = {};
  for (const [k, t] of Object.entries(arch.init(layers * D_MODEL, layers * perLayer, rng))) p[k] = tf.tensor(t.values, t.shape);
  // Larger weights than the initialisation, so features fire and write visibly (the blocks stay masked).
  p.W_enc = tf.mul(p.W_enc, 20);
  p.W_dec = tf.mul(p.W_dec, 10);
  p.b_enc = tf.tensor(rng.normals(layers * perLayer), [layers * perLayer]).mul(0.2);
  p.b_dec = tf.tensor(rng.normals(layers * D_MODEL), [layers * D_MODEL]).mul(0.3);
  p.threshold = tf.tensor(Array.from({ length: layers * perLayer }, (_, i) => 0.1 + 0.05 * (i % 3)), [layers * perLayer]);
  return new Dictionary(arch, { architecture: "clt", d_in: layers * D_MODEL, d_sae: layers * perLayer, d_out: layers * D_MODEL }, p);
}
