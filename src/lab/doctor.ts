// What the lab needs from this machine, checked one by one, with the exact fix for each miss.
import fs from 'node:fs';
import os from 'node:os';

import { endpointBinary, BUSYBOX_CANDIDATES } from '../images/minimal.js';
import { native } from '../native.js';
import { fpuAdapterPath, type FpuState } from './fpu.js';
import { DEFAULT_KERNEL, kernelCaps } from './kernel.js';
import { SETARCH } from './guest.js';
import { labDown, labUp } from './lab.js';
import { run } from './run.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** A Debian package that fixes it. */
  package?: string;
  /** Or what else to do. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
  /** The boot test, when it ran. */
  boot?: { ok: boolean; bootMs?: number; kernel: string; kernelVersion?: string; fpuState?: FpuState; error?: string; code?: string };
  /** One command installing every missing package, when packages are missing. */
  install?: string;
}

function capEff(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}
const CAP_NET_ADMIN = 12n, CAP_SYS_ADMIN = 21n;

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      fs.accessSync(`${dir}/${cmd}`, fs.constants.X_OK);
      return `${dir}/${cmd}`;
    } catch {
      // next
    }
  }
  return undefined;
}

function shmExec(): boolean {
  const line = fs.readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === '/dev/shm');
  return !!line && !line.split(' ')[3].split(',').includes('noexec');
}

export interface DoctorOptions {
  kernel?: string;
  /** Boot one guest (default true): the only test that the lab really works here. */
  boot?: boolean;
  signal?: AbortSignal;
}

export function describeFpuState(f: FpuState | undefined, dynamicKernel = true): string {
  if (!dynamicKernel) return 'vector state: kernel is statically linked, so the FPU-state adapter cannot load (on hosts with AMX it must be Linux >= 6.13)';
  if (!f || f.mode === 'unknown') return 'vector state: not reported (the FPU-state adapter saw no call)';
  const sizes = `host XSAVE area ${f.hostXstateBytes} B, kernel buffer ${f.umlXstateBytes} B`;
  return f.mode === 'adapted'
    ? `vector state: adapted (${sizes}: widened by umlperf-fpu.so)`
    : `vector state: native (${sizes})`;
}

/** Boots one minimal guest in a lab of its own and tears it down again. */
async function bootTest(kernel: string, version: string | undefined, signal?: AbortSignal): Promise<NonNullable<DoctorReport['boot']>> {
  const name = `dr${(process.pid % 1_000_000).toString(36)}`;
  try {
    const up = await labUp({ name, guests: 1, kernel, signal });
    const g = up.guests[0];
    return { ok: true, bootMs: g.bootMs, kernel, kernelVersion: version, fpuState: g.fpuState };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, kernel, kernelVersion: version, error: err.message.split('\n')[0], code: err.code };
  } finally {
    await labDown(name).catch(() => undefined);
  }
}

export async function doctor(o: DoctorOptions = {}): Promise<DoctorReport> {
  const kernel = o.kernel ?? DEFAULT_KERNEL;
  let kernelVersion: string | undefined;
  let dynamicKernel = true;
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  add({ name: 'host kernel', ok: os.platform() === 'linux', detail: `${os.type()} ${os.release()} ${os.arch()}` });
  const caps = capEff();
  add({
    name: 'privileges',
    ok: (caps >> CAP_NET_ADMIN) & 1n && (caps >> CAP_SYS_ADMIN) & 1n ? true : false,
    detail: process.getuid?.() === 0 ? 'root' : `uid ${process.getuid?.()}; CAP_NET_ADMIN and CAP_SYS_ADMIN needed`,
    fix: 'run as root (namespaces, TAPs and setns need CAP_NET_ADMIN + CAP_SYS_ADMIN)',
  });
  let tun = false;
  try {
    fs.closeSync(fs.openSync('/dev/net/tun', 'r+'));
    tun = true;
  } catch {
    // reported below
  }
  add({ name: '/dev/net/tun', ok: tun, detail: tun ? 'opens' : 'missing or not openable', fix: 'modprobe tun (or mknod /dev/net/tun c 10 200)' });
  const netnsOk = fs.existsSync('/proc/self/ns/net');
  add({ name: 'network namespaces', ok: netnsOk, detail: netnsOk ? '/proc/self/ns/net present' : 'kernel without CONFIG_NET_NS' });

  const ipPath = await which('ip');
  let ipDetail = 'not found';
  if (ipPath) ipDetail = (await run(ipPath, ['-V']).catch(() => '')).trim() || ipPath;
  add({ name: 'iproute2 (ip)', ok: !!ipPath && /iproute2/.test(ipDetail), detail: ipDetail, package: 'iproute2' });

  try {
    const k = await kernelCaps(kernel);
    kernelVersion = k.version;
    dynamicKernel = k.dynamic;
    add({ name: 'UML kernel', ok: true, detail: `${kernel} ${k.version}; transports: ${k.transports.join(', ') || 'none'}; ubd ${k.ubd ? 'yes' : 'no'}, hostfs ${k.hostfs ? 'yes' : 'no'}, mconsole notify ${k.mconsoleNotify ? 'yes' : 'no'}` });
    add({ name: 'vector transport', ok: k.transports.includes('vector'), detail: k.transports.includes('vector') ? 'vec0:transport=tap' : 'missing: only --transport tuntap', fix: 'a kernel with CONFIG_UML_NET_VECTOR' });
  } catch (e) {
    add({ name: 'UML kernel', ok: false, detail: (e as Error).message, package: kernel === DEFAULT_KERNEL ? 'user-mode-linux' : undefined });
  }
  const busybox = BUSYBOX_CANDIDATES.find((p) => fs.existsSync(p));
  const fileOut = busybox ? await run('file', ['-L', busybox]).catch(() => '') : '';
  add({ name: 'static busybox', ok: !!busybox && /statically linked/.test(fileOut), detail: busybox ? (/statically linked/.test(fileOut) ? `${busybox} (static)` : `${busybox} is not static`) : 'not found', package: 'busybox-static' });
  const mke2fs = await which('mke2fs');
  add({ name: 'mke2fs', ok: !!mke2fs, detail: mke2fs ?? 'not found', package: 'e2fsprogs' });
  add({ name: 'file', ok: !!(await which('file')), detail: 'used to check that busybox is static', package: 'file' });
  add({ name: 'setarch', ok: !!SETARCH, detail: SETARCH ? `${SETARCH}: guests boot without address-space randomisation (steady figures from boot to boot)` : 'not found: guests boot randomised, and their throughput may differ from boot to boot', package: 'util-linux' });
  add({ name: '/dev/shm allows exec', ok: shmExec(), detail: 'UML backs guest RAM with a file in $TMPDIR=/dev/shm', fix: 'mount -o remount,exec /dev/shm' });
  let ep: string | undefined;
  try {
    ep = endpointBinary();
  } catch (e) {
    // reported below
  }
  add({ name: 'umlperf-endpoint', ok: !!ep, detail: ep ?? 'not built', fix: 'npx node-gyp rebuild (in the umlperf package)' });
  let adapter: string | undefined;
  try {
    adapter = fpuAdapterPath();
  } catch {
    // reported below
  }
  add({ name: 'FPU-state adapter', ok: !!adapter, detail: adapter ?? 'umlperf-fpu.so not built (guests die at once on hosts with AMX)', fix: 'npx node-gyp rebuild (in the umlperf package)' });
  let addon = true;
  try {
    native().clockInfo();
  } catch {
    addon = false;
  }
  add({ name: 'native addon', ok: addon, detail: addon ? 'loads' : 'does not load', fix: 'npx node-gyp rebuild' });

  let boot: DoctorReport['boot'];
  if (o.boot ?? true) {
    if (checks.every((c) => c.ok)) {
      boot = await bootTest(kernel, kernelVersion, o.signal);
      add({
        name: 'guest boots',
        ok: boot.ok,
        detail: boot.ok
          ? `ready in ${boot.bootMs} ms; UML ${boot.kernelVersion ?? '?'}; ${describeFpuState(boot.fpuState, dynamicKernel)}`
          : boot.error ?? 'failed',
      });
    } else {
      add({ name: 'guest boots', ok: false, detail: 'not tried: fix the failed checks above first' });
    }
  }

  const missing = [...new Set(checks.filter((c) => !c.ok && c.package).map((c) => c.package!))];
  return {
    ok: checks.every((c) => c.ok),
    checks,
    ...(boot ? { boot } : {}),
    install: missing.length ? `apt-get install -y ${missing.join(' ')}` : undefined,
  };
}
