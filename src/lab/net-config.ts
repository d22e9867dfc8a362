// A lab's network configuration (`lab up --net PRESET|key=value,…`): UML's network driver and
// its options, the MTU of TAP, bridge, veth and guest together, host-side offloads on the TAP,
// the guest's qdisc and socket buffers, and where the lab's processes run. Parsed and validated
// here (every value is input); applied by lab.ts (host side) and over the guest's exec channel.
// Named presets: `builtin` (today's lab), `default` (a saved one if there is one, else builtin)
// and whatever `umlperf tune --save NAME` wrote to the presets file.
import fs from 'node:fs';
import path from 'node:path';

import { parseCpuList } from '../cpus.js';
import { UmlperfError, UsageError } from '../errors.js';
import { DATA_ROOT } from './names.js';

/** UML network drivers: the vector driver's transports, and the legacy tuntap driver. */
export const NET_TRANSPORTS = ['tap', 'raw', 'hybrid', 'tuntap'] as const;
export type NetTransport = (typeof NET_TRANSPORTS)[number];
/** Guest qdiscs that every UML kernel has built in (set as net.core.default_qdisc). */
export const NET_QDISCS = ['default', 'pfifo_fast', 'pfifo', 'noqueue'] as const;
export type NetQdisc = (typeof NET_QDISCS)[number];
export const NET_OFFLOADS = ['default', 'on', 'off'] as const;
export type NetOffload = (typeof NET_OFFLOADS)[number];

export interface NetConfig {
  /** tap/raw/hybrid: the vector driver (vec0); tuntap: the legacy driver (eth0). */
  transport: NetTransport;
  /** Vector: receive buffers of 64 KiB (GRO/TSO frames); without it host→guest TCP collapses. */
  gro: boolean;
  /** Vector: batch packets per system call (recvmmsg/sendmmsg); false passes vec=0. */
  vec: boolean;
  /** Vector: queue depth in packets (UML's default 64 when 0). */
  depth: number;
  /** MTU on the TAP, the bridge, the veth and the guest's interface. */
  mtu: number;
  /** Host-side offloads (tso, gso, gro, tx/rx checksums) on each guest's TAP, with ethtool -K. */
  hostOffload: NetOffload;
  /** The guest's qdisc (net.core.default_qdisc, on the kernel command line: it applies at the device's first up). */
  qdisc: NetQdisc;
  /** The guest's transmit queue length in packets (0: the driver's). */
  txqlen: number;
  /** The guest's socket buffer maximum and default in bytes, TCP's too (0: the kernel's; TCP's receive ceiling is the larger of this and tcpRmem). */
  sockbuf: number;
  /**
   * The ceiling of the guest's TCP receive buffer (the maximum of tcp_rmem, up to which the
   * kernel grows a connection's window), bytes; 0: the kernel's, which it scales down with the
   * guest's memory (416 KiB at 64M, where a host has 6 MiB or more). A larger sockbuf raises it.
   * Results saved before this key have none (0).
   */
  tcpRmem: number;
  /** CPUs (taskset list) for guests, host endpoint and host-side servers; 'any': unpinned. */
  cpus: string;
  /**
   * Host side: the TAP's received packets (what a guest sends) are processed on the CPUs the
   * guests are not pinned to (receive packet steering), not in the guest's own write to its TAP,
   * on its own CPU. Results saved before this key have none (off).
   */
  rps: boolean;
}

/** Today's lab, and what every key is when a line does not name it. */
export const BUILTIN_NET: Readonly<NetConfig> = Object.freeze({
  transport: 'tap', gro: true, vec: true, depth: 0, mtu: 1500, hostOffload: 'default', qdisc: 'default', txqlen: 0, sockbuf: 0, tcpRmem: 4 << 20, cpus: 'any', rps: false,
});
/** What a key absent from a saved configuration meant when it was saved (keys added later). */
const ABSENT_NET: Readonly<Partial<NetConfig>> = Object.freeze({ tcpRmem: 0, rps: false });

export const NET_KEYS = Object.keys(BUILTIN_NET) as (keyof NetConfig)[];
export const MIN_MTU = 576;
/** UML's vector driver takes larger frames only with gro (64 KiB buffers); this stays well inside them. */
export const MAX_MTU = 9000;
/** The legacy driver's frames are 1500 bytes at most. */
export const MAX_TUNTAP_MTU = 1500;
export const MIN_SOCKBUF = 64 * 1024;
export const MAX_SOCKBUF = 64 * 1024 * 1024;
/**
 * A lab's default UDP datagram: the largest payload one frame of its MTU carries (IPv4: 20 + 8
 * bytes of headers), so 1472 at 1500. As iperf3 sizes its datagrams to the path, a jumbo-frame
 * lab is measured with jumbo datagrams: smaller ones in 9000-byte buffers fill the receiver's
 * socket buffer six times sooner (its accounting is by buffer), and a larger one is fragmented.
 */
export const labUdpPayload = (mtu: number): number => mtu - 28;

const bad = (msg: string) => new UsageError(msg);

function boolValue(key: string, v: string): boolean {
  if (v === '1' || v === 'on' || v === 'true') return true;
  if (v === '0' || v === 'off' || v === 'false') return false;
  throw bad(`${key}=${JSON.stringify(v)}: 0 or 1`);
}

function intValue(key: string, v: string, min: number, max: number, zeroOk = false): number {
  if (!/^[0-9]{1,9}$/.test(v)) throw bad(`${key}=${JSON.stringify(v)}: an integer, ${zeroOk ? '0 or ' : ''}${min} to ${max}`);
  const n = Number(v);
  if ((n === 0 && zeroOk) || (n >= min && n <= max)) return n;
  throw bad(`${key}=${v}: ${zeroOk ? '0 or ' : ''}${min} to ${max}`);
}

/** "4M", "4MiB", "64KiB", "262144" → bytes. */
export function netSizeBytes(key: string, v: string): number {
  const m = /^([0-9]{1,9})(|[kKmM]|KiB|MiB|kB|MB)$/.exec(v);
  if (!m) throw bad(`${key}=${JSON.stringify(v)}: a size, e.g. 4MiB or 262144`);
  const unit = m[2].toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const n = Number(m[1]) * mult;
  if (n === 0) return 0;
  if (n < MIN_SOCKBUF || n > MAX_SOCKBUF) throw bad(`${key}=${v}: 0 (the kernel's) or 64KiB to 64MiB`);
  return n;
}

function oneOf<T extends string>(key: string, v: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw bad(`${key}=${JSON.stringify(v)}: one of ${allowed.join(', ')}`);
}

/** Applies one `key=value` to a configuration (aliases: offload → hostOffload). */
function setKey(c: NetConfig, key: string, v: string): void {
  switch (key) {
    case 'transport': c.transport = oneOf(key, v, NET_TRANSPORTS); return;
    case 'gro': c.gro = boolValue(key, v); return;
    case 'vec': c.vec = boolValue(key, v); return;
    case 'depth': c.depth = intValue(key, v, 8, 4096, true); return;
    case 'mtu': c.mtu = intValue(key, v, MIN_MTU, MAX_MTU); return;
    case 'offload':
    case 'hostOffload': c.hostOffload = oneOf(key, v, NET_OFFLOADS); return;
    case 'qdisc': c.qdisc = oneOf(key, v, NET_QDISCS); return;
    case 'txqlen': c.txqlen = intValue(key, v, 16, 100_000, true); return;
    case 'sockbuf': c.sockbuf = netSizeBytes(key, v); return;
    case 'tcpRmem': c.tcpRmem = netSizeBytes(key, v); return;
    case 'rps': c.rps = boolValue(key, v); return;
    case 'cpus':
      if (v !== 'any' && !/^[0-9]{1,4}([-,][0-9]{1,4}){0,15}$/.test(v)) throw bad(`cpus=${JSON.stringify(v)}: any, or a CPU list such as 0 or 0-1`);
      c.cpus = v;
      return;
    default:
      throw bad(`unknown key ${JSON.stringify(key)}: one of ${NET_KEYS.join(', ')}`);
  }
}

/** Rules across keys: a line may be well formed and still describe a lab that cannot work. */
export function checkNet(c: NetConfig): NetConfig {
  if (c.transport === 'tuntap') {
    if (c.mtu > MAX_TUNTAP_MTU) throw bad(`mtu=${c.mtu}: the legacy tuntap driver takes at most ${MAX_TUNTAP_MTU}`);
    if (c.depth || !c.vec || !c.gro) throw bad('gro, vec and depth are options of the vector driver (transport=tap, raw or hybrid), not of tuntap');
  } else if (!c.gro && c.mtu > 1500) {
    throw bad(`mtu=${c.mtu} needs gro=1 (the vector driver's receive buffers fit one 1500-byte frame without it)`);
  }
  return c;
}

export const PRESET_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Parses a `key=value,…` line over `base` (the built-in configuration when not given). */
export function parseNetLine(line: string, base: Readonly<NetConfig> = BUILTIN_NET): NetConfig {
  if (typeof line !== 'string' || line.length > 1024) throw bad('a preset name or key=value,… of at most 1024 characters');
  const c: NetConfig = { ...base };
  const seen = new Set<string>();
  // A CPU list has commas of its own: `cpus=0,2,rps=1` is cpus=0,2 and rps=1.
  const items: string[] = [];
  for (const part of line.split(',')) {
    if (items.length && items[items.length - 1].startsWith('cpus=') && /^[0-9]{1,4}(-[0-9]{1,4})?$/.test(part)) items[items.length - 1] += `,${part}`;
    else items.push(part);
  }
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw bad(`${JSON.stringify(item)} is not key=value`);
    const key = item.slice(0, eq), v = item.slice(eq + 1);
    const canon = key === 'offload' ? 'hostOffload' : key;
    if (seen.has(canon)) throw bad(`${key} given twice`);
    seen.add(canon);
    setKey(c, key, v);
  }
  return checkNet(c);
}

/** The canonical line of a configuration: only what differs from the built-in one (`` for it). */
export function formatNet(c: NetConfig): string {
  const out: string[] = [];
  for (const k of NET_KEYS) {
    const v = c[k] ?? ABSENT_NET[k] ?? BUILTIN_NET[k];
    if (v === BUILTIN_NET[k]) continue;
    out.push(`${k}=${typeof v === 'boolean' ? (v ? 1 : 0) : k === 'sockbuf' || k === 'tcpRmem' ? sizeText(v as number) : v}`);
  }
  return out.join(',');
}

function sizeText(n: number): string {
  if (n && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}MiB`;
  if (n && n % 1024 === 0) return `${n / 1024}KiB`;
  return String(n);
}

// ---- presets ---------------------------------------------------------------------------

/** Saved presets: one root-owned file, 0600, in the root-owned data directory. */
export const PRESETS_FILE = path.join(DATA_ROOT, 'net-presets.json');
const MAX_PRESETS_BYTES = 64 * 1024;
const MAX_PRESETS = 64;

export interface NetPresetOptions {
  /** The presets file (tests use their own). */
  file?: string;
}

/**
 * Reads the saved presets. The file is input: it must be a regular file (no symlink), owned
 * by root or by us, writable by nobody else, small, and every preset in it a valid line.
 */
export function readNetPresets(o: NetPresetOptions = {}): Record<string, string> {
  const file = o.file ?? PRESETS_FILE;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UmlperfError('ERR_UMLPERF_PRESETS', `cannot read net presets ${file}: ${(e as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    const me = process.geteuid?.() ?? 0;
    if (!st.isFile()) throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file} is not a regular file`);
    if (st.uid !== 0 && st.uid !== me) throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file} is owned by uid ${st.uid}, not root: ignored`);
    if (st.mode & 0o022) throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file} is writable by others (mode ${(st.mode & 0o777).toString(8)})`);
    if (st.size > MAX_PRESETS_BYTES) throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file} is larger than ${MAX_PRESETS_BYTES} bytes`);
    const buf = Buffer.alloc(MAX_PRESETS_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX_PRESETS_BYTES) throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file} is larger than ${MAX_PRESETS_BYTES} bytes`);
    return validatePresets(buf.subarray(0, n).toString('utf8'), file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Checks the presets file's text: a JSON object of name → line, each line valid. */
export function validatePresets(text: string, file = 'presets'): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file} is not JSON`);
  }
  const presets = (v as { presets?: unknown })?.presets;
  if (typeof v !== 'object' || v === null || (v as { version?: unknown }).version !== 1 || typeof presets !== 'object' || presets === null || Array.isArray(presets))
    throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file}: expected {"version":1,"presets":{NAME:"key=value,…"}}`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries = Object.entries(presets as Record<string, unknown>);
  if (entries.length > MAX_PRESETS) throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file}: more than ${MAX_PRESETS} presets`);
  for (const [name, line] of entries) {
    if (!PRESET_NAME.test(name) || name === 'builtin') throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file}: bad preset name ${JSON.stringify(name.slice(0, 40))}`);
    if (typeof line !== 'string') throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file}: preset ${name} is not a string`);
    try {
      if (line !== '') parseNetLine(line);
    } catch (e) {
      throw new UmlperfError('ERR_UMLPERF_PRESETS', `net presets ${file}: preset ${name}: ${(e as Error).message}`);
    }
    out[name] = line;
  }
  return out;
}

/**
 * Saves a preset (replacing one of that name): written to a temporary file beside the presets
 * file, created exclusively, then renamed over it. The directory must be root's (or ours) and
 * writable by nobody else.
 */
export function saveNetPreset(name: string, c: NetConfig, o: NetPresetOptions = {}): string {
  if (!PRESET_NAME.test(name) || name === 'builtin') throw new UsageError(`bad preset name ${JSON.stringify(name)}: a-z, 0-9 and -, 1-32, not builtin`);
  const file = o.file ?? PRESETS_FILE;
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const me = process.geteuid?.() ?? 0;
  if (!st.isDirectory() || (st.uid !== 0 && st.uid !== me) || st.mode & 0o022)
    throw new UmlperfError('ERR_UMLPERF_PRESETS', `${dir} is not a directory of root's that only root may write`);
  const presets = { ...readNetPresets({ file }), [name]: formatNet(checkNet({ ...c })) };
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify({ version: 1, presets }, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return file;
}

export interface ResolvedNet {
  /** The preset it came from (`builtin`, `default`, a saved name), or undefined for a line. */
  preset?: string;
  /** The canonical line (only what differs from builtin). */
  line: string;
  config: NetConfig;
}

/**
 * `--net` as given: a preset name, or `key=value,…` (optionally after a preset: `fast,mtu=1500`
 * starts from preset `fast`). Undefined: the `default` preset (a saved one, else builtin).
 */
export function resolveNet(spec?: string | Partial<NetConfig>, o: NetPresetOptions = {}): ResolvedNet {
  if (spec !== undefined && typeof spec === 'object') {
    const c = checkNet({ ...BUILTIN_NET, ...spec });
    // Through the parser once more: every value checked as if it were typed.
    const line = formatNet(c);
    const config = line ? parseNetLine(line) : { ...BUILTIN_NET };
    return { line, config };
  }
  const text = spec ?? 'default';
  if (typeof text !== 'string' || !text.length) throw bad('empty: a preset name or key=value,…');
  const [head, ...rest] = text.split(',');
  if (!head.includes('=')) {
    if (!PRESET_NAME.test(head)) throw bad(`${JSON.stringify(head.slice(0, 40))} is not a preset name or key=value`);
    let baseLine: string;
    if (head === 'builtin') baseLine = '';
    else {
      const saved = readNetPresets(o)[head];
      if (saved === undefined) {
        if (head !== 'default') throw new UsageError(`bad --net: no preset ${JSON.stringify(head)} (builtin, default${Object.keys(readNetPresets(o)).filter((n) => n !== 'default').map((n) => `, ${n}`).join('')})`);
        baseLine = '';
      } else baseLine = saved;
    }
    const base = baseLine ? parseNetLine(baseLine) : { ...BUILTIN_NET };
    const config = rest.length ? parseNetLine(rest.join(','), base) : base;
    return { preset: head, line: formatNet(config), config };
  }
  const config = parseNetLine(text);
  return { line: formatNet(config), config };
}

// ---- what a configuration means for UML, the host and the guest --------------------------

/** The guest's network device name. */
export const netDevice = (c: NetConfig): string => (c.transport === 'tuntap' ? 'eth0' : 'vec0');

/** The UML kernel's network argument. */
export function umlNetArg(c: NetConfig, tap: string, mac: string): string {
  if (c.transport === 'tuntap') return `eth0=tuntap,${tap},${mac}`;
  const opts = [`transport=${c.transport}`, `ifname=${tap}`];
  if (c.gro) opts.push('gro=1');
  if (!c.vec) opts.push('vec=0');
  if (c.depth) opts.push(`depth=${c.depth}`);
  if (c.mtu !== 1500) opts.push(`mtu=${c.mtu}`);
  opts.push(`mac=${mac}`);
  return `vec0:${opts.join(',')}`;
}

/**
 * Guest kernel command-line words (sysctl.* boot parameters, applied before init runs): the
 * qdisc (a device's qdisc is made when it first goes up, by init) and the socket buffers.
 * A value with spaces is quoted, as the kernel's parameter parser takes it.
 */
export function guestKernelArgs(c: NetConfig): string[] {
  return guestSysctls(c).map(([k, v]) => `sysctl.${k.replace(/\//g, '.')}=${v.includes(' ') ? `"${v}"` : v}`);
}

/**
 * The guest kernel's sysctls: qdisc and socket buffers. The TCP receive ceiling is the larger
 * of sockbuf and tcpRmem; the kernel's total for TCP (tcp_mem, scaled to the guest's memory)
 * still bounds what all connections hold together.
 */
export function guestSysctls(c: NetConfig): [string, string][] {
  const out: [string, string][] = [];
  if (c.qdisc !== 'default') out.push(['net/core/default_qdisc', c.qdisc]);
  if (c.sockbuf) {
    const b = String(c.sockbuf);
    out.push(['net/core/rmem_max', b], ['net/core/wmem_max', b], ['net/core/rmem_default', b], ['net/core/wmem_default', b]);
  }
  const rmem = Math.max(c.sockbuf, c.tcpRmem ?? 0);
  if (rmem) out.push(['net/ipv4/tcp_rmem', `4096 131072 ${rmem}`]);
  if (c.sockbuf) out.push(['net/ipv4/tcp_wmem', `4096 16384 ${c.sockbuf}`]);
  return out;
}

/**
 * The shell script (POSIX sh + ip) that applies what the command line cannot, after boot, over
 * the exec channel (the queue length; the MTU of the legacy driver, which takes none): empty
 * when there is nothing to do. Every word in it comes from a validated config.
 */
export function guestNetScript(c: NetConfig): string {
  const dev = netDevice(c);
  const lines: string[] = [];
  if (c.mtu !== 1500 && c.transport === 'tuntap') lines.push(`ip link set dev ${dev} mtu ${c.mtu} || exit 4`);
  if (c.txqlen) lines.push(`ip link set dev ${dev} qlen ${c.txqlen} || exit 5`);
  if (!lines.length) return '';
  return `${lines.join('\n')}\n`;
}

/** `ethtool -K` arguments for the TAP's host-side offloads; undefined to leave them alone. */
export function hostOffloadArgs(c: NetConfig, tap: string): string[] | undefined {
  if (c.hostOffload === 'default') return undefined;
  const v = c.hostOffload;
  return ['-K', tap, 'tso', v, 'gso', v, 'gro', v, 'tx', v, 'rx', v];
}

/**
 * With rps: the TAP's rps_cpus mask — the CPUs of this machine the guests are not pinned to, or
 * all of them when the guests are unpinned or pinned to every CPU (at most the first 64);
 * undefined when rps is off or there is only one CPU. Hex in 32-bit words separated by commas,
 * as the kernel reads a CPU mask.
 */
export function rpsMask(c: NetConfig, cpuCount: number): string | undefined {
  if (!c.rps || cpuCount < 2) return undefined;
  const n = Math.min(cpuCount, 64);
  const guest = new Set(c.cpus === 'any' ? [] : (parseCpuList(c.cpus) ?? []));
  let mask = 0n;
  for (let i = 0; i < n; i++) if (!guest.has(i)) mask |= 1n << BigInt(i);
  if (mask === 0n) mask = (1n << BigInt(n)) - 1n;
  const words: string[] = [];
  for (; mask > 0n; mask >>= 32n) words.unshift((mask & 0xffffffffn).toString(16));
  return words.map((w, i) => (i ? w.padStart(8, '0') : w)).join(',');
}

/**
 * What a configuration does to a lab, as one string: UML's network argument, the guest's
 * kernel words and script, the MTU of the host-side links, the TAP's offloads and steering, and
 * the CPUs. Two configurations with one effect make the same lab whatever their lines say
 * (tcpRmem under a larger sockbuf; an MTU the guest script sets or UML's argument carries).
 */
export function netEffect(c: NetConfig, cpuCount: number): string {
  return JSON.stringify([umlNetArg(c, 'TAP', 'MAC'), guestKernelArgs(c), guestNetScript(c), c.mtu, hostOffloadArgs(c, 'TAP') ?? null, rpsMask(c, cpuCount) ?? null, c.cpus]);
}

/** Why a configuration cannot run here (the guest runs unprivileged; tools the host lacks). */
export function netUnsupported(c: NetConfig, have: { ethtool: boolean }): string | undefined {
  if (c.transport === 'raw' || c.transport === 'hybrid')
    return `transport=${c.transport} reads the host interface with a packet socket, which needs CAP_NET_RAW; lab guests run unprivileged (confined), so use transport=tap`;
  if (c.hostOffload !== 'default' && !have.ethtool) return `hostOffload=${c.hostOffload} needs ethtool on the host (not installed here)`;
  return undefined;
}

/** Whether ethtool is on PATH. */
export function haveEthtool(): boolean {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!d.startsWith('/')) continue;
    try {
      fs.accessSync(path.join(d, 'ethtool'), fs.constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}
