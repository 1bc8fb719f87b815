// A node:test reporter: each test file's wall time, slowest first — to see where `npm test`'s
// minutes go. scripts/test.mjs writes it to out/test-times.txt beside the usual spec output.
import { relative } from "node:path";

export default async function* fileTimes(source) {
  const times = [];
  for await (const event of source) {
    const { name, file, details } = event.data ?? {};
    if (event.type === "test:complete" && file && name === file) times.push([relative(process.cwd(), file), details?.duration_ms ?? 0]);
  }
  times.sort((a, b) => b[1] - a[1]);
  const total = times.reduce((s, [, ms]) => s + ms, 0);
  yield `${times.length} files, ${(total / 1000).toFixed(0)} s summed over files (they run two at a time)\n`;
  for (const [file, ms] of times) yield `${(ms / 1000).toFixed(1).padStart(7)} s  ${file}\n`;
}
