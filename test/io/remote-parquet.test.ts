// Parquet over HTTP: fl.load and fl.open of http:// URLs, hf://datasets paths and s3:// objects against a
// server this test starts on 127.0.0.1 — Range requests as object stores and the Hub's resolve endpoint
// answer them, the Hub's tree API and S3's ListObjectsV2 for folders. Only the byte ranges needed are fetched; a connection dropped mid-body
// is retried; what cannot be read is reported naming the URL and the bytes, with nothing read lost.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type IncomingMessage, type ServerResponse } from "node:http";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { load } from "../../src/data/load.js";
import { ActivationStream } from "../../src/data/stream.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-remote-");
const D = 16, N = 4000;
const acts = fromVectors(Float32Array.from({ length: N * D }, (_, k) => Math.sin(k)), D, { document: Int32Array.from({ length: N }, (_, i) => i >> 5) });
let server: Server, cdn: Server;
let base: string, cdnBase: string;
/** host + path of every request that carried an Authorization header. */
const authorised: string[] = [];
/** Bytes served per path, and faults to inject: drop the connection after `afterBytes` for the next `times` requests. */
const served = new Map<string, number>();
const faults = new Map<string, { afterBytes: number; times: number } | "500" | "truncate">();

before(async () => {
  mkdirSync(join(dir, "data"), { recursive: true });
  await acts.write(join(dir, "one.parquet"));
  for (let s = 0; s < 3; s++) await acts.filter((d: { document: number }, $: { s: number }) => d.document % 3 === $.s, { s }).write(join(dir, "data", `train-${s}.parquet`));
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, "http://x");
    if (req.headers.authorization) authorised.push(`${req.headers.host}${url.pathname}`);
    // The Hub sends large (LFS) files from a CDN: a redirect to another host
    const lfs = /^\/datasets\/o\/acts\/resolve\/main\/lfs\/(.+)$/.exec(url.pathname);
    if (lfs) return void res.writeHead(302, { location: `${cdnBase}/files/${lfs[1]}` }).end();
    // The Hub's tree API: /api/datasets/owner/name/tree/main/data?recursive=true
    const tree = /^\/api\/datasets\/o\/acts\/tree\/main\/(.*)$/.exec(url.pathname);
    if (tree) {
      const files = readdirSync(join(dir, tree[1])).map((f) => ({ type: "file", path: `${tree[1]}/${f}`, size: statSync(join(dir, tree[1], f)).size }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify([{ type: "directory", path: tree[1] }, ...files]));
      return;
    }
    // S3, path-style: list with ?list-type=2&prefix=…, objects at /bucket/<key> (HEAD and ranged GET)
    if (url.pathname === "/bucket" || url.pathname === "/bucket/") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const keys = readdirSync(join(dir, prefix)).map((f) => `${prefix}${f}`);
      res.writeHead(200, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bucket</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${keys.map((k) => `<Contents><Key>${k}</Key><Size>${statSync(join(dir, k)).size}</Size></Contents>`).join("")}</ListBucketResult>`);
      return;
    }
    const s3Key = /^\/bucket\/(.+)$/.exec(url.pathname)?.[1];
    if (s3Key && req.method === "HEAD") {
      try {
        res.writeHead(200, { "content-length": statSync(join(dir, s3Key)).size }).end();
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    // Files: /files/<path>, the Hub's /datasets/o/acts/resolve/main/<path>, S3's /bucket/<key>
    const rel = /^\/(?:files|bucket|datasets\/o\/acts\/resolve\/main)\/(.+)$/.exec(url.pathname)?.[1];
    let body: Buffer;
    try {
      body = readFileSync(join(dir, decodeURIComponent(rel ?? "-")));
    } catch {
      res.writeHead(404).end("not found");
      return;
    }
    const fault = faults.get(rel!);
    if (fault === "500") return void res.writeHead(500).end("boom");
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
    const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), body.length - 1)] : [0, body.length - 1];
    // "truncate": the object on the server is shorter than its listing says — long ranges come back cut short
    const part = body.subarray(start, fault === "truncate" && end - start > 1000 ? end - 99 : end + 1);
    served.set(rel!, (served.get(rel!) ?? 0) + part.length);
    res.writeHead(m ? 206 : 200, { etag: `"${createHash("sha256").update(body).digest("hex")}"`, "content-length": part.length, ...(m ? { "content-range": `bytes ${start}-${start + part.length - 1}/${body.length}` } : {}), "accept-ranges": "bytes" });
    if (typeof fault === "object" && fault.times > 0 && part.length > fault.afterBytes) {
      fault.times--;
      res.write(part.subarray(0, fault.afterBytes), () => res.destroy());
      return;
    }
    res.end(part);
  };
  server = createServer(handler);
  cdn = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => cdn.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cdnBase = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  process.env.HF_ENDPOINT = base;
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: base, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" });
});

after(async () => {
  for (const k of ["HF_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]) delete process.env[k];
  for (const s of [server, cdn]) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

test("fl.load of an http URL gives the file's rows, fetching its byte ranges", async () => {
  served.clear();
  const remote = await load(`${base}/files/one.parquet`);
  assert.equal(remote.numRows, N);
  assert.deepEqual(remote.vectors, acts.vectors);
  assert.deepEqual(Array.from(remote.column("document") as ArrayLike<number>), Array.from(acts.column("document") as ArrayLike<number>));
  const size = statSync(join(dir, "one.parquet")).size;
  assert.ok(served.get("one.parquet")! < 1.2 * size, `${served.get("one.parquet")} bytes served for a ${size}-byte file`);
});

test("hf://datasets paths: a file, and a folder listed through the Hub's tree API, streamed by fl.open", async () => {
  const one = await load("hf://datasets/o/acts/one.parquet");
  assert.deepEqual(one.vectors, acts.vectors);
  const stream = await ActivationStream.open("hf://datasets/o/acts/data");
  assert.equal(stream.numRows, N);
  let rows = 0, sum = 0;
  for await (const b of stream.rowBatches({ size: 500, shuffle: true, seed: 1 })) {
    rows += b.rows;
    for (const v of b.vectors) sum += v;
  }
  assert.equal(rows, N);
  assert.ok(Math.abs(sum - acts.vectors.reduce((a, b) => a + b, 0)) < 1e-2, "every row once");
  const share = await ActivationStream.open("hf://datasets/o/acts/data", { worker: 1, workers: 3 });
  assert.ok(share.numRows! > 0 && share.numRows! < N);
});

test("a Hub redirect to another host is followed, and the token stays with the Hub", async () => {
  process.env.HF_TOKEN = "hf_test";
  try {
    authorised.length = 0;
    const one = await load("hf://datasets/o/acts/lfs/one.parquet");
    assert.deepEqual(one.vectors, acts.vectors);
    const hub = new URL(base).host, other = new URL(cdnBase).host;
    assert.ok(authorised.includes(`${hub}/datasets/o/acts/resolve/main/lfs/one.parquet`), "the token went to the Hub");
    assert.deepEqual(authorised.filter((a) => a.startsWith(other)), [], "and not to the other host");
  } finally {
    delete process.env.HF_TOKEN;
  }
});

test("hf:// files the Hugging Face cache holds are read from it: online by their ETag, offline by the snapshot", async () => {
  const cache = join(dir, "hf-cache"), repo = join(cache, "datasets--o--acts");
  const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
  mkdirSync(join(repo, "blobs"), { recursive: true });
  copyFileSync(join(dir, "one.parquet"), join(repo, "blobs", sha(join(dir, "one.parquet"))));
  const commit = "c".repeat(40);
  mkdirSync(join(repo, "refs"), { recursive: true });
  writeFileSync(join(repo, "refs", "main"), commit);
  mkdirSync(join(repo, "snapshots", commit, "data"), { recursive: true });
  for (const f of readdirSync(join(dir, "data"))) copyFileSync(join(dir, "data", f), join(repo, "snapshots", commit, "data", f));
  process.env.HF_HUB_CACHE = cache;
  try {
    served.clear();
    const one = await load("hf://datasets/o/acts/one.parquet");
    assert.deepEqual(one.vectors, acts.vectors);
    assert.equal(served.get("one.parquet"), 8, "only the first probe went to the Hub; the rest came from the cache");
    process.env.HF_HUB_OFFLINE = "1";
    served.clear();
    const stream = await ActivationStream.open("hf://datasets/o/acts/data");
    let rows = 0;
    for await (const b of stream.rowBatches({ size: 1000 })) rows += b.rows;
    assert.equal(rows, N);
    assert.equal(served.size, 0, "offline, nothing was asked of the Hub");
    await assert.rejects(load("hf://datasets/o/acts/one.parquet"), /hf:\/\/datasets\/o\/acts\/one\.parquet: is not in the Hugging Face cache \(.*snapshots.*one\.parquet\), and HF_HUB_OFFLINE is set/);
  } finally {
    delete process.env.HF_HUB_CACHE;
    delete process.env.HF_HUB_OFFLINE;
  }
});

test("a connection dropped mid-body is retried; a server that keeps failing, a truncated body, a 404 are reported naming the URL", async () => {
  faults.set("one.parquet", { afterBytes: 5000, times: 2 });
  const retried = await load(`${base}/files/one.parquet`);
  assert.deepEqual(retried.vectors, acts.vectors, "nothing lost to the dropped connections");
  faults.set("one.parquet", { afterBytes: 5000, times: 100 });
  await assert.rejects(load(`${base}/files/one.parquet`), (err: Error) => err.message.includes(`${base}/files/one.parquet`) && /bytes \d+–\d+ could not be read after 4 attempts/.test(err.message));
  faults.set("one.parquet", "truncate");
  await assert.rejects(load(`${base}/files/one.parquet`), /one\.parquet: bytes \d+–\d+ could not be read after 4 attempts: the body ended after \d+ of \d+ bytes/);
  faults.set("one.parquet", "500");
  await assert.rejects(load(`${base}/files/one.parquet`), /one\.parquet: bytes 0–8 could not be read after 4 attempts: HTTP 500/);
  faults.clear();
  await assert.rejects(load(`${base}/files/missing.parquet`), /files\/missing\.parquet: no such file on the server \(HTTP 404\)/);
  await assert.rejects(load("hf://datasets/o/nothing/data"), /hf:\/\/datasets\/o\/nothing\/data: no such repository, revision or folder on the Hub \(HTTP 404\)/);
  await assert.rejects(load(`${base}/files/`), /featurelab lists hf:\/\/ folders/);
});

test("s3:// objects and prefixes through the AWS SDK (an S3-compatible server named by AWS_ENDPOINT_URL_S3)", async () => {
  const one = await load("s3://bucket/one.parquet");
  assert.deepEqual(one.vectors, acts.vectors);
  const stream = await ActivationStream.open("s3://bucket/data/");
  assert.equal(stream.numRows, N);
  let rows = 0;
  for await (const b of stream.rowBatches({ size: 1000 })) rows += b.rows;
  assert.equal(rows, N);
  await assert.rejects(load("s3://bucket/missing.parquet"), /s3:\/\/bucket\/missing\.parquet: no such object \(HTTP 404\)/);
});
