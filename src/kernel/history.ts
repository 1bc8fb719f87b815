// Input history, as IPython keeps it: every executed cell (with its text/plain result) under a
// session number and its execution count, answering history_request's tail / range / search.
// Sessions persist as one JSON-lines file each under $FEATURELAB_HISTORY_DIR (default
// ~/.local/share/featurelab/history); set it to "" to keep history in memory only.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { kernelLog } from "./link.js";

export interface Entry {
  session: number;
  line: number;
  input: string;
  output: string | null;
}

export interface HistoryRequest {
  output?: boolean;
  raw?: boolean;
  hist_access_type?: "tail" | "range" | "search";
  session?: number;
  start?: number;
  stop?: number | null;
  n?: number | null;
  pattern?: string;
  unique?: boolean;
}

type Row = [number, number, string | [string, string | null]];

const KEEP_SESSIONS = 200;

function defaultDir(): string | undefined {
  const env = process.env.FEATURELAB_HISTORY_DIR;
  if (env !== undefined) return env || undefined;
  return join(process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "featurelab", "history");
}

/** A glob as sqlite's GLOB reads it (IPython's search): * any run, ? one character, [..] a class; whole input, case-sensitive. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end);
        re += `[${body.startsWith("^") ? "^" + body.slice(1).replace(/\\/g, "\\\\") : body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export class History {
  private readonly dir?: string;
  private readonly fileName: string;
  private readonly current: Entry[] = [];
  private readonly earlier: Entry[] = [];
  readonly session: number;

  constructor(dir: string | undefined = defaultDir()) {
    this.fileName = `${Date.now().toString().padStart(15, "0")}-${process.pid}.jsonl`;
    let sessions: string[] = [];
    if (dir) {
      try {
        mkdirSync(dir, { recursive: true });
        sessions = readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort();
        for (const old of sessions.slice(0, Math.max(0, sessions.length - KEEP_SESSIONS))) rmSync(join(dir, old), { force: true });
        sessions = sessions.slice(-KEEP_SESSIONS);
        this.dir = dir;
      } catch (err) {
        kernelLog(`history stays in memory: ${(err as Error).message}`);
      }
    }
    // Earlier sessions are numbered by age: 1 the oldest kept, this one the newest.
    this.session = sessions.length + 1;
    this.sessionFiles = sessions;
  }

  private readonly sessionFiles: string[];
  private earlierLoaded = false;

  /** Earlier sessions' entries, read at the first request that needs them. */
  private loadEarlier(): void {
    if (this.earlierLoaded || !this.dir) return;
    this.earlierLoaded = true;
    this.sessionFiles.forEach((f, i) => {
      try {
        for (const line of readFileSync(join(this.dir!, f), "utf8").split("\n")) {
          if (!line) continue;
          const e = JSON.parse(line) as { line: number; input: string; output?: string | null };
          this.earlier.push({ session: i + 1, line: e.line, input: e.input, output: e.output ?? null });
        }
      } catch {}
    });
  }

  add(line: number, input: string, output: string | null): void {
    this.current.push({ session: this.session, line, input, output });
    if (!this.dir) return;
    try {
      appendFileSync(join(this.dir, this.fileName), JSON.stringify({ line, input, output }) + "\n");
    } catch (err) {
      kernelLog(`could not save history: ${(err as Error).message}`);
    }
  }

  private all(): Entry[] {
    this.loadEarlier();
    return [...this.earlier, ...this.current];
  }

  private rows(entries: Entry[], output: boolean): Row[] {
    return entries.map((e) => [e.session, e.line, output ? [e.input, e.output] : e.input]);
  }

  /** history_request → the reply's `history` list. */
  answer(req: HistoryRequest): Row[] {
    const output = Boolean(req.output);
    if (req.hist_access_type === "tail") {
      const n = req.n ?? 10;
      return this.rows(n > 0 ? this.all().slice(-n) : [], output);
    }
    if (req.hist_access_type === "range") {
      const session = !req.session ? this.session : req.session < 0 ? this.session + req.session : req.session;
      const start = req.start ?? 1;
      const stop = req.stop ?? Infinity;
      return this.rows(
        this.all().filter((e) => e.session === session && e.line >= start && e.line < stop),
        output,
      );
    }
    if (req.hist_access_type === "search") {
      const re = globToRegExp(req.pattern ?? "*");
      let found = this.all().filter((e) => re.test(e.input));
      if (req.unique) {
        const seen = new Set<string>();
        found = found.reverse().filter((e) => !seen.has(e.input) && seen.add(e.input)).reverse();
      }
      if (req.n) found = found.slice(-req.n);
      return this.rows(found, output);
    }
    return [];
  }
}
