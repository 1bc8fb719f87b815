// Gemma Scope's dictionaries (Lieberum et al. 2024): JumpReLU SAEs saved as params.npz with W_enc
// [d_in, d_sae], W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in] and threshold [d_sae], whose encoder
// reads x itself: f = JumpReLU_θ(x·W_enc + b_enc). featurelab's JumpReLU reads x − b_dec (as SAELens'
// training SAE does), so the same function is b_enc' = b_enc + b_dec·W_enc: folded in once, at load.
import { readFileSync } from "node:fs";
import { tf, ready } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { readNpz } from "../io/npz.js";
import { toFloat32 } from "../io/ndarray.js";
import { Dictionary } from "./dictionary.js";
import { factory } from "./registry.js";

const NAMES = ["W_enc", "W_dec", "b_enc", "b_dec", "threshold"] as const;

/** A Gemma Scope params.npz as a featurelab JumpReLU dictionary computing the same codes and reconstructions. */
export async function loadGemmaScope(path: string): Promise<Dictionary> {
  await ready();
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new InputError(path, "no such file (a Gemma Scope dictionary is a params.npz)");
  }
  const arrays = readNpz(bytes, path);
  for (const n of NAMES) if (!arrays[n]) throw new InputError(path, `has no array '${n}' (Gemma Scope's params.npz holds ${NAMES.join(", ")}); it has ${Object.keys(arrays).join(", ")}`);
  const [dIn, dSae] = arrays.W_enc.shape;
  const expect: Record<(typeof NAMES)[number], number[]> = { W_enc: [dIn, dSae], W_dec: [dSae, dIn], b_enc: [dSae], b_dec: [dIn], threshold: [dSae] };
  for (const n of NAMES) {
    if (arrays[n].shape.join(",") !== expect[n].join(",")) throw new InputError(path, `array '${n}' has shape [${arrays[n].shape}], but W_enc [${dIn}, ${dSae}] implies [${expect[n]}]`);
  }
  const W_enc = toFloat32(arrays.W_enc), b_dec = toFloat32(arrays.b_dec), b_enc = toFloat32(arrays.b_enc);
  const folded = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let s = b_enc[j];
    for (let i = 0; i < dIn; i++) s += b_dec[i] * W_enc[i * dSae + j];
    folded[j] = s;
  }
  const arch = factory("jumprelu")({});
  const params = {
    W_enc: tf.tensor2d(W_enc, [dIn, dSae]),
    W_dec: tf.tensor2d(toFloat32(arrays.W_dec), [dSae, dIn]),
    b_enc: tf.tensor1d(folded),
    b_dec: tf.tensor1d(b_dec),
    threshold: tf.tensor1d(toFloat32(arrays.threshold)),
  };
  return new Dictionary(arch, { architecture: arch.name, d_in: dIn, d_sae: dSae, source: "gemma-scope" }, params);
}
