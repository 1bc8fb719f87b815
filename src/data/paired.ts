// Input/output pairs for transcoders: a component's input and its output, row for row. Held as one
// set whose vectors are [input | output], so batching, shuffling and streaming keep pairs together.
import { ActivationSet } from "./activation-set.js";
import { InputError } from "../io/errors.js";
import { assertFiniteSet } from "./finite.js";

export interface Pair {
  input: ActivationSet;
  output: ActivationSet;
}

export function isPair(x: unknown): x is Pair {
  return typeof x === "object" && x !== null && (x as Pair).input instanceof ActivationSet && (x as Pair).output instanceof ActivationSet;
}

/** One set of width d_in + d_out holding each input row next to its output row (metadata from the input). */
export function joinPair({ input, output }: Pair): ActivationSet {
  if (input.numRows !== output.numRows) {
    throw new InputError(output.source ?? input.source, `transcoder data: input has ${input.numRows} rows but output has ${output.numRows}; they must pair row by row`);
  }
  return sideBySide([input, output], ["transcoder input", "transcoder output"]);
}

/**
 * Several sets' vectors side by side, row for row: [v_0 | v_1 | …] (metadata from the first). A
 * cross-layer transcoder trains on the layers' inputs and outputs held this way.
 * @example
 * const resid = fl.sideBySide([cache.get("blocks.0.hook_resid_mid"), cache.get("blocks.1.hook_resid_mid")]);
 */
export function sideBySide(sets: readonly ActivationSet[], names: readonly string[] = sets.map((s, i) => s.vectorName ?? `set ${i}`)): ActivationSet {
  if (sets.length === 0) throw new InputError(undefined, "sideBySide: no activation sets given");
  const first = sets[0];
  sets.forEach((s, i) => {
    if (!(s instanceof ActivationSet)) throw new InputError(undefined, `sideBySide: item ${i} is not an ActivationSet`);
    if (s.numRows !== first.numRows) {
      throw new InputError(s.source ?? first.source, `sideBySide: ${names[i]} has ${s.numRows} rows but ${names[0]} has ${first.numRows}; they must pair row by row`);
    }
    assertFiniteSet(s, names[i]);
  });
  const d = sets.reduce((sum, s) => sum + s.dim, 0);
  const out = new Float32Array(first.numRows * d);
  for (let r = 0; r < first.numRows; r++) {
    let at = r * d;
    for (const s of sets) {
      out.set(s.row(r), at);
      at += s.dim;
    }
  }
  return new ActivationSet(out, d, first.meta, { source: first.source, vectorName: sets.map((s) => s.vectorName).join("|") });
}
