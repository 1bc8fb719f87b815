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
    { timeoutMs: 60_000 },
  );
  assert.equal(setup.reply.content.status, "ok", JSON.stringify(setup.reply.content));
});

after(async () => {
  await kc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Start a cell, interrupt it after `afterMs` (or once it displayed something), and return its reply with how long the interrupt took. */
async function interrupted(code: string, how: "message" | "signal" = "message", afterMs: number | "display" = 1000) {
  const id = kc.sendExecute(code);
  if (afterMs === "display") {
    const shown = () => (kc.iopubByParent.get(id) ?? []).some((m) => m.header.msg_type === "display_data");
    assert.ok(await waitFor(shown, 30_000), "the cell displayed its progress");
    await new Promise((r) => setTimeout(r, 300));
  } else await new Promise((r) => setTimeout(r, afterMs));
  const t0 = Date.now();
  if (how === "message") assert.equal((await kc.request("control", "interrupt_request", {}, 5000)).content.status, "ok");
  else process.kill(kc.pid, "SIGINT");
  const reply = await kc.reply(id, 20_000);
  const outputs = await kc.outputs(id);
  return { reply, outputs, ms: Date.now() - t0 };
}

async function stillThere() {
  const r = await kc.execute("kept + 1");
  assert.equal(r.reply.content.status, "ok");
  assert.equal(r.of("execute_result")[0]?.content.data["text/plain"], "42");
}

test("an interrupted fit stops at its next step, the cell completes, and the dictionary and earlier variables are there", { timeout: 60_000 }, async () => {
  const { reply, ms } = await interrupted('const sae = await fl.dictionary("relu", { width: 64, l1: 1 }).fit(acts, { steps: 100000, batchSize: 64 });', "message", "display");
  assert.equal(reply.content.status, "ok", JSON.stringify(reply.content));
  assert.ok(ms < 3000, `took ${ms} ms`);
  const r = await kc.execute("(sae.cfg as any).training.steps");
  const steps = Number(r.of("execute_result")[0]?.content.data["text/plain"]);
  assert.ok(steps > 0 && steps < 100000, `trained ${steps} steps`);
  await stillThere();
});

test("an awaiting cell is interrupted at once (KeyboardInterrupt) and the kernel keeps its state", { timeout: 30_000 }, async () => {
  const { reply, outputs, ms } = await interrupted("await new Promise((resolve) => setTimeout(resolve, 60_000));");
  assert.equal(reply.content.status, "error");
  assert.equal(reply.content.ename, "KeyboardInterrupt");
  assert.ok(outputs.some((m) => m.header.msg_type === "error" && m.content.ename === "KeyboardInterrupt"));
  assert.ok(ms < 2000, `took ${ms} ms`);
  await stillThere();
});

test("SIGINT (interrupt_mode signal) interrupts too", { timeout: 30_000 }, async () => {
  const { reply, ms } = await interrupted("await new Promise((resolve) => setTimeout(resolve, 60_000));", "signal");
  assert.equal(reply.content.ename, "KeyboardInterrupt");
  assert.ok(ms < 2000, `took ${ms} ms`);
  await stillThere();
});

test("a synchronous infinite loop is interrupted; heartbeats are answered meanwhile", { timeout: 30_000 }, async () => {
  const id = kc.sendExecute("let spins = 0;\nwhile (true) { spins++; }");
  await new Promise((r) => setTimeout(r, 800));
  assert.ok(await kc.heartbeat(), "the heartbeat is answered while the main thread spins");
  const kernelInfo = await kc.request("control", "kernel_info_request", {}, 3000);
  assert.equal(kernelInfo.content.implementation, "featurelab", "control requests are answered while a cell spins");
  await kc.request("control", "interrupt_request", {}, 5000);
  const reply = await kc.reply(id, 10_000);
  assert.equal(reply.content.ename, "KeyboardInterrupt");
  await stillThere();
});

test("a synchronous loop after an await is interrupted too (its JavaScript is terminated)", { timeout: 30_000 }, async () => {
  const { reply, ms } = await interrupted("await new Promise((resolve) => setTimeout(resolve, 10));\nwhile (true) {}", "message", 800);
  assert.equal(reply.content.ename, "KeyboardInterrupt", JSON.stringify(reply.content));
  assert.ok(ms < 8000, `took ${ms} ms`);
  await stillThere();
  const again = await kc.execute('await new Promise((resolve) => setTimeout(resolve, 20));\n"fine"');
  assert.equal(again.of("execute_result")[0]?.content.data["text/plain"], "'fine'");
});

test("cells queued behind an interrupted one are aborted", { timeout: 30_000 }, async () => {
  const first = kc.sendExecute("await new Promise((resolve) => setTimeout(resolve, 60_000));");
  const second = kc.sendExecute("kept = 0;");
  await new Promise((r) => setTimeout(r, 500));
  await kc.request("control", "interrupt_request", {}, 5000);
  assert.equal((await kc.reply(first, 10_000)).content.ename, "KeyboardInterrupt");
  assert.equal((await kc.reply(second, 10_000)).content.status, "aborted");
  await stillThere();
});
