// Reading a dictionary folder's two files — cfg.json and a .safetensors of weights — with errors
// that name the file and say what is wrong.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../io/errors.js";
import { readSafetensors } from "../io/safetensors.js";
import { numel, type NdArray } from "../io/ndarray.js";

export interface FolderFiles {
  cfg: Record<string, any>;
  cfgPath: string;
  tensors: Record<string, NdArray>;
  weightsPath: string;
}

export function readFolderFiles(dir: string, weightsName: string, layout: string): FolderFiles {
  const cfgPath = join(dir, "cfg.json");
  let cfg: Record<string, any>;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(cfgPath, code === "ENOENT" ? `no such file (${layout})` : `is not valid JSON (${(err as Error).message})`);
  }
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) throw new InputError(cfgPath, `is ${JSON.stringify(cfg)}, not a JSON object of settings (${layout})`);
  const weightsPath = join(dir, weightsName);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(weightsPath);
  } catch {
    throw new InputError(weightsPath, `no such file (${layout})`);
  }
  return { cfg, cfgPath, tensors: readSafetensors(bytes, weightsPath).tensors, weightsPath };
}

/** Runs `make` (an architecture lookup or constructor fed from cfg.json); its errors are the file's. */
export function fromCfg<T>(cfgPath: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(cfgPath, (err as Error).message.replace(/^featurelab: /, ""));
  }
}

/**
 * cfg.json's d_in, d_sae (and d_out, when given) are positive integers, and the weights hold at least
 * d_in × d_sae and d_sae × d_out values, as W_enc and W_dec must: an architecture sized by a lying cfg.json
 * would otherwise allocate its layout before the shapes are compared.
 */
export function checkDims(files: FolderFiles): void {
  const { cfg, cfgPath, tensors, weightsPath } = files;
  for (const key of ["d_in", "d_sae", ...(cfg.d_out !== undefined ? ["d_out"] : [])]) {
    if (!(Number.isSafeInteger(cfg[key]) && cfg[key] > 0)) throw new InputError(cfgPath, `needs '${key}' to be a positive integer, got ${JSON.stringify(cfg[key])}`);
  }
  const held = Object.values(tensors).reduce((n, t) => n + numel(t.shape), 0);
  const needed = Math.max(cfg.d_in * cfg.d_sae, cfg.d_sae * (cfg.d_out ?? cfg.d_in));
  if (needed > held) throw new InputError(cfgPath, `says d_in ${cfg.d_in}, d_sae ${cfg.d_sae}${cfg.d_out !== undefined ? `, d_out ${cfg.d_out}` : ""}: ${needed} weights, but ${weightsPath} holds ${held} values`);
}
