// npm run bench: umlperf side by side with its peers on loopback, in one run.
//   response time vs sockperf ping-pong --full-rtt (same size, same wait mode)
//   TCP and UDP throughput vs iperf3, single stream
// Each tool runs against its own server, servers pinned to CPU 0 and clients to CPU 1 so that
// placement is the same for both; rounds alternate the tools, and medians are compared.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { endpointBinary, responseTime, throughput, clockInfo } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const SERVER_CPU = '0';
const CLIENT_CPU = 1;

function need(tool: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
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

function server(cmd: string[]): ChildProcess {
  return spawn('taskset', ['-c', SERVER_CPU, ...cmd], { stdio: 'ignore' });
}
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 400));
}
function stop(p: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (p.exitCode !== null) return r();
    p.once('exit', () => r());
    p.kill('SIGTERM');
  });
}
function run(cmd: string[], timeoutS: number): string {
  const r = spawnSync('taskset', ['-c', String(CLIENT_CPU), ...cmd], { encoding: 'utf8', timeout: timeoutS * 1000 });
  return (r.stdout ?? '') + (r.stderr ?? '');
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Row {
  what: string;
  unit: string;
  ours: number[];
  peer: number[];
  peerName: string;
  better: 'lower' | 'higher';
}

async function latency(protocol: 'tcp' | 'udp', wait: 'block' | 'spin', size: number): Promise<Row> {
  const ep = await freePort();
  const sp = await freePort();
  const ours = server([endpointBinary(), '--port', String(ep), '--discard-port', String(await freePort())]);
  const peer = server(['sockperf', 'server', '-i', '127.0.0.1', '-p', String(sp), ...(protocol === 'tcp' ? ['--tcp'] : [])]);
  await settle();
  const row: Row = { what: `response ${protocol.toUpperCase()} ${size} B ${wait}, p50 RTT`, unit: 'µs', ours: [], peer: [], peerName: 'sockperf', better: 'lower' };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await responseTime({ host: '127.0.0.1', port: ep, protocol, wait, size, iterations: 20000 * SECONDS, warmup: 1000, cpu: CLIENT_CPU, keepSamples: false });
      row.ours.push(r.latency.p50Ns / 1e3);
      const out = run(['sockperf', 'ping-pong', '-i', '127.0.0.1', '-p', String(sp), ...(protocol === 'tcp' ? ['--tcp'] : []), '-m', String(size), '-t', String(SECONDS), '--full-rtt', ...(wait === 'spin' ? ['--nonblocked'] : [])], SECONDS + 20);
      const m = /percentile 50\.000 =\s*([\d.]+)/.exec(out);
      if (!m) throw new Error(`sockperf gave no p50:\n${out.slice(-500)}`);
      row.peer.push(Number(m[1]));
    }
  } finally {
    await Promise.all([stop(ours), stop(peer)]);
  }
  return row;
}

async function bulk(protocol: 'tcp' | 'udp'): Promise<Row> {
  const ep = await freePort();
  const dp = await freePort();
  const ip = await freePort();
  const ours = server([endpointBinary(), '--port', String(ep), '--discard-port', String(dp)]);
  const peer = server(['iperf3', '-s', '-B', '127.0.0.1', '-p', String(ip)]);
  await settle();
  const size = protocol === 'tcp' ? 131072 : 1472;
  const row: Row = { what: `throughput ${protocol.toUpperCase()}${protocol === 'udp' ? ` ${size} B unpaced, received` : ''}`, unit: 'Mbit/s', ours: [], peer: [], peerName: 'iperf3', better: 'higher' };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await throughput({ host: '127.0.0.1', port: dp, protocol, size, durationS: SECONDS, cpu: CLIENT_CPU });
      row.ours.push(r.Mbps);
      const args = ['iperf3', '-c', '127.0.0.1', '-p', String(ip), '-t', String(SECONDS), '-J', '-l', String(size)];
      if (protocol === 'udp') args.push('-u', '-b', '0');
      const j = JSON.parse(run(args, SECONDS + 20));
      // What the receiver got: TCP sum_received; UDP the sent rate less the loss the server saw.
      const bps = protocol === 'tcp' ? j.end.sum_received.bits_per_second : j.end.sum.bits_per_second * (1 - j.end.sum.lost_percent / 100);
      row.peer.push(bps / 1e6);
    }
  } finally {
    await Promise.all([stop(ours), stop(peer)]);
  }
  return row;
}

async function main(): Promise<void> {
  for (const t of ['sockperf', 'iperf3', 'taskset']) need(t);
  const c = clockInfo();
  console.log(`umlperf bench on loopback: ${ROUNDS} alternating rounds of ${SECONDS} s; servers on CPU ${SERVER_CPU}, clients on CPU ${CLIENT_CPU}`);
  console.log(`clock ${c.source}: resolution ${c.resolutionNs.toFixed(3)} ns, ${c.overheadNs.toFixed(1)} ns per timestamp`);
  const rows: Row[] = [];
  for (const wait of ['block', 'spin'] as const) {
    for (const protocol of ['tcp', 'udp'] as const) rows.push(await latency(protocol, wait, 64));
  }
  rows.push(await bulk('tcp'));
  rows.push(await bulk('udp'));
  console.log('');
  const head = ['', 'umlperf', 'peer', 'ratio', 'peer tool'];
  const body = rows.map((r) => {
    const o = median(r.ours);
    const p = median(r.peer);
    return [`${r.what} (${r.unit})`, o.toFixed(3), p.toFixed(3), (o / p).toFixed(3), r.peerName];
  });
  const w = head.map((_, i) => Math.max(...[head, ...body].map((x) => x[i].length)));
  for (const line of [head, ...body]) console.log(line.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  '));
  console.log('\nratio = umlperf / peer (medians); response: lower is better, throughput: higher is better');
  if (process.env.BENCH_JSON) console.log(JSON.stringify(rows));
}

await main();
