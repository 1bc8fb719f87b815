// A transformer's forward pass, featurelab against PyTorch on the same machine in the same run: a
// GPT-2-small-shaped model (fl.Transformer) and a Llama-shaped one (fl.Decoder: RMSNorm, RoPE,
// grouped-query attention, SwiGLU), float32, random weights, logits for batch × positions tokens.
// Prints tokens/s for each side (the fastest of --repeats passes after one warm-up) and
// ratio = featurelab / PyTorch (> 1: featurelab is faster). PyTorch runs bench/torch_forward.py.
// Both sides stop when the logits tensor exists (featurelab's engines compute synchronously, so it is
// complete when logits() returns); copying it out into JavaScript (y.data(): 200 MB for GPT-2's
// vocabulary, about 0.5 s on this machine, mostly page faults of the fresh array) has no counterpart on
// PyTorch's side and is reported apart as readback_s.
//   node bench/forward.mjs [--repeats 3] [--batch 4] [--positions 256] [--json]
import { spawnSync } from "node:child_process";
import * as fl from "featurelab";

const args = process.argv.slice(2);
const option = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const repeats = option("--repeats", 3), batch = option("--batch", 4), positions = option("--positions", 256);
const json = args.includes("--json");
const PYTHON = "/usr/bin/python3";

const cases = [
  { name: "GPT-2 small", family: "gpt2", d_model: 768, n_layers: 12, n_heads: 12, d_mlp: 3072, d_vocab: 50257, n_ctx: 1024 },
  { name: "Llama-shaped (12 layers, d 768, 12 heads on 4 key/value heads)", family: "llama", d_model: 768, n_layers: 12, n_heads: 12, n_kv_heads: 4, d_mlp: 2048, d_vocab: 32000, n_ctx: 1024, rope_theta: 10000 },
];

function model(c) {
  if (c.family === "gpt2") return fl.Transformer.init({ d_model: c.d_model, n_layers: c.n_layers, n_heads: c.n_heads, d_mlp: c.d_mlp, d_vocab: c.d_vocab, n_ctx: c.n_ctx }, { seed: 0 });
  return fl.Decoder.init({ model_type: "llama", hidden_size: c.d_model, num_hidden_layers: c.n_layers, num_attention_heads: c.n_heads, num_key_value_heads: c.n_kv_heads, intermediate_size: c.d_mlp, vocab_size: c.d_vocab, max_position_embeddings: c.n_ctx, rope_theta: c.rope_theta, rms_norm_eps: 1e-5 }, { seed: 0 });
}

await fl.ready();
const info = await fl.engine();
if (!json) console.log(`featurelab engine: ${info.engine}; ${batch} × ${positions} tokens per pass, fastest of ${repeats}`);
for (const c of cases) {
  const m = model(c);
  const rng = new fl.Rng(1);
  const tokens = Array.from({ length: batch }, () => Array.from({ length: positions }, () => Math.floor(rng.uniform() * c.d_vocab)));
  const ids = fl.tf.tensor2d(tokens.flat(), [batch, positions], "int32");
  m.logits(ids).dispose(); // warm-up
  let best = Infinity, readback = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const y = m.logits(ids);
    const t1 = performance.now();
    await y.data();
    best = Math.min(best, (t1 - t0) / 1000);
    readback = Math.min(readback, (performance.now() - t1) / 1000);
    y.dispose();
  }
  ids.dispose();
  m.dispose();
  const ours = (batch * positions) / best;
  const r = spawnSync(PYTHON, [new URL("./torch_forward.py", import.meta.url).pathname, JSON.stringify({ ...c, batch, positions, repeats })], { encoding: "utf8" });
  const torch = r.status === 0 ? JSON.parse(r.stdout.trim().split("\n").pop()) : null;
  const row = { case: c.name, featurelab_tokens_per_s: Math.round(ours), torch_tokens_per_s: torch ? Math.round(torch.tokens_per_second) : null, ratio: torch ? Number((ours / torch.tokens_per_second).toFixed(2)) : null, readback_s: Number(readback.toFixed(2)) };
  if (json) console.log(JSON.stringify(row));
  else console.log(`${c.name}: featurelab ${row.featurelab_tokens_per_s} tok/s, PyTorch ${row.torch_tokens_per_s ?? "(not installed)"} tok/s, ratio ${row.ratio ?? "–"} (reading the logits out: ${row.readback_s} s more)${r.status !== 0 ? `\n${r.stderr}` : ""}`);
}
