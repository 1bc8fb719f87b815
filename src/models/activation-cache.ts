// Activations recorded at hook points during a run, kept on the host, one entry per hook point.
// `get(name)` turns one into an ActivationSet: a row per (document, position) with document,
// position, token_id and token metadata, so it feeds straight into fl.dictionary(…).fit.
import * as aq from "arquero";
import { tf } from "../engine/backend.js";
import { ActivationSet } from "../data/activation-set.js";
import { headAxis, positionAxis } from "./hook-points.js";
import type { Tokenizer } from "./tokenizer.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

interface Chunk {
  /** Stored with positions on axis 1: [b, T, ...rest] (or [b, ...rest] without positions). */
  data: Float32Array;
  shape: number[];
  start: number;
  lengths: number[];
}

interface Entry {
  chunks: Chunk[];
  /** Axes of the model's layout in stored order (stored = transpose(model, perm)). */
  perm: number[];
  hasPositions: boolean;
  /** Heads sit on stored axis 2 when the hook has them. */
  hasHeads: boolean;
}

/** Host copy of C-order `data` of `shape` into a zero-filled array of the (no smaller) `target` shape. */
function padHost(data: Float32Array, shape: number[], target: number[]): Float32Array {
  if (shape.every((d, i) => d === target[i])) return data;
  const out = new Float32Array(target.reduce((a, b) => a * b, 1));
  const last = shape.length - 1;
  const copy = (axis: number, from: number, to: number) => {
    if (axis === last) {
      out.set(data.subarray(from, from + shape[last]), to);
      return;
    }
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const innerT = target.slice(axis + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < shape[axis]; i++) copy(axis + 1, from + i * inner, to + i * innerT);
  };
  copy(0, 0, 0);
  return out;
}

/** Rows a chunk contributes: valid positions of each document (lengths may exceed the width: all valid). */
function validRows(c: Chunk, hasPositions: boolean): number {
  return hasPositions ? c.lengths.reduce((s, l) => s + Math.min(l, c.shape[1]), 0) : c.shape[0];
}

/**
 * Activations recorded at hook points by `model.run(input, { cache })`; `get(name)` gives one as an ActivationSet with document, position and token metadata.
 * @example
 * const { cache } = await model.run(tokens, { cache: ["blocks.0.hook_resid_post"] });
 * const acts = cache.get("blocks.0.hook_resid_post");
 */
export class ActivationCache {
  private readonly entries = new Map<string, Entry>();
  /** The model it came from, for messages. */
  readonly model: string;
  /** Token ids of every document (sequence models). */
  readonly documents: readonly (readonly number[])[] | undefined;
  readonly tokenizer: Tokenizer | undefined;

  constructor(model: string, documents?: readonly (readonly number[])[], tokenizer?: Tokenizer) {
    this.model = model;
    this.documents = documents;
    this.tokenizer = tokenizer;
  }

  /**
   * Record one batch's activation (model layout); the tensor is not disposed here. Called by HookedModel.run
   * as it fills the cache, not by a notebook.
   * @internal
   */
  add(name: string, t: tf.Tensor, start: number, lengths: number[]): void {
    const pAxis = positionAxis(name, t.rank);
    const perm = t.shape.map((_, i) => i);
    if (pAxis !== undefined && pAxis !== 1) {
      perm.splice(pAxis, 1);
      perm.splice(1, 0, pAxis);
    }
    const stored = perm.every((p, i) => p === i) ? t : tf.transpose(t, perm);
    const data = stored.dataSync() as Float32Array;
    const shape = stored.shape.slice();
    if (stored !== t) stored.dispose();
    let e = this.entries.get(name);
    if (!e) {
      e = { chunks: [], perm, hasPositions: pAxis !== undefined, hasHeads: headAxis(name) !== undefined && t.rank === 4 };
      this.entries.set(name, e);
    }
    const copy = Float32Array.from(data);
    if (pAxis !== undefined) {
      // Padded positions were computed from pad tokens: zero them so tensor() shows nothing there.
      const T = shape[1], rowSize = copy.length / (shape[0] * T);
      lengths.forEach((len, b) => len < T && copy.fill(0, (b * T + len) * rowSize, (b + 1) * T * rowSize));
    }
    e.chunks.push({ data: copy, shape, start, lengths });
  }

  /** Hook points recorded. */
  get names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Whether a hook point was recorded.
   * @example
   * cache.has("blocks.0.hook_resid_post");
   */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`featurelab: the cache has no '${name}'${this.entries.size ? `; it holds ${this.names.join(", ")}` : " (it is empty: pass { cache: [names] } to run)"}`);
    return e;
  }

  /** Stored shape of the whole entry: documents summed, every other axis the widest of its batches. */
  private storedShape(e: Entry): number[] {
    const shape = e.chunks[0].shape.map((_, i) => (i === 0 ? 0 : Math.max(...e.chunks.map((c) => c.shape[i]))));
    shape[0] = e.chunks.reduce((s, c) => s + c.shape[0], 0);
    return shape;
  }

  /**
   * Shape of a cached activation in the model's layout, documents padded to the longest.
   * @example
   * cache.shape("blocks.0.attn.hook_pattern");  // [documents, heads, positions, positions]
   */
  shape(name: string): number[] {
    const e = this.entry(name);
    const stored = this.storedShape(e);
    const model = new Array(stored.length);
    e.perm.forEach((p, i) => (model[p] = stored[i]));
    return model;
  }

  /**
   * The activation as one tensor in the model's layout (padded positions hold zeros); dispose it when done.
   * @example
   * const pattern = cache.tensor("blocks.0.attn.hook_pattern");
   */
  tensor(name: string): tf.Tensor {
    const e = this.entry(name);
    const full = this.storedShape(e);
    return tf.tidy(() => {
      const parts = e.chunks.map((c) => tf.tensor(padHost(c.data, c.shape, [c.shape[0], ...full.slice(1)]), [c.shape[0], ...full.slice(1)]));
      const stored = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
      const inverse = e.perm.map((_, i) => e.perm.indexOf(i));
      return inverse.every((p, i) => p === i) ? stored : tf.transpose(stored, inverse);
    });
  }

  /**
   * One row per (document, valid position) — per document for activations without positions — with
   * the rest of the activation flattened (hook_z: n_heads·d_head, as SAELens reads it; hook_pattern:
   * n_heads·key positions). `{ head }` keeps one head's part only.
   * @example
   * const acts = cache.get("blocks.0.hook_resid_post");
   * const z3 = cache.get("blocks.1.attn.hook_z", { head: 3 });
   */
  get(name: string, opts: { head?: number } = {}): ActivationSet {
    rejectUnknownOptions("ActivationCache.get", opts, optionNames<typeof opts>({ head: true }));
    const e = this.entry(name);
    const full = this.storedShape(e);
    const rest = full.slice(e.hasPositions ? 2 : 1);
    let dim = rest.reduce((a, b) => a * b, 1);
    let offset = 0;
    if (opts.head !== undefined) {
      if (!e.hasHeads) throw new Error(`featurelab: '${name}' has no head axis; { head } applies to hook_q/k/v/z/pattern/attn_scores`);
      const H = rest[0];
      if (!Number.isInteger(opts.head) || opts.head < 0 || opts.head >= H) throw new RangeError(`featurelab: head ${opts.head} out of range 0..${H - 1}`);
      dim = dim / H;
      offset = opts.head * dim;
    }
    let rows = 0;
    for (const c of e.chunks) rows += validRows(c, e.hasPositions);
    const vectors = new Float32Array(rows * dim);
    const document = new Int32Array(rows);
    const position = new Int32Array(rows);
    const tokenId = new Int32Array(rows);
    const token: string[] = [];
    const docs = this.documents;
    let r = 0;
    for (const c of e.chunks) {
      const T = e.hasPositions ? c.shape[1] : 1;
      // Batches of shorter documents have narrower key axes (attention patterns): pad them to the widest.
      const data = padHost(c.data, c.shape, [c.shape[0], ...(e.hasPositions ? [T] : []), ...rest]);
      const rowSize = data.length / (c.shape[0] * T);
      for (let b = 0; b < c.shape[0]; b++) {
        const len = e.hasPositions ? Math.min(c.lengths[b], T) : 1;
        for (let t = 0; t < len; t++) {
          const at = (b * T + t) * rowSize + offset;
          vectors.set(data.subarray(at, at + dim), r * dim);
          document[r] = c.start + b;
          position[r] = t;
          if (docs) {
            const id = docs[c.start + b][t];
            tokenId[r] = id;
            if (this.tokenizer) token.push(this.tokenizer.token(id));
          }
          r++;
        }
      }
    }
    const cols: Record<string, ArrayLike<unknown>> = { document };
    if (e.hasPositions) cols.position = position;
    if (docs && e.hasPositions) {
      cols.token_id = tokenId;
      if (this.tokenizer) cols.token = token;
    }
    if (opts.head !== undefined) cols.head = new Int32Array(rows).fill(opts.head);
    const label = opts.head !== undefined ? `${name}[head ${opts.head}]` : name;
    return new ActivationSet(vectors, dim, aq.table(cols as any), { vectorName: name, source: `${this.model} ${label}` });
  }

  /**
   * One line per hook point: name and shape.
   * @example
   * console.table(cache.summary());
   */
  summary(): { hook: string; shape: string; rows: number }[] {
    return this.names.map((name) => {
      const e = this.entry(name);
      const rows = e.chunks.reduce((s, c) => s + validRows(c, e.hasPositions), 0);
      return { hook: name, shape: `[${this.shape(name).join(", ")}]`, rows };
    });
  }

  /** "ActivationCache(hook names)". */
  toString(): string {
    return `ActivationCache(${this.model}: ${this.names.join(", ")})`;
  }
}
