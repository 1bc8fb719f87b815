// A kernel that dies anyway says why (issue 16). A heap filled after an await (or in a timer, or with
// no native addon) is past what the heap guard can stop, so V8 ends the process; the kernel manager's
// restarter starts a new kernel, which finds Node's report of the fatal error and tells the first cell
// it runs that the previous kernel ran out of memory, with the heap limit and the cell it was running.
// Driven through jupyter_client's own restarter (test/kernel/oom_restart.py).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, root, waitFor } from "./client.js";

const PYTHON = "/usr/bin/python3";
const hasClient = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import jupyter_client"], { stdio: "ignore" }).status === 0;
const dir = mkdtempSync(join(tmpdir(), "featurelab-oom-restart-"));
const pidfile = join(dir, "kernel.pids");

after(async () => {
  if (existsSync(pidfile)) {
    for (const pid of readFileSync(pidfile, "utf8").split("\n").filter(Boolean).map(Number)) {
      if (pid > 1 && !(await waitFor(() => !alive(pid), 5000))) process.kill(pid, "SIGKILL");
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test("a kernel that runs out of memory is restarted by the kernel manager and the next cell says why", { skip: hasClient ? false : "Debian's jupyter-client is not installed", timeout: 300_000 }, async () => {
  const child = spawn(PYTHON, [join(import.meta.dirname, "oom_restart.py")], {
    cwd: root,
    // A small heap, so filling it takes a moment and little memory.
    env: { ...process.env, JUPYTER_PATH: join(root, "jupyter"), FEATURELAB_HISTORY_DIR: "", FEATURELAB_KERNEL_PIDFILE: pidfile, NODE_OPTIONS: "--max-old-space-size=128" },
  });
  let out = "", err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 280_000);
  const status = await new Promise<number | null>((r) => child.on("close", r));
  clearTimeout(timer);
  assert.equal(status, 0, err);
  const report = JSON.parse(out.trim().split("\n").at(-1)!);

  assert.equal(report.new_pid, true, "the restarter started a new kernel process");
  assert.equal(report.first.status, "ok");
  assert.equal(report.first.result, "2");
  assert.match(report.first.stderr, /^The previous kernel ran out of memory \(JavaScript heap limit \d+ MB\) while running its Cell In\[2\], and this kernel replaced it: the variables of earlier cells are gone/);
  assert.equal(report.second.stderr, "", "said once");
  assert.equal(report.survivor.status, "error", "a new kernel: earlier variables are gone");
  assert.match(report.survivor.evalue, /Cannot find name 'survivor'/);
  assert.equal(report.alive, true);
});
