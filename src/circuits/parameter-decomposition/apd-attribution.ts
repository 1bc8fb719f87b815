// Which APD components are active on an input: gradient attributions and the batch top-k.
// ApolloResearch/apd (spd/utils.py, calc_grad_attributions): for each output f of the target,
//   A_c(x) = Σ_f ( Σ_l ∂f/∂h_{l+1} · (h_l · P_{c,l}) )²
// with h_l the target's input to layer l (detached), h_{l+1} its output, and the gradient taken
// through the target model, ReLU included (∂ReLU at 0 is 0). For a chain of linear maps
// ∂f/∂h_{l+1} = 1[pre_f > 0]·(W_{L−1}···W_{l+1})[f, :] and h_l = x·(W_{l−1}···W_0)ᵀ, so the inner
// sum is x·R_c[:, f] with R_c [n, n_out] precomputed once a batch: only x's few nonzeros and the
// outputs with pre_f > 0 are touched per row.
// No gradient flows through the attributions: the repo takes ∂f/∂h with torch.autograd.grad and no
// create_graph, and although h_l·P_c is still in the graph, the top-k form uses the attributions only
// through topk(...).indices, which carry none. So they are computed here as plain numbers.
// source "apd" takes the gradients and h_l from the APD model with all components (Σ_c P_c) instead
// of the target: the repo did so before its commit 9f46cb8 (December 2024), and the paper says its
// TMS 5-2 results needed that (§ TMS: "attributions taken from the APD model rather than the target").
import { apdFactors, componentMatrix, type ApdLayout, type ApdModel } from "./apd-step.js";

/** Whose gradients and activations the attributions use. */
export type ApdAttributionSource = "target" | "apd";

/** The weights [d_out, d_in] of each layer the attributions run through. */
function attributionWeights(model: ApdModel, lay: ApdLayout, theta: Float64Array, source: ApdAttributionSource): Float64Array[] {
  if (source === "target") return model.layers.map((ly) => ly.W);
  return model.layers.map((ly, l) => {
    const { A, B } = apdFactors(model, lay, theta, l);
    const P = componentMatrix(A, B, model.C, ly.din, model.m, ly.dout, -1);
    const W = new Float64Array(ly.dout * ly.din);
    for (let i = 0; i < ly.din; i++) for (let o = 0; o < ly.dout; o++) W[o * ly.din + i] = P[i * ly.dout + o];
    return W;
  });
}

/** Attributions A_c(x) [B, C] of every component on rows x [B, d_in]. */
export function gradientAttributions(model: ApdModel, lay: ApdLayout, theta: Float64Array, x: ArrayLike<number>, B: number, source: ApdAttributionSource = "target"): Float64Array {
  const { layers, C, m, bias } = model;
  const L = layers.length, nOut = layers[L - 1].dout;
  const W = attributionWeights(model, lay, theta, source);
  // Activations h_l [B, d_in of l]; the last is the output's pre-activation (without b).
  const h: Float64Array[] = [Float64Array.from(x)];
  layers.forEach((ly, l) => {
    const next = new Float64Array(B * ly.dout);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < ly.din; i++) {
        const v = h[l][b * ly.din + i];
        if (v === 0) continue;
        for (let o = 0; o < ly.dout; o++) next[b * ly.dout + o] += v * W[l][o * ly.din + i];
      }
    }
    h.push(next);
  });
  // M_l [nOut, d_out of l] = W_{L−1}···W_{l+1}, then Q_{c,l} [d_in, nOut] = P_{c,l}·M_lᵀ.
  const M: Float64Array[] = new Array(L);
  M[L - 1] = new Float64Array(nOut * nOut);
  for (let f = 0; f < nOut; f++) M[L - 1][f * nOut + f] = 1;
  for (let l = L - 2; l >= 0; l--) {
    const next = layers[l + 1], dout = layers[l].dout;
    M[l] = new Float64Array(nOut * dout);
    for (let f = 0; f < nOut; f++) for (let k = 0; k < next.dout; k++) {
      const v = M[l + 1][f * next.dout + k];
      if (v !== 0) for (let o = 0; o < dout; o++) M[l][f * dout + o] += v * W[l + 1][k * next.din + o];
    }
  }
  // G_l [d_in of l, n] = W_{l−1}···W_0 (h_l = x·G_lᵀ), so Σ_l h_l·Q_{c,l} = x·R_c with
  // R_c [n, nOut] = Σ_l G_lᵀ·Q_{c,l}: per row only x's few nonzeros are touched.
  const n = layers[0].din;
  let G = new Float64Array(n * n);
  for (let i = 0; i < n; i++) G[i * n + i] = 1;
  const R = new Float64Array(C * n * nOut);
  layers.forEach((ly, l) => {
    const { A, B: Bf } = apdFactors(model, lay, theta, l);
    const q = new Float64Array(ly.din * nOut);
    for (let c = 0; c < C; c++) {
      const Pc = componentMatrix(A, Bf, C, ly.din, m, ly.dout, c);
      q.fill(0);
      for (let i = 0; i < ly.din; i++) for (let o = 0; o < ly.dout; o++) {
        const v = Pc[i * ly.dout + o];
        if (v !== 0) for (let f = 0; f < nOut; f++) q[i * nOut + f] += v * M[l][f * ly.dout + o];
      }
      for (let i = 0; i < ly.din; i++) for (let i0 = 0; i0 < n; i0++) {
        const g = G[i * n + i0];
        if (g !== 0) for (let f = 0; f < nOut; f++) R[(c * n + i0) * nOut + f] += g * q[i * nOut + f];
      }
    }
    const next = new Float64Array(ly.dout * n);
    for (let o = 0; o < ly.dout; o++) for (let i = 0; i < ly.din; i++) {
      const w = W[l][o * ly.din + i];
      if (w !== 0) for (let i0 = 0; i0 < n; i0++) next[o * n + i0] += w * G[i * n + i0];
    }
    G = next;
  });
  const attr = new Float64Array(B * C);
  const live = new Int32Array(nOut), t = new Float64Array(C * nOut);
  for (let b = 0; b < B; b++) {
    let nLive = 0;
    for (let f = 0; f < nOut; f++) if (h[L][b * nOut + f] + bias[f] > 0) live[nLive++] = f;
    if (nLive === 0) continue;
    t.fill(0, 0, C * nLive);
    for (let i = 0; i < n; i++) {
      const v = x[b * n + i];
      if (v === 0) continue;
      for (let c = 0; c < C; c++) {
        const ro = (c * n + i) * nOut;
        for (let k = 0; k < nLive; k++) t[c * nLive + k] += v * R[ro + live[k]];
      }
    }
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let k = 0; k < nLive; k++) s += t[c * nLive + k] ** 2;
      attr[b * C + c] = s;
    }
  }
  return attr;
}

/**
 * Batch top-k as the repo's calc_topk_mask: keep the ⌊topk·B⌋ largest attributions over the whole
 * batch [B, C] (so topk is the mean number of components kept per row). Ties at the threshold are
 * kept in row-major order.
 */
export function batchTopkMask(attr: Float64Array, B: number, C: number, topk: number): Uint8Array {
  const mask = new Uint8Array(B * C);
  const k = Math.min(B * C, Math.floor(topk * B));
  if (k <= 0) return mask;
  const threshold = kthLargest(Float64Array.from(attr), k);
  let kept = 0;
  for (let j = 0; j < B * C; j++) if (attr[j] > threshold) (mask[j] = 1), kept++;
  for (let j = 0; j < B * C && kept < k; j++) if (attr[j] === threshold) (mask[j] = 1), kept++;
  return mask;
}

/** The k-th largest value of a (which it reorders): Hoare's selection, expected linear time. */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  const want = a.length - k; // its index in ascending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return a[want];
  }
  return a[want];
}
