// `import * as fl from "featurelab"` by package name, as a user who installed it: from a plain .mjs
// run with node and a .ts run with tsx, in folders inside the repository.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const scratch = join(root, "test", ".scratch-package", "deep", "folder");

const script = `
import * as fl from "featurelab";
const info = await fl.engine();
const acts = fl.fromVectors(new Float32Array([1, 2, 3, 4, 5, 6]), 3, { doc: [0, 1] });
const sae = await fl.dictionary("relu", { width: 4, l1: 0.1 }).fit(acts, { steps: 3, batchSize: 2, progress: false });
console.log(JSON.stringify({ backend: info.backend, rows: acts.numRows, dim: acts.dim, dsae: sae.weights.W_dec.shape[0] }));
`;

function check(file: string, cmd: string[]) {
  mkdirSync(scratch, { recursive: true });
  try {
    writeFileSync(join(scratch, file), script);
    const r = spawnSync(cmd[0], [...cmd.slice(1), file], { cwd: scratch, encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.deepEqual({ rows: out.rows, dim: out.dim, dsae: out.dsae }, { rows: 2, dim: 3, dsae: 4 });
    assert.ok(["wasm", "tensorflow", "cpu"].includes(out.backend));
  } finally {
    rmSync(join(root, "test", ".scratch-package"), { recursive: true, force: true });
  }
}

test("a .mjs script run with node imports featurelab by name", () => {
  check("use.mjs", [process.execPath]);
});

test("a .ts script run with tsx imports featurelab by name", () => {
  check("use.ts", [process.execPath, join(root, "node_modules", "tsx", "dist", "cli.mjs")]);
});
