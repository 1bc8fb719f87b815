// fl.loadModel(dir): a Hugging Face model folder as a hooked model — GPT-2 as a Transformer, GPT-NeoX
// (Pythia), the Llama family (Llama, Mistral, Qwen 2) and Gemma 2 as a Decoder — chosen by config.json's
// model_type.
import { basename, dirname, join, resolve } from "node:path";
import { hubFile, localOrHub, type HubOptions } from "../io/hf-hub.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { defaultProgress, type ProgressSink } from "../training/progress.js";
import { ready, tf } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { readJson, readModelFolder } from "./hf-folder.js";
import { Transformer } from "./transformer.js";
import { Decoder } from "./decoder.js";
import { DECODER_MODEL_TYPES, decoderConfigFromHf } from "./decoder-config.js";
import { decoderProcessView, readDecoderWeights } from "./decoder-weights.js";
import { transformerProcessView } from "./transformer-weights.js";
import { PROCESS_OPTIONS, processingRefusal, processWeights, type ProcessView, type ProcessWeightsOptions } from "./process-weights.js";
import { folderTokenizer } from "./tokenizer.js";

/**
 * Options of `loadModel`: where a model on the Hub comes from, and TransformerLens' weight processing
 * (none by default, so hooks see Hugging Face's values; TransformerLens' from_pretrained applies all
 * four where they apply).
 */
export type LoadModelOptions = Omit<HubOptions, "onProgress"> &
  ProcessWeightsOptions & {
    /** false: no download progress display (default: shown for files of 8 MB or more). */
    progress?: boolean;
  };

const LOAD_OPTIONS = [...optionNames<Omit<LoadModelOptions, keyof ProcessWeightsOptions>>({ revision: true, endpoint: true, cacheDir: true, offline: true, token: true, progress: true }), ...PROCESS_OPTIONS];

/**
 * The snapshot folder of a model on the Hub, with config.json, the weights (model.safetensors, or the
 * index and its shards) and the tokenizer's files downloaded into the Hugging Face cache as needed.
 */
function hubOnly(opts: LoadModelOptions): HubOptions {
  const { foldLayerNorm, centerWritingWeights, centerUnembed, foldValueBiases, progress, ...hub } = opts;
  return hub;
}

async function hubModelFolder(repo: string, opts: LoadModelOptions): Promise<string> {
  const { progress = true } = opts;
  const hub = hubOnly(opts);
  const sinks = new Map<string, ProgressSink | undefined>();
  const began = performance.now();
  const onProgress: HubOptions["onProgress"] = ({ path, bytes, total, done }) => {
    if (!progress || total === undefined || total < 8e6) return;
    if (!sinks.has(path)) sinks.set(path, defaultProgress());
    const mb = (n: number) => Math.round(n / 1e6);
    sinks.get(path)?.update({ title: `download ${repo}/${path}`, step: mb(bytes), steps: mb(total), unit: "MB", tokensPerSecond: NaN, elapsedSeconds: (performance.now() - began) / 1000, last: undefined, history: [], curves: false, done });
  };
  const get = (path: string, optional = false) => hubFile(repo, path, { ...hubOnly(hub), optional, onProgress });
  const config = (await get("config.json"))!;
  const dir = dirname(config);
  if (!(await get("model.safetensors", true))) {
    const index = await get("model.safetensors.index.json", true);
    if (!index) throw new InputError(`${repo}@${opts.revision ?? "main"}`, "has neither model.safetensors nor model.safetensors.index.json on the Hub (pytorch_model.bin, a pickle, is not read)");
    const shards = new Set(Object.values((readJson(index, "the shard index").weight_map ?? {}) as Record<string, string>));
    for (const shard of shards) await get(shard);
  }
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) await get(f, true);
  return dir;
}

/**
 * Read a Hugging Face model folder (`config.json` + `model.safetensors` or its shards) as a model with
 * TransformerLens' hook points: GPT-2, GPT-NeoX / Pythia, Llama, Mistral, Qwen 2 or Gemma 2. A name
 * like "EleutherAI/pythia-70m" that is not a local folder is fetched from the Hub into the Hugging Face
 * cache (shared with Python's huggingface_hub; HF_HUB_OFFLINE=1 reads only the cache).
 * `foldLayerNorm`, `centerWritingWeights`, `centerUnembed`, `foldValueBiases`: TransformerLens'
 * processing, so hook values are those a TransformerLens user sees (a step that cannot apply — centring
 * the writing weights of an RMSNorm model, the unembedding under a logit soft cap — is an error).
 * @example
 * const model = await fl.loadModel("models/tiny-induction");
 * const pythia = await fl.loadModel("EleutherAI/pythia-70m", { revision: "step143000" });
 * const tl = await fl.loadModel("gpt2", { foldLayerNorm: true, centerWritingWeights: true, centerUnembed: true, foldValueBiases: true });
 */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<Transformer | Decoder> {
  rejectUnknownOptions("loadModel", opts, LOAD_OPTIONS);
  await ready();
  const found = await localOrHub(dir, (repo) => hubModelFolder(repo, opts));
  const name = found.repo ?? basename(resolve(dir));
  dir = found.dir;
  const cfgPath = join(dir, "config.json");
  const json = readJson(cfgPath, "a Hugging Face model folder holds config.json and model.safetensors");
  const steps = Object.fromEntries(PROCESS_OPTIONS.filter((k) => opts[k]).map((k) => [k, true])) as ProcessWeightsOptions;
  if (json.model_type === undefined || json.model_type === "gpt2") {
    const { cfg, params, tokenizer, extra } = await readModelFolder(dir);
    const processed = withProcessing(transformerProcessView(cfg, params), cfg, params, steps, cfgPath);
    return new Transformer(processed, params, { name, tokenizer, source: dir, extra, processing: steps });
  }
  if (!(json.model_type in DECODER_MODEL_TYPES)) {
    throw new InputError(cfgPath, `model_type '${json.model_type}' is not one featurelab reads (${["gpt2", ...Object.keys(DECODER_MODEL_TYPES)].join(", ")})`);
  }
  const cfg = decoderConfigFromHf(json, cfgPath);
  const params = readDecoderWeights(dir, cfg, cfg.model_type);
  const processed = withProcessing(decoderProcessView(cfg, params), cfg, params, steps, cfgPath);
  const tokenizer = await folderTokenizer(dir, cfg.d_vocab, cfg.bos_token_id, cfg.model_type);
  return new Decoder(processed, params, { name, tokenizer, source: dir, extra: json, processing: steps });
}

/** The config after TransformerLens' processing of `params` (in place); a step that cannot apply frees the weights and says why. */
function withProcessing<C extends { tied: boolean }>(view: ProcessView, cfg: C, params: Record<string, tf.Tensor>, steps: ProcessWeightsOptions, file: string): C {
  const refusal = processingRefusal(view, steps);
  if (refusal) {
    tf.dispose(Object.values(params));
    throw new Error(`featurelab: loadModel(${dirname(file)}): ${refusal}`);
  }
  return processWeights(view, params, steps).untied ? { ...cfg, tied: false } : cfg;
}
