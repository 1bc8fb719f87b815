// Jupyter `error` content — ename, evalue and a traceback that points at the line in the cell —
// for compile errors (TypeScript diagnostics, with line:column) and for values thrown at run time
// (the stack with cell frames mapped back through the source maps, and the offending line shown).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { mappedFrames, type Position } from "./source-maps.js";

export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** A TypeScript diagnostic as tslab's converter gives it (0-based line and character). */
export interface Diagnostic {
  start: { line: number; character: number };
  end: { line: number; character: number };
  messageText: string;
  code: number;
  category: number;
  fileName?: string;
}

const RED = "\x1b[0;31m";
const BOLD_RED = "\x1b[1;31m";
const GREEN = "\x1b[0;32m";
const CYAN = "\x1b[0;36m";
const RESET = "\x1b[0m";

/** Lines of `source` around `line` (1-based), IPython-style, with a caret span when columns are given. */
export function sourceContext(source: string, line: number, from?: number, to?: number, around = 2): string[] {
  const lines = source.split("\n");
  const out: string[] = [];
  for (let i = Math.max(1, line - around); i <= Math.min(lines.length, line + around); i++) {
    const text = lines[i - 1].replace(/\r$/, "");
    out.push(i === line ? `${GREEN}----> ${String(i).padStart(3)}${RESET} ${text}` : `      ${String(i).padStart(3)} ${text}`);
    if (i === line && from !== undefined) {
      const width = Math.max(1, (to !== undefined && to > from ? to : from + 1) - from);
      out.push(`${" ".repeat(10 + from - 1)}${RED}${"^".repeat(Math.min(width, Math.max(1, text.length - from + 2)))}${RESET}`);
    }
  }
  return out;
}

function readSource(cwd: string, file: string): string {
  try {
    return readFileSync(resolve(cwd, file), "utf8");
  } catch {
    return "";
  }
}

/** TypeScript diagnostics of a cell (and of local files it imports) → one error. */
export function compileError(diagnostics: Diagnostic[], cell: { label: string; source: string; cwd: string }): ErrorContent {
  // The converter flattens a message chain into entries with the same span (the links without a
  // file name): put them back together.
  let groups: { d: Diagnostic; messages: string[] }[] = [];
  for (const d of diagnostics) {
    const last = groups[groups.length - 1];
    const same =
      last && (d.fileName === undefined || last.d.fileName === d.fileName) &&
      last.d.start.line === d.start.line && last.d.start.character === d.start.character && last.d.end.line === d.end.line && last.d.end.character === d.end.character;
    if (same) last.messages.push(d.messageText);
    else groups.push({ d, messages: [d.messageText] });
  }
  // With a syntax error (TS1xxx) present, the type errors that follow from it are noise.
  const syntax = groups.some((g) => g.d.code < 2000);
  if (syntax) groups = groups.filter((g) => g.d.code < 2000);
  const ename = syntax ? "SyntaxError" : "TSError";
  const first = groups[0];
  const where = (d: Diagnostic) => `${d.fileName ?? cell.label}, line ${d.start.line + 1}:${d.start.character + 1}`;
  const more = groups.length > 1 ? `; ${groups.length - 1} more error${groups.length > 2 ? "s" : ""}` : "";
  const evalue = `${first.messages[0]} (${where(first.d)}${more})`;
  const traceback = [`${BOLD_RED}${ename}${RESET}: ${groups.length} error${groups.length > 1 ? "s" : ""} compiling ${cell.label}`];
  for (const { d, messages } of groups) {
    traceback.push("", `${CYAN}${where(d)}${RESET} - ${RED}error${RESET} TS${d.code}: ${messages[0]}${messages.slice(1).map((m) => `\n    ${m}`).join("")}`);
    const source = d.fileName ? readSource(cell.cwd, d.fileName) : cell.source;
    if (source) {
      const to = d.end.line === d.start.line ? d.end.character + 1 : undefined;
      traceback.push(...sourceContext(source, d.start.line + 1, d.start.character + 1, to));
    }
  }
  return { ename, evalue, traceback };
}

const here = dirname(fileURLToPath(import.meta.url));
/** Frames of the kernel itself (and of the Node internals it calls cells from): cut from tracebacks. */
function isMachinery(frame: string): boolean {
  return frame.includes(here) || /[\\/]tslab[\\/]dist[\\/]/.test(frame) || /\(node:vm|at node:vm|node:internal\/vm/.test(frame);
}

/** A value thrown by a cell → its error content, with the stack's cell frames mapped and the line shown. */
export function runtimeError(thrown: unknown): ErrorContent {
  if (!(thrown instanceof Error) && !(typeof thrown === "object" && thrown !== null && typeof (thrown as Error).stack === "string")) {
    const evalue = inspect(thrown, { depth: 2 });
    return { ename: "Uncaught", evalue, traceback: [`${BOLD_RED}Uncaught${RESET} ${evalue}`] };
  }
  const err = thrown as Error;
  const ename = err.name || err.constructor?.name || "Error";
  const evalue = String(err.message ?? "");
  const stack = String(err.stack ?? "");
  const frames: string[] = [];
  for (const line of stack.split("\n")) {
    if (!/^\s+at /.test(line)) continue;
    if (isMachinery(line)) break;
    if (line.includes("node:internal/process/task_queues")) continue;
    frames.push(line);
  }
  const traceback = [`${BOLD_RED}${ename}${RESET}: ${evalue}`, ...frames];
  const innermost: Position | undefined = mappedFrames(err)[0];
  if (innermost) {
    traceback.push("", `${CYAN}${innermost.file.label}, line ${innermost.line}${RESET}`, ...sourceContext(innermost.file.source, innermost.line));
  }
  if (err.cause !== undefined) {
    const cause = runtimeError(err.cause);
    traceback.push("", "Caused by:", ...cause.traceback);
  }
  return { ename, evalue, traceback };
}

/** A cell the heap guard stopped (heap-guard.ts). */
export function outOfMemoryError(detail: string): ErrorContent {
  return { ename: "OutOfMemoryError", evalue: detail, traceback: [`${BOLD_RED}OutOfMemoryError${RESET}: ${detail}`] };
}

export function interruptError(detail: string): ErrorContent {
  return { ename: "KeyboardInterrupt", evalue: detail, traceback: [`${BOLD_RED}KeyboardInterrupt${RESET}: ${detail}`] };
}
