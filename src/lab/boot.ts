// Waiting for guests to boot: readiness comes from the guests themselves (their init writes
// "umlperf ready id=gN" to /proc/mconsole, which UML forwards to our notify socket), and a
// guest that exits is reported at once from its process's exit event. Never a sleep.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';

import { abortError, UmlperfError } from '../errors.js';
import { bootFailureCause } from './boot-failure.js';
import { lastLogLine } from './guest.js';
import { NotifyListener, NotifyType, type Notification } from './mconsole.js';

/** An error that names a guest's console log (which outlives the lab's teardown: see lab.ts). */
export type GuestLogError = UmlperfError & { log?: string };
function withLog(e: UmlperfError, log: string): GuestLogError {
  return Object.assign(e, { log });
}

function readLog(file: string): string {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(1024 * 1024);
      return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** A guest that exited during boot: the known cause and its fix when the log shows one. */
export function guestExitError(id: string, status: string, log: string): UmlperfError {
  const cause = bootFailureCause(readLog(log));
  if (cause) return new UmlperfError(cause.code, `guest ${id} exited during boot (${status}): ${cause.message}; console log: ${log}`);
  const last = lastLogLine(log);
  return new UmlperfError('ERR_UMLPERF_GUEST_EXIT',
    `guest ${id} exited during boot (${status}); console log: ${log}${last ? ` (last line: ${last.slice(0, 160)})` : ''}`);
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class BootWatcher {
  private listener: NotifyListener;
  private waiters = new Map<string, Waiter>();
  private early = new Map<string, { ok: boolean; text: string }>();
  /** umid → the mconsole socket UML announced. */
  readonly sockets = new Map<string, string>();

  /** `mode`: of the socket file (guests that run as other uids need write access). */
  constructor(readonly notifyPath: string, mode?: number) {
    this.listener = new NotifyListener(notifyPath, (n) => this.onNotify(n), mode);
  }

  private onNotify(n: Notification): void {
    if (n.type === NotifyType.Socket) {
      const umid = /\/([^/]+)\/mconsole$/.exec(n.text)?.[1];
      if (umid) this.sockets.set(umid, n.text);
      return;
    }
    if (n.type !== NotifyType.User) return;
    const m = /^umlperf (ready|failed) id=(\S+)\s*(.*)$/.exec(n.text.trim());
    if (!m) return;
    const [, what, id, rest] = m;
    const outcome = { ok: what === 'ready', text: rest };
    const w = this.waiters.get(id);
    if (!w) {
      this.early.set(id, outcome);
      return;
    }
    this.waiters.delete(id);
    if (outcome.ok) w.resolve();
    else w.reject(new UmlperfError('ERR_UMLPERF_GUEST_BOOT', `guest ${id} failed to boot: ${outcome.text}`));
  }

  /** Resolves with the boot time in ms (spawn → endpoint ready). */
  wait(id: string, child: ChildProcess, spawnedAt: number, log: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (e?: Error) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(id);
        if (e) reject(e);
        else resolve(Math.round(performance.now() - spawnedAt));
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
        const status = sig ? `signal ${sig}` : `status ${code}`;
        done(withLog(guestExitError(id, status, log), log));
      };
      const onAbort = () => done(abortError());
      if (signal?.aborted) return onAbort();
      const early = this.early.get(id);
      if (early) {
        this.early.delete(id);
        return early.ok ? done() : done(new UmlperfError('ERR_UMLPERF_GUEST_BOOT', `guest ${id} failed to boot: ${early.text}`));
      }
      if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode, child.signalCode);
      timer = setTimeout(() => done(withLog(new UmlperfError('ETIMEDOUT',
        `guest ${id} not ready after ${Math.round(timeoutMs / 1000)} s; console log: ${log}`), log)), timeoutMs);
      child.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(id, { resolve: () => done(), reject: (e) => done(e) });
    });
  }

  close(): void {
    this.listener.close();
  }
}
