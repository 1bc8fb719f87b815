// Gemma Scope's params.npz (its encoder reads x, not x − b_dec) loads as a JumpReLU dictionary that
// computes Gemma Scope's codes and reconstructions; from a folder, the file itself, or a Hub repository
// with { path } (a loopback server answering as the Hub does), as SAELens folders do too.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as fl from "../../src/index.js";
import { writeNpz } from "../../src/io/npz.js";
import { scratchDir } from "../python.js";
import { startHub, type FakeHub } from "../io/hub-server.js";

const dir = scratchDir("featurelab-gemma-scope-");
const D = 8, S = 16, N = 20;
const rng = new fl.Rng(11);
const arrays = {
  W_enc: rng.normals(D * S).map((v) => v * 0.5),
  W_dec: rng.normals(S * D).map((v) => v * 0.3),
  b_enc: rng.normals(S).map((v) => v * 0.2),
  b_dec: rng.normals(D),
  threshold: rng.normals(S).map((v) => 0.3 + 0.2 * Math.abs(v)),
};
const x = rng.normals(N * D);
const shapes = { W_enc: [D, S], W_dec: [S, D], b_enc: [S], b_dec: [D], threshold: [S] } as const;
const npz = writeNpz(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, { dtype: "float32", shape: [...shapes[k as keyof typeof shapes]], data: v }])) as never);
let hub: FakeHub | undefined;
after(() => hub?.close());

/** Gemma Scope's forward pass, written out: f = pre·1[pre > θ], pre = x·W_enc + b_enc; x̂ = f·W_dec + b_dec. */
function reference(): { codes: Float64Array; recon: Float64Array } {
  const codes = new Float64Array(N * S), recon = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < S; j++) {
      let pre = arrays.b_enc[j];
      for (let i = 0; i < D; i++) pre += x[n * D + i] * arrays.W_enc[i * S + j];
      codes[n * S + j] = pre > arrays.threshold[j] ? pre : 0;
    }
    for (let i = 0; i < D; i++) {
      let r = arrays.b_dec[i];
      for (let j = 0; j < S; j++) r += codes[n * S + j] * arrays.W_dec[j * D + i];
      recon[n * D + i] = r;
    }
  }
  return { codes, recon };
}

async function check(sae: fl.Dictionary): Promise<void> {
  assert.equal(sae.cfg.architecture, "jumprelu");
  assert.equal(sae.dIn, D);
  const want = reference();
  const xs = fl.tf.tensor2d(x, [N, D]);
  const f = sae.encodeTensor(xs);
  const codes = await f.data();
  const recon = await sae.decodeTensor(f).data();
  let active = 0;
  for (let i = 0; i < codes.length; i++) {
    assert.ok(Math.abs(codes[i] - want.codes[i]) < 1e-5, `code ${i}: ${codes[i]} vs ${want.codes[i]}`);
    if (want.codes[i] !== 0) active++;
  }
  assert.ok(active > 0 && active < codes.length, "some features fire, some do not");
  for (let i = 0; i < recon.length; i++) assert.ok(Math.abs(recon[i] - want.recon[i]) < 1e-4, `reconstruction ${i}`);
  fl.tf.dispose([xs, f]);
}

test("a Gemma Scope params.npz computes Gemma Scope's codes and reconstructions, from its folder or the file", async () => {
  await fl.ready();
  const folder = join(dir, "layer_0", "width_16", "average_l0_5");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "params.npz"), npz);
  await check(await fl.loadDictionary(folder));
  await check(await fl.loadDictionary(join(folder, "params.npz")));
  await check(await fl.loadDictionary(dir, { path: "layer_0/width_16/average_l0_5" }));
  const bad = join(dir, "bad");
  mkdirSync(bad);
  writeFileSync(join(bad, "params.npz"), writeNpz({ W_enc: { dtype: "float32", shape: [D, S], data: arrays.W_enc } }));
  await assert.rejects(fl.loadDictionary(bad), /bad\/params\.npz: has no array 'W_dec'/);
});

test("from the Hub: a Gemma Scope path and a SAELens folder inside repositories", async () => {
  await fl.ready();
  const saeDir = join(dir, "saelens");
  const sae = await fl.dictionary("topk", { width: 16, k: 2 }).fit(fl.fromVectors(x, D), { steps: 3, batchSize: 8, progress: false });
  await sae.save(saeDir);
  hub = await startHub({
    "google/gemma-scope-test": { files: { "layer_0/width_16/average_l0_5/params.npz": npz } },
    "org/saes": { files: { "blocks.0.hook_resid_post/cfg.json": readFileSync(join(saeDir, "cfg.json")), "blocks.0.hook_resid_post/sae_weights.safetensors": readFileSync(join(saeDir, "sae_weights.safetensors")) } },
  });
  const opts = { endpoint: hub.endpoint, cacheDir: join(dir, "cache") };
  await check(await fl.loadDictionary("google/gemma-scope-test", { ...opts, path: "layer_0/width_16/average_l0_5" }));
  const fromHub = await fl.loadDictionary("org/saes", { ...opts, path: "blocks.0.hook_resid_post" });
  assert.deepEqual(await fromHub.params.W_dec.data(), await sae.params.W_dec.data());
  await assert.rejects(fl.loadDictionary("google/gemma-scope-test", { ...opts, path: "layer_9" }), /google\/gemma-scope-test: is no local folder, and as a Hub repository: .*has neither params\.npz \(Gemma Scope\) nor cfg\.json/);
});
