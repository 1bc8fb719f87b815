// The kernel's start-up path (src/kernel/compiler*.ts): TypeScript in its own thread, a first cell
// answered from the light program (the ES library alone) when it can be — also a first cell of
// package imports, compiled as the full program would —, every other cell from the full program with
// @types/node — with the same types either way —, the packages a cell imports
// loaded while it is type-checked, and a compiler thread that dies (here: out of heap) reported on
// the cell and replaced for the next one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KernelClient, resultText, root, stdoutText, waitFor } from "./client.js";
import { importedPackages } from "../../src/kernel/preload-imports.js";
import { typedPackageImports } from "../../src/kernel/package-imports.js";
import { typescript } from "../../src/kernel/typescript.js";
import type { ConvertResult } from "tslab/dist/converter.js";
// The compiled kernel: its compiler thread is a .js file next to it.
import { Compiler } from "../../dist/kernel/compiler.js";

const traced = (kc: KernelClient, step: string) => kc.stderr.split("\n").filter((l) => l.startsWith("featurelab trace") && l.includes(step)).length;

test("importedPackages: value imports of packages, not types, relative files or builtins", () => {
  const src = [
    'import * as fl from "featurelab";',
    'import type { Table } from "apache-arrow";',
    'import { readFileSync } from "node:fs";',
    'import { helper } from "./helper";',
    'const { tableFromArrays } = require("apache-arrow");',
    'const m = await import("@scope/pkg/sub");',
    'import "side-effect";',
  ].join("\n");
  assert.deepEqual(importedPackages(src).sort(), ["@scope/pkg/sub", "apache-arrow", "featurelab", "side-effect"]);
  assert.deepEqual(importedPackages("const x = 1 // from 'nowhere'"), []);
});

let kc: KernelClient;
const scratch = mkdtempSync(join(root, "test", "kernel", ".scratch-start-"));

before(async () => {
  kc = await KernelClient.start({ cwd: scratch, env: { FEATURELAB_KERNEL_TRACE: "1" } });
});

after(async () => {
  await kc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test("the compiler thread: a first cell that needs only the ES library comes from the light program; the next ones from the full program, which knows its declarations", () => {
  // A request posted as the thread starts is waiting when TypeScript has loaded: which program answers is certain.
  const compiler = new Compiler();
  try {
    const conv = compiler.converter("node");
    const first = conv.convert("", "const answer = 6 * 7;\nconst words = ['a', 'bb'].map((w) => w.length);") as ConvertResult & { compiledBy: string };
    assert.deepEqual(first.diagnostics, []);
    assert.equal(first.compiledBy, "light");
    assert.match(first.declOutput!, /declare const answer: number;\s*declare const words: number\[\];/);
    const needsNode = conv.convert(first.declOutput!, "console.log(answer + words[1])") as ConvertResult & { compiledBy: string };
    assert.deepEqual(needsNode.diagnostics, []);
    assert.equal(needsNode.compiledBy, "full");
    const typed = conv.convert(first.declOutput!, "const s: string = answer") as ConvertResult & { compiledBy: string };
    assert.equal(typed.compiledBy, "full");
    assert.match(String(typed.diagnostics[0]?.messageText), /Type 'number' is not assignable to type 'string'/);
    // The light program is gone once the full one is there, even for cells it could answer.
    assert.equal((conv.convert("", "1 + 1") as ConvertResult & { compiledBy: string }).compiledBy, "full");
  } finally {
    compiler.close();
  }
});

test("typedPackageImports: cells of nothing but namespace and side-effect imports of packages with declarations", () => {
  const pkg = (name: string, files: Record<string, string>) => {
    const dir = join(scratch, "node_modules", name);
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  };
  pkg("untyped", { "package.json": '{"name":"untyped","main":"index.js"}', "index.js": "module.exports = 1;" });
  pkg("exported-equals", { "package.json": '{"name":"exported-equals","main":"index.js"}', "index.js": "module.exports = () => 1;", "index.d.ts": "declare function f(): number;\nexport = f;\n" });
  const ts = typescript();
  assert.deepEqual(typedPackageImports(ts, 'import * as fl from "featurelab";\nimport "apache-arrow";', scratch), ["featurelab", "apache-arrow"]);
  for (const cell of [
    'import { rdm } from "featurelab";',
    'import fl from "featurelab";',
    'import type * as fl from "featurelab";',
    'import * as fl from "featurelab";\nfl.rdm;',
    'import * as helper from "./helper";',
    'import * as fs from "node:fs";',
    'import * as u from "untyped";',
    'import * as e from "exported-equals";',
    'import * as missing from "no-such-package";',
    "",
  ]) assert.equal(typedPackageImports(ts, cell, scratch), undefined, cell);
});

test("the compiler thread: a first cell of package imports comes from the light program, compiled exactly as the full program compiles it", () => {
  const compiler = new Compiler();
  try {
    const conv = compiler.converter("node");
    const cell = 'import * as fl from "featurelab";\nimport "apache-arrow";';
    const fast = conv.convert("", cell) as ConvertResult & { compiledBy: string };
    assert.deepEqual(fast.diagnostics, []);
    assert.equal(fast.compiledBy, "light");
    // The next cells see the package's real types.
    const next = conv.convert(fast.declOutput!, "const size: number = fl.tf.tensor([1, 2]).size;") as ConvertResult & { compiledBy: string };
    assert.deepEqual(next.diagnostics, []);
    assert.equal(next.compiledBy, "full");
    const wrong = conv.convert(fast.declOutput!, "const s: string = fl.tf.tensor([1]).size;");
    assert.match(String(wrong.diagnostics[0]?.messageText), /Type 'number' is not assignable to type 'string'/);
    const full = conv.convert("", cell) as ConvertResult & { compiledBy: string };
    assert.equal(full.compiledBy, "full");
    assert.equal(fast.output, full.output);
    assert.equal(fast.declOutput, full.declOutput);
    assert.equal(fast.sideOutputs, full.sideOutputs);
  } finally {
    compiler.close();
  }
});

test("in the kernel: a first cell on the ES library alone, then cells on @types/node, with the first cell's declarations and types", async () => {
  const r = await kc.execute("const answer = 6 * 7;\nconst words = ['a', 'bb'].map((w) => w.length);\nanswer");
  assert.equal(r.reply.content.status, "ok");
  assert.equal(resultText(r), "42");
  const full = await kc.execute("console.log(answer + words[1])");
  assert.equal(full.reply.content.status, "ok");
  assert.equal(stdoutText(full), "44\n");
  const typed = await kc.execute("const s: string = answer");
  assert.equal(typed.reply.content.status, "error");
  assert.match(String(typed.reply.content.evalue), /Type 'number' is not assignable to type 'string'/);
});

test("the packages a cell imports are loaded while it is type-checked, and tracebacks still point at the cell's lines", async () => {
  const r = await kc.execute('import { tableFromArrays } from "apache-arrow";\nconst t = tableFromArrays({ x: new Float32Array([1, 2]) });\nt.numRows');
  assert.equal(r.reply.content.status, "ok");
  assert.equal(resultText(r), "2");
  assert.equal(traced(kc, "preloaded apache-arrow"), 1);
  const err = await kc.execute('const f = () => {\n  throw new Error("boom");\n};\nf()');
  assert.equal(err.reply.content.status, "error");
  assert.match((err.reply.content.traceback as string[]).join("\n"), /Cell In\[\d+\], line 2/);
});

test("a compiler thread that runs out of heap fails the cell with a clear error; the next cell gets a new one", async () => {
  const small = await KernelClient.start({ cwd: scratch, env: { FEATURELAB_COMPILER_HEAP_MB: "24" } });
  try {
    const r = await small.execute("console.log(1)");
    assert.equal(r.reply.content.status, "error");
    assert.match(String(r.reply.content.evalue), /TypeScript compiler stopped .*ran out of memory/);
    assert.ok(await waitFor(() => small.stderr.includes("the compiler thread stopped"), 10_000));
    // Still too small for @types/node, but the kernel answers each time, and a kernel_info still works.
    const again = await small.execute("console.log(2)");
    assert.equal(again.reply.content.status, "error");
    const info = await small.request("shell", "kernel_info_request", {});
    assert.equal(info.content.status, "ok");
  } finally {
    await small.stop();
  }
});
