// Where compiled cell code came from. tslab compiles a cell in two steps — TypeScript → an ES
// module (its watch program), then that module → CommonJS (ts.transpileModule) — and keeps no
// source map. Before tslab's converter is loaded, its TypeScript module is swapped for one that asks
// both steps for source maps; every cell is then tagged with a sourceURL, and a stack frame in a
// cell (or in a local .ts file it imports) maps back to the line and column the user wrote.
import { SourceMap } from "node:module";
import { overrideForTslab } from "./typescript.js";

interface Maps {
  /** CommonJS → ES module. */
  cjs: SourceMap;
  /** ES module → TypeScript (with the converter's one-line `export {};` prefix). */
  esm?: SourceMap;
  /** The TypeScript file's name, relative to the outDir tslab uses. */
  source?: string;
}

export interface CompiledFile {
  /** What the user sees: "Cell In[3]" or a path relative to the notebook. */
  label: string;
  /** The text the user wrote (for showing the offending line). */
  source: string;
  maps?: Maps;
  /** Columns added on the script's first line by the executor's function wrapper. */
  firstLineShift: number;
  /** Lines before the user's first line in the TypeScript the maps point to (the converter's prefix). */
  lineShift: number;
  /** Lines of compiled code; frames past them are the executor's wrapper (cells only). */
  compiledLines?: number;
  /** Maps a 0-based (line, column) of the code tslab compiled to the column the user wrote. */
  column?: (line: number, column: number) => number;
}

export interface Position {
  file: CompiledFile;
  /** 1-based, in what the user wrote. */
  line: number;
  column: number;
}

/** Maps as JSON payloads: what the compiler thread sends with each compiled text. */
export interface RawMaps {
  cjs: object;
  esm?: object;
  source?: string;
}

let pendingMaps = new Map<string, RawMaps>();
let installed = false;

/** Swap tslab's TypeScript for one whose two compile steps emit source maps. Call before loading tslab's converter (in the thread that compiles). */
export function installSourceMaps(): void {
  if (installed) return;
  installed = true;
  overrideForTslab((ts) => ({
    createWatchCompilerHost: (roots: unknown, options: object, ...rest: unknown[]) => ts.createWatchCompilerHost(roots, { ...options, inlineSourceMap: true }, ...rest),
    transpileModule: (input: string, transpileOptions: { compilerOptions?: object }) => {
      const inline = /\n?\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(input);
      const esm = inline ? JSON.parse(Buffer.from(inline[1], "base64").toString("utf8")) : undefined;
      if (inline) input = input.slice(0, inline.index) + "\n";
      const r = ts.transpileModule(input, { ...transpileOptions, compilerOptions: { ...transpileOptions.compilerOptions, sourceMap: true } });
      const outputText = (r.outputText as string).replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n");
      try {
        pendingMaps.set(outputText, { cjs: JSON.parse(r.sourceMapText), esm, source: esm?.sources?.[0] });
      } catch {}
      return { ...r, outputText, sourceMapText: undefined };
    },
  }));
}

/** The maps of a CommonJS text the converter produced just now (each is taken once), as JSON. */
export function takeRawMaps(output: string): RawMaps | undefined {
  const maps = pendingMaps.get(output);
  pendingMaps.delete(output);
  if (pendingMaps.size > 100) pendingMaps = new Map();
  return maps;
}

/** Maps ready to look positions up in. */
export function mapsOf(raw: RawMaps | undefined): Maps | undefined {
  if (!raw) return undefined;
  try {
    return { cjs: new SourceMap(raw.cjs as ConstructorParameters<typeof SourceMap>[0]), esm: raw.esm && new SourceMap(raw.esm as ConstructorParameters<typeof SourceMap>[0]), source: raw.source };
  } catch {
    return undefined;
  }
}

const files = new Map<string, CompiledFile>();

/** Remember a compiled script under the name its stack frames carry (a sourceURL or a path). */
export function register(name: string, file: CompiledFile): void {
  files.set(name, file);
}

/** A position in compiled code (1-based line and column, as in stack traces) → where the user wrote it. */
export function originalPosition(name: string, line: number, column: number): Position | undefined {
  const file = files.get(name);
  if (!file?.maps) return undefined;
  const l0 = line - 1;
  const viaCjs = step(file.maps.cjs, l0, Math.max(0, column - 1 - (l0 === 0 ? file.firstLineShift : 0)));
  const viaEsm = viaCjs && file.maps.esm ? step(file.maps.esm, viaCjs[0], viaCjs[1]) : viaCjs;
  if (!viaEsm) return undefined;
  const [l, c] = viaEsm;
  const userLine = l - file.lineShift;
  if (userLine < 0) return undefined;
  return { file, line: userLine + 1, column: (file.column ? file.column(userLine, c) : c) + 1 };
}

/** One map's step: the nearest mapping at or before (line, column), keeping the offset within its segment. */
function step(map: SourceMap, line: number, column: number): [number, number] | undefined {
  const e = map.findEntry(line, column) as { generatedLine?: number; generatedColumn?: number; originalLine?: number; originalColumn?: number };
  if (e.originalLine === undefined || e.originalColumn === undefined) return undefined;
  const offset = e.generatedLine === line ? Math.max(0, column - (e.generatedColumn ?? column)) : 0;
  return [e.originalLine, e.originalColumn + offset];
}

/** Positions of the compiled-code frames of an error, innermost first (filled in when its stack is formatted). */
const framesOf = new WeakMap<object, Position[]>();

export function mappedFrames(error: unknown): Position[] {
  return (typeof error === "object" && error !== null && framesOf.get(error)) || [];
}

interface CallSite {
  getFileName(): string | undefined;
  getScriptNameOrSourceURL?(): string | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  toString(): string;
}

/** Format every stack trace in the process with cell frames mapped: `at f (Cell In[3]:2:7)`. */
export function installStackTraces(): void {
  const previous = (Error as any).prepareStackTrace as ((e: Error, s: CallSite[]) => unknown) | undefined;
  (Error as any).prepareStackTrace = (error: Error, sites: CallSite[]) => {
    const mapped: Position[] = [];
    const lines: string[] = [];
    for (const site of sites) {
      const text = String(site);
      const name = site.getScriptNameOrSourceURL?.() || site.getFileName();
      const line = site.getLineNumber();
      const column = site.getColumnNumber();
      const file = name ? files.get(name) : undefined;
      if (!file || line === null || column === null) {
        lines.push(text);
        continue;
      }
      if (file.compiledLines !== undefined && line > file.compiledLines) continue; // the executor's call of the cell
      const pos = originalPosition(name!, line, column);
      if (!pos) {
        lines.push(text);
        continue;
      }
      mapped.push(pos);
      // Functions of earlier cells are called as properties of the executor's exports proxy.
      lines.push(text.replace(`${name}:${line}:${column}`, `${pos.file.label}:${pos.line}:${pos.column}`).replace(/^Proxy\./, ""));
    }
    if (mapped.length === 0 && previous) return previous(error, sites);
    if (typeof error === "object" && error !== null) framesOf.set(error, mapped);
    let head: string;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = "Error";
    }
    return [head, ...lines.map((l) => `    at ${l}`)].join("\n");
  };
}
