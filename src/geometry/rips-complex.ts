// The Vietoris–Rips complex of a finite metric space, never materialised: a simplex is a number,
// its index in the combinatorial number system (vertices v_k > … > v_0 ↦ Σ C(v_i, i+1), the
// colexicographic rank, as ripser numbers them), and its diameter is the largest pairwise distance
// of its vertices. Cofacets are enumerated on demand from a dense distance matrix, so memory is the
// n × n matrix plus whatever the reduction keeps — no list of all triangles.
//
// Indices are doubles, exact while C(n, dim + 1) < 2^53 (n = 1,000 reaches dimension 4 comfortably).

/** A Rips complex up to a threshold: simplices of diameter ≤ threshold, indices up to `maxDim`. */
export class RipsComplex {
  readonly n: number;
  readonly dist: Float64Array;
  readonly threshold: number;
  /** binom[k][v] = C(v, k) for k ≤ maxDim + 1 and v ≤ n. */
  private readonly binom: Float64Array[];

  /** `dist` is the full symmetric n × n matrix, row-major; simplices go up to dimension `maxDim`. */
  constructor(dist: Float64Array, n: number, threshold: number, maxDim: number) {
    this.n = n;
    this.dist = dist;
    this.threshold = threshold;
    this.binom = [];
    for (let k = 0; k <= maxDim + 2; k++) {
      const row = new Float64Array(n + 1);
      for (let v = 0; v <= n; v++) row[v] = k === 0 ? 1 : v === 0 ? 0 : this.binom[k - 1][v - 1] + row[v - 1];
      this.binom.push(row);
    }
  }

  /** C(v, k). */
  choose(v: number, k: number): number {
    return this.binom[k][v];
  }

  /** Vertices of the `dim`-simplex `index`, largest first, written into `out`. */
  vertices(index: number, dim: number, out: Int32Array): void {
    let rest = index;
    let top = this.n - 1;
    for (let k = dim + 1; k >= 1; k--) {
      const row = this.binom[k];
      // The largest v ≤ top with C(v, k) ≤ rest (C(k − 1, k) = 0, so v ≥ k − 1).
      let lo = k - 1, hi = top;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (row[mid] <= rest) lo = mid;
        else hi = mid - 1;
      }
      out[dim + 1 - k] = lo;
      rest -= row[lo];
      top = lo - 1;
    }
  }

  /** Index of an edge i ≠ j. */
  edgeIndex(i: number, j: number): number {
    return i > j ? (i * (i - 1)) / 2 + j : (j * (j - 1)) / 2 + i;
  }
}

/**
 * Cofacets of one simplex, by decreasing index (ripser's order): `next()` moves to the next cofacet
 * within the threshold and sets `index` and `diameter`. With `topOnly`, only cofacets whose added
 * vertex is above all of the simplex's — each (dim + 1)-simplex is then met once over all dim-simplices.
 */
export class CofacetIterator {
  index = 0;
  diameter = 0;
  private readonly rc: RipsComplex;
  private readonly vs: Int32Array;
  private dim = 0;
  private simplexDiameter = 0;
  private topOnly = false;
  private v = 0;
  private k = 0;
  private pos = 0;
  private below = 0;
  private above = 0;

  constructor(rc: RipsComplex, maxDim: number) {
    this.rc = rc;
    this.vs = new Int32Array(maxDim + 2);
  }

  /** Start on the `dim`-simplex `index` of diameter `diameter`. */
  reset(index: number, diameter: number, dim: number, topOnly = false): void {
    this.rc.vertices(index, dim, this.vs);
    this.dim = dim;
    this.simplexDiameter = diameter;
    this.topOnly = topOnly;
    this.v = this.rc.n - 1;
    this.k = dim + 1;
    this.pos = 0;
    this.below = index;
    this.above = 0;
  }

  next(): boolean {
    // The state lives in locals inside the loop (this runs for every cofacet of every column).
    const { rc, vs, dim, topOnly, simplexDiameter } = this;
    const { dist, n, threshold } = rc;
    let v = this.v, k = this.k, pos = this.pos, below = this.below, above = this.above;
    let nextInSimplex = pos <= dim ? vs[pos] : -1;
    let found = false;
    for (; v >= 0; v--) {
      if (v === nextInSimplex) {
        if (topOnly) break;
        // v is in the simplex: from here on the cofacet's vertices above the new one include it.
        below -= rc.choose(v, k);
        above += rc.choose(v, k + 1);
        k--;
        pos++;
        nextInSimplex = pos <= dim ? vs[pos] : -1;
        continue;
      }
      let diam = simplexDiameter;
      const row = v * n;
      for (let p = 0; p <= dim; p++) {
        const d = dist[row + vs[p]];
        if (d > diam) diam = d;
      }
      if (diam > threshold) continue;
      this.index = above + rc.choose(v, k + 1) + below;
      this.diameter = diam;
      v--;
      found = true;
      break;
    }
    this.v = v;
    this.k = k;
    this.pos = pos;
    this.below = below;
    this.above = above;
    return found;
  }
}
