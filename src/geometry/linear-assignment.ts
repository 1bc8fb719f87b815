// The linear assignment problem (scipy.optimize.linear_sum_assignment): match rows to columns one to
// one so that the sum of the matched costs is least (or greatest). Shortest augmenting paths with
// row and column potentials (the Hungarian method in Jonker–Volgenant form), O(r²·c) for r ≤ c.
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Options of `linearSumAssignment`. */
export interface AssignmentOptions {
  /** Maximise the sum instead of minimising it (default false). */
  maximize?: boolean;
}

const ASSIGNMENT_OPTIONS = optionNames<AssignmentOptions>({ maximize: true });

/** The optimal matching: row rowInd[t] goes with column colInd[t], rows ascending, min(rows, cols) pairs. */
export interface Assignment {
  rowInd: Int32Array;
  colInd: Int32Array;
  /** The sum of the matched entries. */
  total: number;
}

/** A cost matrix: rows of numbers, or flat row-major values with their shape. */
export type CostMatrix = readonly ArrayLike<number>[] | { values: ArrayLike<number>; rows: number; cols: number };

/**
 * The optimal one-to-one matching of the rows and columns of a rows × cols cost matrix, as scipy's
 * linear_sum_assignment: min(rows, cols) pairs, rows ascending, least total (or greatest, `maximize`).
 * @example
 * const { rowInd, colInd } = fl.linearSumAssignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]]);   // colInd = [1, 0, 2]
 * fl.linearSumAssignment({ values: scores, rows: 64, cols: 64 }, { maximize: true });
 */
export function linearSumAssignment(cost: CostMatrix, opts: AssignmentOptions = {}): Assignment {
  rejectUnknownOptions("linearSumAssignment", opts, ASSIGNMENT_OPTIONS);
  let flat: ArrayLike<number>, rows: number, cols: number;
  if (Array.isArray(cost)) {
    const nested = cost as readonly ArrayLike<number>[];
    rows = nested.length;
    cols = rows > 0 ? nested[0].length : 0;
    const out = new Float64Array(rows * cols);
    nested.forEach((r, i) => {
      if (r.length !== cols) throw new InputError(undefined, `linearSumAssignment: row ${i} has ${r.length} entries, row 0 has ${cols}`);
      for (let j = 0; j < cols; j++) out[i * cols + j] = r[j];
    });
    flat = out;
  } else {
    ({ values: flat, rows, cols } = cost as { values: ArrayLike<number>; rows: number; cols: number });
    if (!flat || !Number.isInteger(rows) || !Number.isInteger(cols) || rows * cols !== flat.length) {
      throw new InputError(undefined, `linearSumAssignment: { values, rows, cols } needs rows × cols = values.length (${flat?.length}); got ${rows} × ${cols}`);
    }
  }
  for (let e = 0; e < flat.length; e++) {
    if (!Number.isFinite(flat[e])) throw new InputError(undefined, `linearSumAssignment: entry (${Math.floor(e / cols)}, ${e % cols}) of the ${rows}×${cols} cost matrix is ${flat[e]}`);
  }
  const r = rows, c = cols;
  const sign = opts.maximize ? -1 : 1;
  // The solver wants no more rows than columns: solve the transpose otherwise.
  const transposed = r > c;
  const n = transposed ? c : r, m = transposed ? r : c;
  const a = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) a[i * m + j] = sign * (transposed ? flat[j * c + i] : flat[i * c + j]);
  const match = solve(a, n, m);
  const pairs = Array.from(match, (col, row) => (transposed ? [col, row] : [row, col]));
  pairs.sort((p, q) => p[0] - q[0]);
  const rowInd = Int32Array.from(pairs, (p) => p[0]);
  const colInd = Int32Array.from(pairs, (p) => p[1]);
  let total = 0;
  for (let t = 0; t < rowInd.length; t++) total += flat[rowInd[t] * c + colInd[t]];
  return { rowInd, colInd, total };
}

/** Minimum-cost assignment of each of n rows to a distinct one of m ≥ n columns; returns each row's column. */
function solve(a: Float64Array, n: number, m: number): Int32Array {
  // 1-based potentials u (rows), v (columns); owner[j] = the row holding column j (0: free).
  const u = new Float64Array(n + 1), v = new Float64Array(m + 1);
  const owner = new Int32Array(m + 1), way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    // Grow a tree of tight edges from row i until it reaches a free column (Dijkstra on reduced costs).
    do {
      used[j0] = 1;
      const i0 = owner[j0], base = (i0 - 1) * m - 1, ui = u[i0];
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a[base + j] - ui - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    // Flip the augmenting path.
    do {
      const j1 = way[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const match = new Int32Array(n);
  for (let j = 1; j <= m; j++) if (owner[j] !== 0) match[owner[j] - 1] = j - 1;
  return match;
}
