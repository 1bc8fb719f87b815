// `npm run test:load [-- runs]`: the whole suite, `runs` times in a row (default 3), while one busy
// process per core keeps every core loaded — the proof that no test depends on an idle machine.
// The load processes are this script's children, stopped by PID when it ends.
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { root } from "./setup.mjs";

const runs = Number(process.argv[2] ?? 3);
const load = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ["-e", "let x = 0; for (;;) x = (x * 1103515245 + 12345) % 2147483648;"], { stdio: "ignore" }),
);
const stopLoad = () => load.forEach((p) => p.exitCode === null && p.kill("SIGKILL"));
process.on("exit", stopLoad);
process.on("SIGINT", () => process.exit(130));

const results = [];
for (let i = 1; i <= runs; i++) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [`${root}/scripts/test.mjs`], { stdio: "inherit", cwd: root });
  results.push({ run: i, ok: r.status === 0, minutes: (Date.now() - t0) / 60_000 });
  console.log(`\nfeaturelab test:load: run ${i}/${runs} ${r.status === 0 ? "passed" : "FAILED"} in ${results.at(-1).minutes.toFixed(1)} min with ${load.length} busy processes\n`);
}
stopLoad();
console.log(results.map((r) => `run ${r.run}: ${r.ok ? "pass" : "FAIL"}, ${r.minutes.toFixed(1)} min`).join("\n"));
process.exit(results.every((r) => r.ok) ? 0 : 1);
