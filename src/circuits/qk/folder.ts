// A QK dictionary on disk: its two transcoders as SAELens "transcoder" folders — query/ reads
// blocks.{l}.ln1.hook_normalized and predicts attn.hook_q (heads concatenated), key/ predicts
// attn.hook_k — plus qk.json with the training configuration and history. Each half loads on its own
// with fl.loadDictionary (or SAELens); fl.loadQkDictionary(dir, model, tokens) puts the pair back
// together on the model it decomposes and the documents its examples should come from.
import { writeFileAtomic } from "../../io/atomic-write.js";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tf } from "../../engine/backend.js";
import { architecture } from "../../dictionaries/registry.js";
import { Dictionary } from "../../dictionaries/dictionary.js";
import { loadDictionary } from "../../dictionaries/load-dictionary.js";
import { InputError } from "../../io/errors.js";
import { checkQkTarget, collectQkData } from "./data.js";
import { QkDictionary, type QkConfig, type QkTrainingRecord } from "./dictionary.js";
import type { QkWeights } from "./loss.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

const MANIFEST = "qk.json";
const SIDES = [
  { dir: "query", enc: "W_encQ", bEnc: "b_encQ", dec: "D_Q", b: "b_Q", hook: "hook_q" },
  { dir: "key", enc: "W_encK", bEnc: "b_encK", dec: "D_K", b: "b_K", hook: "hook_k" },
] as const;

interface Manifest {
  format: "featurelab.qk-dictionary";
  version: 1;
  model: string;
  heads: number;
  d_head: number;
  config: QkConfig;
  history: QkTrainingRecord[];
}

/** Write `dir/query`, `dir/key` (SAELens transcoder folders) and `dir/qk.json`. */
export async function saveQkDictionary(qk: QkDictionary, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const w = qk.weights;
  const dModel = w.W_encQ.shape[0];
  for (const s of SIDES) {
    const dOut = w[s.dec].shape[1];
    // The transcoder form: z = ReLU((x − b_dec)·W_enc + b_enc), ŷ = z·W_dec + b_dec_out, with b_dec = 0.
    const params = { W_enc: w[s.enc], b_enc: w[s.bEnc], W_dec: w[s.dec], b_dec: tf.zeros([dModel]), b_dec_out: w[s.b] };
    const dict = new Dictionary(architecture("transcoder"), { architecture: "transcoder", d_in: dModel, d_sae: qk.width, d_out: dOut }, params);
    await dict.save(join(dir, s.dir), {
      metadata: { model_name: qk.model, hook_name: `blocks.${qk.layer}.ln1.hook_normalized`, hook_name_out: `blocks.${qk.layer}.attn.${s.hook}` },
    });
    params.b_dec.dispose();
  }
  const manifest: Manifest = { format: "featurelab.qk-dictionary", version: 1, model: qk.model, heads: qk.heads, d_head: qk.data.dHead, config: qk.cfg, history: qk.history };
  const path = join(dir, MANIFEST);
  writeFileAtomic(path, JSON.stringify(manifest, null, 2) + "\n");
}

/**
 * Read a folder written by qk.save(dir) back onto `model`, with `tokens` as the documents it reads.
 * @example
 * const qk = await fl.loadQkDictionary("out/qk", model, tokens);
 */
export async function loadQkDictionary(dir: string, model: unknown, input: unknown, opts: { prependBos?: boolean } = {}): Promise<QkDictionary> {
  rejectUnknownOptions("loadQkDictionary", opts, optionNames<typeof opts>({ prependBos: true }));
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new InputError(dir, `no ${MANIFEST}: a QK dictionary folder holds ${MANIFEST}, query/ and key/ (written by qk.save(dir))`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new InputError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (manifest.format !== "featurelab.qk-dictionary") throw new InputError(path, `format is ${JSON.stringify(manifest.format)}, expected "featurelab.qk-dictionary"`);
  const layer = manifest.config.layer;
  checkQkTarget(model, layer, "loadQkDictionary");
  const { d_model: dModel, n_heads: heads, d_head: dHead } = model.cfg;
  if (heads !== manifest.heads || dHead !== manifest.d_head) {
    throw new Error(`featurelab: loadQkDictionary: ${dir} was trained on ${manifest.heads} heads of d_head ${manifest.d_head} (${manifest.model}), but ${model.name} has ${heads} × ${dHead}`);
  }
  const weights: Partial<Record<keyof QkWeights, tf.Tensor>> = {};
  for (const s of SIDES) {
    const dict = await loadDictionary(join(dir, s.dir));
    const p = dict.weights;
    const where = join(dir, s.dir);
    if (dict.arch.name !== "transcoder") throw new InputError(where, `architecture '${dict.arch.name}', expected "transcoder"`);
    if (dict.dIn !== dModel || p.W_dec.shape[1] !== heads * dHead || dict.width !== manifest.config.width) {
      throw new InputError(where, `maps ${dict.dIn} → ${p.W_dec.shape[1]} with ${dict.width} features; layer ${layer} of ${model.name} needs ${dModel} → ${heads * dHead} and ${MANIFEST} says width ${manifest.config.width}`);
    }
    if (tf.tidy(() => tf.max(tf.abs(p.b_dec)).dataSync()[0]) !== 0) throw new InputError(where, "b_dec is not zero: a QK transcoder reads the normalised residual as it is");
    weights[s.enc] = tf.keep(tf.clone(p.W_enc));
    weights[s.bEnc] = tf.keep(tf.clone(p.b_enc));
    weights[s.dec] = tf.keep(tf.clone(p.W_dec));
    weights[s.b] = tf.keep(tf.clone(p.b_dec_out));
    dict.dispose();
  }
  const data = await collectQkData(model, input, layer, { prependBos: opts.prependBos, what: "loadQkDictionary" });
  return new QkDictionary(model.name, manifest.config, weights as QkWeights, data, manifest.history, 0);
}
