// Which head carries which skip-trigram? For a trigram A … B_t → C_t and a head h, the effect is the
// head's direct logit effect at the B position, averaged over the trigram's planted instances:
//   e[t, h] = mean_i ( out_h(b_i)[C_t] − mean_{t'≠t} out_h(b_i)[C_t'] ),
// the logit of the right C minus that of the other Cs, which is what tells the trigrams apart. In
// these toy models the residual stream is read out by a one-hot unembedding, so the logits are
// exactly onehot(B) + Σ_h out_h and the split into heads is exact, not a linear approximation.
// Heads needed for trigram t: the fewest heads (largest effects first) whose effects add up to ≥ 90%
// of the total Σ_h e[t, h]. One head = that trigram is monosemantic; more = it is spread across heads
// (with some heads cancelling others when effects have both signs: destructive interference).
import { tf } from "../../engine/backend.js";
import { AttentionOnlyModel } from "./attention-only-model.js";
import { GatedAttention } from "./gated-attention.js";
import { assertSkipTrigramData, type SkipTrigramData } from "./skip-trigrams.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** One trigram's logit difference split over heads. */
export interface TrigramHeadRow {
  trigram: string;
  /** Effect of each head on this trigram's logit difference. */
  effects: number[];
  /** Σ_h effects: the whole layer's logit difference for this trigram. */
  total: number;
  /** Fewest heads carrying ≥ `share` of the total; NaN when the total is not positive (trigram not carried). */
  headsNeeded: number;
  /** The heads that do, largest first. */
  carriers: number[];
  /** Largest single head's effect / total. */
  topShare: number;
  /** Planted-C accuracy on this trigram (the model or the block spliced in). */
  accuracy: number;
  instances: number;
}

/** Each skip-trigram's logit difference split over heads (made by `fl.trigramHeads`, drawn by `fl.plot.trigramHeads`). */
export class TrigramHeadMap {
  constructor(
    /** "original 4 heads" / "gated 8 heads". */
    readonly name: string,
    readonly heads: number,
    readonly rows: TrigramHeadRow[],
    /** The share of the total effect that counts as carried (0.9). */
    readonly share: number,
  ) {}

  /** Mean heads needed over the trigrams that are carried. */
  get meanHeadsNeeded(): number {
    const ok = this.rows.filter((r) => Number.isFinite(r.headsNeeded));
    return ok.reduce((s, r) => s + r.headsNeeded, 0) / Math.max(1, ok.length);
  }

  /** Trigrams carried by a single head. */
  get monosemantic(): number {
    return this.rows.filter((r) => r.headsNeeded === 1).length;
  }

  /** Heads that carry ≥ share of at least one trigram's effect as part of its carrier set. */
  get usedHeads(): number[] {
    return [...new Set(this.rows.flatMap((r) => r.carriers))].sort((a, b) => a - b);
  }

  /**
   * Tidy rows: one per (trigram, head).
   * @example
   * console.table(fl.trigramHeads(toyModel, data).tidy());
   */
  tidy(): { trigram: string; head: number; effect: number; share: number }[] {
    return this.rows.flatMap((r) => r.effects.map((e, h) => ({ trigram: r.trigram, head: h, effect: e, share: r.total > 0 ? e / r.total : NaN })));
  }

  /** A text table per trigram. */
  toString(): string {
    return `TrigramHeadMap(${this.name}: ${this.rows.length} trigrams, mean heads needed ${this.meanHeadsNeeded.toFixed(2)}, ${this.monosemantic} monosemantic)`;
  }
}

/** The fewest heads (largest effects first) whose effects sum to ≥ share·total. */
export function headsNeeded(effects: number[], share = 0.9): { count: number; carriers: number[] } {
  const total = effects.reduce((s, e) => s + e, 0);
  if (!(total > 0)) return { count: NaN, carriers: [] };
  const order = effects.map((e, h) => [e, h]).sort((a, b) => b[0] - a[0]);
  let sum = 0;
  const carriers: number[] = [];
  for (const [e, h] of order) {
    sum += e;
    carriers.push(h);
    if (sum >= share * total) break;
  }
  return { count: carriers.length, carriers };
}

/**
 * The trigram × head map of the toy model's heads, or of a gated block's heads.
 * @example
 * fl.show(fl.plot.trigramHeads([fl.trigramHeads(toyModel, data)]));
 */
export function trigramHeads(source: AttentionOnlyModel | GatedAttention, data: SkipTrigramData, opts: { share?: number; name?: string } = {}): TrigramHeadMap {
  rejectUnknownOptions("trigramHeads", opts, optionNames<typeof opts>({ share: true, name: true }));
  assertSkipTrigramData(data, "trigramHeads");
  const share = opts.share ?? 0.9;
  if (!(share > 0 && share <= 1)) throw new Error(`featurelab: trigramHeads: share must be in (0, 1], got ${share}`);
  if (!(source instanceof AttentionOnlyModel || source instanceof GatedAttention)) throw new Error("featurelab: trigramHeads: source must be an AttentionOnlyModel or a GatedAttention");
  const vocab = source instanceof GatedAttention ? source.model.vocab : source.vocab;
  if (data.vocabSize !== vocab) throw new Error(`featurelab: trigramHeads: the data's vocabulary (${data.vocabSize}) is not the model's d_model (${vocab})`);
  const run = source.run(data.tokens);
  try {
    const [, H, T, V] = run.perHead.shape;
    const out = run.perHead.dataSync(), logits = run.logits.dataSync();
    const nT = data.trigrams.length;
    const sums = Array.from({ length: nT }, () => new Array(H).fill(0));
    const counts = new Array(nT).fill(0), right = new Array(nT).fill(0);
    const cs = data.trigrams.map((t) => t.c);
    for (const p of data.planted) {
      const t = p.trigram;
      counts[t]++;
      for (let h = 0; h < H; h++) {
        const off = ((p.sequence * H + h) * T + p.b) * V;
        let others = 0;
        for (let u = 0; u < nT; u++) if (u !== t) others += out[off + cs[u]];
        sums[t][h] += out[off + cs[t]] - (nT > 1 ? others / (nT - 1) : 0);
      }
      const lo = (p.sequence * T + p.b) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[lo + v] > logits[lo + best]) best = v;
      if (best === cs[t]) right[t]++;
    }
    const rows = data.trigrams.map((tri, t) => {
      const effects = sums[t].map((s) => (counts[t] ? s / counts[t] : NaN));
      const total = effects.reduce((s, e) => s + e, 0);
      const need = headsNeeded(effects, share);
      return { trigram: tri.label, effects, total, headsNeeded: need.count, carriers: need.carriers, topShare: total > 0 ? Math.max(...effects) / total : NaN, accuracy: counts[t] ? right[t] / counts[t] : NaN, instances: counts[t] };
    });
    const name = opts.name ?? (source instanceof GatedAttention ? `gated block (${H} heads)` : `original (${H} heads)`);
    return new TrigramHeadMap(name, H, rows, share);
  } finally {
    tf.dispose(Object.values(run));
  }
}
