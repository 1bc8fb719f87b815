// A real Jupyter frontend for widget tests and benchmarks: Debian's jupyter_server on 127.0.0.1 (a free
// port, a token, the repository's kernelspec through JUPYTER_PATH) serving a page built from
// @jupyterlab/services and ipywidgets 8's widget manager (test/display/live/page.js, bundled here with
// esbuild as scripts/build-widgets.mjs bundles the offline renderer), opened in Debian's headless
// chromium. Every wait is on an event: the server saying where it listens, the page marking itself
// ready, a cell's execute reply. Used by test/display/live-widgets.test.ts and bench/widget-roundtrip.mjs.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { CEILING, CHROMIUM } from "../../browser.js";
import { ensurePlotlyResources } from "../../../scripts/plotly-resources.mjs";
import { cssAsStyle, ipywidgets7 } from "../../../scripts/build-widgets.mjs";

export const root = join(import.meta.dirname, "..", "..", "..");
export const PYTHON = "/usr/bin/python3";
const ENTRY = join(import.meta.dirname, "page.js");

/** Why the live frontend cannot run here, or undefined when it can. */
export function unavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no ${CHROMIUM}`;
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ["-c", "import jupyter_server"], { stdio: "ignore" }).status !== 0) return "no jupyter_server for /usr/bin/python3 (apt-get install python3-jupyter-server)";
  if (!existsSync(join(root, "dist", "kernel", "main.js"))) return "no dist/kernel/main.js (npm run build)";
  return undefined;
}

/** A TCP port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Bundle the page's module (one IIFE, its CSS injected as <style>) to `outfile`. */
export async function bundlePage(outfile: string): Promise<void> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["chrome100"],
    minify: true,
    logLevel: "warning",
    logLimit: 5,
    define: { "process.env.NODE_ENV": '"production"' },
    loader: { ".svg": "text" },
    plugins: [ipywidgets7, cssAsStyle(esbuild)],
  });
}

function pageHtml(): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>featurelab live widgets</title>
<script id="jupyter-config-data" type="application/json">{"baseUrl": "/"}</script>
<style>body{font-family:system-ui,sans-serif;margin:16px;background:#fff;color:#222}.cell{border-left:3px solid #ddd;padding:4px 12px;margin:12px 0}.cell pre{margin:2px 0}</style>
</head><body><div id="cells"></div><script src="page.js"></script></body></html>
`;
}

export interface LiveServer {
  /** http://127.0.0.1:port */
  base: string;
  token: string;
  /** The server's root_dir and the kernel's working directory (under out/, so the kernel resolves "featurelab"). */
  dir: string;
  /** The page's URL (same origin as the API). */
  pageUrl(kernelId?: string): string;
  /** The server's log so far. */
  log(): string;
  /** Shut every kernel down through the API, then stop the server by its PID (SIGKILL after a timeout). */
  stop(): Promise<void>;
}

/** Start jupyter_server with the page and its bundle in its root_dir; resolves once the server says where it runs. */
export async function startServer(): Promise<LiveServer> {
  ensurePlotlyResources(); // plotly.js beside the kernelspec, which the server serves
  mkdirSync(join(root, "out"), { recursive: true });
  const dir = mkdtempSync(join(root, "out", "live-widgets-"));
  const home = mkdtempSync(join(tmpdir(), "featurelab-live-"));
  const token = `featurelab-live-${process.pid}`;
  // Served as the server's own static files (/static/featurelab-live/…): same origin as the API, as
  // JupyterLab's page is. (/files/… would not do: the server sandboxes what it serves there with
  // "Content-Security-Policy: sandbox allow-scripts", which gives the page an opaque origin.)
  mkdirSync(join(dir, "featurelab-live"));
  await bundlePage(join(dir, "featurelab-live", "page.js"));
  writeFileSync(join(dir, "featurelab-live", "index.html"), pageHtml());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const jupyter = join(root, "jupyter");
  const env = {
    ...process.env,
    JUPYTER_PATH: process.env.JUPYTER_PATH ? `${jupyter}:${process.env.JUPYTER_PATH}` : jupyter,
    JUPYTER_CONFIG_DIR: join(home, "config"),
    JUPYTER_DATA_DIR: join(home, "data"),
    JUPYTER_RUNTIME_DIR: join(home, "runtime"),
    XDG_DATA_HOME: join(home, "xdg"), // the kernel's history file
  };
  const args = [
    "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0",
    `--ServerApp.token=${token}`, `--ServerApp.root_dir=${dir}`, `--ServerApp.extra_static_paths=${dir}`, "--ServerApp.open_browser=False",
    ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
  ];
  const server: ChildProcess = spawn(PYTHON, args, { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const exited = new Promise<void>((r) => server.once("exit", () => r()));
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`jupyter_server ${why}:\n${log}`));
      const ceiling = setTimeout(() => fail(`did not say it runs within ${CEILING} ms`), CEILING);
      server.once("exit", (code) => (clearTimeout(ceiling), fail(`exited (${code})`)));
      server.stderr!.setEncoding("utf8").on("data", (d: string) => {
        log += d;
        if (/is running at/.test(log) && log.includes(`${base}/`)) (clearTimeout(ceiling), resolve());
      });
    });
  } catch (err) {
    if (server.exitCode === null) server.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const api = (path: string, init?: RequestInit) => fetch(`${base}${path}`, { ...init, headers: { Authorization: `token ${token}` } });
  return {
    base,
    token,
    dir,
    pageUrl: (kernelId) => `${base}/static/featurelab-live/index.html?token=${token}${kernelId ? `&kernel=${kernelId}` : ""}`,
    log: () => log,
    async stop() {
      try {
        if (server.exitCode === null) {
          const kernels = (await (await api("/api/kernels")).json()) as { id: string }[];
          await Promise.all(kernels.map((k) => api(`/api/kernels/${k.id}`, { method: "DELETE" })));
        }
      } catch {}
      if (server.exitCode === null && server.signalCode === null) {
        server.kill("SIGTERM");
        const timer = setTimeout(() => server.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  status: string;
  cell: number;
  /** The text/plain of the cell's execute_result(s). */
  results: string[];
  errors: string[];
  streams: string[];
}

export interface LivePage {
  page: Page;
  /** Console errors and uncaught exceptions in the page. */
  errors: string[];
  /** Requests (HTTP and WebSocket) to anywhere but the server. */
  foreign: string[];
  /** Every request's URL, in order. */
  requests: string[];
  /** The id of the kernel the page runs. */
  kernelId: string;
  /** Execute a cell in the page; resolves with its reply (throws on a kernel error). */
  run(code: string): Promise<RunResult>;
  /** The text/plain of an expression's value, evaluated in the kernel. */
  value(expr: string): Promise<string>;
  /** Start a cell without waiting for it; `done()` waits for its reply. */
  start(code: string): Promise<{ done: () => Promise<RunResult> }>;
  close(): Promise<void>;
}

/** Open the page in `browser`; resolves once it is connected to a kernel (a new one, or `kernelId`'s). */
export async function openPage(browser: Browser, server: LiveServer, opts: { kernelId?: string; viewport?: { width: number; height: number } } = {}): Promise<LivePage> {
  const page = await browser.newPage({ viewport: opts.viewport ?? { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const foreign: string[] = [];
  const origin = new URL(server.base).origin;
  const note = (url: string) => {
    requests.push(url);
    if (!/^(data|blob):/.test(url) && new URL(url).host !== new URL(origin).host) foreign.push(url);
  };
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => note(r.url()));
  page.on("websocket", (ws) => note(ws.url()));
  await page.goto(server.pageUrl(opts.kernelId), { waitUntil: "load", timeout: CEILING });
  await page.waitForFunction(() => "ready" in document.body.dataset || "failed" in document.body.dataset, null, { timeout: CEILING });
  const failed = await page.evaluate(() => document.body.dataset.failed);
  if (failed !== undefined) throw new Error(`the live page did not connect: ${failed}\n${errors.join("\n")}`);
  const kernelId = await page.evaluate(() => (window as any).live.kernel.id as string);
  const run = async (code: string) => {
    const r = await page.evaluate((c) => (window as any).live.run(c), code) as RunResult;
    if (r.status !== "ok") throw new Error(`cell ${r.cell} ended ${r.status}: ${r.errors.join("\n")}\n${code}`);
    return r;
  };
  return {
    page,
    errors,
    foreign,
    requests,
    kernelId,
    run,
    async value(expr) {
      return (await run(expr)).results.at(-1) ?? "";
    },
    async start(code) {
      const slot = await page.evaluate((c) => {
        const w = window as any;
        w.__pending = (w.__pending ?? []).concat([w.live.run(c)]);
        return w.__pending.length - 1;
      }, code);
      return { done: () => page.evaluate((k) => (window as any).__pending[k], slot) as Promise<RunResult> };
    },
    close: () => page.close(),
  };
}
