// The SPD loss on a chain of linear maps with a ReLU and bias at the end (the toy model of
// superposition: x → W x → [I] → Wᵀ(·) + b → ReLU), as goodfire-ai/spd computes it for TMS:
//   faithfulness  Σ_l ‖W_l − (V_l U_l)ᵀ‖²_F / (number of decomposed weights)
//   stochastic reconstruction  mean((f(x | all layers masked) − f(x))²)
//   layer-wise                 mean over layers l of mean((f(x | only l masked) − f(x))²)
//   importance minimality      Σ_l mean_B Σ_c ĝ_{l,c}^p   (ĝ the upper-leaky causal importance)
// Row-vector convention: a layer maps x [B, d_in] to x·W_lᵀ; its C subcomponents to (x·V ⊙ m)·U
// with V [d_in, C], U [C, d_out] (so W_l ≈ (V U)ᵀ = Σ_c U_cᵀ V_cᵀ, rank one each), m = g + (1 − g)·u.
// The gates read the target model's own activations (a = x_l·V with x_l the target's input to
// layer l), as the repo does. A tied layer (TMS's W_out = W_inᵀ) owns no parameters: its V is
// the source's Uᵀ and its U the source's Vᵀ.
import { tf } from "../../engine/backend.js";
import { causalImportance, gateOutput, type GateParams, type SpdSigmoid } from "./causal-importance.js";

/** One weight matrix of the target chain. */
export interface ChainLayer {
  name: string;
  /** [d_out, d_in] */
  weight: tf.Tensor2D;
  /** This layer's weight is the transpose of layer `tiedTo`'s, and so are its subcomponents. */
  tiedTo?: number;
}

/** The target: layers applied in order, then + bias and ReLU. */
export interface Chain {
  layers: ChainLayer[];
  /** [d_out of the last layer] */
  bias: tf.Tensor1D;
}

/** The trainable tensors: V, U of every untied layer, a gate per layer. */
export interface SpdParams {
  V: (tf.Tensor2D | undefined)[];
  U: (tf.Tensor2D | undefined)[];
  gates: GateParams[];
}

/** The loss coefficients and the p of the minimality loss. */
export interface SpdLossConfig {
  faithfulness: number;
  stochasticRecon: number;
  stochasticReconLayerwise: number;
  importanceMinimality: number;
  p: number;
  sigmoid: SpdSigmoid;
}

/** V and U of layer l (a tied layer's are its source's, transposed). */
export function layerFactors(chain: Chain, params: SpdParams, l: number): { V: tf.Tensor2D; U: tf.Tensor2D } {
  const tied = chain.layers[l].tiedTo;
  if (tied === undefined) return { V: params.V[l]!, U: params.U[l]! };
  return { V: tf.transpose(params.U[tied]!) as tf.Tensor2D, U: tf.transpose(params.V[tied]!) as tf.Tensor2D };
}

/** The target's output and the input to every layer. */
export function targetForward(chain: Chain, x: tf.Tensor2D): { out: tf.Tensor2D; inputs: tf.Tensor2D[] } {
  const inputs: tf.Tensor2D[] = [];
  let h = x;
  for (const layer of chain.layers) {
    inputs.push(h);
    h = tf.matMul(h, layer.weight, false, true);
  }
  return { out: tf.relu(tf.add(h, chain.bias)) as tf.Tensor2D, inputs };
}

/** The output with masked subcomponents in place of the layers that have a mask (the others as the target). */
export function maskedForward(chain: Chain, factors: { V: tf.Tensor2D; U: tf.Tensor2D }[], x: tf.Tensor2D, masks: (tf.Tensor2D | undefined)[]): tf.Tensor2D {
  let h = x;
  chain.layers.forEach((layer, l) => {
    const m = masks[l];
    h = m ? tf.matMul(tf.mul(tf.matMul(h, factors[l].V), m), factors[l].U) : tf.matMul(h, layer.weight, false, true);
  });
  return tf.relu(tf.add(h, chain.bias)) as tf.Tensor2D;
}

/** The loss terms and their weighted total; `uniform` holds the u of m = g + (1 − g)u: [full pass, layer-wise] per layer, each [B, C]. */
export function spdLossTerms(chain: Chain, params: SpdParams, x: tf.Tensor2D, uniform: { full: tf.Tensor2D[]; layerwise: tf.Tensor2D[] }, cfg: SpdLossConfig) {
  const L = chain.layers.length;
  const factors = chain.layers.map((_, l) => layerFactors(chain, params, l));
  let nParams = 0;
  let faith: tf.Scalar = tf.scalar(0);
  chain.layers.forEach((layer, l) => {
    nParams += layer.weight.size;
    const diff = tf.sub(layer.weight, tf.transpose(tf.matMul(factors[l].V, factors[l].U)));
    faith = tf.add(faith, tf.sum(tf.square(diff)));
  });
  faith = tf.div(faith, nParams);
  const target = targetForward(chain, x);
  const ci: tf.Tensor2D[] = [];
  const ciUpper: tf.Tensor2D[] = [];
  chain.layers.forEach((_, l) => {
    const g = causalImportance(gateOutput(tf.matMul(target.inputs[l], factors[l].V), params.gates[l]), cfg.sigmoid);
    ci.push(g.ci);
    ciUpper.push(g.ciUpper);
  });
  const mask = (l: number, u: tf.Tensor2D) => tf.add(ci[l], tf.mul(tf.sub(1, ci[l]), u)) as tf.Tensor2D;
  const mse = (out: tf.Tensor2D) => tf.mean(tf.square(tf.sub(out, target.out))) as tf.Scalar;
  const recon = mse(maskedForward(chain, factors, x, chain.layers.map((_, l) => mask(l, uniform.full[l]))));
  let layerwise: tf.Scalar = tf.scalar(0);
  for (let l = 0; l < L; l++) {
    const masks = chain.layers.map((_, k) => (k === l ? mask(l, uniform.layerwise[l]) : undefined));
    layerwise = tf.add(layerwise, mse(maskedForward(chain, factors, x, masks)));
  }
  layerwise = tf.div(layerwise, L);
  const B = x.shape[0];
  let minimality: tf.Scalar = tf.scalar(0);
  for (const g of ciUpper) {
    const powered = cfg.p === 1 ? g : cfg.p === 2 ? tf.square(g) : tf.pow(tf.add(g, 1e-12), cfg.p);
    minimality = tf.add(minimality, tf.div(tf.sum(powered), B));
  }
  const total = tf.addN([tf.mul(faith, cfg.faithfulness), tf.mul(recon, cfg.stochasticRecon), tf.mul(layerwise, cfg.stochasticReconLayerwise), tf.mul(minimality, cfg.importanceMinimality)]) as tf.Scalar;
  return { total, faithfulness: faith, stochasticRecon: recon, stochasticReconLayerwise: layerwise, importanceMinimality: minimality };
}
