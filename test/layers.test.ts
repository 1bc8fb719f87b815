// The dependency arrows point one way: a layer imports only from itself and the layers below it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname, resolve, sep } from "node:path";

const LAYERS = [["engine"], ["io"], ["data"], ["metrics"], ["dictionaries"], ["training"], ["geometry", "ablation", "models", "circuits"], ["display"], ["index.ts", "kernel"]];
const src = join(import.meta.dirname, "..", "src");

function rank(file: string): number {
  const top = relative(src, file).split(sep)[0];
  const r = LAYERS.findIndex((names) => names.includes(top));
  assert.ok(r >= 0, `${relative(src, file)} is in no layer; add its folder to LAYERS and DESIGN`);
  return r;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith(".ts") ? [join(dir, n)] : []));
}

test("src/ imports point down the layers only", () => {
  const wrong: string[] = [];
  for (const file of files(src)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+["'](\.[^"']+)["']/g)) {
      const target = resolve(dirname(file), m[1].replace(/\.js$/, ".ts"));
      if (rank(target) > rank(file)) wrong.push(`${relative(src, file)} → ${relative(src, target)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("widgets/ (browser code) imports nothing from src/", () => {
  const dir = join(import.meta.dirname, "..", "widgets");
  for (const file of files(dir)) assert.ok(!/from\s+["'][^"']*src\//.test(readFileSync(file, "utf8")), file);
});
