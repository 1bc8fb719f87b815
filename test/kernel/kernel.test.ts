// The featurelab kernel passes Jupyter's own kernel test suite (jupyter_kernel_test, from Debian's
// python3-jupyter-kernel-test): kernel_info, stdout/stderr, errors, execute_result, display_data,
// completion, is_complete, inspect, the pager, history (tail, range, search) and clear_output.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, root, waitFor } from "./client.js";

const PYTHON = "/usr/bin/python3";
const hasSuite = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import jupyter_kernel_test, jupyter_client"], { stdio: "ignore" }).status === 0;
const dir = mkdtempSync(join(tmpdir(), "featurelab-kernel-suite-"));
const pidfile = join(dir, "kernel.pid");

after(async () => {
  // The suite shuts its kernel down; make sure it is gone even if Python died first.
  if (existsSync(pidfile)) {
    const pid = Number(readFileSync(pidfile, "utf8"));
    if (pid > 1 && !(await waitFor(() => !alive(pid), 3000))) process.kill(pid, "SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
});

test("jupyter_kernel_test's whole suite passes", { skip: hasSuite ? false : "Debian's python3-jupyter-kernel-test is not installed", timeout: 120_000 }, () => {
  const r = spawnSync(PYTHON, ["-m", "unittest", "-v", "test_featurelab_kernel"], {
    cwd: import.meta.dirname,
    env: { ...process.env, JUPYTER_PATH: join(root, "jupyter"), FEATURELAB_HISTORY_DIR: "", FEATURELAB_KERNEL_PIDFILE: pidfile },
    encoding: "utf8",
    timeout: 110_000,
    killSignal: "SIGKILL",
  });
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^OK/m);
  assert.doesNotMatch(r.stderr, /skipped/i, "no test of the suite is skipped");
});
