// Where a reader's bytes come from: a local file (positioned reads on a handle) or an http(s) URL (Range
// requests), behind one interface, so the Parquet reader asks only for the byte ranges it needs — the
// footer, then each row group's column chunks — wherever the file lies. Hugging Face dataset paths
// (hf://datasets/owner/name/path) are https URLs on the Hub's resolve endpoint, with HF_TOKEN.
// A dropped connection or a server error is retried (with backoff), then reported naming the URL and the
// bytes; a truncated body is never taken for data.
import { open, type FileHandle } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { InputError } from "./errors.js";
import { readRange } from "./read-range.js";
import { hubEndpoint, hubToken, cachedHubFile, cachedHubBlob, etagOf, offlineFromEnv } from "./hf-hub.js";
import { httpGet, BodyTooLong } from "./http-get.js";

export interface ByteSource {
  /** The file or URL, for messages. */
  readonly name: string;
  readonly size: number;
  /** Bytes [start, end): into `into` (its first end − start bytes) when given and large enough. */
  read(start: number, end: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** http(s)://, hf:// and s3:// paths are remote; anything else is a local path. */
export const isRemote = (path: string) => /^(https?|hf|s3):\/\//i.test(path);

/** The parts of an hf://datasets/owner/name[@revision]/path (or hf://owner/name/path for a model repo). */
function hfParts(path: string): { type: "model" | "dataset"; kind: string; repo: string; revision?: string; file: string } {
  const m = /^hf:\/\/(?:(datasets|spaces)\/)?([^/@]+\/[^/@]+)(?:@([^/]+))?\/(.+)$/.exec(path);
  if (!m) throw new InputError(path, "is not an hf:// path (hf://datasets/owner/name/path/to/file.parquet)");
  return { type: m[1] === "datasets" ? "dataset" : "model", kind: m[1] ? `${m[1]}/` : "", repo: m[2], revision: m[3], file: m[4] };
}

/** The https URL of an hf://datasets/owner/name/path (or hf://owner/name/path for a model repo), at `revision`. */
export function hfUrl(path: string, revision = "main"): string {
  const p = hfParts(path);
  return `${hubEndpoint()}/${p.kind}${p.repo}/resolve/${encodeURIComponent(p.revision ?? revision)}/${p.file.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * An hf:// file, read from the Hugging Face cache when the cache holds it (a dataset fetched by
 * huggingface_hub, datasets or fl.hubFile): the first ranged answer's ETag names the cached blob, as
 * huggingface_hub names it. With HF_HUB_OFFLINE set, only the cache is read.
 */
async function hubSource(path: string): Promise<ByteSource> {
  const p = hfParts(path);
  if (offlineFromEnv()) {
    const cached = cachedHubFile(p.type, p.repo, p.revision ?? "main", p.file);
    if (!cached.file) throw new InputError(path, `is not in the Hugging Face cache (${cached.looked}), and HF_HUB_OFFLINE is set`);
    return fileSource(cached.file);
  }
  const remote = await httpSource(path);
  const blob = remote.etag ? cachedHubBlob(p.type, p.repo, remote.etag) : undefined;
  if (blob) {
    const local = await fileSource(blob);
    if (local.size === remote.size) return local;
    await local.close();
  }
  return remote;
}

export async function fileSource(file: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, code === "ENOENT" ? "no such file" : `cannot open (${code ?? (err as Error).message})`);
  }
  const st = await handle.stat();
  if (st.isDirectory()) {
    await handle.close();
    throw new InputError(file, "is a folder, expected a Parquet file (use listParquetShards for a folder of shards)");
  }
  return { name: file, size: st.size, read: (s, e, into) => readRange(handle, s, e, st.size, file, into), close: () => handle.close() };
}

/**
 * A remote ByteSource of `size` bytes from a function that fetches one range: the range is checked
 * against the size before any request, and a body of the wrong length is an error naming the bytes.
 */
function rangedSource(path: string, size: number, who: string, fetchRange: (start: number, end: number, into?: Uint8Array) => Promise<Uint8Array>): ByteSource {
  return {
    name: path,
    size,
    async read(start, end, into) {
      if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= size)) {
        throw new InputError(path, `is truncated or corrupt: needs bytes ${start}–${end} but has ${size} bytes`);
      }
      if (start === end) return new Uint8Array(0);
      const bytes = await fetchRange(start, end, into);
      if (bytes.length !== end - start) throw new InputError(path, `is truncated: ${who} sent ${bytes.length} of bytes ${start}–${end}`);
      return bytes;
    },
    close: async () => {},
  };
}

export interface HttpOptions {
  /** Attempts per request before the error is reported (default 4). */
  attempts?: number;
  /** Extra request headers (an Authorization header for the Hub is added from HF_TOKEN). */
  headers?: Record<string, string>;
  /** A request that has not finished after this many milliseconds is abandoned and retried (default 60 000). */
  timeoutMs?: number;
}

const natural = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A remote file read by Range requests; its size from the first answer's Content-Range. */
export async function httpSource(path: string, opts: HttpOptions = {}): Promise<ByteSource & { etag?: string }> {
  const url = path.startsWith("hf://") ? hfUrl(path) : path;
  const headers: Record<string, string> = { ...opts.headers };
  const token = path.startsWith("hf://") ? hubToken() : undefined;
  if (token) headers.Authorization = `Bearer ${token}`;
  const attempts = opts.attempts ?? 4;

  /** One Range request, retried on network errors, 5xx and short bodies; other HTTP errors are reported at once. */
  async function fetchRange(start: number, end: number, into?: Uint8Array): Promise<{ bytes: Uint8Array; total?: number; etag?: string }> {
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const want = end - start;
        // a 206 carries the range asked for; a 200 (a server without Range support) the whole file
        const res = await httpGet(url, { ...headers, Range: `bytes=${start}-${end - 1}` }, { timeoutMs: opts.timeoutMs ?? 60_000, into, limit: (status) => (status === 206 ? want : Number.MAX_SAFE_INTEGER) });
        if (res.status === 404) throw new InputError(path, "no such file on the server (HTTP 404)");
        if (res.status === 401 || res.status === 403) throw new InputError(path, `the server refused access (HTTP ${res.status})${path.startsWith("hf://") ? "; a gated or private dataset needs HF_TOKEN" : ""}`);
        if (res.status === 416) throw new InputError(path, `has no bytes ${start}–${end} (HTTP 416: the file is shorter)`);
        if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
        if (res.status !== 206 && res.status !== 200) throw new InputError(path, `answered HTTP ${res.status} to a request for bytes ${start}–${end}`);
        const range = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(String(res.headers["content-range"] ?? ""));
        const total = range && range[3] !== "*" ? Number(range[3]) : res.status === 200 ? res.body.length : undefined;
        // from a whole file, keep the range asked for
        const bytes = res.status === 200 ? res.body.subarray(start, Math.min(end, res.body.length)) : res.body;
        if (bytes.length < want && (total === undefined || end <= total)) throw new Error(`the body ended after ${bytes.length} of ${want} bytes`);
        const first = res.firstHeaders;
        return { bytes, total, etag: etagOf(String(first["x-linked-etag"] ?? first.etag ?? "")) || undefined };
      } catch (err) {
        if (err instanceof InputError) throw err;
        if (err instanceof BodyTooLong) throw new InputError(path, `sent more than the ${end - start} bytes asked for (${start}–${end})`);
        last = (err as Error).message;
        const code = (err as NodeJS.ErrnoException).code;
        if (code) last += ` (${code})`;
        if (attempt < attempts) await sleep(50 * 2 ** attempt);
      }
    }
    throw new InputError(path, `bytes ${start}–${end} could not be read after ${attempts} attempts: ${last}`);
  }

  const first = await fetchRange(0, 8);
  const size = first.total;
  if (size === undefined || !Number.isFinite(size)) throw new InputError(path, "the server does not say how large the file is (no Content-Range); featurelab reads remote files by byte ranges");
  return { ...rangedSource(path, size, "the server", async (start, end, into) => (await fetchRange(start, end, into)).bytes), etag: first.etag };
}

/** A local file or a remote URL as a ByteSource. */
export const byteSource = (path: string): Promise<ByteSource> => (/^s3:\/\//i.test(path) ? s3Source(path) : /^hf:\/\//i.test(path) ? hubSource(path) : isRemote(path) ? httpSource(path) : fileSource(path));

// ---- s3:// through the AWS SDK (loaded only when an s3:// path is read) ----

type S3 = typeof import("@aws-sdk/client-s3");
let s3: Promise<{ sdk: S3; client: InstanceType<S3["S3Client"]> }> | undefined;

/**
 * One S3 client for the process: credentials from the SDK's usual chain (environment, shared config and
 * credentials files, SSO, container and instance roles), region from AWS_REGION (default us-east-1), and
 * an S3-compatible server (MinIO, R2, a test's) from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, addressed by path.
 */
function s3Client() {
  s3 ??= (async () => {
    const sdk = (await import("@aws-sdk/client-s3")) as S3;
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const client = new sdk.S3Client({ region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1", ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
    return { sdk, client };
  })();
  return s3;
}

function s3Parts(path: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(path);
  if (!m) throw new InputError(path, "is not an s3:// path (s3://bucket/path/to/file.parquet)");
  return { bucket: m[1], key: m[2] };
}

function s3Error(path: string, what: string, err: unknown): InputError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (status === 404 || e.name === "NoSuchKey" || e.name === "NotFound") return new InputError(path, "no such object (HTTP 404)");
  if (status === 403 || e.name === "AccessDenied") return new InputError(path, "access denied (HTTP 403): check the AWS credentials the SDK found");
  return new InputError(path, `${what}: ${e.name ?? "error"}${status ? ` (HTTP ${status})` : ""}: ${String(e.message ?? err).split("\n")[0]}`);
}

/** An S3 object read by ranged GetObject requests (the SDK retries; what still fails names the object and bytes). */
export async function s3Source(path: string): Promise<ByteSource> {
  const { bucket, key } = s3Parts(path);
  const { sdk, client } = await s3Client();
  let size: number;
  try {
    size = Number((await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength);
  } catch (err) {
    throw s3Error(path, "cannot read its size", err);
  }
  return rangedSource(path, size, "S3", async (start, end, into) => {
    let body: Uint8Array;
    try {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      body = await res.Body!.transformToByteArray();
    } catch (err) {
      throw s3Error(path, `bytes ${start}–${end} could not be read`, err);
    }
    if (into && into.length >= body.length) {
      into.set(body);
      return into.subarray(0, body.length);
    }
    return body;
  });
}

/** The *.parquet objects under an s3:// prefix, in natural order. */
export async function listS3Shards(folder: string): Promise<string[]> {
  const { bucket, key } = s3Parts(folder);
  const prefix = key && !key.endsWith("/") ? `${key}/` : key;
  const { sdk, client } = await s3Client();
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key?.toLowerCase().endsWith(".parquet")) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    throw s3Error(folder, "cannot list it", err);
  }
  if (keys.length === 0) throw new InputError(folder, "holds no .parquet objects");
  return keys.sort(natural.compare).map((k) => `s3://${bucket}/${k}`);
}

/**
 * The *.parquet files under an hf:// folder (the Hub's tree API, recursive), as hf:// paths in natural
 * order. A plain http(s) folder cannot be listed: its shards are named one by one.
 */
export async function listRemoteShards(folder: string): Promise<string[]> {
  if (/^s3:\/\//i.test(folder)) return listS3Shards(folder);
  const m = /^hf:\/\/(datasets\/)?([^/@]+\/[^/@]+)(?:@([^/]+))?(?:\/(.*))?$/.exec(folder.replace(/\/$/, ""));
  if (!m) throw new InputError(folder, "is a remote folder; featurelab lists hf:// folders (the Hub's tree API) and s3:// prefixes — name an http(s) server's shards one by one");
  const revision = m[3] ?? "main";
  const asPaths = (files: string[]) => files.sort(natural.compare).map((f) => `hf://${m[1] ?? ""}${m[2]}${m[3] ? `@${m[3]}` : ""}/${f}`);
  if (offlineFromEnv()) {
    // offline, the folder as the cache's snapshot holds it
    const cached = cachedHubFile(m[1] ? "dataset" : "model", m[2], revision, m[4] ?? "");
    const files = cached.file ? readdirSync(cached.file, { recursive: true, encoding: "utf8" }).filter((f) => f.toLowerCase().endsWith(".parquet")) : [];
    if (files.length === 0) throw new InputError(folder, `holds no .parquet files in the Hugging Face cache (${cached.looked}), and HF_HUB_OFFLINE is set`);
    return asPaths(files.map((f) => (m[4] ? `${m[4]}/${f}` : f)));
  }
  const endpoint = hubEndpoint();
  const url = `${endpoint}/api/${m[1] ? "datasets" : "models"}/${m[2]}/tree/${encodeURIComponent(revision)}${m[4] ? `/${m[4]}` : ""}?recursive=true`;
  const token = hubToken();
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  let entries: { type: string; path: string }[];
  try {
    const res = await fetch(url, { headers });
    if (res.status === 404) throw new InputError(folder, "no such repository, revision or folder on the Hub (HTTP 404)");
    if (!res.ok) throw new InputError(folder, `the Hub answered HTTP ${res.status} when listing it`);
    entries = (await res.json()) as { type: string; path: string }[];
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(folder, `cannot list it on the Hub (${(err as Error).message})`);
  }
  const files = entries.filter((e) => e.type === "file" && e.path.toLowerCase().endsWith(".parquet")).map((e) => e.path);
  if (files.length === 0) throw new InputError(folder, "holds no .parquet files on the Hub");
  return asPaths(files);
}
