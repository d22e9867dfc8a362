// Running a command inside a guest, over the exec channel (see guest/init.ts): a UML console
// line attached to two root-only FIFOs of the lab, served by our guest init. Nothing of it is
// reachable from the lab's network. One request at a time per guest (a lock file), each with a
// deadline on both sides.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

import { abortError, UmlperfError, UsageError } from '../errors.js';
import { EXEC_MAX_OUTPUT } from '../guest/init.js';
import { isAlive, startTimeOf } from './process.js';
import type { GuestRecord } from './state.js';

export interface GuestExecOptions {
  /** Deadline for the command (it is killed in the guest), default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface GuestExecResult {
  /** Exit status (128+N when killed by signal N: 137 when the deadline killed it). */
  status: number;
  stdout: Buffer;
  stderr: Buffer;
  /**
   * True when the guest's agent could not start a program for the request or write its reply
   * (a guest out of processes or memory): status is then EXEC_LOST_STATUS (125), stderr says why, and the
   * command's own result, if it ran, is lost. Absent otherwise, so a command that itself exits
   * 125 is told apart.
   */
  lost?: true;
}

/** The tty's input buffer holds 4 KiB: a request (base64 + header) must fit in one line. */
const MAX_REQUEST = 3800;

/** One shell word per argument: the guest runs `sh` on the result. */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

export function encodeExecRequest(nonce: string, timeoutS: number, script: string): string {
  const line = `UMLPERF-EXEC ${nonce} ${timeoutS} ${Buffer.from(script, 'utf8').toString('base64')}\n`;
  if (line.length > MAX_REQUEST) throw new UsageError(`guest exec: command too long (${line.length} bytes encoded; at most ${MAX_REQUEST})`);
  return line;
}

/** Parses the agent's reply for `nonce` from what has arrived; undefined until END is there. */
export function parseExecReply(text: string, nonce: string): GuestExecResult | undefined {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const start = lines.lastIndexOf(`UMLPERF-OUT ${nonce}`);
  if (start < 0) return undefined;
  const errAt = lines.indexOf(`UMLPERF-ERR ${nonce}`, start);
  const endAt = lines.findIndex((l, i) => i > errAt && l.startsWith(`UMLPERF-END ${nonce} `));
  if (errAt < 0 || endAt < 0) return undefined;
  const b64 = (a: number, b: number) => Buffer.from(lines.slice(a + 1, b).join(''), 'base64');
  const [, , word, flag] = lines[endAt].split(' ');
  const status = Number(word);
  const r: GuestExecResult = { status: Number.isInteger(status) ? status : 255, stdout: b64(start, errAt), stderr: b64(errAt, endAt) };
  if (flag === 'lost') r.lost = true;
  return r;
}

function takeLock(file: string): () => void {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      fs.writeSync(fd, `${process.pid} ${startTimeOf(process.pid)}\n`);
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const [pid, st] = fs.readFileSync(file, 'utf8').trim().split(' ');
      if (Number(pid) > 0 && isAlive({ pid: Number(pid), startTime: st ?? '' }))
        throw new UmlperfError('EBUSY', `another exec runs in this guest (pid ${pid})`);
      fs.rmSync(file, { force: true });  // its holder is gone
    }
  }
  throw new UmlperfError('EBUSY', 'cannot lock the guest exec channel');
}

/** Runs argv (a command and its arguments, as with execve) in the guest; never throws for a non-zero status. */
export async function guestExec(g: Pick<GuestRecord, 'id' | 'exec'>, argv: string[], o: GuestExecOptions = {}): Promise<GuestExecResult> {
  if (!argv.length) throw new UsageError('guest exec: name a command');
  const timeoutMs = o.timeoutMs ?? 60_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs >= 1000 && timeoutMs <= 3_600_000)) throw new UsageError(`guest exec: bad timeout ${timeoutMs} ms (1 s to 1 h)`);
  if (o.signal?.aborted) throw abortError();
  const nonce = randomBytes(8).toString('hex');
  const request = encodeExecRequest(nonce, Math.ceil(timeoutMs / 1000), shellQuote(argv));
  const unlock = takeLock(`${g.exec.in}.lock`);
  let sock: net.Socket | undefined;
  let wfd: number | undefined;
  try {
    const rfd = fs.openSync(g.exec.out, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    sock = new net.Socket({ fd: rfd, readable: true, writable: false });
    wfd = fs.openSync(g.exec.in, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    const s = sock;
    const result = new Promise<GuestExecResult>((resolve, reject) => {
      let text = '';
      // The reply may be as long as the two outputs in base64, plus line breaks.
      const cap = 3 * EXEC_MAX_OUTPUT + 65536;
      const timer = setTimeout(() => finish(new UmlperfError('ETIMEDOUT', `guest ${g.id}: no exec reply in ${timeoutMs + 5000} ms`)), timeoutMs + 5000);
      const onAbort = () => finish(abortError());
      o.signal?.addEventListener('abort', onAbort, { once: true });
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        text += d;
        if (text.length > cap) text = text.slice(text.length - cap);
        if (!d.includes('\n')) return;
        const r = parseExecReply(text, nonce);
        if (r) finish(undefined, r);
      });
      s.on('error', (e) => finish(e));
      function finish(e?: Error, r?: GuestExecResult) {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve(r!);
      }
    });
    fs.writeSync(wfd, request);
    return await result;
  } finally {
    sock?.destroy();
    if (wfd !== undefined) fs.closeSync(wfd);
    unlock();
  }
}
