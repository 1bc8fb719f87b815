import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ready, tf } from "../../src/engine/backend.js";
import { Transformer } from "../../src/models/transformer.js";
import { loadModel } from "../../src/models/load-model.js";
import { scratchDir } from "../python.js";
import { CASES, writeCase } from "./gpt2-fixtures.js";
import { REFERENCE_LOGITS } from "./gpt2-reference-logits.js";

const dir = scratchDir("featurelab-transformer-");

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const [name, prefix] of [["tied", true], ["untied", false]] as const) {
  test(`logits match numpy's GPT-2 forward pass (${name} unembedding, ${prefix ? "with" : "without"} the transformer. prefix)`, async () => {
    const model = await loadModel(writeCase(join(dir, name), name, { prefix }));
    const { logits } = await model.run(CASES[name].tokens);
    const got = logits!.dataSync();
    const want = REFERENCE_LOGITS[name].flat(2);
    assert.deepEqual(logits!.shape, [CASES[name].tokens.length, CASES[name].tokens[0].length, CASES[name].config.vocab_size]);
    assert.ok(maxAbsDiff(got, want) < 2e-5, `max |Δ| ${maxAbsDiff(got, want)}`);
    logits!.dispose();
    model.dispose();
  });
}

/** GPT-2 by scalar loops, straight from the definition. */
function loopForward(m: Transformer, tokens: number[]): number[][] {
  const c = m.cfg;
  const W = (n: string) => Array.from(m.params[n].dataSync());
  const d = c.d_model, H = c.n_heads, dh = c.d_head, T = tokens.length;
  const ln = (x: number[], g: number[], b: number[]) => {
    const mu = x.reduce((s, v) => s + v, 0) / d;
    const v = x.reduce((s, u) => s + (u - mu) ** 2, 0) / d;
    return x.map((u, i) => ((u - mu) / Math.sqrt(v + c.eps)) * g[i] + b[i]);
  };
  const lin = (x: number[], w: number[], b: number[], nOut: number) => Array.from({ length: nOut }, (_, j) => x.reduce((s, u, i) => s + u * w[i * nOut + j], b[j]));
  const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const wte = W("wte.weight"), wpe = W("wpe.weight");
  let x = tokens.map((t, p) => Array.from({ length: d }, (_, i) => wte[t * d + i] + wpe[p * d + i]));
  for (let l = 0; l < c.n_layers; l++) {
    const h = `h.${l}.`;
    const a = x.map((r) => ln(r, W(h + "ln_1.weight"), W(h + "ln_1.bias")));
    const qkv = a.map((r) => ["q", "k", "v"].flatMap((x) => lin(r, W(`${h}attn.c_attn.${x}.weight`), W(`${h}attn.c_attn.${x}.bias`), d)));
    const z = x.map(() => new Array(d).fill(0));
    for (let hd = 0; hd < H; hd++) {
      for (let q = 0; q < T; q++) {
        const s: number[] = [];
        for (let k = 0; k <= q; k++) {
          let dot = 0;
          for (let e = 0; e < dh; e++) dot += qkv[q][hd * dh + e] * qkv[k][d + hd * dh + e];
          s.push(dot / Math.sqrt(dh));
        }
        const mx = Math.max(...s);
        const ex = s.map((v) => Math.exp(v - mx));
        const sum = ex.reduce((u, v) => u + v, 0);
        for (let k = 0; k <= q; k++) for (let e = 0; e < dh; e++) z[q][hd * dh + e] += (ex[k] / sum) * qkv[k][2 * d + hd * dh + e];
      }
    }
    x = x.map((r, p) => {
      const o = lin(z[p], W(h + "attn.c_proj.weight"), W(h + "attn.c_proj.bias"), d);
      return r.map((u, i) => u + o[i]);
    });
    x = x.map((r) => {
      const pre = lin(ln(r, W(h + "ln_2.weight"), W(h + "ln_2.bias")), W(h + "mlp.c_fc.weight"), W(h + "mlp.c_fc.bias"), c.d_mlp);
      const o = lin(pre.map(gelu), W(h + "mlp.c_proj.weight"), W(h + "mlp.c_proj.bias"), d);
      return r.map((u, i) => u + o[i]);
    });
  }
  return x.map((r) => {
    const f = ln(r, W("ln_f.weight"), W("ln_f.bias"));
    return Array.from({ length: c.d_vocab }, (_, v) => f.reduce((s, u, i) => s + u * wte[v * d + i], 0));
  });
}

test("a 1-layer d=4 model agrees with a scalar-loop forward pass", async () => {
  await ready();
  const m = Transformer.init({ d_model: 4, n_layers: 1, n_heads: 2, d_vocab: 5, n_ctx: 4 }, { seed: 3 });
  // Larger weights than GPT-2's init so attention is far from uniform.
  const big = Object.fromEntries(Object.entries(m.params).map(([k, t]) => [k, tf.mul(t, k.includes("ln_") ? 1 : 25)]));
  const model = new Transformer(m.cfg, big);
  const tokens = [4, 0, 3, 3];
  const logits = model.logits([tokens]);
  const want = loopForward(model, tokens).flat();
  assert.ok(maxAbsDiff(logits.dataSync(), want) < 1e-4, `max |Δ| ${maxAbsDiff(logits.dataSync(), want)}`);
  logits.dispose();
  m.dispose();
  model.dispose();
});

test("causal: changing a later token leaves every earlier position's logits unchanged", async () => {
  await ready();
  const model = Transformer.init({ d_model: 16, n_layers: 2, n_heads: 4, d_vocab: 20, n_ctx: 10 }, { seed: 1 });
  const a = [1, 5, 7, 2, 9, 11, 3];
  const b = [...a.slice(0, 4), 19, 0, 8];
  const { logits } = await model.run([a, b]);
  const v = logits!.arraySync() as number[][][];
  for (let t = 0; t < 4; t++) assert.ok(maxAbsDiff(v[0][t], v[1][t]) < 1e-6, `position ${t}`);
  assert.ok(maxAbsDiff(v[0][4], v[1][4]) > 1e-4, "the changed position itself differs");
  logits!.dispose();
  model.dispose();
});

test("padding: documents of different lengths in one batch give the logits they give alone", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: 9, n_ctx: 6 }, { seed: 2 });
  const long = [1, 2, 3, 4, 5, 6], short = [7, 8];
  const both = (await model.run([long, short])).logits!;
  const alone = (await model.run([short])).logits!;
  assert.deepEqual(both.shape, [2, 6, 9]);
  const bothShort = both.slice([1, 0, 0], [1, 2, 9]);
  assert.ok(maxAbsDiff(bothShort.dataSync(), alone.dataSync()) < 1e-6);
  tf.dispose([both, alone, bothShort]);
  model.dispose();
});

test("every hook point fires, with TransformerLens' names and shapes", async () => {
  await ready();
  const cfg = { d_model: 12, n_layers: 2, n_heads: 3, d_vocab: 10, n_ctx: 8, d_mlp: 20 };
  const model = Transformer.init(cfg, { seed: 0 });
  const seen: Record<string, number[]> = {};
  const hooks = Object.fromEntries(model.hookNames.map((n) => [n, (x: tf.Tensor) => void (seen[n] = x.shape)]));
  const B = 2, T = 5, dh = 4;
  await model.run([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], { hooks });
  const expected: Record<string, number[]> = { hook_embed: [B, T, 12], hook_pos_embed: [B, T, 12], "ln_final.hook_normalized": [B, T, 12] };
  for (let l = 0; l < 2; l++) {
    const p = `blocks.${l}.`;
    Object.assign(expected, {
      [`${p}hook_resid_pre`]: [B, T, 12],
      [`${p}ln1.hook_normalized`]: [B, T, 12],
      [`${p}attn.hook_q`]: [B, T, 3, dh],
      [`${p}attn.hook_k`]: [B, T, 3, dh],
      [`${p}attn.hook_v`]: [B, T, 3, dh],
      [`${p}attn.hook_attn_scores`]: [B, 3, T, T],
      [`${p}attn.hook_pattern`]: [B, 3, T, T],
      [`${p}attn.hook_z`]: [B, T, 3, dh],
      [`${p}hook_attn_out`]: [B, T, 12],
      [`${p}hook_resid_mid`]: [B, T, 12],
      [`${p}ln2.hook_normalized`]: [B, T, 12],
      [`${p}mlp.hook_pre`]: [B, T, 20],
      [`${p}mlp.hook_post`]: [B, T, 20],
      [`${p}hook_mlp_out`]: [B, T, 12],
      [`${p}hook_resid_post`]: [B, T, 12],
    });
  }
  assert.deepEqual(seen, expected);
  assert.deepEqual([...model.hookNames].sort(), Object.keys(expected).sort());
  model.dispose();
});

test("hook values are consistent: resid_post = resid_mid + mlp_out, patterns sum to 1 and are causal", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 5 });
  const { cache } = await model.run([[1, 2, 3, 4]], { cache: ["blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post", "blocks.0.attn.hook_pattern"] });
  const [mid, out, post] = ["blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post"].map((n) => cache.tensor(n));
  assert.ok(maxAbsDiff(tf.add(mid, out).dataSync(), post.dataSync()) < 1e-6);
  const pattern = cache.tensor("blocks.0.attn.hook_pattern").arraySync() as number[][][][];
  for (const head of pattern[0]) {
    head.forEach((row, q) => {
      assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
      row.forEach((v, k) => k > q && assert.equal(v, 0));
    });
  }
  tf.dispose([mid, out, post]);
  model.dispose();
});

test("an edit at a hook changes what follows: zeroing the embedding makes every document alike", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 6 });
  const { logits } = await model.run([[1, 2, 3], [7, 8, 9]], { hooks: { hook_embed: (x) => tf.zerosLike(x) } });
  const v = logits!.arraySync() as number[][][];
  assert.ok(maxAbsDiff(v[0].flat(), v[1].flat()) < 1e-6);
  await assert.rejects(model.run([[1]], { hooks: { hook_embed: () => tf.zeros([1]) } }), /hook on hook_embed returned shape \[1\], the activation has shape \[1,1,8\]/);
  await assert.rejects(model.run([[1]], { cache: ["blocks.3.hook_resid_pre"] }), /has no hook point 'blocks\.3\.hook_resid_pre' \(layers 0–0\); similar: blocks\.0\.hook_resid_pre/);
  logits!.dispose();
  model.dispose();
});

test("save and load give the same logits; bad token input is refused by position", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 2, n_heads: 2, d_vocab: 10, n_ctx: 6, tied: false }, { seed: 7 });
  await model.save(join(dir, "roundtrip"), { note: "kept" });
  const back = await loadModel(join(dir, "roundtrip"));
  assert.equal(back.extra.note, "kept");
  assert.equal(back.cfg.tied, false);
  const a = model.logits([[1, 2, 3]]), b = back.logits([[1, 2, 3]]);
  assert.equal(maxAbsDiff(a.dataSync(), b.dataSync()), 0);
  await assert.rejects(back.run([[1, 2, 10]]), /document 0, position 2: token id 10 is outside the vocabulary 0\.\.9/);
  await assert.rejects(back.run([[1, 2, 3, 4, 5, 6, 7]]), /document 0 has 7 tokens; .* context is 6/);
  await assert.rejects(back.run("hello"), /has no tokenizer; pass token ids/);
  tf.dispose([a, b]);
  model.dispose();
  back.dispose();
});

test("a pass resumed from a cached residual stream gives the full pass's logits, and runs the hooks there", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 3, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 9 });
  const docs = [[1, 2, 3, 4], [5, 6, 7, 8]];
  const { batches } = model.batches(docs, { batchSize: 2 });
  const full = model.runBatch(batches[0]);
  for (const name of ["blocks.1.hook_resid_pre", "blocks.1.hook_resid_post"]) {
    const { cache } = await model.run(docs, { cache: [name] });
    const value = cache.tensor(name);
    const resumed = model.runBatch(batches[0], {}, { name, value });
    assert.ok(maxAbsDiff(full.dataSync(), resumed.dataSync()) < 1e-5, name);
    let seen = 0;
    model.runBatch(batches[0], { [name]: (x) => void (seen = x.shape[0]) }, { name, value }).dispose();
    assert.equal(seen, 2, `the hook at ${name} runs on the resumed pass`);
    assert.equal(model.startPoint("blocks.1.attn.hook_z"), "blocks.1.hook_resid_pre");
    tf.dispose([value, resumed]);
  }
  assert.equal(model.startPoint("blocks.2.hook_resid_post"), "blocks.2.hook_resid_post");
  assert.equal(model.startPoint("hook_embed"), undefined);
  full.dispose();
  model.dispose();
});
