// UML's management console over the addon's AF_UNIX datagram socket. Wire format (Linux,
// arch/um/include/shared/mconsole.h), in host byte order:
//   request {u32 magic=0xcafebabe, u32 version=2, u32 len, char data[512]}
//   reply   {u32 err, u32 more, u32 len, char data[512]}       (more=1: another part follows)
//   notify  {u32 magic, u32 version, u32 type, u32 len, char data[512]}
// A guest's mconsole socket is a filesystem path (<uml_dir>/<umid>/mconsole); our side binds a
// filesystem path too, since abstract names are per network namespace.
import fs from 'node:fs';
import os from 'node:os';

import { UmlperfError } from '../errors.js';
import { native, type NativeUnixDgramSocket } from '../native.js';

export const MCONSOLE_MAGIC = 0xcafebabe;
export const MCONSOLE_VERSION = 2;
export const MCONSOLE_MAX_DATA = 512;

export enum NotifyType {
  Socket = 0,
  Panic = 1,
  Hang = 2,
  User = 3,
}

const le = os.endianness() === 'LE';
const u32 = (b: Buffer, off: number) => (le ? b.readUInt32LE(off) : b.readUInt32BE(off));
const putU32 = (b: Buffer, v: number, off: number) => (le ? b.writeUInt32LE(v, off) : b.writeUInt32BE(v, off));
const cstr = (b: Buffer) => {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
};

export function encodeRequest(command: string): Buffer {
  const data = Buffer.from(command, 'utf8');
  if (data.length >= MCONSOLE_MAX_DATA) throw new UmlperfError('EINVAL', `mconsole command too long (${data.length} bytes)`);
  const b = Buffer.alloc(12 + MCONSOLE_MAX_DATA);
  putU32(b, MCONSOLE_MAGIC, 0);
  putU32(b, MCONSOLE_VERSION, 4);
  putU32(b, data.length, 8);
  data.copy(b, 12);
  return b;
}

export interface McReplyPart {
  err: number;
  more: boolean;
  text: string;
}
export function decodeReply(b: Buffer): McReplyPart {
  if (b.length < 12) throw new UmlperfError('ERR_UMLPERF_MCONSOLE', `short mconsole reply (${b.length} bytes)`);
  const len = Math.min(u32(b, 8), b.length - 12, MCONSOLE_MAX_DATA);
  return { err: u32(b, 0), more: u32(b, 4) !== 0, text: cstr(b.subarray(12, 12 + len)) };
}

export interface Notification {
  type: NotifyType;
  text: string;
}
export function decodeNotify(b: Buffer): Notification | undefined {
  if (b.length < 16 || u32(b, 0) !== MCONSOLE_MAGIC || u32(b, 4) !== MCONSOLE_VERSION) return undefined;
  const len = Math.min(u32(b, 12), b.length - 16, MCONSOLE_MAX_DATA);
  return { type: u32(b, 8) as NotifyType, text: cstr(b.subarray(16, 16 + len)) };
}

export interface McReply {
  ok: boolean;
  text: string;
}

let seq = 0;

/** A client of one guest's mconsole. Requests go one at a time; each has a timeout. */
export class Mconsole {
  private sock: NativeUnixDgramSocket;
  private pending?: { parts: string[]; resolve: (r: McReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `target`: the guest's mconsole socket; `dir`: where our own socket goes; `mode`: its
   * permissions (a guest that runs as another uid needs write access to answer; `dir` must
   * then be a root directory that only the lab's guests can enter).
   */
  constructor(readonly target: string, dir: string, mode?: number) {
    const own = `${dir}/mc-${process.pid}-${++seq}.sock`;
    this.sock = new (native().UnixDgramSocket)(own, (data) => this.onReply(data));
    this.sock.unref();
    if (mode !== undefined) fs.chmodSync(own, mode);
  }

  private onReply(data: Buffer): void {
    const p = this.pending;
    if (!p) return;
    let part: McReplyPart;
    try {
      part = decodeReply(data);
    } catch (e) {
      return this.settle(undefined, e as Error);
    }
    p.parts.push(part.text);
    if (!part.more) this.settle({ ok: part.err === 0, text: p.parts.join('') });
  }

  private settle(r?: McReply, e?: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    this.sock.unref();
    if (e) p.reject(e);
    else p.resolve(r!);
  }

  /** Sends one command; resolves with UML's reply (ok=false: UML refused it). */
  request(command: string, timeoutMs = 2000): Promise<McReply> {
    const next = this.queue.then(
      () =>
        new Promise<McReply>((resolve, reject) => {
          const timer = setTimeout(
            () => this.settle(undefined, new UmlperfError('ETIMEDOUT', `mconsole ${this.target}: no reply to "${command}" in ${timeoutMs} ms`)),
            timeoutMs,
          );
          this.pending = { parts: [], resolve, reject, timer };
          this.sock.ref();
          try {
            this.sock.sendTo(encodeRequest(command), this.target);
          } catch (e) {
            this.settle(undefined, e as Error);
          }
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  version(): Promise<McReply> { return this.request('version'); }
  halt(): Promise<McReply> { return this.request('halt'); }
  reboot(): Promise<McReply> { return this.request('reboot'); }
  /** Ctrl-alt-del: the guest's init gets SIGINT and shuts down. */
  cad(): Promise<McReply> { return this.request('cad'); }
  sysrq(key: string): Promise<McReply> { return this.request(`sysrq ${key}`); }
  config(spec: string): Promise<McReply> { return this.request(`config ${spec}`); }
  remove(device: string): Promise<McReply> { return this.request(`remove ${device}`); }
  /** Reads a file under the guest's /proc. */
  proc(file: string): Promise<McReply> { return this.request(`proc ${file}`); }
  log(text: string): Promise<McReply> { return this.request(`log ${text}`); }

  close(): void {
    this.settle(undefined, new UmlperfError('ERR_UMLPERF_MCONSOLE', 'mconsole client closed'));
    this.sock.close();
  }
}

/** The socket that guests' `mconsole=notify:PATH` messages arrive on. */
export class NotifyListener {
  private sock: NativeUnixDgramSocket;
  constructor(readonly path: string, onNotify: (n: Notification) => void, mode?: number) {
    this.sock = new (native().UnixDgramSocket)(path, (data) => {
      const n = decodeNotify(data);
      if (n) onNotify(n);
    });
    this.sock.unref();
    if (mode !== undefined) fs.chmodSync(path, mode);
  }
  close(): void {
    this.sock.close();
  }
}
