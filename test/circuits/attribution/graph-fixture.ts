// A small attribution graph for the export and widget tests: the scaled 3-layer transformer of
// test/circuits/fixtures.ts with a word-level tokenizer whose words need escaping ("<b>", "&", a quote),
// and random-clt.ts's cross-layer transcoder.
import { ready } from "../../../src/engine/backend.js";
import type { Dictionary } from "../../../src/dictionaries/dictionary.js";
import { Transformer } from "../../../src/models/transformer.js";
import { WordLevelTokenizer } from "../../../src/models/tokenizer.js";
import { attribute, type AttributionGraph } from "../../../src/circuits/attribution/attribution-graph.js";
import { scaledTransformer } from "../fixtures.js";
import { randomClt, PROMPT } from "./random-clt.js";
import { sideBySide } from "../../../src/data/paired.js";

export { PROMPT };
export const WORDS = ["<bos>", "the", "<b>", "cat", "&", "sat", "on", "\"mat\"", "a", "dog"];

/** The scaled transformer with a tokenizer over WORDS. */
export function tokenizedModel(layers = 3): Transformer {
  const m = scaledTransformer(layers);
  return new Transformer(m.cfg, m.params, { tokenizer: new WordLevelTokenizer(WORDS, { bos: "<bos>" }) });
}

export async function smallGraph(seed = 2): Promise<{ graph: AttributionGraph; model: Transformer; clt: Dictionary }> {
  await ready();
  const model = tokenizedModel(3);
  const clt = randomClt(3, 12, seed);
  const graph = await attribute(model, clt, PROMPT, { batchSize: 16 });
  return { graph, model, clt };
}

/** The transcoder's codes on a few documents' hook_resid_mid (all layers side by side), with their token metadata: what `cards` takes. */
export async function cardSource(model: Transformer, clt: Dictionary, layers = 3) {
  const docs = [[0, 1, 2, 3, 4, 5, 6, 7], [0, 8, 9, 5, 6, 1, 7], [0, 1, 3, 4, 8, 9, 5], [0, 2, 9, 6, 7, 4, 1, 3]];
  const hooks = Array.from({ length: layers }, (_, l) => `blocks.${l}.hook_resid_mid`);
  const { cache } = await model.run(docs, { cache: hooks });
  const acts = sideBySide(hooks.map((h) => cache.get(h)));
  return { codes: clt.encode(acts), acts };
}
