// TransformerLens' weight processing (HookedTransformer.process_weights_), with its semantics, so hook
// values match what a TransformerLens user sees after from_pretrained:
//   foldLayerNorm: each norm's weight (and, for LayerNorm, bias) folded into the matrices that read its
//     output — W' = diag(w)·W, b' = b + b_ln·W — and, for LayerNorm, those matrices centred along d_model
//     (LayerNorm's output has zero mean, so nothing changes); the norms keep only their normalisation.
//   centerWritingWeights (LayerNorm models): every matrix writing to the residual stream, and its bias,
//     centred along d_model — the residual stream becomes mean-free, which LayerNorm ignores.
//   centerUnembed: the unembedding centred along the vocabulary — each position's logits move by one
//     constant, so log-probabilities are unchanged.
//   foldValueBiases: the value biases moved into the output bias (b_O + Σ_h b_V,h·W_O,h; an attention
//     pattern's rows sum to 1), leaving b_V = 0.
// Steps run in TransformerLens' order. Each family describes its weights as a ProcessView.
import { tf } from "../engine/backend.js";
import { optionNames } from "../io/options.js";

/** TransformerLens' processing steps (all four = from_pretrained's defaults on a LayerNorm model). */
export interface ProcessWeightsOptions {
  /** Fold each norm's weight (and LayerNorm's bias) into the weights that read it (TransformerLens' fold_ln). */
  foldLayerNorm?: boolean;
  /** Centre the weights and biases writing to the residual stream (LayerNorm models only). */
  centerWritingWeights?: boolean;
  /** Centre the unembedding along the vocabulary (not with a final logit soft cap). */
  centerUnembed?: boolean;
  /** Move the value biases into the attention output bias. */
  foldValueBiases?: boolean;
}

export const PROCESS_OPTIONS = optionNames<ProcessWeightsOptions>({ foldLayerNorm: true, centerWritingWeights: true, centerUnembed: true, foldValueBiases: true });

/** A matrix by name, stored [out, in] (torch's Linear) or [in, out] (GPT-2's Conv1D; embeddings). */
export interface Matrix {
  W: string;
  outIn: boolean;
  /** Its bias (made, as zeros, when folding needs one it lacks). */
  b?: string;
}

/** Where a family keeps what the steps touch. */
export interface ProcessView {
  normalization: "LN" | "RMS";
  /** Every norm whose output is read by matrices (not post-norms): ln1, ln2 of each block, ln_final. */
  norms: { w: string; b?: string; readers: (Matrix & { b: string })[] }[];
  /** Embeddings and the attention and MLP output matrices. */
  writers: Matrix[];
  /** The unembedding [d_vocab, d_model] with its bias's name. */
  unembed: Matrix & { b: string };
  /** The token embedding the unembedding is tied to, if it is. */
  tiedTo?: string;
  /** Per block: the output matrix, its bias, and the value bias (read and zeroed by the family). */
  values: { W_O: Matrix & { b: string }; bV: () => tf.Tensor | undefined; zeroBV: () => void; groups: number; dHead: number }[];
  /** A final logit soft cap (Gemma 2), under which centring the unembedding changes the softmax. */
  logitSoftCap: number;
}

/** Why a step does not apply to this model (TransformerLens skips it with a warning; featurelab says so). */
export function processingRefusal(view: ProcessView, opts: ProcessWeightsOptions): string | undefined {
  if (opts.centerWritingWeights && view.normalization !== "LN") return "centerWritingWeights needs LayerNorm: this model's RMSNorm does not remove the residual stream's mean (TransformerLens skips it too)";
  if (opts.centerUnembed && view.logitSoftCap > 0) return "centerUnembed would change this model's logits: its final soft cap is not invariant to adding a constant (TransformerLens skips it too)";
  return undefined;
}

/** Replace a weight, freeing the old tensor. */
export function replaceWeight(p: Record<string, tf.Tensor>, name: string, t: tf.Tensor): void {
  const old = p[name];
  p[name] = tf.keep(t);
  if (old && old !== t) old.dispose();
}

const inAxis = (m: Matrix) => (m.outIn ? 1 : 0);

function centre(t: tf.Tensor, axis: number): tf.Tensor {
  return tf.sub(t, tf.mean(t, axis, true));
}

function ensureBias(p: Record<string, tf.Tensor>, m: Matrix): string {
  const name = m.b!;
  if (!p[name]) p[name] = tf.keep(tf.zeros([p[m.W].shape[m.outIn ? 0 : 1]!]));
  return name;
}

/**
 * Apply the chosen steps to `p` in place (the caller checked processingRefusal). `untied`: the
 * unembedding now has weights of its own, apart from the embedding.
 */
export function processWeights(view: ProcessView, p: Record<string, tf.Tensor>, opts: ProcessWeightsOptions): { untied: boolean } {
  const ln = view.normalization === "LN";
  const untied = view.tiedTo !== undefined && Boolean(opts.foldLayerNorm || opts.centerWritingWeights || opts.centerUnembed);
  if (untied) {
    // The unembedding changes apart from the embedding: it gets its own copy (TransformerLens keeps W_U untied).
    p[view.unembed.W] = tf.keep(p[view.tiedTo!].clone());
  }
  if (opts.foldLayerNorm) {
    for (const norm of view.norms) {
      const w = p[norm.w] as tf.Tensor1D;
      const b = norm.b ? (p[norm.b] as tf.Tensor1D) : undefined;
      for (const m of norm.readers) {
        tf.tidy(() => {
          const W = p[m.W];
          if (b) {
            const shift = tf.reshape(tf.matMul(tf.reshape(b, [1, -1]), W as tf.Tensor2D, false, m.outIn), [-1]);
            const bias = ensureBias(p, m);
            replaceWeight(p, bias, tf.add(p[bias], shift));
          }
          const scaled = tf.mul(W, m.outIn ? tf.reshape(w, [1, -1]) : tf.reshape(w, [-1, 1]));
          replaceWeight(p, m.W, ln ? centre(scaled, inAxis(m)) : scaled);
        });
      }
      replaceWeight(p, norm.w, tf.onesLike(w));
      if (norm.b) replaceWeight(p, norm.b, tf.zerosLike(b!));
    }
  }
  if (opts.centerWritingWeights) {
    for (const m of view.writers) {
      tf.tidy(() => {
        replaceWeight(p, m.W, centre(p[m.W], 1 - inAxis(m)));
        if (m.b && p[m.b]) replaceWeight(p, m.b, centre(p[m.b], 0));
      });
    }
  }
  if (opts.centerUnembed) {
    tf.tidy(() => {
      const U = view.unembed;
      replaceWeight(p, U.W, centre(p[U.W], 0));
      if (p[U.b]) replaceWeight(p, U.b, centre(p[U.b], 0));
    });
  }
  if (opts.foldValueBiases) {
    for (const { W_O, bV, zeroBV, groups, dHead } of view.values) {
      const folded = tf.tidy(() => {
        const bv = bV();
        if (!bv) return false;
        const shift = tf.reshape(tf.matMul(tf.reshape(repeatHeads(bv, groups, dHead), [1, -1]), p[W_O.W] as tf.Tensor2D, false, W_O.outIn), [-1]);
        const bias = ensureBias(p, W_O);
        replaceWeight(p, bias, tf.add(p[bias], shift));
        return true;
      });
      if (folded) zeroBV();
    }
  }
  return { untied };
}

/** [K·dh] → [H·dh] with each key/value head's block repeated for the `groups` query heads reading it (torch's repeat_interleave). */
function repeatHeads(bv: tf.Tensor, groups: number, dHead: number): tf.Tensor {
  if (groups === 1) return bv;
  const K = bv.shape[0]! / dHead;
  return tf.reshape(tf.tile(tf.reshape(bv, [K, 1, dHead]), [1, groups, 1]), [-1]);
}
