// sparsify (EleutherAI) folders: cfg.json + sae.safetensors with encoder.weight [d_sae, d_in],
// encoder.bias [d_sae], W_dec [d_sae, d_in], b_dec [d_in] (REFERENCE.md, File formats). Their SAEs are
// TopK: f = TopK_k(ReLU((x − b_dec)·encoder.weightᵀ + encoder.bias)) — featurelab's "topk".
import { tf, ready } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { readFolderFiles } from "./folder-files.js";
import { toFloat32 } from "../io/ndarray.js";
import type { Params } from "./architecture.js";
import { Dictionary } from "./dictionary.js";
import { factory } from "./registry.js";

export const SPARSIFY_WEIGHTS = "sae.safetensors";

export async function loadSparsify(dir: string): Promise<Dictionary> {
  await ready();
  const { cfg, cfgPath, tensors, weightsPath } = readFolderFiles(dir, SPARSIFY_WEIGHTS, "a sparsify folder holds cfg.json and sae.safetensors");
  for (const name of ["encoder.weight", "encoder.bias", "W_dec", "b_dec"]) {
    if (!tensors[name]) throw new InputError(weightsPath, `has no tensor '${name}'; tensors: ${Object.keys(tensors).join(", ")}`);
  }
  if (tensors.W_skip) throw new InputError(weightsPath, "holds a skip connection (W_skip): sparsify transcoders are not read yet");
  const [dSae, dIn] = tensors["encoder.weight"].shape;
  if (tensors["encoder.weight"].shape.length !== 2 || !(dSae > 0 && dIn > 0)) throw new InputError(weightsPath, `encoder.weight has shape [${tensors["encoder.weight"].shape}], expected [d_sae, d_in]`);
  const expected: Record<string, number[]> = { W_dec: [dSae, dIn], "encoder.bias": [dSae], b_dec: [dIn] };
  for (const [name, shape] of Object.entries(expected)) {
    if (tensors[name].shape.join() !== shape.join()) throw new InputError(weightsPath, `${name} has shape [${tensors[name].shape}], expected [${shape.join(", ")}] to match encoder.weight`);
  }
  const k = cfg.k;
  if (!(Number.isInteger(k) && k > 0)) throw new InputError(cfgPath, `needs a positive integer 'k' (sparsify SAEs are TopK), got ${JSON.stringify(k)}`);
  if (k > dSae) throw new InputError(cfgPath, `says k = ${k}, more than the ${dSae} latents of ${weightsPath}`);
  const arch = factory("topk")({ k });
  const params: Params = tf.tidy(() => ({
    W_enc: tf.transpose(tf.tensor2d(toFloat32(tensors["encoder.weight"]), [dSae, dIn])),
    b_enc: tf.tensor1d(toFloat32(tensors["encoder.bias"])),
    W_dec: tf.tensor2d(toFloat32(tensors.W_dec), [dSae, dIn]),
    b_dec: tf.tensor1d(toFloat32(tensors.b_dec)),
  }));
  return new Dictionary(arch, { architecture: "topk", d_in: dIn, d_sae: dSae, k, source: "sparsify" }, params);
}
