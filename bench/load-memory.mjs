// Peak memory of loading a 124M-parameter checkpoint (GPT-2 small, float32, random weights) with
// fl.loadModel, in a fresh process: (peak RSS − RSS after the engine started) / the float32 weights'
// bytes. The budget is 1.3×.
//   node bench/load-memory.mjs [--family gpt2|llama] [--keep <dir>]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fl from "featurelab";

const args = process.argv.slice(2);
const family = args.includes("--family") ? args[args.indexOf("--family") + 1] : "gpt2";
const dir = mkdtempSync(join(tmpdir(), "featurelab-load-memory-"));
try {
  await fl.ready();
  const m = family === "gpt2"
    ? fl.Transformer.init({ d_model: 768, n_layers: 12, n_heads: 12, d_vocab: 50257, n_ctx: 1024 }, { seed: 0 })
    : fl.Decoder.init({ model_type: "llama", hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, num_key_value_heads: 4, intermediate_size: 2048, vocab_size: 32000, max_position_embeddings: 1024 }, { seed: 0 });
  const params = m.numParams;
  await m.save(dir);
  m.dispose();
  const child = `
    import * as fl from "featurelab";
    await fl.ready();
    const base = process.memoryUsage().rss;
    const t0 = performance.now();
    const model = await fl.loadModel(${JSON.stringify(dir)});
    const seconds = (performance.now() - t0) / 1000;
    // VmHWM: this process's own peak. getrusage's maxRSS would not do: Linux carries it over from the
    // parent through fork and exec, and the parent peaked while writing the checkpoint.
    const status = (await import("node:fs")).readFileSync("/proc/self/status", "utf8").split("\\n");
    const hwm = Number(status.find((l) => l.startsWith("VmHWM:")).split(/ +/)[1]) * 1024;
    console.log(JSON.stringify({ base, peak: hwm, seconds, params: model.numParams }));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", child], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const { base, peak, seconds } = JSON.parse(r.stdout.trim().split("\n").pop());
  const weights = params * 4;
  const file = statSync(join(dir, "model.safetensors")).size;
  console.log(`${family}: ${(params / 1e6).toFixed(1)}M parameters, ${(weights / 1e6).toFixed(0)} MB float32 (file ${(file / 1e6).toFixed(0)} MB); loaded in ${seconds.toFixed(2)} s; peak RSS above the started engine ${((peak - base) / 1e6).toFixed(0)} MB = ${((peak - base) / weights).toFixed(2)}× the weights`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
