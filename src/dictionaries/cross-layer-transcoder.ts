// Cross-layer transcoder (CLT; Ameisen et al. 2025, "Circuit Tracing"): L layers of n features each.
// A feature of layer l reads the residual stream x_l entering that layer's MLP (hook_resid_mid) and
// writes to the MLP outputs of layers l … L−1:
//   a_l = JumpReLU(x_l·W_enc^l + b_enc^l),   ŷ_l' = Σ_{l ≤ l'} a_l·W_dec^{l→l'} + b_dec^l'
//   loss = Σ_l' ‖ŷ_l' − y_l'‖² + λ·Σ_l Σ_i tanh(c·a_l,i·‖W_dec,i^l‖)   (+ the optional pre-activation loss)
// where ‖W_dec,i^l‖ is the norm of feature i's decoders to all its layers, concatenated. A per-layer
// transcoder set (PLT) is the special case where a feature writes only to its own layer.
// Held as one dictionary over the layers side by side: inputs [x_0 | … | x_{L−1}], outputs
// [y_0 | … | y_{L−1}], features [a_0 | … | a_{L−1}]; W_enc is block-diagonal and W_dec block upper
// triangular, with the blocks outside the architecture kept at exactly zero (their gradients are
// masked and afterStep re-applies the mask). That spends L× the encoder's memory of a per-layer
// layout, a fair price at the sizes this machine trains, and keeps every Dictionary tool working.
// The JumpReLU thresholds train through straight-through pseudo-derivatives (jumprelu.ts), the tanh
// sparsity penalty by default, as the paper's.
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import { defineArchitecture, type HostTensor, type Params } from "./architecture.js";
import { JUMPRELU_OPTION_NAMES, jumpReluReferenceLoss, jumpReluStep, readJumpReluOptions, type JumpReluPaths } from "./jumprelu.js";

const TRANSCODER_PATHS: JumpReluPaths = { centreInput: false };

/** The layer structure of a cross-layer transcoder: how its side-by-side blocks split. */
export interface CltLayout {
  nLayers: number;
  /** Features per layer. */
  n: number;
  /** Width of each layer's input. */
  dIn: number;
  /** Width of each layer's output. */
  dOut: number;
  /** Whether features write to later layers (false: per-layer transcoders). */
  crossLayer: boolean;
}

/** Reads the layout from the options and the total sizes, with errors that name the mismatch. */
export function cltLayout(nLayers: number, crossLayer: boolean, dInTotal: number, width: number, dOutTotal: number): CltLayout {
  for (const [what, total] of [["input width", dInTotal], ["width", width], ["output width", dOutTotal]] as const) {
    if (total % nLayers !== 0) throw new Error(`featurelab: clt: the ${what} ${total} does not split into ${nLayers} layers (it must be a multiple of nLayers)`);
  }
  return { nLayers, n: width / nLayers, dIn: dInTotal / nLayers, dOut: dOutTotal / nLayers, crossLayer };
}

/** 1 where a weight exists: W_enc's diagonal blocks, W_dec's blocks from layer l to l' ≥ l (only l' = l for a PLT). */
function masks(k: CltLayout): { enc: Float32Array; dec: Float32Array } {
  const L = k.nLayers;
  const enc = new Float32Array(L * k.dIn * L * k.n);
  for (let l = 0; l < L; l++) {
    for (let r = 0; r < k.dIn; r++) enc.fill(1, (l * k.dIn + r) * L * k.n + l * k.n, (l * k.dIn + r) * L * k.n + (l + 1) * k.n);
  }
  const dec = new Float32Array(L * k.n * L * k.dOut);
  for (let l = 0; l < L; l++) {
    const last = k.crossLayer ? L : l + 1;
    for (let i = 0; i < k.n; i++) dec.fill(1, (l * k.n + i) * L * k.dOut + l * k.dOut, (l * k.n + i) * L * k.dOut + last * k.dOut);
  }
  return { enc, dec };
}

export const crossLayerTranscoder = defineArchitecture("clt", "clt", ["d_out", "nLayers", "crossLayer", ...JUMPRELU_OPTION_NAMES], (options) => {
  const nLayers = options.nLayers;
  if (!(Number.isInteger(nLayers) && (nLayers as number) >= 1)) {
    throw new Error(`featurelab: clt: option 'nLayers' (how many layers the inputs and outputs hold, side by side) must be a whole number ≥ 1; got ${JSON.stringify(nLayers) ?? String(nLayers)}`);
  }
  const crossLayer = options.crossLayer ?? true;
  if (typeof crossLayer !== "boolean") throw new Error(`featurelab: clt: option 'crossLayer' must be true (a CLT) or false (per-layer transcoders); got ${JSON.stringify(crossLayer)}`);
  const dOutOption = options.d_out;
  if (dOutOption !== undefined && !(Number.isInteger(dOutOption) && (dOutOption as number) > 0)) {
    throw new Error(`featurelab: clt: d_out must be a positive integer, got ${dOutOption}`);
  }
  const o = readJumpReluOptions(options, "clt", "tanh");
  const { preActLossCoefficient, ...always } = o;
  const L = nLayers as number;
  // Masks as tensors, made once per shape and kept (the trainer calls step and afterStep every step).
  const maskCache = new Map<string, { enc: tf.Tensor2D; dec: tf.Tensor2D }>();
  const maskFor = (p: Params) => {
    const [dIn, width] = p.W_enc.shape as [number, number], dOut = p.W_dec.shape[1] as number;
    const key = `${dIn}/${width}/${dOut}`;
    let m = maskCache.get(key);
    if (!m) {
      const k = cltLayout(L, crossLayer, dIn, width, dOut);
      const host = masks(k);
      m = { enc: tf.keep(tf.tensor2d(host.enc, [dIn, width])), dec: tf.keep(tf.tensor2d(host.dec, [width, dOut])) };
      maskCache.set(key, m);
    }
    return m;
  };

  const init = (dIn: number, width: number, rng: Rng): Record<string, HostTensor> => {
    const dOut = (dOutOption as number | undefined) ?? dIn;
    const k = cltLayout(L, crossLayer, dIn, width, dOut);
    const m = masks(k);
    // Each feature's concatenated decoder has norm 0.1 (as SAELens' decoder_init_norm); encoder
    // columns are random with the scale of transcoder.ts.
    const wDec = rng.normals(width * dOut);
    for (let i = 0; i < width; i++) {
      const row = wDec.subarray(i * dOut, (i + 1) * dOut);
      let ss = 0;
      for (let j = 0; j < dOut; j++) {
        row[j] *= m.dec[i * dOut + j];
        ss += row[j] * row[j];
      }
      const s = 0.1 / Math.sqrt(ss);
      for (let j = 0; j < dOut; j++) row[j] *= s;
    }
    const wEnc = rng.normals(dIn * width);
    for (let j = 0; j < wEnc.length; j++) wEnc[j] *= m.enc[j] * (0.1 / Math.sqrt(k.dIn));
    return {
      W_enc: { shape: [dIn, width], values: wEnc },
      W_dec: { shape: [width, dOut], values: wDec },
      b_enc: { shape: [width], values: new Float32Array(width) },
      b_dec: { shape: [dOut], values: new Float32Array(dOut) },
      threshold: { shape: [width], values: new Float32Array(width).fill(o.initThreshold) },
    };
  };
  const encode = (x: tf.Tensor2D, p: Params) =>
    tf.tidy(() => {
      const pre = tf.add(tf.matMul(x, p.W_enc as tf.Tensor2D), p.b_enc);
      return tf.mul(pre, tf.step(tf.sub(pre, tf.relu(p.threshold)), 0)) as tf.Tensor2D;
    });
  const decode = (f: tf.Tensor2D, p: Params) => tf.tidy(() => tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec) as tf.Tensor2D);

  return {
    name: "clt",
    saeLensName: "clt",
    options: { ...options, nLayers: L, crossLayer, ...always, ...(preActLossCoefficient === undefined ? {} : { preActLossCoefficient }) },
    init,
    encode,
    decode,
    step: (x, p, opts) => {
      const r = jumpReluStep(o, x, p, opts, TRANSCODER_PATHS);
      const m = maskFor(p);
      const gEnc = r.grads.W_enc, gDec = r.grads.W_dec;
      r.grads.W_enc = tf.mul(gEnc, m.enc);
      r.grads.W_dec = tf.mul(gDec, m.dec);
      gEnc.dispose();
      gDec.dispose();
      return r;
    },
    fused: { kind: "jumprelu", options: o, centreInput: false, masks: (dIn: number, width: number, dOut: number) => masks(cltLayout(L, crossLayer, dIn, width, dOut)) },
    referenceLoss: (x, p, opts) => jumpReluReferenceLoss(o, x, p, opts, TRANSCODER_PATHS),
    afterStep: (p) => {
      // Adam leaves zero-gradient weights at zero; this keeps them there exactly whatever the optimiser does.
      const m = maskFor(p);
      tf.tidy(() => {
        p.W_enc.assign(tf.mul(p.W_enc, m.enc));
        p.W_dec.assign(tf.mul(p.W_dec, m.dec));
      });
    },
  };
});
