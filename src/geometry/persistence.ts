// Persistent homology of the Vietoris–Rips filtration, Z/2 coefficients, as ripser computes it
// (Bauer 2021): simplices ordered by diameter, ties by reverse colexicographic index; H0 by
// union–find over the edges; H1, H2, … by reducing the *coboundary* matrix one dimension at a time,
//  - clearing: a simplex paired as a death in dimension d − 1 starts no column in dimension d;
//  - emergent pairs: a column whose first cofacet of equal diameter is still unpaired is paired with
//    it on the spot, without building the column — most columns of a dense cloud end there;
//  - the reduction keeps only which columns were added (the V matrix), never reduced columns;
//  - an added column's cofacets before the current pivot are skipped (the sum is zero there);
//  - the working column is a heap of the entries near its pivot plus buckets of later ones.
// One column costs most in a dense cloud: the birth edge of a long bar, whose reduction passes every
// pivot between its birth and its death (1,000 points on a circle: ~40k columns added, ~10 s).
// The threshold defaults to the enclosing radius min_i max_j d(i, j): from there on the complex is a
// cone, so nothing is born or dies later and the diagrams equal those of the full filtration.
// Pairs of zero persistence are left out, as ripser and gudhi leave them out.
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { flatRows, type Rows } from "./rows.js";
import { RDM } from "./rdm.js";
import { CofacetIterator, RipsComplex } from "./rips-complex.js";

/** The dissimilarity between points of a cloud: Euclidean, L1, L∞, or 1 − cosine similarity. */
export type PersistenceMetric = "euclidean" | "manhattan" | "chebyshev" | "cosine";

/** Options of `persistence`. */
export interface PersistenceOptions {
  /** Highest homology dimension (default 1; H2 needs every triangle's cofacets, so it costs more). */
  maxDim?: number;
  /** Largest edge length of the filtration (default: the enclosing radius, which loses nothing). */
  threshold?: number;
  /** For a point cloud: how points are compared (default "euclidean"). */
  metric?: PersistenceMetric;
  /** The input is a square matrix of distances, not a point cloud (an RDM is always taken as distances). */
  distances?: boolean;
}

const PERSISTENCE_OPTIONS = optionNames<PersistenceOptions>({ maxDim: true, threshold: true, metric: true, distances: true });
const METRICS: readonly PersistenceMetric[] = ["euclidean", "manhattan", "chebyshev", "cosine"];
/** Past this many points the n × n distance matrix alone is over 800 MB. */
const MAX_POINTS = 10_000;

/** A persistence pair: birth and death filtration values (death Infinity for an essential class). */
export type PersistencePair = [birth: number, death: number];

/** The barcodes of a Rips filtration, one diagram per dimension. */
export interface PersistenceResult {
  /** diagrams[d]: the H_d pairs, sorted by birth then death. */
  diagrams: PersistencePair[][];
  /** The threshold the filtration stopped at. */
  threshold: number;
  /** Number of points. */
  nPoints: number;
  maxDim: number;
}

/**
 * Vietoris–Rips persistent homology H0…H_maxDim of a point cloud (n × d rows) or of a distance matrix
 * (an RDM — its dissimilarities as they are — or a square matrix with `{ distances: true }`), with
 * Z/2 coefficients; the diagrams ripser and gudhi report (H0 born at 0, Infinity for essential classes).
 * @example
 * const { diagrams } = fl.persistence(points, { maxDim: 1 });
 * fl.show(fl.plot.barcode(fl.persistence(points)));
 */
export function persistence(input: Rows | RDM | ArrayLike<number>[], opts: PersistenceOptions = {}): PersistenceResult {
  rejectUnknownOptions("persistence", opts, PERSISTENCE_OPTIONS);
  const maxDim = opts.maxDim ?? 1;
  if (!Number.isInteger(maxDim) || maxDim < 0) {
    throw new InputError(undefined, `persistence: maxDim must be a whole number ≥ 0, got ${maxDim}`);
  }
  const userThreshold = opts.threshold ?? Infinity;
  if (typeof userThreshold !== "number" || Number.isNaN(userThreshold) || userThreshold < 0) {
    throw new InputError(undefined, `persistence: threshold must be a number ≥ 0, got ${userThreshold}`);
  }
  const { dist, n } = distanceMatrix(input, opts);
  // C(n, maxDim + 2) indexes the cofacets of the top dimension; past 2^53 indices stop being exact.
  let count = 1;
  for (let k = 1; k <= maxDim + 2; k++) count = (count * (n - k + 1)) / k;
  if (count >= 2 ** 53) {
    throw new InputError(undefined, `persistence: ${n} points are too many for maxDim ${maxDim} (simplex indices would exceed 2^53)`);
  }
  const threshold = Math.min(userThreshold, enclosingRadius(dist, n));
  const rc = new RipsComplex(dist, n, threshold, maxDim + 1);
  const diagrams: PersistencePair[][] = [];

  const { pairs: h0, columns, edges } = unionFindH0(rc);
  diagrams.push(h0);
  let simplices = edges;
  let cols = columns;
  for (let dim = 1; dim <= maxDim; dim++) {
    const { pairs, pivots } = reduceCoboundary(rc, cols, dim, maxDim);
    diagrams.push(pairs);
    if (dim < maxDim) {
      const next = assemble(rc, simplices, pivots, dim, dim + 1 < maxDim);
      cols = next.columns;
      simplices = next.simplices;
    }
  }
  for (const d of diagrams) d.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { diagrams, threshold, nPoints: n, maxDim };
}

/** The full n × n distance matrix of the input. */
function distanceMatrix(input: Rows | RDM | ArrayLike<number>[], opts: PersistenceOptions): { dist: Float64Array; n: number } {
  const asDistances = input instanceof RDM || opts.distances === true;
  if (asDistances && opts.metric !== undefined) {
    throw new InputError(undefined, `persistence: metric applies to a point cloud; this input is already distances`);
  }
  if (input instanceof RDM) {
    const n = input.nConditions;
    checkSize(n);
    const dist = new Float64Array(n * n);
    let p = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, p++) {
        const v = input.vector[p];
        if (!(v >= 0)) throw new InputError(undefined, `persistence: the RDM's dissimilarity (${input.labels[i]}, ${input.labels[j]}) is ${v}; distances must be ≥ 0 and not NaN`);
        dist[i * n + j] = dist[j * n + i] = v;
      }
    }
    return { dist, n };
  }
  if (opts.distances === true) return squareDistances(input);
  const metric = opts.metric ?? "euclidean";
  if (!METRICS.includes(metric)) {
    throw new InputError(undefined, `persistence: unknown metric "${metric}"; use one of ${METRICS.join(", ")}`);
  }
  const { values, rows: n, dim } = flatRows(input as Rows, "persistence: points");
  if (n < 1 || dim < 1) throw new InputError(undefined, `persistence: points have shape [${n}, ${dim}]; give at least one point with at least one coordinate`);
  checkSize(n);
  const norms = new Float64Array(n);
  if (metric === "cosine") {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += values[i * dim + c] ** 2;
      norms[i] = Math.sqrt(s);
      if (norms[i] === 0) throw new InputError(undefined, `persistence: point ${i} is zero; the cosine metric needs non-zero points`);
    }
  }
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      const a = i * dim, b = j * dim;
      if (metric === "euclidean") {
        for (let c = 0; c < dim; c++) s += (values[a + c] - values[b + c]) ** 2;
        s = Math.sqrt(s);
      } else if (metric === "manhattan") {
        for (let c = 0; c < dim; c++) s += Math.abs(values[a + c] - values[b + c]);
      } else if (metric === "chebyshev") {
        for (let c = 0; c < dim; c++) s = Math.max(s, Math.abs(values[a + c] - values[b + c]));
      } else {
        for (let c = 0; c < dim; c++) s += values[a + c] * values[b + c];
        s = Math.max(0, 1 - s / (norms[i] * norms[j]));
      }
      dist[i * n + j] = dist[j * n + i] = s;
    }
  }
  return { dist, n };
}

function checkSize(n: number): void {
  if (n > MAX_POINTS) {
    throw new InputError(undefined, `persistence: ${n} points; at most ${MAX_POINTS} (the distance matrix is n × n) — subsample or use landmarks`);
  }
}

/** A square, symmetric, zero-diagonal matrix of non-negative distances, as given. */
function squareDistances(input: unknown): { dist: Float64Array; n: number } {
  if (!Array.isArray(input)) {
    throw new InputError(undefined, "persistence: with { distances: true } give the square matrix as rows (number[][])");
  }
  const m = input as ArrayLike<number>[];
  const n = m.length;
  if (n < 1) throw new InputError(undefined, "persistence: the distance matrix has shape [0, 0]");
  m.forEach((row, i) => {
    if (row?.length !== n) throw new InputError(undefined, `persistence: a distance matrix must be square; row ${i} has ${row?.length} values, expected ${n} (shape [${n}, ${row?.length}])`);
  });
  checkSize(n);
  let scale = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (Number.isFinite(m[i][j])) scale = Math.max(scale, Math.abs(m[i][j]));
  const tol = 1e-9 * Math.max(scale, 1e-300);
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    if (!(Math.abs(m[i][i]) <= tol)) throw new InputError(undefined, `persistence: distance matrix entry (${i}, ${i}) is ${m[i][i]}, not 0`);
    for (let j = i + 1; j < n; j++) {
      const a = m[i][j], b = m[j][i];
      if (!(a >= 0) || !Number.isFinite(a)) throw new InputError(undefined, `persistence: distance (${i}, ${j}) is ${a}; distances must be finite and ≥ 0`);
      if (!(Math.abs(a - b) <= tol)) throw new InputError(undefined, `persistence: the distance matrix is not symmetric at (${i}, ${j}): ${a} vs ${b}`);
      dist[i * n + j] = dist[j * n + i] = a;
    }
  }
  return { dist, n };
}

/** min over points of the distance to the farthest point: the Rips complex is a cone from there on. */
function enclosingRadius(dist: Float64Array, n: number): number {
  if (n < 2) return 0;
  let r = Infinity;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (dist[i * n + j] > m) m = dist[i * n + j];
    if (m < r) r = m;
  }
  return r;
}

/** Simplices of one dimension: parallel arrays of index and diameter. */
interface SimplexList {
  index: Float64Array;
  diameter: Float64Array;
  length: number;
}

/** A growable SimplexList. */
class SimplexBuffer implements SimplexList {
  index = new Float64Array(1024);
  diameter = new Float64Array(1024);
  length = 0;

  push(index: number, diameter: number): void {
    if (this.length === this.index.length) {
      const i = new Float64Array(this.length * 2), d = new Float64Array(this.length * 2);
      i.set(this.index);
      d.set(this.diameter);
      this.index = i;
      this.diameter = d;
    }
    this.index[this.length] = index;
    this.diameter[this.length++] = diameter;
  }
}

/** The positions of `list` in the given order: filtration order (diameter ↑, index ↓) or its reverse. */
function sortedOrder(list: SimplexList, reverse: boolean): Uint32Array {
  const order = new Uint32Array(list.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const { index, diameter } = list;
  const s = reverse ? -1 : 1;
  order.sort((a, b) => s * (diameter[a] - diameter[b] || index[b] - index[a]));
  return order;
}

/** Columns to reduce, in reverse filtration order. */
function reorder(list: SimplexList): SimplexList {
  const order = sortedOrder(list, true);
  const out: SimplexList = { index: new Float64Array(list.length), diameter: new Float64Array(list.length), length: list.length };
  for (let p = 0; p < order.length; p++) {
    out.index[p] = list.index[order[p]];
    out.diameter[p] = list.diameter[order[p]];
  }
  return out;
}

/** H0 by union–find over the edges in filtration order; the edges that merge nothing are H1's columns. */
function unionFindH0(rc: RipsComplex): { pairs: PersistencePair[]; columns: SimplexList; edges: SimplexList } {
  const { n, dist, threshold } = rc;
  const edges = new SimplexBuffer();
  for (let j = 1; j < n; j++) {
    for (let i = 0; i < j; i++) {
      const d = dist[i * n + j];
      if (d <= threshold) edges.push(rc.edgeIndex(i, j), d);
    }
  }
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  const pairs: PersistencePair[] = [];
  const columns = new SimplexBuffer();
  const vs = new Int32Array(2);
  const order = sortedOrder(edges, false);
  let components = n;
  for (const e of order) {
    rc.vertices(edges.index[e], 1, vs);
    const a = find(vs[0]), b = find(vs[1]);
    if (a !== b) {
      parent[a] = b;
      components--;
      if (edges.diameter[e] > 0) pairs.push([0, edges.diameter[e]]);
    } else {
      columns.push(edges.index[e], edges.diameter[e]);
    }
  }
  for (let c = 0; c < components; c++) pairs.push([0, Infinity]);
  return { pairs, columns: reorder(columns), edges };
}

/**
 * The (dim)-simplices that start columns: every cofacet of the (dim − 1)-simplices met once (by its
 * top vertex), less the ones paired in dimension dim − 1 (clearing). All of them are kept as the next
 * dimension's source only when `keepAll`.
 */
function assemble(rc: RipsComplex, prev: SimplexList, pivots: Map<number, number>, prevDim: number, keepAll: boolean): { columns: SimplexList; simplices: SimplexList } {
  const dim = prevDim + 1;
  const columns = new SimplexBuffer();
  const all = new SimplexBuffer();
  const it = new CofacetIterator(rc, dim);
  for (let s = 0; s < prev.length; s++) {
    it.reset(prev.index[s], prev.diameter[s], prevDim, true);
    while (it.next()) {
      if (keepAll) all.push(it.index, it.diameter);
      if (!pivots.has(it.index)) columns.push(it.index, it.diameter);
    }
  }
  return { columns: reorder(columns), simplices: all };
}

/**
 * The working coboundary column: entries of one (dim + 1)-simplex may appear several times and cancel
 * in pairs (Z/2). Entries up to diameter `limit` sit in a binary heap in filtration order (diameter ↑,
 * then index ↓); later ones wait unsorted in buckets of diameter and enter the heap a bucket at a time
 * when it runs out — a long column (a long bar's cocycle) then never holds millions of entries in a heap.
 */
class WorkingColumn {
  private diameter = new Float64Array(1024);
  private index = new Float64Array(1024);
  private size = 0;
  private limit = -Infinity;
  /** Upper diameter of each bucket, increasing; the last is Infinity. */
  private readonly bounds: Float64Array;
  private readonly buckets: SimplexBuffer[];
  private next = 0;
  /** The pivot found by `pivot()`. */
  pivotIndex = 0;
  pivotDiameter = 0;

  /** Buckets cut at quantiles of these diameters (the columns'). */
  constructor(diameters: SimplexList["diameter"], count: number) {
    const sample = new Float64Array(Math.min(count, 4096));
    for (let s = 0; s < sample.length; s++) sample[s] = diameters[Math.floor((s * count) / sample.length)];
    sample.sort();
    const cuts: number[] = [];
    for (let q = 1; q < 64; q++) {
      const v = sample[Math.floor((q * sample.length) / 64)];
      if (v !== undefined && (cuts.length === 0 || v > cuts[cuts.length - 1])) cuts.push(v);
    }
    cuts.push(Infinity);
    this.bounds = Float64Array.from(cuts);
    this.buckets = cuts.map(() => new SimplexBuffer());
  }

  /** Start a column with these entries. */
  reset(entries: SimplexList): void {
    this.size = 0;
    for (let b = this.next; b < this.buckets.length; b++) this.buckets[b].length = 0;
    this.next = 0;
    this.limit = -Infinity;
    for (let p = 0; p < entries.length; p++) this.push(entries.diameter[p], entries.index[p]);
  }

  push(diameter: number, index: number): void {
    if (diameter > this.limit) {
      const bounds = this.bounds;
      let lo = this.next, hi = bounds.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (bounds[mid] >= diameter) hi = mid;
        else lo = mid + 1;
      }
      this.buckets[lo].push(index, diameter);
      return;
    }
    if (this.size === this.index.length) this.grow(this.size + 1);
    let c = this.size++;
    const D = this.diameter, I = this.index;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!(diameter < D[p] || (diameter === D[p] && index > I[p]))) break;
      D[c] = D[p];
      I[c] = I[p];
      c = p;
    }
    D[c] = diameter;
    I[c] = index;
  }

  /** The first entry of odd multiplicity becomes the pivot (and stays in the column); false if none. */
  pivot(): boolean {
    for (;;) {
      if (this.size === 0 && !this.refill()) return false;
      const i = this.index[0], d = this.diameter[0];
      this.pop();
      if (this.size > 0 && this.index[0] === i) {
        this.pop();
        continue;
      }
      this.pivotIndex = i;
      this.pivotDiameter = d;
      this.push(d, i);
      return true;
    }
  }

  /** Move the next non-empty bucket into the heap. */
  private refill(): boolean {
    while (this.next < this.buckets.length && this.buckets[this.next].length === 0) this.next++;
    if (this.next === this.buckets.length) return false;
    const bucket = this.buckets[this.next];
    this.limit = this.bounds[this.next++];
    this.grow(bucket.length);
    this.diameter.set(bucket.diameter.subarray(0, bucket.length));
    this.index.set(bucket.index.subarray(0, bucket.length));
    this.size = bucket.length;
    bucket.length = 0;
    for (let c = (this.size >> 1) - 1; c >= 0; c--) this.siftDown(c);
    return true;
  }

  private pop(): void {
    const last = --this.size;
    if (last === 0) return;
    this.diameter[0] = this.diameter[last];
    this.index[0] = this.index[last];
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const D = this.diameter, I = this.index, n = this.size;
    const d = D[start], i = I[start];
    let c = start;
    for (;;) {
      let m = 2 * c + 1;
      if (m >= n) break;
      const r = m + 1;
      if (r < n && (D[r] < D[m] || (D[r] === D[m] && I[r] > I[m]))) m = r;
      if (!(D[m] < d || (D[m] === d && I[m] > i))) break;
      D[c] = D[m];
      I[c] = I[m];
      c = m;
    }
    D[c] = d;
    I[c] = i;
  }

  private grow(need: number): void {
    if (need <= this.index.length) return;
    let cap = this.index.length;
    while (cap < need) cap *= 2;
    const d = new Float64Array(cap), i = new Float64Array(cap);
    d.set(this.diameter.subarray(0, this.size));
    i.set(this.index.subarray(0, this.size));
    this.diameter = d;
    this.index = i;
  }
}

/**
 * Reduce the coboundary columns of one dimension. Returns the pairs and the pivots (the paired
 * (dim + 1)-simplices, cleared from the next dimension's columns).
 */
function reduceCoboundary(rc: RipsComplex, columns: SimplexList, dim: number, maxDim: number): { pairs: PersistencePair[]; pivots: Map<number, number> } {
  const pairs: PersistencePair[] = [];
  const pivots = new Map<number, number>(); // pivot (dim + 1)-simplex → column position
  const reductions = new Map<number, Float64Array>(); // column position → the columns added to it (index, diameter, …)
  const work = new WorkingColumn(columns.diameter, columns.length);
  const own = new SimplexBuffer();
  const it = new CofacetIterator(rc, maxDim + 1);

  // Adding a column whose pivot is the current one: both are zero before that pivot, so their sum is
  // too, and the added simplices' cofacets that come before it (which cancel among themselves) are skipped.
  const addCoboundary = (index: number, diameter: number): void => {
    const pd = work.pivotDiameter, pi = work.pivotIndex;
    it.reset(index, diameter, dim);
    while (it.next()) {
      const d = it.diameter;
      if (d > pd || (d === pd && it.index <= pi)) work.push(d, it.index);
    }
  };

  for (let c = 0; c < columns.length; c++) {
    const sIndex = columns.index[c], sDiameter = columns.diameter[c];
    // The column's own coboundary. Its first cofacet of equal diameter is its pivot; if no other
    // column owns it, that is the pair (an emergent pair), found without building the column.
    let emergent = false, checkEmergent = true;
    own.length = 0;
    it.reset(sIndex, sDiameter, dim);
    while (it.next()) {
      if (checkEmergent && it.diameter === sDiameter) {
        if (!pivots.has(it.index)) {
          pivots.set(it.index, c);
          emergent = true;
          break;
        }
        checkEmergent = false;
      }
      own.push(it.index, it.diameter);
    }
    if (emergent) continue;

    work.reset(own);
    let added: number[] | undefined;
    for (;;) {
      if (!work.pivot()) {
        pairs.push([sDiameter, Infinity]);
        break;
      }
      const other = pivots.get(work.pivotIndex);
      if (other === undefined) {
        if (work.pivotDiameter > sDiameter) pairs.push([sDiameter, work.pivotDiameter]);
        pivots.set(work.pivotIndex, c);
        if (added) {
          const kept = modTwo(added);
          if (kept.length > 0) reductions.set(c, kept);
        }
        break;
      }
      // Add the column that owns this pivot: its simplex and the columns added to it.
      added ??= [];
      const oIndex = columns.index[other], oDiameter = columns.diameter[other];
      added.push(oIndex, oDiameter);
      addCoboundary(oIndex, oDiameter);
      const more = reductions.get(other);
      if (more) {
        for (let p = 0; p < more.length; p += 2) {
          added.push(more[p], more[p + 1]);
          addCoboundary(more[p], more[p + 1]);
        }
      }
    }
  }
  return { pairs, pivots };
}

/** (index, diameter) entries with those of even multiplicity removed. */
function modTwo(entries: number[]): Float64Array {
  const count = new Map<number, number>();
  for (let p = 0; p < entries.length; p += 2) count.set(entries[p], (count.get(entries[p]) ?? 0) ^ 1);
  const out: number[] = [];
  for (let p = 0; p < entries.length; p += 2) {
    if (count.get(entries[p]) === 1) {
      out.push(entries[p], entries[p + 1]);
      count.set(entries[p], 0);
    }
  }
  return Float64Array.from(out);
}
