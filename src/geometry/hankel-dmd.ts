// Hankel (HAVOK) dynamic mode decomposition, the first step of Dynamical Similarity Analysis
// (Ostrow et al. 2023), computed as the DSA package's DMD class does by default (principal component
// regression): delay-embed each trial, H row t = [x_{t+d−1}, …, x_{t+1}, x_t]; take the thin SVD
// Hᵀ = U S Vᵀ; keep the first `rank` columns of V (the time courses, whitened); and fit
// V₊ ≈ V₋ A_vᵀ by ridge least squares, A_v = ((V₋ᵀV₋ + λI)⁻¹ V₋ᵀV₊)ᵀ, V₋/V₊ the rows of V without each
// trial's last/first step. A_v is the operator DSA compares; its eigenvalues are the DMD eigenvalues.
import { inverse, Matrix } from "ml-matrix";
import { eigenvalues, matMul, svd } from "../engine/linalg.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Trajectories: one trial as time × dims, or a batch as trials × time × dims. */
export type Trajectories = readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[];

/** Options of `hankelDmd`. */
export interface HankelDmdOptions {
  /** Number of delays (lags) in the embedding, ≥ 1 (default 1: plain DMD). */
  delays?: number;
  /** Columns of V kept (default: all, delays × dims or fewer when there are fewer time points). */
  rank?: number;
  /** Ridge term λ of the least squares (default 1e-8, as the DSA package). */
  lambda?: number;
}

const DMD_OPTIONS = optionNames<HankelDmdOptions>({ delays: true, rank: true, lambda: true });

/** A fitted Hankel DMD: the rank × rank operator in the reduced coordinates and its eigenvalues. */
export interface HankelDmd {
  /** The operator, row-major rank × rank: v_{t+1} ≈ A v_t. */
  A: Float64Array;
  /** Its eigenvalues (complex pairs adjacent). */
  eigenvalues: { re: Float64Array; im: Float64Array };
  rank: number;
  delays: number;
}

/** The trials as a flat list of time × dims blocks, checked for a common shape. */
function trialsOf(data: Trajectories, fn: string): { trials: Float64Array[]; time: number; dims: number } {
  if (!Array.isArray(data) || data.length === 0) throw new InputError(undefined, `${fn}: trajectories must be a non-empty time × dims or trials × time × dims array`);
  const batch = Array.isArray(data[0]) && Array.isArray((data[0] as unknown[])[0]);
  const list = (batch ? data : [data]) as readonly (readonly (readonly number[])[])[];
  const time = list[0].length;
  const dims = Array.isArray(list[0][0]) ? list[0][0].length : 0;
  if (time < 2 || dims < 1) throw new InputError(undefined, `${fn}: each trial needs at least 2 time points of ≥ 1 dims, got ${time} × ${dims}`);
  const trials = list.map((trial, k) => {
    if (!Array.isArray(trial) || trial.length !== time) throw new InputError(undefined, `${fn}: trial ${k} has ${trial?.length} time points, trial 0 has ${time}`);
    const out = new Float64Array(time * dims);
    trial.forEach((row, t) => {
      if (!Array.isArray(row) || row.length !== dims) throw new InputError(undefined, `${fn}: trial ${k} time ${t} has ${row?.length} dims, expected ${dims} (shape ${list.length} × ${time} × ${dims})`);
      for (let j = 0; j < dims; j++) {
        const v = Number(row[j]);
        if (!Number.isFinite(v)) throw new InputError(undefined, `${fn}: trial ${k} time ${t} dim ${j} is not a finite number`);
        out[t * dims + j] = v;
      }
    });
    return out;
  });
  return { trials, time, dims };
}

/**
 * Fits a Hankel DMD to one trajectory (time × dims) or a batch of trials (trials × time × dims):
 * `delays` lags, `rank` columns of the SVD, A_v by ridge least squares (λ = 1e-8), as the DSA
 * package's DMD class does with its defaults.
 * @example
 * const dmd = fl.hankelDmd(trajectory, { delays: 5, rank: 4 });  // dmd.A (4 × 4), dmd.eigenvalues
 */
export function hankelDmd(trajectories: Trajectories, opts: HankelDmdOptions = {}): HankelDmd {
  rejectUnknownOptions("hankelDmd", opts, DMD_OPTIONS);
  const { trials, time, dims } = trialsOf(trajectories, "hankelDmd");
  const delays = opts.delays ?? 1;
  const lambda = opts.lambda ?? 1e-8;
  if (!Number.isInteger(delays) || delays < 1) throw new InputError(undefined, `hankelDmd: delays must be an integer ≥ 1, got ${delays}`);
  if (!(lambda >= 0)) throw new InputError(undefined, `hankelDmd: lambda must be ≥ 0, got ${lambda}`);
  const steps = time - delays + 1;
  if (steps < 2) throw new InputError(undefined, `hankelDmd: ${delays} delays need more than ${time} time points (trials × time × dims = ${trials.length} × ${time} × ${dims})`);
  const width = delays * dims;
  const rows = trials.length * steps;
  // H: rows = (trial, t), columns = delay blocks, the latest sample first (the package's order)
  const H = new Float64Array(rows * width);
  trials.forEach((x, k) => {
    for (let t = 0; t < steps; t++) {
      const o = (k * steps + t) * width;
      for (let d = 0; d < delays; d++) for (let j = 0; j < dims; j++) H[o + d * dims + j] = x[(t + delays - 1 - d) * dims + j];
    }
  });
  // The V of Hᵀ = U S Vᵀ is the U of H (rows × k)
  const { U, k } = svd(H, rows, width);
  if (trials.length > 1 && k < width) throw new InputError(undefined, `hankelDmd: ${trials.length} trials of ${steps} embedded steps give fewer rows (${rows}) than Hankel columns (${width}); use fewer delays`);
  const rank = opts.rank ?? k;
  if (!Number.isInteger(rank) || rank < 1 || rank > k) throw new InputError(undefined, `hankelDmd: rank must be an integer in 1…${k} for a ${rows} × ${width} Hankel matrix, got ${rank}`);
  const pairs = trials.length * (steps - 1);
  const Vm = new Float64Array(pairs * rank), Vp = new Float64Array(pairs * rank);
  let p = 0;
  for (let kk = 0; kk < trials.length; kk++) {
    for (let t = 0; t + 1 < steps; t++, p++) {
      const a = (kk * steps + t) * k, b = a + k;
      for (let c = 0; c < rank; c++) {
        Vm[p * rank + c] = U[a + c];
        Vp[p * rank + c] = U[b + c];
      }
    }
  }
  const G = matMul(Vm, Vm, rank, pairs, rank, true, false);
  for (let i = 0; i < rank; i++) G[i * rank + i] += lambda;
  const cross = matMul(Vm, Vp, rank, pairs, rank, true, false);
  const Ginv = Float64Array.from(inverse(new Matrix(Array.from({ length: rank }, (_, i) => Array.from(G.subarray(i * rank, (i + 1) * rank))))).to1DArray());
  const At = matMul(Ginv, cross, rank, rank, rank);
  const A = new Float64Array(rank * rank);
  for (let i = 0; i < rank; i++) for (let j = 0; j < rank; j++) A[i * rank + j] = At[j * rank + i];
  return { A, eigenvalues: eigenvalues(A, rank), rank, delays };
}
