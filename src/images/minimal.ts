// The `minimal` image: static busybox + umlperf-endpoint + our init. Built in well under a
// second with no network, from files on this machine; cached under a directory named by the
// hash of everything that goes in, so a base that guests' COW files refer to is never rewritten.
import { checkCacheDir } from './cache-dir.js';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs/promises';
import path from 'node:path';

import { UmlperfError } from '../errors.js';
import { endpointBinary } from '../endpoint.js';
import { FLOOD_GUEST_PATH, floodBinary } from '../guest/flood.js';
import { ENDPOINT_GUEST_PATH, GUEST_INIT_PATH, SERVER_HOOK_DIR, guestInit } from '../guest/init.js';

const run = promisify(execFile);

/** Bumped whenever the layout below changes, so old caches are not reused. */
const RECIPE_VERSION = 1;
const IMAGE_SIZE_MB = 24;

export const DEFAULT_CACHE_DIR = '/var/cache/umlperf/images';
export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

export interface GuestImage {
  name: string;
  /** Read-only ext2 base for `ubd0=COW,BASE`. */
  base: string;
  /** The same tree as a directory, for a hostfs root. */
  root: string;
  /** Whether this call built it (false: taken from the cache). */
  built: boolean;
  buildMs: number;
}

export interface MinimalImageOptions {
  cacheDir?: string;
  busybox?: string;
  endpoint?: string;
  /** The flood fault's helper (default: the built umlperf-flood). */
  flood?: string;
}

export { endpointBinary };

export async function findBusybox(explicit?: string): Promise<string> {
  for (const p of explicit ? [explicit] : BUSYBOX_CANDIDATES) {
    try {
      await fs.access(p, fs.constants.X_OK);
      const { stdout } = await run('file', ['-L', p]).catch(() => ({ stdout: 'statically linked' }));
      if (!/statically linked|static-pie/.test(stdout))
        throw new UmlperfError('ERR_UMLPERF_IMAGE', `${p} is not statically linked: apt-get install busybox-static`);
      return p;
    } catch (e) {
      if (e instanceof UmlperfError) throw e;
    }
  }
  throw new UmlperfError('ERR_UMLPERF_IMAGE', 'no static busybox found: apt-get install busybox-static');
}

async function sha256File(p: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(p)).digest('hex');
}

/** The cache directory's name: a hash of everything that decides the image's content. */
export async function minimalRecipeName(busybox: string, endpoint: string, flood: string): Promise<string> {
  const hash = createHash('sha256')
    .update(`minimal v${RECIPE_VERSION}\n${guestInit}\n`)
    .update(await sha256File(flood))
    .update(await sha256File(busybox))
    .update(await sha256File(endpoint))
    .digest('hex')
    .slice(0, 16);
  return `minimal-${hash}`;
}

/** Returns the cached minimal image, building it first when missing. */
export async function minimalImage(o: MinimalImageOptions = {}): Promise<GuestImage> {
  const t0 = performance.now();
  // Checked first: Node's recursive mkdir never returns under /proc, and the helpers go beside it.
  const cacheDir = checkCacheDir(o.cacheDir ?? DEFAULT_CACHE_DIR);
  const busybox = await findBusybox(o.busybox);
  const endpoint = o.endpoint ?? endpointBinary();
  try {
    await fs.access(endpoint, fs.constants.X_OK);
  } catch {
    throw new UmlperfError('ERR_UMLPERF_IMAGE', `no ${endpoint}: build it with npx node-gyp rebuild`);
  }
  // The flood fault's helper (isolation experiment), built with the endpoint.
  const flood = o.flood ?? floodBinary();
  try {
    await fs.access(flood, fs.constants.X_OK);
  } catch {
    throw new UmlperfError('ERR_UMLPERF_IMAGE', `no ${flood}: build it with npx node-gyp rebuild`);
  }
  const name = await minimalRecipeName(busybox, endpoint, flood);
  const dir = path.join(cacheDir, name);
  const image = (built: boolean): GuestImage => ({
    name,
    base: path.join(dir, 'base.ext2'),
    root: path.join(dir, 'root'),
    built,
    buildMs: Math.round(performance.now() - t0),
  });
  try {
    await fs.access(path.join(dir, 'base.ext2'));
    return image(false);
  } catch {
    // not cached yet
  }
  await fs.mkdir(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  try {
    await stage(path.join(tmp, 'root'), busybox, endpoint, flood);
    await run('mke2fs', ['-q', '-F', '-t', 'ext2', '-E', 'root_owner=0:0', '-L', 'umlperf-min', '-d',
      path.join(tmp, 'root'), path.join(tmp, 'base.ext2'), `${IMAGE_SIZE_MB}M`], { timeout: 60_000 });
    await fs.chmod(path.join(tmp, 'base.ext2'), 0o444);
    try {
      await fs.rename(tmp, dir);
    } catch (e) {
      // Another process built it meanwhile: theirs is identical, keep it.
      if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return image(true);
}

async function stage(root: string, busybox: string, endpoint: string, flood: string): Promise<void> {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', SERVER_HOOK_DIR.slice(1), 'proc', 'sys', 'dev', 'run', 'tmp', 'root', 'var'])
    await fs.mkdir(path.join(root, d), { recursive: true });
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
  await fs.copyFile(busybox, path.join(root, 'bin/busybox'));
  await fs.chmod(path.join(root, 'bin/busybox'), 0o755);
  const { stdout } = await run(busybox, ['--list']);
  for (const applet of stdout.split('\n').map((s) => s.trim()).filter((s) => /^[a-z0-9_.[-]+$/.test(s))) {
    if (applet === 'busybox') continue;
    await fs.symlink('busybox', path.join(root, 'bin', applet)).catch(() => undefined);
  }
  await fs.copyFile(endpoint, path.join(root, ENDPOINT_GUEST_PATH.slice(1)));
  await fs.chmod(path.join(root, ENDPOINT_GUEST_PATH.slice(1)), 0o755);
  await fs.copyFile(flood, path.join(root, FLOOD_GUEST_PATH.slice(1)));
  await fs.chmod(path.join(root, FLOOD_GUEST_PATH.slice(1)), 0o755);
  await fs.writeFile(path.join(root, GUEST_INIT_PATH.slice(1)), guestInit, { mode: 0o755 });
  await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\n');
  await fs.writeFile(path.join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
}
