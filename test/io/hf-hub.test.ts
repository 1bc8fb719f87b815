// fl.loadModel("owner/name") against a loopback server that answers as the Hub's file endpoints do:
// files land in Python's Hugging Face cache layout (blobs by etag, snapshots by the revision's commit,
// refs by revision), a second load downloads nothing, offline mode reads only the cache, a download
// cut half-way resumes with a Range request, sharded checkpoints load, and a missing or private
// repository gets an error that says which and why.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import * as fl from "../../src/index.js";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { scratchDir } from "../python.js";
import { startHub, type FakeHub } from "./hub-server.js";

const root = join(import.meta.dirname, "..", "..");
const dir = scratchDir("featurelab-hub-");
const local = (f: string) => new Uint8Array(readFileSync(join(root, "models", "tiny-llama", f)));
let hub: FakeHub;

before(async () => {
  const files = { "config.json": local("config.json"), "model.safetensors": local("model.safetensors"), "tokenizer.json": local("tokenizer.json") };
  // The same weights as two shards and an index.
  const { tensors } = readSafetensors(files["model.safetensors"]);
  const names = Object.keys(tensors);
  const shard = (part: string[]) => writeSafetensors(Object.fromEntries(part.map((n) => [n, tensors[n]])), { format: "pt" });
  const half = Math.ceil(names.length / 2);
  const weightMap = Object.fromEntries(names.map((n, i) => [n, i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors"]));
  hub = await startHub({
    "featurelab-test/tiny-llama": { files, aliases: ["v1.0"] },
    "featurelab-test/tiny-llama-sharded": {
      files: {
        "config.json": files["config.json"],
        "tokenizer.json": files["tokenizer.json"],
        "model.safetensors.index.json": new TextEncoder().encode(JSON.stringify({ metadata: {}, weight_map: weightMap })),
        "model-00001-of-00002.safetensors": shard(names.slice(0, half)),
        "model-00002-of-00002.safetensors": shard(names.slice(half)),
      },
    },
    "featurelab-test/private": { files, token: "secret" },
  });
});

after(() => hub?.close());

async function sameLogits(model: fl.LanguageModel): Promise<void> {
  const reference = await fl.loadModel(join(root, "models", "tiny-llama"));
  const docs = fl.toy.induction({ n: 2, seed: 3 }).tokens;
  const a = await model.logits(docs).data(), b = await reference.logits(docs).data();
  assert.deepEqual(a, b);
  reference.dispose();
}

test("a Hub model lands in Python's cache layout and loads; the second time nothing is downloaded", async () => {
  const cacheDir = join(dir, "cache");
  const opts = { endpoint: hub.endpoint, cacheDir, progress: false };
  const model = await fl.loadModel("featurelab-test/tiny-llama", opts);
  assert.equal(model.name, "featurelab-test/tiny-llama");
  await sameLogits(model);
  const repo = join(cacheDir, "models--featurelab-test--tiny-llama");
  const commit = hub.commitOf("featurelab-test/tiny-llama");
  assert.equal(readFileSync(join(repo, "refs", "main"), "utf8"), commit);
  const weights = join(repo, "snapshots", commit, "model.safetensors");
  assert.ok(lstatSync(weights).isSymbolicLink());
  const sha = createHash("sha256").update(local("model.safetensors")).digest("hex");
  assert.equal(readlinkSync(weights), join("..", "..", "blobs", sha));
  assert.ok(existsSync(join(repo, "blobs", sha)) && !existsSync(join(repo, "blobs", `${sha}.incomplete`)));
  // The tokenizer_config.json the repository lacks is remembered as absent, as huggingface_hub does.
  assert.ok(existsSync(join(repo, ".no_exist", commit, "tokenizer_config.json")));
  const downloads = hub.requests.filter((r) => r.startsWith("GET")).length;
  model.dispose();
  const again = await fl.loadModel("featurelab-test/tiny-llama", opts);
  assert.equal(hub.requests.filter((r) => r.startsWith("GET")).length, downloads, "nothing downloaded again");
  again.dispose();
  // A tag resolves to the same commit: no new blobs, a ref of its own.
  const tagged = await fl.loadModel("featurelab-test/tiny-llama", { ...opts, revision: "v1.0" });
  assert.equal(readFileSync(join(repo, "refs", "v1.0"), "utf8"), commit);
  assert.equal(hub.requests.filter((r) => r.startsWith("GET")).length, downloads);
  tagged.dispose();
});

test("offline: only the cache is read — by option or HF_HUB_OFFLINE — and a model not there is named", async () => {
  const cacheDir = join(dir, "cache");
  await fl.loadModel("featurelab-test/tiny-llama", { endpoint: hub.endpoint, cacheDir, progress: false }).then((m) => m.dispose());
  const before = hub.requests.length;
  const offline = await fl.loadModel("featurelab-test/tiny-llama", { endpoint: hub.endpoint, cacheDir, offline: true });
  await sameLogits(offline);
  offline.dispose();
  process.env.HF_HUB_OFFLINE = "1";
  try {
    const viaEnv = await fl.loadModel("featurelab-test/tiny-llama", { endpoint: hub.endpoint, cacheDir });
    viaEnv.dispose();
    await assert.rejects(fl.loadModel("featurelab-test/tiny-llama-sharded", { endpoint: hub.endpoint, cacheDir }), /featurelab-test\/tiny-llama-sharded: is no local folder, and as a Hub repository: .*models--featurelab-test--tiny-llama-sharded\/refs\/main: is not in the Hugging Face cache, and HF_HUB_OFFLINE is set/);
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  assert.equal(hub.requests.length, before, "no request offline");
});

test("a download cut half-way is resumed with a Range request; sharded checkpoints load", async () => {
  const cacheDir = join(dir, "cache-resume");
  hub.dropNextDownload();
  const model = await fl.loadModel("featurelab-test/tiny-llama", { endpoint: hub.endpoint, cacheDir, progress: false });
  await sameLogits(model);
  model.dispose();
  assert.ok(hub.requests.some((r) => /^GET \/lfs\/[0-9a-f]{64} bytes=\d+-$/.test(r)), "a Range request resumed the download");
  const sharded = await fl.loadModel("featurelab-test/tiny-llama-sharded", { endpoint: hub.endpoint, cacheDir, progress: false });
  await sameLogits(sharded);
  sharded.dispose();
});

test("a missing repository or file, or a private one without its token: errors that say which", async () => {
  const opts = { endpoint: hub.endpoint, cacheDir: join(dir, "cache-errors"), progress: false };
  await assert.rejects(fl.loadModel("featurelab-test/nothing", opts), /featurelab-test\/nothing: is no local folder, and as a Hub repository: .*not found: the Hub has no featurelab-test\/nothing\/config\.json at revision 'main'/);
  await assert.rejects(fl.loadModel("featurelab-test/tiny-llama", { ...opts, revision: "v9" }), /the Hub has no featurelab-test\/tiny-llama\/config\.json at revision 'v9'/);
  await assert.rejects(fl.loadModel("featurelab-test/private", opts), /the Hub refused access \(HTTP 401\) to featurelab-test\/private\/config\.json.*needs HF_TOKEN/);
  const priv = await fl.loadModel("featurelab-test/private", { ...opts, token: "secret" });
  priv.dispose();
  await assert.rejects(fl.loadModel("featurelab-test/tiny-llama", { endpoint: "http://127.0.0.1:1", cacheDir: join(dir, "cache-none"), progress: false }), /cannot reach the Hub .*HF_HUB_OFFLINE=1/);
  await assert.rejects(fl.loadModel("featurelab-test/tiny-llama", { ...opts, revison: "main" } as never), /revison/);
});
