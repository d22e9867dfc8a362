// A one-shot guest: a static program of ours runs as the guest's init on a hostfs root that
// holds only that program, prints to the console and powers the guest off. No network, no
// image, boots in well under a second: for checks of the guest kernel itself (vector state,
// system-call cost) rather than of the lab.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { abortError } from '../errors.js';
import { FAST_BOOT_ARGS } from './guest.js';
import { DEFAULT_KERNEL } from './kernel.js';

export interface OneShotOptions {
  /** A static executable: it becomes /init of the guest. */
  program: string;
  args?: string[];
  kernel?: string;
  mem?: string;
  /** Extra environment for the UML process (e.g. LD_PRELOAD). */
  env?: NodeJS.ProcessEnv;
  /** Ends the guest (SIGKILL to its process group) after this long. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface OneShotResult {
  /** UML's exit status (0 after the program powered the guest off). */
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The whole console log. */
  log: string;
  timedOut: boolean;
}

export async function runOneShotGuest(o: OneShotOptions): Promise<OneShotResult> {
  if (o.signal?.aborted) throw abortError();
  // mkdtemp: a fresh 0700 directory, so nothing here is at a predictable path.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umlperf-oneshot-'));
  try {
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'dev'), { recursive: true });
    fs.copyFileSync(o.program, path.join(root, 'init'));
    fs.chmodSync(path.join(root, 'init'), 0o755);
    const logFile = path.join(dir, 'console.log');
    const log = fs.openSync(logFile, 'wx');
    const umid = `os${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const child = spawn(o.kernel ?? DEFAULT_KERNEL, [
      `umid=${umid}`, `uml_dir=${dir}`, `mem=${o.mem ?? '64M'}`, 'con0=null,fd:1', 'con=null', 'ssl=null',
      'rootfstype=hostfs', `rootflags=${root}`, 'ro', ...FAST_BOOT_ARGS, 'init=/init', ...(o.args?.length ? ['--', ...o.args] : []),
    ], { detached: true, stdio: ['ignore', log, log], env: { PATH: process.env.PATH, TMPDIR: '/dev/shm', ...o.env } });
    fs.closeSync(log);
    let timedOut = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs);
    o.signal?.addEventListener('abort', kill, { once: true });
    const [status, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.on('exit', (code, s) => resolve([code, s]));
      child.on('error', () => resolve([null, null]));
    });
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', kill);
    // The kernel's helper processes share the group: none may outlive the guest.
    kill();
    if (o.signal?.aborted) throw abortError();
    return { status, signal: sig, log: fs.readFileSync(logFile, 'latin1'), timedOut };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
