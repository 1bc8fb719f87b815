// Files are written whole or not at all: to a temporary name beside the target, then renamed (a crash
// or a full disk never leaves a half-written file under the real name, nor loses the old one).
import { renameSync, writeFileSync } from "node:fs";

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
