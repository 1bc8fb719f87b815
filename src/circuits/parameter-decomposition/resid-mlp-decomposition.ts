// The result of SPD on a residual MLP (fl.spd(fl.residMlpTarget(…))): every mlp_in and mlp_out as
// C rank-one subcomponents, and the checks the papers make (Bushnaq, Braun & Sharkey 2025,
// §Compressed computation; Braun et al. 2025):
//   - causal importances of one-hot inputs x_i = 0.75: how many subcomponents each feature needs
//     in each matrix ("alive" above 0.1, the repo's ci_alive_threshold) — about one per feature in
//     mlp_in (100 in all), and in mlp_out ~50 that fire together (one rank-50 mechanism);
//   - neuron contributions per feature i: target (W_U[i,:]·W_out) ⊙ (W_in·W_E[i,:]), against the
//     same with W_in replaced by its subcomponent that contributes most to feature i and W_out by
//     the sum of its subcomponents;
//   - the decomposed model's MSE on the labels, with masks the causal importances, stochastic
//     masks g + (1 − g)u, or all ones, beside the target's.
import { gateForward, stepFactors, stochasticMask, type StepLayout } from "./spd-step.js";
import { ResidGraph, type ResidStepModel } from "./resid-mlp-step.js";
import { sampleResidFeatures, type ResidMlpTarget } from "./resid-mlp-target.js";
import type { SpdTrainingRecord } from "./decomposition.js";
import { ComponentDecomposition, matchColumns, type ColumnMatch } from "./component-decomposition.js";
import { Rng } from "../../engine/random.js";
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** Options of `aliveSubcomponents`. */
export interface AliveOptions {
  /** The value of the one active feature (default 0.75, as the paper's figures). */
  value?: number;
  /** A subcomponent is alive for a feature when its causal importance exceeds this (default 0.1). */
  threshold?: number;
}

/** Options of `losses`. */
export interface ResidLossOptions {
  /** Rows drawn from the training distribution (default 10 000). */
  rows?: number;
  seed?: number;
}

const ALIVE_OPTIONS = optionNames<AliveOptions>({ value: true, threshold: true });
const LOSS_OPTIONS = optionNames<ResidLossOptions>({ rows: true, seed: true });

/** A decomposed residual MLP (see `fl.spd`); its layers are the matrices "layers.0.mlp_in", "layers.0.mlp_out", … */
export class ResidMlpDecomposition extends ComponentDecomposition<SpdTrainingRecord> {
  readonly target: ResidMlpTarget;
  private readonly model: ResidStepModel;
  private readonly layout: StepLayout;
  private readonly theta: Float64Array;
  private readonly featureProbability: number;

  constructor(init: { target: ResidMlpTarget; model: ResidStepModel; layout: StepLayout; theta: Float64Array; history: SpdTrainingRecord[]; seconds: number; featureProbability: number }) {
    super({ names: init.target.matrices().map((m) => m.name), components: init.model.step.C, history: init.history, seconds: init.seconds });
    this.target = init.target;
    this.model = init.model;
    this.layout = init.layout;
    this.theta = init.theta;
    this.featureProbability = init.featureProbability;
  }

  /** For each column j of W (default: the target's matrix): the subcomponent whose column U_c·V_{c,j} is best aligned. */
  protected matches(truth: number[][] | undefined, layer: string | number): ColumnMatch[] {
    const k = this.index(layer);
    const { din, dout, W } = this.model.step.layers[k];
    const { V, U } = stepFactors(this.model.step, this.layout, this.theta, k);
    const C = this.components;
    const target = truth ?? Array.from({ length: dout }, (_, o) => Array.from(W.subarray(o * din, (o + 1) * din)));
    return matchColumns("ResidMlpDecomposition", target, (c, j) => Array.from(U.subarray(c * dout, (c + 1) * dout), (u) => u * V[j * C + c]), C, dout, din);
  }

  private rows(x: number[][], who: string): Float64Array {
    const n = this.model.n;
    if (!Array.isArray(x) || x.length === 0 || x.some((r) => !Array.isArray(r) || r.length !== n)) throw new InputError(undefined, `ResidMlpDecomposition.${who}: inputs must be a non-empty array of rows of ${n} features`);
    return Float64Array.from(x.flat());
  }

  /**
   * V [d_in, C] of a matrix: column c is subcomponent c's input direction.
   * @example
   * residDec.V("layers.0.mlp_in");                    // [1000, C]
   */
  V(layer: string | number = 0): number[][] {
    const k = this.index(layer);
    const { V } = stepFactors(this.model.step, this.layout, this.theta, k);
    const C = this.components;
    return Array.from({ length: this.model.step.layers[k].din }, (_, i) => Array.from(V.subarray(i * C, (i + 1) * C)));
  }

  /**
   * U [C, d_out] of a matrix: row c is subcomponent c's output direction.
   * @example
   * residDec.U("layers.0.mlp_in");                    // [C, 50]
   */
  U(layer: string | number = 0): number[][] {
    const k = this.index(layer);
    const { U } = stepFactors(this.model.step, this.layout, this.theta, k);
    const dout = this.model.step.layers[k].dout;
    return Array.from({ length: this.components }, (_, c) => Array.from(U.subarray(c * dout, (c + 1) * dout)));
  }

  /**
   * Subcomponent c of a matrix as [d_out, d_in] (rank one: U_cᵀV_cᵀ).
   * @example
   * residDec.subcomponent("layers.0.mlp_in", 0);
   */
  subcomponent(layer: string | number, c: number): number[][] {
    if (!Number.isInteger(c) || c < 0 || c >= this.components) throw new InputError(undefined, `ResidMlpDecomposition: subcomponent ${c} out of range 0..${this.components - 1}`);
    const V = this.V(layer), U = this.U(layer);
    return U[c].map((u) => V.map((v) => u * v[c]));
  }

  /** The gates' causal importances (clamped to [0, 1]) of every matrix, [B, C] each, for rows x (flat, [B, n]). */
  private importancesFlat(x: Float64Array, B: number): Float64Array[] {
    const g = new ResidGraph(this.model, this.layout, this.theta);
    const { a } = g.innerActs(x, B);
    const { C, H } = this.model.step, lay = this.layout;
    return a.map((ak, k) => gateForward(ak, this.theta, lay.wIn[k], lay.bIn[k], lay.wOut[k], lay.bOut[k], B, C, H).map((v) => Math.min(1, Math.max(0, v))));
  }

  /**
   * Causal importances g ∈ [0, 1] of every subcomponent of a matrix for inputs x (rows of n
   * features), [rows, C]: the gates read the target's own activations.
   * @example
   * const oneHot = [0, 1, 2].map((i) => Array.from({ length: 100 }, (_, j) => (i === j ? 0.75 : 0)));
   * residDec.causalImportances(oneHot, "layers.0.mlp_in");   // one subcomponent near 1 per row
   */
  causalImportances(x: number[][], layer: string | number = 0): number[][] {
    const k = this.index(layer);
    const ci = this.importancesFlat(this.rows(x, "causalImportances"), x.length)[k];
    const C = this.components;
    return Array.from({ length: x.length }, (_, b) => Array.from(ci.subarray(b * C, (b + 1) * C)));
  }

  /**
   * For one-hot inputs (feature i at `value`, the rest 0): how many subcomponents of each matrix are
   * causally important (g > threshold) for each feature, how many are for some feature ("alive"),
   * and the mean per feature. The paper: ~1 per feature in mlp_in (100 alive), ~50 in mlp_out.
   * @example
   * console.table(residDec.aliveSubcomponents().map(({ perFeature, ...r }) => r));
   */
  aliveSubcomponents(opts: AliveOptions = {}): { matrix: string; alive: number; meanPerFeature: number; featuresWithOne: number; perFeature: number[] }[] {
    rejectUnknownOptions("ResidMlpDecomposition.aliveSubcomponents", opts, ALIVE_OPTIONS);
    const value = opts.value ?? 0.75, threshold = opts.threshold ?? 0.1;
    if (!(Number.isFinite(value) && value !== 0)) throw new InputError(undefined, `ResidMlpDecomposition.aliveSubcomponents: value must be a finite nonzero number, got ${value}`);
    if (!(threshold >= 0 && threshold < 1)) throw new InputError(undefined, `ResidMlpDecomposition.aliveSubcomponents: threshold must be in [0, 1), got ${threshold}`);
    const n = this.model.n, C = this.components;
    const x = new Float64Array(n * n);
    for (let i = 0; i < n; i++) x[i * n + i] = value;
    return this.importancesFlat(x, n).map((ci, k) => {
      const alive = new Set<number>();
      const perFeature = Array.from({ length: n }, (_, i) => {
        let count = 0;
        for (let c = 0; c < C; c++) {
          if (ci[i * C + c] > threshold) {
            count++;
            alive.add(c);
          }
        }
        return count;
      });
      return { matrix: this.layerNames[k], alive: alive.size, meanPerFeature: perFeature.reduce((s, v) => s + v, 0) / n, featuresWithOne: perFeature.filter((v) => v === 1).length, perFeature };
    });
  }

  /**
   * Neuron contributions per feature i and MLP layer, as the papers': target (W_U[i,:]·W_out) ⊙
   * (W_in·W_E[i,:]) [neurons], and the same from the subcomponent of W_in that contributes most
   * to feature i (W_out as the sum of its subcomponents), with that subcomponent's index.
   * @example
   * const nc = residDec.neuronContributions(0);
   * nc[3].target;                               // feature 3's contribution through each of the 50 neurons
   */
  neuronContributions(layer = 0): { feature: number; component: number; target: number[]; subcomponent: number[] }[] {
    const { n, d, h, L, E, step } = this.model;
    if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new InputError(undefined, `ResidMlpDecomposition.neuronContributions: layer must be an integer in 0..${L - 1}, got ${layer}`);
    const C = this.components;
    const Win = step.layers[2 * layer].W, Wout = step.layers[2 * layer + 1].W;
    const { V: Vin, U: Uin } = stepFactors(step, this.layout, this.theta, 2 * layer);
    const { V: Vout, U: Uout } = stepFactors(step, this.layout, this.theta, 2 * layer + 1);
    return Array.from({ length: n }, (_, i) => {
      const e = E.subarray(i * d, (i + 1) * d);
      // read-out through W_out (target) and through Σ_c of its subcomponents: (e·W_out)_j, (e·(V U)ᵀ)_j
      const readT = new Float64Array(h), readS = new Float64Array(h);
      const eU = new Float64Array(C);
      for (let c = 0; c < C; c++) for (let o = 0; o < d; o++) eU[c] += e[o] * Uout[c * d + o];
      for (let j = 0; j < h; j++) {
        for (let o = 0; o < d; o++) readT[j] += e[o] * Wout[o * h + j];
        for (let c = 0; c < C; c++) readS[j] += Vout[j * C + c] * eU[c];
      }
      const target = Array.from({ length: h }, (_, j) => {
        let w = 0;
        for (let o = 0; o < d; o++) w += Win[j * d + o] * e[o];
        return readT[j] * w;
      });
      const eV = new Float64Array(C);
      for (let o = 0; o < d; o++) for (let c = 0; c < C; c++) eV[c] += e[o] * Vin[o * C + c];
      let best = 0, bestSum = -Infinity;
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let j = 0; j < h; j++) sum += readS[j] * Uin[c * h + j] * eV[c];
        if (sum > bestSum) [best, bestSum] = [c, sum];
      }
      return { feature: i, component: best, target, subcomponent: Array.from({ length: h }, (_, j) => readS[j] * Uin[best * h + j] * eV[best]) };
    });
  }

  /**
   * MSE against the labels x + ReLU(x) on rows of the training distribution: the target's, the
   * decomposed model's with masks = causal importances, with stochastic masks g + (1 − g)u, and with
   * all subcomponents (masks 1); and the masked model's MSE against the target's output.
   * @example
   * residDec.losses({ rows: 10_000 });               // { target, ciMasked, stochastic, unmasked, ciMaskedVsTarget }
   */
  losses(opts: ResidLossOptions = {}): { target: number; ciMasked: number; stochastic: number; unmasked: number; ciMaskedVsTarget: number } {
    rejectUnknownOptions("ResidMlpDecomposition.losses", opts, LOSS_OPTIONS);
    const rows = opts.rows ?? 10_000;
    if (!Number.isInteger(rows) || rows < 1) throw new InputError(undefined, `ResidMlpDecomposition.losses: rows must be a positive integer, got ${rows}`);
    const rng = new Rng(opts.seed ?? 1);
    const { n, step } = this.model;
    const M = step.layers.length, C = this.components;
    const sums = { target: 0, ciMasked: 0, stochastic: 0, unmasked: 0, ciMaskedVsTarget: 0 };
    const g = new ResidGraph(this.model, this.layout, this.theta);
    for (let done = 0; done < rows; done += 2048) {
      const B = Math.min(2048, rows - done);
      const x = sampleResidFeatures(rng, this.featureProbability, B, n);
      const ci = this.importancesFlat(x, B);
      const u = ci.map(() => Float64Array.from({ length: B * C }, () => rng.uniform()));
      const target = g.forward(x, B, []).out;
      const outs = {
        ciMasked: g.forward(x, B, ci).out,
        stochastic: g.forward(x, B, ci.map((c, k) => stochasticMask(c, u[k]))).out,
        unmasked: g.forward(x, B, Array.from({ length: M }, () => new Float64Array(B * C).fill(1))).out,
      };
      for (let j = 0; j < B * n; j++) {
        const y = x[j] + Math.max(0, x[j]);
        sums.target += (target[j] - y) ** 2;
        sums.ciMasked += (outs.ciMasked[j] - y) ** 2;
        sums.stochastic += (outs.stochastic[j] - y) ** 2;
        sums.unmasked += (outs.unmasked[j] - y) ** 2;
        sums.ciMaskedVsTarget += (outs.ciMasked[j] - target[j]) ** 2;
      }
    }
    const k = 1 / (rows * n);
    return { target: sums.target * k, ciMasked: sums.ciMasked * k, stochastic: sums.stochastic * k, unmasked: sums.unmasked * k, ciMaskedVsTarget: sums.ciMaskedVsTarget * k };
  }

  /**
   * The decomposed model's outputs ŷ [rows, n] with each subcomponent kept in proportion to its mask
   * (one [rows, C] array per matrix; 1 keeps, 0 ablates).
   * @example
   * const x = residTarget.sample(4);
   * residDec.maskedOutput(x, residDec.layerNames.map((_, k) => residDec.causalImportances(x, k)));
   */
  maskedOutput(x: number[][], masks: number[][][]): number[][] {
    const xs = this.rows(x, "maskedOutput");
    const B = x.length, C = this.components, M = this.layerNames.length;
    if (!Array.isArray(masks) || masks.length !== M || masks.some((m) => !Array.isArray(m) || m.length !== B || m.some((r) => r.length !== C))) {
      throw new InputError(undefined, `ResidMlpDecomposition.maskedOutput: masks must be one [${B}, ${C}] array per matrix (${M} matrices)`);
    }
    const out = new ResidGraph(this.model, this.layout, this.theta).forward(xs, B, masks.map((m) => Float64Array.from(m.flat()))).out;
    const n = this.model.n;
    return Array.from({ length: B }, (_, b) => Array.from(out.subarray(b * n, (b + 1) * n)));
  }

  /**
   * One row per matrix: subcomponents with ‖U_c‖·‖V_c‖ > 0.1 ("large"), alive ones on one-hot
   * inputs, their mean per feature, and the last losses.
   * @example
   * console.table(residDec.summary());
   */
  summary(): Record<string, number | string>[] {
    const last = this.history[this.history.length - 1];
    const alive = this.aliveSubcomponents();
    return this.layerNames.map((name, k) => {
      const V = this.V(k), U = this.U(k);
      const norms = U.map((u, c) => Math.hypot(...u) * Math.hypot(...V.map((v) => v[c])));
      return { matrix: name, components: this.components, large: norms.filter((v) => v > 0.1).length, alive: alive[k].alive, perFeature: +alive[k].meanPerFeature.toFixed(3), faithfulness: last?.faithfulness ?? NaN, stochasticRecon: last?.stochasticRecon ?? NaN };
    });
  }

  /** "ResidMlpDecomposition(layers.0.mlp_in, layers.0.mlp_out; C=100)". */
  toString(): string {
    return `ResidMlpDecomposition(${this.layerNames.join(", ")}; C=${this.components})`;
  }

  /** What console.log and fl.show print: the summary, not the arrays. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const rows = this.summary().map((r) => `  ${String(r.matrix).padEnd(18)} alive on one-hot inputs: ${r.alive} (${r.perFeature} per feature), norm > 0.1: ${r.large}`);
    return [this.toString(), ...rows].join("\n");
  }
}
