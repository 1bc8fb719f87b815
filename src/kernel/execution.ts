// Running cells: tslab's TypeScript converter and executor, wrapped so the kernel gets what tslab
// only prints — the diagnostics, the thrown value, the last expression's value — and so compiled
// cells carry source maps. Interrupts: a synchronous cell stops at SIGINT (the executor runs it with
// breakOnSigint); an awaiting cell is left behind at once, or — when the code it runs listens for
// SIGINT itself (added a listener), as featurelab's fit does — given a few seconds to stop cleanly
// and finish.
import { createRequire } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { readFileSync } from "node:fs";
import vm from "node:vm";
import type { ConvertResult, Converter } from "tslab/dist/converter.js";
import type { Executor } from "tslab/dist/executor.js";
import type { QuickInfo } from "@tslab/typescript-for-tslab";
import { GLOBALS_DECLARATION } from "./bridge.js";
import { compileError, interruptError, outOfMemoryError, runtimeError, type Diagnostic, type ErrorContent } from "./errors.js";
import { outOfMemoryMessage, type HeapGuard } from "./heap-guard.js";
import { expandShorthands, originalColumn, type Rewritten } from "./shorthand.js";
import { mapsOf, register, type RawMaps } from "./source-maps.js";
import { typescript } from "./typescript.js";
import { Compiler } from "./compiler.js";
import type { CompiledCell } from "./debugger.js";
import { preloadImports } from "./preload-imports.js";

const require = createRequire(import.meta.url);

/** What the compiler thread adds to a compiled text: its source maps. */
type Compiled = { maps?: RawMaps };

export type Outcome = { status: "ok"; result?: { value: unknown } } | { status: "error"; error: ErrorContent; interrupted: boolean };

/** How long a cell whose code listens for SIGINT may take to stop after an interrupt. */
const COOPERATIVE_GRACE_MS = 10_000;
/** The executor's wrappers around a cell (columns added on the compiled code's first line). */
const SYNC_PREFIX = "(function(exports, require) { ";
const ASYNC_PREFIX = "(async function(exports, require) { ";
const ABANDONED = "Interrupted asynchronously";

interface Run {
  id: string;
  label: string;
  /** What the user wrote (tslab compiles `rewritten.code`). */
  code: string;
  rewritten: Rewritten;
  diagnostics?: Diagnostic[];
  printed: string[];
  thrown?: { value: unknown };
  result?: { value: unknown };
}

export class Execution {
  private readonly executor: Executor;
  private readonly node: Converter;
  private browser?: Converter;
  private run?: Run;
  private seq = 0;
  private abandoned = false;
  private interruptPending = false;
  /** Hears each compiled cell before it runs (the debugger places its breakpoints then). */
  onCompiled?: (cell: CompiledCell) => void;
  /** SIGINT listeners there were when the cell started: only those it added show it listens itself. */
  private sigintBefore: Function[] = [];
  private graceTimer?: NodeJS.Timeout;

  /** `phase` hears 1 while a cell's synchronous top level runs, 2 while its awaited part does, 0 otherwise. */
  constructor(
    readonly cwd: string = process.cwd(),
    private readonly phase: (p: 0 | 1 | 2) => void = () => {},
    /** Tells an out-of-memory stop from an interrupt (none without the native addon). */
    private readonly heapGuard?: HeapGuard,
    private readonly compiler = new Compiler(),
  ) {
    typescript(); // tslab's executor loads TypeScript: this copy, from the code cache
    const { createExecutor } = require("tslab/dist/executor.js") as typeof import("tslab/dist/executor.js");
    // TypeScript runs in its own thread; while it checks a cell, this one loads the packages the cell imports.
    const real = this.compiler.converter("node", (src) => preloadImports(cwd, src));
    // The kernel's globals (prompt, confirm, display) are declared before the earlier cells' declarations.
    this.node = {
      ...real,
      convert: (prevDecl, src) => this.converted(real.convert(GLOBALS_DECLARATION + prevDecl, src)),
      inspect: (prevDecl, src, position) => real.inspect(GLOBALS_DECLARATION + prevDecl, src, position),
      complete: (prevDecl, src, position) => real.complete(GLOBALS_DECLARATION + prevDecl, src, position),
    };
    const browser = () => (this.browser ??= this.compiler.converter("browser"));
    const convs = {
      node: this.node,
      get browser() {
        return browser();
      },
      close: () => this.compiler.close(),
    };
    this.executor = createExecutor(cwd, convs, {
      log: (value: unknown) => {
        if (this.run) this.run.result = { value };
      },
      error: (...args: unknown[]) => {
        if (!this.run) return;
        if (args[0] === "%s%d:%d - %s") this.run.printed.push(`${args[1]}${args[2]}:${args[3]} - ${args[4]}`);
        else this.run.thrown = { value: args[0] };
      },
    });
  }

  /** Tag each compiled cell with a sourceURL and remember its source maps (and those of local files it imports). */
  private converted(r: ConvertResult): ConvertResult {
    // tslab learns that a cell awaits at its top level from TypeScript's diagnostic about it, which its
    // TypeScript (5.0) does not give for `await (…)`; the cell would run in a plain function, where
    // `await (x)` calls a function named await: "ReferenceError: await is not defined".
    if (!r.hasToplevelAwait && r.output && hasTopLevelAwait(r.output)) r = { ...r, hasToplevelAwait: true };
    const run = this.run;
    if (!run) return r;
    const { insertions } = run.rewritten;
    const column = insertions.length ? (line: number, col: number) => originalColumn(insertions, line, col) : undefined;
    if (r.diagnostics.length > 0) {
      run.diagnostics = (r.diagnostics as Diagnostic[]).map((d) =>
        d.fileName || !column ? d : { ...d, start: { ...d.start, character: column(d.start.line, d.start.character) }, end: { ...d.end, character: column(d.end.line, d.end.character) } },
      );
    }
    if (r.output) {
      const maps = mapsOf((r as Compiled).maps);
      const compiledLines = r.output.split("\n").length;
      const firstLineShift = (r.hasToplevelAwait ? ASYNC_PREFIX : SYNC_PREFIX).length;
      register(run.id, { label: run.label, source: run.code, maps, firstLineShift, lineShift: 1, compiledLines, column });
      this.onCompiled?.({ url: run.id, label: run.label, code: run.code, output: r.output, maps: (r as Compiled).maps, firstLineShift, lineShift: 1 });
      r.output += `//# sourceURL=${run.id}\n`;
    }
    for (const side of r.sideOutputs ?? []) {
      const maps = mapsOf((side as Compiled).maps);
      const rel = relative(this.cwd, side.path);
      const file = maps?.source ? resolve(this.cwd, "outDir", dirname(rel), maps.source) : side.path;
      let source = "";
      try {
        source = readFileSync(file, "utf8");
      } catch {}
      register(side.path, { label: relative(this.cwd, file), source, maps, firstLineShift: 0, lineShift: 0 });
    }
    return r;
  }

  /** Compile and run a cell. `label` names it in tracebacks ("Cell In[3]"). */
  async execute(code: string, label: string): Promise<Outcome> {
    const run: Run = { id: `featurelab-cell-${++this.seq}`, label, code, rewritten: expandShorthands(code), printed: [] };
    this.run = run;
    this.abandoned = false;
    this.interruptPending = false;
    this.sigintBefore = process.listeners("SIGINT");
    const oomBefore = this.heapGuard?.hits() ?? 0;
    let ok: boolean;
    try {
      // The executor compiles and runs the cell's top level synchronously, then awaits what it returned.
      this.phase(1);
      const running = this.executor.execute(run.rewritten.code);
      this.phase(2);
      ok = await running;
    } catch (err) {
      ok = false;
      run.thrown = { value: err };
    } finally {
      this.phase(0);
      clearTimeout(this.graceTimer);
      this.run = undefined;
    }
    if (ok) return { status: "ok", result: run.result };
    // Stopped by the heap guard — in the cell's code, or compiling it on a heap that is already full.
    if (this.heapGuard && this.heapGuard.hits() > oomBefore) {
      return { status: "error", error: outOfMemoryError(outOfMemoryMessage(this.heapGuard.limitMB)), interrupted: false };
    }
    if (run.diagnostics?.length) return { status: "error", error: compileError(run.diagnostics, { label, source: code, cwd: this.cwd }), interrupted: false };
    const thrown = run.thrown?.value;
    if (this.abandoned && thrown instanceof Error && thrown.message === ABANDONED) {
      return { status: "error", error: interruptError("the cell was interrupted while it awaited; what it started may still run in the background"), interrupted: true };
    }
    if ((thrown as NodeJS.ErrnoException | undefined)?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED") {
      return { status: "error", error: interruptError("the cell was interrupted"), interrupted: true };
    }
    if (run.thrown) return { status: "error", error: runtimeError(thrown), interrupted: false };
    const evalue = run.printed.join("\n") || "the cell failed";
    return { status: "error", error: { ename: "TSError", evalue, traceback: [evalue] }, interrupted: false };
  }

  get running(): boolean {
    return this.run !== undefined;
  }

  /** SIGINT: stop the running cell (see the file's comment). */
  interrupt(): void {
    if (!this.run) return;
    const listening = process.listeners("SIGINT").some((l) => !this.sigintBefore.includes(l));
    if (listening && !this.interruptPending) {
      this.interruptPending = true;
      this.graceTimer = setTimeout(() => this.abandon(), COOPERATIVE_GRACE_MS);
      return;
    }
    this.abandon();
  }

  private abandon() {
    if (!this.run) return;
    this.abandoned = true;
    this.executor.interrupt();
  }

  /** Evaluate an expression against the cells' variables without type checking (user_expressions). */
  evaluate(expression: string): unknown {
    const ts = typescript();
    const js = ts.transpile(expression, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None }).replace(/;\s*$/, "");
    return vm.runInThisContext(`with (__tslab__.exports) { ${js} }`);
  }

  complete(code: string, position: number) {
    return this.executor.complete(code, position);
  }

  inspect(code: string, position: number): QuickInfo | undefined {
    return this.executor.inspect(code, position);
  }

  close(): void {
    this.executor.close();
  }
}

/** Whether compiled cell code awaits at its top level (an await expression or for await outside any function or class). */
export function hasTopLevelAwait(js: string): boolean {
  if (!/\bawait\b/.test(js)) return false;
  const ts = typescript();
  // Parsed as a module (as tslab compiles cells), where `await (x)` is an await expression.
  const file = ts.createSourceFile("cell.mjs", `export {};\n${js}`, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const visit = (node: import("@tslab/typescript-for-tslab").Node): boolean => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return false;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined)) return true;
    return ts.forEachChild(node, visit) ?? false;
  };
  return visit(file);
}
