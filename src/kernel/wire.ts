// The Jupyter wire protocol: the connection file, HMAC signatures, and messages ⇄ ZeroMQ frames.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = "<IDS|MSG>";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  kernel_name?: string;
}

export type Channel = "shell" | "control" | "iopub" | "stdin";

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message {
  header: Header;
  /** The header of the request this message answers or was caused by; {} when none. */
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Record<string, any>;
  buffers: Uint8Array[];
}

/** A message with the ZeroMQ routing identities it came with (ROUTER sockets) or goes to. */
export interface Envelope {
  idents: Uint8Array[];
  msg: Message;
}

export function readConnectionFile(path: string): ConnectionInfo {
  const info = JSON.parse(readFileSync(path, "utf8")) as ConnectionInfo;
  for (const port of ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"] as const) {
    if (!Number.isInteger(info[port])) throw new Error(`featurelab kernel: ${path} has no ${port}`);
  }
  return { ...info, transport: info.transport ?? "tcp", ip: info.ip ?? "127.0.0.1", key: info.key ?? "", signature_scheme: info.signature_scheme || "hmac-sha256" };
}

/** The ZeroMQ address a socket binds to: tcp://ip:port, or ipc://ip-port as jupyter_client names them. */
export function address(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `${info.transport}://${info.ip}:${port}`;
}

/** Signs and checks messages with the connection file's key; an empty key means no signing. */
export class Signer {
  private readonly algorithm: string;
  constructor(
    scheme: string,
    private readonly key: string,
  ) {
    const m = /^hmac-(.+)$/.exec(scheme);
    if (!m) throw new Error(`featurelab kernel: unsupported signature scheme ${scheme}`);
    this.algorithm = m[1];
  }

  sign(parts: (string | Uint8Array)[]): string {
    if (!this.key) return "";
    const h = createHmac(this.algorithm, this.key);
    for (const p of parts) h.update(p);
    return h.digest("hex");
  }

  verify(signature: string, parts: (string | Uint8Array)[]): boolean {
    if (!this.key) return true;
    const want = Buffer.from(this.sign(parts));
    const got = Buffer.from(signature);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

export function newHeader(msgType: string, session: string): Header {
  return { msg_id: randomUUID(), session, username: "featurelab", date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION };
}

/** Frames received on a socket → the message, or an error saying why it was refused. */
export function decode(frames: Uint8Array[], signer: Signer): Envelope {
  const at = frames.findIndex((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString() === DELIMITER);
  if (at < 0 || frames.length < at + 6) throw new Error("malformed message: no <IDS|MSG> delimiter or missing parts");
  const signature = Buffer.from(frames[at + 1]).toString();
  const parts = frames.slice(at + 2, at + 6);
  if (!signer.verify(signature, parts)) throw new Error("invalid signature");
  const [header, parent, metadata, content] = parts.map((p) => JSON.parse(Buffer.from(p).toString() || "{}"));
  return {
    idents: frames.slice(0, at),
    msg: { header, parent_header: parent ?? {}, metadata: metadata ?? {}, content: content ?? {}, buffers: frames.slice(at + 6) },
  };
}

/** A message → the frames to send, signed. */
export function encode(env: Envelope, signer: Signer): (Uint8Array | string)[] {
  const { msg } = env;
  const parts = [json(msg.header), json(msg.parent_header ?? {}), json(msg.metadata ?? {}), json(msg.content ?? {})];
  return [...env.idents, DELIMITER, signer.sign(parts), ...parts, ...(msg.buffers ?? [])];
}

/** JSON for the wire: bigints as numbers when exact (strings otherwise); NaN/±Infinity become null as JSON says. */
function json(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v));
}
