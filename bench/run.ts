// npm run bench: umlperf side by side with its peers on loopback, in one run.
//   response time p50 vs sockperf ping-pong --full-rtt (TCP, UDP; block, spin)
//   TCP throughput vs iperf3: one stream, -P 4, -R (each tool's default write size), and one
//   stream with 128 KiB writes for both; UDP unpaced vs iperf3 -u -b 0
//   connection rate (crr) vs netperf TCP_CRR (when netperf is on PATH)
//   interval reports every 0.1 s vs none (umlperf against itself)
// Each tool runs against its own server; servers are pinned to CPU 0 and clients (for umlperf:
// the whole bench process) to CPU 1, so that placement is the same for both. Rounds alternate
// which tool goes first; a figure is the ratio of the medians over the rounds, with a paired
// bootstrap 95% CI. "≥ 1.00 ×" a peer holds when that ratio is ≥ 1.00 and the CI's lower bound
// is ≥ 0.98 (for response time, lower is better: ≤ 1.00 and the upper bound ≤ 1.02); the
// interval row's cost is met when the whole CI lies within 0.99-1.01 (verdict.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { clockInfo, connectionRate, responseTime, spawnEndpoint, throughput, type EndpointProcess } from '../src/index.js';
import { median } from '../src/stats.js';
import { benchVerdict, type Better } from './verdict.js';

const ROUNDS = Math.max(10, Number(process.env.BENCH_ROUNDS ?? 10));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const SERVER_CPU = '0';
const CLIENT_CPU = 1;
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}
function need(tool: string): void {
  if (!have(tool)) {
    console.error(`bench: ${tool} is missing: apt-get install ${tool === 'taskset' ? 'util-linux' : tool}`);
    process.exit(2);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

// The peers' servers still running: an interrupted bench stops them before it exits.
const servers = new Set<ChildProcess>();
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    for (const p of servers) p.kill('SIGTERM');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });

function server(cmd: string[]): ChildProcess {
  const p = spawn('taskset', ['-c', SERVER_CPU, ...cmd], { stdio: 'ignore' });
  servers.add(p);
  p.once('exit', () => servers.delete(p));
  return p;
}

/**
 * umlperf's endpoint on free ports of its own choosing (port 0), read from its ready line: a
 * fixed port P would also need P+1..P+3, and the client connections of an earlier row (crr
 * makes thousands) sit in TIME_WAIT all over the ephemeral range.
 */
function ourServer(args: string[]): Promise<EndpointProcess> {
  return spawnEndpoint({ bind: '127.0.0.1', port: 0, prefix: ['taskset', '-c', SERVER_CPU], exitWithParent: true, args });
}
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 400));
}
function stop(p: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (p.exitCode !== null || p.signalCode !== null) return r();
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('exit', () => {
      clearTimeout(t);
      r();
    });
    p.kill('SIGTERM');
  });
}
function run(cmd: string[], timeoutS: number): string {
  const r = spawnSync('taskset', ['-c', String(CLIENT_CPU), ...cmd], { encoding: 'utf8', timeout: timeoutS * 1000 });
  return (r.stdout ?? '') + (r.stderr ?? '');
}


/** iperf3 -J, tried up to 3 times when it reports an error (a server still busy with the last test). */
function iperf3Json(args: string[]): any {
  let last = '';
  for (let i = 0; i < 3; i++) {
    const out = run(['iperf3', ...args], SECONDS + 20);
    try {
      const j = JSON.parse(out);
      if (!j.error && j.end) return j;
      last = j.error ?? 'no end section';
    } catch {
      last = out.slice(-200);
    }
    spawnSync('sleep', ['0.5']);
  }
  throw new Error(`iperf3 failed 3 times: ${last}`);
}

interface Row {
  what: string;
  unit: string;
  ours: number[];
  peer: number[];
  peerName: string;
  /** 'same': a cost that should not show (the interval row), met when the CI lies within 0.99-1.01. */
  better: Better;
}

/** Alternates the two measurements over the rounds (ours first in even rounds, the peer first in odd ones). */
async function rounds(row: Row, ours: () => Promise<number>, peer: () => Promise<number> | number): Promise<Row> {
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      row.ours.push(await ours());
      row.peer.push(await peer());
    } else {
      row.peer.push(await peer());
      row.ours.push(await ours());
    }
    process.stderr.write(`\r${row.what}: round ${i + 1}/${ROUNDS}   `);
  }
  process.stderr.write('\n');
  return row;
}

async function latency(protocol: 'tcp' | 'udp', wait: 'block' | 'spin', size: number): Promise<Row> {
  const sp = await freePort();
  const ours = await ourServer(['--no-chargen', '--no-udp-source']);
  const ep = ours.echoPort;
  const peer = server(['sockperf', 'server', '-i', '127.0.0.1', '-p', String(sp), ...(protocol === 'tcp' ? ['--tcp'] : [])]);
  await settle();
  const row: Row = { what: `response ${protocol.toUpperCase()} ${size} B ${wait}, p50 RTT`, unit: 'µs', ours: [], peer: [], peerName: 'sockperf', better: 'lower' };
  try {
    return await rounds(
      row,
      async () => (await responseTime({ host: '127.0.0.1', port: ep, protocol, wait, size, iterations: 20000 * SECONDS, warmup: 1000, cpu: CLIENT_CPU, keepSamples: false, timeoutMs: 1000 })).latency.p50Ns / 1e3,
      () => {
        const out = run(['sockperf', 'ping-pong', '-i', '127.0.0.1', '-p', String(sp), ...(protocol === 'tcp' ? ['--tcp'] : []), '-m', String(size), '-t', String(SECONDS), '--full-rtt', ...(wait === 'spin' ? ['--nonblocked'] : [])], SECONDS + 20);
        const m = /percentile 50\.000 =\s*([\d.]+)/.exec(out);
        if (!m) throw new Error(`sockperf gave no p50:\n${out.slice(-500)}`);
        return Number(m[1]);
      },
    );
  } finally {
    await Promise.all([ours.close(), stop(peer)]);
  }
}

// TCP rows run each tool with its own default write size (umlperf 256 KiB, iperf3 128 KiB),
// as a user would; 'tcp 128k' gives both 128 KiB writes, to show what the write size is worth.
type Bulk = 'tcp' | 'tcp 128k' | 'parallel 4' | 'reverse' | 'udp';

async function bulk(kind: Bulk): Promise<Row> {
  const ip = await freePort();
  const ours = await ourServer([]);
  const peer = server(['iperf3', '-s', '-B', '127.0.0.1', '-p', String(ip)]);
  await settle();
  const udp = kind === 'udp';
  const size = udp ? 1472 : kind === 'tcp 128k' ? 131072 : undefined;
  const peerArgs = kind === 'parallel 4' ? ['-P', '4'] : kind === 'reverse' ? ['-R'] : udp ? ['-u', '-b', '0'] : [];
  const sizeArgs = size === undefined ? [] : ['-l', String(size)];
  const row: Row = {
    what: `throughput ${udp ? `UDP ${size} B unpaced, received` : `TCP${kind === 'tcp' ? ' one stream' : kind === 'tcp 128k' ? ' one stream, 128 KiB writes both' : ` ${kind}`}`}`,
    unit: 'Mbit/s',
    ours: [],
    peer: [],
    peerName: `iperf3${[...peerArgs, ...sizeArgs].length ? ` ${[...peerArgs, ...sizeArgs].join(' ')}` : ''}`,
    better: 'higher',
  };
  try {
    return await rounds(
      row,
      async () => {
        const o = { host: '127.0.0.1', size, durationS: SECONDS, cpu: CLIENT_CPU };
        const r =
          kind === 'reverse'
            ? await throughput({ ...o, port: ours.chargenPort, reverse: true })
            : await throughput({ ...o, port: ours.discardPort, protocol: udp ? 'udp' : 'tcp', parallel: kind === 'parallel 4' ? 4 : 1 });
        return r.Mbps;
      },
      () => {
        const j = iperf3Json(['-c', '127.0.0.1', '-p', String(ip), '-t', String(SECONDS), '-J', ...sizeArgs, ...peerArgs]);
        // What the receiver got: TCP sum_received; UDP the sent rate less the loss the server saw.
        const bps = udp ? j.end.sum.bits_per_second * (1 - j.end.sum.lost_percent / 100) : j.end.sum_received.bits_per_second;
        return bps / 1e6;
      },
    );
  } finally {
    await Promise.all([ours.close(), stop(peer)]);
  }
}

/** Interval reports every 100 ms against none: umlperf against itself, TCP one stream. */
async function intervals(): Promise<Row> {
  const ours = await ourServer([]);
  const row: Row = { what: 'throughput TCP, --interval 100ms vs none', unit: 'Mbit/s', ours: [], peer: [], peerName: 'umlperf, no intervals', better: 'same' };
  const o = { host: '127.0.0.1', port: ours.discardPort, durationS: SECONDS, cpu: CLIENT_CPU };
  try {
    return await rounds(
      row,
      async () => (await throughput({ ...o, intervalMs: 100 })).Mbps,
      async () => (await throughput(o)).Mbps,
    );
  } finally {
    await ours.close();
  }
}

/**
 * Connection rate against netperf TCP_CRR (1-byte request and response, as our default): our
 * transaction session, where the server closes first, as netperf's does.
 */
async function crr(): Promise<Row | string> {
  if (!have('netperf') || !have('netserver')) {
    return 'crr vs netperf TCP_CRR: skipped, netperf is not on PATH (it is not in Debian: build it from https://github.com/HewlettPackard/netperf with ./autogen.sh && ./configure && make, and put src/ on PATH for the run)';
  }
  const np = await freePort();
  const ours = await ourServer([]);
  const ep = ours.udpSourcePort;
  const peer = server(['netserver', '-D', '-L', '127.0.0.1', '-p', String(np)]);
  await settle();
  const row: Row = { what: 'connection rate TCP, 1 B', unit: 'transactions/s', ours: [], peer: [], peerName: 'netperf TCP_CRR', better: 'higher' };
  // About SECONDS of transactions at the rate of a first, unmeasured try.
  const probe = await connectionRate({ host: '127.0.0.1', port: ep, transactions: 500, cpu: CLIENT_CPU, keepSamples: false });
  const transactions = Math.max(1000, Math.round(probe.transactionsPerSecond * SECONDS));
  try {
    return await rounds(
      row,
      async () => (await connectionRate({ host: '127.0.0.1', port: ep, transactions, warmup: 50, cpu: CLIENT_CPU, keepSamples: false })).transactionsPerSecond,
      () => {
        const out = run(['netperf', '-H', '127.0.0.1', '-p', String(np), '-t', 'TCP_CRR', '-l', String(SECONDS), '-P', '0', '--', '-r', '1,1'], SECONDS + 30);
        // The result line: send and receive socket sizes, request and response sizes, elapsed s, rate.
        const nums = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number)).find((x) => x.length >= 6 && x.every(Number.isFinite));
        if (!nums || nums.length < 6 || !Number.isFinite(nums[5])) throw new Error(`netperf gave no rate:\n${out.slice(-500)}`);
        return nums[5];
      },
    );
  } finally {
    await Promise.all([ours.close(), stop(peer)]);
  }
}

async function main(): Promise<void> {
  for (const t of ['sockperf', 'iperf3', 'taskset']) need(t);
  const c = clockInfo();
  const cpus = availableParallelism();
  const load0 = loadavg();
  // The whole client process on the client CPU, every thread of it, as the peers' clients run
  // (taskset -c 1 sockperf …); our probes pin their own thread there too. Servers are started
  // with their own taskset.
  if (spawnSync('taskset', ['-a', '-p', '-c', String(CLIENT_CPU), String(process.pid)], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench: cannot pin this process to CPU ${CLIENT_CPU}`);
    process.exit(2);
  }
  console.log(`umlperf bench on loopback: ${ROUNDS} alternating rounds of ${SECONDS} s; servers on CPU ${SERVER_CPU}, clients on CPU ${CLIENT_CPU}`);
  console.log(`clock ${c.source}: resolution ${c.resolutionNs.toFixed(3)} ns, ${c.overheadNs.toFixed(1)} ns per timestamp`);
  console.log(`load average at start ${load0.map((x) => x.toFixed(2)).join(' ')} on ${cpus} CPUs`);
  const rows: Row[] = [];
  const notes: string[] = [];
  const want = (name: string) => !ONLY || ONLY.test(name);
  // A row that fails (a stall on the loaded machine) is reported, and the others still run;
  // each row is printed as soon as it is measured.
  const attempt = async (name: string, f: () => Promise<Row | string>) => {
    try {
      const r = await f();
      if (typeof r === 'string') return void notes.push(r);
      rows.push(r);
      console.log(`measured ${r.what}: umlperf ${r.ours.map((x) => x.toFixed(3)).join(' ')} | ${r.peerName} ${r.peer.map((x) => x.toFixed(3)).join(' ')}`);
    } catch (e) {
      notes.push(`${name}: failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
    }
  };
  for (const kind of ['tcp', 'tcp 128k', 'parallel 4', 'reverse', 'udp'] as const) if (want(kind)) await attempt(kind, () => bulk(kind));
  if (want('interval')) await attempt('interval', intervals);
  if (want('crr')) await attempt('crr', crr);
  for (const wait of ['block', 'spin'] as const) for (const protocol of ['tcp', 'udp'] as const) if (want(`${protocol} ${wait}`)) await attempt(`${protocol} ${wait}`, () => latency(protocol, wait, 64));
  const load1 = loadavg();
  // Judged at the start only: by the end the 1-minute average holds the bench's own work (a
  // client and a server busy on two CPUs read as a load of about 2).
  const loaded = load0[0] > cpus / 2;
  console.log('');
  const head = ['', 'umlperf', 'peer', 'ratio', '95% CI', 'target', 'peer tool'];
  const verdicts = rows.map((r) => benchVerdict(r.better, r.ours, r.peer));
  const body = rows.map((r, i) => {
    const q = verdicts[i];
    const { met, target } = q;
    return [`${r.what} (${r.unit})`, median(r.ours).toFixed(3), median(r.peer).toFixed(3), q.ratio.toFixed(3), `${q.low.toFixed(3)}-${q.high.toFixed(3)}`, `${target}: ${met ? 'met' : 'not shown'}`, r.peerName];
  });
  const w = head.map((_, i) => Math.max(...[head, ...body].map((x) => x[i].length)));
  for (const line of [head, ...body]) console.log(line.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  '));
  console.log(`\nratio = umlperf / peer (medians of ${ROUNDS} rounds), 95% CI by paired bootstrap (rounds resampled as pairs); response: lower is better; interval: within 1% of none; the rest: higher is better`);
  for (const n of notes) console.log(n);
  console.log(`load average at end ${load1.map((x) => x.toFixed(2)).join(' ')} on ${cpus} CPUs (the bench's own work included)`);
  if (loaded) console.log(`LOADED MACHINE: the load average was ${load0[0].toFixed(2)} on ${cpus} CPUs before the bench began; the figures are not those of a quiet one`);
  if (process.env.BENCH_JSON) console.log(JSON.stringify({ rounds: ROUNDS, seconds: SECONDS, load: [load0, load1], rows: rows.map((r, i) => ({ ...r, verdict: verdicts[i] })) }));
}

await main();
