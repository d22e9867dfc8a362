// Processes the lab started, identified by PID + start time and ended only by their recorded
// process group: never by name.
import fs from 'node:fs';

import { pollUntil } from '../wait.js';
import type { ProcessRecord } from './state.js';

interface Stat {
  state: string;
  pgrp: number;
  startTime: string;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], pgrp: Number(rest[2]), startTime: rest[19] };
}

export function startTimeOf(pid: number): string {
  return stat(pid)?.startTime ?? '';
}

/** True while the recorded process itself (not a reuse of its PID) runs and is not a zombie. */
export function isAlive(p: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  const s = stat(p.pid);
  return !!s && s.state !== 'Z' && s.state !== 'X' && (!p.startTime || s.startTime === p.startTime);
}

/** Members of the recorded group that still run (the leader may be gone). */
function groupAlive(p: ProcessRecord): boolean {
  if (isAlive(p)) return true;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return false;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const s = stat(Number(e));
    // Started no earlier than our leader: not an older process that happens to share the number.
    if (s && s.pgrp === p.pgid && s.state !== 'Z' && BigInt(s.startTime) >= BigInt(p.startTime || '0')) return true;
  }
  return false;
}

export function signalGroup(p: ProcessRecord, signal: NodeJS.Signals): void {
  if (!groupAlive(p)) return;
  try {
    process.kill(-p.pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Waits until the group is gone; false on timeout. Polls every 20 ms (no pidfd in Node). */
export function waitGone(p: ProcessRecord, timeoutMs: number): Promise<boolean> {
  return pollUntil(() => !groupAlive(p), { timeoutMs, intervalMs: 20 });
}

/** SIGTERM (or nothing, when `graceMs` is 0), then SIGKILL to the group; waits for it to end. */
export async function endGroup(p: ProcessRecord, graceMs: number): Promise<boolean> {
  if (graceMs > 0) {
    signalGroup(p, 'SIGTERM');
    if (await waitGone(p, graceMs)) return true;
  }
  signalGroup(p, 'SIGKILL');
  return waitGone(p, 3000);
}
