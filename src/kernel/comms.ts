// Comms: long-lived two-way channels between kernel code and the page (comm_open / comm_msg /
// comm_close, comm_info_request). Code registers a target by name; when the page opens a comm to
// it, the target's handler gets the comm, and both sides can then send messages until one closes it.
// The kernel can open comms to the page's targets too.
import { randomUUID } from "node:crypto";
import type { Envelope } from "./wire.js";
import type { Link, Parent } from "./link.js";
import { kernelLog } from "./link.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** The options of a comm message (Jupyter's metadata and binary buffers). */
export interface CommSendOptions {
  metadata?: Record<string, unknown>;
  buffers?: Uint8Array[];
}

const SEND_OPTIONS = optionNames<CommSendOptions>({ metadata: true, buffers: true });

export interface CommMessage {
  data: unknown;
  metadata: Record<string, unknown>;
  buffers: Uint8Array[];
}

export type CommTargetHandler = (comm: Comm, open: CommMessage) => void | Promise<void>;

export class Comm {
  private msgHandlers: ((m: CommMessage) => void | Promise<void>)[] = [];
  private closeHandlers: ((m: CommMessage) => void | Promise<void>)[] = [];
  closed = false;

  constructor(
    readonly id: string,
    readonly targetName: string,
    private readonly comms: Comms,
  ) {}

  /** Send data to the page's side of this comm. */
  send(data: unknown, opts: CommSendOptions = {}): void {
    rejectUnknownOptions("comm.send", opts, SEND_OPTIONS);
    if (this.closed) throw new Error(`comm ${this.id} (${this.targetName}) is closed`);
    this.comms.publish("comm_msg", { comm_id: this.id, data: data ?? {} }, opts);
  }

  /** Close the comm (the page's side hears of it). */
  close(data?: unknown, opts: CommSendOptions = {}): void {
    rejectUnknownOptions("comm.close", opts, SEND_OPTIONS);
    if (this.closed) return;
    this.closed = true;
    this.comms.forget(this.id);
    this.comms.publish("comm_close", { comm_id: this.id, data: data ?? {} }, opts);
  }

  onMsg(handler: (m: CommMessage) => void | Promise<void>): this {
    this.msgHandlers.push(handler);
    return this;
  }

  onClose(handler: (m: CommMessage) => void | Promise<void>): this {
    this.closeHandlers.push(handler);
    return this;
  }

  /** @internal */
  async deliver(kind: "msg" | "close", m: CommMessage): Promise<void> {
    if (kind === "close") this.closed = true;
    for (const h of kind === "msg" ? this.msgHandlers : this.closeHandlers) await h(m);
  }
}

export class Comms {
  private targets = new Map<string, CommTargetHandler>();
  private open = new Map<string, Comm>();
  /** The request being handled (comm messages it causes are its children on IOPub). */
  private parent: () => Parent;

  constructor(
    private readonly link: Link,
    parent: () => Parent,
    private readonly report: (err: unknown, where: string) => void,
  ) {
    this.parent = parent;
  }

  registerTarget(name: string, handler: CommTargetHandler): void {
    this.targets.set(name, handler);
  }

  unregisterTarget(name: string): void {
    this.targets.delete(name);
  }

  /** Open a comm to a target the page registered. */
  openComm(targetName: string, data?: unknown, opts: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] } = {}): Comm {
    const comm = new Comm(randomUUID().replace(/-/g, ""), targetName, this);
    this.open.set(comm.id, comm);
    this.publish("comm_open", { comm_id: comm.id, target_name: targetName, data: data ?? {} }, opts);
    return comm;
  }

  /** @internal */
  publish(msgType: string, content: Record<string, unknown>, opts: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] }): void {
    this.link.publish(msgType, content, this.parent(), opts);
  }

  /** @internal */
  forget(id: string): void {
    this.open.delete(id);
  }

  /** The target of an open comm (undefined: no such comm). */
  targetOf(id: string): string | undefined {
    return this.open.get(id)?.targetName;
  }

  /** comm_info_request: the open comms, all or those of one target. */
  info(targetName?: string): Record<string, { target_name: string }> {
    const out: Record<string, { target_name: string }> = {};
    for (const c of this.open.values()) if (!targetName || c.targetName === targetName) out[c.id] = { target_name: c.targetName };
    return out;
  }

  private static message(env: Envelope): CommMessage {
    return { data: env.msg.content.data ?? {}, metadata: env.msg.metadata ?? {}, buffers: env.msg.buffers ?? [] };
  }

  async handle(env: Envelope): Promise<void> {
    const { msg_type } = env.msg.header;
    const content = env.msg.content;
    const id = String(content.comm_id ?? "");
    try {
      if (msg_type === "comm_open") {
        const handler = this.targets.get(String(content.target_name));
        if (!handler) {
          kernelLog(`no comm target "${content.target_name}"; closing comm ${id}`);
          this.publish("comm_close", { comm_id: id, data: {} }, {});
          return;
        }
        const comm = new Comm(id, String(content.target_name), this);
        this.open.set(id, comm);
        await handler(comm, Comms.message(env));
      } else if (msg_type === "comm_msg") {
        const comm = this.open.get(id);
        if (!comm) kernelLog(`comm_msg for unknown comm ${id}`);
        else await comm.deliver("msg", Comms.message(env));
      } else if (msg_type === "comm_close") {
        const comm = this.open.get(id);
        this.open.delete(id);
        await comm?.deliver("close", Comms.message(env));
      }
    } catch (err) {
      this.report(err, `${msg_type} (${content.target_name ?? this.open.get(id)?.targetName ?? id})`);
    }
  }
}
