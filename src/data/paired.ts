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
  assertFiniteSet(input, "transcoder input");
  assertFiniteSet(output, "transcoder output");
  const d = input.dim + output.dim;
  const out = new Float32Array(input.numRows * d);
  for (let r = 0; r < input.numRows; r++) {
    out.set(input.row(r), r * d);
    out.set(output.row(r), r * d + input.dim);
  }
  return new ActivationSet(out, d, input.meta, { source: input.source, vectorName: `${input.vectorName}|${output.vectorName}` });
}
