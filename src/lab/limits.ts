// Host-side limits per guest (`lab up --limit cpu=50%,mem=256M,io=20M,pids=512`) on the guest's
// leaf of the lab's cgroup tree, and the leaf's usage counters (the host cost of a guest).
// cgroup v2: cpu.max, memory.max, io.max, pids.max; v1: cpu.cfs_quota_us, memory.limit_in_bytes,
// blkio.throttle.*_bps_device, pids.max. A limit the host cannot apply is reported as unsupported.
import fs from 'node:fs';
import path from 'node:path';

import { UsageError } from '../errors.js';
import { parseSize } from '../units.js';
import { cgroupDirs, cgroupMode, CGROUP_TREE } from './cgroup.js';

export interface GuestLimits {
  /** CPU time per period, percent of one CPU (cpu=50%). */
  cpuPercent?: number;
  /** Host memory of the guest's processes in bytes (mem=256M). */
  memBytes?: number;
  /** Read and write bytes per second on the disk that holds the guest's files (io=20M). */
  ioBps?: number;
  /** Host processes (pids=512). */
  pids?: number;
}

/** What the host applied (control file → value written) and what it could not. */
export interface LimitReport {
  limits: GuestLimits;
  applied: Record<string, string>;
  unsupported: string[];
}

/**
 * The guest's mem= lives in a host file the guest's processes touch: a memory limit must leave
 * room for it and for UML's own pages, or the host kills the UML process instead of the guest's
 * OOM killer acting.
 */
export const MEM_LIMIT_HEADROOM = 32 << 20;

/** "64M", "256MiB", "1G", "4096" (units as everywhere: src/units.ts) → whole bytes above 0; else undefined. */
export function sizeBytes(s: string): number | undefined {
  const b = parseSize(s);
  return b !== undefined && Number.isSafeInteger(b) && b > 0 ? b : undefined;
}

/** Parses `cpu=50%,mem=256M,io=20M,pids=512` (any subset, each once). */
export function parseLimits(spec: string): GuestLimits {
  const out: GuestLimits = {};
  const bad = (why: string) => new UsageError(`bad --limit ${JSON.stringify(spec)}: ${why} (e.g. cpu=50%,mem=256M,io=20M,pids=512)`);
  if (typeof spec !== 'string' || !spec.trim()) throw bad('empty');
  for (const part of spec.split(',')) {
    const [k, v, ...rest] = part.split('=');
    if (v === undefined || rest.length) throw bad(`${JSON.stringify(part)} is not key=value`);
    const seen = (key: keyof GuestLimits) => {
      if (out[key] !== undefined) throw bad(`${k} given twice`);
    };
    switch (k) {
      case 'cpu': {
        seen('cpuPercent');
        const m = /^([1-9][0-9]{0,4})%$/.exec(v);
        const n = m ? Number(m[1]) : NaN;
        if (!(n >= 1 && n <= 6400)) throw bad('cpu is a percent of one CPU, 1% to 6400%');
        out.cpuPercent = n;
        break;
      }
      case 'mem': {
        seen('memBytes');
        const b = sizeBytes(v);
        if (!b || b < 16 << 20) throw bad('mem is a size of at least 16M');
        out.memBytes = b;
        break;
      }
      case 'io': {
        seen('ioBps');
        const b = sizeBytes(v);
        if (!b || b < 64 << 10) throw bad('io is bytes per second, at least 64K');
        out.ioBps = b;
        break;
      }
      case 'pids': {
        seen('pids');
        const n = /^[1-9][0-9]{0,6}$/.test(v) ? Number(v) : NaN;
        if (!(n >= 16 && n <= 4_194_304)) throw bad('pids is a count, at least 16');
        out.pids = n;
        break;
      }
      default:
        throw bad(`unknown limit ${JSON.stringify(k)}; known: cpu, mem, io, pids`);
    }
  }
  return out;
}

/** The limits as `--limit` spells them (for reports). */
export function formatLimits(l: GuestLimits): string {
  const mb = (b: number) => (b % (1 << 20) === 0 ? `${b / (1 << 20)}M` : b % 1024 === 0 ? `${b / 1024}K` : String(b));
  return [
    l.cpuPercent !== undefined ? `cpu=${l.cpuPercent}%` : '',
    l.memBytes !== undefined ? `mem=${mb(l.memBytes)}` : '',
    l.ioBps !== undefined ? `io=${mb(l.ioBps)}` : '',
    l.pids !== undefined ? `pids=${l.pids}` : '',
  ].filter(Boolean).join(',');
}

/** The v1 scheduling controllers a guest with these limits joins (cgroup.ts joins no others' by default). */
export function limitControllers(l: GuestLimits | undefined): ('cpu' | 'blkio')[] {
  return [...(l?.cpuPercent !== undefined ? ['cpu' as const] : []), ...(l?.ioBps !== undefined ? ['blkio' as const] : [])];
}

/** Refuses a memory limit that would get the UML process killed by the host (a UsageError). */
export function checkMemLimit(l: GuestLimits, guestMem: string): void {
  if (l.memBytes === undefined) return;
  const mem = sizeBytes(guestMem);
  if (mem === undefined) return;
  if (l.memBytes < mem + MEM_LIMIT_HEADROOM)
    throw new UsageError(`--limit mem=${formatLimits({ memBytes: l.memBytes }).slice(4)} is below the guest's mem=${guestMem} plus ${MEM_LIMIT_HEADROOM >> 20}M for UML itself: ` +
      'the host would kill the UML process instead of the guest\'s OOM killer acting; raise the limit or lower --mem');
}

function write(file: string, text: string): boolean {
  try {
    fs.writeFileSync(file, text);
    return true;
  } catch {
    return false;
  }
}

/** MAJ:MIN of the whole disk that holds `file` (io limits take disks, not partitions); undefined if none. */
export function diskOf(file: string): string | undefined {
  let dev: number;
  try {
    dev = fs.statSync(file).dev;
  } catch {
    return undefined;
  }
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | ((Math.floor(dev / 4096) & ~0xff) >>> 0);
  if (major === 0) return undefined;  // tmpfs, overlay: no block device to throttle
  const sys = `/sys/dev/block/${major}:${minor}`;
  try {
    const real = fs.realpathSync(sys);
    if (fs.existsSync(path.join(real, 'partition'))) return fs.readFileSync(path.join(path.dirname(real), 'dev'), 'utf8').trim();
    return `${major}:${minor}`;
  } catch {
    return undefined;
  }
}

/** The leaf's directory in one v1 controller (or the v2 leaf). */
function leafDir(lab: string, leaf: string, controller: string): string | undefined {
  const m = cgroupMode();
  if (m.version === 2) return cgroupDirs(lab, leaf)[0];
  if (m.version === 1) return cgroupDirs(lab, leaf).find((d) => path.basename(path.dirname(path.dirname(path.dirname(d)))) === controller);
  return undefined;
}

/**
 * Writes the limits on the guest's leaf (made already by cgroupCreate). `diskFile`: a file on
 * the disk the guest writes (its COW file's directory). Limits the host lacks a control for
 * are reported as unsupported, never silently dropped.
 */
export function applyLimits(lab: string, leaf: string, l: GuestLimits, diskFile?: string): LimitReport {
  const m = cgroupMode();
  const rep: LimitReport = { limits: l, applied: {}, unsupported: [] };
  const put = (controller: string, file: string, value: string, what: string) => {
    const dir = leafDir(lab, leaf, controller);
    if (dir && fs.existsSync(path.join(dir, file)) && write(path.join(dir, file), value)) rep.applied[file] = value;
    else rep.unsupported.push(what);
  };
  if (m.version === 2) {
    // Each controller must be on in every ancestor's subtree_control.
    const want = ['+cpu', '+memory', '+io', '+pids'];
    for (const d of [m.root, path.join(m.root, CGROUP_TREE), path.join(m.root, CGROUP_TREE, lab)])
      for (const c of want) write(path.join(d, 'cgroup.subtree_control'), c);
  }
  const period = 100_000;
  if (l.cpuPercent !== undefined) {
    const quota = Math.round((period * l.cpuPercent) / 100);
    if (m.version === 2) put('cpu', 'cpu.max', `${quota} ${period}`, 'cpu');
    else {
      put('cpu', 'cpu.cfs_period_us', String(period), 'cpu');
      if (!rep.unsupported.includes('cpu')) put('cpu', 'cpu.cfs_quota_us', String(quota), 'cpu');
    }
  }
  if (l.memBytes !== undefined) {
    if (m.version === 2) put('memory', 'memory.max', String(l.memBytes), 'mem');
    else put('memory', 'memory.limit_in_bytes', String(l.memBytes), 'mem');
  }
  if (l.ioBps !== undefined) {
    const disk = diskFile ? diskOf(diskFile) : undefined;
    if (!disk) rep.unsupported.push('io');
    else if (m.version === 2) put('io', 'io.max', `${disk} rbps=${l.ioBps} wbps=${l.ioBps}`, 'io');
    else {
      put('blkio', 'blkio.throttle.read_bps_device', `${disk} ${l.ioBps}`, 'io');
      put('blkio', 'blkio.throttle.write_bps_device', `${disk} ${l.ioBps}`, 'io');
    }
  }
  if (l.pids !== undefined) put('pids', 'pids.max', String(l.pids), 'pids');
  rep.unsupported = [...new Set(rep.unsupported)];
  return rep;
}

export interface CgroupUsage {
  /** CPU time of every process in the leaf, ns (v1 cpuacct.usage, v2 cpu.stat usage_usec). */
  cpuNs?: number;
  /** Memory charged to the leaf now, bytes. */
  memBytes?: number;
  /** Highest memory charged since the last resetPeak (v1 max_usage_in_bytes, v2 memory.peak). */
  memPeakBytes?: number;
}

const readNum = (file: string): number | undefined => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
};

/** The leaf's counters (per process, threads counted once: the kernel accounts them so). */
export function cgroupUsage(lab: string, leaf: string): CgroupUsage {
  const m = cgroupMode();
  const out: CgroupUsage = {};
  if (m.version === 2) {
    const d = cgroupDirs(lab, leaf)[0];
    try {
      const u = /usage_usec (\d+)/.exec(fs.readFileSync(path.join(d, 'cpu.stat'), 'utf8'));
      if (u) out.cpuNs = Number(u[1]) * 1000;
    } catch {
      // no cpu controller
    }
    out.memBytes = readNum(path.join(d, 'memory.current'));
    out.memPeakBytes = readNum(path.join(d, 'memory.peak'));
  } else if (m.version === 1) {
    const acct = leafDir(lab, leaf, 'cpuacct');
    const mem = leafDir(lab, leaf, 'memory');
    if (acct) out.cpuNs = readNum(path.join(acct, 'cpuacct.usage'));
    if (mem) {
      out.memBytes = readNum(path.join(mem, 'memory.usage_in_bytes'));
      out.memPeakBytes = readNum(path.join(mem, 'memory.max_usage_in_bytes'));
    }
  }
  for (const k of Object.keys(out) as (keyof CgroupUsage)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** Starts a new peak-memory window (v1 only; v2's memory.peak cannot be reset before 6.12). */
export function resetPeak(lab: string, leaf: string): void {
  if (cgroupMode().version !== 1) return;
  const mem = leafDir(lab, leaf, 'memory');
  if (mem) write(path.join(mem, 'memory.max_usage_in_bytes'), '0');
}
