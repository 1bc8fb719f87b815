"""A kernel that dies of a full heap is restarted by the kernel manager and says why, through jupyter_client.

Run by test/kernel/oom-restart.test.ts with JUPYTER_PATH pointing at the repository's jupyter/ folder and a
small heap limit for the kernel (NODE_OPTIONS). The heap fills after an await, where neither an interrupt nor
the heap guard can stop the cell, so V8 ends the process; jupyter_client's restarter (the one the Jupyter
server runs) starts a new kernel. Prints one JSON line; each kernel's PID goes to FEATURELAB_KERNEL_PIDFILE.
"""
import asyncio
import json
import os
import sys

from jupyter_client.ioloop import AsyncIOLoopKernelManager
from traitlets.config import Config

CEILING = 120  # seconds: only ends a wait that would otherwise hang
FILL = "await null;\nconst grow: number[][] = [];\nfor (;;) grow.push(new Array(1000).fill(1.5));"


def note_pid(km):
    with open(os.environ["FEATURELAB_KERNEL_PIDFILE"], "a") as f:
        f.write(f"{km.provisioner.pid}\n")
    return km.provisioner.pid


async def replaced(km, pid):
    """Returns once the restarter has started a new kernel process (it tells before it starts one)."""
    while km.provisioner is None or km.provisioner.pid == pid or not await km.is_alive():
        await asyncio.sleep(0.05)


async def run(kc, code):
    """Execute code; return (reply content, stderr text, execute_result text)."""
    msg_id = kc.execute(code)
    stderr, result, idle = "", None, False
    while not idle:
        msg = await kc.get_iopub_msg(timeout=CEILING)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stderr":
            stderr += content["text"]
        elif kind == "execute_result":
            result = content["data"]["text/plain"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    reply = await kc.get_shell_msg(timeout=CEILING)
    while reply["parent_header"].get("msg_id") != msg_id:  # skip replies to wait_for_ready's kernel_info requests
        reply = await kc.get_shell_msg(timeout=CEILING)
    return reply["content"], stderr, result


async def main():
    config = Config()
    config.KernelRestarter.time_to_dead = 0.25  # how often the restarter polls (the server's default is 3 s)
    km = AsyncIOLoopKernelManager(kernel_name="featurelab", config=config)
    restarted = asyncio.Event()
    await km.start_kernel()
    first = note_pid(km)
    km.start_restarter()
    km.add_restart_callback(restarted.set, "restart")
    report = {}
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=CEILING)
        await run(kc, "let survivor = 41;")
        kc.execute(FILL)
        await asyncio.wait_for(restarted.wait(), CEILING)
        await asyncio.wait_for(replaced(km, first), CEILING)
        second = note_pid(km)
        report["new_pid"] = second != first
        kc.stop_channels()
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=CEILING)
        reply, stderr, result = await run(kc, "1 + 1")
        report["first"] = {"status": reply["status"], "stderr": stderr, "result": result}
        reply, stderr, result = await run(kc, '"again"')
        report["second"] = {"status": reply["status"], "stderr": stderr, "result": result}
        reply, stderr, result = await run(kc, "survivor")
        report["survivor"] = {"status": reply["status"], "evalue": reply.get("evalue")}
        report["alive"] = await km.is_alive()
    finally:
        km.stop_restarter()
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
