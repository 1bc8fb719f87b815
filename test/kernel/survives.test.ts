// The kernel survives user code (issue 16): exceptions in timers and callbacks and unhandled
// rejections are reported on the cell that caused them, an impossible allocation is a clean error,
// and a cell that fills the JavaScript heap is stopped with an out-of-memory error while the kernel,
// and its variables, live on. Driven through jupyter_client (test/kernel/survives_user_code.py).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { endDriverKernels, hasJupyterClient, runDriver } from "./client.js";
import { loadNative } from "../../src/engine/native.js";

const dir = mkdtempSync(join(tmpdir(), "featurelab-survives-"));
const pidfile = join(dir, "kernel.pid");

after(async () => {
  await endDriverKernels(pidfile);
  rmSync(dir, { recursive: true, force: true });
});

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

test("exceptions in callbacks, unhandled rejections and a full heap are errors in their cell; the kernel lives on", { skip: hasJupyterClient ? false : "Debian's jupyter-client is not installed", timeout: 300_000 }, async () => {
  // A small heap, so filling it takes a moment and little memory.
  const report = await runDriver("survives_user_code.py", pidfile, 192);

  assert.equal(report.timer.status, "ok");
  assert.match(strip(report.timer.stderr), /Error: thrown in a timer[\s\S]*\(uncaught exception\)/);
  assert.match(strip(report.rejection), /Error: rejected, never awaited[\s\S]*\(unhandled promise rejection\)/);
  assert.match(strip(report.emitter), /no error listener[\s\S]*\(uncaught exception\)/);
  assert.equal(report.huge.status, "error");
  assert.equal(report.huge.ename, "RangeError", JSON.stringify(report.huge));
  if (loadNative().addon) {
    assert.equal(report.oom.ename, "OutOfMemoryError", JSON.stringify(report.oom));
    assert.match(report.oom.evalue, /filled the JavaScript heap \(limit \d+ MB\) and was stopped; the kernel lives on/);
    assert.equal(report.after_oom, "42", "variables survive");
    assert.equal(report.oom_kept.ename, "OutOfMemoryError");
    assert.equal(report.freed, "'true'", "what the stopped cell kept is still there");
    assert.equal(report.after_free, "1000000", "once freed, the next cell allocates");
  }
  assert.equal(report.alive, true);
  assert.equal(report.same_pid, true, "the kernel was not restarted");
});
