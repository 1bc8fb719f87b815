// `npm test`: build, then every test/**/*.test.ts with Node's test runner (TypeScript through tsx),
// two files at a time. `npm test -- <part of a path> …` runs the matching files only.
// `npm run test:quick` (`--quick`) leaves out the slow files — the notebooks, chromium, the kernel,
// anything listed in SLOW — for the inner loop; CI runs the whole suite.
// Each file's wall time goes to out/test-times.txt (scripts/file-times.mjs).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { root, setupTests } from "./setup.mjs";

// Files that need Jupyter, chromium or a kernel, train for long, or write large files: left out by --quick
// (each of the last four takes 15–60 s; out/test-times.txt has the current figures).
const SLOW = [
  "test/notebooks.test.ts", "test/kernel/", "test/display/", "test/build.test.ts", "test/package.test.ts", "test/docs.test.ts", "test/data/load.test.ts",
  "test/io/parquet.test.ts", "test/dictionaries/known-answers.test.ts", "test/io/fuzz.test.ts", "test/circuits/e2e/sae.test.ts",
];

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return findTests(p);
    return name.endsWith(".test.ts") ? [p] : [];
  });
}

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((a) => a !== "--quick");

setupTests();

// Build dist/ for the tests that import the package by name; a type error fails test/build.test.ts
// (and so the run) without hiding the other tests' results.
const build = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], { stdio: "inherit", cwd: root });
if (build.status !== 0) console.error("featurelab: the build failed; test/build.test.ts reports the type errors");

const files = findTests(join(root, "test"))
  .map((f) => relative(root, f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .filter((f) => !quick || !SLOW.some((s) => f.startsWith(s)))
  .sort();
mkdirSync(join(root, "out"), { recursive: true });
const reporters = ["--test-reporter=spec", "--test-reporter-destination=stdout", `--test-reporter=${join(root, "scripts", "file-times.mjs")}`, `--test-reporter-destination=${join(root, "out", "test-times.txt")}`];
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...reporters, ...files], { stdio: "inherit", cwd: root });
process.exit(r.status ?? 1);
