// Input from the notebook's user: the stdin channel's input_request / input_reply (Jupyter's
// `input()`), asked on behalf of the cell that runs. The I/O thread owns the sockets, so the main
// thread can wait for the answer synchronously — `prompt()` and `confirm()` block the cell as they
// do in a browser or Deno — by sleeping on a shared counter (Atomics.wait) that the I/O thread bumps
// when the reply arrives, or when an interrupt or shutdown ends the wait.
import type { Link } from "./link.js";
import type { Envelope } from "./wire.js";

/** The execute request a cell runs for: input is asked of the client that sent it. */
interface Asker {
  env: Envelope;
  allowStdin: boolean;
}

function stdinError(message: string): Error {
  const err = new Error(message);
  err.name = "StdinNotImplementedError";
  return err;
}

function interrupted(): Error {
  // The code tslab's executor gives an interrupted cell: the kernel reports it as an interrupt.
  return Object.assign(new Error("interrupted while waiting for input"), { code: "ERR_SCRIPT_EXECUTION_INTERRUPTED" });
}

export class Stdin {
  private asker?: Asker;
  private waiting = false;

  constructor(private readonly link: Link) {}

  /** A cell starts running for this execute request (until `end`). */
  begin(env: Envelope): void {
    this.asker = { env, allowStdin: env.msg.content.allow_stdin === true };
  }

  end(): void {
    this.asker = undefined;
  }

  private check(what: string): Asker {
    const asker = this.asker;
    if (!asker) throw stdinError(`${what} asks the notebook for input, which only works while a cell runs (not in a callback after it finished)`);
    if (!asker.allowStdin) throw stdinError(`${what} asks the notebook for input, but this frontend does not accept input (its execute_request says allow_stdin: false)`);
    if (this.waiting) throw stdinError(`${what} asks the notebook for input while another input request waits for its answer`);
    return asker;
  }

  private ended(reason: "interrupt" | "exit"): Error {
    if (reason === "exit") return stdinError("the kernel is shutting down");
    // The main thread heard this interrupt: the I/O thread need not escalate it.
    this.link.ackInterrupt();
    return interrupted();
  }

  /** Ask for a line of text, blocking until the answer comes. */
  read(prompt: string, password: boolean, what = "input"): string {
    const asker = this.check(what);
    this.waiting = true;
    try {
      const answer = this.link.input(asker.env, prompt, password);
      if ("value" in answer) return answer.value;
      throw this.ended(answer.reason);
    } finally {
      this.waiting = false;
    }
  }

  /** Ask for a line of text; the event loop keeps running while the question waits. */
  async readAsync(prompt: string, password: boolean, what = "input"): Promise<string> {
    const asker = this.check(what);
    this.waiting = true;
    try {
      const answer = await this.link.inputAsync(asker.env, prompt, password);
      if ("value" in answer) return answer.value;
      throw this.ended(answer.reason);
    } finally {
      this.waiting = false;
    }
  }
}
