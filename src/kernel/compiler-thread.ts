// The kernel's compiler thread (a worker): tslab's TypeScript converters live here, so the main
// thread is free while TypeScript loads and builds its first program, and can load the packages a
// cell imports while the cell is type-checked (compiler.ts). Requests come in order on a port; each
// answer is posted back and announced on a shared counter the main thread waits on.
//
// A fast first cell: TypeScript first builds a program on the ES library alone ("light", ~0.4 s),
// then at once the full one with @types/node (~1 s more). A cell that arrives before the full one
// and compiles cleanly against the ES library alone, importing nothing, is answered from the light
// program; any other cell waits for the full program — what tslab would have said is what it gets.
// So is a cell of nothing but package imports (package-imports.ts): to the light program each of its
// packages is a module that exports nothing (light-module.ts), so it compiles the cell as the full
// program would, without reading the packages' declarations first.
import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { createRequire } from "node:module";
import type { ConvertResult, Converter } from "tslab/dist/converter.js";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { SourceFile } from "@tslab/typescript-for-tslab";
import { overrideForTslab, saveTypescriptCache, typescript, typescriptPath } from "./typescript.js";
import { trace } from "./trace.js";
import { typedPackageImports } from "./package-imports.js";
import { installSourceMaps, takeRawMaps } from "./source-maps.js";

const require = createRequire(import.meta.url);

export interface CompilerData {
  port: MessagePort;
  /**
   * [0]: bumped and notified after each answer; [1]: 1 once this thread has stopped (set by its
   * supervisor); [2]: the last request whose packages the main thread has loaded.
   */
  signal: Int32Array;
}

export type CompilerOp = "convert" | "inspect" | "complete" | "addModule";
export interface CompilerRequest {
  seq: number;
  mode: "node" | "browser";
  op: CompilerOp;
  args: unknown[];
}
export type CompilerAnswer = { seq: number; value: unknown } | { seq: number; error: string };

/** Whether @types/node is visible to programs built from now on (tslab sets no `types`: see hideTypes). */
let nodeTypes = false;

/**
 * Programs see @types/node's globals (once `nodeTypes` is set) and the types of what cells import —
 * not every @types package in node_modules, which TypeScript otherwise loads into every program: a
 * repository with widget toolkits installed carries @types/react, jquery, lodash and backbone, which
 * cost start-up time and tens of MB of heap for globals no cell uses. Imported packages still find
 * their @types through module resolution.
 */
function hideTypes(): void {
  // TypeScript finds the automatic type packages by listing each type root (getDirectories, which
  // tslab's compiler host inherits from ts.sys), once per converter.
  const sys = typescript().sys as { getDirectories(path: string): string[] };
  const original = sys.getDirectories.bind(sys);
  sys.getDirectories = (path: string) => {
    const dirs = original(path);
    return /[\\/]node_modules[\\/]@types[\\/]?$/.test(path) ? dirs.filter((d) => nodeTypes && d === "node") : dirs;
  };
}

/**
 * TypeScript's own library files (lib.es2022.d.ts and the rest) parsed once in this thread and shared
 * by every converter's programs: the full program reuses what the light one parsed (~0.3 s). Only
 * those files, which never change; everything else goes through each watch program's own cache.
 */
function shareLibraryFiles(): void {
  const libDir = dirname(typescriptPath());
  const shared = new Map<string, SourceFile>();
  type Host = { createProgram: (...a: unknown[]) => unknown };
  type Get = (...a: unknown[]) => SourceFile | undefined;
  type CompilerHost = { getSourceFile: Get; getSourceFileByPath?: Get; __shared?: true };
  /** `get` with the shared copy of a library file; `at` is where the file's name and its language options are in get's arguments. */
  const sharing = (host: CompilerHost, get: Get, at: { name: number; language: number }): Get => (...args) => {
    const fileName = args[at.name] as string;
    if (dirname(fileName) !== libDir) return get.apply(host, args);
    const l = args[at.language] as { languageVersion?: number; impliedNodeFormat?: number } | number;
    const key = `${fileName}\0${typeof l === "object" ? `${l.languageVersion}/${l.impliedNodeFormat}` : l}`;
    let file = shared.get(key);
    if (!file) {
      file = get.apply(host, args);
      if (file) shared.set(key, file);
    }
    return file;
  };
  overrideForTslab((ts) => ({
    createWatchCompilerHost: (...args: unknown[]) => {
      const host = ts.createWatchCompilerHost(...args) as Host;
      const createProgram = host.createProgram;
      host.createProgram = (...a: unknown[]) => {
        const compilerHost = a[2] as CompilerHost | undefined;
        if (compilerHost && !compilerHost.__shared) {
          compilerHost.__shared = true;
          compilerHost.getSourceFile = sharing(compilerHost, compilerHost.getSourceFile, { name: 0, language: 1 });
          if (compilerHost.getSourceFileByPath) compilerHost.getSourceFileByPath = sharing(compilerHost, compilerHost.getSourceFileByPath, { name: 0, language: 2 });
        }
        return createProgram(...a);
      };
      return host;
    },
  }));
}

/** Set while the light converter is created: its program resolves modules through lightModules. */
let creatingLight = false;
/** The packages of the cell the light program compiles now; each resolves to light-module.d.ts, any other module to nothing. */
const lightModules = new Set<string>();
const LIGHT_MODULE = fileURLToPath(new URL("./light-module.d.ts", import.meta.url));

function resolveInLight(): void {
  overrideForTslab((ts) => ({
    createWatchCompilerHost: (...args: unknown[]) => {
      const host = ts.createWatchCompilerHost(...args) as { resolveModuleNameLiterals?: (names: readonly { text: string }[]) => unknown[] };
      if (creatingLight) {
        const resolved = { resolvedFileName: LIGHT_MODULE, extension: ".d.ts", isExternalLibraryImport: true };
        host.resolveModuleNameLiterals = (names) => names.map((n) => ({ resolvedModule: lightModules.has(n.text) ? resolved : undefined }));
      }
      return host;
    },
  }));
}

function createLight(): Converter {
  creatingLight = true;
  try {
    return create(false);
  } finally {
    creatingLight = false;
  }
}

function create(browser: boolean): Converter {
  const { createConverter } = require("tslab/dist/converter.js") as typeof import("tslab/dist/converter.js");
  return createConverter({ isJS: false, isBrowser: browser });
}

/** A request the light program answered whose packages the main thread may still be loading. */
let loadingFor = 0;

/**
 * Wait (at most 10 s) until the main thread has loaded the packages of the cell the light program
 * answered: building the full program meanwhile would slow that loading — the cell's answer — by
 * half (both threads allocate hard; two cores), to have the full program sooner for a next cell.
 */
function letPackagesLoad(): void {
  const until = Date.now() + 10_000;
  for (let seen = Atomics.load(signal, 2); seen < loadingFor && Date.now() < until; seen = Atomics.load(signal, 2)) {
    Atomics.wait(signal, 2, seen, until - Date.now());
  }
}

let light: Converter | undefined;
let full: Converter | undefined;
let browser: Converter | undefined;

function fullConverter(): Converter {
  if (!full) {
    nodeTypes = true;
    full = create(false);
    light?.close();
    light = undefined;
    saveTypescriptCache();
  }
  return full;
}

/** A cell the light program may answer imports nothing (what it imports may need @types/node)... */
const USES_MODULES = /\b(import|require)\b|\/\/\/\s*<reference/;

/** ...or only typed packages, which it is told are modules: the packages, or undefined if it may not answer. */
function lightMayAnswer(req: CompilerRequest): string[] | undefined {
  if (req.mode !== "node" || req.op !== "convert") return undefined;
  const [prevDecl, src] = req.args as [string, string];
  if (USES_MODULES.test(prevDecl)) return undefined;
  return USES_MODULES.test(src) ? typedPackageImports(typescript(), src, process.cwd()) : [];
}

function convert(req: CompilerRequest): unknown {
  const [prevDecl, src] = req.args as [string, string];
  const packages = !full && light ? lightMayAnswer(req) : undefined;
  if (light && packages) {
    lightModules.clear();
    for (const p of packages) lightModules.add(p);
    if (packages.length) loadingFor = req.seq;
    const r = light.convert(prevDecl, src);
    if (r.diagnostics.length === 0) {
      trace("cell compiled by the light program");
      return { ...r, compiledBy: "light" };
    }
  }
  return { ...fullConverter().convert(prevDecl, src), compiledBy: "full" };
}

/** The source maps of what was compiled travel with it (source-maps.ts keeps them in this thread). */
function withMaps(r: ConvertResult): ConvertResult {
  if (r.output) (r as { maps?: unknown }).maps = takeRawMaps(r.output);
  for (const side of r.sideOutputs ?? []) (side as { maps?: unknown }).maps = takeRawMaps(side.data);
  return r;
}

function answer(req: CompilerRequest): unknown {
  if (req.mode === "browser") {
    browser ??= create(true);
    return (browser[req.op] as (...a: unknown[]) => unknown)(...req.args);
  }
  if (req.op === "convert") return withMaps(convert(req) as ConvertResult);
  const conv = fullConverter();
  return (conv[req.op] as (...a: unknown[]) => unknown)(...req.args);
}

const { port, signal } = workerData as CompilerData;

function serve(req: CompilerRequest): void {
  let out: CompilerAnswer;
  try {
    out = { seq: req.seq, value: answer(req) };
  } catch (err) {
    out = { seq: req.seq, error: (err as Error)?.stack ?? String(err) };
  }
  trace(`${req.op} answered`);
  port.postMessage(out);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function drain(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) serve(m.message as CompilerRequest);
}

trace("compiler thread started");
installSourceMaps();
shareLibraryFiles();
resolveInLight();
hideTypes();
trace("typescript loaded");
// The light program only helps a cell that may use it: skip it when the first cell is already here and cannot.
const first = receiveMessageOnPort(port)?.message as CompilerRequest | undefined;
if (!first || lightMayAnswer(first)) {
  light = createLight();
  trace("light program built");
}
if (first) serve(first);
drain();
letPackagesLoad();
fullConverter();
trace("full program built");
drain();
port.on("message", serve);
