// Where `umlperf paper` keeps every result's JSON before it renders anything: a directory only
// its owner can enter (root: /var/lib/umlperf/results), files made with O_EXCL|O_NOFOLLOW, the
// newest few kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PaperResult } from '../src/paper/model.js';
import { paperJson } from '../src/report/paper.js';

const KEEP = 20;

export function resultsDir(): string {
  if (process.env.UMLPERF_RESULTS_DIR) return process.env.UMLPERF_RESULTS_DIR;
  return process.getuid?.() === 0 ? '/var/lib/umlperf/results' : path.join(os.homedir(), '.local', 'state', 'umlperf', 'results');
}

/** A directory of ours: made 0700 if missing; refused if a symlink, not ours or open to others. */
function privateDir(dir: string): boolean {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
}

/** Saves the whole result (samples too, so every report can be made from it); its path, or undefined with a warning. */
export function saveResult(r: PaperResult, dir = resultsDir()): string | undefined {
  try {
    if (!privateDir(dir)) {
      process.stderr.write(`umlperf paper: not saving the result in ${dir}: not a private directory of this user\n`);
      return undefined;
    }
    const stamp = r.startedAt.replace(/[:.]/g, '-');
    const file = path.join(dir, `paper-${stamp}-${process.pid}.json`);
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
    const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      fs.writeFileSync(fd, paperJson(r, true));
    } finally {
      fs.closeSync(fd);
    }
    prune(dir);
    return file;
  } catch (e) {
    process.stderr.write(`umlperf paper: could not save the result in ${dir}: ${(e as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
}

function prune(dir: string): void {
  const old = fs.readdirSync(dir).filter((f) => /^paper-.*\.json$/.test(f)).sort().reverse().slice(KEEP);
  for (const f of old) fs.rmSync(path.join(dir, f), { force: true });
}
