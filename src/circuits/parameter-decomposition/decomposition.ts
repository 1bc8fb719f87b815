// The result of SPD: every decomposed matrix as C rank-one subcomponents U_cᵀV_cᵀ, their causal
// importances on any input, and the paper's two checks against a known answer (Bushnaq, Braun &
// Sharkey 2025, §TMS): for the columns W_:,j of a target matrix and the columns U_c·V_{c,j} of the
// subcomponents,
//   MMCS = mean_j max_c cos(U_c V_{c,j}, W_:,j)
//   ML2R = mean_j ‖U_{c*} V_{c*,j}‖ / ‖W_:,j‖,  c* the argmax of that cosine.
// (Row-vector storage here: V [d_in, C], U [C, d_out], so the paper's U_{:,c} is our row U[c].)
import { InputError } from "../../io/errors.js";
import { ComponentDecomposition, matchColumns, type ColumnMatch } from "./component-decomposition.js";
import { gateForward, stepFactors, type GateScratch, type StepLayout, type StepModel } from "./spd-step.js";
import { mechanismDescriptionLength, type MechanismBitsOptions, type MechanismDescriptionLength } from "./mechanism-bits.js";

/** One logged step of SPD training: the unweighted loss terms and the schedule. */
export interface SpdTrainingRecord {
  step: number;
  lr: number;
  p: number;
  total: number;
  faithfulness: number;
  stochasticRecon: number;
  stochasticReconLayerwise: number;
  importanceMinimality: number;
}

/** A decomposed target (see `fl.spd`). */
export class ParameterDecomposition extends ComponentDecomposition<SpdTrainingRecord> {
  private readonly model: StepModel;
  private readonly layout: StepLayout;
  private readonly theta: Float64Array;

  constructor(init: { names: string[]; model: StepModel; layout: StepLayout; theta: Float64Array; history: SpdTrainingRecord[]; seconds: number }) {
    super({ names: init.names, components: init.model.C, history: init.history, seconds: init.seconds });
    this.model = init.model;
    this.layout = init.layout;
    this.theta = init.theta;
  }

  /**
   * V [d_in, C] of a layer: column c is subcomponent c's input direction.
   * @example
   * dec.V("linear1");
   */
  V(layer: string | number = 0): number[][] {
    const l = this.index(layer);
    const { V } = stepFactors(this.model, this.layout, this.theta, l);
    const { din } = this.model.layers[l], C = this.components;
    return Array.from({ length: din }, (_, i) => Array.from(V.subarray(i * C, (i + 1) * C)));
  }

  /**
   * U [C, d_out] of a layer: row c is subcomponent c's output direction.
   * @example
   * dec.U("linear1");
   */
  U(layer: string | number = 0): number[][] {
    const l = this.index(layer);
    const { U } = stepFactors(this.model, this.layout, this.theta, l);
    const { dout } = this.model.layers[l];
    return Array.from({ length: this.components }, (_, c) => Array.from(U.subarray(c * dout, (c + 1) * dout)));
  }

  /**
   * Subcomponent c of a layer as a matrix [d_out, d_in] (rank one: U_cᵀV_cᵀ).
   * @example
   * dec.subcomponent("linear1", 0);
   */
  subcomponent(layer: string | number, c: number): number[][] {
    if (!Number.isInteger(c) || c < 0 || c >= this.components) throw new InputError(undefined, `ParameterDecomposition: subcomponent ${c} out of range 0..${this.components - 1}`);
    const V = this.V(layer), U = this.U(layer);
    return U[c].map((u) => V.map((v) => u * v[c]));
  }

  /**
   * Σ_c of the subcomponents of a layer, [d_out, d_in]: what faithfulness pulls toward the target's weight.
   * @example
   * dec.weight("linear1");                      // ≈ target.W
   */
  weight(layer: string | number = 0): number[][] {
    const V = this.V(layer), U = this.U(layer);
    return U[0].map((_, o) => V.map((v) => v.reduce((s, vc, c) => s + vc * U[c][o], 0)));
  }

  /**
   * The target's weight of a layer, [d_out, d_in].
   * @example
   * dec.targetWeight("linear1");
   */
  targetWeight(layer: string | number = 0): number[][] {
    const l = this.index(layer);
    const { W, din, dout } = this.model.layers[l];
    return Array.from({ length: dout }, (_, o) => Array.from(W.subarray(o * din, (o + 1) * din)));
  }

  /** For each column j of W: the best-aligned subcomponent, its cosine and its norm ratio. */
  protected matches(truth: number[][] | undefined, layer: string | number): ColumnMatch[] {
    const V = this.V(layer), U = this.U(layer);
    return matchColumns("ParameterDecomposition", truth ?? this.targetWeight(layer), (c, j) => U[c].map((u) => u * V[j][c]), this.components, U[0].length, V.length);
  }

  /**
   * Causal importances g ∈ [0, 1] of every subcomponent of a layer for inputs x (rows of the
   * model's input), [rows, C]: the gates read the target's own activations.
   * @example
   * const oneHot = [0, 1, 2, 3, 4].map((i) => [0, 1, 2, 3, 4].map((j) => (i === j ? 0.75 : 0)));
   * dec.causalImportances(oneHot, "linear1");  // one subcomponent per feature
   */
  causalImportances(x: number[][], layer: string | number = 0): number[][] {
    const l = this.index(layer);
    const { layers, C, H } = this.model;
    const B = x.length;
    if (x.some((r) => r.length !== layers[0].din)) throw new InputError(undefined, `ParameterDecomposition: inputs must have ${layers[0].din} entries per row`);
    let h = Float64Array.from(x.flat());
    for (let k = 0; k < l; k++) {
      const { W, din, dout } = layers[k];
      const next = new Float64Array(B * dout);
      for (let b = 0; b < B; b++) for (let o = 0; o < dout; o++) for (let i = 0; i < din; i++) next[b * dout + o] += h[b * din + i] * W[o * din + i];
      h = next;
    }
    const { V } = stepFactors(this.model, this.layout, this.theta, l);
    const din = layers[l].din;
    const a = new Float64Array(B * C);
    for (let b = 0; b < B; b++) for (let i = 0; i < din; i++) for (let c = 0; c < C; c++) a[b * C + c] += h[b * din + i] * V[i * C + c];
    const scratch: GateScratch = { cdf: new Float64Array(B * C * H), pdf: new Float64Array(B * C * H) };
    const lay = this.layout;
    const pre = gateForward(a, this.theta, lay.wIn[l], lay.bIn[l], lay.wOut[l], lay.bOut[l], B, C, H, scratch);
    return Array.from({ length: B }, (_, b) => Array.from(pre.subarray(b * C, (b + 1) * C), (v) => Math.min(1, Math.max(0, v))));
  }

  /** The chain run on rows x: each layer the target's W, or (with masks) its subcomponents Σ_c m_c U_cᵀ V_cᵀ; then + bias, ReLU. */
  private run(x: number[][], masks?: number[][][]): number[][] {
    const { layers, C, bias } = this.model;
    if (x.some((r) => r.length !== layers[0].din)) throw new InputError(undefined, `ParameterDecomposition: inputs must have ${layers[0].din} entries per row`);
    if (masks && (masks.length !== layers.length || masks.some((m) => m.length !== x.length || m.some((r) => r.length !== C)))) {
      throw new InputError(undefined, `ParameterDecomposition: masks must be one [${x.length}, ${C}] array per layer (${layers.length} layers)`);
    }
    return x.map((row, r) => {
      let h = row;
      layers.forEach((ly, l) => {
        if (!masks) {
          h = Array.from({ length: ly.dout }, (_, o) => h.reduce((s, v, i) => s + v * ly.W[o * ly.din + i], 0));
          return;
        }
        const { V, U } = stepFactors(this.model, this.layout, this.theta, l);
        const q = Array.from({ length: C }, (_, c) => masks[l][r][c] * h.reduce((s, v, i) => s + v * V[i * C + c], 0));
        h = Array.from({ length: ly.dout }, (_, o) => q.reduce((s, v, c) => s + v * U[c * ly.dout + o], 0));
      });
      return h.map((v, o) => Math.max(0, v + bias[o]));
    });
  }

  /**
   * The target's outputs for inputs x (rows of the model's input).
   * @example
   * dec.targetOutput([[0.75, 0, 0, 0, 0]]);
   */
  targetOutput(x: number[][]): number[][] {
    return this.run(x);
  }

  /**
   * The decomposed model's outputs with each subcomponent kept in proportion to its mask (one [rows, C]
   * array per layer; 1 keeps, 0 ablates). All ones is Σ_c of the subcomponents, what faithfulness fits.
   * @example
   * const x = [[0.75, 0, 0, 0, 0]];
   * dec.maskedOutput(x, dec.layerNames.map((_, l) => dec.causalImportances(x, l)));
   */
  maskedOutput(x: number[][], masks: number[][][]): number[][] {
    return this.run(x, masks);
  }

  /**
   * The description length of (network, dataset) in this decomposition's mechanisms: bits per input
   * to say which subcomponents are causally important (above a threshold τ chosen as high as keeps
   * the output's FVU within `tolerance` of all subcomponents kept), each coded on its own and, as
   * `jointBits`, the firing pattern coded whole. The network computes the magnitudes, so none are sent.
   * @example
   * const dl = await dec.descriptionLength(target.sample(4000), { tolerance: 0.01 });
   * fl.show(dl.toRecord());
   */
  descriptionLength(x: number[][], opts: MechanismBitsOptions = {}): Promise<MechanismDescriptionLength> {
    return mechanismDescriptionLength("ParameterDecomposition.descriptionLength", {
      layerNames: this.layerNames,
      components: this.components,
      importances: (rows) => this.layerNames.map((_, l) => this.causalImportances(rows, l)),
      maskedOutput: (rows, masks) => this.run(rows, masks),
      targetOutput: (rows) => this.run(rows),
    }, x, opts);
  }

  /**
   * One row per layer: the subcomponents' norms ‖U_c‖·‖V_c‖ above 0.1 ("large") and the last losses.
   * @example
   * console.table(dec.summary());
   */
  summary(): Record<string, number | string>[] {
    const last = this.history[this.history.length - 1];
    return this.layerNames.map((name, l) => {
      const V = this.V(l), U = this.U(l);
      const norms = U.map((u, c) => Math.hypot(...u) * Math.hypot(...V.map((v) => v[c])));
      return { layer: name, components: this.components, large: norms.filter((v) => v > 0.1).length, faithfulness: last?.faithfulness ?? NaN, stochasticRecon: last?.stochasticRecon ?? NaN };
    });
  }

  /** "ParameterDecomposition(linear1, linear2; C=20)". */
  toString(): string {
    return `ParameterDecomposition(${this.layerNames.join(", ")}; C=${this.components})`;
  }

  /** What console.log and fl.show print: the summary, not the arrays. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const rows = this.summary().map((r) => `  ${String(r.layer).padEnd(16)} subcomponents with norm > 0.1: ${r.large}`);
    return [this.toString(), ...rows, `  MMCS ${this.mmcs().toFixed(3)}  ML2R ${this.ml2r().toFixed(3)} (layer ${this.layerNames[0]})`].join("\n");
  }
}
