// Questions about code that do not run it: is it complete (decided by the TypeScript parser), what
// completes the word at the cursor, what is the symbol at the cursor (type and doc from tslab's
// language service), does the cell end in `;` (IPython's way to hide a result), and `x?` help.
// Jupyter counts cursor positions in Unicode code points; JavaScript strings in UTF-16 units.
import { createRequire } from "node:module";
import type { QuickInfo } from "@tslab/typescript-for-tslab";
import type { Execution } from "./execution.js";
import { typescript } from "./typescript.js";

const require = createRequire(import.meta.url);
const PREFIX = "export {};\n"; // parse cells as modules, as tslab compiles them (top-level await)

export function toUtf16(s: string, codePoints: number): number {
  let i = 0;
  for (let n = 0; n < codePoints && i < s.length; n++) i += (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}

export function toCodePoints(s: string, utf16: number): number {
  let n = 0;
  for (let i = 0; i < utf16 && i < s.length; n++) i += (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return n;
}

function parse(code: string) {
  const ts = typescript();
  return ts.createSourceFile("cell.ts", PREFIX + code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/** Parser diagnostics that only say more input is needed at the end: the code is incomplete, not wrong. */
const WANTS_MORE = [/expected\.$/, /^Unterminated template literal\.$/];

export function isComplete(code: string): { status: "complete" | "incomplete" | "invalid"; indent?: string } {
  if (code.trim() === "") return { status: "complete" };
  const diagnostics = ((parse(code) as unknown as { parseDiagnostics?: { start?: number; length?: number; messageText: unknown }[] }).parseDiagnostics ?? []).map((d) => ({
    start: (d.start ?? 0) - PREFIX.length,
    length: d.length ?? 0,
    message: typeof d.messageText === "string" ? d.messageText : "",
  }));
  if (diagnostics.length === 0) return { status: "complete" };
  const end = code.length;
  const atEnd = (d: (typeof diagnostics)[number]) => d.start >= code.trimEnd().length && d.start + d.length <= end;
  if (diagnostics.every((d) => atEnd(d) && WANTS_MORE.some((re) => re.test(d.message)))) {
    // A blank line after an unfinished block submits it anyway (the parser will say what is wrong).
    if (/\n[ \t]*\n[ \t]*$/.test(code)) return { status: "invalid" };
    return { status: "incomplete", indent: indentFor(code) };
  }
  return { status: "invalid" };
}

/** The indent of the next line: one unit (the cell's own, or two spaces) per open bracket. */
function indentFor(code: string): string {
  const ts = typescript();
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, code);
  let depth = 0;
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.OpenBraceToken || t === ts.SyntaxKind.OpenParenToken || t === ts.SyntaxKind.OpenBracketToken || t === ts.SyntaxKind.TemplateHead) depth++;
    else if (t === ts.SyntaxKind.CloseBraceToken || t === ts.SyntaxKind.CloseParenToken || t === ts.SyntaxKind.CloseBracketToken) depth = Math.max(0, depth - 1);
  }
  const unit = /^(\t| {2,8})\S/m.exec(code)?.[1] ?? "  ";
  return unit.repeat(depth);
}

/** Whether the cell's last statement is an expression ending in `;` (its value is then not shown). */
export function endsWithSemicolon(code: string): boolean {
  const ts = typescript();
  const sf = parse(code);
  const last = sf.statements[sf.statements.length - 1];
  if (!last || !ts.isExpressionStatement(last)) return false;
  return sf.text.slice(last.getStart(sf), last.end).trimEnd().endsWith(";");
}

export interface CompleteReply {
  status: "ok";
  matches: string[];
  cursor_start: number;
  cursor_end: number;
  metadata: Record<string, unknown>;
}

export function complete(exec: Execution, code: string, cursorPos: number): CompleteReply {
  const pos = toUtf16(code, cursorPos);
  const info = exec.complete(code, pos);
  const start = toCodePoints(code, info.start);
  const end = toCodePoints(code, info.end);
  const kinds = new Map<string, string>();
  for (const e of info.original?.entries ?? []) if (!kinds.has(e.name)) kinds.set(e.name, String(e.kind));
  const matches = [...new Set(info.candidates)];
  return {
    status: "ok",
    matches,
    cursor_start: start,
    cursor_end: end,
    metadata: { _jupyter_types_experimental: matches.map((text) => ({ start, end, text, type: kinds.get(text) ?? "" })) },
  };
}

const { printQuickInfo } = require("tslab/dist/inspect.js") as typeof import("tslab/dist/inspect.js");

function markdown(info: QuickInfo): string {
  const signature = (info.displayParts ?? []).map((p) => p.text).join("");
  const docs = (info.documentation ?? []).map((d) => d.text).join("");
  const tags = (info.tags ?? []).map((t) => `*@${t.name}* ${(t.text ?? []).map((x) => x.text).join("")}`);
  return [`\`\`\`typescript\n${signature}\n\`\`\``, docs, ...tags].filter(Boolean).join("\n\n");
}

/** Quick info at the cursor, or at the word just before it, or of the function whose arguments it is in. */
function quickInfo(exec: Execution, code: string, pos: number): QuickInfo | undefined {
  for (const p of [pos, pos - 1]) {
    if (p < 0) continue;
    const info = exec.inspect(code, p);
    if (info && (info.displayParts?.length ?? 0) > 0) return info;
  }
  const ts = typescript();
  const sf = parse(code);
  // In blanks after the last token (`f(1, |`), look from that token.
  const trailing = code.slice(pos).trim() === "";
  const at = (trailing ? code.slice(0, pos).trimEnd().length : pos) + PREFIX.length;
  let callee: import("@tslab/typescript-for-tslab").Node | undefined;
  const visit = (node: import("@tslab/typescript-for-tslab").Node) => {
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments && at > node.arguments.pos - 1 && at <= node.end) {
      callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
    }
    if (node.pos <= at && at <= node.end) ts.forEachChild(node, visit);
  };
  visit(sf);
  if (!callee) return undefined;
  const info = exec.inspect(code, callee.end - PREFIX.length);
  return info && (info.displayParts?.length ?? 0) > 0 ? info : undefined;
}

export function inspectAt(exec: Execution, code: string, cursorPos: number): { found: boolean; data: Record<string, string> } {
  const info = quickInfo(exec, code, toUtf16(code, cursorPos));
  if (!info) return { found: false, data: {} };
  return { found: true, data: { "text/plain": printQuickInfo(info), "text/markdown": markdown(info) } };
}

/** `name?`, `obj.member?`, `?name` (and `??`): IPython's help syntax → the expression asked about. */
export function helpTarget(code: string): string | undefined {
  const name = "[A-Za-z_$][\\w$]*(?:\\s*\\.\\s*[A-Za-z_$][\\w$]*)*";
  const m = new RegExp(`^\\s*(?:(${name})\\s*\\?{1,2}|\\?{1,2}\\s*(${name}))\\s*$`).exec(code);
  return m ? (m[1] ?? m[2]).replace(/\s+/g, "") : undefined;
}
