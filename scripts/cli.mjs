#!/usr/bin/env node
// `npx featurelab install` / `uninstall`: the featurelab kernel made known to Jupyter in one command, as
// `tslab install`, `deno jupyter --install` and `python -m ipykernel install` do. The kernelspec written
// points at THIS installation: its argv runs this package's jupyter/kernels/featurelab/launch.cjs (which
// finds dist/ beside it) with the Node that ran the install (process.execPath — as ipykernel pins
// sys.executable, so an nvm switch later does not change the kernel's Node). Beside kernel.json go
// plotly.min.js (figures load it from {baseUrl}kernelspecs/featurelab/plotly.min.js) and any logo files.
//
// Where (the folders jupyter_client's KernelSpecManager searches, as `jupyter kernelspec install` writes):
//   --user (the default)  the Jupyter data dir: $JUPYTER_DATA_DIR, else ~/.local/share/jupyter on Linux
//                         ($XDG_DATA_HOME/jupyter when set), ~/Library/Jupyter on macOS, %APPDATA%\jupyter
//                         on Windows — then kernels/<name>
//   --sys-prefix          <sys.prefix>/share/jupyter/kernels/<name>, sys.prefix being that of the Python
//                         that runs the `jupyter` found on PATH (read from its #! line)
//   --prefix DIR          DIR/share/jupyter/kernels/<name>
// `uninstall` takes the same flags and removes exactly that folder, and only when its kernel.json carries
// featurelab's marker (metadata.featurelab).
import { spawnSync } from "node:child_process";
import { accessSync, constants, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** This package's root (symlinks resolved: npx and npm link reach it through one). */
export const ROOT = realpathSync(join(dirname(fileURLToPath(import.meta.url)), ".."));
const SOURCE_SPEC = join(ROOT, "jupyter", "kernels", "featurelab");

export const USAGE = `usage: featurelab install   [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]
       featurelab uninstall [--user | --sys-prefix | --prefix DIR] [--name NAME]
       featurelab --help

  install     write a Jupyter kernelspec that runs the featurelab kernel of this installation
              (${ROOT}) with this Node (${process.execPath})
  uninstall   remove the kernelspec that install would write

  --user            in your Jupyter data dir (default): $JUPYTER_DATA_DIR, ~/.local/share/jupyter (Linux),
                    ~/Library/Jupyter (macOS), %APPDATA%\\jupyter (Windows)
  --sys-prefix      in <sys.prefix>/share/jupyter of the Python that runs the \`jupyter\` on PATH
  --prefix DIR      in DIR/share/jupyter (then Jupyter finds it with JUPYTER_PATH=DIR/share/jupyter)
  --name NAME       the kernelspec's name (default: featurelab; figures load plotly.js from the
                    kernelspec named featurelab, so keep it unless another copy has that name)
  --display-name T  the name Jupyter shows (default: "TypeScript (featurelab)")

then \`jupyter kernelspec list\` lists it, and JupyterLab, Notebook and VS Code offer the kernel.`;

class UsageError extends Error {}

/** Parses argv (after the node and script paths). Throws UsageError on anything it does not know. */
export function parseArgs(argv) {
  const opts = { command: null, where: null, prefix: null, name: "featurelab", displayName: null, help: false };
  const value = (flag, i) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const setWhere = (w) => {
    if (opts.where && opts.where !== w) throw new UsageError(`--${opts.where} and --${w} cannot be used together`);
    opts.where = w;
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline = null;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) [arg, inline] = [arg.slice(0, eq), arg.slice(eq + 1)];
    const take = () => (inline !== null ? inline : value(arg, i++));
    if (inline !== null && !["--prefix", "--name", "--display-name"].includes(arg)) throw new UsageError(`${arg} takes no value`);
    switch (arg) {
      case "-h":
      case "--help":
        opts.help = true;
        break;
      case "--user":
        setWhere("user");
        break;
      case "--sys-prefix":
        setWhere("sys-prefix");
        break;
      case "--prefix":
        setWhere("prefix");
        opts.prefix = take();
        if (!opts.prefix) throw new UsageError("--prefix needs a folder");
        break;
      case "--name":
        opts.name = take();
        break;
      case "--display-name":
        opts.displayName = take();
        break;
      default:
        if (arg.startsWith("-")) throw new UsageError(`unknown option ${argv[i]}`);
        if (opts.command) throw new UsageError(`unexpected argument ${arg}`);
        if (arg !== "install" && arg !== "uninstall") throw new UsageError(`unknown command ${arg}`);
        opts.command = arg;
    }
  }
  if (opts.help) return opts;
  if (!opts.command) throw new UsageError("no command: install or uninstall");
  // jupyter_client's rule for kernel names (kernelspec._is_valid_kernel_name).
  if (!/^[a-z0-9._-]+$/i.test(opts.name)) throw new UsageError(`--name ${JSON.stringify(opts.name)}: a kernel name is letters, digits, '.', '_' and '-'`);
  if (opts.command === "uninstall" && opts.displayName !== null) throw new UsageError("--display-name is for install");
  return { ...opts, where: opts.where ?? "user" };
}

/** jupyter_core's jupyter_data_dir(): where `jupyter kernelspec install --user` writes. */
export function userDataDir(env = process.env, platform = process.platform, home = homedir()) {
  if (env.JUPYTER_DATA_DIR) return resolve(env.JUPYTER_DATA_DIR);
  if (platform === "darwin") return join(home, "Library", "Jupyter");
  if (platform === "win32") return env.APPDATA ? join(env.APPDATA, "jupyter") : join(env.JUPYTER_CONFIG_DIR || join(home, ".jupyter"), "data");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "jupyter");
}

function onPath(cmd, env) {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {}
  }
  return null;
}

/** The Python interpreter of a console script, from its #! line (and pip's `'''exec' "python"` trampoline). */
function interpreterOf(script, env) {
  const [first = "", second = ""] = readFileSync(script, "utf8").slice(0, 4096).split("\n");
  if (!first.startsWith("#!")) return null;
  const words = first.slice(2).trim().split(/\s+/);
  if (/(^|\/)env$/.test(words[0])) return onPath(words.find((w, i) => i > 0 && !w.startsWith("-")) ?? "", env);
  if (/(^|\/)(ba|da)?sh$/.test(words[0])) {
    const m = /^'''exec' "?([^"\s]+)"?/.exec(second);
    return m ? m[1] : null;
  }
  return words[0];
}

/** sys.prefix of the Python that runs the `jupyter` on PATH. */
export function sysPrefix(env = process.env) {
  const fail = (why) => {
    throw new Error(`--sys-prefix: ${why}; use --prefix <that environment's prefix> or --user`);
  };
  if (process.platform === "win32") fail("not supported on Windows");
  const jupyter = onPath("jupyter", env);
  if (!jupyter) fail("no `jupyter` on PATH");
  const python = interpreterOf(jupyter, env);
  if (!python) fail(`could not tell which Python runs ${jupyter}`);
  const r = spawnSync(python, ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8", env, timeout: 30_000 });
  const prefix = r.status === 0 ? r.stdout.trim() : "";
  if (!prefix || !isAbsolute(prefix)) fail(`could not ask ${python} (the Python of ${jupyter}) for sys.prefix${r.stderr ? `: ${r.stderr.trim()}` : ""}`);
  return prefix;
}

/** The kernelspec folder install writes and uninstall removes. */
export function kernelDir(opts, env = process.env) {
  const data =
    opts.where === "prefix" ? join(resolve(opts.prefix), "share", "jupyter")
    : opts.where === "sys-prefix" ? join(sysPrefix(env), "share", "jupyter")
    : userDataDir(env);
  return join(data, "kernels", opts.name);
}

function readSpec(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"));
  } catch {
    return null;
  }
}

const isOurs = (spec) => Boolean(spec && spec.metadata && spec.metadata.featurelab);

/** The kernelspec of this installation. */
export function kernelSpec(opts) {
  const base = JSON.parse(readFileSync(join(SOURCE_SPEC, "kernel.json"), "utf8"));
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  return {
    ...base,
    argv: [process.execPath, join(SOURCE_SPEC, "launch.cjs"), "{connection_file}"],
    display_name: opts.displayName ?? base.display_name,
    metadata: { ...base.metadata, featurelab: { package: ROOT, version } },
  };
}

function install(opts, log) {
  const main = join(ROOT, "dist", "kernel", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm install\` (or \`npm run build\`) in ${ROOT} first`);
  const dir = kernelDir(opts);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !isOurs(readSpec(dir))) {
    throw new Error(`${dir} holds a kernelspec that is not featurelab's; remove it (jupyter kernelspec remove ${opts.name}) or choose another --name`);
  }
  // Written beside and renamed into place: Jupyter never lists a half-written kernelspec.
  const tmp = join(dirname(dir), `.${opts.name}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(join(tmp, "kernel.json"), JSON.stringify(kernelSpec(opts), null, 2) + "\n");
    const plotly = existsSync(join(SOURCE_SPEC, "plotly.min.js"))
      ? join(SOURCE_SPEC, "plotly.min.js")
      : createRequire(join(ROOT, "package.json")).resolve("plotly.js-dist-min/plotly.min.js");
    cpSync(plotly, join(tmp, "plotly.min.js"));
    for (const f of readdirSync(SOURCE_SPEC)) if (/^logo-/.test(f)) cpSync(join(SOURCE_SPEC, f), join(tmp, f));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  log(`Installed kernelspec ${opts.name} in ${dir}`);
  log(`  it runs ${join(SOURCE_SPEC, "launch.cjs")} with ${process.execPath}`);
  if (opts.where === "prefix") log(`  Jupyter finds it when JUPYTER_PATH includes ${join(resolve(opts.prefix), "share", "jupyter")} (or when DIR is its Python's sys.prefix)`);
  if (opts.name !== "featurelab") log(`  note: figures load plotly.js from {baseUrl}kernelspecs/featurelab/plotly.min.js; in Jupyter they draw only where a kernelspec named featurelab is installed too`);
}

function uninstall(opts, log) {
  const dir = kernelDir(opts);
  if (!existsSync(dir)) throw new Error(`no kernelspec at ${dir}: nothing removed`);
  if (!isOurs(readSpec(dir))) throw new Error(`${dir} is not a featurelab kernelspec (its kernel.json has no metadata.featurelab): left in place`);
  rmSync(dir, { recursive: true, force: true });
  log(`Removed kernelspec ${opts.name}: ${dir}`);
}

/** Runs the command line; returns the exit code (0 done, 1 failed, 2 usage). */
export function main(argv, { log = (s) => console.log(s), error = (s) => console.error(s) } = {}) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    error(`featurelab: ${err.message}\n\n${USAGE.split("\n").slice(0, 3).join("\n")}\n(featurelab --help describes the options)`);
    return 2;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  try {
    (opts.command === "install" ? install : uninstall)(opts, log);
    return 0;
  } catch (err) {
    const e = /** @type {NodeJS.ErrnoException} */ (err);
    if (e.code === "EACCES" || e.code === "EPERM") error(`featurelab ${opts.command}: permission denied (${e.path ?? e.message}); use --user, or run it with the rights to write there`);
    else error(`featurelab ${opts.command}: ${e.message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
