"""Kernel start-up, featurelab against ipykernel, measured in one run through jupyter_client.

For each kernel and repetition: launch, time to kernel_info_reply (wait_for_ready), time to the first
result of `1+1`, and — in a fresh kernel — time to the first result of a cell that imports the
library (featurelab; numpy for ipykernel). Prints medians and the ratios the README quotes; with
--trace, featurelab's own timeline (FEATURELAB_KERNEL_TRACE) for the last run.

    /usr/bin/python3 bench/kernel-start.py [--reps 5] [--trace]
"""
import argparse
import os
import re
import statistics
import sys
import time

from jupyter_client.manager import KernelManager

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def launch(name, env):
    t0 = time.time()
    km = KernelManager(kernel_name=name)
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc, t0, time.time() - t0


def run(kc, code):
    reply = kc.execute_interactive(code, timeout=120, output_hook=lambda m: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{code!r} failed: {reply['content']}")


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def measure(name, import_cell, env):
    km, kc, t0, ready = launch(name, env)
    run(kc, "1+1")
    first = time.time() - t0
    stop(km, kc)
    km, kc, t0, _ = launch(name, env)
    run(kc, import_cell)
    first_import = time.time() - t0
    stop(km, kc)
    return ready, first, first_import


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--trace", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.path.join(REPO, "jupyter") + os.pathsep + env.get("JUPYTER_PATH", "")
    os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]
    kernels = [("python3", "import numpy"), ("featurelab", 'import * as fl from "featurelab"')]
    results = {k: [] for k, _ in kernels}
    # Warm both once (file-system caches, V8's code cache), then alternate so load affects both alike.
    for name, cell in kernels:
        measure(name, cell, env)
    for _ in range(args.reps):
        for name, cell in kernels:
            results[name].append(measure(name, cell, env))
    med = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in results.items()}
    print(f"{'kernel':12s} {'kernel_info':>12s} {'first 1+1':>10s} {'first import cell':>18s}   (median of {args.reps}, seconds from launch)")
    for k, (a, b, c) in med.items():
        print(f"{k:12s} {a:12.2f} {b:10.2f} {c:18.2f}")
    fl, py = med["featurelab"], med["python3"]
    print(f"ratio featurelab / ipykernel: kernel_info {fl[0] / py[0]:.2f}, first 1+1 {fl[1] / py[1]:.2f}")
    print(f"featurelab: a first `import * as fl from \"featurelab\"` cell answers {fl[2] - fl[1]:.2f} s after a first `1+1` would")
    if args.trace:
        timeline(env)


def timeline(env):
    env = dict(env, FEATURELAB_KERNEL_TRACE="1")
    for cell in ("1+1", 'import * as fl from "featurelab"'):
        log = os.path.join(REPO, "out", "kernel-start-trace.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as f:
            km = KernelManager(kernel_name="featurelab")
            t0 = time.time()
            km.start_kernel(env=env, stderr=f)
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=120)
            ready = time.time()
            run(kc, cell)
            done = time.time()
            stop(km, kc)
        print(f"\ntimeline of a first {cell!r} (ms from launch):")
        print(f"  {int((ready - t0) * 1000):6d}  kernel_info_reply received by the client")
        for line in open(log):
            m = re.match(r"featurelab trace (\d+) thread=(\d+) (.*)", line)
            if m:
                print(f"  {int(m.group(1)) - int(t0 * 1000):6d}  [{'main' if m.group(2) == '0' else 'thread ' + m.group(2)}] {m.group(3)}")
        print(f"  {int((done - t0) * 1000):6d}  result received by the client")


if __name__ == "__main__":
    sys.exit(main())
