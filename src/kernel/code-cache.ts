// Loading a large CommonJS module (TypeScript's compiler: 8 MB of JavaScript) with V8's code cache,
// so a kernel after the first compiles it from cached bytecode rather than from source. The cache
// lives in the user's cache folder (XDG_CACHE_HOME or ~/.cache), one file per module, Node version
// and module stamp; V8 refuses a cache that does not fit, and then it is written anew.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import vm from "node:vm";

interface Cached {
  exports: unknown;
  /** Write the cache if it was missing or refused (best effort; call once the module has been used, so more functions are in it). */
  save(): void;
}

const loaded = new Map<string, Cached>();

function cacheFile(path: string): string | undefined {
  try {
    const { size, mtimeMs } = statSync(path);
    const key = createHash("sha256").update(`${path}\0${size}\0${mtimeMs}\0${process.version}\0${process.arch}`).digest("hex").slice(0, 24);
    const root = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
    return join(root, "featurelab", "v8", `${key}.bin`);
  } catch {
    return undefined;
  }
}

/**
 * `require(path)` through V8's code cache. The module goes into require's cache under its path, so
 * a later `require` of the same file (tslab's, for TypeScript) gets this instance.
 */
export function requireCached(path: string): Cached {
  const known = loaded.get(path);
  if (known) return known;
  const inRequireCache = createRequire(path).cache[path];
  if (inRequireCache?.loaded) {
    const done = { exports: inRequireCache.exports, save: () => {} };
    loaded.set(path, done);
    return done;
  }
  const file = cacheFile(path);
  let cachedData: Buffer | undefined;
  try {
    if (file) cachedData = readFileSync(file);
  } catch {}
  const source = readFileSync(path, "utf8");
  const script = new vm.Script(Module.wrap(source), { filename: path, cachedData });
  const mod = new Module(path);
  mod.filename = path;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(path));
  const fn = script.runInThisContext() as (exports: unknown, require: NodeRequire, module: Module, filename: string, dirname: string) => void;
  fn.call(mod.exports, mod.exports, createRequire(path), mod, path, dirname(path));
  mod.loaded = true;
  createRequire(path).cache[path] = mod;
  let stale = !cachedData || script.cachedDataRejected === true;
  const done: Cached = {
    exports: mod.exports,
    save() {
      if (!stale || !file) return;
      stale = false;
      try {
        mkdirSync(dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, file);
      } catch {}
    },
  };
  loaded.set(path, done);
  return done;
}
