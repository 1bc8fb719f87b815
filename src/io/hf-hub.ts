// Files from the Hugging Face Hub into the standard Hugging Face cache, laid out as huggingface_hub
// (Python) lays it out, so the two share downloads:
//   $HF_HUB_CACHE (else $HF_HOME/hub, else ~/.cache/huggingface/hub)/models--owner--name/
//     blobs/<etag>                         the file's bytes (etag: the LFS sha256, else the git blob id)
//     snapshots/<commit>/<path>            a relative symlink to its blob, under the revision's commit
//     refs/<revision>                      the commit a branch or tag pointed to when last fetched
//     .no_exist/<commit>/<path>            a file the revision does not have (so offline mode knows)
// The protocol is hf_hub_download's: a HEAD of {endpoint}/{repo}/resolve/{revision}/{path} (not following
// redirects) gives X-Repo-Commit, X-Linked-Etag / ETag and X-Linked-Size; a GET (following them) gives
// the bytes, into blobs/<etag>.incomplete, resumed with a Range request after a dropped connection.
// HF_HUB_OFFLINE=1 reads the cache only; HF_TOKEN authenticates; HF_ENDPOINT names another hub.
//
// Not @huggingface/hub: its downloadFileToCacheDir files each snapshot under the commit that last
// touched the file rather than the revision's commit, and writes no refs/ — Python tools and offline
// mode would not find what it downloads there.
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { InputError } from "./errors.js";
import { rejectUnknownOptions } from "./options.js";

/** Where and how files come from the Hub (every field optional: the environment gives the defaults). */
export interface HubOptions {
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** The hub's address (default $HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** The cache folder (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Read the cache only, never the network (default: $HF_HUB_OFFLINE is 1 or true). */
  offline?: boolean;
  /** An access token (default $HF_TOKEN). */
  token?: string;
  /** Told of each file's bytes as they arrive. */
  onProgress?: (p: { path: string; bytes: number; total: number | undefined; done: boolean }) => void;
}

const COMMIT = /^[0-9a-f]{40}$/;
const RETRIES = 3;

/** The Hub's address: the one given, else $HF_ENDPOINT, else https://huggingface.co (no trailing slash). */
export function hubEndpoint(endpoint?: string): string {
  return (endpoint ?? process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/$/, "");
}

/** The access token: the one given, else $HF_TOKEN. */
export function hubToken(token?: string): string | undefined {
  return token ?? process.env.HF_TOKEN;
}

/**
 * The Hugging Face cache folder: `opts.cacheDir`, else $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
 * @example
 * fl.hubCacheDir();                 // "/home/me/.cache/huggingface/hub"
 */
export function hubCacheDir(opts: HubOptions = {}): string {
  rejectUnknownOptions("hubCacheDir", opts, ["revision", "endpoint", "cacheDir", "offline", "token", "onProgress"]);
  return opts.cacheDir ?? process.env.HF_HUB_CACHE ?? join(process.env.HF_HOME ?? join(homedir(), ".cache", "huggingface"), "hub");
}

/** "owner/name" (a model) or "datasets/owner/name": the repository a path names, if it names one. */
export function parseRepo(id: string): { type: "model" | "dataset"; repo: string } | undefined {
  const m = /^(?:(datasets)\/)?([A-Za-z0-9][\w.-]*\/[\w.-]+)$/.exec(id);
  if (!m || m[2].includes("..")) return undefined;
  return { type: m[1] ? "dataset" : "model", repo: m[2] };
}

function repoFolder(cacheDir: string, type: "model" | "dataset", repo: string): string {
  return join(cacheDir, `${type}s--${repo.replace("/", "--")}`);
}

/**
 * `path` of `repo` at `revision` as the cache holds it (snapshots/<commit>/path, the commit from refs/<revision>),
 * without asking the Hub: `file` when it is there; `looked` is where it would be, for messages.
 */
export function cachedHubFile(type: "model" | "dataset", repo: string, revision: string, path: string, opts: { cacheDir?: string } = {}): { file?: string; commit?: string; looked: string } {
  const storage = repoFolder(hubCacheDir({ cacheDir: opts.cacheDir }), type, repo);
  const refPath = join(storage, "refs", revision);
  const commit = COMMIT.test(revision) ? revision : existsSync(refPath) ? readFileSync(refPath, "utf8").trim() : undefined;
  if (!commit) return { looked: refPath };
  const pointer = join(storage, "snapshots", commit, path);
  return { file: existsSync(pointer) ? pointer : undefined, commit, looked: pointer };
}

/** The cached blob of a file whose Hub ETag (X-Linked-Etag for large files) is `etag`, when the cache holds it. */
export function cachedHubBlob(type: "model" | "dataset", repo: string, etag: string): string | undefined {
  const blob = join(repoFolder(hubCacheDir(), type, repo), "blobs", etagOf(etag)!);
  return existsSync(blob) ? blob : undefined;
}

export const offlineFromEnv = () => /^(1|true|yes|on)$/i.test(process.env.HF_HUB_OFFLINE ?? "");

/** A normalised ETag: no weak marker, no quotes. */
export const etagOf = (v: string | null | undefined) => v?.replace(/^W\//, "").replace(/^"|"$/g, "");

interface Located {
  commit: string;
  etag: string;
  size: number | undefined;
}

/**
 * The local path of `path` in `repo` at `opts.revision`, downloaded into the cache if it is not there;
 * undefined when the revision has no such file and `optional` is set (else an error that names it).
 * @example
 * const config = await fl.hubFile("EleutherAI/pythia-70m", "config.json");
 */
export async function hubFile(repoId: string, path: string, opts: HubOptions & { optional?: boolean; type?: "model" | "dataset" } = {}): Promise<string | undefined> {
  rejectUnknownOptions("hubFile", opts, ["revision", "endpoint", "cacheDir", "offline", "token", "onProgress", "optional", "type"]);
  const type = opts.type ?? "model";
  const revision = opts.revision ?? "main";
  const cacheDir = hubCacheDir({ cacheDir: opts.cacheDir });
  const storage = repoFolder(cacheDir, type, repoId);
  const offline = opts.offline ?? offlineFromEnv();
  const described = `${repoId}/${path} at revision '${revision}'`;
  if (offline) {
    const cached = cachedHubFile(type, repoId, revision, path, { cacheDir });
    if (cached.file) return cached.file;
    // Offline, an optional file the cache lacks is absent (whether or not .no_exist records it).
    if (cached.commit && opts.optional) return undefined;
    throw new InputError(cached.looked, `is not in the Hugging Face cache, and HF_HUB_OFFLINE is set (${described})`);
  }
  const endpoint = hubEndpoint(opts.endpoint);
  const url = `${endpoint}/${type === "dataset" ? "datasets/" : ""}${repoId}/resolve/${encodeURIComponent(revision)}/${path.split("/").map(encodeURIComponent).join("/")}`;
  const token = hubToken(opts.token);
  const headers: Record<string, string> = { "Accept-Encoding": "identity", "User-Agent": "featurelab" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const found = await locate(url, headers, described);
  if (found === "missing") {
    if (!opts.optional) throw new InputError(url, `not found: the Hub has no ${described}`);
    return undefined;
  }
  if ("missingAt" in found) {
    const marker = join(storage, ".no_exist", found.missingAt, path);
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, "");
    if (!opts.optional) throw new InputError(url, `not found: the Hub has no ${described}`);
    return undefined;
  }
  const pointer = join(storage, "snapshots", found.commit, path);
  const blob = join(storage, "blobs", found.etag);
  if (!existsSync(blob)) await download(url, headers, blob, found.size, path, opts.onProgress);
  if (!existsSync(pointer)) {
    mkdirSync(dirname(pointer), { recursive: true });
    rmSync(pointer, { force: true });
    symlinkSync(relative(dirname(pointer), blob), pointer);
  }
  if (revision !== found.commit) {
    mkdirSync(join(storage, "refs", dirname(revision)), { recursive: true });
    writeFileSync(join(storage, "refs", revision), found.commit);
  }
  return pointer;
}

/** The HEAD of a resolve URL: where the file is (commit, etag, size), or that it is missing. */
async function locate(url: string, headers: Record<string, string>, described: string): Promise<Located | "missing" | { missingAt: string }> {
  let at = url;
  for (let hop = 0; hop < 5; hop++) {
    let res: Response;
    try {
      res = await fetch(at, { method: "HEAD", headers, redirect: "manual" });
    } catch (err) {
      throw new InputError(url, `cannot reach the Hub (${(err as Error).cause ?? (err as Error).message}); set HF_HUB_OFFLINE=1 to use the cache only`);
    }
    const commit = res.headers.get("x-repo-commit") ?? undefined;
    if (res.status === 404) return commit ? { missingAt: commit } : "missing";
    if (res.status === 401 || res.status === 403) throw new InputError(url, `the Hub refused access (HTTP ${res.status}) to ${described}: a gated or private repository needs HF_TOKEN (or the token option)`);
    const location = res.headers.get("location");
    // Relative redirects stay on the hub (a renamed repository); absolute ones go to the file storage (LFS), whose answer is read below.
    if (res.status >= 300 && res.status < 400 && location && location.startsWith("/")) {
      at = new URL(location, at).href;
      continue;
    }
    if (!(res.ok || (res.status >= 300 && res.status < 400))) throw new InputError(url, `the Hub answered HTTP ${res.status} for ${described}`);
    const etag = etagOf(res.headers.get("x-linked-etag") ?? res.headers.get("etag"));
    if (!commit || !etag) throw new InputError(url, `the Hub's answer for ${described} has no ${!commit ? "X-Repo-Commit" : "ETag"} header, so the file cannot be cached`);
    const size = Number(res.headers.get("x-linked-size") ?? res.headers.get("content-length"));
    return { commit, etag, size: Number.isFinite(size) && size >= 0 ? size : undefined };
  }
  throw new InputError(url, `too many redirects for ${described}`);
}

/** GET into blob.incomplete (resuming what is there), retried after a dropped connection, then renamed to blob. */
async function download(url: string, headers: Record<string, string>, blob: string, size: number | undefined, path: string, onProgress: HubOptions["onProgress"]): Promise<void> {
  mkdirSync(dirname(blob), { recursive: true });
  const partial = `${blob}.incomplete`;
  let lastError: unknown;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    const have = existsSync(partial) ? statSync(partial).size : 0;
    if (size !== undefined && have === size) break;
    try {
      const res = await fetch(url, { headers: have > 0 ? { ...headers, Range: `bytes=${have}-` } : headers, redirect: "follow" });
      if (res.status === 416 && size !== undefined && have >= size) break;
      if (!res.ok || !res.body) throw new InputError(url, `the Hub answered HTTP ${res.status} while downloading ${path}`);
      // A server that ignores Range sends the whole file again: start over.
      const append = have > 0 && res.status === 206;
      const out = createWriteStream(partial, { flags: append ? "a" : "w" });
      let bytes = append ? have : 0;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
          bytes += chunk.length;
          onProgress?.({ path, bytes, total: size, done: false });
        }
      } finally {
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      }
      if (size === undefined || bytes === size) break;
      throw new Error(`the connection ended after ${bytes} of ${size} bytes`);
    } catch (err) {
      if (err instanceof InputError) throw err;
      lastError = err;
    }
  }
  const got = existsSync(partial) ? statSync(partial).size : 0;
  if (size !== undefined && got !== size) {
    throw new InputError(url, `download of ${path} failed after ${RETRIES + 1} attempts (${got} of ${size} bytes kept in ${partial}, resumed next time): ${(lastError as Error)?.message ?? lastError}`);
  }
  renameSync(partial, blob);
  onProgress?.({ path, bytes: got, total: size, done: true });
}

/**
 * `path` itself when it exists here; else the Hub repository it names, fetched into the cache by
 * `fetchRepo` (which returns the local folder), with any error saying that both were tried.
 */
export async function localOrHub(path: string, fetchRepo: (repo: string) => Promise<string>): Promise<{ dir: string; repo?: string }> {
  if (existsSync(path)) return { dir: path };
  const hub = parseRepo(path);
  if (!hub || hub.type !== "model") throw new InputError(path, "no such folder (nor a Hub repository name like owner/name)");
  try {
    return { dir: await fetchRepo(hub.repo), repo: hub.repo };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new InputError(path, `is no local folder, and as a Hub repository: ${err.message.replace(/^featurelab: /, "")}`);
  }
}
