// The Jupyter debug protocol (src/kernel/debugger.ts), driven through jupyter_client as JupyterLab's
// debugger panel drives it (test/kernel/debug_conversation.py): a breakpoint on a cell's TypeScript
// line stops the cell there, the stack, scopes and variables read back, a step moves one line, continue
// finishes the cell with its result. The cell's file name is the MurmurHash2 JupyterLab computes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { endDriverKernels, hasJupyterClient, runDriver } from "./client.js";
import { murmur2 } from "../../src/kernel/murmur2.js";

const dir = mkdtempSync(join(tmpdir(), "featurelab-debugger-"));
const pidfile = join(dir, "kernel.pids");

after(async () => {
  await endDriverKernels(pidfile);
  rmSync(dir, { recursive: true, force: true });
});

test("murmur2 names cells as ipykernel and JupyterLab do (values from ipykernel.compiler.murmur2_x86)", () => {
  const seed = 3339675911;
  const expected: [string, number][] = [["", 3990065800], ["a", 2167009006], ["ab", 2805137849], ["abc", 3350977461], ["abcd", 804720481], ["x = 1\nprint(x)", 4252719672], ["héllo ✓ 𝔘", 3760559609]];
  for (const [text, hash] of expected) assert.equal(murmur2(text, seed), hash, JSON.stringify(text));
});

test("a debugger conversation: breakpoint, stopped, stack, scopes, variables, evaluate, next, continue, result", { skip: hasJupyterClient ? false : "Debian's jupyter-client is not installed", timeout: 120_000 }, async () => {
  const r = await runDriver("debug_conversation.py", pidfile, 1024);
  assert.equal(r.kernel_info_debugger, true);
  assert.equal(r.initialize, true);
  assert.equal(r.attach, true);
  assert.deepEqual(r.debugInfo, { isStarted: true, hashMethod: "Murmur2", hashSeed: 3339675911, tmpFileSuffix: ".ts" });
  assert.equal(r.path_matches_hash, true);
  assert.equal(r.dumped, true);
  assert.deepEqual(r.breakpoints, [{ verified: true, line: 7 }]);
  assert.equal(r.configurationDone, true);
  assert.deepEqual(r.stopped, { reason: "breakpoint", threadId: 1 });
  assert.deepEqual(r.threads, [{ id: 1, name: "main" }]);
  assert.deepEqual(r.top, { name: "area", line: 7, path_is_cell: true });
  assert.equal(r.caller_line, 10, "the caller's frame is on the cell's line 10");
  assert.ok(r.scope_names.includes("Locals") && r.scope_names.includes("Cell variables"), r.scope_names.join());
  assert.equal(r.locals_before.product, "undefined");
  assert.deepEqual(r.box, { w: "6", h: "7" });
  assert.equal(r.evaluate, "13");
  assert.deepEqual(r.after_next, { reason: "step", line: 8 });
  assert.equal(r.locals_after.product, "42");
  assert.equal(r.continue, true);
  assert.deepEqual(r.result, ["ok", "42"]);
  assert.equal(r.inspectVariables.total, "42");
  assert.equal(r.unknown_command, false);
  assert.equal(r.disconnect, true);
  assert.deepEqual(r.after_disconnect, ["ok", "42"]);
});
