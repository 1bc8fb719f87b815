// TopK sparse autoencoder (Gao et al. 2024, OpenAI; SAELens "topk"): each row keeps its k largest
// pre-activations, f = ReLU(TopK_k((x − b_dec)·W_enc + b_enc)), x̂ = f·W_dec + b_dec.
// Loss = mean_B Σ_d (x̂ − x)² + AuxK on dead features (sparsity-helpers.ts); the l1 coefficient
// is not used. Decoder rows are kept at unit norm (parallel gradient removed, renormalised after each step).
import { tf } from "../engine/backend.js";
import { defineArchitecture, type Params } from "./architecture.js";
import {
  auxKFor,
  checkK,
  kOptions,
  linearDecode,
  maskedReferenceLoss,
  maskedStep,
  mseLoss,
  mseReference,
  normaliseRows,
  preActivations,
  recordedOptions,
  rowTopKMask,
  unitNormInit,
} from "./sparsity-helpers.js";

/**
 * Options: k (required, 1 ≤ k ≤ width), auxK (k_aux, default ⌊d_in/2⌋), auxKCoefficient (α, default 1/32).
 */
export const topk = defineArchitecture("topk", "topk", ["k", "auxK", "auxKCoefficient"], (options) => {
  const o = kOptions("topk", options);
  const select = (pre: tf.Tensor2D) => ({ mask: rowTopKMask(pre, o.k) });
  const setup = (x: tf.Tensor2D, p: Params) => {
    checkK("topk", o.k, p.W_dec.shape[0]);
    return { select, reconstruction: mseLoss, aux: { kAux: auxKFor(o, x.shape[1]), coefficient: o.auxKCoefficient } };
  };
  return {
    name: "topk",
    saeLensName: "topk",
    options: recordedOptions(options, o),
    init(dIn, width, rng) {
      checkK("topk", o.k, width);
      return unitNormInit(dIn, width, rng);
    },
    encode(x, p) {
      checkK("topk", o.k, p.W_dec.shape[0]);
      return tf.tidy(() => {
        const pre = preActivations(x, p);
        return tf.mul(tf.relu(pre), rowTopKMask(pre, o.k)) as tf.Tensor2D;
      });
    },
    decode: linearDecode,
    step: (x, p, opts) => maskedStep(x, p, opts, setup(x, p)),
    fused: { kind: "topk", k: o.k, kAux: (dIn: number) => auxKFor(o, dIn), auxKCoefficient: o.auxKCoefficient },
    referenceLoss: (x, p, opts) =>
maskedReferenceLoss(x, p, opts, setup(x, p), (f) => mseReference(f, x, p)),
    afterStep: (p) => normaliseRows(p.W_dec),
  };
});
