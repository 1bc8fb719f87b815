// model.cacheActivations: run a language model over a text or token dataset and write the activations
// at chosen hook points to Parquet shards — one folder per hook, rows (document, position, token,
// vector) — that fl.open streams to training (SAELens' CacheActivationsRunner, in TypeScript).
//
// Documents are cut into windows of `contextSize` tokens; each window of a text starts with the model's
// BOS (as TransformerLens prepends it), whose rows are left out unless `keepBos`: every row is a real
// token of its document, at its position there. Shards are flushed together for all hooks, and after
// each flush a manifest (featurelab-cache.json) records how many documents are done, so a run that is
// interrupted resumes — given the same input again — after the last flushed shard.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { tf, ready } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { writeParquet } from "../io/parquet.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { defaultProgress, type ProgressSink } from "../training/progress.js";
import { HookRunner } from "./hook-points.js";
import type { HookedModel } from "./hooked-model.js";

/** Options of `model.cacheActivations`. */
export interface CacheActivationsOptions {
  /** Hook points to cache (each gets a folder under `out`). */
  hooks: readonly string[];
  /** The folder to write (created; an earlier run of the same configuration there is resumed). */
  out: string;
  /** Rows per shard and hook (default 65536): a shard is flushed once a batch brings it to this many. */
  shardRows?: number;
  /** Tokens per window, BOS included (default: the model's context). */
  contextSize?: number;
  /** Windows per forward pass (default 16). */
  batchSize?: number;
  /** Put the BOS token before each window of a text (default true). Token ids are taken as they are. */
  prependBos?: boolean;
  /** Write the BOS rows too, at position −1 (default false: their activations are outliers that SAEs are usually not trained on). */
  keepBos?: boolean;
  /** false: quiet; a ProgressSink: receive updates (default: the notebook's or terminal's display). */
  progress?: boolean | ProgressSink;
}

const OPTIONS = optionNames<CacheActivationsOptions>({ hooks: true, out: true, shardRows: true, contextSize: true, batchSize: true, prependBos: true, keepBos: true, progress: true });

/** What a caching run did. */
export interface CacheActivationsResult {
  /** Folder of each hook's shards, for fl.open. */
  folders: Record<string, string>;
  documents: number;
  /** Rows written per hook (all runs, resumed ones included). */
  rows: number;
  /** Tokens the model read in this run (BOS included), and how fast. */
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  shards: number;
  /** Documents skipped because an earlier run had written them. */
  resumedFrom: number;
}

/** A dataset: texts, token-id documents, or an (async) iterable of either. */
export type CacheInput = readonly string[] | readonly ArrayLike<number>[] | Iterable<string | ArrayLike<number>> | AsyncIterable<string | ArrayLike<number>>;

const MANIFEST = "featurelab-cache.json";

interface Manifest {
  version: 1;
  model: string;
  hooks: string[];
  contextSize: number;
  shardRows: number;
  prependBos: boolean;
  keepBos: boolean;
  /** Hash of the first document, so that resuming on another dataset is caught. */
  firstDocument: string;
  /** Hash of the weights (shapes and a sample of values), so that resuming with a retrained model is caught. */
  weights: string;
  documents: number;
  rows: number;
  shards: number;
}

/** A window of a document: the model's input (BOS first, maybe) and where its real tokens sit in the document. */
interface Window {
  document: number;
  ids: number[];
  /** Tokens at the front that are not the document's (the BOS). */
  lead: number;
  /** Position, in the document, of the window's first real token. */
  start: number;
}

/** Shapes and up to 4096 evenly spaced values of each weight tensor, hashed: differs when the model is retrained. */
function weightsFingerprint(model: HookedModel): string {
  const hash = createHash("sha256");
  const params = (model as { params?: Record<string, tf.Tensor> }).params ?? {};
  for (const name of Object.keys(params).sort()) {
    const t = params[name];
    const values = t.dataSync() as Float32Array;
    const stride = Math.max(1, Math.floor(values.length / 4096));
    const sample = new Float32Array(Math.ceil(values.length / stride));
    for (let i = 0, j = 0; i < values.length; i += stride, j++) sample[j] = values[i];
    hash.update(`${name}[${t.shape}]`).update(new Uint8Array(sample.buffer));
  }
  return hash.digest("hex").slice(0, 16);
}

const folderName = (hook: string) => hook.replace(/[^A-Za-z0-9._-]/g, "_");

function hashDocument(doc: string | ArrayLike<number>): string {
  return createHash("sha256").update(typeof doc === "string" ? doc : Array.from(doc).join(",")).digest("hex").slice(0, 16);
}

async function* documentsOf(input: CacheInput): AsyncGenerator<string | ArrayLike<number>> {
  if (typeof (input as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    for await (const d of input as AsyncIterable<string | ArrayLike<number>>) yield d;
  } else for (const d of input as Iterable<string | ArrayLike<number>>) yield d;
}

/**
 * Run `model` over `input` and write the activations at `opts.hooks` to Parquet shards under `opts.out`.
 * @example
 * const { folders } = await fl.cacheActivations(model, texts, { hooks: ["blocks.1.hook_resid_post"], out: "out/cache", contextSize: 128 });
 * const sae = await fl.dictionary("topk", { width: 512, k: 16 }).fit(await fl.open(folders["blocks.1.hook_resid_post"]), { steps: 1000 });
 */
export async function cacheActivations(model: HookedModel & { cfg?: { n_ctx?: number } }, input: CacheInput, opts: CacheActivationsOptions): Promise<CacheActivationsResult> {
  rejectUnknownOptions("cacheActivations", opts, OPTIONS);
  await ready();
  if (!opts || !Array.isArray(opts.hooks) || opts.hooks.length === 0) throw new Error("featurelab: cacheActivations needs hooks: the hook points to cache, e.g. [\"blocks.0.hook_resid_post\"]");
  if (typeof opts.out !== "string" || opts.out === "") throw new Error("featurelab: cacheActivations needs out: the folder to write");
  model.checkHooks(opts.hooks);
  const context = opts.contextSize ?? model.cfg?.n_ctx;
  if (!Number.isInteger(context) || context! < 2) throw new Error(`featurelab: cacheActivations: contextSize must be an integer ≥ 2, got ${context}`);
  if (model.cfg?.n_ctx !== undefined && context! > model.cfg.n_ctx) throw new Error(`featurelab: cacheActivations: contextSize ${context} exceeds ${model.name}'s context of ${model.cfg.n_ctx}`);
  const shardRows = opts.shardRows ?? 65536;
  const batchSize = opts.batchSize ?? 16;
  for (const [k, v] of [["shardRows", shardRows], ["batchSize", batchSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`featurelab: cacheActivations: ${k} must be a positive integer, got ${v}`);
  }
  const prependBos = opts.prependBos ?? true;
  const keepBos = opts.keepBos ?? false;
  const hooks = [...opts.hooks];
  const manifestPath = join(opts.out, MANIFEST);
  const folders = Object.fromEntries(hooks.map((h) => [h, join(opts.out, folderName(h))]));
  const iterator = documentsOf(input)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new Error("featurelab: cacheActivations: the input has no documents");
  const fresh: Manifest = { version: 1, model: model.name, hooks, contextSize: context!, shardRows, prependBos, keepBos, firstDocument: hashDocument(first.value), weights: weightsFingerprint(model), documents: 0, rows: 0, shards: 0 };
  const manifest = resumeOrStart(manifestPath, fresh, folders);
  const sink = opts.progress === false ? undefined : opts.progress === true || opts.progress === undefined ? defaultProgress() : opts.progress;
  const total = Array.isArray(input) ? input.length : undefined;
  const began = performance.now();
  const resumedFrom = manifest.documents;
  let tokens = 0;
  let docIndex = 0;
  let pending: Window[] = [];
  const buffers = new Map(hooks.map((h) => [h, { chunks: [] as Float32Array[], dim: 0 }]));
  const meta = { document: [] as number[], position: [] as number[], token: [] as number[] };
  let doneDocs = manifest.documents;

  const report = (done: boolean) => {
    const seconds = (performance.now() - began) / 1000;
    sink?.update({ title: `cacheActivations → ${opts.out}`, step: doneDocs, steps: total ?? doneDocs, tokensPerSecond: tokens / Math.max(seconds, 1e-9), elapsedSeconds: seconds, last: undefined, history: [], curves: false, unit: "documents", done });
  };

  const runWindows = (windows: Window[]) => {
    const { batches } = model.batches(windows.map((w) => w.ids), { batchSize: windows.length, prependBos: false });
    for (const batch of batches) {
      const runner = new HookRunner({}, hooks, { batchStart: batch.start, lengths: batch.lengths, tokens: batch.tokens });
      try {
        // The recorded activations are kept by the runner; the logits are not needed.
        tf.tidy(() => {
          model.forwardBatch(batch, runner);
        });
        for (const h of hooks) {
          const t = runner.recorded.get(h)!;
          const [B, T] = t.shape;
          const dim = t.size / (B * T!);
          const values = t.dataSync() as Float32Array;
          const buf = buffers.get(h)!;
          buf.dim = dim;
          for (let b = 0; b < B; b++) {
            const w = windows[batch.start + b];
            const from = keepBos ? 0 : w.lead;
            buf.chunks.push(values.slice((b * T! + from) * dim, (b * T! + batch.lengths[b]) * dim));
          }
        }
        for (let b = 0; b < batch.size; b++) {
          const w = windows[batch.start + b];
          for (let p = keepBos ? 0 : w.lead; p < batch.lengths[b]; p++) {
            meta.document.push(w.document);
            meta.position.push(p < w.lead ? -1 : w.start + p - w.lead); // a kept BOS row: position −1
            meta.token.push(w.ids[p]);
          }
          tokens += batch.lengths[b];
        }
      } finally {
        runner.dispose();
      }
    }
  };

  const flush = async (force: boolean) => {
    if (meta.document.length === 0 || (!force && meta.document.length < shardRows)) return;
    const name = `part-${String(manifest.shards).padStart(5, "0")}.parquet`;
    for (const h of hooks) {
      const buf = buffers.get(h)!;
      const vectors = new Float32Array(meta.document.length * buf.dim);
      let at = 0;
      for (const c of buf.chunks) {
        vectors.set(c, at);
        at += c.length;
      }
      mkdirSync(folders[h], { recursive: true });
      await writeParquet(join(folders[h], name), { vectors, dim: buf.dim, vectorName: "vector", metadata: { document: Int32Array.from(meta.document), position: Int32Array.from(meta.position), token: Int32Array.from(meta.token) } });
      buf.chunks = [];
    }
    manifest.rows += meta.document.length;
    manifest.shards += 1;
    manifest.documents = doneDocs;
    meta.document = [];
    meta.position = [];
    meta.token = [];
    writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
    report(false);
  };

  for (let next: IteratorResult<string | ArrayLike<number>> = first; !next.done; next = await iterator.next(), docIndex++) {
    if (docIndex < manifest.documents) continue;
    pending.push(...windowsOf(model, next.value, docIndex, context!, prependBos));
    // Whole documents per batch group, so the manifest's document count is exact at every flush.
    if (pending.length >= batchSize) {
      runWindows(pending);
      pending = [];
      doneDocs = docIndex + 1;
      await flush(false);
    }
  }
  if (pending.length) runWindows(pending);
  doneDocs = docIndex;
  await flush(true);
  manifest.documents = doneDocs;
  writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  report(true);
  const seconds = (performance.now() - began) / 1000;
  return { folders, documents: doneDocs, rows: manifest.rows, tokens, seconds, tokensPerSecond: tokens / Math.max(seconds, 1e-9), shards: manifest.shards, resumedFrom };
}

/** An earlier run's manifest when its configuration is this one (resume), else a fresh start; another configuration in the folder is an error. */
function resumeOrStart(path: string, fresh: Manifest, folders: Record<string, string>): Manifest {
  if (!existsSync(path)) {
    for (const f of Object.values(folders)) {
      if (existsSync(f)) throw new InputError(f, `already exists without ${MANIFEST} beside it; cacheActivations writes only into a new folder or one it is resuming`);
    }
    return fresh;
  }
  let old: Manifest;
  try {
    old = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(path, `is not valid JSON (${(e as Error).message})`);
  }
  for (const key of ["model", "weights", "hooks", "contextSize", "shardRows", "prependBos", "keepBos", "firstDocument"] as const) {
    if (JSON.stringify(old[key]) !== JSON.stringify(fresh[key])) {
      const what = key === "firstDocument" ? "the input's first document differs" : key === "weights" ? "the model's weights differ" : `${key} was ${JSON.stringify(old[key])}, now ${JSON.stringify(fresh[key])}`;
      throw new InputError(path, `records another caching run (${what}); resume with the same model, input and options, or write to a new folder`);
    }
  }
  return old;
}

/** A document's windows: token ids cut into pieces that fit `context` with the BOS in front (texts only). */
function windowsOf(model: HookedModel, doc: string | ArrayLike<number>, index: number, context: number, prependBos: boolean): Window[] {
  let ids: number[];
  let bos: number[] = [];
  if (typeof doc === "string") {
    const tok = model.tokenizer;
    if (!tok) throw new Error(`featurelab: cacheActivations: ${model.name} has no tokenizer, so its input must be token ids; document ${index} is text`);
    ids = tok.encode(doc);
    if (prependBos && tok.bos !== undefined) bos = [tok.bos];
  } else {
    ids = Array.from(doc);
    if (ids.some((t) => !Number.isInteger(t) || t < 0)) throw new Error(`featurelab: cacheActivations: document ${index} holds a token id that is not a non-negative integer`);
  }
  const room = context - bos.length;
  const out: Window[] = [];
  for (let start = 0; start < ids.length; start += room) out.push({ document: index, ids: [...bos, ...ids.slice(start, start + room)], lead: bos.length, start });
  return out;
}
