import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ready, tf } from "../../src/engine/backend.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { loadSaeLens } from "../../src/dictionaries/saelens-folder.js";
import { python, scratchDir, skipWithoutNumpy } from "../python.js";

const dir = scratchDir("featurelab-saelens-");
const toy = sharkeyToyData({ rows: 512, features: 16, dim: 8, avgActive: 2, seed: 1 });

test("save writes the SAELens layout; loading it back gives the same dictionary", async () => {
  await ready();
  const sae = await dictionary("relu", { width: 24, l1: 0.1 }).fit(toy.acts, { steps: 30, batchSize: 64, seed: 0, progress: false });
  const folder = join(dir, "sae");
  await sae.save(folder, { hook_name: "blocks.0.hook_resid_post" });
  const cfg = JSON.parse(readFileSync(join(folder, "cfg.json"), "utf8"));
  assert.equal(cfg.architecture, "standard");
  assert.equal(cfg.d_in, 8);
  assert.equal(cfg.d_sae, 24);
  assert.equal(cfg.hook_name, "blocks.0.hook_resid_post");
  const back = await loadSaeLens(folder);
  for (const name of ["W_enc", "W_dec", "b_enc", "b_dec"]) assert.deepEqual(back.params[name].dataSync(), sae.params[name].dataSync(), name);
  assert.deepEqual(back.encode(toy.acts).toDense(), sae.encode(toy.acts).toDense());
});

test("a numpy-only reader of the saved folder encodes like featurelab (to 1e-5)", { skip: skipWithoutNumpy }, async () => {
  await ready();
  const sae = await dictionary("relu", { width: 24, l1: 0.1 }).fit(toy.acts, { steps: 30, batchSize: 64, seed: 3, progress: false });
  const folder = join(dir, "sae-np");
  await sae.save(folder);
  const x = toy.acts.head(5);
  writeFileSync(join(folder, "x.json"), JSON.stringify(Array.from(x.vectors)));
  const out = python(
    `
import json, struct, numpy as np
n = struct.unpack("<Q", open("sae_weights.safetensors", "rb").read(8))[0]
raw = open("sae_weights.safetensors", "rb").read()
header = json.loads(raw[8:8 + n])
cfg = json.load(open("cfg.json"))
w = {}
for k, v in header.items():
    if k == "__metadata__": continue
    assert v["dtype"] == "F32"
    b, e = v["data_offsets"]
    w[k] = np.frombuffer(raw[8 + n + b: 8 + n + e], dtype="<f4").reshape(v["shape"])
x = np.array(json.load(open("x.json")), dtype=np.float32).reshape(-1, cfg["d_in"])
f = np.maximum((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"], 0)
print(json.dumps(f.ravel().tolist()))
`,
    folder,
  );
  const mine = sae.encode(x).toDense();
  assert.equal(out.length, mine.length);
  for (let i = 0; i < mine.length; i++) assert.ok(Math.abs(out[i] - mine[i]) < 1e-5, `${i}: ${out[i]} vs ${mine[i]}`);
  assert.ok(tf);
});

test("a broken folder is named in the error", async () => {
  await assert.rejects(loadSaeLens(join(dir, "nowhere")), /nowhere\/cfg\.json: no such file/);
  const folder = join(dir, "bad");
  const sae = await dictionary("relu", { width: 4, l1: 0.1 }).fit(toy.acts, { steps: 2, batchSize: 16, progress: false });
  await sae.save(folder);
  writeFileSync(join(folder, "cfg.json"), JSON.stringify({ architecture: "standard", d_in: 8, d_sae: 5 }));
  await assert.rejects(loadSaeLens(folder), /sae_weights\.safetensors: tensor 'W_enc' has shape \[8,4\], cfg\.json implies \[8,5\]/);
});

test("a dictionary trained on normalised inputs is saved with the scale folded in: it reads raw activations", async () => {
  await ready();
  const normalised = toy.acts.normalize();
  const s = normalised.normalization!.scale;
  const sae = await dictionary("relu", { width: 24, l1: 0.1 }).fit(normalised, { steps: 30, batchSize: 64, seed: 0, progress: false });
  const folder = join(dir, "folded");
  await sae.save(folder);
  const raw = await loadSaeLens(folder);
  const x = toy.acts.head(8);
  const fRaw = raw.encode(x).toDense();
  const fNorm = sae.encode(normalised.head(8)).toDense();
  for (let i = 0; i < fRaw.length; i++) assert.ok(Math.abs(fRaw[i] - fNorm[i]) < 1e-4 * (1 + Math.abs(fNorm[i])), "same features");
  const xHatRaw = raw.decodeTensor(raw.encodeTensor(x.toTensor())).dataSync();
  const xHatNorm = sae.decodeTensor(sae.encodeTensor(normalised.head(8).toTensor())).dataSync();
  for (let i = 0; i < xHatRaw.length; i++) assert.ok(Math.abs(xHatRaw[i] - xHatNorm[i] / s) < 1e-4, "reconstruction in raw units");
  assert.equal(JSON.parse(readFileSync(join(folder, "cfg.json"), "utf8")).normalize_activations, "none");
});

test("every architecture saves to a SAELens folder and loads back encoding the same", async () => {
  await ready();
  const { architectures } = await import("../../src/dictionaries/registry.js");
  const { fromVectors } = await import("../../src/data/activation-set.js");
  const output = fromVectors(toy.acts.vectors.map((v) => Math.max(0, v)).slice(0, toy.acts.numRows * 4), 4);
  const input = toy.acts;
  for (const name of architectures()) {
    const paired = name.includes("transcoder") || name === "clt";
    const options: Record<string, unknown> = { width: 16, l1: 0.1, ...(/topk|matryoshka/.test(name) ? { k: 2 } : {}), ...(name === "clt" ? { nLayers: 2 } : {}) };
    const sae = await dictionary(name, options as any).fit(paired ? { input, output } : input, { steps: 3, batchSize: 32, seed: 0, progress: false });
    const folder = join(dir, `all-${name}`);
    await sae.save(folder);
    const back = await loadSaeLens(folder);
    assert.equal(back.arch.name, name);
    assert.deepEqual(Object.keys(back.params).sort(), Object.keys(sae.params).sort(), name);
    const a = sae.encode(input.head(16)).toDense(), b = back.encode(input.head(16)).toDense();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5 * (1 + Math.abs(a[i])), `${name}: feature activations differ`);
  }
});

test("batchtopk saves as SAELens does (jumprelu with a threshold per feature) and loads back as batchtopk", async () => {
  await ready();
  const sae = await dictionary("batchtopk", { width: 16, k: 2 }).fit(toy.acts, { steps: 20, batchSize: 32, seed: 0, progress: false });
  const folder = join(dir, "btk");
  await sae.save(folder);
  const cfg = JSON.parse(readFileSync(join(folder, "cfg.json"), "utf8"));
  assert.equal(cfg.architecture, "jumprelu");
  const { readSafetensors } = await import("../../src/io/safetensors.js");
  const saved = readSafetensors(readFileSync(join(folder, "sae_weights.safetensors"))).tensors;
  assert.deepEqual(saved.threshold.shape, [16]);
  const theta = sae.params.threshold.dataSync()[0];
  assert.ok(theta > 0 && Array.from(saved.threshold.data as Float32Array).every((v) => Math.abs(v - theta) < 1e-7));
  const back = await loadSaeLens(folder);
  assert.equal(back.arch.name, "batchtopk");
  assert.deepEqual(back.params.threshold.shape, [1]);
});
