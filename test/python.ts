// Tests that check files written by numpy: Debian's /usr/bin/python3 runs the script, and the
// test skips with a message where numpy is absent.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

export const PYTHON = "/usr/bin/python3";
const numpyMissing = spawnSync(PYTHON, ["-c", "import numpy"], { timeout: 30_000 }).status !== 0;
/** Pass as a test's `skip` option. */
export const skipWithoutNumpy: string | false = numpyMissing ? "/usr/bin/python3 with numpy is not available" : false;

const torchMissing = spawnSync(PYTHON, ["-c", "import torch"], { timeout: 60_000 }).status !== 0;
/** Pass as a test's `skip` option (`npm test` installs Debian's python3-torch when it runs as root). */
export const skipWithoutTorch: string | false = torchMissing ? "/usr/bin/python3 with torch (Debian's python3-torch) is not available" : false;

const sentencepieceMissing = spawnSync(PYTHON, ["-c", "import sentencepiece"], { timeout: 30_000 }).status !== 0;
/** Pass as a test's `skip` option (`npm test` installs Debian's python3-sentencepiece when it runs as root). */
export const skipWithoutSentencepiece: string | false = sentencepieceMissing ? "/usr/bin/python3 with sentencepiece (Debian's python3-sentencepiece) is not available" : false;

/** Runs a Python script in `cwd` and parses the JSON it prints. */
export function python(script: string, cwd: string): any {
  const r = spawnSync(PYTHON, ["-c", script], { cwd, timeout: 60_000, encoding: "utf8" });
  assert.equal(r.status, 0, `python failed: ${r.error ?? ""}${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A fresh temporary folder, removed after the test file's tests. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
