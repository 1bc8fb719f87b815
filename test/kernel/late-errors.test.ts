// Errors raised by what a cell started, after that cell finished (issue 16): they go to stderr of the
// cell running, or — when none runs — of the last cell (its parent message, as ipykernel does), and,
// since frontends such as JupyterLab no longer show a finished cell's output, also to the next cell
// run. The traceback points into the cell that started the failing code. The kernel lives on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { KernelClient, waitFor } from "./client.js";

let kc: KernelClient;
before(async () => {
  kc = await KernelClient.start();
});
after(async () => {
  await kc?.stop();
});

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const stderrOf = (id: string) =>
  (kc.iopubByParent.get(id) ?? []).filter((m) => m.header.msg_type === "stream" && m.content.name === "stderr").map((m) => strip(m.content.text)).join("");
type Ran = Awaited<ReturnType<KernelClient["execute"]>>;
const countOf = (r: Ran) => r.reply.content.execution_count as number;
const resultOf = (r: Ran) => r.of("execute_result")[0]?.content.data["text/plain"];

test("a timer's exception raised while no cell runs goes to the last cell and to the next cell, once", async () => {
  const a = await kc.execute('setTimeout(() => { throw new Error("late from a timer"); }, 0);\n"set"');
  assert.equal(a.reply.content.status, "ok");
  // The cell has replied; the timer fires after: wait for its report on the cell that set it.
  assert.ok(await waitFor(() => stderrOf(a.id).includes("(uncaught exception)"), 60_000), "reported on the last cell, which set the timer");
  assert.match(stderrOf(a.id), /^Error: late from a timer\n\s+at Timeout\._onTimeout \(Cell In\[\d+\]:1:26\)/);

  const b = await kc.execute("1 + 1");
  assert.equal(resultOf(b), "2", "the kernel lives on");
  const shown = stderrOf(b.id);
  assert.ok(shown.startsWith(`Raised while no cell ran (after Cell In[${countOf(a)}] had finished), by what an earlier cell started:\nError: late from a timer\n`), shown);
  assert.match(shown, /\(uncaught exception\)\n$/);
  const c = await kc.execute("2 + 2");
  assert.equal(stderrOf(c.id), "", "shown once");
});

test("an unhandled rejection from an earlier cell's promise goes to the cell running when it happens, its traceback in the earlier cell", async () => {
  const d = await kc.execute('const gate = new Promise<void>((resolve) => ((globalThis as any).openGate = resolve));\ngate.then(() => { throw new Error("rejected after its cell finished"); });\n"armed"');
  assert.equal(d.reply.content.status, "ok");
  // The next cell opens the gate and is still awaiting when the rejection goes unhandled.
  const e = await kc.execute('(globalThis as any).openGate();\nawait new Promise((resolve) => setTimeout(resolve, 0));\n"opened"');
  assert.equal(resultOf(e), "'opened'");
  const shown = stderrOf(e.id);
  assert.ok(shown.startsWith(`Error: rejected after its cell finished\n`), shown);
  assert.ok(shown.includes(`Cell In[${countOf(d)}]:2:`), `the traceback points into the cell that made the promise: ${shown}`);
  assert.match(shown, /\(unhandled promise rejection\)\n$/);
  assert.equal(stderrOf(d.id), "", "the finished cell gets nothing");
  const f = await kc.execute("3 + 3");
  assert.equal(resultOf(f), "6");
  assert.equal(stderrOf(f.id), "", "not shown again");
});

test("an EventEmitter 'error' with no listener, emitted from a callback while its own cell awaits, is reported in that cell only", async () => {
  const g = await kc.execute('import { EventEmitter } from "node:events";\nconst em = new EventEmitter();\nsetImmediate(() => em.emit("error", new Error("nobody listens")));\nawait new Promise((resolve) => setTimeout(resolve, 20));\n"done"');
  assert.equal(resultOf(g), "'done'");
  assert.match(stderrOf(g.id), /^Error: nobody listens\n[\s\S]*\(uncaught exception\)\n$/);
  assert.doesNotMatch(stderrOf(g.id), /Raised while no cell ran/);
  const h = await kc.execute("1 + 1");
  assert.equal(resultOf(h), "2");
  assert.equal(stderrOf(h.id), "");
});
