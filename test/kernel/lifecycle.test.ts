// The kernel's life: it exits cleanly on shutdown_request, and within a few seconds of the death
// of the process that started it (JPY_PARENT_PID), even while a cell is running.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, KernelClient, LAUNCHER, waitFor } from "./client.js";

const require = createRequire(import.meta.url);
const zmq = createRequire(require.resolve("tslab/package.json"))("zeromq") as typeof import("zeromq");

test("shutdown_request: the kernel replies and exits with status 0; the next session has its history", { timeout: 240_000 }, async () => {
  const history = mkdtempSync(join(tmpdir(), "featurelab-history-"));
  const kc = await KernelClient.start({ env: { FEATURELAB_HISTORY_DIR: history } });
  try {
    await kc.execute('"from the first session"');
    const id = kc.send("control", "shutdown_request", { restart: false });
    const reply = await kc.reply(id, 60_000);
    assert.deepEqual(reply.content, { status: "ok", restart: false });
    assert.ok(await waitFor(() => kc.proc.exitCode !== null, 60_000), "exited");
    assert.equal(kc.proc.exitCode, 0, kc.stderr);
    assert.doesNotMatch(kc.stderr, /terminate called|Napi::Error|Segmentation/);
    const next = await KernelClient.start({ env: { FEATURELAB_HISTORY_DIR: history } });
    try {
      await next.execute("1 + 1");
      const tail = await next.request("shell", "history_request", { hist_access_type: "tail", n: 2, output: false, raw: true });
      assert.deepEqual(tail.content.history, [[1, 1, '"from the first session"'], [2, 1, "1 + 1"]]);
      const previous = await next.request("shell", "history_request", { hist_access_type: "range", session: -1, output: true, raw: true });
      assert.deepEqual(previous.content.history, [[1, 1, ['"from the first session"', "'from the first session'"]]]);
    } finally {
      await next.stop();
    }
  } finally {
    await kc.stop();
    rmSync(history, { recursive: true, force: true });
  }
});

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((r) => { const s = createServer(); s.listen(0, "127.0.0.1", () => r(s)); })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

test("the kernel exits within a few seconds when its parent process dies, even in the middle of a cell", { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "featurelab-orphan-"));
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await freePorts(5);
  const key = randomBytes(8).toString("hex");
  const conn = join(dir, "conn.json");
  writeFileSync(conn, JSON.stringify({ shell_port, iopub_port, stdin_port, control_port, hb_port, ip: "127.0.0.1", transport: "tcp", signature_scheme: "hmac-sha256", key }));
  // A stand-in for the Jupyter server: starts the kernel with JPY_PARENT_PID = itself, prints its PID, waits.
  const parentCode = `
    const { spawn } = require("node:child_process");
    const k = spawn(process.execPath, [${JSON.stringify(LAUNCHER)}, ${JSON.stringify(conn)}], { env: { ...process.env, JPY_PARENT_PID: String(process.pid), FEATURELAB_HISTORY_DIR: "" }, stdio: "ignore" });
    console.log(k.pid);
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ["-e", parentCode], { stdio: ["ignore", "pipe", "inherit"] });
  let kernelPid = 0;
  parent.stdout!.on("data", (d) => (kernelPid ||= Number(String(d).trim())));
  const shell = new zmq.Dealer();
  try {
    assert.ok(await waitFor(() => kernelPid > 0, 10_000), "the stand-in started the kernel");
    // Wait until the kernel serves, then start a long cell.
    shell.connect(`tcp://127.0.0.1:${shell_port}`);
    const sign = (parts: string[]) => parts.reduce((h, p) => h.update(p), createHmac("sha256", key)).digest("hex");
    const header = { msg_id: randomUUID(), session: randomUUID(), username: "t", date: new Date().toISOString(), msg_type: "execute_request", version: "5.3" };
    // The cell marks a file when it runs: the test waits on that, not on the clock.
    const marker = join(dir, "started");
    const code = `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "");\nawait new Promise(() => {}); // runs until the kernel is ended`;
    const parts = [JSON.stringify(header), "{}", "{}", JSON.stringify({ code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true })];
    await shell.send(["<IDS|MSG>", sign(parts), ...parts]);
    assert.ok(await waitFor(() => existsSync(marker), 120_000), "the kernel runs the cell");
    assert.ok(alive(kernelPid), "the kernel runs");
    parent.kill("SIGKILL");
    // It watches its parent every second; the bound is loose because a busy machine delays everything.
    assert.ok(await waitFor(() => !alive(kernelPid), 30_000), "the kernel exited after its parent died");
  } finally {
    shell.close();
    parent.kill("SIGKILL");
    if (kernelPid > 1 && alive(kernelPid)) process.kill(kernelPid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
