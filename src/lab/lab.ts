// A lab: `<lab>-client` ── veth ── bridge in `<lab>-host` ── TAP per UML guest. Made step by
// step with every object recorded in the state file first; any failure or abort tears down
// what was made.
import { spawn } from 'node:child_process';
import { getMaxListeners, setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { abortError, UmlperfError, UsageError } from '../errors.js';
import { minimalImage, type GuestImage } from '../images/minimal.js';
import { native } from '../native.js';
import { checkServersImage, guestServerArgs, planLabServers, SERVERS_MIN_MEM_MB, startLabHostServers, waitLabHealthy, type LabServersPlan } from '../servers/lab-servers.js';
import { BootWatcher, type GuestLogError } from './boot.js';
import { cgroupCreate, cgroupKill, cgroupMode } from './cgroup.js';
import { faultPoint } from './fault.js';
import { applyLimits, checkMemLimit, limitControllers, type GuestLimits, type LimitReport } from './limits.js';
import { allocateIds, makeFifo, prepareDataDir, prepareGuestDir } from './confine.js';
import { guestExec, type GuestExecOptions, type GuestExecResult } from './exec.js';
import { keepFile } from './logs.js';
import { guestRecord, kernelPid, spawnGuest, type GuestSpec, type RootFs, type SpawnedGuest } from './guest.js';
import { fpuStateOf, type FpuState } from './fpu.js';
import { spawnHostEndpoint } from './host-endpoint.js';
import { DEFAULT_KERNEL, kernelCaps } from './kernel.js';
import {
  BRIDGE, CLIENT_ADDRESS, CLIENT_MAC, DEFAULT_LAB, HOST_ADDRESS, HOST_MAC, RUN_ROOT, SUBNET_PREFIX, VETH,
  clientNetns, dataDir, guestId, guestNumber, hostNetns, labDir, labTarget, validateGuestCount, validateLabName, type LabTarget,
} from './names.js';
import { addrAdd, bridgeAdd, linkMaster, linkUp, neighPermanent, netnsAdd, netnsExists, vethAdd } from './netns.js';
import { endGroup, isAlive, startTimeOf } from './process.js';
import { listLabs, readState, StateRecorder, type LabState, type ProcessRecord, type Transport } from './state.js';
import { BUILTIN_NET, guestNetScript, haveEthtool, hostOffloadArgs, netUnsupported, resolveNet, rpsMask, type NetConfig, type ResolvedNet } from './net-config.js';
import { ip, run } from './run.js';
import { teardownLab } from './teardown.js';

export const DEFAULT_MEM = '64M';
/** Default pids.max of a guest's cgroup: far above what its servers use, far below the host's pid space. */
export const GUEST_PIDS_MAX = 2048;
/** The Debian image's servers need more (named does not start at 64M). */
export const SERVERS_MEM = `${SERVERS_MIN_MEM_MB}M`;

export interface LabUpOptions {
  name?: string;
  guests?: number;
  /** 'minimal', or an image already built (e.g. the Debian one) */
  image?: 'minimal' | GuestImage;
  /** Legacy form of `net`'s transport: vector (= transport=tap) or tuntap. */
  transport?: Transport;
  /**
   * The network configuration (net-config.ts): a preset name, a `key=value,…` line, or an
   * object; default: the `default` preset. Recorded in the lab's state and in `labStatus`.
   */
  net?: string | Partial<NetConfig>;
  mem?: string;
  kernel?: string;
  rootfs?: RootFs;
  /**
   * CPUs (a taskset list, e.g. "0") for everything the lab serves from: guests, the host
   * endpoint, host-side servers. With probes pinned elsewhere, placement is the same every run.
   */
  cpus?: string;
  /** Servers started on every guest and on the host side, healthy before labUp returns. */
  servers?: string | string[];
  /** Per guest, added to a base of 30 s. */
  bootTimeoutMs?: number;
  /**
   * Host processes a guest may hold (its cgroup's pids.max; every guest process is a host
   * process), default GUEST_PIDS_MAX; 0: no limit.
   */
  guestPidsMax?: number;
  /** Host-side limits on each guest's cgroup (limits.ts); `pids` overrides guestPidsMax. */
  limits?: GuestLimits;
  signal?: AbortSignal;
  /** Progress lines (the CLI shows them on a TTY only). */
  progress?: (line: string) => void;
}

export interface LabGuestInfo {
  id: string;
  address: string;
  pid: number;
  transport: Transport;
  bootMs: number;
  fpuState?: FpuState;
  /** Host-side limits (lab up --limit): applied, and unsupported here. */
  limits?: LimitReport;
  alive?: boolean;
  log?: string;
}
export interface LabInfo {
  name: string;
  status?: LabState['status'];
  client: { netns: string; address: string };
  host: { netns: string; address: string };
  guests: LabGuestInfo[];
  /** Wall time of `lab up`, spawn of the first guest to the last one ready. */
  guestsUpMs?: number;
  /** Per target (host, g1…): first guest spawn → all its servers pass their health checks. */
  serversHealthyMs?: Record<string, number>;
  /** The network configuration the lab was made with (`lab up --net`). */
  net?: ResolvedNet;
}

function info(s: LabState, withStatus = false): LabInfo {
  const out: LabInfo = {
    name: s.name,
    client: { netns: s.client.netns, address: s.client.address },
    host: { netns: s.host.netns, address: s.host.address },
    guests: s.guests.map((g) => {
      const gi: LabGuestInfo = { id: g.id, address: g.address, pid: g.pid ?? 0, transport: g.transport, bootMs: g.bootMs ?? 0 };
      if (g.fpuState) gi.fpuState = g.fpuState;
      if (g.limits) gi.limits = g.limits;
      if (withStatus) {
        const p = s.processes.find((x) => x.role === 'guest' && x.id === g.id);
        gi.alive = !!p && isAlive(p);
        gi.log = g.log;
      }
      return gi;
    }),
  };
  if (s.net) out.net = s.net;
  if (withStatus) out.status = s.status;
  return out;
}

const MEM = /^[1-9][0-9]{0,5}[kKmMgG]?$/;

/** A guest memory size as UML's mem= takes it (e.g. 64M), or a UsageError. */
export function checkMem(mem: string): string {
  if (!MEM.test(mem)) throw new UsageError(`bad memory size ${JSON.stringify(mem)}: e.g. 64M`);
  return mem;
}

/** Guest-id ranges of the labs that exist now (a new lab draws another). */
function takenIds(): Set<number> {
  const out = new Set<number>();
  for (const l of listLabs()) {
    try {
      const b = readState(l)?.ids?.base;
      if (b !== undefined) out.add(b);
    } catch {
      // corrupt: its range stays unknown
    }
  }
  return out;
}

/**
 * The network configuration a lab up with these options gets: `net` resolved (a preset, the
 * `default` one when absent), with the legacy `transport` applied, and refused where this host
 * cannot run it. A caller that makes several labs resolves it once and passes the config on.
 */
export function resolveLabNet(o: Pick<LabUpOptions, 'net' | 'transport'>): ResolvedNet {
  let net: ResolvedNet;
  try {
    net = resolveNet(o.net);
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(`bad net configuration: ${e.message}`) : e;
  }
  if (o.transport !== undefined) {
    const want = o.transport === 'tuntap' ? 'tuntap' : 'tap';
    if (o.net === undefined) {
      if (net.config.transport !== want) {
        // --transport alone: the default preset with that driver (vector options do not apply to tuntap).
        const r = resolveNet(want === 'tuntap' ? 'builtin,transport=tuntap' : 'builtin');
        return checkHere(r);
      }
    } else if ((net.config.transport === 'tuntap') !== (o.transport === 'tuntap')) {
      throw new UsageError(`--transport ${o.transport} and --net transport=${net.config.transport} disagree: give one`);
    }
  }
  return checkHere(net);
}

function checkHere(net: ResolvedNet): ResolvedNet {
  const why = netUnsupported(net.config, { ethtool: net.config.hostOffload === 'default' || haveEthtool() });
  if (why) throw new UmlperfError('ERR_UMLPERF_UNSUPPORTED', `--net: ${why}`);
  return net;
}

/** The guest side of the network configuration, over the guest's exec channel. */
async function applyGuestNet(g: LabState['guests'][number], net: NetConfig, signal?: AbortSignal): Promise<void> {
  const script = guestNetScript(net);
  if (!script) return;
  // The script is idempotent: a request that found the exec agent not yet listening (a guest
  // starved of CPU on a loaded host) is sent once more.
  let r;
  try {
    r = await guestExec(g, ['sh', '-c', script], { timeoutMs: 20_000, signal });
  } catch (e) {
    if ((e as { code?: string }).code !== 'ETIMEDOUT') throw e;
    r = await guestExec(g, ['sh', '-c', script], { timeoutMs: 40_000, signal });
  }
  if (r.status !== 0)
    throw new UmlperfError('ERR_UMLPERF_NET', `guest ${g.id}: network settings failed (status ${r.status}): ${r.stderr.toString('utf8').trim().split('\n')[0] ?? ''}`);
}

/** Brings a lab up and leaves it running (guests detached); returns where everything is. */
export async function labUp(o: LabUpOptions = {}): Promise<LabInfo> {
  const name = validateLabName(o.name ?? DEFAULT_LAB);
  const count = validateGuestCount(o.guests ?? 1);
  if (o.transport !== undefined && o.transport !== 'vector' && o.transport !== 'tuntap') throw new UsageError(`bad transport ${JSON.stringify(o.transport)}: vector or tuntap`);
  const net = resolveLabNet(o);
  const transport: Transport = net.config.transport === 'tuntap' ? 'tuntap' : 'vector';
  const plan = planLabServers(dataDir(name), o.servers);
  // Before anything is made (the minimal image included): only the Debian image has servers.
  if (o.image === undefined || o.image === 'minimal') checkServersImage(plan, 'minimal');
  const mem = o.mem ?? (plan.servers.length ? SERVERS_MEM : DEFAULT_MEM);
  checkMem(mem);
  if (o.limits) checkMemLimit(o.limits, mem);
  const kernel = o.kernel ?? DEFAULT_KERNEL;
  const cpus = o.cpus ?? (net.config.cpus === 'any' ? undefined : net.config.cpus);
  net.config.cpus = cpus ?? 'any';
  if (cpus !== undefined && !/^\d+([-,]\d+)*$/.test(cpus)) throw new UsageError(`bad CPU list ${JSON.stringify(cpus)}: e.g. 0 or 0-1 or 0,2`);
  const pidsMax = o.limits?.pids ?? o.guestPidsMax ?? GUEST_PIDS_MAX;
  if (!Number.isInteger(pidsMax) || pidsMax < 0 || pidsMax > 4_194_304) throw new UsageError(`bad guest pids limit ${JSON.stringify(pidsMax)}: 0 (none) or a count`);
  const signal = o.signal;
  // One abort listener per booting guest: up to 64 are expected, not a leak.
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), count + 10), signal);
  const say = o.progress ?? (() => undefined);
  const check = () => {
    if (signal?.aborted) throw abortError();
  };

  if (count > 0) {
    const caps = await kernelCaps(kernel);
    if (!caps.transports.includes(transport))
      throw new UmlperfError('ERR_UMLPERF_UNSUPPORTED', `kernel ${kernel} (${caps.version}) has no ${transport} transport; it has: ${caps.transports.join(', ') || 'none'}`);
    if (!caps.mconsoleNotify) throw new UmlperfError('ERR_UMLPERF_UNSUPPORTED', `kernel ${kernel} has no mconsole notify (CONFIG_MCONSOLE)`);
  }
  const dir = labDir(name);
  fs.mkdirSync(RUN_ROOT, { recursive: true, mode: 0o700 });
  try {
    fs.mkdirSync(dir, { mode: 0o700 });  // also the lock: one `lab up` per name
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UmlperfError('ERR_UMLPERF_LAB_EXISTS', `lab ${name} exists already (umlperf lab down --lab ${name}, or umlperf cleanup --lab ${name})`);
    throw e;
  }
  const ids = allocateIds(takenIds());
  // The first write names the data directory, the guests' ids and whether there is a cgroup
  // tree (all under fixed names); every namespace, link and file is added before it is made.
  const rec = new StateRecorder({
    version: 1, name, status: 'starting', createdAt: new Date().toISOString(), creatorPid: process.pid, dir,
    dataDir: dataDir(name), ids, cgroups: cgroupMode().version !== 0,
    kernel, mem, net, netns: [], links: [], processes: [], files: [], guests: [],
    client: { netns: clientNetns(name), address: CLIENT_ADDRESS },
    host: { netns: hostNetns(name), address: HOST_ADDRESS, endpointLog: path.join(dir, 'endpoint.log') },
  });
  rec.record(() => undefined);
  let watcher: BootWatcher | undefined;
  const spawned: SpawnedGuest[] = [];
  const addProcess = (p: ProcessRecord) => rec.record((s) => s.processes.push(p));
  try {
    faultPoint('state');
    const hostCg = cgroupCreate(name, 'host');
    const cns = clientNetns(name), hns = hostNetns(name);
    say(`lab ${name}: namespaces, veth, bridge`);
    await makeNetwork(rec, cns, hns, net.config);
    faultPoint('links');
    check();

    say(`lab ${name}: host endpoint on ${HOST_ADDRESS}`);
    await spawnHostEndpoint(name, rec.state.host.endpointLog!, addProcess, signal, cpus, hostCg);
    check();
    prepareDataDir(name, ids);
    if (count === 0 && !plan.servers.length) {
      rec.record((s) => (s.status = 'up'));
      return info(rec.state);
    }

    const image = o.image === undefined || o.image === 'minimal' ? await minimalImage() : o.image;
    rec.record((s) => (s.image = { name: image.name, base: image.base, root: image.root }));
    checkServersImage(plan, image.name);
    check();

    // The host side's servers start now and come up while the guests boot.
    const tServersNs = process.hrtime.bigint();
    if (plan.servers.length) say(`lab ${name}: servers ${plan.servers.join(',')} on the host side`);
    await startLabHostServers(plan, { netns: hns, root: image.root, cpus, onProcess: addProcess, cgroupProcs: hostCg });
    if (plan.servers.length) faultPoint('servers');
    check();

    const notifyPath = path.join(dataDir(name), 'notify.sock');
    rec.record((s) => s.files.push(notifyPath));
    // Guests (other uids, in the lab's group) write to it; the data directory admits only them.
    watcher = new BootWatcher(notifyPath, 0o666);
    const specs: GuestSpec[] = [];
    for (let n = 1; n <= count; n++) {
      const base = { lab: name, n, transport, net: net.config, kernel, image, mem, dir, ids, notifyPath, servers: plan.servers, rootfs: o.rootfs, cpus };
      const spec = await prepareGuest(rec, base, plan, pidsMax, o.limits);
      specs.push(spec);
    }
    check();

    say(`lab ${name}: booting ${count} guest${count > 1 ? 's' : ''} (${transport})`);
    const t0 = performance.now();
    const timeoutMs = 30_000 + (o.bootTimeoutMs ?? 3000) * count;
    const waits: Promise<void>[] = [];
    for (const spec of specs) {
      const g = rec.state.guests[spec.n - 1];
      const sg = spawnGuest(spec, g);
      spawned.push(sg);
      rec.record((s) => {
        s.processes.push(sg.proc);
        g.pid = sg.proc.pid;
      });
      waits.push(watcher.wait(g.id, sg.child, sg.spawnedAt, g.log, timeoutMs, signal).then((ms) => {
        const kpid = kernelPid(sg.proc.pid);
        rec.record((s) => {
          g.bootMs = ms;
          g.fpuState = fpuStateOf(g.log);
          g.pid = kpid ?? g.pid;
          g.mconsole = watcher?.sockets.get(g.umid) ?? g.mconsole;
          if (kpid) s.processes.push({ role: 'kernel', id: g.id, pid: kpid, pgid: kpid, startTime: startTimeOf(kpid) });
        });
        say(`  ${g.id} ${g.address} ready in ${ms} ms`);
      }));
    }
    // The first failure ends the wait (the guests that are still booting go in the teardown).
    await Promise.all(waits);
    faultPoint('booted');
    if (guestNetScript(net.config)) {
      say(`lab ${name}: guest network settings (${net.line})`);
      await Promise.all(rec.state.guests.map((g) => applyGuestNet(g, net.config, signal)));
    }
    const guestsUpMs = Math.round(performance.now() - t0);
    let serversHealthyMs: Record<string, number> | undefined;
    if (plan.servers.length) {
      say(`lab ${name}: health checks (${plan.servers.join(',')})`);
      const h = await waitLabHealthy(plan, { clientNetns: cns, host: true, guests: rec.state.guests, sinceNs: tServersNs, signal,
        cgroupProcs: hostCg, onProcess: addProcess });
      faultPoint('health');
      serversHealthyMs = Object.fromEntries(Object.entries(h.targets).map(([t, r]) => [t, r.okAfterMs]));
    }
    rec.record((s) => {
      s.status = 'up';
      // The health checks are over: their records would only hold PIDs that others may reuse.
      s.processes = s.processes.filter((p) => p.role !== 'health');
    });
    for (const sg of spawned) sg.child.unref();
    return { ...info(rec.state), guestsUpMs, ...(serversHealthyMs ? { serversHealthyMs } : {}) };
  } catch (e) {
    rec.state.status = 'failed';
    watcher?.close();
    watcher = undefined;
    const kept = keepLog(name, e);
    await teardownLab(name, { graceful: false }).catch(() => undefined);
    throw kept;
  } finally {
    watcher?.close();
  }
}

/** Step: the two namespaces, the veth between them, the bridge; each recorded before it is made. */
async function makeNetwork(rec: StateRecorder, cns: string, hns: string, net: NetConfig): Promise<void> {
  for (const ns of [cns, hns]) {
    if (netnsExists(ns)) throw new UmlperfError('ERR_UMLPERF_LAB_EXISTS', `network namespace ${ns} exists already and is not ours (ip netns delete ${ns})`);
  }
  for (const ns of [cns, hns]) {
    rec.record((s) => s.netns.push(ns));
    await netnsAdd(ns);
  }
  rec.record((s) => s.links.push({ netns: cns, name: VETH, kind: 'veth' }, { netns: hns, name: BRIDGE, kind: 'bridge' }));
  await vethAdd(cns, hns, VETH, CLIENT_MAC, HOST_MAC.replace(/01$/, '03'));
  await bridgeAdd(hns, BRIDGE, HOST_MAC);
  await linkMaster(hns, VETH, BRIDGE);
  await addrAdd(hns, BRIDGE, `${HOST_ADDRESS}/${SUBNET_PREFIX}`);
  await addrAdd(cns, VETH, `${CLIENT_ADDRESS}/${SUBNET_PREFIX}`);
  if (net.mtu !== 1500) for (const [ns, l] of [[hns, VETH], [hns, BRIDGE], [cns, VETH]]) await ip(['-n', ns, 'link', 'set', l, 'mtu', String(net.mtu)]);
  for (const [ns, l] of [[hns, VETH], [hns, BRIDGE], [cns, VETH]]) await linkUp(ns, l);
  await neighPermanent(cns, VETH, HOST_ADDRESS, HOST_MAC);
  await neighPermanent(hns, BRIDGE, CLIENT_ADDRESS, CLIENT_MAC);
}

/**
 * Step, per guest: its record (TAP, files) first, then its own directory, exec FIFOs, cgroup
 * leaf, server arguments, and its TAP — owned by the guest's uid, the only one that may attach.
 */
async function prepareGuest(rec: StateRecorder, base: Omit<GuestSpec, 'extraArgs' | 'cgroupProcs'>, plan: LabServersPlan, pidsMax: number, limits?: LabUpOptions['limits']): Promise<GuestSpec> {
  const { lab, n, ids } = base;
  const cns = clientNetns(lab), hns = hostNetns(lab);
  const g = guestRecord({ ...base, extraArgs: [] });
  rec.record((s) => {
    s.links.push({ netns: hns, name: g.tap, kind: 'tap' });
    s.files.push(g.log, g.exec.in, g.exec.out);
    s.guests.push(g);
  });
  prepareGuestDir(lab, n, ids);
  makeFifo(g.exec.in);
  makeFifo(g.exec.out);
  const join = limitControllers(limits);
  const cg = cgroupCreate(lab, g.id, { ...(pidsMax ? { pidsMax } : {}), join });
  if (pidsMax && !cg.unsupported) rec.record(() => (g.pidsMax = pidsMax));
  if (limits) {
    const lr = applyLimits(lab, g.id, limits, g.dir);
    rec.record(() => (g.limits = lr));
  }
  const spec: GuestSpec = { ...base, cgroupProcs: [...cg], extraArgs: await guestServerArgs(plan, { dir: g.dir!, uid: g.uid!, gid: ids.base }) };
  native().tapCreate({ name: g.tap, netns: hns, owner: g.uid!, group: ids.base });
  faultPoint('tap-created');
  native().bridgeAttach({ name: g.tap, bridge: BRIDGE, netns: hns });
  const net = base.net;
  if (net && net.mtu !== 1500) await ip(['-n', hns, 'link', 'set', g.tap, 'mtu', String(net.mtu)]);
  const offload = net && hostOffloadArgs(net, g.tap);
  if (offload) await run('ip', ['netns', 'exec', hns, 'ethtool', ...offload]);
  // The TAP's name is the lab's (validated) and the mask is hex: nothing in the line is input.
  const rps = net && rpsMask(net, os.availableParallelism());
  if (rps) await run('ip', ['netns', 'exec', hns, 'sh', '-c', `echo ${rps} > /sys/class/net/${g.tap}/queues/rx-0/rps_cpus`]);
  native().linkSetUp({ name: g.tap, netns: hns });
  await neighPermanent(cns, VETH, g.address, g.mac);
  await neighPermanent(hns, BRIDGE, g.address, g.mac);
  return spec;
}

/**
 * The lab's directories go in the teardown: a failed guest's console log is kept (logs.ts).
 */
function keepLog(lab: string, e: unknown): unknown {
  const err = e as GuestLogError;
  if (!(err instanceof UmlperfError) || !err.log) return e;
  try {
    const kept = keepFile(err.log, `${lab}-${path.basename(err.log, '.log')}`);
    return new UmlperfError(err.code, err.message.split(err.log).join(kept), { cause: e });
  } catch {
    return e;
  }
}

function requireState(name: string): LabState {
  validateLabName(name);
  const s = readState(name);
  if (!s) throw new UmlperfError('ERR_UMLPERF_NO_LAB', `no lab ${name} (umlperf lab up --lab ${name})`);
  return s;
}

export async function labDown(name = DEFAULT_LAB): Promise<{ name: string; removed: boolean }> {
  validateLabName(name);
  const r = await teardownLab(name, { graceful: true });
  return { name, removed: r.found };
}

export function labStatus(name = DEFAULT_LAB): LabInfo {
  return info(requireState(name), true);
}

/** Runs a command inside the lab's client or host namespace; resolves with its exit status. */
export function labExec(name: string, side: 'client' | 'host', cmd: string[]): Promise<number> {
  const s = requireState(name);
  if (!cmd.length) throw new UsageError('lab exec: name a command after --');
  const ns = side === 'client' ? s.client.netns : s.host.netns;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

/**
 * Runs a command (argv) in guest `gN` of the lab over its exec channel (a console line, not
 * the network); resolves with its exit status and outputs.
 */
export async function labGuestExec(name: string, guest: string, cmd: string[], o: GuestExecOptions = {}): Promise<GuestExecResult> {
  const s = requireState(name);
  const n = guestNumber(guest);
  const g = s.guests.find((x) => x.n === n);
  if (!g) throw new UsageError(`lab ${name} has no guest ${guest} (it has ${s.guests.map((x) => x.id).join(', ') || 'none'})`);
  const p = s.processes.find((x) => x.role === 'guest' && x.id === g.id);
  if (!g.exec || !p || !isAlive(p)) throw new UmlperfError('ERR_UMLPERF_GUEST_EXIT', `guest ${g.id} of lab ${name} is not running; log: ${g.log}`);
  return guestExec(g, cmd, o);
}

/** What a result measured against a lab target records in its config: the lab, the target, its network configuration. */
export interface LabResultConfig {
  lab: string;
  target: string;
  net: string;
}

/**
 * `--lab L --target host|gN` for the probes, from one read of the lab's state: the namespace to
 * probe from and the address (after checking that the lab and the guest exist), the lab's MTU,
 * and what each result records of it (read before the probe: a lab changed during it does not
 * relabel what was measured).
 */
export function labProbeTarget(lab: string, target: string): { target: LabTarget; mtu: number; config: LabResultConfig } {
  const t = labTarget(lab, target);
  const s = requireState(lab);
  if (target !== 'host' && !s.guests.some((g) => g.n === guestNumber(target)))
    throw new UsageError(`lab ${lab} has no guest ${target} (it has ${s.guests.map((g) => g.id).join(', ') || 'none'})`);
  return { target: t, mtu: s.net?.config.mtu ?? BUILTIN_NET.mtu, config: { lab, target, net: s.net?.line || 'builtin' } };
}

/**
 * After a probe of a lab target failed: an error that says the guest is gone, if it is
 * (else undefined, and the probe's own error stands).
 */
export function targetDownError(lab: string, target: string): UmlperfError | undefined {
  const s = readState(lab);
  if (!s) return new UmlperfError('ERR_UMLPERF_LAB_GONE', `lab ${lab} is gone (torn down during the probe?)`);
  const p = s.processes.find((x) => x.id === target);
  if (!p || isAlive(p)) return undefined;
  const g = s.guests.find((x) => x.id === target);
  const log = target === 'host' ? s.host.endpointLog : g?.log;
  const what = target === 'host' ? 'host endpoint' : `guest ${target}`;
  return new UmlperfError('ERR_UMLPERF_GUEST_EXIT', `${what} (pid ${g?.pid ?? p.pid}) is not running; log: ${log}`);
}

export interface ReplaceGuestOptions {
  /** The servers the lab was made with (`lab up --servers`): the new guest starts them too. */
  servers?: string | string[];
  /** Boot deadline, default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Replaces guest `gN` of a running lab with a fresh one (same address, TAP, cgroup leaf and
 * limits, a new copy-on-write disk): what ends a fault that outlived its window, or a guest
 * that panicked. The old guest's processes are killed by their cgroup leaf, not by name.
 */
export async function labReplaceGuest(name: string, guest: string, o: ReplaceGuestOptions = {}): Promise<LabGuestInfo> {
  const s = requireState(name);
  const n = guestNumber(guest);
  const g = s.guests.find((x) => x.n === n);
  if (!g || !s.image || !s.ids || !s.kernel || !s.mem) throw new UsageError(`lab ${name} has no guest ${guest} to replace`);
  const rec = new StateRecorder(s);
  for (const p of s.processes.filter((x) => (x.role === 'guest' || x.role === 'kernel') && x.id === g.id)) await endGroup(p, 0);
  if (s.cgroups) await cgroupKill(name, g.id);
  rec.record((st) => (st.processes = st.processes.filter((x) => !((x.role === 'guest' || x.role === 'kernel') && x.id === g.id))));
  if (g.cow) fs.rmSync(g.cow, { force: true });
  if (g.dir) fs.rmSync(path.join(g.dir, g.umid), { recursive: true, force: true });
  const plan = planLabServers(dataDir(name), o.servers);
  const notifyPath = path.join(dataDir(name), 'notify.sock');
  fs.rmSync(notifyPath, { force: true });
  const watcher = new BootWatcher(notifyPath, 0o666);
  try {
    const join = limitControllers(g.limits?.limits);
    const cgroupProcs = s.cgroups ? [...cgroupCreate(name, g.id, { ...(g.pidsMax ? { pidsMax: g.pidsMax } : {}), join })] : [];
    const spec: GuestSpec = {
      lab: name, n, transport: g.transport, net: s.net?.config, kernel: s.kernel, image: s.image, mem: s.mem, dir: s.dir, ids: s.ids, notifyPath,
      servers: plan.servers, rootfs: g.cow ? 'cow' : 'hostfs', cgroupProcs,
      extraArgs: await guestServerArgs(plan, { dir: g.dir!, uid: g.uid!, gid: s.ids.base }),
    };
    const sg = spawnGuest(spec, g);
    rec.record((st) => {
      st.processes.push(sg.proc);
      g.pid = sg.proc.pid;
    });
    const ms = await watcher.wait(g.id, sg.child, sg.spawnedAt, g.log, o.timeoutMs ?? 60_000, o.signal);
    const kpid = kernelPid(sg.proc.pid);
    rec.record((st) => {
      g.bootMs = ms;
      g.pid = kpid ?? g.pid;
      g.mconsole = watcher.sockets.get(g.umid) ?? g.mconsole;
      if (kpid) st.processes.push({ role: 'kernel', id: g.id, pid: kpid, pgid: kpid, startTime: startTimeOf(kpid) });
    });
    if (s.net) await applyGuestNet(g, s.net.config, o.signal);
    if (plan.servers.length)
      await waitLabHealthy(plan, { clientNetns: s.client.netns, host: false, guests: [g], signal: o.signal, cgroupProcs: cgroupCreate(name, 'host') });
    sg.child.unref();
    return { id: g.id, address: g.address, pid: g.pid ?? 0, transport: g.transport, bootMs: ms };
  } finally {
    watcher.close();
  }
}

/** One line of `umlperf lab list`: a lab found under the state directory. */
export interface LabSummary {
  name: string;
  /** From its state file; `unknown` when the file is missing or unreadable (cleanup removes it). */
  status: LabState['status'] | 'unknown';
  /** When the lab was made. */
  startedAt?: string;
  image?: string;
  guests: number;
  /** Guests whose UML process is alive now. */
  running: number;
}

/** Every lab with a directory under the state root, by name. */
export function labList(): LabSummary[] {
  return listLabs().map((name) => {
    let s: LabState | undefined;
    try {
      s = readState(name);
    } catch {
      s = undefined;
    }
    if (!s || !Array.isArray(s.guests)) return { name, status: 'unknown', guests: 0, running: 0 };
    const running = s.guests.filter((g) => {
      const p = s!.processes.find((x) => x.role === 'guest' && x.id === g.id);
      return !!p && isAlive(p);
    }).length;
    return { name, status: s.status, startedAt: s.createdAt, image: s.image?.name, guests: s.guests.length, running };
  });
}
