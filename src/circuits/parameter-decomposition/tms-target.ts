// The toy model of superposition as the SPD paper trains its targets (Bushnaq, Braun & Sharkey
// 2025, appendix; goodfire-ai/spd experiments/tms): x̂ = ReLU(Wᵀ[I]Wx + b), W [m, n] tied (the
// output layer's weight is Wᵀ), features U[0,1) each with probability 0.05, plain MSE (importance 1),
// AdamW (weight decay 0.01) at a constant 5e-3 for 10k steps, batch 1024 (TMS 5-2) or 8192 (40-10).
// TMS+ID inserts a fixed, untrained m×m identity between the two, so it trains exactly as the
// model without it and only the decomposition sees a third matrix.
// Trained with featurelab's toySuperposition, which is this model; the differences from the repo
// are in the start only: W ~ xavier-normal (the repo: nn.Linear's kaiming-uniform, U(±1/√n)) and
// b = 0 (the repo: U(±1/√m) for 5-2, 0 for 40-10).
import { Rng } from "../../engine/random.js";
import { sampleFeatures, toySuperposition, type ToySuperposition } from "../../models/toy-superposition.js";
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** Options of `tmsTarget`. */
export interface TmsTargetOptions {
  /** n, input features (default 5). */
  features?: number;
  /** m, hidden dimensions (default 2). */
  hidden?: number;
  /** Insert a fixed identity matrix in the hidden space (TMS 5-2+ID; default false). */
  identity?: boolean;
  /** Probability of each feature being active (default 0.05). */
  featureProbability?: number;
  /** Training steps (default 10 000). */
  steps?: number;
  /** Rows per step (default 1024 for n ≤ 5, else 8192, as the paper). */
  batchSize?: number;
  /** Constant learning rate of AdamW (default 5e-3). */
  lr?: number;
  seed?: number;
}

const TARGET_OPTIONS = optionNames<TmsTargetOptions>({ features: true, hidden: true, identity: true, featureProbability: true, steps: true, batchSize: true, lr: true, seed: true });

/** A trained TMS target for SPD: W [m, n], b [n], and whether an identity sits between W and Wᵀ. */
export class TmsTarget {
  readonly features: number;
  readonly hidden: number;
  readonly identity: boolean;
  readonly featureProbability: number;
  /** W [m, n]: column i is feature i's direction in the hidden space. */
  readonly W: number[][];
  readonly b: number[];

  constructor(init: { W: number[][]; b: number[]; identity?: boolean; featureProbability?: number }) {
    rejectUnknownOptions("TmsTarget", init, optionNames<typeof init>({ W: true, b: true, identity: true, featureProbability: true }));
    const m = init.W.length, n = init.W[0]?.length ?? 0;
    if (m === 0 || n === 0 || init.W.some((r) => r.length !== n)) throw new InputError(undefined, "TmsTarget: W must be a non-empty [m, n] matrix");
    if (init.b.length !== n) throw new InputError(undefined, `TmsTarget: b has ${init.b.length} entries for ${n} features`);
    this.hidden = m;
    this.features = n;
    this.W = init.W.map((r) => [...r]);
    this.b = [...init.b];
    this.identity = init.identity ?? false;
    this.featureProbability = init.featureProbability ?? 0.05;
  }

  /**
   * The target of one model of a trained `fl.toySuperposition`.
   * @example
   * const target = fl.TmsTarget.fromToy(toy, 0);
   */
  static fromToy(toy: ToySuperposition, model = 0, identity = false): TmsTarget {
    return new TmsTarget({ W: toy.W(model), b: toy.b(model), identity, featureProbability: toy.featureProbability[model] });
  }

  /**
   * The weight matrices in order, [d_out, d_in] each, with names as the SPD repo's modules.
   * @example
   * target.layers().map((l) => l.name);       // ["linear1", "linear2"] (+ "hidden_layers.0" between with identity)
   */
  layers(): { name: string; W: number[][]; tiedTo?: number }[] {
    const m = this.hidden, n = this.features;
    const WT = Array.from({ length: n }, (_, i) => this.W.map((row) => row[i]));
    const out: { name: string; W: number[][]; tiedTo?: number }[] = [{ name: "linear1", W: this.W }];
    if (this.identity) out.push({ name: "hidden_layers.0", W: Array.from({ length: m }, (_, r) => Array.from({ length: m }, (_, c) => (r === c ? 1 : 0))) });
    out.push({ name: "linear2", W: WT, tiedTo: 0 });
    return out;
  }

  /**
   * x̂ = ReLU(Wᵀ[I]Wx + b) for inputs x (rows of n).
   * @example
   * target.forward([[0.75, 0, 0, 0, 0]]);
   */
  forward(x: number[][]): number[][] {
    return x.map((row) => {
      const h = this.W.map((w) => w.reduce((s, v, i) => s + v * row[i], 0));
      return this.b.map((bi, i) => Math.max(0, bi + h.reduce((s, hv, k) => s + hv * this.W[k][i], 0)));
    });
  }

  /**
   * Rows of input drawn as the target was trained: each feature U[0, 1) with its probability, else 0.
   * @example
   * const x = target.sample(1000, 7);
   */
  sample(rows: number, seed = 0): number[][] {
    if (!Number.isInteger(rows) || rows < 1) throw new InputError(undefined, `TmsTarget.sample: rows must be a positive integer, got ${rows}`);
    const flat = sampleFeatures(new Rng(seed), [this.featureProbability], rows, this.features);
    return Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * this.features, (r + 1) * this.features)));
  }

  /** "TmsTarget(5-2)", "TmsTarget(5-2+ID)". */
  toString(): string {
    return `TmsTarget(${this.features}-${this.hidden}${this.identity ? "+ID" : ""})`;
  }
}

/**
 * Train a TMS target as the SPD paper does (5-2 by default; `{ features: 40, hidden: 10 }` for 40-10,
 * `identity: true` for the +ID variants).
 * @example
 * const target = await fl.tmsTarget({ features: 5, hidden: 2, seed: 0 });
 * target.W;                                   // [2, 5]: a pentagon
 */
export async function tmsTarget(opts: TmsTargetOptions = {}): Promise<TmsTarget> {
  rejectUnknownOptions("tmsTarget", opts, TARGET_OPTIONS);
  const n = opts.features ?? 5, m = opts.hidden ?? 2;
  for (const [k, v] of [["features", n], ["hidden", m], ["steps", opts.steps ?? 1], ["batchSize", opts.batchSize ?? 1]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(undefined, `tmsTarget: ${k} must be a positive integer, got ${v}`);
  }
  const p = opts.featureProbability ?? 0.05;
  if (!(p > 0 && p <= 1)) throw new InputError(undefined, `tmsTarget: featureProbability must be in (0, 1], got ${p}`);
  const lr = opts.lr ?? 5e-3;
  if (!(lr > 0)) throw new InputError(undefined, `tmsTarget: lr must be positive, got ${lr}`);
  const toy = await toySuperposition({ features: n, hidden: m, featureProbability: p, importance: 1, lr, weightDecay: 0.01, steps: opts.steps ?? 10_000, batchSize: opts.batchSize ?? (n <= 5 ? 1024 : 8192), seed: opts.seed ?? 0 });
  return TmsTarget.fromToy(toy, 0, opts.identity ?? false);
}
