// Notebooks executed headless (nbclient, through scripts/run-notebook.py) with the featurelab kernel
// keep execution counts and results, and a failing cell is saved with its ename, evalue and a
// traceback pointing at its line; the run stops there and the kernel is gone afterwards.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { executeNotebook } from "../../scripts/export.mjs";
import { alive, root } from "./client.js";

const missing = ["/usr/bin/python3", "/usr/bin/jupyter"].filter((p) => !existsSync(p));
const dir = mkdtempSync(join(root, "test", "kernel", ".scratch-headless-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const cell = (source: string) => ({ cell_type: "code", id: Math.random().toString(36).slice(2, 10), metadata: {}, execution_count: null, outputs: [], source });

test("a notebook run headless: execution counts, results, and an error cell with ename/evalue/traceback", { skip: missing.length ? `missing ${missing.join(", ")}` : false, timeout: 240_000 }, async () => {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "featurelab", display_name: "TypeScript (featurelab)", language: "typescript" } },
    cells: [
      cell("const x = 6;\nx * 7"),
      cell('console.log("printed");'),
      cell("const y = x + 1;\nconst obj: any = undefined;\nobj.field;"),
      cell('"never runs"'),
    ],
  };
  const input = join(dir, "errors.ipynb");
  const output = join(dir, "errors.out.ipynb");
  writeFileSync(input, JSON.stringify(nb));
  let pid: number | undefined;
  await assert.rejects(
    executeNotebook(input, output, { timeoutSeconds: 100 }),
    (err: any) => {
      pid = err.kernelPid;
      return /cell 2 raised TypeError: Cannot read properties of undefined \(reading 'field'\)/.test(err.message);
    },
  );
  const done = JSON.parse(readFileSync(output, "utf8"));
  const [c0, c1, c2, c3] = done.cells;
  assert.equal(c0.execution_count, 1);
  const text = (v: string | string[]) => (Array.isArray(v) ? v.join("") : v);
  assert.equal(c0.outputs.length, 1);
  assert.equal(c0.outputs[0].output_type, "execute_result");
  assert.equal(c0.outputs[0].execution_count, 1);
  assert.equal(text(c0.outputs[0].data["text/plain"]), "42");
  assert.equal(c1.execution_count, 2);
  assert.deepEqual(c1.outputs.map((o: any) => [o.output_type, o.name, text(o.text)]), [["stream", "stdout", "printed\n"]]);
  assert.equal(c2.execution_count, 3);
  const [error] = c2.outputs;
  assert.equal(error.output_type, "error");
  assert.equal(error.ename, "TypeError");
  assert.equal(error.evalue, "Cannot read properties of undefined (reading 'field')");
  const tb = error.traceback.join("\n").replace(/\x1b\[[0-9;]*m/g, "");
  assert.match(tb, /at Cell In\[3\]:3:5/);
  assert.match(tb, /---->   3 obj\.field;/);
  assert.equal(c3.execution_count, null, "the run stopped at the error");
  assert.ok(pid && pid > 1 && !alive(pid), "the kernel is gone");
});
