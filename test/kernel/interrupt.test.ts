// Interrupts stop the running cell without killing the kernel or losing its variables: a training
// loop that listens for SIGINT (featurelab's fit) stops at its next step and the cell completes; an
// awaiting cell is left behind; a synchronous loop is stopped — at the cell's top level by SIGINT,
// after an await by terminating the JavaScript the main thread is stuck in. Interrupts come as
// interrupt_request on the control channel (kernel.json's interrupt_mode "message") or as SIGINT.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KernelClient, root, waitFor } from "./client.js";

let kc: KernelClient;
const scratch = mkdtempSync(join(root, "test", "kernel", ".scratch-interrupt-"));

before(async () => {
  kc = await KernelClient.start({ cwd: scratch });
  const setup = await kc.execute(
    'import * as fl from "featurelab";\nawait fl.engine();\nlet kept = 41;\n' +
      "const acts = fl.fromVectors(new Float32Array(4096 * 16).map((_, i) => Math.sin(i * 0.37) * ((i * 7919) % 13 > 9 ? 1 : 0)), 16);",
    { timeoutMs: 180_000 },
  );
  assert.equal(setup.reply.content.status, "ok", JSON.stringify(setup.reply.content));
});

after(async () => {
  await kc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Start a cell and interrupt it once it is under way — once it printed "started" to stdout, or, with
 * "progress", once its training display was updated (a step done) — and return its reply with how long
 * the interrupt took. Waits on the kernel's messages, never on the clock.
 */
async function interrupted(code: string, how: "message" | "signal" = "message", when: "started" | "progress" = "started") {
  const id = kc.sendExecute(code);
  const seen = (m: any) =>
    when === "progress" ? m.header.msg_type === "update_display_data" : m.header.msg_type === "stream" && String(m.content.text).includes("started");
  assert.ok(await waitFor(() => (kc.iopubByParent.get(id) ?? []).some(seen), 120_000), `the cell ${when === "progress" ? "reported progress" : "started"}`);
  const t0 = Date.now();
  if (how === "message") assert.equal((await kc.request("control", "interrupt_request", {}, 30_000)).content.status, "ok");
  else process.kill(kc.pid, "SIGINT");
  const reply = await kc.reply(id, 60_000);
  const outputs = await kc.outputs(id);
  return { reply, outputs, ms: Date.now() - t0 };
}

// "At once" means well inside the 60 s the interrupted cells would otherwise take; the bound is loose
// because a busy machine delays every message.
const PROMPT_MS = 15_000;
const WAIT_60S = 'console.log("started");\nawait new Promise((resolve) => setTimeout(resolve, 60_000));';

async function stillThere() {
  const r = await kc.execute("kept + 1");
  assert.equal(r.reply.content.status, "ok");
  assert.equal(r.of("execute_result")[0]?.content.data["text/plain"], "42");
}

test("an interrupted fit stops at its next step, the cell completes, and the dictionary and earlier variables are there", { timeout: 180_000 }, async () => {
  const { reply, ms } = await interrupted('const sae = await fl.dictionary("relu", { width: 64, l1: 1 }).fit(acts, { steps: 100000, batchSize: 64 });', "message", "progress");
  assert.equal(reply.content.status, "ok", JSON.stringify(reply.content));
  assert.ok(ms < PROMPT_MS, `took ${ms} ms`);
  const r = await kc.execute("(sae.cfg as any).training.steps");
  const steps = Number(r.of("execute_result")[0]?.content.data["text/plain"]);
  assert.ok(steps > 0 && steps < 100000, `trained ${steps} steps`);
  await stillThere();
});

test("an awaiting cell is interrupted at once (KeyboardInterrupt) and the kernel keeps its state", { timeout: 180_000 }, async () => {
  const { reply, outputs, ms } = await interrupted(WAIT_60S);
  assert.equal(reply.content.status, "error");
  assert.equal(reply.content.ename, "KeyboardInterrupt");
  assert.ok(outputs.some((m) => m.header.msg_type === "error" && m.content.ename === "KeyboardInterrupt"));
  assert.ok(ms < PROMPT_MS, `took ${ms} ms`);
  await stillThere();
});

test("SIGINT (interrupt_mode signal) interrupts too", { timeout: 180_000 }, async () => {
  const { reply, ms } = await interrupted(WAIT_60S, "signal");
  assert.equal(reply.content.ename, "KeyboardInterrupt");
  assert.ok(ms < PROMPT_MS, `took ${ms} ms`);
  await stillThere();
});

test("a synchronous infinite loop is interrupted; heartbeats are answered meanwhile", { timeout: 180_000 }, async () => {
  const id = kc.sendExecute('let spins = 0;\nconsole.log("started");\nwhile (true) { spins++; }');
  assert.ok(await waitFor(() => (kc.iopubByParent.get(id) ?? []).some((m) => m.header.msg_type === "stream"), 120_000), "the loop started");
  assert.ok(await kc.heartbeat(), "the heartbeat is answered while the main thread spins");
  const kernelInfo = await kc.request("control", "kernel_info_request", {}, 30_000);
  assert.equal(kernelInfo.content.implementation, "featurelab", "control requests are answered while a cell spins");
  await kc.request("control", "interrupt_request", {}, 30_000);
  const reply = await kc.reply(id, 60_000);
  assert.equal(reply.content.ename, "KeyboardInterrupt");
  await stillThere();
});

test("a synchronous loop after an await is interrupted too (its JavaScript is terminated)", { timeout: 180_000 }, async () => {
  const { reply, ms } = await interrupted('await new Promise((resolve) => setTimeout(resolve, 10));\nconsole.log("started");\nwhile (true) {}');
  assert.equal(reply.content.ename, "KeyboardInterrupt", JSON.stringify(reply.content));
  assert.ok(ms < PROMPT_MS, `took ${ms} ms`);
  await stillThere();
  const again = await kc.execute('await new Promise((resolve) => setTimeout(resolve, 20));\n"fine"');
  assert.equal(again.of("execute_result")[0]?.content.data["text/plain"], "'fine'");
});

test("cells queued behind an interrupted one are aborted", { timeout: 180_000 }, async () => {
  const first = kc.sendExecute(WAIT_60S);
  const second = kc.sendExecute("kept = 0;");
  assert.ok(await waitFor(() => (kc.iopubByParent.get(first) ?? []).some((m) => m.header.msg_type === "stream"), 120_000), "the first cell started");
  await kc.request("control", "interrupt_request", {}, 30_000);
  assert.equal((await kc.reply(first, 60_000)).content.ename, "KeyboardInterrupt");
  assert.equal((await kc.reply(second, 60_000)).content.status, "aborted");
  await stillThere();
});
