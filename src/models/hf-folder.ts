// A Hugging Face GPT-2 folder: config.json (GPT2Config) + model.safetensors (or shards listed in
// model.safetensors.index.json) with GPT-2's weight names, with or without the "transformer."
// prefix; tokenizer.json for word-level vocabularies. Every problem names the file and the tensor.
import { writeFileAtomic } from "../io/atomic-write.js";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { tf } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { numel, toFloat32, viewBytes, type NdArray } from "../io/ndarray.js";
import { readSafetensorsHeader, writeSafetensors } from "../io/safetensors.js";
import { fromHfConfig, toHfConfig, type TransformerConfig } from "./transformer-config.js";
import { checkpointLayout, checkpointTensor, isBuffer, splitQkv } from "./transformer-weights.js";
import { folderTokenizer, WordLevelTokenizer, type Tokenizer } from "./tokenizer.js";

const CONFIG = "config.json";
const WEIGHTS = "model.safetensors";
const INDEX = "model.safetensors.index.json";
const PREFIX = "transformer.";

export interface ModelFolder {
  cfg: TransformerConfig;
  params: Record<string, tf.Tensor>;
  tokenizer: Tokenizer | undefined;
  /** config.json fields beyond GPT2Config's (kept when saving again). */
  extra: Record<string, unknown>;
}

export function readJson(path: string, what: string): Record<string, any> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === "ENOENT" ? `no such file (${what})` : (err as Error).message);
  }
  try {
    const json = JSON.parse(text);
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error("not a JSON object");
    return json;
  } catch (err) {
    throw new InputError(path, `is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * The checkpoint's files: model.safetensors, or the shards model.safetensors.index.json lists. What
 * the folder holds otherwise is named in the error (`kind`: "GPT-2", "Llama", …).
 */
export function weightFiles(dir: string, kind: string): string[] {
  if (existsSync(join(dir, WEIGHTS))) return [join(dir, WEIGHTS)];
  if (existsSync(join(dir, INDEX))) {
    const index = readJson(join(dir, INDEX), "the shard index");
    if (typeof index.weight_map !== "object" || index.weight_map === null) throw new InputError(join(dir, INDEX), "has no weight_map");
    return [...new Set(Object.values(index.weight_map as Record<string, string>))].map((f) => join(dir, f));
  }
  const bin = existsSync(join(dir, "pytorch_model.bin")) ? "; pytorch_model.bin (a pickle) is not read — save the model with safe_serialization=True" : "";
  throw new InputError(join(dir, WEIGHTS), `no such file (a Hugging Face ${kind} folder holds config.json and model.safetensors)${bin}`);
}

let scratch: ArrayBuffer | undefined;

/**
 * Where a tensor's bytes are read to: on the wasm engine, which copies every new tensor into its own
 * heap, one buffer reused for every read (loading then holds the weights plus the largest tensor, not
 * twice the weights until the garbage collector runs); elsewhere, where a tensor may keep the array it
 * was made from, a buffer of its own. Always aligned for any element type.
 */
function readBuffer(size: number): Uint8Array {
  if (tf.getBackend() !== "wasm") return new Uint8Array(size);
  if (!scratch || scratch.byteLength < size) scratch = new ArrayBuffer(size);
  return new Uint8Array(scratch, 0, size);
}

/** A tensor of a checkpoint file, read from disk only when asked (so loading holds one tensor's bytes at a time). */
export interface StoredTensor {
  dtype: NdArray["dtype"];
  shape: number[];
  /** Its values — on the wasm engine in a buffer the next read() reuses: make the tensor before reading another. */
  read(): NdArray;
  /** Its bytes, as stored, into `dest`. */
  readInto(dest: Uint8Array): void;
}

type WasmHeap = { typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: string }): Float32Array };

/**
 * A stored floating-point tensor as a float32 tfjs tensor. On the wasm engine it is allocated in the
 * engine's heap first and the file's bytes are read (float32) or converted (float16, bfloat16) straight
 * into it, so loading holds no second copy of the largest tensor.
 */
export function weightTensor(stored: StoredTensor, shape = stored.shape): tf.Tensor {
  if (tf.getBackend() !== "wasm") return tf.tensor(toFloat32(stored.read()), shape, "float32");
  const t = tf.fill(shape, 0, "float32");
  const heap = (tf.backend() as unknown as WasmHeap).typedArrayFromHeap(t);
  if (stored.dtype === "float32") stored.readInto(new Uint8Array(heap.buffer, heap.byteOffset, heap.byteLength));
  else toFloat32(stored.read(), heap);
  return t;
}

/** Each checkpoint file's tensors in turn, from its header; their bytes are read one tensor at a time. */
export function* checkpointShards(dir: string, kind: string): Generator<{ file: string; tensors: Record<string, StoredTensor> }> {
  for (const file of weightFiles(dir, kind)) {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      throw new InputError(file, "no such file (listed in the shard index)");
    }
    let header: ReturnType<typeof readSafetensorsHeader>;
    try {
      const size = fstatSync(fd).size;
      const head = new Uint8Array(Math.min(size, 8));
      readSync(fd, head, 0, head.length, 0);
      const n = head.length === 8 ? Number(new DataView(head.buffer).getBigUint64(0, true)) : 0;
      const first = new Uint8Array(Math.min(size, 8 + Math.min(n, 100_000_000)));
      readSync(fd, first, 0, first.length, 0);
      header = readSafetensorsHeader(first, size, file);
    } finally {
      closeSync(fd);
    }
    const tensors: Record<string, StoredTensor> = {};
    for (const [name, t] of Object.entries(header.tensors)) {
      tensors[name] = {
        dtype: t.dtype,
        shape: t.shape,
        readInto(bytes: Uint8Array) {
          if (bytes.length !== t.end - t.begin) throw new RangeError(`${file}: tensor '${name}' has ${t.end - t.begin} bytes, not ${bytes.length}`);
          const h = openSync(file, "r");
          try {
            for (let at = 0; at < bytes.length; ) {
              const n = readSync(h, bytes, at, bytes.length - at, header.dataStart + t.begin + at);
              if (n === 0) throw new InputError(file, `ends inside tensor '${name}'`);
              at += n;
            }
          } finally {
            closeSync(h);
          }
        },
        read() {
          const bytes = readBuffer(t.end - t.begin);
          this.readInto(bytes);
          return { dtype: t.dtype, shape: t.shape, data: viewBytes(t.dtype, bytes, 0, numel(t.shape)) };
        },
      };
    }
    yield { file, tensors };
  }
}

/** Tensors by name (prefix removed) and the file each came from. */
function readWeights(dir: string): Map<string, { array: StoredTensor; file: string }> {
  const out = new Map<string, { array: StoredTensor; file: string }>();
  for (const { file, tensors } of checkpointShards(dir, "GPT-2")) {
    for (const [name, array] of Object.entries(tensors)) out.set(name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name, { array, file });
  }
  return out;
}

/** Read a GPT-2-architecture folder into a config, tfjs weights and a tokenizer. */
export async function readModelFolder(dir: string): Promise<ModelFolder> {
  if (!existsSync(dir)) throw new InputError(dir, "no such folder");
  const cfgPath = join(dir, CONFIG);
  const json = readJson(cfgPath, "a Hugging Face GPT-2 folder holds config.json and model.safetensors");
  const cfg = fromHfConfig(json, cfgPath);
  const stored = readWeights(dir);
  const where = (name: string) => stored.get(name)?.file ?? (existsSync(join(dir, WEIGHTS)) ? join(dir, WEIGHTS) : join(dir, INDEX));
  const layout = checkpointLayout(cfg);
  const params: Record<string, tf.Tensor> = {};
  try {
    for (const w of layout) {
      const t = stored.get(w.name);
      if (!t) {
        const hint = w.name === "lm_head.weight" ? " (config.json says tie_word_embeddings: false, so the unembedding is its own tensor)" : "";
        throw new InputError(where(w.name), `has no tensor '${w.name}' (looked for it with and without the '${PREFIX}' prefix)${hint}`);
      }
      if (t.array.shape.join(",") !== w.shape.join(",")) {
        throw new InputError(t.file, `tensor '${w.name}' has shape [${t.array.shape.join(", ")}], but config.json (${describe(cfg)}) implies [${w.shape.join(", ")}]`);
      }
      if (!["float32", "float16", "bfloat16", "float64"].includes(t.array.dtype)) throw new InputError(t.file, `tensor '${w.name}' has dtype ${t.array.dtype}; weights must be floating point`);
      if (/\.c_attn\./.test(w.name)) for (const part of splitQkv(w.name, toFloat32(t.array.read()), w.shape)) params[part.name] = tf.tensor(part.values, part.shape, "float32");
      else params[w.name] = weightTensor(t.array);
    }
  } catch (err) {
    tf.dispose(Object.values(params));
    throw err;
  }
  const known = new Set(layout.map((w) => w.name));
  // Extra heads (a classifier's score.weight, …) are not ours to judge; more blocks than n_layer are a mismatch.
  const unused = [...stored.keys()].filter((n) => !known.has(n) && !isBuffer(n) && /^h\.\d+\./.test(n));
  if (unused.length > 0) {
    tf.dispose(Object.values(params));
    throw new InputError(where(unused[0]), `holds block weights beyond config.json's n_layer ${cfg.n_layers}: ${unused.slice(0, 5).join(", ")}${unused.length > 5 ? ", …" : ""}`);
  }
  const tokenizer = await folderTokenizer(dir, cfg.d_vocab, cfg.bos_token_id);
  const gpt2Keys = new Set(Object.keys(toHfConfig(cfg)).concat(["n_ctx", "bos_token_id", "eos_token_id", "transformers_version", "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout", "task_specific_params", "use_cache", "reorder_and_upcast_attn"]));
  const extra = Object.fromEntries(Object.entries(json).filter(([k]) => !gpt2Keys.has(k)));
  return { cfg, params, tokenizer, extra };
}

function describe(cfg: TransformerConfig): string {
  return `n_embd ${cfg.d_model}, n_layer ${cfg.n_layers}, n_head ${cfg.n_heads}, n_inner ${cfg.d_mlp}, vocab_size ${cfg.d_vocab}, n_positions ${cfg.n_ctx}`;
}


/** Write config.json + model.safetensors (+ tokenizer.json for a word-level tokenizer), each atomically. */
export async function writeModelFolder(dir: string, cfg: TransformerConfig, params: Record<string, tf.Tensor>, extra: Record<string, unknown>, tokenizer?: Tokenizer): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, NdArray> = {};
  for (const w of checkpointLayout(cfg)) {
    // GPT2LMHeadModel.save_pretrained: every weight under "transformer.", lm_head only when untied.
    const name = w.name === "lm_head.weight" ? w.name : PREFIX + w.name;
    tensors[name] = { dtype: "float32", shape: w.shape, data: await checkpointTensor(w.name, params, w.shape) };
  }
  writeFileAtomic(join(dir, WEIGHTS), writeSafetensors(tensors, { format: "pt" }));
  writeFileAtomic(join(dir, CONFIG), JSON.stringify({ ...toHfConfig(cfg), ...extra }, null, 2) + "\n");
  if (tokenizer instanceof WordLevelTokenizer) tokenizer.save(join(dir, "tokenizer.json"));
}
