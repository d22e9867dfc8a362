// Before the study starts: what this machine lacks, and (with consent) the Debian packages
// that fix it. Nothing is installed without `yes`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { UmlperfError } from '../errors.js';
import { doctor } from '../lab/doctor.js';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((d) => {
      try {
        fs.accessSync(`${d}/${cmd}`, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function apt(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // apt's output goes to stderr: stdout carries the report.
    const child = spawn('apt-get', args, { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    child.once('error', (e) => reject(new UmlperfError('ERR_UMLPERF_APT', `cannot run apt-get: ${e.message}`)));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new UmlperfError('ERR_UMLPERF_APT', `apt-get ${args.join(' ')} failed with status ${code}`))));
  });
}

/** Checks the machine; installs missing packages when `yes`, else fails naming them exactly. */
export async function preflight(o: { kernel?: string; servers: boolean; yes: boolean; say: (l: string) => void }): Promise<void> {
  const missing = new Set<string>();
  const report = await doctor({ kernel: o.kernel, boot: false });
  for (const c of report.checks) if (!c.ok && c.package) missing.add(c.package);
  if (o.servers && !onPath('mmdebstrap')) missing.add('mmdebstrap');
  if (missing.size > 0) {
    const pkgs = [...missing];
    if (!o.yes) {
      throw new UmlperfError('ERR_UMLPERF_MISSING', `missing Debian packages: ${pkgs.join(' ')}; install them with: apt-get install -y ${pkgs.join(' ')} (or rerun with --yes)`);
    }
    o.say(`installing ${pkgs.join(' ')}`);
    await apt(['update', '-qq']);
    await apt(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  }
  const again = missing.size > 0 ? await doctor({ kernel: o.kernel, boot: false }) : report;
  const bad = again.checks.filter((c) => !c.ok);
  if (bad.length > 0) {
    const c = bad[0];
    throw new UmlperfError('ERR_UMLPERF_MACHINE', `${c.name}: ${c.detail}${c.fix ? `; fix: ${c.fix}` : ''}${bad.length > 1 ? ` (and ${bad.length - 1} more: umlperf doctor)` : ''}`);
  }
}
