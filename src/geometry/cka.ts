// Centred kernel alignment (Kornblith et al. 2019) between two representations of the same rows:
// CKA(K, L) = HSIC(K, L) / √(HSIC(K, K)·HSIC(L, L)), HSIC(K, L) = tr(KHLH)/(n−1)², H = I − 11ᵀ/n.
//  - linear: K = XXᵀ, so CKA = ‖YᵀX‖²_F / (‖XᵀX‖_F·‖YᵀY‖_F) on column-centred X, Y — computed in
//    feature space (d×d products) when that is cheaper than the n×n Gram matrices;
//  - rbf: K_ij = exp(−‖x_i − x_j‖²/(2σ²)), σ = τ·√median(‖x_i − x_j‖²) over all n² pairs (as the
//    reference code of Kornblith et al. takes it, diagonal included);
//  - debiased: HSIC by the U-statistic of Song et al. (2012), as Nguyen et al. (2021) use it; an
//    unbiased estimate, so it can be negative for unrelated representations.
// Products run on tfjs (float32, transposes made explicit); sums are accumulated in float64.
import { tf, ensureEngine } from "../engine/backend.js";
import { centred, flatRows, type Rows } from "./rows.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** CKA's kernel: linear, or RBF with σ a fraction of the median distance. */
export type CkaKind = "linear" | "rbf";

const MAX_GRAM_ROWS = 8192;

/** Options of `cka` and `ckaMatrix`. */
export interface CkaOptions {
  /** "linear" (default) or "rbf". */
  kind?: CkaKind;
  /** Unbiased HSIC (U-statistic) instead of the biased tr(KHLH)/(n−1)² (default false). */
  debiased?: boolean;
  /** RBF width as a fraction of the median distance, σ = τ·median (default 1). */
  tau?: number;
}

const CKA_OPTIONS = optionNames<CkaOptions>({ kind: true, debiased: true, tau: true });

/** One representation, prepared once so a many-vs-many comparison reuses it. */
class Prepared {
  readonly n: number;
  readonly dim: number;
  readonly x: Float64Array;
  private selfLinear?: number;
  private rowSq?: Float64Array;
  private grams = new Map<string, Float32Array>();

  constructor(input: Rows, what: string) {
    const r = flatRows(input, `CKA: ${what}`);
    if (r.rows < 2) throw new Error(`featurelab: CKA: ${what} has ${r.rows} rows; it needs at least 2`);
    this.n = r.rows;
    this.dim = r.dim;
    this.x = centred(r);
    let ss = 0;
    for (const v of this.x) ss += v * v;
    if (!(ss > 0)) throw new Error(`featurelab: CKA: ${what} is constant across rows; CKA is undefined`);
  }

  tensor(): tf.Tensor2D {
    return tf.tensor2d(Float32Array.from(this.x), [this.n, this.dim]);
  }

  /** Squared norm of each centred row (for the debiased linear form). */
  rowNorms(): Float64Array {
    if (!this.rowSq) {
      this.rowSq = new Float64Array(this.n);
      for (let i = 0; i < this.n; i++) {
        let s = 0;
        for (let j = 0; j < this.dim; j++) s += this.x[i * this.dim + j] ** 2;
        this.rowSq[i] = s;
      }
    }
    return this.rowSq;
  }

  /** ‖XᵀX‖²_F. */
  linearSelf(): number {
    this.selfLinear ??= crossFrobenius2(this, this);
    return this.selfLinear;
  }

  /** The n×n kernel matrix: "linear" (XXᵀ) or "rbf:τ". */
  gram(key: string): Float32Array {
    let g = this.grams.get(key);
    if (!g) {
      g = key === "linear" ? linearGram(this) : rbfGram(this, Number(key.slice(4)));
      this.grams.set(key, g);
    }
    return g;
  }
}

/** ‖XᵀY‖²_F on the centred representations (feature space). */
function crossFrobenius2(a: Prepared, b: Prepared): number {
  const prod = tf.tidy(() => {
    const A = a.tensor();
    const B = a === b ? A : b.tensor();
    return tf.matMul(tf.transpose(A), B);
  });
  const v = prod.dataSync();
  prod.dispose();
  let s = 0;
  for (const e of v) s += e * e;
  return s;
}

function linearGram(p: Prepared): Float32Array {
  const g = tf.tidy(() => {
    const X = p.tensor();
    return tf.matMul(X, tf.transpose(X));
  });
  const out = g.dataSync() as Float32Array;
  g.dispose();
  return out;
}

function rbfGram(p: Prepared, tau: number): Float32Array {
  const { n } = p;
  const k = linearGram(p);
  // Squared distances from the Gram matrix of the centred rows.
  const diag = Float64Array.from({ length: n }, (_, i) => k[i * n + i]);
  const upper = new Float32Array((n * (n - 1)) / 2);
  let q = 0;
  for (let i = 0; i < n; i++) {
    k[i * n + i] = 0;
    for (let j = i + 1; j < n; j++) {
      const d2 = Math.max(diag[i] + diag[j] - 2 * k[i * n + j], 0);
      k[i * n + j] = k[j * n + i] = d2;
      upper[q++] = d2;
    }
  }
  const med = medianWithDiagonal(upper, n);
  if (!(med > 0)) throw new Error("featurelab: CKA rbf: the median distance is 0 (most rows coincide); the kernel width is undefined");
  const scale = -1 / (2 * tau * tau * med);
  for (let e = 0; e < k.length; e++) k[e] = Math.exp(k[e] * scale);
  return k;
}

/**
 * numpy's median of the full n×n squared-distance matrix: n zeros on the diagonal and every
 * off-diagonal value twice — found from the sorted upper triangle alone.
 */
function medianWithDiagonal(upper: Float32Array, n: number): number {
  upper.sort();
  const total = n * n;
  const at = (p: number) => (p < n ? 0 : upper[Math.floor((p - n) / 2)]);
  return total % 2 === 1 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
}

/**
 * ⟨centre(K), centre(L)⟩_F: biased centring HKH, or the U-centring whose inner product is
 * n(n−3) times Song et al.'s unbiased HSIC (the factor cancels in CKA).
 */
function centredInner(K: Float32Array, L: Float32Array, n: number, debiased: boolean): number {
  const mk = centringMeans(K, n, debiased);
  const ml = K === L ? mk : centringMeans(L, n, debiased);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const ki = mk[i], li = ml[i];
    for (let j = 0; j < n; j++) {
      if (debiased && i === j) continue;
      s += (K[i * n + j] - ki - mk[j]) * (L[i * n + j] - li - ml[j]);
    }
  }
  return s;
}

/** The m with centre(K)_ij = K_ij − m_i − m_j (off the diagonal when debiased). */
function centringMeans(K: Float32Array, n: number, debiased: boolean): Float64Array {
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) if (!debiased || i !== j) s += K[i * n + j];
    m[i] = s;
  }
  let total = 0;
  for (const v of m) total += v;
  if (debiased) {
    for (let i = 0; i < n; i++) m[i] = m[i] / (n - 2) - total / (n - 2) / (2 * (n - 1));
  } else {
    for (let i = 0; i < n; i++) m[i] = m[i] / n - total / (n * n) / 2;
  }
  return m;
}

/** Kornblith et al.'s debiased dot-product similarity from feature-space quantities. */
function debiasedDot(xty: number, rx: Float64Array, ry: Float64Array, n: number): number {
  let rxy = 0, sx = 0, sy = 0;
  for (let i = 0; i < n; i++) {
    rxy += rx[i] * ry[i];
    sx += rx[i];
    sy += ry[i];
  }
  return xty - (n / (n - 2)) * rxy + (sx * sy) / ((n - 1) * (n - 2));
}

function ckaPrepared(a: Prepared, b: Prepared, opts: CkaOptions): number {
  const kind = opts.kind ?? "linear";
  const debiased = opts.debiased ?? false;
  const tau = opts.tau ?? 1;
  if (kind !== "linear" && kind !== "rbf") throw new Error(`featurelab: CKA kind must be "linear" or "rbf", got ${JSON.stringify(kind)}`);
  if (!(tau > 0)) throw new Error(`featurelab: CKA tau must be positive, got ${tau}`);
  if (a.n !== b.n) throw new Error(`featurelab: CKA compares two representations of the same rows; got ${a.n} and ${b.n} rows`);
  const n = a.n;
  if (debiased && n < 4) throw new Error(`featurelab: debiased CKA needs at least 4 rows, got ${n}`);
  ensureEngine();
  // Feature space costs n·(dx² + dy² + dx·dy); the Gram matrices n²·(dx + dy).
  if (kind === "linear" && a.dim * a.dim + b.dim * b.dim + a.dim * b.dim <= n * (a.dim + b.dim)) {
    const xty = crossFrobenius2(a, b);
    const xtx = a.linearSelf();
    const yty = b.linearSelf();
    if (!debiased) return xty / Math.sqrt(xtx * yty);
    const rx = a.rowNorms(), ry = b.rowNorms();
    return debiasedDot(xty, rx, ry, n) / Math.sqrt(debiasedDot(xtx, rx, rx, n) * debiasedDot(yty, ry, ry, n));
  }
  // Two n×n float32 Gram matrices: 268 MB each at 8 192 rows.
  if (n > MAX_GRAM_ROWS) {
    throw new Error(`featurelab: ${kind} CKA of ${n} rows needs two ${n}×${n} Gram matrices; take the same subset of at most ${MAX_GRAM_ROWS} rows from both (e.g. x.take(idx), y.take(idx))`);
  }
  const key = kind === "linear" ? "linear" : `rbf:${tau}`;
  const K = a.gram(key), L = b.gram(key);
  return centredInner(K, L, n, debiased) / Math.sqrt(centredInner(K, K, n, debiased) * centredInner(L, L, n, debiased));
}

/**
 * CKA between two representations of the same rows (ActivationSets, `{ values, dim }`, number[][]
 * or 2-D tensors; the dimensions may differ). 1 for identical representations; linear CKA is
 * invariant to orthogonal transforms and isotropic scaling of either side.
 * @example
 * const sim = fl.cka(layer0, layer1);                          // ActivationSets of the same rows
 * const rbf = fl.cka(layer0, layer1, { kind: "rbf", debiased: true });
 */
export function cka(x: Rows, y: Rows, opts: CkaOptions = {}): number {
  rejectUnknownOptions("cka", opts, CKA_OPTIONS);
  return ckaPrepared(new Prepared(x, "X"), new Prepared(y, "Y"), opts);
}

/**
 * Linear CKA (feature-space form).
 * @example
 * fl.ckaLinear(layer0, layer1, { debiased: true });
 */
export function ckaLinear(x: Rows, y: Rows, opts: { debiased?: boolean } = {}): number {
  rejectUnknownOptions("ckaLinear", opts, optionNames<typeof opts>({ debiased: true }));
  return cka(x, y, { ...opts, kind: "linear" });
}

/**
 * RBF-kernel CKA with σ = τ·median distance.
 * @example
 * fl.ckaRbf(layer0, layer1, { tau: 0.5 });
 */
export function ckaRbf(x: Rows, y: Rows, opts: { tau?: number; debiased?: boolean } = {}): number {
  rejectUnknownOptions("ckaRbf", opts, optionNames<typeof opts>({ tau: true, debiased: true }));
  return cka(x, y, { ...opts, kind: "rbf" });
}

/** What `ckaMatrix` returns: CKA between every pair of representations. */
export interface CkaMatrix {
  /** Names of the representations, in order. */
  labels: string[];
  /** values[i][j] = CKA(representation i, representation j); symmetric, 1 on the diagonal (biased). */
  values: number[][];
  kind: CkaKind;
  debiased: boolean;
}

/**
 * CKA between every pair of representations of the same rows (e.g. the layers of a model).
 * @example
 * fl.show(fl.plot.cka(fl.ckaMatrix({ embed: l0, block0: l1, block1: l2 })));
 */
export function ckaMatrix(reps: Record<string, Rows> | Rows[], opts: CkaOptions = {}): CkaMatrix {
  rejectUnknownOptions("ckaMatrix", opts, CKA_OPTIONS);
  const entries: [string, Rows][] = Array.isArray(reps) ? reps.map((r, i) => [String(i), r]) : Object.entries(reps);
  if (entries.length < 1) throw new Error("featurelab: ckaMatrix needs at least one representation");
  const prepared = entries.map(([name, r]) => new Prepared(r, name));
  const k = prepared.length;
  const values = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) values[i][j] = values[j][i] = ckaPrepared(prepared[i], prepared[j], opts);
  }
  return { labels: entries.map(([name]) => name), values, kind: opts.kind ?? "linear", debiased: opts.debiased ?? false };
}
