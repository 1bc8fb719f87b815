// Hook points: named places in a forward pass where an activation can be read (cached) or replaced
// (edited), as TransformerLens' HookPoint. A model calls `runner.at(name, x)` at each of its hook
// points; the runner applies the user's hook functions in order, then records the result if asked.
import { tf } from "../engine/backend.js";

/** What a hook function is told besides the activation: where it runs in the forward pass. */
export interface HookContext {
  /** The hook point, e.g. "blocks.0.attn.hook_z". */
  name: string;
  /** Index, in the whole input, of this batch's first document. */
  batchStart: number;
  /** Valid (unpadded) length of each document of the batch. */
  lengths: readonly number[];
  /** Token ids of the batch, padded to the longest document (sequence models only). */
  tokens?: readonly (readonly number[])[];
}

/**
 * Reads or edits an activation. Return a tensor of the same shape to replace it, or nothing to leave
 * it as it is. Runs inside the forward pass's tf.tidy: intermediate tensors are freed for you.
 */
export type HookFn = (activation: tf.Tensor, ctx: HookContext) => tf.Tensor | void;

/** Hook functions by hook-point name; several for one name run in order. */
export type Hooks = Record<string, HookFn | HookFn[]>;

/** Axis of attention heads in a TransformerLens-named activation, or undefined. */
export function headAxis(name: string): number | undefined {
  if (/(^|\.)hook_(q|k|v|z|result)$/.test(name)) return 2; // [batch, pos, head, d_head]
  if (/(^|\.)hook_(pattern|attn_scores)$/.test(name)) return 1; // [batch, head, query, key]
  return undefined;
}

/** Axis of positions (queries for attention patterns) in an activation of this rank. */
export function positionAxis(name: string, rank: number): number | undefined {
  if (rank < 3) return undefined;
  return headAxis(name) === 1 ? 2 : 1;
}

/** Axis along which a hook's units (heads, neurons, dimensions) lie. */
export function unitAxis(name: string, rank: number): number {
  return headAxis(name) ?? rank - 1;
}

/** Names a user asked for, checked against the model's; the error lists what there is. */
export function checkHookNames(asked: Iterable<string>, known: readonly string[], model: string): void {
  const set = new Set(known);
  for (const name of asked) {
    if (set.has(name)) continue;
    const near = known.filter((k) => k.endsWith(name.replace(/^.*\./, "."))).slice(0, 6);
    const layers = known.map((k) => /^blocks\.(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined);
    const range = layers.length ? ` (layers 0–${Math.max(...layers.map(Number))})` : "";
    throw new Error(
      `featurelab: ${model} has no hook point '${name}'${range}` +
        (near.length ? `; similar: ${near.join(", ")}` : `; hook points: ${summarise(known)}`),
    );
  }
}

/** The list of hook names with layer numbers folded: blocks.{0..1}.hook_resid_pre, … */
export function summarise(names: readonly string[]): string {
  const seen = new Set<string>();
  for (const n of names) seen.add(n.replace(/^blocks\.\d+\./, "blocks.{l}."));
  return [...seen].join(", ");
}

export class HookRunner {
  private readonly hooks: Map<string, HookFn[]>;
  private readonly wanted: Set<string>;
  /** Activations recorded in this pass (kept: the caller disposes them). */
  readonly recorded = new Map<string, tf.Tensor>();
  ctx: Omit<HookContext, "name">;

  constructor(hooks: Hooks = {}, cache: Iterable<string> = [], ctx: Omit<HookContext, "name"> = { batchStart: 0, lengths: [] }) {
    this.hooks = new Map(Object.entries(hooks).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
    this.wanted = new Set(cache);
    this.ctx = ctx;
  }

  /** True when nothing reads or edits this hook point (the model may skip work for it). */
  idle(name: string): boolean {
    return !this.hooks.has(name) && !this.wanted.has(name);
  }

  at<T extends tf.Tensor>(name: string, x: T): T {
    let out: tf.Tensor = x;
    for (const fn of this.hooks.get(name) ?? []) {
      const y = fn(out, { ...this.ctx, name });
      if (y === undefined || y === null) continue;
      if (!(y instanceof tf.Tensor)) throw new TypeError(`featurelab: the hook on ${name} returned ${typeof y}, not a tensor`);
      if (y.shape.join(",") !== out.shape.join(",")) {
        throw new Error(`featurelab: the hook on ${name} returned shape [${y.shape}], the activation has shape [${out.shape}]`);
      }
      out = y.dtype === "float32" ? y : tf.cast(y, "float32");
    }
    if (this.wanted.has(name)) {
      const old = this.recorded.get(name);
      if (old) old.dispose();
      this.recorded.set(name, tf.keep(out.clone()));
    }
    return out as T;
  }

  dispose(): void {
    for (const t of this.recorded.values()) t.dispose();
    this.recorded.clear();
  }
}
