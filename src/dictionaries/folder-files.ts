// Reading a dictionary folder's two files — cfg.json and a .safetensors of weights — with errors
// that name the file and say what is wrong.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../io/errors.js";
import { readSafetensors } from "../io/safetensors.js";
import type { NdArray } from "../io/ndarray.js";

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
  const weightsPath = join(dir, weightsName);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(weightsPath);
  } catch {
    throw new InputError(weightsPath, `no such file (${layout})`);
  }
  return { cfg, cfgPath, tensors: readSafetensors(bytes, weightsPath).tensors, weightsPath };
}
