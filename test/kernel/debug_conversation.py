"""A debugger conversation with the featurelab kernel through jupyter_client, as JupyterLab's debugger
panel holds it: initialize, attach, debugInfo, dumpCell, setBreakpoints on the cell's TypeScript
lines, configurationDone; execute the cell, receive the `stopped` event, read the stack, the scopes and
a local variable, evaluate in the frame, step, continue, get the result; inspectVariables; disconnect.

Run by test/kernel/debugger.test.ts with JUPYTER_PATH pointing at the repository's jupyter/ folder.
Prints one JSON line (what it saw); the kernel's PID goes to FEATURELAB_KERNEL_PIDFILE.
"""
import json
import os
import sys

from ipykernel.compiler import murmur2_x86
from jupyter_client.manager import KernelManager

CEILING = 60  # seconds: only ends a wait that would otherwise hang

# Type-only lines vanish from the compiled JavaScript: the breakpoints' lines must go through source maps.
CELL = """interface Box {
  w: number;
  h: number;
}
type Area = number;
function area(box: Box): Area {
  const product = box.w * box.h;
  return product;
}
const total = area({ w: 6, h: 7 });
total"""
LINE_PRODUCT = 7  # const product = …
LINE_RETURN = 8


class Conversation:
    def __init__(self, kc):
        self.kc = kc
        self.seq = 0
        self.events = []

    def request(self, command, arguments=None):
        self.seq += 1
        content = {"seq": self.seq, "type": "request", "command": command, "arguments": arguments or {}}
        msg = self.kc.session.msg("debug_request", content)
        self.kc.control_channel.send(msg)
        while True:
            reply = self.kc.get_control_msg(timeout=CEILING)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return reply["content"]

    def event(self, name):
        """The next debug_event called `name` (other IOPub messages are kept in self.seen)."""
        for i, e in enumerate(self.events):
            if e["event"] == name:
                return self.events.pop(i)
        while True:
            msg = self.kc.get_iopub_msg(timeout=CEILING)
            if msg["header"]["msg_type"] == "debug_event":
                if msg["content"]["event"] == name:
                    return msg["content"]
                self.events.append(msg["content"])


def collect(kc, msg_id):
    """The execute_reply and execute_result of msg_id."""
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=CEILING)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["header"]["msg_type"] == "execute_result":
            result = msg["content"]["data"]["text/plain"]
        if msg["header"]["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=CEILING)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=CEILING)
    return reply["content"]["status"], result


def main():
    km = KernelManager(kernel_name="featurelab")
    km.start_kernel()
    with open(os.environ["FEATURELAB_KERNEL_PIDFILE"], "a") as f:
        f.write(f"{km.provisioner.pid}\n")
    kc = km.client()
    kc.start_channels()
    out = {}
    try:
        info = kc.kernel_info(reply=True, timeout=CEILING)
        out["kernel_info_debugger"] = info["content"].get("debugger")
        d = Conversation(kc)
        out["initialize"] = d.request("initialize", {"clientID": "test", "adapterID": "featurelab", "pathFormat": "path", "linesStartAt1": True, "columnsStartAt1": True})["success"]
        out["attach"] = d.request("attach", {"justMyCode": True})["success"]
        d.event("initialized")
        dbg_info = d.request("debugInfo")["body"]
        out["debugInfo"] = {k: dbg_info[k] for k in ("isStarted", "hashMethod", "hashSeed", "tmpFileSuffix")}
        path = d.request("dumpCell", {"code": CELL})["body"]["sourcePath"]
        # The path JupyterLab computes for the cell from debugInfo (as ipykernel does).
        out["path_matches_hash"] = path == f"{dbg_info['tmpFilePrefix']}{murmur2_x86(CELL, dbg_info['hashSeed'])}{dbg_info['tmpFileSuffix']}"
        out["dumped"] = open(path).read() == CELL
        bps = d.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": LINE_PRODUCT}], "sourceModified": False})
        out["breakpoints"] = [{"verified": b["verified"], "line": b["line"]} for b in bps["body"]["breakpoints"]]
        out["configurationDone"] = d.request("configurationDone")["success"]

        msg_id = kc.execute(CELL)
        stopped = d.event("stopped")
        out["stopped"] = {"reason": stopped["body"]["reason"], "threadId": stopped["body"]["threadId"]}
        out["threads"] = d.request("threads")["body"]["threads"]
        frames = d.request("stackTrace", {"threadId": 1})["body"]["stackFrames"]
        top = frames[0]
        out["top"] = {"name": top["name"], "line": top["line"], "path_is_cell": top["source"].get("path") == path}
        out["caller_line"] = next((f["line"] for f in frames[1:] if f["source"].get("path") == path), None)
        scopes = d.request("scopes", {"frameId": top["id"]})["body"]["scopes"]
        out["scope_names"] = [s["name"] for s in scopes]
        local = next(s for s in scopes if s["name"] == "Locals")
        variables = d.request("variables", {"variablesReference": local["variablesReference"]})["body"]["variables"]
        out["locals_before"] = {v["name"]: v["value"] for v in variables}
        box = next(v for v in variables if v["name"] == "box")
        out["box"] = {v["name"]: v["value"] for v in d.request("variables", {"variablesReference": box["variablesReference"]})["body"]["variables"]}
        out["evaluate"] = d.request("evaluate", {"expression": "box.w + box.h", "frameId": top["id"], "context": "watch"})["body"]["result"]

        d.request("next", {"threadId": 1})
        stepped = d.event("stopped")
        frames = d.request("stackTrace", {"threadId": 1})["body"]["stackFrames"]
        out["after_next"] = {"reason": stepped["body"]["reason"], "line": frames[0]["line"]}
        scopes = d.request("scopes", {"frameId": frames[0]["id"]})["body"]["scopes"]
        local = next(s for s in scopes if s["name"] == "Locals")
        out["locals_after"] = {v["name"]: v["value"] for v in d.request("variables", {"variablesReference": local["variablesReference"]})["body"]["variables"]}

        out["continue"] = d.request("continue", {"threadId": 1})["success"]
        out["result"] = collect(kc, msg_id)
        out["inspectVariables"] = {v["name"]: v["value"] for v in d.request("inspectVariables")["body"]["variables"]}
        out["unknown_command"] = d.request("noSuchCommand")["success"]
        out["disconnect"] = d.request("disconnect", {"restart": False, "terminateDebuggee": False})["success"]
        # Detached: the same cell runs to its end.
        out["after_disconnect"] = collect(kc, kc.execute(CELL))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
