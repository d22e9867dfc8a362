// Test plumbing for labs: unique names, and the check that a lab left nothing behind.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

import { labDir } from '../src/lab/names.js';
import { isAlive } from '../src/lab/process.js';
import { readState, type ProcessRecord } from '../src/lab/state.js';

/** A lab name no other test (or test run) uses: a letter, the pid, a tag (≤ 10 characters). */
export function uniqueLab(tag: string): string {
  return `t${(process.pid % 100000).toString(36)}${tag}`.slice(0, 10);
}

/** The processes a lab recorded, read while it is up (for the leftover check after). */
export function recordedProcesses(lab: string): ProcessRecord[] {
  return readState(lab)?.processes ?? [];
}

/** What a lab left behind: namespaces, its run directory, guests, recorded processes. */
export function leftovers(lab: string, recorded: ProcessRecord[] = []): string[] {
  const left: string[] = [];
  for (const ns of [`${lab}-client`, `${lab}-host`]) if (fs.existsSync(`/run/netns/${ns}`)) left.push(`netns ${ns}`);
  if (fs.existsSync(labDir(lab))) left.push(`dir ${labDir(lab)}`);
  const ps = spawnSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' }).stdout;
  for (const line of ps.split('\n')) {
    if (line.includes(`uml_dir=${labDir(lab)} `) && !/^\s*\d+\s+Z/.test(line)) left.push(`process ${line.trim().slice(0, 80)}`);
  }
  for (const p of recorded) if (isAlive(p)) left.push(`recorded ${p.role} ${p.id} pid ${p.pid}`);
  return left;
}

/** Polls `cond` every 20 ms up to `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}
