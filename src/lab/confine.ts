// Containment of a guest on the host side. A guest is untrusted, and its kernel has hostfs built
// in: guest root can mount any host path the UML process can open (`hostfs=DIR` is no jail:
// `-o ../../etc` escapes it, and the host follows symlinks the guest plants). So the UML process
// itself is what is confined, two ways:
// - it sees a root of its own: a small tmpfs in the private mount namespace `ip netns exec`
//   makes, holding only the files it runs from (kernel, shell, their libraries: read-only), a
//   few devices, a private /dev/shm and the lab's data directory; the host's other files are
//   not in its view at all;
// - it runs as a uid and gid of its own (no passwd entry needed, no capabilities), owns only
//   its TAP (TUNSETOWNER) and its own directory `<LABS_ROOT>/<lab>/gN` (uml_dir, COW file,
//   hostfs Maildir), and reaches the lab's notify socket through the lab's group. Everything
//   else of the lab is root's and closed to it.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';

import { UmlperfError } from '../errors.js';
import { DATA_ROOT, LABS_ROOT, dataDir, guestDir } from './names.js';

/**
 * Per-lab ids: guest N runs as uid `base + N`, every guest of the lab in group `base`. Drawn at
 * random from a range far above login users (and below 2^31), 256 per lab.
 */
export const GUEST_ID_FIRST = 0x50000000;
const SLOTS = 1 << 20;

export interface LabIds {
  /** gid of the lab's guests; guest N's uid is base + N. */
  base: number;
}

export function allocateIds(taken: ReadonlySet<number> = new Set()): LabIds {
  for (let i = 0; i < 100; i++) {
    const base = GUEST_ID_FIRST + 256 * randomInt(0, SLOTS);
    if (!taken.has(base)) return { base };
  }
  throw new UmlperfError('ERR_UMLPERF_IDS', 'no free guest id range');
}

export const guestUid = (ids: LabIds, n: number): number => ids.base + n;

/** A directory we made, checked: a real directory (not a symlink), owned as expected. */
function ensureDir(p: string, mode: number, uid: number, gid: number): void {
  try {
    fs.mkdirSync(p, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) throw new UmlperfError('ERR_UMLPERF_UNSAFE', `${p} is not a directory (a symlink?): remove it`);
  fs.chownSync(p, uid, gid);
  fs.chmodSync(p, mode);
}

/** `<LABS_ROOT>` (root, traversable) and `<LABS_ROOT>/<lab>` (root:<lab group>, 0710), fresh. */
export function prepareDataDir(lab: string, ids: LabIds): string {
  for (const d of [DATA_ROOT, LABS_ROOT]) {
    fs.mkdirSync(d, { recursive: true, mode: 0o711 });
    const st = fs.lstatSync(d);
    if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) throw new UmlperfError('ERR_UMLPERF_UNSAFE', `${d} must be root's directory, writable by root alone`);
  }
  ensureDir(LABS_ROOT, 0o711, 0, 0);
  const d = dataDir(lab);
  // Our `lab up` holds the lab's lock (its run directory): what is here is a crash's leftover.
  fs.rmSync(d, { recursive: true, force: true });
  ensureDir(d, 0o710, 0, ids.base);
  return d;
}

/** The guest's own directory, owned by its uid, closed to everyone else. */
export function prepareGuestDir(lab: string, n: number, ids: LabIds): string {
  const d = guestDir(lab, n);
  ensureDir(d, 0o700, guestUid(ids, n), ids.base);
  return d;
}

/**
 * The shell (run as root inside the guest's private mount namespace) that builds the guest's
 * root and enters it as the guest's uid. Arguments: root mount point, the lab's data
 * directory, N, N read-only files (or directories), uid, gid, then the command.
 */
const JAIL = `set -e
R=$1; D=$2; n=$3; shift 3
mount -t tmpfs -o mode=0755,size=1m,nosuid,nodev umlperf-guest "$R"
while [ "$n" -gt 0 ]; do
  f=$1; shift; n=$((n-1))
  mkdir -p "$R\${f%/*}"
  if [ -d "$f" ]; then mkdir -p "$R$f"; else : > "$R$f"; fi
  mount --bind "$f" "$R$f"
  mount -o remount,bind,ro,nosuid,nodev "$R$f"
done
mkdir -p "$R/dev/net" "$R/dev/shm" "$R$D"
for d in null zero urandom net/tun; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mount -t tmpfs -o mode=1777,nosuid,nodev umlperf-shm "$R/dev/shm"
mount --bind "$D" "$R$D"
mount -o remount,bind,nosuid,nodev "$R$D"
u=$1; g=$2; shift 2
exec chroot --userspec="$u:$g" --groups="$g" "$R" "$@"
`;

/** argv prefix: run the rest in the guest's own root, as its uid and the lab's gid. */
export function jailArgs(o: { root: string; dataDir: string; files: string[]; uid: number; gid: number }): string[] {
  return ['/bin/sh', '-c', JAIL, 'umlperf-jail', o.root, o.dataDir, String(o.files.length), ...o.files, String(o.uid), String(o.gid)];
}

const libCache = new Map<string, string[]>();

/** A program and the shared libraries it loads (absolute paths, as the loader asks for them). */
export function programFiles(program: string): string[] {
  const hit = libCache.get(program);
  if (hit) return hit;
  let out = '';
  try {
    out = execFileSync('ldd', [program], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    // static ("not a dynamic executable"): the program alone
  }
  const libs = [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
  const files = [...new Set([program, ...libs])];
  libCache.set(program, files);
  return files;
}

/** A FIFO only root can open (for a guest's exec channel: we pass its fds to UML). */
export function makeFifo(p: string): void {
  fs.rmSync(p, { force: true });
  execFileSync('mkfifo', ['-m', '600', p]);
}
