// Unconstrained minimisation of a smooth function of a few variables: BFGS (Nocedal & Wright 2006,
// algorithm 6.1) with central-difference gradients and a backtracking Armijo line search, as
// scipy.optimize.minimize(method="BFGS") does it with finite differences. For the small problems of
// model fitting (a handful of parameters), where the objective is cheap and has no gradient of its own.

/** What `minimizeBfgs` returns: the minimiser, the value there and the iterations taken. */
export interface MinimizeResult {
  x: number[];
  fun: number;
  iterations: number;
}

/** Options of `minimizeBfgs`. */
export interface MinimizeOptions {
  /** Stop when the largest gradient component is below this (default 1e-9). */
  gtol?: number;
  /** At most this many iterations (default 200 per variable). */
  maxIter?: number;
}

// Central differences with a step relative to |x_i|: error O(h²) from truncation, O(ε/h) from rounding.
function gradient(f: (x: number[]) => number, x: number[]): number[] {
  return x.map((xi, i) => {
    const h = 6e-6 * Math.max(1, Math.abs(xi));
    const up = x.slice(), down = x.slice();
    up[i] = xi + h;
    down[i] = xi - h;
    return (f(up) - f(down)) / (up[i] - down[i]);
  });
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

/**
 * Minimises f from x0 by BFGS. Stops at a small gradient, after maxIter iterations, or when the line
 * search finds no decrease (the finite-difference gradient's resolution is reached).
 */
export function minimizeBfgs(f: (x: number[]) => number, x0: readonly number[], opts: MinimizeOptions = {}): MinimizeResult {
  const n = x0.length;
  const gtol = opts.gtol ?? 1e-9, maxIter = opts.maxIter ?? 200 * Math.max(n, 1);
  let x = x0.slice(), fx = f(x);
  if (n === 0 || !Number.isFinite(fx)) return { x, fun: fx, iterations: 0 };
  let g = gradient(f, x);
  // H: the inverse-Hessian approximation, identity to start.
  let H: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  let it = 0;
  for (; it < maxIter; it++) {
    if (Math.max(...g.map(Math.abs)) < gtol) break;
    let p = H.map((row) => -dot(row, g));
    let slope = dot(g, p);
    if (!(slope < 0)) {
      // Not a descent direction (H has drifted): restart from steepest descent.
      H = H.map((row, i) => row.map((_, j) => (i === j ? 1 : 0)));
      p = g.map((v) => -v);
      slope = -dot(g, g);
    }
    let alpha = 1, xn: number[] = [], fn = Infinity;
    for (let k = 0; k < 60; k++, alpha /= 2) {
      xn = x.map((v, i) => v + alpha * p[i]);
      fn = f(xn);
      if (fn <= fx + 1e-4 * alpha * slope) break;
    }
    if (!(fn < fx)) break;
    const gn = gradient(f, xn);
    const s = xn.map((v, i) => v - x[i]), y = gn.map((v, i) => v - g[i]);
    const sy = dot(s, y);
    if (sy > 1e-300) {
      // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
      const rho = 1 / sy;
      const Hy = H.map((row) => dot(row, y));
      const yHy = dot(y, Hy);
      H = H.map((row, i) => row.map((v, j) => v - rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j]));
    }
    x = xn;
    fx = fn;
    g = gn;
  }
  return { x, fun: fx, iterations: it };
}
