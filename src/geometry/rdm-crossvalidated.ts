// The cross-validated RDM distances, as rsatoolbox computes them: crossnobis and poisson_cv from
// the mean patterns of each fold against the means of all the other folds (calc_rdm_crossnobis,
// calc_rdm_poisson_cv), or — for unbalanced designs, with conditions measured a different number
// of times per fold or missing from some folds — over every pair of measurements from different
// folds (calc_rdm_unbalanced). Also the noise whitening they and mahalanobis share, and the Poisson
// prior.
import { InputError } from "../io/errors.js";
import { groupMeans, groupValues, type Observations } from "./patterns.js";
import { crossnobis, crossFoldDistances, poissonRates, precisionWhitener, covarianceWhitener, type Whitener } from "./pattern-distances.js";
import { covFromResiduals } from "./noise-precision.js";
import type { DistanceMethod, RdmOptions } from "./rdm.js";

/** rsatoolbox's prior_lambda and prior_weight, checked, and every measurement checked to give a positive rate. */
export function poissonPrior(opts: RdmOptions, obs: Observations, descriptors: Record<string, unknown>): [number, number] {
  const lambda = opts.priorLambda ?? 1, weight = opts.priorWeight ?? 0.1;
  if (!(lambda >= 0 && Number.isFinite(lambda)) || !(weight >= 0 && Number.isFinite(weight))) {
    throw new InputError(undefined, `rdm: priorLambda and priorWeight must be finite and ≥ 0, got ${lambda} and ${weight}`);
  }
  const floor = -lambda * weight, C = obs.channels;
  for (let i = 0; i < obs.data.length; i++) {
    if (!(obs.data[i] > floor)) {
      const r = Math.floor(i / C);
      throw new InputError(
        undefined,
        `rdm: ${opts.distance} needs rates (counts) with x + priorLambda·priorWeight > 0; row ${r} (condition '${obs.labels[obs.condition[r]]}'), channel ${i % C} is ${obs.data[i]}`,
      );
    }
  }
  descriptors.prior = { lambda, weight };
  return [lambda, weight];
}

/** crossnobis and poisson_cv: per fold, the mean patterns of that fold against those of all others; or, unbalanced, over pairs of measurements. */
export function crossValidated(obs: Observations, opts: RdmOptions, descriptors: Record<string, unknown>, distance: DistanceMethod): Float64Array {
  const K = obs.labels.length, C = obs.channels, N = obs.rows;
  let fold = obs.fold, foldLabels = obs.foldLabels;
  if (fold) descriptors.folds = typeof opts.folds === "string" ? opts.folds : "given";
  else if (opts.unbalanced) {
    // rsatoolbox's calc_rdm_unbalanced without a cv_descriptor: every measurement is its own fold.
    fold = Int32Array.from({ length: N }, (_, r) => r);
    foldLabels = Array.from({ length: N }, (_, r) => `row ${r}`);
    descriptors.folds = "each measurement";
  } else {
    // rsatoolbox's default: the k-th measurement of each condition belongs to fold k.
    const seen = new Int32Array(K);
    const k = Int32Array.from(obs.condition, (c) => seen[c]++);
    if (!seen.every((n) => n === seen[0])) {
      const c = seen.findIndex((n) => n !== seen[0]);
      throw new InputError(
        undefined,
        `rdm: ${distance} without \`folds\` needs the same number of measurements per condition; '${obs.labels[0]}' has ${seen[0]}, '${obs.labels[c]}' has ${seen[c]} (or pass unbalanced: true)`,
      );
    }
    ({ index: fold, labels: foldLabels } = groupValues(k, "fold", "sorted"));
  }
  const F = foldLabels!.length;
  if (F < 2) throw new InputError(undefined, `rdm: ${distance} needs at least 2 folds; ${typeof opts.folds === "string" ? `column '${opts.folds}'` : "the data"} has ${F}`);
  // Cells: one condition in one fold, with their sums; kept sparse (unbalanced: a fold per measurement).
  const cellOf = new Map<number, number>();
  const cellCondition: number[] = [], cellFold: number[] = [], cellCount: number[] = [];
  const rowCell = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    const key = fold[r] * K + obs.condition[r];
    let c = cellOf.get(key);
    if (c === undefined) {
      cellOf.set(key, (c = cellCondition.length));
      cellCondition.push(obs.condition[r]);
      cellFold.push(fold[r]);
      cellCount.push(0);
    }
    cellCount[c]++;
    rowCell[r] = c;
  }
  const cells = { condition: Int32Array.from(cellCondition), fold: Int32Array.from(cellFold), count: Int32Array.from(cellCount) };
  const nCells = cellCondition.length;
  const sums = new Float64Array(nCells * C);
  for (let r = 0; r < N; r++) for (let c = 0, o = rowCell[r] * C; c < C; c++) sums[o + c] += obs.data[r * C + c];
  const prior = distance === "poisson_cv" ? poissonPrior(opts, obs, descriptors) : null;
  const w = prior ? undefined : whitener(opts, obs, groupMeans(obs.data, C, obs.condition, K).means, descriptors);
  descriptors.nFolds = F;
  if (opts.unbalanced) {
    descriptors.unbalanced = true;
    checkTwoFolds(obs, cells, foldLabels!, !obs.fold);
    if (!prior) {
      const X = w ? w(sums, nCells) : sums; // whitening is linear: the sum of whitened rows
      return crossFoldDistances(cells, X, X, null, K, C);
    }
    // poisson_cv: x = rates, y = their logs, q = −x·y, summed per cell from the measurements.
    const { rates, logs } = poissonRates(Float64Array.from(obs.data), ...prior);
    const X = new Float64Array(nCells * C), Y = new Float64Array(nCells * C), Q = new Float64Array(nCells);
    for (let r = 0; r < N; r++) {
      const o = rowCell[r] * C;
      for (let c = 0; c < C; c++) {
        const x = rates[r * C + c], y = logs[r * C + c];
        X[o + c] += x;
        Y[o + c] += y;
        Q[rowCell[r]] -= x * y;
      }
    }
    return crossFoldDistances(cells, X, Y, Q, K, C);
  }
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < K; k++) {
      if (!cellOf.has(f * K + k)) {
        throw new InputError(undefined, `rdm: ${distance}: condition '${obs.labels[k]}' has no measurement in fold '${foldLabels![f]}' (pass unbalanced: true to use the folds it has)`);
      }
    }
  }
  const total = new Float64Array(K * C);
  const totalCount = new Int32Array(K);
  for (let c = 0; c < nCells; c++) {
    const k = cells.condition[c];
    totalCount[k] += cells.count[c];
    for (let j = 0; j < C; j++) total[k * C + j] += sums[c * C + j];
  }
  const train: Float64Array[] = [], test: Float64Array[] = [];
  for (let f = 0; f < F; f++) {
    const a = new Float64Array(K * C), b = new Float64Array(K * C);
    for (let k = 0; k < K; k++) {
      const cell = cellOf.get(f * K + k)!;
      const n = cells.count[cell], rest = totalCount[k] - n;
      for (let c = 0; c < C; c++) {
        const s = sums[cell * C + c];
        b[k * C + c] = s / n;
        a[k * C + c] = (total[k * C + c] - s) / rest;
      }
    }
    if (prior) {
      // rsatoolbox's calc_rdm_poisson_cv: (a_i − a_j)·(log b_i − log b_j) / C for rates a, b.
      train.push(poissonRates(a, ...prior).rates);
      test.push(poissonRates(b, ...prior).logs);
    } else {
      train.push(w ? w(a, K) : a);
      test.push(w ? w(b, K) : b);
    }
  }
  return crossnobis(train, test, K, C);
}

/** Unbalanced cross-validation needs each condition in two folds at least (else its own pattern has no cross-fold pair). */
function checkTwoFolds(obs: Observations, cells: { condition: Int32Array; fold: Int32Array }, foldLabels: readonly string[], perMeasurement: boolean): void {
  const K = obs.labels.length;
  const first = new Int32Array(K).fill(-1), several = new Uint8Array(K);
  for (let c = 0; c < cells.condition.length; c++) {
    const k = cells.condition[c];
    if (first[k] < 0) first[k] = cells.fold[c];
    else if (first[k] !== cells.fold[c]) several[k] = 1;
  }
  const k = several.indexOf(0);
  if (k < 0) return;
  throw new InputError(
    undefined,
    perMeasurement
      ? `rdm: condition '${obs.labels[k]}' has a single measurement; cross-validation needs two at least (in different \`folds\`)`
      : `rdm: condition '${obs.labels[k]}' is measured only in fold '${foldLabels[first[k]]}'; cross-validation needs each condition in two folds at least`,
  );
}

/** The noise whitening for mahalanobis/crossnobis: given, identity (undefined), or estimated from residuals. */
export function whitener(opts: RdmOptions, obs: Observations, means: Float64Array, descriptors: Record<string, unknown>): Whitener | undefined {
  const C = obs.channels, K = obs.labels.length;
  const p = opts.precision;
  if (p === "identity") {
    descriptors.noise = "identity";
    return undefined;
  }
  if (p !== undefined && typeof p !== "string") {
    const flat = isNested(p) ? Float64Array.from((p as number[][]).flat()) : Float64Array.from(p as ArrayLike<number>);
    if (flat.length !== C * C) {
      throw new InputError(undefined, `rdm: the precision matrix must be ${C}×${C} (channels × channels), got ${isNested(p) ? `${(p as number[][]).length} rows` : `${flat.length} values`}`);
    }
    descriptors.noise = "precision given";
    return precisionWhitener(flat, C);
  }
  const method = p ?? "shrinkage_diag";
  const dof = obs.rows - K;
  if (dof <= 0) {
    throw new InputError(
      undefined,
      `rdm: ${opts.distance} needs a noise precision: pass { precision } (a ${C}×${C} matrix or "identity"), or repeated measurements per condition (\`by\`) to estimate it from their residuals (${obs.rows} rows, ${K} conditions)`,
    );
  }
  const residuals = new Float64Array(obs.rows * C);
  for (let r = 0; r < obs.rows; r++) {
    const m = obs.condition[r] * C;
    for (let c = 0; c < C; c++) residuals[r * C + c] = obs.data[r * C + c] - means[m + c];
  }
  descriptors.noise = `${method} from residuals (dof ${dof})`;
  return covarianceWhitener(covFromResiduals(residuals, { channels: C, method, dof }), C);
}

/** Whether a matrix is given as rows (number[][]) rather than flat. */
export function isNested(m: unknown): boolean {
  return Array.isArray(m) && m.length > 0 && typeof m[0] === "object" && m[0] !== null;
}
