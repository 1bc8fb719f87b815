// What every transformer language model here shares, whatever its family: weights checked against its
// layout and kept, a tokenizer, token batches, TransformerLens' resumption points, synchronous logits.
// Each family (transformer.ts: GPT-2; decoder.ts: GPT-NeoX, Llama, Gemma 2) brings its forward pass.
import { tf, ensureEngine } from "../engine/backend.js";
import { HookedModel, type ModelBatch, type StartAt } from "./hooked-model.js";
import type { HookRunner } from "./hook-points.js";
import { languageModelBatches, type TokenInput } from "./token-input.js";
import type { Tokenizer } from "./tokenizer.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import type { ProcessWeightsOptions } from "./process-weights.js";

/** Calls a hook point: returns the (possibly edited) activation. */
export type HookAt = <T extends tf.Tensor>(name: string, x: T) => T;

/** Where a forward pass resumes: the residual stream entering block `layer` ("pre") or leaving it ("post"). */
export interface ResumeAt {
  layer: number;
  where: "pre" | "post";
  resid: tf.Tensor;
}

/** The residual stream a resumed forward pass starts from (hooked at resid_post when resumed there), and its first block. */
export function resumeResidual(start: ResumeAt, at: HookAt): { resid: tf.Tensor; first: number } {
  if (start.where === "post") return { resid: at(`blocks.${start.layer}.hook_resid_post`, start.resid), first: start.layer + 1 };
  return { resid: start.resid, first: start.layer };
}

/** A model's name, tokenizer, source folder and extra config.json fields to keep when saving. */
export interface TransformerInfo {
  /** A short name for messages ("tiny-induction", "gpt2", …). */
  name?: string;
  tokenizer?: Tokenizer;
  /** The folder it was loaded from. */
  source?: string;
  /** Other config.json fields to keep when saving (e.g. how the model was trained). */
  extra?: Record<string, unknown>;
  /** TransformerLens' processing its weights went through (loadModel's options). */
  processing?: ProcessWeightsOptions;
}

export const INFO_OPTIONS = optionNames<TransformerInfo>({ name: true, tokenizer: true, source: true, extra: true, processing: true });

/** Where a forward pass can resume to reach `hook`: the residual stream entering its block, or leaving it. */
export function transformerStartPoint(cfg: { n_layers: number }, hook: string): string | undefined {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(hook);
  if (m) return m[2] === "hook_resid_post" ? hook : `blocks.${m[1]}.hook_resid_pre`;
  if (hook === "ln_final.hook_normalized") return `blocks.${cfg.n_layers - 1}.hook_resid_post`;
  return undefined;
}

function parseStart(name: string): { layer: number; where: "pre" | "post" } {
  const m = /^blocks\.(\d+)\.hook_resid_(pre|post)$/.exec(name);
  if (!m) throw new Error(`featurelab: a transformer resumes only at blocks.{l}.hook_resid_pre or hook_resid_post, not '${name}'`);
  return { layer: Number(m[1]), where: m[2] as "pre" | "post" };
}

export abstract class LanguageModelBase<C extends { n_layers: number; d_vocab: number; n_ctx: number }> extends HookedModel {
  readonly cfg: C;
  readonly params: Record<string, tf.Tensor>;
  readonly tokenizer: Tokenizer | undefined;
  readonly name: string;
  readonly source: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly hookNames: readonly string[];
  /** TransformerLens' processing steps its weights went through ({} when none). */
  readonly processing: ProcessWeightsOptions;

  /** `kind` names the class in errors; `layout` is every weight the family's config implies. */
  protected constructor(kind: string, cfg: C, params: Record<string, tf.Tensor>, layout: { name: string; shape: number[] }[], hookNames: string[], defaultName: string, info: TransformerInfo) {
    super();
    rejectUnknownOptions(kind, info, INFO_OPTIONS);
    for (const w of layout) {
      const t = params[w.name];
      if (!t) throw new Error(`featurelab: ${kind}: weight '${w.name}' is missing`);
      if (t.shape.join(",") !== w.shape.join(",")) throw new Error(`featurelab: ${kind}: weight '${w.name}' has shape [${t.shape}], expected [${w.shape}]`);
    }
    this.cfg = cfg;
    this.params = params;
    for (const t of Object.values(params)) tf.keep(t);
    this.tokenizer = info.tokenizer;
    this.name = info.name ?? defaultName;
    this.source = info.source;
    this.extra = info.extra ?? {};
    this.hookNames = Object.freeze(hookNames);
    this.processing = Object.freeze({ ...info.processing });
  }

  /** Refuse to save processed weights: Hugging Face's classes have no place for what processing moved (an unembedding bias, unit norms). */
  protected checkSavable(dir: string): void {
    const steps = Object.entries(this.processing).filter(([, on]) => on).map(([k]) => k);
    if (steps.length) throw new Error(`featurelab: ${this.name} cannot be saved to ${dir}: its weights were processed (${steps.join(", ")}), which a Hugging Face checkpoint cannot hold; save the model loaded without processing`);
  }

  /** The family's forward pass: token ids [B, T] (or a resumed residual stream) → logits [B, T, V]. */
  protected abstract forward(tokens: tf.Tensor2D | undefined, at: HookAt, opts: { listens?: (name: string) => boolean; start?: ResumeAt }): tf.Tensor3D;

  /** The unembedding [d_vocab, d_model]: logits = final residual · unembeddingᵀ. */
  abstract get unembedding(): tf.Tensor2D;

  batches(input: unknown, opts: { batchSize: number; prependBos?: boolean }): { batches: ModelBatch[]; documents: number[][] } {
    return languageModelBatches(input as TokenInput, { vocabSize: this.cfg.d_vocab, context: this.cfg.n_ctx, tokenizer: this.tokenizer, model: this.name }, opts);
  }

  /** @internal See HookedModel.forwardBatch: the forward pass with hooks. */
  forwardBatch(batch: ModelBatch, runner: HookRunner, start?: StartAt): tf.Tensor3D {
    const at: HookAt = (name, x) => runner.at(name, x);
    const resume = start ? { ...parseStart(start.name), resid: start.value } : undefined;
    return this.forward(resume ? undefined : (batch.input() as tf.Tensor2D), at, { listens: (n) => !runner.idle(n), start: resume });
  }

  startPoint(hook: string): string | undefined {
    return transformerStartPoint(this.cfg, hook);
  }

  /**
   * Logits [B, T, V] for token ids [B, T], no hooks (synchronous).
   * @example
   * const logits = model.logits([[0, 5, 6, 7, 5, 6]]);   // [1, 6, d_vocab]
   */
  logits(tokens: tf.Tensor2D | number[][]): tf.Tensor3D {
    ensureEngine();
    return tf.tidy(() => {
      const t = tokens instanceof tf.Tensor ? tokens : tf.tensor2d(tokens.flat(), [tokens.length, tokens[0].length], "int32");
      return this.forward(t, (_n, x) => x, { listens: () => false });
    });
  }

  /** Number of parameters. */
  get numParams(): number {
    return Object.values(this.params).reduce((s, t) => s + t.size, 0);
  }

  /**
   * Free the weights' memory.
   * @example
   * model.dispose();
   */
  dispose(): void {
    tf.dispose(Object.values(this.params));
  }
}
