// fl.loadDictionary: a dictionary from a folder or a file — SAELens' layout (by SAELens or featurelab),
// sparsify's, or Gemma Scope's params.npz — or from a Hub repository ("google/gemma-scope-2b-pt-res"
// with { path: "layer_20/width_16k/average_l0_71" }), downloaded into the Hugging Face cache.
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { InputError } from "../io/errors.js";
import { hubFile, localOrHub, type HubOptions } from "../io/hf-hub.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import type { Dictionary } from "./dictionary.js";
import { loadGemmaScope } from "./gemma-scope.js";
import { loadSaeLens } from "./saelens-folder.js";
import { loadSparsify, SPARSIFY_WEIGHTS } from "./sparsify-folder.js";

/** Options of `loadDictionary`. */
export type LoadDictionaryOptions = Omit<HubOptions, "onProgress"> & {
  /** The dictionary's folder inside the folder or repository (e.g. Gemma Scope's "layer_20/width_16k/average_l0_71"). */
  path?: string;
};

const OPTIONS = optionNames<LoadDictionaryOptions>({ path: true, revision: true, endpoint: true, cacheDir: true, offline: true, token: true });

/** The dictionary's files from a Hub repository into the cache: params.npz, or cfg.json with SAELens' or sparsify's weights. */
async function hubDictionaryFolder(repo: string, opts: LoadDictionaryOptions): Promise<string> {
  const { path = "", ...hub } = opts;
  const at = (f: string) => (path ? `${path.replace(/\/$/, "")}/${f}` : f);
  const get = (f: string, optional = false) => hubFile(repo, at(f), { ...hub, optional });
  const npz = await get("params.npz", true);
  if (npz) return dirname(npz);
  const cfg = await get("cfg.json", true);
  if (!cfg) throw new InputError(`${repo}/${at("")}`, "has neither params.npz (Gemma Scope) nor cfg.json (SAELens, sparsify) on the Hub");
  if (!(await get("sae_weights.safetensors", true))) await get(SPARSIFY_WEIGHTS);
  return dirname(cfg);
}

/**
 * Read a dictionary: a SAELens folder (by SAELens or featurelab), a sparsify folder, a Gemma Scope
 * params.npz (or its folder), or any of these from the Hub by repository name and `path`.
 * @example
 * const sae = await fl.loadDictionary("out/sae");
 * const scope = await fl.loadDictionary("google/gemma-scope-2b-pt-res", { path: "layer_20/width_16k/average_l0_71" });
 */
export async function loadDictionary(dir: string, opts: LoadDictionaryOptions = {}): Promise<Dictionary> {
  rejectUnknownOptions("loadDictionary", opts, OPTIONS);
  const local = existsSync(dir);
  ({ dir } = await localOrHub(dir, (repo) => hubDictionaryFolder(repo, opts)));
  if (local && opts.path) dir = join(dir, opts.path);
  if (dir.toLowerCase().endsWith(".npz") && existsSync(dir) && statSync(dir).isFile()) return loadGemmaScope(dir);
  if (existsSync(join(dir, "params.npz"))) return loadGemmaScope(join(dir, "params.npz"));
  if (existsSync(join(dir, SPARSIFY_WEIGHTS)) && !existsSync(join(dir, "sae_weights.safetensors"))) return loadSparsify(dir);
  return loadSaeLens(dir);
}
