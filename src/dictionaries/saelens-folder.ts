// SAELens folder layout: cfg.json + sae_weights.safetensors with W_enc [d_in, d_sae],
// W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in] (REFERENCE.md, File formats).
import { writeFileAtomic } from "../io/atomic-write.js";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tf, ready } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { writeSafetensors } from "../io/safetensors.js";
import { checkDims, fromCfg, readFolderFiles } from "./folder-files.js";
import { toFloat32 } from "../io/ndarray.js";
import { Rng } from "../engine/random.js";
import type { Params } from "./architecture.js";
import { Dictionary, type DictionaryConfig } from "./dictionary.js";
import { architectures, factory, fromSaeLensName } from "./registry.js";

const WEIGHTS = "sae_weights.safetensors";

/**
 * Write a dictionary as a SAELens folder (atomically per file: temp file + rename). A dictionary
 * trained on normalised inputs (x·s) has s folded into its weights — W_enc·s, W_dec/s, b_dec/s — so
 * the saved one reads raw activations, as SAELens' fold_activation_norm_scaling_factor does.
 */
export async function saveSaeLens(dict: Dictionary, dir: string, extraCfg: Record<string, unknown> = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const scale = (dict.cfg.normalization as { scale?: number } | undefined)?.scale ?? 1;
  const fold: Record<string, number> = { W_enc: scale, W_dec: 1 / scale, b_dec: 1 / scale };
  const tensors: Record<string, { dtype: "float32"; shape: number[]; data: Float32Array }> = {};
  const stored = dict.arch.toSaeLens ? dict.arch.toSaeLens(dict.params) : dict.params;
  for (const [name, t] of Object.entries(stored)) {
    const values = Float32Array.from((await t.data()) as Float32Array);
    if (fold[name] !== undefined && scale !== 1) for (let i = 0; i < values.length; i++) values[i] *= fold[name];
    tensors[name] = { dtype: "float32", shape: t.shape, data: values };
  }
  const details = dict.arch.saeLensDetails?.(dict.cfg);
  const cfg = {
    architecture: dict.arch.saeLensName,
    d_in: dict.dIn,
    d_sae: dict.width,
    ...(dict.params.W_dec.shape[1] !== dict.dIn ? { d_out: dict.params.W_dec.shape[1] } : {}),
    ...(dict.arch.options.k !== undefined ? { k: dict.arch.options.k } : {}),
    dtype: "float32",
    device: "cpu",
    apply_b_dec_to_input: true,
    normalize_activations: "none",
    ...extraCfg,
    ...(details ? { metadata: { training_architecture: dict.arch.saeLensName, training_architecture_details: details, ...(extraCfg.metadata as object | undefined) } } : {}),
    featurelab: {
      architecture: dict.arch.name,
      // The architecture's own options (a CLT's nLayers…) even when the config was built without them.
      ...Object.fromEntries(Object.entries(dict.arch.options).filter(([k, v]) => k !== "d_out" && v !== undefined)),
      ...Object.fromEntries(Object.entries(dict.cfg).filter(([k]) => !["architecture", "d_in", "d_sae", "normalization"].includes(k))),
      ...(scale !== 1 ? { folded_normalization_scale: scale } : {}),
    },
  };
  writeFileAtomic(join(dir, WEIGHTS), writeSafetensors(tensors, { format: "pt" }));
  writeFileAtomic(join(dir, "cfg.json"), new TextEncoder().encode(JSON.stringify(cfg, null, 2) + "\n"));
}


/** Read a SAELens folder written by SAELens or by featurelab. */
export async function loadSaeLens(dir: string): Promise<Dictionary> {
  await ready();
  const files = readFolderFiles(dir, WEIGHTS, "a SAELens folder holds cfg.json and sae_weights.safetensors");
  const { cfg, cfgPath, tensors, weightsPath } = files;
  const make = fromCfg(cfgPath, () => (cfg.featurelab?.architecture ? factory(cfg.featurelab.architecture) : fromSaeLensName(cfg.architecture)));
  if (!make) {
    const known = architectures().map((n) => factory(n).saeLensName);
    throw new InputError(cfgPath, `architecture '${cfg.architecture}' is not one featurelab reads yet (it reads: ${known.join(", ")})`);
  }
  // The architecture's options among what featurelab recorded (l1_coefficient, training… are not options).
  // An option an older featurelab recorded and this one no longer reads (jumprelu's thresholdInit) shaped
  // only the training that is over: it is dropped, not refused.
  const archOptions = Object.fromEntries(Object.entries(cfg.featurelab ?? {}).filter(([k]) => make.optionNames.includes(k)));
  const arch = fromCfg(cfgPath, () => make({ ...archOptions, ...(cfg.k !== undefined ? { k: cfg.k } : {}), ...(cfg.d_out !== undefined ? { d_out: cfg.d_out } : {}) }));
  checkDims(files);
  // The parameters this architecture has, and their shapes, are those of a fresh one of this size.
  const layout = fromCfg(cfgPath, () => Object.entries(arch.init(cfg.d_in, cfg.d_sae, new Rng(0))));
  const stored: Params = {};
  for (const [name, t] of Object.entries(tensors)) stored[name] = tf.tensor(toFloat32(t), t.shape);
  const params = arch.fromSaeLens ? arch.fromSaeLens(stored) : stored;
  for (const [name, { shape }] of layout) {
    const t = params[name];
    if (!t) throw new InputError(weightsPath, `has no tensor '${name}' (a ${arch.name} dictionary needs ${layout.map(([n]) => n).join(", ")}); tensors: ${Object.keys(tensors).join(", ")}`);
    if (t.shape.join(",") !== shape.join(",")) throw new InputError(weightsPath, `tensor '${name}' has shape [${t.shape}], cfg.json implies [${shape}]`);
  }
  for (const name of Object.keys(params)) if (!layout.some(([n]) => n === name)) params[name].dispose(), delete params[name];
  const config: DictionaryConfig = { ...(cfg.featurelab ?? {}), architecture: arch.name, d_in: cfg.d_in, d_sae: cfg.d_sae, ...(cfg.d_out ? { d_out: cfg.d_out } : {}) };
  return new Dictionary(arch, config, params);
}
