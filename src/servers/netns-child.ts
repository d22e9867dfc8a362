// Runs client-main.ts inside a network namespace as a child process (`ip netns exec`), with
// a hard time limit, and returns its one-line JSON result. One child per health wait or
// benchmark (~50 ms of Node start-up), not per request.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { UmlperfError } from '../errors.js';
import { inCgroupArgs } from '../lab/cgroup.js';
import { startTimeOf } from '../lab/process.js';
import { packageRoot } from '../native.js';
import type { BenchJob, HealthJob } from './client-main.js';

export function clientMainPath(): string {
  return path.join(packageRoot, 'dist', 'src', 'servers', 'client-main.js');
}

export interface ClientJobPlacement {
  /** `cgroup.procs` files the child joins before it starts (a lab's cgroup leaf). */
  cgroupProcs?: string[];
  /**
   * Called with the child's pid (and start time) right after the spawn: the child then leads a
   * process group of its own, so a record of it can end it after a crash of ours.
   */
  onSpawn?: (pid: number, startTime: string) => void;
}

export function runClientJob<T>(netns: string, job: HealthJob | BenchJob, timeoutMs: number, signal?: AbortSignal, place: ClientJobPlacement = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = inCgroupArgs(place.cgroupProcs ?? [], ['ip', 'netns', 'exec', netns, process.execPath, clientMainPath(), JSON.stringify(job)]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: !!place.onSpawn });
    if (place.onSpawn && child.pid !== undefined) place.onSpawn(child.pid, startTimeOf(child.pid));
    let out = '';
    let err = '';
    let killedFor: string | undefined;
    const kill = (why: string) => {
      killedFor = why;
      try {
        if (place.onSpawn && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // gone already
      }
    };
    const timer = setTimeout(() => kill(`took longer than ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => kill('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (killedFor === 'aborted') {
        const e = new Error('the operation was aborted') as Error & { code: string };
        e.name = 'AbortError';
        e.code = 'ABORT_ERR';
        return reject(e);
      }
      if (code !== 0 || killedFor) {
        const why = killedFor ?? `exited with status ${code}`;
        return reject(new UmlperfError('ERR_UMLPERF_CLIENT', `client in netns ${netns} ${why}: ${err.trim().split('\n').pop() ?? ''}`));
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new UmlperfError('ERR_UMLPERF_CLIENT', `client in netns ${netns} printed no result`));
      }
    });
  });
}
