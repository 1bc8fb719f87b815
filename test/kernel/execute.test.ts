// Running cells in the featurelab kernel: execution counts, execute_result bundles (featurelab
// values, tensors, arquero and Arrow tables, plain values; `;` hides them), errors with the line in
// the cell (compile errors with line:column, runtime errors mapped back through the source maps,
// also inside local .ts files), aborts behind a failed cell, user_expressions, history and the pager.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KernelClient, root, waitFor } from "./client.js";

let kc: KernelClient;
const scratch = mkdtempSync(join(root, "test", "kernel", ".scratch-execute-"));
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

before(async () => {
  writeFileSync(join(scratch, "helper.ts"), "export function double(x: number): number {\n  return 2 * x;\n}\n\nexport function explode(): never {\n  throw new RangeError(\"from helper\");\n}\n");
  kc = await KernelClient.start({ cwd: scratch });
});

after(async () => {
  await kc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const result = (r: Awaited<ReturnType<KernelClient["execute"]>>) => r.of("execute_result")[0]?.content;

test("execute_input, execute_result and execute_reply carry the execution count; silent and unstored cells do not count", async () => {
  const a = await kc.execute("6 * 7");
  const n = a.reply.content.execution_count;
  assert.ok(n >= 1);
  assert.equal(a.of("execute_input")[0].content.execution_count, n);
  assert.equal(result(a).execution_count, n);
  assert.equal(result(a).data["text/plain"], "42");
  const b = await kc.execute("1 + 1");
  assert.equal(b.reply.content.execution_count, n + 1);
  const silent = await kc.execute("1 + 2", { silent: true });
  assert.equal(silent.reply.content.execution_count, n + 1);
  assert.equal(silent.outputs.length, 0, "a silent cell broadcasts no input and no result");
  const unstored = await kc.execute("1 + 3", { store_history: false });
  assert.equal(unstored.reply.content.execution_count, n + 1);
  assert.equal((await kc.execute("0")).reply.content.execution_count, n + 2);
});

test("plain values show as util.inspect shows them; undefined shows nothing; a trailing ; hides the result", async () => {
  assert.equal(result(await kc.execute('"text"')).data["text/plain"], "'text'");
  assert.equal(result(await kc.execute("[1, 2, 3]")).data["text/plain"], "[ 1, 2, 3 ]");
  assert.equal(result(await kc.execute("new Map([[1, 'a']])")).data["text/plain"], "Map(1) { 1 => 'a' }");
  assert.equal((await kc.execute("undefined")).of("execute_result").length, 0);
  assert.equal((await kc.execute("let quiet = 5;")).of("execute_result").length, 0);
  assert.equal((await kc.execute("quiet * 2;")).of("execute_result").length, 0);
  assert.equal((await kc.execute("quiet * 2; // a comment")).of("execute_result").length, 0);
  assert.equal(result(await kc.execute("quiet * 2 // no semicolon")).data["text/plain"], "10");
  const shown = await kc.execute('console.log("out"); console.error("err"); quiet');
  assert.deepEqual(
    shown.outputs.filter((m) => m.header.msg_type === "stream").map((m) => [m.content.name, m.content.text]),
    [["stdout", "out\n"], ["stderr", "err\n"]],
  );
});

test("top-level await before a parenthesis runs the cell as async: await (async () => …)(), await (x)", async () => {
  assert.equal(result(await kc.execute("await (async () => 1)()")).data["text/plain"], "1");
  assert.equal(result(await kc.execute("await (2)")).data["text/plain"], "2");
  assert.equal(result(await kc.execute("const awaited = await (async () => 3)();\nawaited")).data["text/plain"], "3");
  assert.equal(result(await kc.execute("let later = 0;\nawait (async () => { later = 4; })();\nlater")).data["text/plain"], "4");
  // A cell whose awaits are all inside functions still runs synchronously.
  assert.equal(result(await kc.execute("const f = async () => await (5);\ntypeof f")).data["text/plain"], "'function'");
});

test("every top-level await form runs, and what an awaiting cell declares is there in the next cell", async () => {
  const cells: [string, string][] = [
    ["async function* gen() { yield 1; yield 2; }\nconst seen: number[] = [];\nfor await (const x of gen()) seen.push(x);\nseen", "[ 1, 2 ]"],
    ["seen.length", "2"],
    ["async function pair() { return { a: 1, b: 2 }; }\nconst { a, b } = await pair();\na + b", "3"],
    ["async function list() { return [7, 8, 9]; }\nconst [first, ...others] = await list();\nfirst", "7"],
    ["[a, b, first, others]", "[ 1, 2, 7, [ 8, 9 ] ]"],
    ["const p = Promise.resolve(41);\n1 + (await p)", "42"],
    ["`p is ${await p}`", "'p is 41'"],
    ["await p ? typeof (await p) : 'none'", "'number'"],
    ["const o = { q: await p, r: [await p, ...(await Promise.resolve([1]))] };\no.r", "[ 41, 1 ]"],
    ["let lv = await p;\nvar vv = await p;\nclass Box { static n = 1; v = 2 }\nenum Kind { A = 3 }\nfunction twice(n: number) { return 2 * n; }\nlv + vv", "82"],
    ["[lv, vv, Box.n, new Box().v, Kind.A, twice(o.q)]", "[ 41, 41, 1, 2, 3, 82 ]"],
    ["switch (await p) { case 41: lv = 0; }\nlv", "0"],
  ];
  for (const [code, expected] of cells) {
    const r = await kc.execute(code);
    assert.equal(r.reply.content.status, "ok", `${code}\n${JSON.stringify(r.reply.content)}`);
    assert.equal(result(r)?.data["text/plain"], expected, code);
  }
  // An await in a class field initialiser or static block is not legal JavaScript: a compile error, not a hang.
  for (const code of ["class Bad { x = await p }", "class Bad2 { static { await p; } }"]) {
    const r = await kc.execute(code);
    assert.equal(r.reply.content.status, "error", code);
    assert.match(r.reply.content.ename, /^(TSError|SyntaxError)$/, code);
  }
});

test("featurelab values, tensors, arquero and Arrow tables show rich bundles", { timeout: 60_000 }, async () => {
  const setup = await kc.execute(
    'import * as fl from "featurelab";\nimport * as tf from "@tensorflow/tfjs";\nimport * as aq from "arquero";\nimport { tableFromArrays } from "apache-arrow";\nawait fl.engine();\n' +
      "const acts = fl.fromVectors(new Float32Array(40).map((_, i) => i), 4, { doc: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4] });",
    { timeoutMs: 60_000 },
  );
  assert.equal(setup.reply.content.status, "ok", JSON.stringify(setup.reply.content));
  const fset = result(await kc.execute("acts"));
  assert.match(fset.data["text/html"], /ActivationSet/);
  assert.match(fset.data["text/plain"], /ActivationSet/);
  const tensor = result(await kc.execute("tf.tensor2d([[1, 2], [3, 4]])"));
  assert.match(tensor.data["text/plain"], /^Tensor float32 \[2, 2\]/);
  assert.match(tensor.data["text/plain"], /\[\[1, 2\],\s*\[3, 4\]\]/);
  const arquero = result(await kc.execute("aq.table({ a: [1, 2, 3], b: ['x', 'y', '<z>'] })"));
  assert.match(arquero.data["text/html"], /<table[\s\S]*&lt;z&gt;/);
  const arrow = result(await kc.execute("tableFromArrays({ id: Int32Array.from([1, 2]), v: Float32Array.from([0.5, 1.5]) })"));
  assert.match(arrow.data["text/plain"], /^Arrow table: 2 rows × 2 columns/);
  assert.match(arrow.data["text/html"], /<th>id<\/th><th>v<\/th>[\s\S]*<td>1\.5<\/td>/);
  const shown = await kc.execute("fl.show(acts);");
  assert.equal(shown.of("display_data").length, 1, "fl.show sends one display_data");
});

test("a runtime error is an error message with the cell's line, also from a function of an earlier cell", async () => {
  await kc.execute("function reach(o: any) {\n  const x = 1;\n  return o.missing.deep;\n}");
  const defined = (await kc.execute("1")).reply.content.execution_count - 1;
  const r = await kc.execute("const ok = 1;\nreach({});");
  const n = r.reply.content.execution_count;
  assert.equal(r.reply.content.status, "error");
  assert.equal(r.reply.content.ename, "TypeError");
  const [err] = r.of("error");
  assert.equal(err.content.ename, "TypeError");
  assert.equal(err.content.evalue, "Cannot read properties of undefined (reading 'deep')");
  const tb = strip(err.content.traceback.join("\n"));
  assert.match(tb, new RegExp(`at reach \\(Cell In\\[${defined}\\]:3:20\\)`));
  assert.match(tb, new RegExp(`at Cell In\\[${n}\\]:2:1`));
  assert.match(tb, new RegExp(`Cell In\\[${defined}\\], line 3\\n(.*\\n){2}---->   3   return o\\.missing\\.deep;`));
  assert.doesNotMatch(tb, /tslab|featurelab-cell|node:vm|dist\/kernel/, "no kernel machinery in the traceback");
});

test("a compile error names the line and column; a syntax error is a SyntaxError", async () => {
  const r = await kc.execute('const a = 1;\nconst s: string = 42;\nconsole.log("not run");');
  assert.equal(r.reply.content.status, "error");
  assert.equal(r.of("stream").length, 0, "nothing ran");
  const [err] = r.of("error");
  assert.equal(err.content.ename, "TSError");
  assert.match(err.content.evalue, /Type 'number' is not assignable to type 'string'\. \(Cell In\[\d+\], line 2:7\)/);
  const tb = strip(err.content.traceback.join("\n"));
  assert.match(tb, /line 2:7 - error TS2322/);
  assert.match(tb, /---->   2 const s: string = 42;\n {16}\^/);
  const syntax = (await kc.execute("let = ;")).of("error")[0];
  assert.equal(syntax.content.ename, "SyntaxError");
});

test("a thrown non-Error, an error's cause, and an error inside a local .ts file imported relative to the notebook", async () => {
  const thrown = (await kc.execute('throw { code: 7 };')).of("error")[0];
  assert.equal(thrown.content.ename, "Uncaught");
  assert.equal(thrown.content.evalue, "{ code: 7 }");
  const caused = (await kc.execute('throw new Error("outer", { cause: new TypeError("inner") });')).of("error")[0];
  assert.match(strip(caused.content.traceback.join("\n")), /Caused by:\nTypeError: inner/);
  assert.equal(result(await kc.execute('import { double, explode } from "./helper";\ndouble(21)')).data["text/plain"], "42");
  const err = (await kc.execute("explode()")).of("error")[0];
  assert.equal(err.content.ename, "RangeError");
  const tb = strip(err.content.traceback.join("\n"));
  assert.match(tb, /at explode \(helper\.ts:6:9\)/);
  assert.match(tb, /helper\.ts, line 6\n[\s\S]*---->   6   throw new RangeError/);
});

test("a cell queued right after a failing one is aborted (not dropped), and the next execute works", async () => {
  const bad = kc.sendExecute('throw new Error("first fails");');
  const queued = kc.sendExecute('console.log("must not run");');
  const badReply = await kc.reply(bad);
  const queuedReply = await kc.reply(queued);
  assert.equal(badReply.content.status, "error");
  assert.equal(queuedReply.content.status, "aborted");
  assert.equal((await kc.outputs(queued)).length, 0);
  const next = await kc.execute("2 + 2");
  assert.equal(result(next).data["text/plain"], "4");
  assert.equal(next.reply.content.execution_count, badReply.content.execution_count + 1, "an aborted cell takes no count");
  // With stop_on_error false, the next cell runs.
  const tolerant = kc.sendExecute('throw new Error("tolerated");', { stop_on_error: false });
  const after = kc.sendExecute("3 + 3");
  assert.equal((await kc.reply(tolerant)).content.status, "error");
  assert.equal((await kc.reply(after)).content.status, "ok");
});

test("user_expressions are evaluated after the cell", async () => {
  const r = await kc.execute("let ue = 20;", { user_expressions: { twice: "ue * 2", bad: "nope.x" } });
  assert.equal(r.reply.content.user_expressions.twice.status, "ok");
  assert.equal(r.reply.content.user_expressions.twice.data["text/plain"], "40");
  assert.equal(r.reply.content.user_expressions.bad.status, "error");
});

test("history: tail, range, search (glob), with outputs", async () => {
  await kc.execute('"history marker"');
  const tail = await kc.request("shell", "history_request", { hist_access_type: "tail", n: 1, output: true, raw: true });
  const [[session, line, [input, output]]] = tail.content.history;
  assert.equal(input, '"history marker"');
  assert.equal(output, "'history marker'");
  const range = await kc.request("shell", "history_request", { hist_access_type: "range", session, start: line, stop: line + 1, output: false, raw: true });
  assert.deepEqual(range.content.history, [[session, line, '"history marker"']]);
  const search = await kc.request("shell", "history_request", { hist_access_type: "search", pattern: "*marker*", output: false, raw: true, n: 5 });
  assert.deepEqual(search.content.history.map((h: unknown[]) => h[2]), ['"history marker"']);
});

test("help with ? pages the symbol's type and doc", async () => {
  const r = await kc.execute("Math.max?");
  const [page] = r.reply.content.payload;
  assert.equal(page.source, "page");
  assert.match(page.data["text/plain"], /max\(\.\.\.values: number\[\]\): number/);
  assert.match(page.data["text/markdown"], /```typescript/);
});

test("inspect inside a call's parentheses shows the function; completion carries the kinds", async () => {
  const code = "Math.max(1, ";
  const inspect = await kc.request("shell", "inspect_request", { code, cursor_pos: code.length, detail_level: 0 });
  assert.equal(inspect.content.found, true);
  assert.match(inspect.content.data["text/plain"], /max\(\.\.\.values: number\[\]\): number/);
  const complete = await kc.request("shell", "complete_request", { code: "const 𝑥 = 1; Math.fl", cursor_pos: [..."const 𝑥 = 1; Math.fl"].length });
  assert.deepEqual(complete.content.matches, ["floor"]);
  assert.equal(complete.content.cursor_start, [..."const 𝑥 = 1; Math."].length, "cursor positions count code points");
  assert.deepEqual(complete.content.metadata._jupyter_types_experimental[0].type, "method");
});

test("an exception thrown later by what a cell started goes to stderr and the kernel lives on", async () => {
  const r = await kc.execute('setTimeout(() => { throw new Error("thrown later"); }, 50);\nPromise.reject(new Error("rejected later"));\n"started"');
  assert.equal(r.reply.content.status, "ok");
  const stderrOf = () => (kc.iopubByParent.get(r.id) ?? []).filter((m) => m.header.msg_type === "stream" && m.content.name === "stderr").map((m) => strip(m.content.text)).join("");
  // Both reports arrive after the reply: wait for them (the ceiling only ends a wait that would hang).
  await waitFor(() => /uncaught exception[\s\S]*unhandled|unhandled[\s\S]*uncaught exception/.test(stderrOf()), 60_000);
  const stderr = stderrOf();
  assert.match(stderr, /Error: thrown later\n\s+at Timeout\._onTimeout \(Cell In\[\d+\]:1:26\)[\s\S]*\(uncaught exception\)/);
  assert.match(stderr, /Error: rejected later[\s\S]*\(unhandled promise rejection\)/);
  assert.equal(result(await kc.execute("1 + 1")).data["text/plain"], "2");
});

test("a shorthand property over a name from an earlier cell works ({ acts }), and columns after it still point right", async () => {
  await kc.execute("const shorty = 5;");
  assert.equal(result(await kc.execute("JSON.stringify({ shorty, b: 2 })")).data["text/plain"], `'{"shorty":5,"b":2}'`);
  const err = (await kc.execute("const sh2 = { shorty, w: undefinedName };")).of("error")[0];
  assert.match(err.content.evalue, /line 1:26\)$/);
});
