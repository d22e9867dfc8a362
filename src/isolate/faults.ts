// The faults of experiment 4, injected in one guest (the faulty guest): what each one runs in
// the guest (a POSIX sh script for busybox ash or dash, over the exec channel) and how it is
// bounded. Every script ends itself when its window ends; one that does not answer by then
// plus a grace period is stopped by replacing the guest (run.ts).
import { UsageError } from '../errors.js';
import { FLOOD_GUEST_PATH, FLOOD_MAX_SECONDS } from '../guest/flood.js';
import { DEFAULT_DISCARD_PORT } from '../probes.js';
import { HOST_ADDRESS } from '../lab/names.js';

export const FAULTS = ['cpu', 'fork', 'memory', 'disk', 'flood', 'panic', 'crash'] as const;
export type FaultName = (typeof FAULTS)[number];

export const DEFAULT_WINDOW_S = 10;
/** Busy loops of the cpu fault (more than the host's CPUs: they compete for the guest's one). */
export const CPU_LOOPS = 4;
/** The flood's cap: the highest rate it may reach, whatever the guest manages. */
export const FLOOD_MAX_MBPS = 1000;
/** Where the flood goes: the host side's UDP discard service, a lab address the neighbours share a bridge with. */
export const FLOOD_TARGET = { address: HOST_ADDRESS, port: DEFAULT_DISCARD_PORT };

export const FAULT_TEXT: Record<FaultName, string> = {
  cpu: `${CPU_LOOPS} busy loops`,
  fork: 'fork bomb',
  memory: 'allocate until the OOM killer acts',
  disk: 'write + fsync loop',
  flood: `UDP flood to ${FLOOD_TARGET.address}:${FLOOD_TARGET.port}, ≤ ${FLOOD_MAX_MBPS} Mbit/s`,
  panic: 'kernel panic (sysrq c)',
  crash: 'SIGSEGV to its server',
};

/** `cpu,fork` or `all` → the faults in their fixed order (panic and crash last: they replace the guest). */
export function parseFaults(spec: string | undefined): FaultName[] {
  if (spec === undefined || spec === 'all') return [...FAULTS];
  const names = spec.split(',').map((s) => s.trim());
  for (const n of names)
    if (!(FAULTS as readonly string[]).includes(n)) throw new UsageError(`bad --faults ${JSON.stringify(spec)}: ${JSON.stringify(n)} is not one of ${FAULTS.join(', ')} (or all)`);
  if (new Set(names).size !== names.length) throw new UsageError(`bad --faults ${JSON.stringify(spec)}: a fault named twice`);
  return FAULTS.filter((f) => names.includes(f));
}

/** The server process the crash fault kills: the first of the guest's servers, else our endpoint. */
export function crashVictim(servers: readonly string[]): string {
  if (servers.includes('dns')) return 'named';
  if (servers.includes('www')) return 'apache2';
  return 'umlperf-endpoint';
}

/**
 * A deadline loop in sh, in hundredths of a second of the guest's uptime (`date +%s` would end
 * a window up to a second early), read with built-ins only: a fork costs ~15 ms in a guest and
 * may be what a fault has exhausted. `$now` and `$end` are set; `$end` is the window's end.
 */
const NOW = 'read up rest < /proc/uptime; now=${up%.*}${up#*.}';
export const deadlineSh = (w: number) => `${NOW}; end=$(( now + ${w} * 100 ))`;
export const BEFORE_END_SH = `${NOW}; [ "$now" -lt "$end" ]`;

/**
 * The script that injects `f` for `windowS` seconds and ends it; undefined for panic (it goes
 * through mconsole, not the guest's shell). Its last output line says what happened.
 */
export function faultScript(f: FaultName, windowS: number, servers: readonly string[] = []): string | undefined {
  if (!(Number.isInteger(windowS) && windowS >= 1 && windowS <= 300)) throw new UsageError(`bad fault window ${windowS}: 1 to 300 s`);
  const w = windowS;
  switch (f) {
    case 'cpu':
      return [
        `i=0; while [ $i -lt ${CPU_LOOPS} ]; do timeout -s KILL ${w} sh -c 'while :; do :; done' & i=$((i+1)); done`,
        'wait',
        `echo "cpu: ${CPU_LOOPS} loops for ${w} s"`,
      ].join('\n');
    case 'fork':
      // Each bomb process checks the stop file before every fork (a shell built-in: no fork
      // needed to stop). Bounded in the guest by its memory and pid space, on the host by the
      // guest cgroup's pids.max.
      return [
        'd=/tmp/umlperf-fork; rm -rf $d; mkdir -p $d',
        `setsid sh -c 'b() { while [ ! -e /tmp/umlperf-fork/stop ]; do b & done; }; b' > /dev/null 2>&1 &`,
        `sleep ${w}`,
        ': > $d/stop',
        'i=0; while [ $i -lt 50 ]; do set -- /proc/[0-9]*; [ $# -lt 64 ] && break; sleep 0.2; i=$((i+1)); done',
        'set -- /proc/[0-9]*',
        'echo "fork: $# processes left after the stop"',
      ].join('\n');
    case 'memory':
      return [
        "before=$(dmesg | grep -c 'Killed process')",
        deadlineSh(w),
        'n=0',
        // timeout takes whole seconds: the last allocator may outlast the window by under one.
        `while ${BEFORE_END_SH}; do left=$(( (end - now + 99) / 100 )); timeout -s KILL $left tail /dev/zero > /dev/null 2>&1; n=$((n+1)); done`,
        "after=$(dmesg | grep -c 'Killed process')",
        'echo "memory: $n allocators, oomKills=$((after - before))"',
      ].join('\n');
    case 'disk':
      return [
        deadlineSh(w),
        'n=0',
        `while ${BEFORE_END_SH}; do dd if=/dev/zero of=/var/umlperf-disk bs=64k count=64 conv=fsync 2> /dev/null || break; n=$((n+1)); done`,
        'rm -f /var/umlperf-disk; sync',
        'echo "disk: $n x 4 MiB written and fsynced"',
      ].join('\n');
    case 'flood':
      // The helper runs at most FLOOD_MAX_SECONDS at a time: a longer window is flooded in pieces.
      return [
        `[ -x ${FLOOD_GUEST_PATH} ] || { echo "flood: no ${FLOOD_GUEST_PATH} in this image"; exit 3; }`,
        `left=${w}; total=0`,
        'while [ $left -gt 0 ]; do',
        `  s=$left; [ $s -gt ${FLOOD_MAX_SECONDS} ] && s=${FLOOD_MAX_SECONDS}`,
        `  out=$(${FLOOD_GUEST_PATH} ${FLOOD_TARGET.address} ${FLOOD_TARGET.port} $s ${FLOOD_MAX_MBPS}) || { echo "flood: umlperf-flood failed: $out"; exit 1; }`,
        '  b=${out#*sent }; b=${b%% bytes*}; total=$((total + b)); left=$((left - s))',
        'done',
        `echo "umlperf-flood: sent $total bytes in ${w} s"`,
      ].join('\n');
    case 'crash': {
      const v = crashVictim(servers);
      return [
        `p=$(pidof ${v}); [ -n "$p" ] || { echo "crash: no ${v} running"; exit 3; }`,
        `kill -SEGV $p`,
        `sleep ${w}`,
        `q=$(pidof ${v})`,
        `echo "crash: ${v} pid $p; after ${w} s: \${q:-none}"`,
      ].join('\n');
    }
    case 'panic':
      return undefined;
  }
}

/** What the script's output says, in figures (undefined where it says nothing). */
export function parseFaultOutput(f: FaultName, out: string): { oomKills?: number; restarted?: boolean; floodBytes?: number; unsupported?: string } {
  const last = out.trim().split('\n').slice(-1)[0] ?? '';
  if (/no \S+ in this image|no \S+ running/.test(last)) return { unsupported: last };
  if (f === 'memory') {
    const m = /oomKills=(\d+)/.exec(last);
    return m ? { oomKills: Number(m[1]) } : {};
  }
  if (f === 'crash') {
    const m = /pid ([\d ]+); after \d+ s: (.*)$/.exec(last);
    if (!m) return {};
    const after = m[2].trim();
    return { restarted: after !== 'none' && after !== m[1].trim() };
  }
  if (f === 'flood') {
    const m = /sent (\d+) bytes/.exec(last);
    return m ? { floodBytes: Number(m[1]) } : {};
  }
  return {};
}
