// `npx featurelab install` / `uninstall` (scripts/cli.mjs): the kernelspec it writes with --prefix and
// --user is listed by Debian's `jupyter kernelspec list`, jupyter_client starts the kernel from it and
// runs a cell, uninstall removes exactly that folder; --sys-prefix asks the Python of the `jupyter` on
// PATH; bad command lines exit 2 with the usage.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-ignore — a plain .mjs script without types
import { kernelDir, userDataDir } from "../scripts/cli.mjs";

const root = join(import.meta.dirname, "..");
const CLI = join(root, "scripts", "cli.mjs");
const PYTHON = "/usr/bin/python3";
const JUPYTER = "/usr/bin/jupyter";
const LAUNCHER = join(realpathSync(root), "jupyter", "kernels", "featurelab", "launch.cjs");
const noJupyter =
  existsSync(JUPYTER) && spawnSync(PYTHON, ["-c", "import jupyter_client"], { stdio: "ignore" }).status === 0 ? false : "Debian's jupyter and jupyter-client are not installed";

const scratch = mkdtempSync(join(tmpdir(), "featurelab-install-"));
const pidfile = join(scratch, "kernel.pid");
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};
after(() => {
  // A kernel the driver left behind (it shuts its kernel down; this only runs when it did not).
  if (existsSync(pidfile)) {
    const pid = Number(readFileSync(pidfile, "utf8"));
    if (pid > 1 && alive(pid)) process.kill(pid, "SIGKILL");
  }
  rmSync(scratch, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What Debian's `jupyter kernelspec list --json` sees with this JUPYTER_PATH and JUPYTER_DATA_DIR. */
function kernelspecs(env: Record<string, string>): Record<string, { resource_dir: string; spec: any }> {
  const r = spawnSync(JUPYTER, ["kernelspec", "list", "--json"], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).kernelspecs;
}

// Starts the kernel by name through jupyter_client, runs `1 + 1`, shuts it down; its PID goes to the pidfile.
const DRIVER = `
import json, os, sys
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=120)
pid = getattr(getattr(km, "provisioner", None), "pid", None) or km.kernel.pid
with open(os.environ["FEATURELAB_KERNEL_PIDFILE"], "w") as f:
    f.write(str(pid))
try:
    out = []
    reply = kc.execute_interactive("1 + 1", timeout=120, output_hook=out.append)
    result = next((m["content"]["data"]["text/plain"] for m in out if m["header"]["msg_type"] == "execute_result"), None)
    print(json.dumps({"status": reply["content"]["status"], "result": result, "argv": km.kernel_spec.argv, "resource_dir": km.kernel_spec.resource_dir}))
finally:
    kc.stop_channels()
    km.shutdown_kernel()
`;

async function runKernel(name: string, env: Record<string, string>): Promise<any> {
  const child = spawn(PYTHON, ["-c", DRIVER, name], {
    cwd: scratch,
    env: { ...process.env, ...env, FEATURELAB_HISTORY_DIR: "", FEATURELAB_KERNEL_PIDFILE: pidfile },
  });
  let out = "", err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
  const status = await new Promise<number | null>((r) => child.on("close", r));
  clearTimeout(timer);
  assert.equal(status, 0, err);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

test("install --user (JUPYTER_DATA_DIR): listed by jupyter kernelspec list, a notebook kernel runs 1 + 1; uninstall removes it", { skip: noJupyter, timeout: 300_000 }, async () => {
  const data = join(scratch, "user-data");
  const env = { JUPYTER_DATA_DIR: data, JUPYTER_PATH: "" };
  const dir = join(data, "kernels", "featurelab");

  const r = cli(["install", "--user"], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Installed kernelspec featurelab in ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  const spec = JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"));
  assert.deepEqual(spec.argv, [process.execPath, LAUNCHER, "{connection_file}"], "this Node, this package's launcher");
  assert.equal(spec.display_name, "TypeScript (featurelab)");
  assert.equal(spec.metadata.featurelab.package, realpathSync(root));
  assert.ok(readFileSync(join(dir, "plotly.min.js")).length > 1e6, "plotly.js beside kernel.json, for figures");

  const listed = kernelspecs(env);
  assert.equal(listed.featurelab?.resource_dir, dir, JSON.stringify(listed));

  const run = await runKernel("featurelab", env);
  assert.equal(run.resource_dir, dir);
  assert.deepEqual(run.argv, [process.execPath, LAUNCHER, "{connection_file}"]);
  assert.equal(run.status, "ok");
  assert.equal(run.result, "2");

  // Without a flag, install and uninstall mean --user.
  const again = cli(["install"], env);
  assert.equal(again.status, 0, again.stderr);
  const gone = cli(["uninstall"], env);
  assert.equal(gone.status, 0, gone.stderr);
  assert.match(gone.stdout, /Removed kernelspec featurelab: .*user-data\/kernels\/featurelab/);
  assert.equal(existsSync(dir), false);
  assert.equal(kernelspecs(env).featurelab, undefined);
  const twice = cli(["uninstall", "--user"], env);
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /no kernelspec at .*: nothing removed/);
});

test("install --prefix DIR --name --display-name: listed through JUPYTER_PATH, reinstalled in place, uninstalled", { skip: noJupyter, timeout: 120_000 }, () => {
  const prefix = join(scratch, "prefix");
  const data = join(scratch, "empty-data");
  const env = { JUPYTER_DATA_DIR: data, JUPYTER_PATH: join(prefix, "share", "jupyter") };
  const dir = join(prefix, "share", "jupyter", "kernels", "fl-test");

  const r = cli(["install", "--prefix", prefix, "--name", "fl-test", "--display-name", "featurelab (test)"], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /JUPYTER_PATH includes/);
  assert.match(r.stdout, /figures load plotly\.js from .*kernelspecs\/featurelab\//, "a name other than featurelab is flagged");
  let listed = kernelspecs(env);
  assert.equal(listed["fl-test"]?.resource_dir, dir, JSON.stringify(listed));
  assert.equal(listed["fl-test"].spec.display_name, "featurelab (test)");
  assert.equal(listed["fl-test"].spec.argv[0], process.execPath);

  // Installing again replaces it (--prefix=DIR form too).
  const again = cli(["install", `--prefix=${prefix}`, "--name=fl-test"], env);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(kernelspecs(env)["fl-test"].spec.display_name, "TypeScript (featurelab)");

  // Uninstall at another place or name finds nothing and touches nothing.
  assert.equal(cli(["uninstall", "--prefix", prefix], env).status, 1);
  assert.ok(existsSync(dir));

  const gone = cli(["uninstall", "--prefix", prefix, "--name", "fl-test"], env);
  assert.equal(gone.status, 0, gone.stderr);
  assert.match(gone.stdout, new RegExp(`Removed kernelspec fl-test: .*prefix/share/jupyter/kernels/fl-test`));
  listed = kernelspecs(env);
  assert.equal(listed["fl-test"], undefined);
  assert.equal(existsSync(dir), false);
  assert.ok(existsSync(join(prefix, "share", "jupyter", "kernels")), "only the kernelspec's own folder is removed");
});

test("a kernelspec that is not featurelab's is neither replaced nor removed", () => {
  const prefix = join(scratch, "foreign");
  const dir = join(prefix, "share", "jupyter", "kernels", "featurelab");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify({ argv: ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], display_name: "Python", language: "python" }));
  const ins = cli(["install", "--prefix", prefix]);
  assert.equal(ins.status, 1);
  assert.match(ins.stderr, /not featurelab's/);
  const un = cli(["uninstall", "--prefix", prefix]);
  assert.equal(un.status, 1);
  assert.match(un.stderr, /not a featurelab kernelspec .*left in place/);
  assert.equal(JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8")).language, "python");
});

test("--sys-prefix: sys.prefix of the Python that runs the jupyter on PATH; an error naming --prefix without one", () => {
  // A jupyter whose #! names a "python" that answers sys.prefix with a scratch folder.
  const bin = join(scratch, "bin");
  const envPrefix = join(scratch, "env");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "python"), `#!/bin/sh\necho ${envPrefix}\n`);
  writeFileSync(join(bin, "jupyter"), `#!${join(bin, "python")}\nimport sys\n`);
  chmodSync(join(bin, "python"), 0o755);
  chmodSync(join(bin, "jupyter"), 0o755);
  const PATH = `${bin}:/usr/bin:/bin`;
  const r = cli(["install", "--sys-prefix"], { PATH });
  assert.equal(r.status, 0, r.stderr);
  const dir = join(envPrefix, "share", "jupyter", "kernels", "featurelab");
  assert.ok(existsSync(join(dir, "kernel.json")));
  const un = cli(["uninstall", "--sys-prefix"], { PATH });
  assert.equal(un.status, 0, un.stderr);
  assert.equal(existsSync(dir), false);

  if (existsSync(JUPYTER) && readFileSync(JUPYTER, "utf8").startsWith("#!/usr/bin/python3")) {
    assert.equal(kernelDir({ where: "sys-prefix", name: "featurelab" }, { PATH: "/usr/bin" }), "/usr/share/jupyter/kernels/featurelab", "Debian's jupyter: sys.prefix /usr");
  }
  const none = cli(["install", "--sys-prefix"], { PATH: join(scratch, "nowhere") });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /--sys-prefix: no `jupyter` on PATH; use --prefix/);
});

test("the Jupyter data dir of --user follows jupyter_core", () => {
  assert.equal(userDataDir({ JUPYTER_DATA_DIR: "/x/data" }, "linux", "/home/u"), "/x/data");
  assert.equal(userDataDir({}, "linux", "/home/u"), "/home/u/.local/share/jupyter");
  assert.equal(userDataDir({ XDG_DATA_HOME: "/xdg" }, "linux", "/home/u"), "/xdg/jupyter");
  assert.equal(userDataDir({}, "darwin", "/Users/u"), "/Users/u/Library/Jupyter");
  assert.equal(userDataDir({ APPDATA: "/appdata" }, "win32", "/u"), join("/appdata", "jupyter"));
});

test("bad command lines: a clear error, the usage, exit code 2; --help exits 0", () => {
  for (const [args, message] of [
    [[], /no command: install or uninstall/],
    [["frobnicate"], /unknown command frobnicate/],
    [["install", "--bogus"], /unknown option --bogus/],
    [["install", "--user", "--prefix", "/tmp/x"], /--user and --prefix cannot be used together/],
    [["install", "--prefix"], /--prefix needs a value/],
    [["install", "--name", "a b"], /a kernel name is letters, digits/],
    [["install", "--user=yes"], /--user takes no value/],
    [["uninstall", "--display-name", "x"], /--display-name is for install/],
    [["install", "uninstall"], /unexpected argument uninstall/],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /usage: featurelab install +\[--user \| --sys-prefix \| --prefix DIR\]/);
    assert.equal(r.stdout, "");
  }
  const help = cli(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: featurelab install/);
  assert.match(help.stdout, /--display-name/);
});
