// The `debian` image: Debian bookworm (mmdebstrap, minbase) with BIND, Apache and Postfix,
// the endpoint, our init, the server configs and hooks, all prepared at build time. Cached
// under a directory named by the hash of the recipe, so a base under guests' COW files is
// never rewritten: a new recipe makes a new directory.
import { checkCacheDir } from './cache-dir.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

import { UmlperfError } from '../errors.js';
import { ENDPOINT_GUEST_PATH, GUEST_INIT_PATH, SERVER_HOOK_DIR, guestInit } from '../guest/init.js';
import { endpointBinary } from '../endpoint.js';
import { DEFAULT_CACHE_DIR, type GuestImage } from './minimal.js';
import { SERVERS, SERVER_LOG_DIR, hookScript } from '../servers/start.js';
import { SERVER_NAMES, type ImageFile } from '../servers/spec.js';
import { ZONE, zoneRecords } from '../servers/zone.js';

/** Bumped whenever the build steps below change meaning. */
const RECIPE_VERSION = 1;
export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_PACKAGES = ['bind9', 'apache2', 'postfix', 'iproute2', 'netbase'];
const IMAGE_SIZE = '1G';
// Documentation, manuals and translations: ~55 MB nobody reads in a guest.
const DPKG_EXCLUDES = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*'];
const BUILD_TIMEOUT_MS = 15 * 60_000;

export interface DebianImageOptions {
  cacheDir?: string;
  endpoint?: string;
  /** sources.list lines for mmdebstrap; default: the host's apt sources for the suite. */
  mirrors?: string[];
  /** Progress lines (the CLI passes one that writes to a TTY only). */
  progress?: (line: string) => void;
}

export interface DebianImage extends GuestImage {
  /** Apparent size of base.img and the bytes it occupies on disk (it is sparse). */
  baseBytes: number;
  baseAllocatedBytes: number;
  rootBytes?: number;
}

/** The files the build writes over the bootstrapped tree: configs, hooks, init, network. */
export function imageFiles(): ImageFile[] {
  const files: ImageFile[] = [];
  for (const n of SERVER_NAMES) {
    files.push(...SERVERS[n].files());
    files.push({ path: `${SERVER_HOOK_DIR}/${n}`, content: hookScript(n), mode: 0o755 });
  }
  files.push({ path: GUEST_INIT_PATH, content: guestInit, mode: 0o755 });
  files.push({ path: '/etc/resolv.conf', content: 'nameserver 127.0.0.1\n' });
  files.push({ path: '/etc/hostname', content: 'umlperf\n' });
  files.push({ path: '/etc/mailname', content: `${ZONE}\n` });
  const hosts = zoneRecords().map(([n, a]) => `${a}\t${n}.${ZONE} ${n}`);
  files.push({ path: '/etc/hosts', content: `127.0.0.1\tlocalhost\n${hosts.join('\n')}\n` });
  return files;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The host's apt sources for the suite as one-line entries (mmdebstrap's mirror arguments). */
export function hostMirrors(suite = DEBIAN_SUITE): string[] {
  const out: string[] = [];
  const read = (p: string): string => {
    try { return readFileSync(p, 'utf8'); } catch { return ''; }
  };
  for (const stanza of read('/etc/apt/sources.list.d/debian.sources').split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) f.set(m[1].toLowerCase(), m[2].trim());
    }
    if (!(f.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    for (const uri of (f.get('uris') ?? '').split(/\s+/).filter(Boolean))
      for (const s of (f.get('suites') ?? '').split(/\s+/).filter((x) => x.startsWith(suite)))
        out.push(`deb ${uri} ${s} ${f.get('components') ?? 'main'}`);
  }
  for (const line of read('/etc/apt/sources.list').split('\n')) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line.trim());
    if (m && m[2].startsWith(suite)) out.push(`deb ${m[1]} ${m[2]} ${m[3]}`);
  }
  return out.length ? [...new Set(out)] : [`deb http://deb.debian.org/debian ${suite} main`];
}

/** The hash that names the cache directory: everything that decides the image's content. */
export async function debianRecipeHash(endpoint = endpointBinary()): Promise<string> {
  const h = createHash('sha256');
  h.update(`debian v${RECIPE_VERSION} ${DEBIAN_SUITE} ${DEBIAN_PACKAGES.join(',')} ${DPKG_EXCLUDES.join(',')} ${IMAGE_SIZE}\n`);
  for (const f of imageFiles()) h.update(`${f.path} ${f.mode ?? 0o644}\n${f.content}\n`);
  for (const n of SERVER_NAMES) h.update(JSON.stringify(SERVERS[n].dirs ?? []));
  h.update(sha256(await fs.readFile(endpoint)));
  return h.digest('hex').slice(0, 16);
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

/** Returns the cached Debian image, building it first (~30 s, needs the package mirror). */
export async function debianImage(o: DebianImageOptions = {}): Promise<DebianImage> {
  const t0 = performance.now();
  // Checked first: Node's recursive mkdir never returns under /proc, and the helpers go beside it.
  const cacheDir = checkCacheDir(o.cacheDir ?? DEFAULT_CACHE_DIR);
  const endpoint = o.endpoint ?? endpointBinary();
  if (!(await exists(endpoint)))
    throw new UmlperfError('ERR_UMLPERF_IMAGE', `no ${endpoint}: build it with npx node-gyp rebuild`);
  const name = `debian-${await debianRecipeHash(endpoint)}`;
  const dir = path.join(cacheDir, name);
  const result = async (built: boolean): Promise<DebianImage> => {
    const st = await fs.stat(path.join(dir, 'base.img'));
    return {
      name, base: path.join(dir, 'base.img'), root: path.join(dir, 'root'), built,
      buildMs: Math.round(performance.now() - t0), baseBytes: st.size, baseAllocatedBytes: st.blocks * 512,
    };
  };
  if (await exists(path.join(dir, 'base.img'))) return result(false);

  const progress = o.progress ?? (() => undefined);
  await fs.mkdir(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  const log = path.join(tmp, 'build.log');
  try {
    const root = path.join(tmp, 'root');
    const mirrors = o.mirrors ?? hostMirrors();
    progress(`debian image ${name}: mmdebstrap ${DEBIAN_SUITE} (${DEBIAN_PACKAGES.join(', ')}) from ${mirrors[0].split(' ')[1]}`);
    const tBoot = performance.now();
    await runLogged('mmdebstrap', [
      '--variant=minbase', `--include=${DEBIAN_PACKAGES.join(',')}`,
      ...DPKG_EXCLUDES.map((p) => `--dpkgopt=path-exclude=${p}`),
      DEBIAN_SUITE, root, ...mirrors,
    ], log, progress);
    progress(`debian image ${name}: bootstrapped in ${((performance.now() - tBoot) / 1000).toFixed(1)} s; writing configs`);
    await customize(root, endpoint);
    progress(`debian image ${name}: mke2fs -t ext4 (${IMAGE_SIZE}, sparse)`);
    const img = path.join(tmp, 'base.img');
    await runLogged('mke2fs', ['-q', '-F', '-t', 'ext4', '-m', '0', '-E', 'root_owner=0:0', '-L', 'umlperf-debian',
      '-d', root, img, IMAGE_SIZE], log, progress);
    await fs.chmod(img, 0o444);
    await fs.writeFile(path.join(tmp, 'recipe.json'), JSON.stringify({
      name, suite: DEBIAN_SUITE, packages: DEBIAN_PACKAGES, mirrors, builtAt: new Date().toISOString(),
    }, null, 2) + '\n');
    try {
      await fs.rename(tmp, dir);
    } catch (e) {
      // Another process built the same recipe meanwhile: keep theirs, it is identical.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  } catch (e) {
    const tail = await fs.readFile(log, 'utf8').then((s) => s.trim().split('\n').slice(-3).join(' | '), () => '');
    throw new UmlperfError('ERR_UMLPERF_IMAGE', `building the debian image failed: ${(e as Error).message}${tail ? ` (${tail})` : ''}`, { cause: e });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  progress(`debian image ${name}: done`);
  return result(true);
}

/** Runs a build step with output to the log; its stderr lines also go to progress. */
function runLogged(cmd: string, args: string[], log: string, progress: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    out.write(`$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), BUILD_TIMEOUT_MS);
    let partial = '';
    child.stdout.pipe(out, { end: false });
    child.stderr.on('data', (b: Buffer) => {
      out.write(b);
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) progress(`  ${l.trim()}`);
    });
    child.on('error', (e) => { clearTimeout(timer); out.end(); reject(e); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      out.end(() => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${sig ?? `status ${code}`}`))));
    });
  });
}

/** Writes our files over the bootstrapped tree and prepares directories for the daemons. */
async function customize(root: string, endpoint: string): Promise<void> {
  const at = (p: string) => path.join(root, p);
  for (const f of imageFiles()) {
    await fs.mkdir(path.dirname(at(f.path)), { recursive: true });
    await fs.rm(at(f.path), { force: true }); // resolv.conf may be a symlink
    await fs.writeFile(at(f.path), f.content, { mode: f.mode ?? 0o644 });
    await fs.chmod(at(f.path), f.mode ?? 0o644);
  }
  await fs.copyFile(endpoint, at(ENDPOINT_GUEST_PATH));
  await fs.chmod(at(ENDPOINT_GUEST_PATH), 0o755);
  const ids = (file: string) => new Map(readFileSync(at(file), 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split(':')).map((f) => [f[0], Number(f[2])] as [string, number]));
  const users = ids('/etc/passwd');
  const groups = ids('/etc/group');
  const owner = (spec: string): [number, number] => {
    const [u, g] = spec.split(':');
    const uid = /^\d+$/.test(u) ? Number(u) : users.get(u);
    const gid = g === undefined ? groups.get(u) ?? uid : /^\d+$/.test(g) ? Number(g) : groups.get(g);
    if (uid === undefined || gid === undefined) throw new Error(`no user/group ${spec} in the image`);
    return [uid, gid];
  };
  await fs.mkdir(at(SERVER_LOG_DIR), { recursive: true, mode: 0o755 });
  for (const n of SERVER_NAMES) {
    for (const d of SERVERS[n].dirs ?? []) {
      await fs.mkdir(at(d.path), { recursive: true });
      if (d.mode !== undefined) await fs.chmod(at(d.path), d.mode);
      if (d.owner) await fs.chown(at(d.path), ...owner(d.owner));
    }
  }
}
