// A kernel that dies anyway says why (issue 16). A heap filled after an await (or in a timer, or with
// no native addon) is past what the heap guard can stop, so V8 ends the process; the kernel manager's
// restarter starts a new kernel, which finds Node's report of the fatal error and tells the first cell
// it runs that the previous kernel ran out of memory, with the heap limit and the cell it was running.
// Driven through jupyter_client's own restarter (test/kernel/oom_restart.py).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { endDriverKernels, hasJupyterClient, runDriver } from "./client.js";

const dir = mkdtempSync(join(tmpdir(), "featurelab-oom-restart-"));
const pidfile = join(dir, "kernel.pids");

after(async () => {
  await endDriverKernels(pidfile);
  rmSync(dir, { recursive: true, force: true });
});

test("a kernel that runs out of memory is restarted by the kernel manager and the next cell says why", { skip: hasJupyterClient ? false : "Debian's jupyter-client is not installed", timeout: 300_000 }, async () => {
  // A small heap, so filling it takes a moment and little memory.
  const report = await runDriver("oom_restart.py", pidfile, 128);

  assert.equal(report.new_pid, true, "the restarter started a new kernel process");
  assert.equal(report.first.status, "ok");
  assert.equal(report.first.result, "2");
  assert.match(report.first.stderr, /^The previous kernel ran out of memory \(JavaScript heap limit \d+ MB\) while running its Cell In\[2\], and this kernel replaced it: the variables of earlier cells are gone/);
  assert.equal(report.second.stderr, "", "said once");
  assert.equal(report.survivor.status, "error", "a new kernel: earlier variables are gone");
  assert.match(report.survivor.evalue, /Cannot find name 'survivor'/);
  assert.equal(report.alive, true);
});
