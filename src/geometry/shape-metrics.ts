// Shape metrics between two representations of the same stimuli (Williams, Kunz, Kornblith & Linderman
// 2021), with netrep's conventions so numbers carry over:
//  - linear (netrep's LinearMetric): centre the columns, zero-pad the narrower representation, partially
//    whiten each side (α = 1: none, Procrustes; α = 0: full, CCA; the variance trace(XᵀX) preserved),
//    then align by the best rotation and score the angle or the Euclidean distance between them;
//  - permutation (netrep's PermutationMetric): align by the best matching of units instead;
//  - Bures (Harvey, Lipshutz & Williams 2023): the normalised Bures similarity of the Gram matrices
//    XXᵀ and YYᵀ, NBS = F/√(tr·tr) with fidelity F = ‖XᵀY‖_* — the cosine of the α = 1 angular metric.
// Everything is computed in feature space: with X̃ = X·V in the eigenbasis of XᵀX and D the diagonal
// whitening, the aligned inner product is the nuclear norm of D_x·X̃ᵀỸ·D_y, so no n × n matrix is formed.
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { centred, flatRows, type Rows } from "./rows.js";
import { matMul, svd, symEig } from "../engine/linalg.js";
import { linearSumAssignment } from "./linear-assignment.js";

/** How an aligned pair is scored: the angle between them (radians, in [0, π]) or their Euclidean distance. */
export type ShapeScore = "angular" | "euclidean";

/** Options of `shapeDistance` (netrep's LinearMetric). */
export interface ShapeDistanceOptions {
  /** Regularisation in [0, 1]: 1 (default) allows rotations only (Procrustes), 0 any invertible linear map (CCA). */
  alpha?: number;
  /** "angular" (default) or "euclidean". */
  score?: ShapeScore;
  /** Subtract each column's mean first (default true, as netrep). */
  center_columns?: boolean;
  /** Pad the narrower representation with zero columns (default true, as netrep); false refuses different widths. */
  zero_pad?: boolean;
}

/** Options of `permutationDistance` (netrep's PermutationMetric). */
export interface PermutationDistanceOptions {
  /** "angular" (default) or "euclidean". */
  score?: ShapeScore;
  /** Subtract each column's mean first (default true, as netrep). */
  center_columns?: boolean;
  /** Pad the narrower representation with zero columns (default true, as netrep); false refuses different widths. */
  zero_pad?: boolean;
}

/** Options of `buresSimilarity`. */
export interface BuresSimilarityOptions {
  /** Centre the columns (for `gram`: double-centre the kernel, HKH) first (default true). */
  center_columns?: boolean;
  /** The inputs are n × n positive semi-definite Gram (kernel) matrices rather than n × p representations. */
  gram?: boolean;
}

/** Options of `buresDistance`. */
export interface BuresDistanceOptions extends BuresSimilarityOptions {
  /** "euclidean" (default): the Bures distance √(tr K_x + tr K_y − 2F); "angular": the Bures angle arccos(NBS). */
  score?: ShapeScore;
}

const SHAPE_OPTIONS = optionNames<ShapeDistanceOptions>({ alpha: true, score: true, center_columns: true, zero_pad: true });
const PERMUTATION_OPTIONS = optionNames<PermutationDistanceOptions>({ score: true, center_columns: true, zero_pad: true });
const BURES_SIMILARITY_OPTIONS = optionNames<BuresSimilarityOptions>({ center_columns: true, gram: true });
const BURES_DISTANCE_OPTIONS = optionNames<BuresDistanceOptions>({ center_columns: true, gram: true, score: true });

/** netrep's whiten clips the covariance eigenvalues at this value and skips whitening when α > 1 − it. */
const EIGVAL_TOL = 1e-7;

/** One representation, prepared once so a many-vs-many comparison reuses it. */
export class ShapeRep {
  readonly n: number;
  readonly p: number;
  /** The (centred) rows, n × p, row-major. */
  readonly x: Float64Array;
  /** ‖x‖²_F. */
  readonly sumSq: number;
  private basis?: { rotated: Float64Array; lam: Float64Array; colSq: Float64Array };

  constructor(x: Float64Array, n: number, p: number, readonly what: string) {
    this.n = n;
    this.p = p;
    this.x = x;
    let s = 0;
    for (const v of x) s += v * v;
    this.sumSq = s;
  }

  /** "n×p", for messages. */
  get shape(): string {
    return `${this.n}×${this.p}`;
  }

  /** X in the eigenbasis of XᵀX (X̃ = X·V), the eigenvalues clipped as netrep clips them, and ‖X̃_:,i‖². */
  eigenbasis(): { rotated: Float64Array; lam: Float64Array; colSq: Float64Array } {
    if (!this.basis) {
      const { n, p } = this;
      const { values, vectors } = symEig(matMul(this.x, this.x, p, n, p, true, false), p);
      // vectors holds the eigenvectors as rows, so X·V = X·vectorsᵀ.
      const rotated = matMul(this.x, vectors, n, p, p, false, true);
      const colSq = new Float64Array(p);
      for (let r = 0; r < n; r++) for (let i = 0; i < p; i++) colSq[i] += rotated[r * p + i] ** 2;
      this.basis = { rotated, lam: values.map((l) => Math.max(l, EIGVAL_TOL)), colSq };
    }
    return this.basis;
  }
}

/** Rows brought to float64, optionally with column means removed; `what` names the argument in messages. */
export function prepareRows(input: Rows, what: string, center: boolean): ShapeRep {
  const r = flatRows(input, what);
  if (r.rows < 1 || r.dim < 1) throw new InputError(undefined, `${what} is ${r.rows}×${r.dim}; it needs at least one row and one column`);
  return new ShapeRep(center ? centred(r) : Float64Array.from(r.values), r.rows, r.dim, what);
}

/** A feature map A of an n × n PSD Gram matrix K (K = AAᵀ, A = V·√Λ over the positive eigenvalues). */
function prepareGram(input: Rows, what: string, center: boolean): ShapeRep {
  const r = flatRows(input, what);
  const n = r.rows;
  if (r.dim !== n) throw new InputError(undefined, `${what} is ${n}×${r.dim}; a Gram matrix is square (n × n)`);
  let scale = 0;
  for (const v of r.values) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(r.values[i * n + j] - r.values[j * n + i]) > 1e-9 * scale) {
        throw new InputError(undefined, `${what}: the ${n}×${n} Gram matrix is not symmetric at (${i}, ${j}): ${r.values[i * n + j]} vs ${r.values[j * n + i]}`);
      }
    }
  }
  const { values, vectors } = symEig(r.values, n);
  const keep: number[] = [];
  values.forEach((l, c) => {
    if (l > 0) keep.push(c);
  });
  if (keep.length === 0) throw new InputError(undefined, `${what}: the ${n}×${n} Gram matrix has no positive eigenvalue`);
  if (values[0] < -1e-8 * values[n - 1]) {
    throw new InputError(undefined, `${what}: the ${n}×${n} Gram matrix is not positive semi-definite (eigenvalue ${values[0]}, largest ${values[n - 1]})`);
  }
  const k = keep.length;
  const a = new Float64Array(n * k);
  keep.forEach((c, t) => {
    const s = Math.sqrt(values[c]);
    for (let i = 0; i < n; i++) a[i * k + t] = vectors[c * n + i] * s;
  });
  // Centring the columns of A double-centres K: (HA)(HA)ᵀ = HKH.
  return prepareRows({ values: a, dim: k }, what, center);
}

function checkPair(x: ShapeRep, y: ShapeRep, fn: string, zeroPad: boolean): void {
  if (x.n !== y.n) throw new InputError(undefined, `${fn}: X is ${x.shape} and Y is ${y.shape}; both need the same rows (stimuli) in the same order`);
  if (!zeroPad && x.p !== y.p) throw new InputError(undefined, `${fn}: X is ${x.shape} and Y is ${y.shape}; with zero_pad false both need the same number of columns`);
}

function checkScore(score: unknown, fn: string): asserts score is ShapeScore {
  if (score !== "angular" && score !== "euclidean") throw new InputError(undefined, `${fn}: score must be "angular" or "euclidean", got ${JSON.stringify(score)}`);
}

/**
 * The diagonal of netrep's partial whitening in the eigenbasis (d_i = α + (1−α)/√λ_i, rescaled so the
 * whitened variance equals trace(XᵀX)) for a representation padded to m columns: the m − p padded
 * directions have eigenvalue 0, clipped to 1e-7, and count in the rescaling.
 */
function whitening(lam: Float64Array, alpha: number, m: number): Float64Array {
  const pad = m - lam.length;
  let sumLam = pad * EIGVAL_TOL, newVar = 0;
  const term = (l: number) => alpha * alpha * l + 2 * alpha * (1 - alpha) * Math.sqrt(l) + (1 - alpha) ** 2;
  for (const l of lam) {
    sumLam += l;
    newVar += term(l);
  }
  newVar += pad * term(EIGVAL_TOL);
  const s = Math.sqrt(sumLam / newVar);
  return lam.map((l) => (alpha + (1 - alpha) / Math.sqrt(l)) * s);
}

/** The pieces of an aligned pair: ‖X_w‖², ‖Y_w‖² and the aligned inner product ⟨X_w U, Y_w V⟩ = Σσ. */
interface Aligned {
  /** The widths of the two sides. */
  p: number;
  q: number;
  xx: number;
  yy: number;
  xy: number;
  /** The aligned representations restricted to the k = min(p, q) matched directions, built on demand. */
  explicit(): { a: Float64Array; b: Float64Array; k: number };
}

/** netrep's LinearMetric fit on (x, y): partial whitening, then the best rotation. */
export function linearAligned(x: ShapeRep, y: ShapeRep, alpha: number): Aligned {
  const n = x.n, p = x.p, q = y.p, m = Math.max(p, q);
  let xs: Float64Array, ys: Float64Array, dx: Float64Array, dy: Float64Array, xx: number, yy: number;
  if (alpha > 1 - EIGVAL_TOL) {
    xs = x.x;
    ys = y.x;
    dx = new Float64Array(p).fill(1);
    dy = new Float64Array(q).fill(1);
    xx = x.sumSq;
    yy = y.sumSq;
  } else {
    const ex = x.eigenbasis(), ey = y.eigenbasis();
    xs = ex.rotated;
    ys = ey.rotated;
    dx = whitening(ex.lam, alpha, m);
    dy = whitening(ey.lam, alpha, m);
    xx = 0;
    yy = 0;
    for (let i = 0; i < p; i++) xx += dx[i] * dx[i] * ex.colSq[i];
    for (let j = 0; j < q; j++) yy += dy[j] * dy[j] * ey.colSq[j];
  }
  const g = matMul(xs, ys, p, n, q, true, false);
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) g[i * q + j] *= dx[i] * dy[j];
  const { U, S, Vt, k } = svd(g, p, q);
  let xy = 0;
  for (const s of S) xy += s;
  return {
    p,
    q,
    xx,
    yy,
    xy,
    explicit() {
      // A = X̃·D_x·U, B = Ỹ·D_y·V: scale U's rows by D_x (and V's by D_y) first.
      const u = new Float64Array(p * k), v = new Float64Array(q * k);
      for (let i = 0; i < p; i++) for (let t = 0; t < k; t++) u[i * k + t] = U[i * k + t] * dx[i];
      for (let j = 0; j < q; j++) for (let t = 0; t < k; t++) v[j * k + t] = Vt[t * q + j] * dy[j];
      return { a: matMul(xs, u, n, p, k), b: matMul(ys, v, n, q, k), k };
    },
  };
}

/**
 * The score of an aligned pair. Near agreement, arccos(Σσ/‖X‖‖Y‖) and √(‖X‖² + ‖Y‖² − 2Σσ) lose half
 * their digits to cancellation, so the aligned matrices are then formed and differenced instead.
 */
export function scoreAligned(al: Aligned, score: ShapeScore, what: string): number {
  const { xx, yy, xy } = al;
  if (!(xx > 0) || !(yy > 0)) throw new InputError(undefined, `${what}: ${xx > 0 ? "Y" : "X"} is ${xx > 0 || yy > 0 ? "" : "also "}zero after centring (constant across rows); the distance is undefined`);
  const nx = Math.sqrt(xx), ny = Math.sqrt(yy);
  const cos = Math.min(1, Math.max(-1, xy / (nx * ny)));
  if (1 - cos > 1e-6) return score === "angular" ? Math.acos(cos) : Math.sqrt(Math.max(0, xx + yy - 2 * xy));
  const { a, b, k } = al.explicit();
  // The parts of X and Y outside the k matched directions (only when the widths differ) pair with nothing.
  let aa = 0, bb = 0, diff = 0;
  const wa = score === "angular" ? 1 / nx : 1, wb = score === "angular" ? 1 / ny : 1;
  for (let e = 0; e < a.length; e++) {
    aa += a[e] * a[e];
    bb += b[e] * b[e];
    diff += (a[e] * wa - b[e] * wb) ** 2;
  }
  const rest = (k < al.p ? Math.max(0, xx - aa) * wa * wa : 0) + (k < al.q ? Math.max(0, yy - bb) * wb * wb : 0);
  const d = Math.sqrt(diff + rest);
  return score === "angular" ? 2 * Math.asin(Math.min(1, d / 2)) : d;
}

function alphaOf(alpha: unknown, fn: string): number {
  if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1)) throw new InputError(undefined, `${fn}: alpha must be a number in [0, 1] (1 Procrustes, 0 CCA), got ${String(alpha)}`);
  return alpha;
}

/** Checks shapeDistance's options; returns them with netrep's defaults filled in. */
export function shapeSettings(opts: ShapeDistanceOptions, fn: string): Required<ShapeDistanceOptions> {
  const score = opts.score ?? "angular";
  checkScore(score, fn);
  return { alpha: alphaOf(opts.alpha ?? 1, fn), score, center_columns: opts.center_columns ?? true, zero_pad: opts.zero_pad ?? true };
}

/**
 * The shape distance between two representations of the same n stimuli (n × p and n × q: ActivationSets,
 * `{ values, dim }`, number[][] or 2-D tensors), as netrep's `LinearMetric(alpha).fit(X, Y).score(X, Y)`:
 * centre, zero-pad, partially whiten (α), rotate into best alignment, then the angle (radians) or the
 * Euclidean distance between them. A metric: symmetric, 0 for X = Y·Q (Q orthogonal), triangle inequality.
 * @example
 * const d = fl.shapeDistance(layer3, layer4);                         // angular Procrustes distance
 * const cca = fl.shapeDistance(layer3, layer4, { alpha: 0 });          // angular CCA distance
 */
export function shapeDistance(x: Rows, y: Rows, opts: ShapeDistanceOptions = {}): number {
  rejectUnknownOptions("shapeDistance", opts, SHAPE_OPTIONS);
  const s = shapeSettings(opts, "shapeDistance");
  const X = prepareRows(x, "shapeDistance: X", s.center_columns), Y = prepareRows(y, "shapeDistance: Y", s.center_columns);
  checkPair(X, Y, "shapeDistance", s.zero_pad);
  return scoreAligned(linearAligned(X, Y, s.alpha), s.score, "shapeDistance");
}

/** The pieces of netrep's PermutationMetric fit on (x, y): the best matching of units (columns). */
export function permutationAligned(x: ShapeRep, y: ShapeRep): Aligned {
  const n = x.n, p = x.p, q = y.p;
  // Zero-padded columns add zero rows or columns to XᵀY, which change neither the matching of the real units nor its value.
  const { rowInd, colInd, total } = linearSumAssignment({ values: matMul(x.x, y.x, p, n, q, true, false), rows: p, cols: q }, { maximize: true });
  const k = rowInd.length;
  return {
    p,
    q,
    xx: x.sumSq,
    yy: y.sumSq,
    xy: total,
    explicit() {
      const a = new Float64Array(n * k), b = new Float64Array(n * k);
      for (let r = 0; r < n; r++) {
        for (let t = 0; t < k; t++) {
          a[r * k + t] = x.x[r * p + rowInd[t]];
          b[r * k + t] = y.x[r * q + colInd[t]];
        }
      }
      return { a, b, k };
    },
  };
}

/**
 * The permutation distance between two representations of the same stimuli, as netrep's
 * `PermutationMetric().fit(X, Y).score(X, Y)`: centre, zero-pad, match the units of X to those of Y one
 * to one (the Hungarian algorithm, maximising Σ x_iᵀy_π(i)), then the angle or the Euclidean distance.
 * @example
 * const d = fl.permutationDistance(netA, netB, { score: "euclidean" });
 */
export function permutationDistance(x: Rows, y: Rows, opts: PermutationDistanceOptions = {}): number {
  rejectUnknownOptions("permutationDistance", opts, PERMUTATION_OPTIONS);
  const score = opts.score ?? "angular";
  checkScore(score, "permutationDistance");
  const center = opts.center_columns ?? true;
  const X = prepareRows(x, "permutationDistance: X", center), Y = prepareRows(y, "permutationDistance: Y", center);
  checkPair(X, Y, "permutationDistance", opts.zero_pad ?? true);
  return scoreAligned(permutationAligned(X, Y), score, "permutationDistance");
}

function buresPair(x: Rows, y: Rows, opts: BuresSimilarityOptions, fn: string): Aligned {
  const center = opts.center_columns ?? true;
  const prep = opts.gram ? prepareGram : prepareRows;
  const X = prep(x, `${fn}: X`, center), Y = prep(y, `${fn}: Y`, center);
  checkPair(X, Y, fn, true);
  return linearAligned(X, Y, 1);
}

/**
 * The normalised Bures similarity of the Gram matrices K_x = XXᵀ and K_y = YYᵀ (Harvey et al. 2023):
 * NBS = F(K_x, K_y)/√(tr K_x · tr K_y), fidelity F = tr (K_x^½ K_y K_x^½)^½ = ‖XᵀY‖_*; in [0, 1],
 * 1 when Y = X·Q (Q orthogonal, any scale). arccos(NBS) is the α = 1 angular shape distance.
 * @example
 * fl.buresSimilarity(layer3, layer4);
 * fl.buresSimilarity(K1, K2, { gram: true });                 // precomputed n × n kernels
 */
export function buresSimilarity(x: Rows, y: Rows, opts: BuresSimilarityOptions = {}): number {
  rejectUnknownOptions("buresSimilarity", opts, BURES_SIMILARITY_OPTIONS);
  const al = buresPair(x, y, opts, "buresSimilarity");
  if (!(al.xx > 0) || !(al.yy > 0)) throw new InputError(undefined, `buresSimilarity: ${al.xx > 0 ? "Y" : "X"} is zero after centring; the similarity is undefined`);
  return Math.min(1, al.xy / Math.sqrt(al.xx * al.yy));
}

/**
 * The Bures distance between the Gram matrices XXᵀ and YYᵀ: √(tr K_x + tr K_y − 2F) (default; the
 * Euclidean Procrustes distance, netrep's sq_bures_metric rooted), or with `score: "angular"` the Bures
 * angle arccos(NBS).
 * @example
 * fl.buresDistance(layer3, layer4);
 * fl.buresDistance(layer3, layer4, { score: "angular" });     // = Math.acos(fl.buresSimilarity(layer3, layer4))
 */
export function buresDistance(x: Rows, y: Rows, opts: BuresDistanceOptions = {}): number {
  rejectUnknownOptions("buresDistance", opts, BURES_DISTANCE_OPTIONS);
  const score = opts.score ?? "euclidean";
  checkScore(score, "buresDistance");
  return scoreAligned(buresPair(x, y, opts, "buresDistance"), score, "buresDistance");
}
