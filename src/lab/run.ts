// Running the few external programs of the lab (ip, mostly): bounded in time, failures as one
// line naming the command and its stderr.
import { execFile } from 'node:child_process';

import { UmlperfError } from '../errors.js';

export interface RunOptions {
  timeoutMs?: number;
  /** Exit statuses that are not failures (e.g. deleting what is already gone). */
  okStatus?: number[];
  /** Stderr patterns that are not failures. */
  okStderr?: RegExp;
}

export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: o.timeoutMs ?? 10_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { code?: string | number };
      if (typeof e.code === 'number' && o.okStatus?.includes(e.code)) return resolve(stdout);
      if (o.okStderr?.test(stderr)) return resolve(stdout);
      if (e.code === 'ENOENT') return reject(new UmlperfError('ENOENT', `${cmd} not found (see umlperf doctor)`));
      const why = (stderr || e.message).trim().split('\n')[0];
      reject(new UmlperfError('ERR_UMLPERF_COMMAND', `${cmd} ${args.join(' ')}: ${why}`));
    });
  });
}

export const ip = (args: string[], o?: RunOptions): Promise<string> => run('ip', args, o);
