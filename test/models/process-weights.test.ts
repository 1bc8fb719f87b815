// TransformerLens' weight processing, checked by what each step means for the values a user sees,
// against the same model loaded without processing (whose forward pass the parity tests check
// against PyTorch):
//   foldLayerNorm: ln*.hook_normalized is the bare normalisation (no weight, no bias); q, k, v, the
//     MLP's input and the logits do not move.
//   centerWritingWeights: every residual stream is the original minus its mean over d_model.
//   centerUnembed: logits are the original minus their mean over the vocabulary.
//   foldValueBiases: hook_v and hook_z lose the value bias; the attention output does not move.
// On GPT-2, GPT-NeoX (LayerNorm), Qwen 2 (RMSNorm, grouped-query heads, q/k/v biases, tied) and
// Gemma 2 (soft caps), with random norms and biases so that no step is a no-op.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ready, tf } from "../../src/engine/backend.js";
import { loadModel } from "../../src/models/load-model.js";
import { Transformer } from "../../src/models/transformer.js";
import { Decoder } from "../../src/models/decoder.js";
import { Rng } from "../../src/engine/random.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-process-");
const ALL = { foldLayerNorm: true, centerWritingWeights: true, centerUnembed: true, foldValueBiases: true };
const BASE = { num_hidden_layers: 2, vocab_size: 61, max_position_embeddings: 32 };

/** Every weight moved off its initial value (norm weights off 1, biases off 0), so every step has work to do. */
function perturb(params: Record<string, tf.Tensor>, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, t] of Object.entries(params)) {
    const noise = tf.tensor(rng.normals(t.size).map((x) => x * 0.1), t.shape);
    params[name] = tf.keep(tf.add(t, noise));
    t.dispose();
    noise.dispose();
  }
}

async function folder(name: string): Promise<string> {
  const out = join(dir, name);
  if (existsSync(out)) return out;
  await ready();
  const model =
    name === "gpt2"
      ? Transformer.init({ d_model: 32, n_layers: 2, n_heads: 4, d_vocab: 61, n_ctx: 32 }, { seed: 1 })
      : Decoder.init(
          {
            pythia: { ...BASE, model_type: "gpt_neox", hidden_size: 32, num_attention_heads: 4, intermediate_size: 64, rotary_pct: 0.5, use_parallel_residual: true, hidden_act: "gelu" },
            qwen2: { ...BASE, model_type: "qwen2", hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48, tie_word_embeddings: true, hidden_act: "silu" },
            gemma2: { ...BASE, model_type: "gemma2", hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 48, query_pre_attn_scalar: 16, sliding_window: 4, final_logit_softcapping: 5, attn_logit_softcapping: 2 },
          }[name]!,
          { seed: 1 },
        );
  perturb(model.params, 7);
  await model.save(out);
  model.dispose();
  return out;
}

const TOKENS = [
  [1, 5, 9, 14, 2, 33, 60, 7, 7, 12],
  [3, 3, 40, 41, 42, 8, 0, 19, 25, 30],
];

async function hooks(model: Transformer | Decoder, names: string[]): Promise<Record<string, Float32Array> & { logits: Float32Array }> {
  const { logits, cache } = await model.run(TOKENS, { cache: names });
  const out: Record<string, Float32Array> = { logits: (await logits!.data()) as Float32Array };
  for (const n of names) out[n] = (await cache.tensor(n).data()) as Float32Array;
  logits!.dispose();
  cache.dispose?.();
  return out as Record<string, Float32Array> & { logits: Float32Array };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** x with each row (last axis, width w) transformed. */
function rows(x: Float32Array, w: number, f: (row: Float32Array) => ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += w) out.set(f(x.subarray(i, i + w)), i);
  return out;
}
const minusMean = (r: Float32Array) => {
  const m = r.reduce((s, v) => s + v, 0) / r.length;
  return r.map((v) => v - m);
};
const normalised = (ln: boolean, eps: number) => (r: Float32Array) => {
  const c = ln ? minusMean(r) : r;
  const scale = 1 / Math.sqrt(c.reduce((s, v) => s + v * v, 0) / c.length + eps);
  return c.map((v) => v * scale);
};

/**
 * The value bias as foldValueBiases finds it: after folding LayerNorm, b_V + ln1.b·W_V (what v carries
 * beyond the bare normalisation's image).
 */
function valueBias(m: Transformer | Decoder, l: number): Float32Array {
  return tf.tidy(() => {
    if (m instanceof Transformer) {
      const bV = m.params[`h.${l}.attn.c_attn.v.bias`];
      const WV = m.params[`h.${l}.attn.c_attn.v.weight`] as tf.Tensor2D;
      return tf.add(bV, tf.reshape(tf.matMul(tf.reshape(m.params[`h.${l}.ln_1.bias`], [1, -1]), WV), [-1])).dataSync() as Float32Array;
    }
    const bV = m.params[`blocks.${l}.attn.b_V`];
    const lnB = m.params[`blocks.${l}.ln1.b`];
    if (!lnB) return bV.dataSync() as Float32Array;
    return tf.add(bV, tf.reshape(tf.matMul(tf.reshape(lnB, [1, -1]), m.params[`blocks.${l}.attn.W_V`] as tf.Tensor2D, false, true), [-1])).dataSync() as Float32Array;
  });
}

const NAMES = ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "blocks.1.hook_resid_post", "blocks.1.ln1.hook_normalized", "blocks.1.ln2.hook_normalized", "ln_final.hook_normalized", "blocks.1.attn.hook_q", "blocks.1.attn.hook_v", "blocks.1.attn.hook_z", "blocks.1.mlp.hook_pre", "blocks.1.hook_attn_out"];
const TOL = 2e-5;

for (const [name, ln] of [["gpt2", true], ["pythia", true], ["qwen2", false]] as const) {
  test(`${name}: each of TransformerLens' steps changes exactly what it means to (tolerance ${TOL})`, async () => {
    const path = await folder(name);
    const plain = await loadModel(path);
    const steps = ln ? ALL : { ...ALL, centerWritingWeights: false };
    const tl = await loadModel(path, steps);
    assert.deepEqual({ ...tl.processing }, Object.fromEntries(Object.entries(steps).filter(([, on]) => on)));
    const d = plain.cfg.d_model, V = plain.cfg.d_vocab, dh = plain.cfg.d_head, eps = plain.cfg.eps;
    const a = await hooks(plain, NAMES), b = await hooks(tl, NAMES);
    const centre = ln ? (x: Float32Array) => rows(x, d, minusMean) : (x: Float32Array) => x;
    for (const l of [0, 1]) assert.ok(maxDiff(b[`blocks.${l}.hook_resid_pre`], centre(a[`blocks.${l}.hook_resid_pre`])) < TOL, `${name}: resid_pre ${l} is the original${ln ? " minus its mean" : ""}`);
    assert.ok(maxDiff(b["blocks.1.hook_resid_post"], centre(a["blocks.1.hook_resid_post"])) < TOL);
    for (const [hook, resid] of [["blocks.1.ln1.hook_normalized", "blocks.1.hook_resid_pre"], ["ln_final.hook_normalized", "blocks.1.hook_resid_post"]]) {
      assert.ok(maxDiff(b[hook], rows(a[resid], d, normalised(ln, eps))) < TOL, `${name}: ${hook} is the bare normalisation`);
    }
    for (const hook of ["blocks.1.attn.hook_q", "blocks.1.mlp.hook_pre"]) assert.ok(maxDiff(b[hook], a[hook]) < TOL, `${name}: ${hook} unchanged`);
    const bV = valueBias(plain, 1);
    assert.ok(bV.some((v) => Math.abs(v) > 0.01), "the value bias is there to fold");
    assert.ok(maxDiff(b["blocks.1.attn.hook_v"], rows(a["blocks.1.attn.hook_v"], bV.length, (r) => r.map((v, i) => v - bV[i]))) < TOL, `${name}: hook_v loses b_V`);
    // hook_z [B, T, H, dh]: query head h reads key/value head ⌊h / groups⌋.
    const groups = plain.cfg.n_heads / (plain instanceof Decoder ? plain.cfg.n_key_value_heads : plain.cfg.n_heads);
    const zShift = (r: Float32Array) => r.map((v, i) => v - bV[Math.floor(Math.floor(i / dh) / groups) * dh + (i % dh)]);
    assert.ok(maxDiff(b["blocks.1.attn.hook_z"], rows(a["blocks.1.attn.hook_z"], plain.cfg.n_heads * dh, zShift)) < TOL, `${name}: hook_z loses b_V`);
    assert.ok(maxDiff(b["blocks.1.hook_attn_out"], centre(a["blocks.1.hook_attn_out"])) < TOL, `${name}: attention output unchanged but for centring`);
    assert.ok(maxDiff(b.logits, rows(a.logits, V, minusMean)) < 1e-4, `${name}: logits are the original minus their mean over the vocabulary`);
    assert.equal(tl.cfg.tied, false, "the unembedding has its own weights after processing");
    await assert.rejects(tl.save(join(dir, `${name}-saved`)), /cannot be saved.*processed \(foldLayerNorm/);
    assert.ok(!existsSync(join(dir, `${name}-saved`, "model.safetensors")), "nothing written");
    plain.dispose();
    tl.dispose();
  });
}

test("gemma2: its norms fold and its soft-capped logits do not move; centring its unembedding or writing weights is refused, naming why", async () => {
  const path = await folder("gemma2");
  const plain = await loadModel(path);
  const tl = await loadModel(path, { foldLayerNorm: true, foldValueBiases: true });
  const names = ["blocks.1.ln1.hook_normalized", "blocks.1.hook_resid_pre", "blocks.1.ln1_post.hook_normalized", "blocks.1.attn.hook_q"];
  const a = await hooks(plain, names), b = await hooks(tl, names);
  assert.ok(maxDiff(b.logits, a.logits) < 1e-4);
  assert.ok(maxDiff(b["blocks.1.ln1.hook_normalized"], rows(a["blocks.1.hook_resid_pre"], 32, normalised(false, plain.cfg.eps))) < TOL);
  assert.ok(maxDiff(b["blocks.1.ln1_post.hook_normalized"], a["blocks.1.ln1_post.hook_normalized"]) < TOL, "post-norms are not folded (their output is not read by a matrix)");
  assert.ok(maxDiff(b["blocks.1.attn.hook_q"], a["blocks.1.attn.hook_q"]) < TOL);
  plain.dispose();
  tl.dispose();
  const before = tf.memory().numTensors;
  await assert.rejects(loadModel(path, { centerUnembed: true }), /centerUnembed would change this model's logits: its final soft cap/);
  await assert.rejects(loadModel(path, { centerWritingWeights: true }), /centerWritingWeights needs LayerNorm/);
  assert.equal(tf.memory().numTensors, before, "a refused load keeps no weights");
});

test("an unknown processing option is refused by name", async () => {
  await assert.rejects(loadModel(await folder("gpt2"), { foldLN: true } as never), /foldLN/);
});
