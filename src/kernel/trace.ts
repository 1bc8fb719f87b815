// Start-up tracing: with FEATURELAB_KERNEL_TRACE=1 the kernel logs when each step of its start and of
// each request is reached (epoch milliseconds, on the kernel's log), which bench/kernel-start.py
// turns into a timeline against the moment it launched the kernel.
import { writeSync } from "node:fs";
import { threadId } from "node:worker_threads";

const ON = process.env.FEATURELAB_KERNEL_TRACE === "1";

export function trace(step: string): void {
  if (!ON) return;
  try {
    writeSync(2, `featurelab trace ${Date.now()} thread=${threadId} ${step}\n`);
  } catch {}
}
