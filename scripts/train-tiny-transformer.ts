// Trains the tiny transformers shipped in models/: tiny-induction has GPT-2's architecture (2 layers,
// d_model 64, 4 heads, vocabulary 64, context 48), tiny-llama the Llama family's (RMSNorm, RoPE,
// 4 query heads sharing 2 key/value heads, SwiGLU) at the same size; both learn the in-context copying
// task of src/models/induction-task.ts, with tfjs autodiff and Adam, and are written as Hugging Face
// folders (config.json with how it was trained, model.safetensors, tokenizer.json).
//   node --import tsx scripts/train-tiny-transformer.ts [--family gpt2|llama] [--steps 2000] [--batch 32] [--lr 1e-3] [--seed 0] [--out models/tiny-induction]
import { join } from "node:path";
import { engine, ready, tf } from "../src/engine/backend.js";
import { inductionSequences, syllableVocabulary } from "../src/models/induction-task.js";
import { WordLevelTokenizer } from "../src/models/tokenizer.js";
import { Transformer, transformerForward } from "../src/models/transformer.js";
import { Decoder, decoderForward } from "../src/models/decoder.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const family = arg("family", "gpt2");
if (family !== "gpt2" && family !== "llama") throw new Error(`--family is gpt2 or llama, not ${family}`);
const steps = Number(arg("steps", "2000"));
const seed = Number(arg("seed", "0"));
const out = arg("out", join(import.meta.dirname, "..", "models", family === "gpt2" ? "tiny-induction" : "tiny-llama"));
const batchSize = Number(arg("batch", "32")), lr = Number(arg("lr", "1e-3")), warmup = 100, weightDecay = 0.01;
const task = { length: 48, vocab: 64, first: 1, bos: 0, minSpan: 4, maxSpan: 20 };
const EVAL_SEED = 1_000_003, EVAL_N = 2000;

// The matrices here are tiny ([1536, 64]·[64, 256]): one OpenBLAS thread is faster than two that
// wait on each other (measured: matMul time per step 29 vs 166 ms on a busy 2-core machine). Read
// when the native addon loads, inside ready().
process.env.OPENBLAS_NUM_THREADS ??= "1";
await ready();
const info = await engine();
const vocab = syllableVocabulary(task.vocab);
const tokenizer = new WordLevelTokenizer(vocab, { bos: "<bos>", special: ["<bos>"] });
const LLAMA = {
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  intermediate_size: 192, hidden_act: "silu", vocab_size: task.vocab, max_position_embeddings: task.length, rms_norm_eps: 1e-5, rope_theta: 10000,
  tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 0, torch_dtype: "float32",
};
const init = family === "gpt2"
  ? Transformer.init({ d_model: 64, n_layers: 2, n_heads: 4, d_mlp: 256, d_vocab: task.vocab, n_ctx: task.length, bos_token_id: 0 }, { seed })
  : Decoder.init(LLAMA, { seed });
const vars: Record<string, tf.Variable> = Object.fromEntries(Object.entries(init.params).map(([k, t]) => [k, tf.variable(t, true, k)]));
type Params = Record<string, tf.Tensor>;
const forward = (tokens: tf.Tensor2D, params: Params): tf.Tensor3D =>
  init instanceof Transformer
    ? transformerForward(init.cfg, params, tokens, (_n, x) => x, { oneHotEmbed: true, listens: () => false })
    : decoderForward(init.cfg, params, tokens, (_n, x) => x, { oneHotEmbed: true });
const optimizer = tf.train.adam(lr, 0.9, 0.99, 1e-8);

/** Mean next-token cross-entropy over every position of a batch. */
function loss(tokens: tf.Tensor2D, params: Params): tf.Scalar {
  const [B, T] = tokens.shape;
  const V = task.vocab;
  const logits = forward(tokens, params);
  const logp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [B, T - 1, V]));
  const targets = tf.oneHot(tf.reshape(tf.slice(tokens, [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D, V);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.reshape(logp, [-1, V]), targets), -1))) as tf.Scalar;
}

const t0 = performance.now();
let last = NaN;
for (let step = 0; step < steps; step++) {
  // Linear warm-up, then cosine decay to a tenth.
  const progress = Math.max(0, step - warmup) / Math.max(1, steps - warmup);
  (optimizer as unknown as { learningRate: number }).learningRate = step < warmup ? (lr * (step + 1)) / warmup : lr * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
  const { tokens } = inductionSequences({ n: batchSize, ...task, seed: seed * 1_000_000 + step });
  const x = tf.tensor2d(tokens.flat(), [batchSize, task.length], "int32");
  const value = optimizer.minimize(() => loss(x, vars), true)!;
  // Decoupled weight decay (AdamW) on matrices only, as GPT-2 recipes do.
  tf.tidy(() => {
    for (const [name, v] of Object.entries(vars)) if (v.rank === 2) v.assign(tf.mul(v, 1 - (optimizer as unknown as { learningRate: number }).learningRate * weightDecay));
  });
  if (step % 100 === 0 || step === steps - 1) {
    last = value.dataSync()[0];
    console.log(`step ${String(step).padStart(5)}  loss ${last.toFixed(4)}  ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  tf.dispose([x, value]);
}
const seconds = (performance.now() - t0) / 1000;

// Evaluate on fresh sequences (a seed no training batch used).
const params: Params = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.clone()]));
const name = family === "gpt2" ? "tiny-induction" : "tiny-llama";
const model = init instanceof Transformer ? new Transformer(init.cfg, params, { name, tokenizer }) : new Decoder(init.cfg, params, { name, tokenizer, extra: init.extra });
init.dispose();
const evalSet = inductionSequences({ n: EVAL_N, ...task, seed: EVAL_SEED });
let correct = 0, scored = 0, lossScored = 0, lossFirst = 0, first = 0;
for (let start = 0; start < EVAL_N; start += 250) {
  const docs = evalSet.tokens.slice(start, start + 250);
  const logits = model.logits(docs);
  const lp = tf.tidy(() => tf.logSoftmax(logits).arraySync() as number[][][]);
  logits.dispose();
  docs.forEach((doc, i) => {
    const mask = evalSet.scored[start + i];
    for (let t = 0; t + 1 < doc.length; t++) {
      const row = lp[i][t];
      const nll = -row[doc[t + 1]];
      if (mask[t]) {
        scored++;
        lossScored += nll;
        if (row.indexOf(Math.max(...row)) === doc[t + 1]) correct++;
      } else if (t + 1 <= evalSet.spans[start + i]) {
        first++;
        lossFirst += nll;
      }
    }
  });
}
const accuracy = correct / scored;
console.log(`induction accuracy on ${EVAL_N} fresh sequences: ${(100 * accuracy).toFixed(2)} % (${scored} predictions); loss there ${(lossScored / scored).toFixed(4)}; loss on first spans ${(lossFirst / first).toFixed(3)} (uniform: ${Math.log(task.vocab - 1).toFixed(3)})`);
console.log(`trained in ${seconds.toFixed(1)} s on ${info.engine}`);

await model.save(out, {
  featurelab: {
    description: `${family === "gpt2" ? "GPT-2" : "Llama"}-architecture transformer trained on in-context copying (a random span of distinct tokens repeated to fill the context); induction heads solve it`,
    task: { ...task, generator: "featurelab inductionSequences (src/models/induction-task.ts)" },
    training: {
      script: "scripts/train-tiny-transformer.ts",
      seed,
      steps,
      batch_size: batchSize,
      optimizer: `Adam(β 0.9/0.99, ε 1e-8) + decoupled weight decay ${weightDecay} on matrices`,
      lr,
      lr_schedule: `linear warm-up ${warmup} steps, cosine decay to 0.1·lr`,
      loss: "mean next-token cross-entropy over all positions",
      final_batch_loss: Number(last.toFixed(4)),
      seconds: Number(seconds.toFixed(1)),
      engine: info.engine,
      blas_threads: info.native?.threads,
    },
    evaluation: {
      sequences: EVAL_N,
      seed: EVAL_SEED,
      induction_accuracy: Number(accuracy.toFixed(4)),
      induction_loss: Number((lossScored / scored).toFixed(4)),
      first_span_loss: Number((lossFirst / first).toFixed(4)),
      scored_predictions: scored,
    },
  },
});
console.log(`wrote ${out}`);
