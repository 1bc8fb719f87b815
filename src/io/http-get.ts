// One HTTP GET whose body lands in a caller's buffer, over node:http(s) with keep-alive connections.
// Not fetch: undici's web-stream body costs 2–3× the CPU per megabyte of node:http's (measured on a
// loopback server, 8 MB ranges), and a remote shard's bytes compete with training for the same cores.
// Redirects are followed as fetch follows them (at most 20; the Authorization header is dropped when the
// host changes, so a Hub token never reaches a CDN).
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first server's headers, before any redirect (the Hub's X-Linked-Etag, say). */
  firstHeaders: IncomingHttpHeaders;
  /** The body: in `into` when it fits there, else in a new array. */
  body: Uint8Array;
}

/** Thrown when the body is longer than the caller allowed. */
export class BodyTooLong extends Error {}

/**
 * GET `url` and read its body (at most `limit(status)` bytes: a longer body is a BodyTooLong error). A connection
 * dropped mid-body, a timeout after `timeoutMs` for the whole exchange and a network error all reject with
 * a plain Error, for the caller to retry.
 */
export async function httpGet(url: string, headers: Record<string, string>, opts: { timeoutMs: number; limit: (status: number) => number; into?: Uint8Array }): Promise<HttpAnswer> {
  const deadline = Date.now() + opts.timeoutMs;
  let at = new URL(url);
  let sent = { ...headers };
  let firstHeaders: IncomingHttpHeaders | undefined;
  for (let hop = 0; hop <= 20; hop++) {
    const res = await request(at, sent, deadline - Date.now());
    firstHeaders ??= res.headers;
    const location = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.resume();
      const next = new URL(location, at);
      if (next.host !== at.host) sent = Object.fromEntries(Object.entries(sent).filter(([k]) => k.toLowerCase() !== "authorization"));
      at = next;
      continue;
    }
    return { status: res.statusCode ?? 0, headers: res.headers, firstHeaders, body: await readBody(res, opts.limit(res.statusCode ?? 0), opts.into, deadline - Date.now()) };
  }
  throw new Error("more than 20 redirects");
}

function request(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === "https:";
    const req = (secure ? httpsRequest : httpRequest)(url, { headers, agent: secure ? agents.https : agents.http }, resolve);
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), Math.max(0, timeoutMs));
    req.once("response", () => clearTimeout(timer));
    req.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

function readBody(res: IncomingMessage, limit: number, into: Uint8Array | undefined, timeoutMs: number): Promise<Uint8Array> {
  const length = Number(res.headers["content-length"]);
  const known = Number.isSafeInteger(length) && length >= 0;
  if (known && length > limit) {
    res.destroy();
    return Promise.reject(new BodyTooLong(`${length} bytes`));
  }
  // The body goes straight to its destination: no list of chunks, no second copy of a row group.
  let target = into && into.length >= (known ? length : limit) ? into : new Uint8Array(known ? length : Math.min(limit, 1 << 20));
  let got = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => res.destroy(new Error(`the body did not arrive within ${Math.round(timeoutMs / 1000)} s`)), Math.max(0, timeoutMs));
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    res.on("data", (chunk: Buffer) => {
      if (got + chunk.length > limit) return void res.destroy(new BodyTooLong(`more than ${limit} bytes`));
      if (got + chunk.length > target.length) {
        const grown = new Uint8Array(Math.min(limit, Math.max(2 * target.length, got + chunk.length)));
        grown.set(target.subarray(0, got));
        target = grown;
      }
      target.set(chunk, got);
      got += chunk.length;
    });
    res.once("error", fail);
    res.once("aborted", () => fail(new Error(`the connection closed after ${got} bytes of the body`)));
    res.once("end", () => {
      clearTimeout(timer);
      // a dropped connection can end a body with no content-length early, and one with it must be whole
      if (res.complete) resolve(target.subarray(0, got));
      else reject(new Error(`the connection closed after ${got} bytes of the body`));
    });
  });
}
