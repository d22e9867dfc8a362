// Console logs of guests that failed, kept after their lab is gone: in root's own 0700
// directory (never a shared one such as /tmp, where anyone may plant a symlink), each in a fresh
// file made with O_EXCL|O_NOFOLLOW under a name nobody can predict, the newest KEPT_LOGS only.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { UmlperfError } from '../errors.js';
import { DATA_ROOT, KEPT_LOGS_DIR } from './names.js';

/** How many failed guests' console logs are kept in KEPT_LOGS_DIR (the oldest go first). */
export const KEPT_LOGS = 20;
const TAIL_BYTES = 4 << 20;

/** Copies `src` (its last 4 MiB) to a fresh file in `dir`; keeps the newest KEPT_LOGS there. */
export function keepFile(src: string, stem: string, dir = KEPT_LOGS_DIR): string {
  if (dir === KEPT_LOGS_DIR) {
    fs.mkdirSync(DATA_ROOT, { recursive: true, mode: 0o711 });
    fs.mkdirSync(KEPT_LOGS_DIR, { recursive: true, mode: 0o700 });
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o077) !== 0)
    throw new UmlperfError('ERR_UMLPERF_UNSAFE', `${dir} is not root's 0700 directory: not keeping logs there`);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const kept = path.join(dir, `${stem}-${stamp}-${randomBytes(3).toString('hex')}.log`);
  const fd = fs.openSync(kept, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  let sfd: number | undefined;
  try {
    // The tail is what tells why a guest died; a runaway console is cut (and never all read).
    sfd = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const size = fs.fstatSync(sfd).size;
    const buf = Buffer.alloc(Math.min(size, TAIL_BYTES));
    const n = fs.readSync(sfd, buf, 0, buf.length, size - buf.length);
    fs.writeSync(fd, buf.subarray(0, n));
  } finally {
    if (sfd !== undefined) fs.closeSync(sfd);
    fs.closeSync(fd);
  }
  const old = fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
    .map((f) => ({ f, t: fs.lstatSync(path.join(dir, f)).mtimeMs })).sort((a, b) => b.t - a.t || (a.f < b.f ? 1 : -1));
  for (const x of old.slice(KEPT_LOGS)) fs.rmSync(path.join(dir, x.f), { force: true });
  return kept;
}
