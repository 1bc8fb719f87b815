import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ready } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { loadDictionary } from "../../src/dictionaries/load-dictionary.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-sparsify-");

test("a sparsify folder loads as a TopK dictionary that encodes as sparsify does", async () => {
  await ready();
  const rng = new Rng(5);
  const dIn = 6, dSae = 10, k = 3;
  const enc = rng.normals(dSae * dIn), bias = rng.normals(dSae).map((v) => v * 0.1), dec = rng.normals(dSae * dIn), bDec = rng.normals(dIn).map((v) => v * 0.1);
  const folder = join(dir, "layers.3");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "cfg.json"), JSON.stringify({ expansion_factor: 2, normalize_decoder: true, num_latents: dSae, k, d_in: dIn }));
  writeFileSync(
    join(folder, "sae.safetensors"),
    writeSafetensors({
      "encoder.weight": { dtype: "float32", shape: [dSae, dIn], data: enc },
      "encoder.bias": { dtype: "float32", shape: [dSae], data: bias },
      W_dec: { dtype: "float32", shape: [dSae, dIn], data: dec },
      b_dec: { dtype: "float32", shape: [dIn], data: bDec },
    }),
  );
  const sae = await loadDictionary(folder);
  assert.equal(sae.arch.name, "topk");
  const x = rng.normals(4 * dIn);
  const f = sae.encode(fromVectors(x, dIn)).toDense();
  for (let b = 0; b < 4; b++) {
    // sparsify: pre = ReLU((x − b_dec)·Wᵀ + bias), keep the k largest
    const pre = Array.from({ length: dSae }, (_, i) => {
      let s = bias[i];
      for (let j = 0; j < dIn; j++) s += (x[b * dIn + j] - bDec[j]) * enc[i * dIn + j];
      return Math.max(0, s);
    });
    const kth = [...pre].sort((a, c) => c - a)[k - 1];
    for (let i = 0; i < dSae; i++) {
      const want = pre[i] >= kth ? pre[i] : 0;
      assert.ok(Math.abs(f[b * dSae + i] - want) < 1e-5, `row ${b} feature ${i}: ${f[b * dSae + i]} vs ${want}`);
    }
  }
  writeFileSync(join(folder, "cfg.json"), JSON.stringify({ num_latents: dSae }));
  await assert.rejects(loadDictionary(folder), /layers\.3\/cfg\.json: needs a positive integer 'k'/);
});
