// A small Jupyter client for the kernel tests: starts the featurelab kernel from its kernelspec's
// launcher with a connection file of its own, speaks the wire protocol over ZeroMQ (signed with
// HMAC-SHA256), and stops the kernel by its PID (shutdown_request, then SIGKILL after a timeout).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import assert from "node:assert/strict";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const zmq = createRequire(require.resolve("tslab/package.json"))("zeromq") as typeof import("zeromq");

export const root = join(import.meta.dirname, "..", "..");
export const LAUNCHER = join(root, "jupyter", "kernels", "featurelab", "launch.cjs");

export interface Msg {
  header: { msg_id: string; msg_type: string; session: string; date: string; username: string; version: string };
  parent_header: { msg_id?: string; msg_type?: string };
  metadata: Record<string, any>;
  content: Record<string, any>;
  buffers: Buffer[];
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import("node:net").Server>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** True while a process with this PID exists (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

export interface StartOptions {
  /** The kernel's working directory (the notebook's folder). */
  cwd?: string;
  env?: Record<string, string>;
}

export class KernelClient {
  readonly session = randomUUID();
  private shell = new zmq.Dealer({ routingId: `shell-${this.session}` });
  // The kernel asks for input at the routing identity of the execute request's shell socket (as
  // ipykernel does, and jupyter_client gives all its sockets the same identity).
  private stdin = new zmq.Dealer({ routingId: `shell-${this.session}` });
  /** input_request messages received on stdin, in order. */
  readonly inputRequests: Msg[] = [];
  /** What answers an input_request (its value goes back as input_reply); none: the request is only recorded. */
  answerInput?: (request: Msg) => string | undefined;
  private control = new zmq.Dealer({ routingId: `control-${this.session}` });
  private iopub = new zmq.Subscriber();
  private hb = new zmq.Request();
  private replies = new Map<string, Msg>();
  /** IOPub messages by the msg_id of the request that caused them. */
  readonly iopubByParent = new Map<string, Msg[]>();
  readonly iopubAll: Msg[] = [];
  private closed = false;
  stderr = "";

  private constructor(
    readonly proc: ChildProcess,
    private readonly dir: string,
    readonly ports: Record<string, number>,
    private readonly key: string,
  ) {}

  get pid(): number {
    return this.proc.pid!;
  }

  static async start(opts: StartOptions = {}): Promise<KernelClient> {
    const dir = mkdtempSync(join(tmpdir(), "featurelab-kernel-test-"));
    const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await freePorts(5);
    const ports = { shell_port, iopub_port, stdin_port, control_port, hb_port };
    const key = randomBytes(16).toString("hex");
    const file = join(dir, "connection.json");
    writeFileSync(file, JSON.stringify({ ...ports, ip: "127.0.0.1", transport: "tcp", signature_scheme: "hmac-sha256", key, kernel_name: "featurelab" }));
    const proc = spawn(process.execPath, [LAUNCHER, file], {
      cwd: opts.cwd ?? dir,
      env: { ...process.env, JPY_PARENT_PID: String(process.pid), FEATURELAB_HISTORY_DIR: "", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const kc = new KernelClient(proc, dir, ports, key);
    proc.stdout!.on("data", (d) => (kc.stderr += d));
    proc.stderr!.on("data", (d) => (kc.stderr += d));
    kc.shell.connect(`tcp://127.0.0.1:${shell_port}`);
    kc.control.connect(`tcp://127.0.0.1:${control_port}`);
    kc.stdin.connect(`tcp://127.0.0.1:${stdin_port}`);
    kc.iopub.connect(`tcp://127.0.0.1:${iopub_port}`);
    kc.iopub.subscribe();
    kc.hb.connect(`tcp://127.0.0.1:${hb_port}`);
    kc.hb.receiveTimeout = 2000;
    void kc.listen(kc.shell);
    void kc.listen(kc.control);
    void kc.listen(kc.stdin);
    void kc.listen(kc.iopub);
    // Ready: a kernel_info reply, and IOPub delivering (ZeroMQ's slow joiner: ask until a status arrives).
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      if (proc.exitCode !== null) throw new Error(`the kernel exited (${proc.exitCode}):\n${kc.stderr}`);
      const id = kc.send("shell", "kernel_info_request", {});
      const got = await waitFor(() => kc.replies.has(id) && (kc.iopubByParent.get(id)?.length ?? 0) > 0, 1000);
      if (got) return kc;
    }
    await kc.stop();
    throw new Error(`the kernel did not answer kernel_info within 60 s:\n${kc.stderr}`);
  }

  private sign(parts: string[]): string {
    const h = createHmac("sha256", this.key);
    for (const p of parts) h.update(p);
    return h.digest("hex");
  }

  private async listen(socket: InstanceType<typeof zmq.Dealer> | InstanceType<typeof zmq.Subscriber>) {
    try {
      for await (const frames of socket) {
        const at = frames.findIndex((f) => f.toString() === "<IDS|MSG>");
        const parts = frames.slice(at + 2, at + 6).map((f) => f.toString());
        if (frames[at + 1].toString() !== this.sign(parts)) throw new Error("bad signature from the kernel");
        const [header, parent_header, metadata, content] = parts.map((p) => JSON.parse(p));
        const msg: Msg = { header, parent_header, metadata, content, buffers: frames.slice(at + 6) };
        if (socket === this.stdin) {
          this.inputRequests.push(msg);
          const value = this.answerInput?.(msg);
          if (value !== undefined) this.replyInput(msg, value);
        } else if (socket === this.iopub) {
          this.iopubAll.push(msg);
          const id = parent_header.msg_id ?? "";
          if (!this.iopubByParent.has(id)) this.iopubByParent.set(id, []);
          this.iopubByParent.get(id)!.push(msg);
        } else this.replies.set(parent_header.msg_id, msg);
      }
    } catch (err) {
      if (!this.closed) throw err;
    }
  }

  /** Send a request; returns its msg_id. */
  send(channel: "shell" | "control", msgType: string, content: Record<string, unknown>, buffers: Buffer[] = [], metadata: Record<string, unknown> = {}): string {
    const header = { msg_id: randomUUID(), session: this.session, username: "test", date: new Date().toISOString(), msg_type: msgType, version: "5.3" };
    const parts = [JSON.stringify(header), "{}", JSON.stringify(metadata), JSON.stringify(content)];
    void (channel === "shell" ? this.shell : this.control).send(["<IDS|MSG>", this.sign(parts), ...parts, ...buffers]);
    return header.msg_id;
  }

  /** Answer an input_request on the stdin channel. */
  replyInput(request: Msg, value: string): void {
    const header = { msg_id: randomUUID(), session: this.session, username: "test", date: new Date().toISOString(), msg_type: "input_reply", version: "5.3" };
    const parts = [JSON.stringify(header), JSON.stringify(request.header), "{}", JSON.stringify({ value })];
    void this.stdin.send(["<IDS|MSG>", this.sign(parts), ...parts]);
  }

  async reply(msgId: string, timeoutMs = 120_000): Promise<Msg> {
    if (!(await waitFor(() => this.replies.has(msgId), timeoutMs, 10))) throw new Error(`no reply to ${msgId} within ${timeoutMs} ms\n${this.stderr}`);
    return this.replies.get(msgId)!;
  }

  /** The IOPub messages a request caused, once its idle status has arrived. */
  async outputs(msgId: string, timeoutMs = 120_000): Promise<Msg[]> {
    const idle = () => (this.iopubByParent.get(msgId) ?? []).some((m) => m.header.msg_type === "status" && m.content.execution_state === "idle");
    if (!(await waitFor(idle, timeoutMs, 10))) throw new Error(`no idle status for ${msgId} within ${timeoutMs} ms\n${this.stderr}`);
    return (this.iopubByParent.get(msgId) ?? []).filter((m) => m.header.msg_type !== "status");
  }

  async request(channel: "shell" | "control", msgType: string, content: Record<string, unknown>, timeoutMs?: number): Promise<Msg> {
    return this.reply(this.send(channel, msgType, content), timeoutMs);
  }

  /** Run a cell: its reply and outputs (execute_input included). */
  async execute(code: string, opts: { silent?: boolean; store_history?: boolean; stop_on_error?: boolean; user_expressions?: Record<string, string>; timeoutMs?: number; cellId?: string; allow_stdin?: boolean } = {}) {
    const id = this.sendExecute(code, opts);
    const reply = await this.reply(id, opts.timeoutMs);
    const outputs = await this.outputs(id, opts.timeoutMs);
    return { id, reply, outputs, of: (type: string) => outputs.filter((m) => m.header.msg_type === type) };
  }

  sendExecute(code: string, opts: { silent?: boolean; store_history?: boolean; stop_on_error?: boolean; user_expressions?: Record<string, string>; cellId?: string; allow_stdin?: boolean } = {}): string {
    const content = {
      code,
      silent: opts.silent ?? false,
      store_history: opts.store_history ?? true,
      user_expressions: opts.user_expressions ?? {},
      allow_stdin: opts.allow_stdin ?? false,
      stop_on_error: opts.stop_on_error ?? true,
    };
    // JupyterLab, Notebook 7 and VS Code say which cell runs in the request's metadata.
    return this.send("shell", "execute_request", content, [], opts.cellId ? { cellId: opts.cellId } : {});
  }

  async heartbeat(): Promise<boolean> {
    try {
      await this.hb.send("ping");
      const [echo] = await this.hb.receive();
      return echo.toString() === "ping";
    } catch {
      return false;
    }
  }

  /** Ask the kernel to shut down; SIGKILL it by PID if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (alive(this.pid) && this.proc.exitCode === null) {
      this.send("control", "shutdown_request", { restart: false });
      if (!(await waitFor(() => this.proc.exitCode !== null || this.proc.signalCode !== null, timeoutMs))) {
        try {
          process.kill(this.pid, "SIGKILL");
        } catch {}
        await waitFor(() => this.proc.exitCode !== null || this.proc.signalCode !== null, 2000);
      }
    }
    this.closed = true;
    for (const s of [this.shell, this.control, this.stdin, this.iopub, this.hb]) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A cell's result as text/plain, and what it printed on stdout. */
export const resultText = (r: Awaited<ReturnType<KernelClient["execute"]>>) => r.of("execute_result")[0]?.content.data["text/plain"];
export const stdoutText = (r: Awaited<ReturnType<KernelClient["execute"]>>) => r.of("stream").filter((m) => m.content.name === "stdout").map((m) => m.content.text).join("");

export const PYTHON = "/usr/bin/python3";
/** Whether Debian's jupyter-client is there for the driver scripts (test/kernel/*.py). */
export const hasJupyterClient = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import jupyter_client"], { stdio: "ignore" }).status === 0;

/**
 * Runs a jupyter_client driver script from test/kernel/ against the repository's kernel with a heap of
 * `heapMB`; the kernels' PIDs go to `pidfile`, one per line. Returns the JSON report on its last stdout line.
 */
export async function runDriver(script: string, pidfile: string, heapMB: number): Promise<any> {
  const child = spawn(PYTHON, [join(import.meta.dirname, script)], {
    cwd: root,
    env: { ...process.env, JUPYTER_PATH: join(root, "jupyter"), FEATURELAB_HISTORY_DIR: "", FEATURELAB_KERNEL_PIDFILE: pidfile, NODE_OPTIONS: `--max-old-space-size=${heapMB}` },
  });
  let out = "", err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 280_000);
  const status = await new Promise<number | null>((r) => child.on("close", r));
  clearTimeout(timer);
  assert.equal(status, 0, err);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** Ends any kernel a driver left running, by the PIDs in `pidfile`. */
export async function endDriverKernels(pidfile: string): Promise<void> {
  if (!existsSync(pidfile)) return;
  for (const pid of readFileSync(pidfile, "utf8").split("\n").filter(Boolean).map(Number)) {
    if (pid > 1 && !(await waitFor(() => !alive(pid), 5000))) process.kill(pid, "SIGKILL");
  }
}
