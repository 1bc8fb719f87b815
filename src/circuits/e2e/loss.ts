// The losses of end-to-end sparse dictionary learning (Braun et al. 2024; REFERENCE.md, "End-to-end"),
// following Apollo's e2e_sae (losses.py, models/sparsifiers.py) to the normalisation:
//   SAE          c = ReLU(a·W_e + b_e),  â = c·D + b_d,  D = W_dec with each row scaled to unit norm in
//                the forward pass (e2e_sae's F.normalize(decoder.weight, dim=0): one dictionary element
//                per row of our W_dec [d_sae, d_in]).
//   sparsity     φ·mean_tokens ‖c‖₁, φ = λ/d_in (SparsityLoss divides the token-mean L1 by dense_dim).
//   local        MSE(â, a): F.mse_loss, the mean over tokens *and* dimensions (OutToInLoss).
//   e2e          KL(p_orig ‖ p_sae) with â spliced into the frozen model at the hook: F.kl_div(…,
//                reduction="batchmean") on logits flattened to tokens, i.e. Σ_vocab per token, mean over
//                tokens (LogitsKLLoss).
//   e2e+ds       + (β/K)·Σ_k MSE(resid^(k) with â spliced, original resid^(k)) over the K residual
//                streams after the hook (InToOrigLoss: total_coeff β split evenly, F.mse_loss each).
// The model's weights enter as constants: autodiff differentiates through the downstream layers with
// respect to the SAE's parameters only.
import { tf } from "../../engine/backend.js";
import { transformerForward, type Transformer } from "../../models/transformer.js";
import { unitNormRows } from "../../dictionaries/sae-parts.js";

/** How `trainE2E` trains: reconstruct the activation (`"local"`), keep the output distribution (`"e2e"`), or also the later residual streams (`"e2e+ds"`). */
export type E2ELossKind = "local" | "e2e" | "e2e+ds";
export const E2E_LOSSES: readonly E2ELossKind[] = ["local", "e2e", "e2e+ds"];

/** The SAE's trained parameters, in e2e_sae's parametrisation (W_dec rows not yet normalised). */
export interface E2EParams {
  W_enc: tf.Tensor2D;
  b_enc: tf.Tensor1D;
  W_dec: tf.Tensor2D;
  b_dec: tf.Tensor1D;
}

/** Where the dictionary sits: a residual stream the forward pass can resume from, and what lies after it. */
export interface E2ESite {
  hook: string;
  layer: number;
  where: "pre" | "post";
  /** The residual streams after the hook the e2e+ds loss compares (blocks.{k}.hook_resid_post). */
  downstream: string[];
}

/** Checks that `hook` is a residual stream of this model and lists the residual streams after it. */
export function e2eSite(model: Transformer, hook: string): E2ESite {
  model.checkHooks([hook]);
  const m = /^blocks\.(\d+)\.hook_resid_(pre|post)$/.exec(hook);
  if (!m) {
    throw new Error(`featurelab: trainE2E: '${hook}' is not a residual stream; an end-to-end dictionary replaces blocks.{l}.hook_resid_pre or blocks.{l}.hook_resid_post, from which the model's forward pass resumes`);
  }
  const layer = Number(m[1]), where = m[2] as "pre" | "post";
  const first = where === "pre" ? layer : layer + 1;
  const downstream: string[] = [];
  for (let k = first; k < model.cfg.n_layers; k++) downstream.push(`blocks.${k}.hook_resid_post`);
  return { hook, layer, where, downstream };
}

/** c and â for rows a [N, d_in]. */
export function e2eSaeForward(a: tf.Tensor2D, p: E2EParams): { c: tf.Tensor2D; aHat: tf.Tensor2D } {
  const c = tf.relu(tf.add(tf.matMul(a, p.W_enc), p.b_enc)) as tf.Tensor2D;
  const aHat = tf.add(tf.matMul(c, unitNormRows(p.W_dec)), p.b_dec) as tf.Tensor2D;
  return { c, aHat };
}

/** What the clean model computed on a batch, read once per step (constants for the loss). */
export interface CleanBatch {
  /** Token ids [B, T]. */
  tokens: tf.Tensor2D;
  /** The activation at the hook [B, T, d]. */
  resid: tf.Tensor3D;
  /** log-softmax of the clean logits [B·T, V] (e2e losses). */
  logProbs?: tf.Tensor2D;
  /** Residual streams after the hook, by name [B·T, d] (e2e+ds). */
  downstream?: Record<string, tf.Tensor2D>;
  /** 1 for real positions, 0 for padding [B·T]. */
  mask: tf.Tensor1D;
  /** Number of real positions. */
  count: number;
}

const REACHED = Symbol("reached the hook");

/** One clean forward pass recording what the loss compares against. */
export function cleanBatch(model: Transformer, site: E2ESite, tokens: tf.Tensor2D, mask: tf.Tensor1D, count: number, need: { logits: boolean; downstream: boolean }): CleanBatch {
  const seen: Record<string, tf.Tensor> = {};
  const wanted = new Set([site.hook, ...(need.downstream ? site.downstream : [])]);
  // With nothing needed past the hook (local steps), stop the forward pass there.
  const stopAtHook = !need.logits && !need.downstream;
  let logits: tf.Tensor | undefined;
  try {
    logits = transformerForward(model.cfg, model.params, tokens, (name, x) => {
      if (wanted.has(name)) seen[name] = x;
      if (stopAtHook && name === site.hook) throw REACHED;
      return x;
    }, { listens: (n) => wanted.has(n) });
  } catch (err) {
    if (err !== REACHED) throw err;
  }
  const d = model.cfg.d_model;
  const out: CleanBatch = { tokens, resid: seen[site.hook] as tf.Tensor3D, mask, count };
  if (need.logits) out.logProbs = tf.logSoftmax(tf.reshape(logits!, [-1, model.cfg.d_vocab])) as tf.Tensor2D;
  if (need.downstream) out.downstream = Object.fromEntries(site.downstream.map((k) => [k, tf.reshape(seen[k], [-1, d]) as tf.Tensor2D]));
  return out;
}

export interface E2ELossOptions {
  kind: E2ELossKind;
  /** λ: the sparsity coefficient before division by d_in. */
  l1: number;
  /** β: the total downstream-MSE coefficient (e2e+ds). */
  beta: number;
  /** Coefficient of the KL term (e2e, e2e+ds). */
  klCoefficient: number;
  /** Coefficient of the local MSE term (local). */
  mseCoefficient: number;
  /** Compute every term the clean batch allows, also those this kind does not train on (for the record). */
  allTerms?: boolean;
}

export interface E2ETerms {
  loss: tf.Scalar;
  /** MSE(â, a), mean over real tokens and dimensions. */
  mse: tf.Scalar;
  /** mean_tokens ‖c‖₁ (before φ). */
  l1: tf.Scalar;
  kl?: tf.Scalar;
  /** Mean over the downstream streams of their MSE. */
  downstream?: tf.Scalar;
  c: tf.Tensor2D;
  aHat: tf.Tensor2D;
}

/** Σ over real tokens of a per-token quantity [B·T], divided by their number. */
function tokenMean(perToken: tf.Tensor1D, clean: CleanBatch): tf.Scalar {
  return tf.div(tf.sum(tf.mul(perToken, clean.mask)), clean.count) as tf.Scalar;
}

/** The loss of one batch and its terms; differentiable in `p` (the model's weights are constants). */
export function e2eLoss(model: Transformer, site: E2ESite, clean: CleanBatch, p: E2EParams, o: E2ELossOptions): E2ETerms {
  const d = model.cfg.d_model;
  const [B, T] = clean.tokens.shape;
  const a = tf.reshape(clean.resid, [-1, d]) as tf.Tensor2D;
  const { c, aHat } = e2eSaeForward(a, p);
  const mse = tf.div(tokenMean(tf.sum(tf.square(tf.sub(aHat, a)), 1) as tf.Tensor1D, clean), d) as tf.Scalar;
  const l1 = tokenMean(tf.sum(c, 1) as tf.Tensor1D, clean); // c ≥ 0, so Σc = ‖c‖₁
  const phi = o.l1 / d;
  let loss = tf.mul(l1, phi) as tf.Scalar;
  if (o.kind === "local") loss = tf.add(loss, tf.mul(mse, o.mseCoefficient));
  const terms: E2ETerms = { loss, mse, l1, c, aHat };
  if ((o.kind === "local" && !o.allTerms) || !clean.logProbs) return terms;

  const seen: Record<string, tf.Tensor> = {};
  const downstream = new Set(clean.downstream ? site.downstream : []);
  // Padded positions carry their clean activation, so they change nothing a real position sees.
  const spliced = tf.add(tf.mul(tf.reshape(aHat, [B, T, d]), tf.reshape(clean.mask, [B, T, 1])), tf.mul(clean.resid, tf.reshape(tf.sub(1, clean.mask), [B, T, 1])));
  const logits = transformerForward(model.cfg, model.params, undefined, (name, x) => {
    if (downstream.has(name)) seen[name] = x;
    return x;
  }, { listens: (n) => downstream.has(n), start: { layer: site.layer, where: site.where, resid: spliced } });
  const logQ = tf.logSoftmax(tf.reshape(logits, [-1, model.cfg.d_vocab]));
  const logP = clean.logProbs;
  const kl = tokenMean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1) as tf.Tensor1D, clean);
  terms.kl = kl;
  if (o.kind !== "local") terms.loss = loss = tf.add(loss, tf.mul(kl, o.klCoefficient)) as tf.Scalar;
  if (clean.downstream && site.downstream.length > 0) {
    const each = site.downstream.map((k) => tf.div(tokenMean(tf.sum(tf.square(tf.sub(tf.reshape(seen[k], [-1, d]), clean.downstream![k])), 1) as tf.Tensor1D, clean), d));
    const sum = tf.addN(each) as tf.Scalar;
    terms.downstream = tf.div(sum, site.downstream.length) as tf.Scalar;
    if (o.kind === "e2e+ds") terms.loss = tf.add(loss, tf.mul(sum, o.beta / site.downstream.length)) as tf.Scalar;
  }
  return terms;
}
