// What fl.loadModel returns, and the guard of the methods that, for now, read GPT-2's weights directly.
import { Transformer } from "./transformer.js";
import { Decoder } from "./decoder.js";

/** A language model fl.loadModel reads: GPT-2 (Transformer) or a rotary family (Decoder). */
export type LanguageModel = Transformer | Decoder;

/** `model` itself once it is not a Decoder; else an error saying that `what` reads GPT-2's weights. */
export function withoutDecoder<T>(model: T, what: string): Exclude<T, Decoder> {
  if (model instanceof Decoder) {
    throw new Error(`featurelab: ${what} reads a GPT-2-architecture Transformer's weights and does not yet work on ${model.cfg.model_type} models like ${model.name}`);
  }
  return model as Exclude<T, Decoder>;
}

export { Transformer, Decoder };
