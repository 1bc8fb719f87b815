// Shorthand properties spelled out before tslab compiles a cell. tslab rewrites a name from an
// earlier cell to `exports.name`, but misses it in a shorthand property (`{ acts }`), which then
// fails with "acts is not defined"; as `{ acts: acts }` it is rewritten like any other use. Positions
// in the rewritten code (diagnostics, stack frames) map back to the columns the user wrote.
import { typescript } from "./typescript.js";

const PREFIX = "export {};\n";

interface Insertion {
  /** 0-based line and column in the user's code, where `: name` went in. */
  line: number;
  column: number;
  length: number;
}

export interface Rewritten {
  code: string;
  insertions: Insertion[];
}

export function expandShorthands(code: string): Rewritten {
  if (!code.includes("{")) return { code, insertions: [] };
  const ts = typescript();
  const sf = ts.createSourceFile("cell.ts", PREFIX + code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const at: { pos: number; text: string }[] = [];
  const visit = (node: import("@tslab/typescript-for-tslab").Node): void => {
    if (ts.isShorthandPropertyAssignment(node)) at.push({ pos: node.name.end - PREFIX.length, text: `: ${node.name.text}` });
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (at.length === 0) return { code, insertions: [] };
  let out = "";
  let last = 0;
  const insertions: Insertion[] = [];
  for (const { pos, text } of at.sort((a, b) => a.pos - b.pos)) {
    out += code.slice(last, pos) + text;
    last = pos;
    const before = code.slice(0, pos);
    const line = before.split("\n").length - 1;
    insertions.push({ line, column: pos - (before.lastIndexOf("\n") + 1), length: text.length });
  }
  return { code: out + code.slice(last), insertions };
}

/** A 0-based column on a 0-based line of the rewritten code → the column in the user's code. */
export function originalColumn(insertions: Insertion[], line: number, column: number): number {
  let shift = 0;
  for (const ins of insertions) {
    if (ins.line !== line) continue;
    const start = ins.column + shift;
    if (column >= start + ins.length) shift += ins.length;
    else if (column > start) return ins.column; // inside the inserted text: at the name's end
  }
  return column - shift;
}
