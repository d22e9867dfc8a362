// umlperf image prune: removes cached images that nothing uses any more. Each image directory is
// named by a hash of its recipe (minimal-…, debian-…), so every rebuild of the endpoint or
// change of a recipe leaves the previous directory behind (hundreds of MB for a Debian image).
// Kept: the images today's recipes name, and those a lab still uses (its guests' COW files point
// at the base). Removed: other image directories, and half-built ones (NAME.tmp-PID) whose
// builder is gone.
import fs from 'node:fs/promises';
import path from 'node:path';

import { labList } from '../lab/lab.js';
import { isAlive } from '../lab/process.js';
import { floodBinary } from '../guest/flood.js';
import { checkCacheDir } from './cache-dir.js';
import { debianRecipeHash } from './debian.js';
import { DEFAULT_CACHE_DIR, endpointBinary, findBusybox, minimalRecipeName } from './minimal.js';

export interface PruneOptions {
  cacheDir?: string;
  /** Image names to keep besides those of today's recipes and of the labs (tests). */
  keep?: string[];
  /** Only say what would go. */
  dryRun?: boolean;
}

export interface PruneEntry {
  name: string;
  bytes: number;
  reason: 'outdated recipe' | 'unfinished build';
}

export interface PruneReport {
  cacheDir: string;
  kept: { name: string; why: string }[];
  removed: PruneEntry[];
  bytesFreed: number;
  dryRun: boolean;
}

const IMAGE_DIR = /^(minimal|debian)-[0-9a-f]{16}$/;
const TMP_DIR = /^(minimal|debian)-[0-9a-f]{16}\.tmp-(\d+)$/;

/** Bytes allocated under dir (a sparse image counts what it takes on disk); never follows links. */
async function allocated(dir: string): Promise<number> {
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st) return;
    total += st.blocks * 512;
    if (!st.isDirectory()) return;
    for (const e of await fs.readdir(p).catch(() => [] as string[])) await walk(path.join(p, e));
  };
  await walk(dir);
  return total;
}

/** The names today's recipes give, where they can be worked out (a missing busybox: none). */
async function currentNames(): Promise<string[]> {
  const out: string[] = [];
  const endpoint = endpointBinary();
  try {
    out.push(await minimalRecipeName(await findBusybox(), endpoint, floodBinary()));
  } catch {
    // no static busybox or no built binaries: no current minimal image to keep
  }
  try {
    out.push(`debian-${await debianRecipeHash(endpoint)}`);
  } catch {
    // no built endpoint
  }
  return out;
}

export async function pruneImages(o: PruneOptions = {}): Promise<PruneReport> {
  const cacheDir = checkCacheDir(o.cacheDir ?? DEFAULT_CACHE_DIR);
  const report: PruneReport = { cacheDir, kept: [], removed: [], bytesFreed: 0, dryRun: !!o.dryRun };
  const entries = await fs.readdir(cacheDir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  const keep = new Map<string, string>();
  for (const n of await currentNames()) keep.set(n, "today's recipe");
  for (const lab of labList()) if (lab.image) keep.set(lab.image, `used by lab ${lab.name}`);
  for (const n of o.keep ?? []) keep.set(n, 'asked to keep');
  for (const e of entries) {
    // Only what an image build makes; a symlink or a file of another name is left alone.
    if (!e.isDirectory()) continue;
    const tmp = TMP_DIR.exec(e.name);
    let reason: PruneEntry['reason'] | undefined;
    if (IMAGE_DIR.test(e.name)) {
      const why = keep.get(e.name);
      if (why) {
        report.kept.push({ name: e.name, why });
        continue;
      }
      reason = 'outdated recipe';
    } else if (tmp && !isAlive({ pid: Number(tmp[2]), startTime: '' })) {
      reason = 'unfinished build';
    }
    if (!reason) continue;
    const dir = path.join(cacheDir, e.name);
    const bytes = await allocated(dir);
    if (!o.dryRun) await fs.rm(dir, { recursive: true, force: true });
    report.removed.push({ name: e.name, bytes, reason });
    report.bytesFreed += bytes;
  }
  return report;
}
