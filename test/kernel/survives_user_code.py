"""The featurelab kernel survives what user code does wrong, through jupyter_client.

Run by test/kernel/survives.test.ts with JUPYTER_PATH pointing at the repository's jupyter/ folder and a
small heap limit for the kernel (NODE_OPTIONS), so filling the heap takes a moment, not the machine.
Prints one JSON line per check; the PID of the kernel goes to FEATURELAB_KERNEL_PIDFILE.
"""
import json
import os
import sys

from jupyter_client.manager import start_new_kernel

CEILING = 120  # seconds: only ends a wait that would otherwise hang


def run(kc, code):
    """Execute code; return (reply content, outputs of the cell as (msg_type, content))."""
    outputs = []
    reply = kc.execute_interactive(code, timeout=CEILING, output_hook=lambda m: outputs.append((m["header"]["msg_type"], m["content"])))
    return reply["content"], outputs


def stderr_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")


def result_of(outputs):
    return next((c["data"]["text/plain"] for t, c in outputs if t == "execute_result"), None)


def later_stderr(kc, parent_id, needle):
    """Read IOPub until a stderr stream of the cell parent_id holds needle (the cell has already replied)."""
    text = ""
    while needle not in text:
        msg = kc.get_iopub_msg(timeout=CEILING)
        if msg["parent_header"].get("msg_id") == parent_id and msg["header"]["msg_type"] == "stream" and msg["content"]["name"] == "stderr":
            text += msg["content"]["text"]
    return text


def main():
    km, kc = start_new_kernel(kernel_name="featurelab", startup_timeout=CEILING)
    pid = getattr(getattr(km, "provisioner", None), "pid", None) or km.kernel.pid
    with open(os.environ["FEATURELAB_KERNEL_PIDFILE"], "w") as f:
        f.write(str(pid))
    report = {}
    try:
        # An exception in a timer while the cell still runs: reported in that cell (timers of equal delay
        # fire in order, so the throw comes before the one the cell awaits).
        reply, out = run(kc, 'setTimeout(() => { throw new Error("thrown in a timer"); }, 0);\nawait new Promise((resolve) => setTimeout(resolve));\n"done"')
        report["timer"] = {"status": reply["status"], "stderr": stderr_of(out)}
        # An unhandled rejection and an EventEmitter "error" without a listener, after the cell ended:
        # reported on the cell that caused them.
        msg_id = kc.execute('Promise.reject(new Error("rejected, never awaited"));\n1')
        kc.get_shell_msg(timeout=CEILING)
        report["rejection"] = later_stderr(kc, msg_id, "(unhandled promise rejection)")
        msg_id = kc.execute('import { EventEmitter } from "node:events";\nconst emitter = new EventEmitter();\nsetImmediate(() => emitter.emit("error", new Error("no error listener")));')
        kc.get_shell_msg(timeout=CEILING)
        report["emitter"] = later_stderr(kc, msg_id, "(uncaught exception)")
        # An allocation larger than any machine: a clean RangeError.
        reply, _ = run(kc, "new Float64Array(2 ** 40).length")
        report["huge"] = {"status": reply["status"], "ename": reply.get("ename"), "evalue": reply.get("evalue")}
        # Filling the heap: an out-of-memory error, the kernel lives on, its variables too.
        run(kc, "let survivor = 41;")
        reply, _ = run(kc, "(() => {\n  const grow = [];\n  for (;;) grow.push(new Array(1000).fill(1.5));\n})();")
        report["oom"] = {"status": reply["status"], "ename": reply.get("ename"), "evalue": reply.get("evalue")}
        reply, out = run(kc, "survivor + 1")
        report["after_oom"] = result_of(out)
        # Filling it with what a global keeps: stopped again; freeing it lets the next cell allocate.
        reply, _ = run(kc, "const store = globalThis as { kept?: number[][] };\nstore.kept = [];\nfor (;;) store.kept.push(new Array(1000).fill(2.5));")
        report["oom_kept"] = {"status": reply["status"], "ename": reply.get("ename"), "evalue": reply.get("evalue")}
        reply, out = run(kc, "const held = globalThis as { kept?: number[][] };\nconst n = held.kept!.length > 0;\nheld.kept = undefined;\n`${n}`")
        report["freed"] = result_of(out)
        reply, out = run(kc, "const again = Array.from({ length: 1e6 }, (_, i) => i);\nagain.length")
        report["after_free"] = result_of(out)
        report["alive"] = km.is_alive()
        report["same_pid"] = (getattr(getattr(km, "provisioner", None), "pid", None) or km.kernel.pid) == pid
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
