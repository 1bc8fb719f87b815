// rsatoolbox's whitened RDM comparisons, cosine_cov and corr_cov (Diedrichsen et al. 2021):
// the cosine of two RDM vectors in the metric V⁻¹, where V = Ξ∘Ξ, Ξ = C Σ_k Cᵀ and C is the
// pairwise contrast matrix, i.e. V is the covariance structure of distance estimates.
//
// Without Σ_k (or with a diagonal one, given as a vector) rsatoolbox computes this in the second-
// moment space: G = −½D double-centred (row and column means removed), each entry divided by
// √(σ_i σ_j), off-diagonal entries weighted √2, and the cosine taken there (as linear CKA of the
// two matrices). With missing pairs (NaN), double-centring becomes the weighted least-squares fit of
// G_ij ≈ a_i + a_j (G_kk ≈ 2a_k) to the observed entries, solved here by conjugate gradients. With a
// full Σ_k matrix, rsatoolbox solves V x = d by conjugate gradients; so do we, applying V without
// forming it: (Ξ∘Ξ)z at pair (i,j) is cᵢⱼᵀ Σ L(z) Σ cᵢⱼ with L(z) the Laplacian of z.

/**
 * Whitened cosine of two RDM vectors of K conditions with the same kept pairs (`keep[p]` = 1).
 * `x` and `y` hold only the kept pairs, in order; `shiftX`/`shiftY` are subtracted from them first
 * (their means, for corr_cov).
 */
export function covWeightedCosine(
  x: Float64Array,
  y: Float64Array,
  keep: Uint8Array | null,
  K: number,
  sigmaK: Float64Array | null,
  sigmaIsMatrix: boolean,
  shiftX = 0,
  shiftY = 0,
): number {
  if (sigmaK && sigmaIsMatrix) return vWeightedCosine(x.map((v) => v - shiftX), y.map((v) => v - shiftY), keep, K, sigmaK);
  const ax = centring(x, shiftX, keep, K), ay = centring(y, shiftY, keep, K);
  const sd = sigmaK ? sigmaK.map(Math.sqrt) : null;
  // Stream over the entries of the two centred second-moment matrices: off-diagonal entries count
  // twice (weight √2 each, as rsatoolbox), diagonal entries once.
  let xy = 0, xx = 0, yy = 0;
  for (let i = 0, p = 0, q = 0; i < K; i++) {
    const axi = ax[i], ayi = ay[i];
    for (let j = i + 1; j < K; j++, q++) {
      if (keep && !keep[q]) continue;
      let gx = -0.5 * (x[p] - shiftX) - axi - ax[j];
      let gy = -0.5 * (y[p] - shiftY) - ayi - ay[j];
      p++;
      if (sd) {
        const s = sd[i] * sd[j];
        gx /= s;
        gy /= s;
      }
      xy += 2 * gx * gy;
      xx += 2 * gx * gx;
      yy += 2 * gy * gy;
    }
  }
  for (let k = 0; k < K; k++) {
    const s = sd ? sd[k] * sd[k] : 1;
    const gx = (-2 * ax[k]) / s, gy = (-2 * ay[k]) / s;
    xy += gx * gy;
    xx += gx * gx;
    yy += gy * gy;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx) / Math.sqrt(yy) : 0; // rsatoolbox: 0 for a zero vector
}

/**
 * The a_k of the double-centring G_ij − a_i − a_j (G_kk − 2a_k) of G = −½(D − shift), diagonal 0:
 * row mean − grand mean / 2 for a full RDM, a least-squares fit over the kept pairs otherwise.
 */
function centring(v: Float64Array, shift: number, keep: Uint8Array | null, K: number): Float64Array {
  const rowSum = new Float64Array(K);
  const degree = new Float64Array(K);
  for (let i = 0, p = 0, q = 0; i < K; i++) {
    for (let j = i + 1; j < K; j++, q++) {
      if (keep && !keep[q]) continue;
      const g = -0.5 * (v[p++] - shift);
      rowSum[i] += g;
      rowSum[j] += g;
      degree[i]++;
      degree[j]++;
    }
  }
  if (keep) return solveCentring(rowSum, degree, keep, K);
  let total = 0;
  for (let k = 0; k < K; k++) total += rowSum[k];
  return rowSum.map((s) => s / K - total / (K * K) / 2);
}

/**
 * Solve (Σ_kept (e_i+e_j)(e_i+e_j)ᵀ + 2I) a = b by Jacobi-preconditioned conjugate gradients. The
 * product needs only the missing pairs: (Ma)_k = (2+deg_k) a_k + Σ_{j≠k} a_j − Σ_{j missing} a_j.
 */
function solveCentring(b: Float64Array, degree: Float64Array, keep: Uint8Array, K: number): Float64Array {
  const missing: [number, number][] = [];
  forAllPairs(K, (p, i, j) => {
    if (!keep[p]) missing.push([i, j]);
  });
  const apply = (a: Float64Array, out: Float64Array) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[k];
    for (let k = 0; k < K; k++) out[k] = (2 + degree[k]) * a[k] + (s - a[k]);
    for (const [i, j] of missing) {
      out[i] -= a[j];
      out[j] -= a[i];
    }
  };
  return conjugateGradient(apply, b, (r, z) => {
    for (let k = 0; k < K; k++) z[k] = r[k] / (2 + degree[k]);
  });
}

/** rsatoolbox's slow path: cos = xᵀV⁻¹y / √(xᵀV⁻¹x · yᵀV⁻¹y), V = (CΣCᵀ)∘(CΣCᵀ) restricted to kept pairs. */
function vWeightedCosine(x: Float64Array, y: Float64Array, keep: Uint8Array | null, K: number, S: Float64Array): number {
  const n = x.length;
  const Lz = new Float64Array(K * K);
  const T = new Float64Array(K * K);
  const A = new Float64Array(K * K);
  const apply = (z: Float64Array, out: Float64Array) => {
    Lz.fill(0);
    forPairs(keep, K, (p, i, j) => {
      const w = z[p];
      Lz[i * K + i] += w;
      Lz[j * K + j] += w;
      Lz[i * K + j] -= w;
      Lz[j * K + i] -= w;
    });
    matmul(S, Lz, T, K);
    matmul(T, S, A, K);
    forPairs(keep, K, (p, i, j) => {
      out[p] = A[i * K + i] + A[j * K + j] - 2 * A[i * K + j];
    });
  };
  const vx = conjugateGradient(apply, x, null);
  const vy = conjugateGradient(apply, y, null);
  let xy = 0, xx = 0, yy = 0;
  for (let p = 0; p < n; p++) {
    xy += x[p] * vy[p];
    xx += x[p] * vx[p];
    yy += y[p] * vy[p];
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx) / Math.sqrt(yy) : 0;
}

/** Visit kept pairs: p counts kept pairs only (the index into compacted vectors). */
function forPairs(keep: Uint8Array | null, K: number, f: (p: number, i: number, j: number) => void): void {
  let p = 0, q = 0;
  for (let i = 0; i < K; i++) {
    for (let j = i + 1; j < K; j++, q++) {
      if (keep && !keep[q]) continue;
      f(p++, i, j);
    }
  }
}

function forAllPairs(K: number, f: (p: number, i: number, j: number) => void): void {
  forPairs(null, K, f);
}

function matmul(A: Float64Array, B: Float64Array, out: Float64Array, K: number): void {
  out.fill(0);
  for (let i = 0; i < K; i++) {
    for (let k = 0; k < K; k++) {
      const a = A[i * K + k];
      if (a === 0) continue;
      for (let j = 0; j < K; j++) out[i * K + j] += a * B[k * K + j];
    }
  }
}

/** Conjugate gradients for a symmetric positive-definite operator, to a relative residual of 1e-12. */
function conjugateGradient(
  apply: (x: Float64Array, out: Float64Array) => void,
  b: Float64Array,
  precondition: ((r: Float64Array, z: Float64Array) => void) | null,
): Float64Array {
  const n = b.length;
  const x = new Float64Array(n), r = Float64Array.from(b), z = new Float64Array(n), p = new Float64Array(n), Ap = new Float64Array(n);
  const pre = precondition ?? ((r: Float64Array, z: Float64Array) => z.set(r));
  let bNorm = 0;
  for (let i = 0; i < n; i++) bNorm += b[i] * b[i];
  if (bNorm === 0) return x;
  pre(r, z);
  p.set(z);
  let rz = 0;
  for (let i = 0; i < n; i++) rz += r[i] * z[i];
  for (let it = 0; it < 10 * n + 100; it++) {
    apply(p, Ap);
    let pAp = 0;
    for (let i = 0; i < n; i++) pAp += p[i] * Ap[i];
    const alpha = rz / pAp;
    let rr = 0;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * Ap[i];
      rr += r[i] * r[i];
    }
    if (rr <= 1e-24 * bNorm) break;
    pre(r, z);
    let rzNew = 0;
    for (let i = 0; i < n; i++) rzNew += r[i] * z[i];
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
  }
  return x;
}
