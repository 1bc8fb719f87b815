// The result of APD: C parameter components, each a full set of the decomposed matrices
// P_{c,l} = A_{c,l} B_{c,l} (rank ≤ m), which attributions switch on per input; the same checks
// against a known answer as SPD's ParameterDecomposition (MMCS, ML2R, one shared definition in
// component-decomposition.ts). Matrices are shown as the target stores its weights, [d_out, d_in].
import { InputError } from "../../io/errors.js";
import { batchTopkMask, gradientAttributions, type ApdAttributionSource } from "./apd-attribution.js";
import { apdFactors, componentMatrix, type ApdLayout, type ApdModel } from "./apd-step.js";
import { ComponentDecomposition, matchColumns, type ColumnMatch } from "./component-decomposition.js";
import { mechanismDescriptionLength, type MechanismBitsOptions, type MechanismDescriptionLength } from "./mechanism-bits.js";

/** One logged step of APD training: the unweighted loss terms and the learning rate. */
export interface ApdTrainingRecord {
  step: number;
  lr: number;
  total: number;
  faithfulness: number;
  minimality: number;
  simplicity: number;
}

/** A target decomposed by APD (see `fl.apd`). */
export class ApdDecomposition extends ComponentDecomposition<ApdTrainingRecord> {
  /** m, the inner rank of each factorised matrix A_c B_c. */
  readonly rank: number;
  /** Mean components kept per input by the batch top-k it was trained with. */
  readonly topk: number;
  /** Whose gradients the attributions use ("target", as the repo now; "apd", as the paper's TMS 5-2 runs). */
  readonly attributionSource: ApdAttributionSource;
  private readonly model: ApdModel;
  private readonly layout: ApdLayout;
  private readonly theta: Float64Array;

  constructor(init: { names: string[]; model: ApdModel; layout: ApdLayout; theta: Float64Array; topk: number; attributionSource: ApdAttributionSource; history: ApdTrainingRecord[]; seconds: number }) {
    super({ names: init.names, components: init.model.C, history: init.history, seconds: init.seconds });
    this.model = init.model;
    this.layout = init.layout;
    this.theta = init.theta;
    this.rank = init.model.m;
    this.topk = init.topk;
    this.attributionSource = init.attributionSource;
  }

  private component_(l: number, c: number): Float64Array {
    const { A, B } = apdFactors(this.model, this.layout, this.theta, l);
    const { din, dout } = this.model.layers[l];
    return componentMatrix(A, B, this.components, din, this.rank, dout, c);
  }

  /** [d_in, d_out] row-major → [d_out][d_in]. */
  private static shown(P: Float64Array, din: number, dout: number): number[][] {
    return Array.from({ length: dout }, (_, o) => Array.from({ length: din }, (_, i) => P[i * dout + o]));
  }

  /**
   * A [C][d_in][m] of a layer, as the repo stores it: component c's input side.
   * @example
   * apdDec.A("linear1")[0];  // [d_in][m] of component 0
   */
  A(layer: string | number = 0): number[][][] {
    const l = this.index(layer);
    const { A } = apdFactors(this.model, this.layout, this.theta, l);
    const { din } = this.model.layers[l], m = this.rank;
    return Array.from({ length: this.components }, (_, c) => Array.from({ length: din }, (_, i) => Array.from(A.subarray((c * din + i) * m, (c * din + i + 1) * m))));
  }

  /**
   * B [C][m][d_out] of a layer: component c's output side.
   * @example
   * apdDec.B("linear1")[0];
   */
  B(layer: string | number = 0): number[][][] {
    const l = this.index(layer);
    const { B } = apdFactors(this.model, this.layout, this.theta, l);
    const { dout } = this.model.layers[l], m = this.rank;
    return Array.from({ length: this.components }, (_, c) => Array.from({ length: m }, (_, j) => Array.from(B.subarray((c * m + j) * dout, (c * m + j + 1) * dout))));
  }

  /**
   * Component c of a layer as a matrix [d_out, d_in] (P_cᵀ, in the target's orientation).
   * @example
   * apdDec.component("linear1", 0);
   */
  component(layer: string | number, c: number): number[][] {
    if (!Number.isInteger(c) || c < 0 || c >= this.components) throw new InputError(undefined, `ApdDecomposition: component ${c} out of range 0..${this.components - 1}`);
    const l = this.index(layer);
    const { din, dout } = this.model.layers[l];
    return ApdDecomposition.shown(this.component_(l, c), din, dout);
  }

  /**
   * Σ_c of the components of a layer, [d_out, d_in]: what faithfulness pulls toward the target's weight.
   * @example
   * apdDec.weight("linear1");  // ≈ target.W
   */
  weight(layer: string | number = 0): number[][] {
    const l = this.index(layer);
    const { din, dout } = this.model.layers[l];
    return ApdDecomposition.shown(this.component_(l, -1), din, dout);
  }

  /**
   * The target's weight of a layer, [d_out, d_in].
   * @example
   * apdDec.targetWeight("linear1");
   */
  targetWeight(layer: string | number = 0): number[][] {
    const { W, din, dout } = this.model.layers[this.index(layer)];
    return Array.from({ length: dout }, (_, o) => Array.from(W.subarray(o * din, (o + 1) * din)));
  }

  protected matches(truth: number[][] | undefined, layer: string | number): ColumnMatch[] {
    const l = this.index(layer);
    const { din, dout } = this.model.layers[l];
    const P = Array.from({ length: this.components }, (_, c) => this.component_(l, c));
    return matchColumns("ApdDecomposition", truth ?? this.targetWeight(l), (c, j) => P[c].subarray(j * dout, (j + 1) * dout), this.components, dout, din);
  }

  private rows(x: number[][]): Float64Array {
    const n = this.model.layers[0].din;
    if (!Array.isArray(x) || x.some((r) => !Array.isArray(r) || r.length !== n)) throw new InputError(undefined, `ApdDecomposition: inputs must be rows of ${n} numbers`);
    return Float64Array.from(x.flat());
  }

  /**
   * Gradient attributions A_c(x) of every component on inputs x (rows of the model's input), [rows, C]:
   * Σ_f (∂f/∂h · h·P_c)² over the outputs f, as training picks the active components.
   * @example
   * const oneHot = [0, 1, 2, 3, 4].map((i) => [0, 1, 2, 3, 4].map((j) => (i === j ? 0.75 : 0)));
   * apdDec.attributions(oneHot);  // one large entry per row
   */
  attributions(x: number[][]): number[][] {
    const a = gradientAttributions(this.model, this.layout, this.theta, this.rows(x), x.length, this.attributionSource);
    const C = this.components;
    return Array.from({ length: x.length }, (_, b) => Array.from(a.subarray(b * C, (b + 1) * C)));
  }

  /**
   * The components the batch top-k keeps for each input, with these rows as the batch (⌊topk·rows⌋
   * kept in all; default topk: the training value). `.length` of each row is its active count.
   * @example
   * apdDec.activeComponents(target.sample(1000)).map((r) => r.length);  // active components per input
   */
  activeComponents(x: number[][], topk: number = this.topk): number[][] {
    if (!(typeof topk === "number" && topk >= 0 && Number.isFinite(topk))) throw new InputError(undefined, `ApdDecomposition.activeComponents: topk must be a finite number ≥ 0, got ${topk}`);
    const C = this.components;
    const a = gradientAttributions(this.model, this.layout, this.theta, this.rows(x), x.length, this.attributionSource);
    const mask = batchTopkMask(a, x.length, C, topk);
    return Array.from({ length: x.length }, (_, b) => [...Array(C).keys()].filter((c) => mask[b * C + c] === 1));
  }

  /** The chain on rows x: each layer's target W, or (with masks [rows][C]) Σ_c m_c P_{c,l}; then + bias, ReLU. */
  private run(x: number[][], mask?: number[][]): number[][] {
    const { layers, bias } = this.model;
    const C = this.components;
    const P = mask ? layers.map((_, l) => Array.from({ length: C }, (_, c) => this.component_(l, c))) : [];
    return x.map((row, r) => {
      let h = row;
      layers.forEach((ly, l) => {
        const out = new Array<number>(ly.dout).fill(0);
        for (let i = 0; i < ly.din; i++) {
          if (h[i] === 0) continue;
          if (!mask) for (let o = 0; o < ly.dout; o++) out[o] += h[i] * ly.W[o * ly.din + i];
          else for (let c = 0; c < C; c++) if (mask[r][c] !== 0) for (let o = 0; o < ly.dout; o++) out[o] += mask[r][c] * h[i] * P[l][c][i * ly.dout + o];
        }
        h = out;
      });
      return h.map((v, o) => Math.max(0, v + bias[o]));
    });
  }

  /**
   * The description length of (network, dataset) in APD's components, as `ParameterDecomposition.descriptionLength`
   * measures SPD's: bits per input to name the components an input needs. A component spans every layer, so there
   * is one group of C; it counts as needed when its attribution exceeds τ × the largest attribution on these
   * inputs, τ as high as keeps the output FVU within `tolerance` of all components kept.
   * @example
   * fl.show((await apdDec.descriptionLength(target.sample(4000))).toRecord());
   */
  async descriptionLength(x: number[][], opts: MechanismBitsOptions = {}): Promise<MechanismDescriptionLength> {
    this.rows(x);
    return mechanismDescriptionLength("ApdDecomposition.descriptionLength", {
      layerNames: ["components"],
      components: this.components,
      importances: (rows) => {
        const a = this.attributions(rows);
        let max = 0;
        for (const r of a) for (const v of r) if (v > max) max = v;
        return [a.map((r) => r.map((v) => (max > 0 ? v / max : 0)))];
      },
      maskedOutput: (rows, masks) => this.run(rows, masks[0]),
      targetOutput: (rows) => this.run(rows),
    }, x, opts);
  }

  /**
   * One row per layer: components with ‖P_{c,l}‖_F > 0.1 ("large") and the last losses.
   * @example
   * console.table(apdDec.summary());
   */
  summary(): Record<string, number | string>[] {
    const last = this.history[this.history.length - 1];
    return this.layerNames.map((name, l) => {
      const norms = Array.from({ length: this.components }, (_, c) => Math.hypot(...this.component_(l, c)));
      return { layer: name, components: this.components, large: norms.filter((v) => v > 0.1).length, faithfulness: last?.faithfulness ?? NaN, minimality: last?.minimality ?? NaN };
    });
  }

  /** "ApdDecomposition(linear1, linear2; C=5, topk=0.211)". */
  toString(): string {
    return `ApdDecomposition(${this.layerNames.join(", ")}; C=${this.components}, topk=${this.topk})`;
  }

  /** What console.log and fl.show print: the summary, not the arrays. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const rows = this.summary().map((r) => `  ${String(r.layer).padEnd(16)} components with norm > 0.1: ${r.large}`);
    return [this.toString(), ...rows, `  MMCS ${this.mmcs().toFixed(3)}  ML2R ${this.ml2r().toFixed(3)} (layer ${this.layerNames[0]})`].join("\n");
  }
}
