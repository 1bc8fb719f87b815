// Dynamical Similarity Analysis (Ostrow, Eisen, Kozachkov & Fiete 2023): fit a Hankel DMD operator to
// each system, then compare the operators up to an orthogonal change of basis — Procrustes over vector
// fields, min over orthogonal C of ‖Â − C B̂ Cᵀ‖_F, Â and B̂ scaled to unit Frobenius norm first (as the
// DSA package's SimilarityTransformDist does). As there, C is the Cayley transform of a skew-symmetric
// matrix, optimised by Adam (200 steps, lr 0.01); the gradient is written out here. The Cayley map
// reaches only rotations and none with an eigenvalue −1, so we start it from several base points
// C = C₀·cay(S): the identity, a row swap (the package's second run, the reflections), the best diagonal
// ±1 matrix and seeded random orthogonal matrices; keep the best, refine it at lr/10, and re-centre the
// chart whenever S grows.
import { inverse, Matrix } from "ml-matrix";
import { matMul } from "../engine/linalg.js";
import { Rng } from "../engine/random.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { hankelDmd, type Trajectories } from "./hankel-dmd.js";

/** The score of DSA: the angle arccos⟨Â, CB̂Cᵀ⟩ (radians, default) or the distance ‖Â − CB̂Cᵀ‖_F. */
export type DsaScore = "angular" | "euclidean";

/** Options of `similarityTransformDist`. */
export interface SimilarityTransformOptions {
  /** Adam steps per start (default 200, as the DSA package). */
  iterations?: number;
  /** Adam learning rate (default 0.01, as the DSA package). */
  lr?: number;
  /** Starts: identity, row swap, the best sign flip, then random orthogonal bases (default 8). */
  restarts?: number;
  /** Seed of the random starts (default 0). */
  seed?: number;
  /** "angular" (default) or "euclidean". */
  score?: DsaScore;
}

/** Options of `dsa`: the DMD's and the similarity transform's. */
export interface DsaOptions extends SimilarityTransformOptions {
  /** Delays of the Hankel embedding (default 1). */
  delays?: number;
  /** Rank of the DMD (default: full). */
  rank?: number;
  /** Ridge term of the DMD (default 1e-8). */
  lambda?: number;
}

const ST_OPTIONS = optionNames<SimilarityTransformOptions>({ iterations: true, lr: true, restarts: true, seed: true, score: true });
const DSA_OPTIONS = optionNames<DsaOptions>({ iterations: true, lr: true, restarts: true, seed: true, score: true, delays: true, rank: true, lambda: true });

/** The optimum found: the score, the orthogonal C (row-major n × n) and ‖Â − CB̂Cᵀ‖²_F. */
export interface SimilarityTransformResult {
  score: number;
  C: Float64Array;
  loss: number;
}

const invert = (X: Float64Array, n: number) =>
  Float64Array.from(inverse(new Matrix(Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * n, (i + 1) * n))))).to1DArray());
const mm = (X: Float64Array, Y: Float64Array, n: number, tX = false, tY = false) => matMul(X, Y, n, n, n, tX, tY);

/**
 * The Cayley map C = C₀ (I + S)⁻¹ (I − S), S = W − Wᵀ, and the loss L = ‖A − CBCᵀ‖²_F with its gradient
 * in W: G_C = −2(E C Bᵀ + Eᵀ C B), E = A − CBCᵀ; G_K = C₀ᵀ G_C; G_S = −(I+S)⁻ᵀ G_K (K + I)ᵀ; G_W = G_S − G_Sᵀ.
 * @example
 * const { loss, grad } = fl.cayleyLoss(W, C0, A, B, n);
 */
export function cayleyLoss(W: Float64Array, C0: Float64Array, A: Float64Array, B: Float64Array, n: number): { loss: number; grad: Float64Array; C: Float64Array } {
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = W[i * n + j] - W[j * n + i];
  const M = Float64Array.from(S);
  const IminusS = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) IminusS[i] = -S[i];
  for (let i = 0; i < n; i++) {
    M[i * n + i] += 1;
    IminusS[i * n + i] += 1;
  }
  const Minv = invert(M, n);
  const K = mm(Minv, IminusS, n);
  const C = mm(C0, K, n);
  const CB = mm(C, B, n);
  const E = mm(CB, C, n, false, true);
  let loss = 0;
  for (let i = 0; i < n * n; i++) {
    E[i] = A[i] - E[i];
    loss += E[i] * E[i];
  }
  const ECBt = mm(mm(E, C, n), B, n, false, true);
  const EtCB = mm(E, CB, n, true, false);
  const GC = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) GC[i] = -2 * (ECBt[i] + EtCB[i]);
  const GK = mm(C0, GC, n, true, false);
  const KI = Float64Array.from(K);
  for (let i = 0; i < n; i++) KI[i * n + i] += 1;
  const GS = mm(mm(Minv, GK, n, true, false), KI, n, false, true);
  const grad = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) grad[i * n + j] = -(GS[i * n + j] - GS[j * n + i]);
  return { loss, grad, C };
}

/** A Haar-random orthogonal matrix: Gram–Schmidt on Gaussian columns. */
function randomOrthogonal(n: number, rng: Rng): Float64Array {
  const Q = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i] * Q[i * n + p];
      for (let i = 0; i < n; i++) v[i] -= dot * Q[i * n + p];
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) Q[i * n + c] = v[i] / norm;
  }
  return Q;
}

/**
 * The diagonal ±1 matrix D that best aligns B to A (‖A − DBD‖, greedy flips): the same dynamics observed
 * through an orthogonal map give the same SVD time courses up to their signs, so the DMD operators
 * differ by such a D — and the Cayley chart reaches a D with two −1s only by crossing a ridge.
 */
function signStart(A: Float64Array, B: Float64Array, n: number): Float64Array {
  const d = new Float64Array(n).fill(1);
  const loss = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += (A[i * n + j] - d[i] * d[j] * B[i * n + j]) ** 2;
    return s;
  };
  let current = loss();
  for (let sweep = 0, changed = true; changed && sweep < n; sweep++) {
    changed = false;
    for (let i = 0; i < n; i++) {
      d[i] = -d[i];
      const l = loss();
      if (l < current - 1e-15) {
        current = l;
        changed = true;
      } else d[i] = -d[i];
    }
  }
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) D[i * n + i] = d[i];
  return D;
}

function adam(C0: Float64Array, A: Float64Array, B: Float64Array, n: number, iterations: number, lr: number) {
  const W = new Float64Array(n * n), m = new Float64Array(n * n), v = new Float64Array(n * n);
  let base = C0;
  const b1 = 0.9, b2 = 0.999, eps = 1e-8; // torch.optim.Adam's defaults
  for (let t = 1; t <= iterations; t++) {
    // Re-centre the chart when S grows: the Cayley map flattens far from its centre (it never reaches an
    // eigenvalue −1), so C = base·cay(S) becomes the new base and S restarts at 0; Adam's moments carry over
    // (the tangent spaces at nearby points are nearly the same).
    let far = 0;
    for (const w of W) far = Math.max(far, Math.abs(w));
    if (far > RECENTRE) {
      base = cayleyLoss(W, base, A, B, n).C;
      W.fill(0);
    }
    const { grad } = cayleyLoss(W, base, A, B, n);
    const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
    for (let i = 0; i < n * n; i++) {
      m[i] = b1 * m[i] + (1 - b1) * grad[i];
      v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i];
      W[i] -= (lr * m[i]) / c1 / (Math.sqrt(v[i] / c2) + eps);
    }
  }
  return cayleyLoss(W, base, A, B, n);
}

const RECENTRE = 0.5;

function unitNorm(X: ArrayLike<number>, n: number, what: string): Float64Array {
  if (X.length !== n * n) throw new InputError(undefined, `similarityTransformDist: ${what} has ${X.length} entries, expected ${n} × ${n}`);
  const out = Float64Array.from(X);
  const norm = Math.hypot(...out);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new InputError(undefined, `similarityTransformDist: ${what} (${n} × ${n}) is zero or not finite`);
  for (let i = 0; i < out.length; i++) out[i] /= norm;
  return out;
}

/**
 * Procrustes over vector fields between two n × n operators (row-major): Â, B̂ scaled to unit Frobenius
 * norm, C orthogonal found by Adam on its Cayley parameters, score "angular" (arccos tr(ÂᵀCB̂Cᵀ), radians)
 * or "euclidean" (‖Â − CB̂Cᵀ‖_F) — the DSA package's SimilarityTransformDist.
 * @example
 * const { score, C } = fl.similarityTransformDist(dmdX.A, dmdY.A, dmdX.rank);
 */
export function similarityTransformDist(A: ArrayLike<number>, B: ArrayLike<number>, n: number, opts: SimilarityTransformOptions = {}): SimilarityTransformResult {
  rejectUnknownOptions("similarityTransformDist", opts, ST_OPTIONS);
  const { iterations = 200, lr = 0.01, restarts = 8, seed = 0, score = "angular" } = opts;
  if (!Number.isInteger(n) || n < 1) throw new InputError(undefined, `similarityTransformDist: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(iterations) || iterations < 0) throw new InputError(undefined, `similarityTransformDist: iterations must be an integer ≥ 0, got ${iterations}`);
  if (!(lr > 0)) throw new InputError(undefined, `similarityTransformDist: lr must be > 0, got ${lr}`);
  if (!Number.isInteger(restarts) || restarts < 1) throw new InputError(undefined, `similarityTransformDist: restarts must be an integer ≥ 1, got ${restarts}`);
  if (score !== "angular" && score !== "euclidean") throw new InputError(undefined, `similarityTransformDist: score must be "angular" or "euclidean", got ${JSON.stringify(score)}`);
  const a = unitNorm(A, n, "A"), b = unitNorm(B, n, "B");
  const rng = new Rng(seed);
  let best: { loss: number; C: Float64Array } | undefined;
  for (let r = 0; r < restarts; r++) {
    let C0: Float64Array;
    if (r === 2) C0 = signStart(a, b, n);
    else if (r === 0 || (r === 1 && n > 1)) {
      C0 = new Float64Array(n * n);
      for (let i = 0; i < n; i++) C0[i * n + i] = 1;
      if (r === 1) {
        // the swap of the first two basis vectors: determinant −1, the other component of O(n)
        C0[0] = C0[n + 1] = 0;
        C0[1] = C0[n] = 1;
      }
    } else C0 = randomOrthogonal(n, rng);
    const run = adam(C0, a, b, n, iterations, lr);
    if (!best || run.loss < best.loss) best = run;
  }
  // One more run from the best C at a tenth of the rate: Adam at a constant rate jitters about the
  // minimum by about lr, which for two equivalent systems leaves an angle of ~1e-3 instead of ~0.
  const refined = adam(best!.C, a, b, n, iterations, lr / 10);
  const { loss, C } = refined.loss < best!.loss ? refined : best!;
  if (score === "euclidean") return { score: Math.sqrt(loss), C, loss };
  // ‖Â‖ = ‖CB̂Cᵀ‖ = 1, so the inner product is 1 − L/2
  const cos = 1 - loss / 2;
  return { score: Math.acos(Math.min(1, Math.max(-1, cos))), C, loss };
}

/**
 * Dynamical Similarity Analysis between two systems' trajectories (time × dims or trials × time × dims):
 * a Hankel DMD of each (same delays and rank), then Procrustes over vector fields between the operators.
 * @example
 * const d = fl.dsa(trajX, trajY, { delays: 10, rank: 6 });  // angle in radians, 0 = same dynamics
 */
export function dsa(X: Trajectories, Y: Trajectories, opts: DsaOptions = {}): number {
  rejectUnknownOptions("dsa", opts, DSA_OPTIONS);
  const { delays, rank, lambda, ...st } = opts;
  const dmdOpts = Object.fromEntries(Object.entries({ delays, rank, lambda }).filter(([, v]) => v !== undefined));
  const dx = hankelDmd(X, dmdOpts), dy = hankelDmd(Y, dmdOpts);
  if (dx.rank !== dy.rank) throw new InputError(undefined, `dsa: the DMD ranks differ (${dx.rank} vs ${dy.rank}); give the same dims or a rank`);
  return similarityTransformDist(dx.A, dy.A, dx.rank, st).score;
}
