// What a UML kernel can do, from its own `--help` (and `--showconfig` where it has one).
import { execFile } from 'node:child_process';
import fs from 'node:fs';

import { UmlperfError } from '../errors.js';
import type { Transport } from './state.js';

export const DEFAULT_KERNEL = '/usr/bin/linux.uml';

export interface KernelCaps {
  path: string;
  version: string;
  transports: Transport[];
  ubd: boolean;
  hostfs: boolean;
  mconsoleNotify: boolean;
  /** Dynamically linked: the FPU-state adapter can be preloaded into it. */
  dynamic: boolean;
}

/** Whether an ELF file asks for a program interpreter (PT_INTERP), i.e. is dynamically linked. */
export function elfIsDynamic(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const h = Buffer.alloc(64);
    if (fs.readSync(fd, h, 0, 64, 0) < 64 || h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false;
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    if (phentsize < 4 || phnum > 256) return false;
    const ph = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return true;
    return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function output(path: string, arg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Some UML builds exit non-zero after --help; stdout is what counts.
    execFile(path, [arg], { timeout: 10_000, env: { ...process.env, TMPDIR: '/dev/shm' } }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
        return reject(new UmlperfError('ENOENT', `no UML kernel at ${path}: apt-get install user-mode-linux (or --kernel PATH)`));
      if (err && !stdout) return reject(new UmlperfError('ERR_UMLPERF_KERNEL', `${path} ${arg} failed: ${err.message.split('\n')[0]}`));
      resolve(stdout);
    });
  });
}

const cache = new Map<string, Promise<KernelCaps>>();

export function kernelCaps(path = DEFAULT_KERNEL): Promise<KernelCaps> {
  let p = cache.get(path);
  if (!p) {
    p = probe(path);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return p;
}

async function probe(path: string): Promise<KernelCaps> {
  const help = await output(path, '--help');
  if (!/User Mode Linux/i.test(help)) throw new UmlperfError('ERR_UMLPERF_KERNEL', `${path} does not look like a UML kernel (--help)`);
  const config = await output(path, '--showconfig').catch(() => '');
  const transports: Transport[] = [];
  if (/^vec\[0-9\]/m.test(help)) transports.push('vector');
  // The legacy driver's tuntap transport; without a config to ask, its eth option is the hint.
  if (/^eth\[0-9\]/m.test(help) && (!config || /^CONFIG_UML_NET_TUNTAP=y/m.test(config))) transports.push('tuntap');
  return {
    path,
    version: /User Mode Linux v(\S+)/.exec(help)?.[1] ?? 'unknown',
    transports,
    ubd: /^ubd</m.test(help),
    hostfs: /^hostfs=/m.test(help) || /^CONFIG_HOSTFS=y/m.test(config),
    mconsoleNotify: /mconsole=notify/.test(help),
    dynamic: elfIsDynamic(path),
  };
}
