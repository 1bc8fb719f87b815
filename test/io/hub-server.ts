// A loopback server that answers as the Hugging Face Hub's file endpoints do: HEAD/GET of
// /{owner}/{name}/resolve/{revision}/{path} with X-Repo-Commit and ETag (a git blob id), or — for LFS
// files (*.safetensors) — a 302 to a storage URL with X-Linked-Etag (the sha256) and X-Linked-Size; the
// storage serves byte ranges. 404 for a missing file (with X-Repo-Commit) or repository (without); 401
// for a private repository without the token. It can drop a download half-way, once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";

export interface HubRepo {
  files: Record<string, Uint8Array>;
  /** Revisions besides "main" and the commit (tags, branches) that resolve to the commit. */
  aliases?: string[];
  /** Only with "Authorization: Bearer <token>". */
  token?: string;
}

export interface FakeHub {
  endpoint: string;
  /** "METHOD url [range]" of every request. */
  requests: string[];
  /** Cut the next storage download after half its bytes. */
  dropNextDownload(): void;
  commitOf(repo: string): string;
  close(): Promise<void>;
}

const gitBlobId = (data: Uint8Array) => createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

export async function startHub(repos: Record<string, HubRepo>): Promise<FakeHub> {
  const requests: string[] = [];
  let drop = false;
  const commits = Object.fromEntries(Object.keys(repos).map((r) => [r, createHash("sha1").update(r).digest("hex")]));
  const storage = new Map<string, Uint8Array>();
  for (const repo of Object.values(repos)) for (const data of Object.values(repo.files)) storage.set(sha256(data), data);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, "http://127.0.0.1");
    requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ""}`);
    const head = req.method === "HEAD";
    const lfs = /^\/lfs\/([0-9a-f]{64})$/.exec(url.pathname);
    if (lfs) {
      const data = storage.get(lfs[1]);
      if (!data) return void res.writeHead(404).end();
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
      const from = range ? Number(range[1]) : 0;
      if (from > data.length) return void res.writeHead(416).end();
      res.writeHead(range ? 206 : 200, { "Content-Length": data.length - from, ...(range ? { "Content-Range": `bytes ${from}-${data.length - 1}/${data.length}` } : {}) });
      if (head) return void res.end();
      const body = data.subarray(from);
      if (drop) {
        drop = false;
        // Cut the connection once the first half has left.
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => setImmediate(() => res.socket?.destroy()));
        return;
      }
      return void res.end(body);
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repo = m ? repos[m[1]] : undefined;
    if (!m || !repo) return void res.writeHead(404, { "X-Error-Code": "RepoNotFound" }).end();
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) return void res.writeHead(401, { "X-Error-Code": "GatedRepo" }).end();
    const commit = commits[m[1]];
    const revision = decodeURIComponent(m[2]);
    if (revision !== "main" && revision !== commit && !repo.aliases?.includes(revision)) return void res.writeHead(404, { "X-Error-Code": "RevisionNotFound" }).end();
    const path = m[3].split("/").map(decodeURIComponent).join("/");
    const data = repo.files[path];
    if (!data) return void res.writeHead(404, { "X-Repo-Commit": commit, "X-Error-Code": "EntryNotFound" }).end();
    if (path.endsWith(".safetensors")) {
      const sha = sha256(data);
      return void res.writeHead(302, { Location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/lfs/${sha}`, "X-Repo-Commit": commit, "X-Linked-Etag": `"${sha}"`, "X-Linked-Size": data.length, ETag: `"${gitBlobId(data)}"` }).end();
    }
    res.writeHead(200, { "X-Repo-Commit": commit, ETag: `"${gitBlobId(data)}"`, "Content-Length": data.length });
    res.end(head ? undefined : data);
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    dropNextDownload: () => void (drop = true),
    commitOf: (repo) => commits[repo],
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
