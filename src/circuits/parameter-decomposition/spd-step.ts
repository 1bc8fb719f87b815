// One SPD gradient step written out in plain loops (float64), for toy-sized chains: the same loss
// as spd-loss.ts (which tfjs differentiates; the tests check the two agree, and this one against
// central finite differences). Why by hand: with d ≤ 40 the work is a [B, C, d_gate] GELU per
// layer, and tfjs spends ~30 separate elementwise kernels (forward and backward) on it, ~350 ms a
// step at B = 4096; fused here into one forward and one backward sweep it is ~10× less.
// Layout: every parameter lives in one flat vector θ (V, U of each untied layer, then each gate's
// W_in, b_in, W_out, b_out) so Adam and the finite-difference check see a single array.

import { matMul } from "../../engine/linalg.js";
import { loadNative, type NativeAddon } from "../../engine/native.js";

/** One weight matrix of the target chain, [d_out, d_in] row-major. */
export interface StepLayer {
  din: number;
  dout: number;
  W: Float64Array;
  /** This layer's weight is the transpose of layer `tiedTo`'s; its V is that layer's Uᵀ, its U that layer's Vᵀ. */
  tiedTo?: number;
}

/** The chain (layers, then + bias, ReLU), the number of subcomponents C and gate width H. */
export interface StepModel {
  layers: StepLayer[];
  bias: Float64Array;
  C: number;
  H: number;
}

/** Offsets of each parameter block in θ (−1: a tied layer's V/U, which it borrows). */
export interface StepLayout {
  V: number[];
  U: number[];
  wIn: number[];
  bIn: number[];
  wOut: number[];
  bOut: number[];
  size: number;
}

/** The loss coefficients, p, and the hard sigmoid. */
export interface StepConfig {
  faithfulness: number;
  stochasticRecon: number;
  stochasticReconLayerwise: number;
  importanceMinimality: number;
  p: number;
  sigmoid: "leaky_hard" | "hard";
}

/** The loss terms of one step (unweighted) and their weighted total. */
export interface SpdLossValues {
  total: number;
  faithfulness: number;
  stochasticRecon: number;
  stochasticReconLayerwise: number;
  importanceMinimality: number;
}

/** Where each block sits in θ. */
export function stepLayout(model: StepModel): StepLayout {
  const { C, H } = model;
  const lay: StepLayout = { V: [], U: [], wIn: [], bIn: [], wOut: [], bOut: [], size: 0 };
  let at = 0;
  for (const l of model.layers) {
    if (l.tiedTo === undefined) {
      lay.V.push(at);
      at += l.din * C;
      lay.U.push(at);
      at += C * l.dout;
    } else {
      lay.V.push(-1);
      lay.U.push(-1);
    }
  }
  for (let l = 0; l < model.layers.length; l++) {
    lay.wIn.push(at);
    at += C * H;
    lay.bIn.push(at);
    at += C * H;
    lay.wOut.push(at);
    at += C * H;
    lay.bOut.push(at);
    at += C;
  }
  lay.size = at;
  return lay;
}

/** V [d_in, C] and U [C, d_out] of layer l (copies for a tied layer). */
export function stepFactors(model: StepModel, lay: StepLayout, theta: Float64Array, l: number): { V: Float64Array; U: Float64Array } {
  const { C } = model;
  const layer = model.layers[l];
  const s = layer.tiedTo;
  if (s === undefined) return { V: theta.subarray(lay.V[l], lay.V[l] + layer.din * C), U: theta.subarray(lay.U[l], lay.U[l] + C * layer.dout) };
  const src = model.layers[s];
  const Vs = theta.subarray(lay.V[s], lay.V[s] + src.din * C), Us = theta.subarray(lay.U[s], lay.U[s] + C * src.dout);
  // V_t [d_in_t = dout_s, C] = U_sᵀ; U_t [C, dout_t = din_s] = V_sᵀ.
  const V = new Float64Array(src.dout * C), U = new Float64Array(C * src.din);
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < src.dout; o++) V[o * C + c] = Us[c * src.dout + o];
    for (let i = 0; i < src.din; i++) U[c * src.din + i] = Vs[i * C + c];
  }
  return { V, U };
}

const P = 0.3275911, A1 = 0.254829592, A2 = -0.284496736, A3 = 1.421413741, A4 = -1.453152027, A5 = 1.061405429;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Φ(z) + i·… : writes Φ(z) and φ(z) of z into cdf[j], pdf[j] (A&S 7.1.26 for erf, |error| < 1.5e-7; one exp for both). */
function normalCdfPdf(z: number, cdf: Float64Array, pdf: Float64Array, j: number): number {
  const x = (z < 0 ? -z : z) * Math.SQRT1_2;
  const e = Math.exp(-x * x);
  const t = 1 / (1 + P * x);
  const erf = 1 - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * e;
  const Phi = 0.5 * (1 + (z < 0 ? -erf : erf));
  cdf[j] = Phi;
  pdf[j] = INV_SQRT_2PI * e;
  return Phi;
}

/** a [B, C] = h [B, d] · V [d, C]. */
function project(h: Float64Array, V: Float64Array, B: number, d: number, C: number): Float64Array {
  return matMul(h, V, B, d, C);
}

/** y [B, dout] = q [B, C] · U [C, dout]. */
function expand(q: Float64Array, U: Float64Array, B: number, C: number, dout: number): Float64Array {
  return matMul(q, U, B, C, dout);
}

/** y [B, dout] = h [B, din] · Wᵀ (W [dout, din]). */
function linear(h: Float64Array, W: Float64Array, B: number, din: number, dout: number): Float64Array {
  return matMul(h, W, B, din, dout, false, true);
}

/** dh [B, din] = dy [B, dout] · W. */
function linearBack(dy: Float64Array, W: Float64Array, B: number, din: number, dout: number): Float64Array {
  return matMul(dy, W, B, dout, din);
}

/** The native addon's fused gate kernels (native/spd_gates.cc: the same arithmetic, vectorised), when built; FEATURELAB_NATIVE=0 turns them off. */
function nativeGates(): NativeAddon | undefined {
  const addon = loadNative().addon;
  return addon && typeof addon.spdGateForward === "function" ? addon : undefined;
}

/** Scratch for the gates: Φ(z), φ(z) of every GELU input, kept from the forward sweep for the backward one. */
export interface GateScratch {
  cdf: Float64Array;
  pdf: Float64Array;
}

/** The gates' outputs [B, C] for inner activations a [B, C] (and Φ, φ of every GELU input into `scratch`). */
export function gateForward(a: Float64Array, theta: Float64Array, wIn: number, bIn: number, wOut: number, bOut: number, B: number, C: number, H: number, scratch?: GateScratch): Float64Array {
  const pre = new Float64Array(B * C);
  const cdf = scratch?.cdf ?? new Float64Array(B * C * H), pdf = scratch?.pdf ?? new Float64Array(B * C * H);
  const native = nativeGates();
  if (native) {
    const CH = C * H;
    native.spdGateForward(a, theta.subarray(wIn, wIn + CH), theta.subarray(bIn, bIn + CH), theta.subarray(wOut, wOut + CH), theta.subarray(bOut, bOut + C), B, C, H, cdf, pdf, pre);
    return pre;
  }
  return gateForwardLoops(a, theta, wIn, bIn, wOut, bOut, B, C, H, cdf, pdf, pre);
}

/** gateForward in JavaScript loops (without the addon). */
export function gateForwardLoops(a: Float64Array, theta: Float64Array, wIn: number, bIn: number, wOut: number, bOut: number, B: number, C: number, H: number, cdf: Float64Array, pdf: Float64Array, pre: Float64Array): Float64Array {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const av = a[b * C + c];
      let s = theta[bOut + c];
      const base = c * H, j0 = (b * C + c) * H;
      for (let k = 0; k < H; k++) {
        const z = av * theta[wIn + base + k] + theta[bIn + base + k];
        s += z * normalCdfPdf(z, cdf, pdf, j0 + k) * theta[wOut + base + k];
      }
      pre[b * C + c] = s;
    }
  }
  return pre;
}

/** Backward through the gates (Φ, φ from the forward sweep): accumulates their parameter gradients into g and returns ∂/∂a. */
export function gateBackward(a: Float64Array, dpre: Float64Array, theta: Float64Array, g: Float64Array, wIn: number, bIn: number, wOut: number, bOut: number, B: number, C: number, H: number, scratch: GateScratch): Float64Array {
  const da = new Float64Array(B * C);
  const { cdf, pdf } = scratch;
  const native = nativeGates();
  if (native) {
    const CH = C * H;
    native.spdGateBackward(a, dpre, theta.subarray(wIn, wIn + CH), theta.subarray(bIn, bIn + CH), theta.subarray(wOut, wOut + CH), B, C, H, cdf, pdf, g.subarray(wIn, wIn + CH), g.subarray(bIn, bIn + CH), g.subarray(wOut, wOut + CH), g.subarray(bOut, bOut + C), da);
    return da;
  }
  return gateBackwardLoops(a, dpre, theta, g, wIn, bIn, wOut, bOut, B, C, H, scratch, da);
}

/** gateBackward in JavaScript loops (without the addon). */
export function gateBackwardLoops(a: Float64Array, dpre: Float64Array, theta: Float64Array, g: Float64Array, wIn: number, bIn: number, wOut: number, bOut: number, B: number, C: number, H: number, scratch: GateScratch, da: Float64Array): Float64Array {
  const { cdf, pdf } = scratch;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const d = dpre[b * C + c];
      if (d === 0) continue;
      const av = a[b * C + c];
      const base = c * H, j0 = (b * C + c) * H;
      g[bOut + c] += d;
      let dav = 0;
      for (let k = 0; k < H; k++) {
        const wi = theta[wIn + base + k];
        const z = av * wi + theta[bIn + base + k];
        const Phi = cdf[j0 + k];
        g[wOut + base + k] += d * z * Phi;
        const dz = d * theta[wOut + base + k] * (Phi + z * pdf[j0 + k]);
        g[wIn + base + k] += dz * av;
        g[bIn + base + k] += dz;
        dav += dz * wi;
      }
      da[b * C + c] = dav;
    }
  }
  return da;
}

/** gV [d, C] += hᵀ [d, B] · dp [B, C]. */
function accumulateV(gV: Float64Array, h: Float64Array, dp: Float64Array, B: number, d: number, C: number): void {
  addInto(gV, matMul(h, dp, d, B, C, true, false));
}

/** a += b. */
export function addInto(a: Float64Array, b: Float64Array): void {
  for (let j = 0; j < a.length; j++) a[j] += b[j];
}

/**
 * Backward through one masked layer, y = ((z·V) ⊙ m)·U, given ∂/∂y: accumulates gV, gU and the
 * gradient with respect to the mask, and returns ∂/∂z (when `needInput`).
 */
function maskedLayerBack(z: Float64Array, p: Float64Array, m: Float64Array, dy: Float64Array, V: Float64Array, U: Float64Array, gV: Float64Array, gU: Float64Array, dm: Float64Array, B: number, din: number, C: number, dout: number, needInput: boolean): Float64Array | undefined {
  const dq = matMul(dy, U, B, dout, C, false, true);
  const q = new Float64Array(B * C), dp = new Float64Array(B * C);
  for (let j = 0; j < B * C; j++) {
    q[j] = p[j] * m[j];
    dm[j] += dq[j] * p[j];
    dp[j] = dq[j] * m[j];
  }
  addInto(gU, matMul(q, dy, C, B, dout, true, false));
  accumulateV(gV, z, dp, B, din, C);
  return needInput ? matMul(dp, V, B, C, din, false, true) : undefined;
}

/**
 * Faithfulness Σ_l ‖W_l − (V_l U_l)ᵀ‖² / (number of weights), returned; its gradient (times `coeff`)
 * accumulates into gV, gU.
 */
export function faithfulnessInto(layers: readonly StepLayer[], fac: readonly { V: Float64Array; U: Float64Array }[], gV: Float64Array[], gU: Float64Array[], C: number, coeff: number): number {
  let nParams = 0;
  for (const ly of layers) nParams += ly.din * ly.dout;
  let faith = 0;
  layers.forEach((ly, l) => {
    const { V, U } = fac[l];
    const D = matMul(V, U, ly.din, C, ly.dout); // (V U) [din, dout] = Wᵀ, then overwritten by ∂/∂(V U)
    for (let i = 0; i < ly.din; i++) {
      for (let o = 0; o < ly.dout; o++) {
        const e = ly.W[o * ly.din + i] - D[i * ly.dout + o];
        faith += e * e;
        D[i * ly.dout + o] = (-2 * coeff * e) / nParams;
      }
    }
    addInto(gV[l], matMul(D, U, ly.din, ly.dout, C, false, true));
    addInto(gU[l], matMul(V, D, C, ly.din, ly.dout, true, false));
  });
  return faith / nParams;
}

const scratches = new WeakMap<StepModel, { B: number; gates: GateScratch[] }>();

/** The gate scratch of a model for batches of B rows, kept between steps (it is ~20 MB at B = 4096, C = 20). */
export function scratchFor(model: StepModel, B: number): GateScratch[] {
  let s = scratches.get(model);
  if (!s || s.B !== B) {
    const size = B * model.C * model.H;
    s = { B, gates: model.layers.map(() => ({ cdf: new Float64Array(size), pdf: new Float64Array(size) })) };
    scratches.set(model, s);
  }
  return s.gates;
}

/** Causal importances from the gates' outputs: `ci` for the masks (lower-leaky or hard sigmoid), `ciUp` for importance minimality (upper-leaky or hard). */
export function hardSigmoids(pre: Float64Array, leaky: boolean): { ci: Float64Array; ciUp: Float64Array } {
  const ci = new Float64Array(pre.length), ciUp = new Float64Array(pre.length);
  for (let j = 0; j < pre.length; j++) {
    const v = pre[j];
    ci[j] = leaky ? (v > 0 ? (v < 1 ? v : 1) : 0.01 * v) : v > 0 ? (v < 1 ? v : 1) : 0;
    ciUp[j] = v > 1 ? (leaky ? 1 + 0.01 * (v - 1) : 1) : v > 0 ? v : 0;
  }
  return { ci, ciUp };
}

/** ∂loss/∂pre through both sigmoids, from ∂/∂ci and ∂/∂ciUp. */
export function hardSigmoidsBack(pre: Float64Array, dci: Float64Array, dciUp: Float64Array, leaky: boolean): Float64Array {
  const dpre = new Float64Array(pre.length);
  for (let j = 0; j < pre.length; j++) {
    const v = pre[j];
    const inside = v >= 0 && v <= 1;
    const dLower = leaky ? (v > 1 ? 0 : v > 0 ? 1 : 0.01) : inside ? 1 : 0;
    const dUpper = leaky ? (v > 1 ? 0.01 : inside ? 1 : 0) : inside ? 1 : 0;
    dpre[j] = dci[j] * dLower + dciUp[j] * dUpper;
  }
  return dpre;
}

/**
 * Importance minimality of one matrix, Σ ĝ^p / B (without its coefficient); adds coeff·∂/∂ĝ into
 * dciUp. `rowWeights` (one per row of ĝ) counts a row as that many rows of the batch.
 */
export function minimalityTerm(ciUp: Float64Array, dciUp: Float64Array, p: number, coeff: number, B: number, rowWeights?: ArrayLike<number>): number {
  let sum = 0;
  const k = coeff / B;
  const C = rowWeights ? ciUp.length / rowWeights.length : 0;
  for (let j = 0; j < ciUp.length; j++) {
    const g = ciUp[j];
    const w = rowWeights ? rowWeights[(j / C) | 0] : 1;
    if (p === 1) {
      sum += w * g;
      dciUp[j] += w * k;
    } else {
      const gp = Math.pow(g + 1e-12, p);
      sum += w * gp;
      dciUp[j] += (w * k * p * gp) / (g + 1e-12);
    }
  }
  return sum / B;
}

/** The stochastic mask m = g + (1 − g)·u. */
export function stochasticMask(ci: Float64Array, u: ArrayLike<number>): Float64Array {
  const m = new Float64Array(ci.length);
  for (let j = 0; j < ci.length; j++) m[j] = ci[j] + (1 - ci[j]) * u[j];
  return m;
}

/** ∂/∂ci of a mask m = g + (1 − g)·u is (1 − u): dci += dm·(1 − u). */
export function foldMaskGrad(dci: Float64Array, dm: Float64Array, u: ArrayLike<number>): void {
  for (let j = 0; j < dci.length; j++) dci[j] += dm[j] * (1 - u[j]);
}

/**
 * The loss at θ for a batch x [B, d_in] (and the uniforms u of the masks, per layer [B, C], one
 * set for the all-layers pass and one for the layer-wise passes); writes ∂loss/∂θ into `grad`.
 */
export function spdStep(model: StepModel, lay: StepLayout, theta: Float64Array, grad: Float64Array, x: ArrayLike<number>, B: number, uFull: ArrayLike<number>[], uLayer: ArrayLike<number>[], cfg: StepConfig): SpdLossValues {
  grad.fill(0);
  const { layers, C, H, bias } = model;
  const L = layers.length;
  const fac = layers.map((_, l) => stepFactors(model, lay, theta, l));
  const gV = layers.map((ly) => new Float64Array(ly.din * C));
  const gU = layers.map((ly) => new Float64Array(C * ly.dout));

  const faith = faithfulnessInto(layers, fac, gV, gU, C, cfg.faithfulness);

  // The target's activations and output.
  const h: Float64Array[] = [Float64Array.from(x)];
  layers.forEach((ly, l) => h.push(linear(h[l], ly.W, B, ly.din, ly.dout)));
  const nOut = layers[L - 1].dout;
  const target = new Float64Array(B * nOut);
  for (let b = 0; b < B; b++) for (let o = 0; o < nOut; o++) target[b * nOut + o] = Math.max(0, h[L][b * nOut + o] + bias[o]);

  // Causal importances from the target's inner activations.
  const a = layers.map((ly, l) => project(h[l], fac[l].V, B, ly.din, C));
  const scratch = scratchFor(model, B);
  const pre = layers.map((_, l) => gateForward(a[l], theta, lay.wIn[l], lay.bIn[l], lay.wOut[l], lay.bOut[l], B, C, H, scratch[l]));
  const leaky = cfg.sigmoid === "leaky_hard";
  const sig = pre.map((p) => hardSigmoids(p, leaky));
  const ci = sig.map((s) => s.ci), ciUp = sig.map((s) => s.ciUp);
  const dci = layers.map(() => new Float64Array(B * C));
  const dciUp = layers.map(() => new Float64Array(B * C));
  const maskOf = (l: number, u: ArrayLike<number>) => stochasticMask(ci[l], u);
  const times = (p: Float64Array, m: Float64Array) => {
    const q = new Float64Array(p.length);
    for (let j = 0; j < p.length; j++) q[j] = p[j] * m[j];
    return q;
  };
  const mseBack = (z: Float64Array, coeff: number): { loss: number; dz: Float64Array } => {
    let loss = 0;
    const dz = new Float64Array(B * nOut);
    const k = (2 * coeff) / (B * nOut);
    for (let j = 0; j < B * nOut; j++) {
      const y = z[j] + bias[j % nOut];
      const out = y > 0 ? y : 0;
      const e = out - target[j];
      loss += e * e;
      dz[j] = y > 0 ? k * e : 0;
    }
    return { loss: loss / (B * nOut), dz };
  };
  const foldMask = (l: number, dm: Float64Array, u: ArrayLike<number>) => foldMaskGrad(dci[l], dm, u);

  // Stochastic reconstruction, every layer masked.
  let recon = 0;
  {
    const m = layers.map((_, l) => maskOf(l, uFull[l]));
    const z: Float64Array[] = [h[0]];
    const p: Float64Array[] = [];
    layers.forEach((ly, l) => {
      p.push(project(z[l], fac[l].V, B, ly.din, C));
      const q = times(p[l], m[l]);
      z.push(expand(q, fac[l].U, B, C, ly.dout));
    });
    const r = mseBack(z[L], cfg.stochasticRecon);
    recon = r.loss;
    let dz: Float64Array | undefined = r.dz;
    for (let l = L - 1; l >= 0; l--) {
      const ly = layers[l];
      const dm = new Float64Array(B * C);
      dz = maskedLayerBack(z[l], p[l], m[l], dz!, fac[l].V, fac[l].U, gV[l], gU[l], dm, B, ly.din, C, ly.dout, l > 0);
      foldMask(l, dm, uFull[l]);
    }
  }

  // Layer-wise: one layer masked at a time, the others the target's.
  let layerwise = 0;
  for (let l = 0; l < L; l++) {
    const ly = layers[l];
    const m = maskOf(l, uLayer[l]);
    const p = project(h[l], fac[l].V, B, ly.din, C);
    const zs: Float64Array[] = [expand(times(p, m), fac[l].U, B, C, ly.dout)];
    for (let k = l + 1; k < L; k++) zs.push(linear(zs[zs.length - 1], layers[k].W, B, layers[k].din, layers[k].dout));
    const r = mseBack(zs[zs.length - 1], cfg.stochasticReconLayerwise / L);
    layerwise += r.loss / L;
    let dz = r.dz;
    for (let k = L - 1; k > l; k--) dz = linearBack(dz, layers[k].W, B, layers[k].din, layers[k].dout);
    const dm = new Float64Array(B * C);
    maskedLayerBack(h[l], p, m, dz, fac[l].V, fac[l].U, gV[l], gU[l], dm, B, ly.din, C, ly.dout, false);
    foldMask(l, dm, uLayer[l]);
  }

  // Importance minimality: Σ_l mean_B Σ_c ĝ^p.
  let minimality = 0;
  for (let l = 0; l < L; l++) minimality += minimalityTerm(ciUp[l], dciUp[l], cfg.p, cfg.importanceMinimality, B);

  // Through the sigmoids, the gates, and a = h·V.
  for (let l = 0; l < L; l++) {
    const ly = layers[l];
    const dpre = hardSigmoidsBack(pre[l], dci[l], dciUp[l], leaky);
    const da = gateBackward(a[l], dpre, theta, grad, lay.wIn[l], lay.bIn[l], lay.wOut[l], lay.bOut[l], B, C, H, scratch[l]);
    accumulateV(gV[l], h[l], da, B, ly.din, C);
  }

  // Into θ, a tied layer's gradients folded into its source's.
  layers.forEach((ly, l) => {
    const s = ly.tiedTo;
    if (s === undefined) {
      grad.set(gV[l].map((v, j) => v + grad[lay.V[l] + j]), lay.V[l]);
      grad.set(gU[l].map((v, j) => v + grad[lay.U[l] + j]), lay.U[l]);
      return;
    }
    const src = layers[s];
    for (let c = 0; c < C; c++) {
      for (let o = 0; o < src.dout; o++) grad[lay.U[s] + c * src.dout + o] += gV[l][o * C + c];
      for (let i = 0; i < src.din; i++) grad[lay.V[s] + i * C + c] += gU[l][c * src.din + i];
    }
  });

  const total = cfg.faithfulness * faith + cfg.stochasticRecon * recon + cfg.stochasticReconLayerwise * layerwise + cfg.importanceMinimality * minimality;
  return { total, faithfulness: faith, stochasticRecon: recon, stochasticReconLayerwise: layerwise, importanceMinimality: minimality };
}
