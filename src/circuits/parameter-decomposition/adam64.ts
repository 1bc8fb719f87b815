// Adam in float64 for the hand-written decomposition steps (SPD, APD): torch.optim.AdamW with weight
// decay 0 (β 0.9, 0.999, ε 1e-8), as both papers' repositories train.

/** One Adam update of θ in place from its gradient, with the moment buffers m1, m2, at step t ≥ 1. */
export function adam64(theta: Float64Array, grad: Float64Array, m1: Float64Array, m2: Float64Array, rate: number, t: number): void {
  const c1 = 1 - 0.9 ** t, c2 = Math.sqrt(1 - 0.999 ** t);
  for (let j = 0; j < theta.length; j++) {
    const g = grad[j];
    m1[j] = 0.9 * m1[j] + 0.1 * g;
    m2[j] = 0.999 * m2[j] + 0.001 * g * g;
    theta[j] -= (rate / c1) * (m1[j] / (Math.sqrt(m2[j]) / c2 + 1e-8));
  }
}
