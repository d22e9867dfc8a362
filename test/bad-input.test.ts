// Every command and flag with bad values: exit 2, exactly one line on stderr naming what was
// wrong, nothing on stdout, no stack trace, and nothing created (no lab, no namespace, no file,
// no image cache entry, no saved result). The CLI runs as a separate process per case, in
// parallel batches.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CACHE_DIR } from '../src/images/minimal.js';
import { RUN_ROOT } from '../src/lab/names.js';
import { paperLabPrefix } from '../src/paper/lab-stage.js';
import { cliPath } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(tmpdir(), 'umlperf-bad-'));
const aFile = path.join(tmp, 'a-file');
fs.writeFileSync(aFile, 'x');
const resultsDir = path.join(tmp, 'results');
// Lab names the cases use: none may come to exist.
const LABS = ['hcnolab', 'hcx', 'umlperf'];

type Case = [args: string[], message: RegExp];

const probe: Case[] = [
  [['probe'], /not enough non-option arguments/i],
  [['probe', 'latency'], /invalid values.*kind/i],
  [['probe', 'response', '--protocol', 'sctp'], /protocol.*sctp/i],
  [['probe', 'response', '--size', '0'], /--size must be a whole number from 1/],
  [['probe', 'response', '--size', 'abc'], /--size .*"abc"/],
  [['probe', 'response', '--size', '-5'], /--size .*"-5"/],
  [['probe', 'response', '--size', '1.5'], /--size must be a whole number/],
  [['probe', 'response', '--protocol', 'udp', '--size', '65508'], /--size: a UDP datagram carries at most 65507/],
  [['probe', 'throughput', '--protocol', 'udp', '--size', '70000'], /--size: a UDP datagram/],
  [['probe', 'stream', '--size', '10'], /--size: stream datagrams .* at least 24/],
  [['probe', 'response', '--size', '2000000'], /--size: response requests are at most/],
  [['probe', 'response', '--host', '127.0.0.1', '--port', '0'], /--port must be a whole number from 1 to 65535/],
  [['probe', 'response', '--host', '127.0.0.1', '--port', '70000'], /--port must be a whole number from 1 to 65535 \(got "70000"\)/],
  [['probe', 'response', '--host', '127.0.0.1', '--port', 'abc'], /--port .*"abc"/],
  [['probe', 'response', '--host', '127.0.0.1', '--port', '-1'], /--port .*"-1"/],
  [['probe', 'response', '--host', '127.0.0.1', '--port', '80x'], /--port .*"80x"/],
  [['probe', 'response', '--iterations', '0'], /--iterations must be a whole number from 1/],
  [['probe', 'response', '--iterations', 'abc'], /--iterations .*"abc"/],
  [['probe', 'response', '--iterations', '1e9'], /--iterations .*"1e9"/],
  [['probe', 'response', '--iterations'], /not enough arguments following: iterations/i],
  [['probe', 'response', '--iterations', '100000001'], /--iterations must be a whole number from 1 to 100000000/],
  [['probe', 'response', '--warmup', '-1'], /--warmup .*"-1"/],
  [['probe', 'response', '--warmup', 'x'], /--warmup .*"x"/],
  [['probe', 'response', '--interval-us', '-1'], /--interval-us must be a number from 0/],
  [['probe', 'response', '--interval-us', 'abc'], /--interval-us .*"abc"/],
  [['probe', 'response', '--timeout-ms', '0'], /--timeout-ms must be a number above 0/],
  [['probe', 'response', '--timeout-ms', '-5'], /--timeout-ms .*"-5"/],
  [['probe', 'response', '--timeout-ms', 'abc'], /--timeout-ms .*"abc"/],
  [['probe', 'response', '--timeout-ms', 'Infinity'], /--timeout-ms .*"Infinity"/],
  [['probe', 'response', '--timeout-ms', 'NaN'], /--timeout-ms .*"NaN"/],
  [['probe', 'throughput', '--bytes', '0'], /--bytes must be a whole number from 1/],
  [['probe', 'throughput', '--bytes', 'abc'], /--bytes .*"abc"/],
  [['probe', 'throughput', '--bytes', '10', '--duration', '1'], /--bytes or --duration, not both/],
  [['probe', 'throughput', '--duration', '0'], /--duration must be a number above 0/],
  [['probe', 'throughput', '--duration', '-1'], /--duration .*"-1"/],
  [['probe', 'throughput', '--duration', 'abc'], /--duration .*"abc"/],
  [['probe', 'throughput', '--duration', '4000'], /--duration must be a number above 0 to 3600 s/],
  [['probe', 'stream', '--rate', '-1'], /--rate must be a number from 0/],
  [['probe', 'stream', '--rate', 'fast'], /--rate .*"fast"/],
  [['probe', 'stream', '--loss-threshold', '101'], /--loss-threshold must be a number from 0 to 100/],
  [['probe', 'stream', '--loss-threshold', '-1'], /--loss-threshold .*"-1"/],
  [['probe', 'stream', '--protocol', 'tcp'], /stream is UDP only/],
  [['probe', 'response', '--rate', '10'], /--rate applies to probe stream and throughput only/],
  [['probe', 'throughput', '--find-max-rate'], /--find-max-rate applies to probe stream only/],
  [['probe', 'response', '--loss-threshold', '1'], /--loss-threshold applies to probe stream only/],
  [['probe', 'throughput', '--iterations', '5'], /--iterations applies to probe response only/],
  [['probe', 'stream', '--timeout-ms', '5'], /--timeout-ms applies to probe response and crr only/],
  [['probe', 'response', '--bytes', '100'], /--bytes applies to probe throughput only/],
  [['probe', 'response', '--duration', '1'], /--duration applies to probe throughput and stream and rrul only/],
  [['probe', 'response', '--wait', 'sleepy'], /wait.*sleepy/i],
  [['probe', 'response', '--cpu', '-1'], /--cpu .*"-1"/],
  [['probe', 'response', '--cpu', 'abc'], /--cpu .*"abc"/],
  [['probe', 'response', '--cpu', '5000'], /--cpu must be a whole number from 0 to 4095/],
  [['probe', 'response', '--runs', '0'], /--runs must be a whole number from 1 to 10000/],
  [['probe', 'response', '--runs', 'abc'], /--runs .*"abc"/],
  [['probe', 'response', '--runs', '10001'], /--runs .*"10001"/],
  [['probe', 'response', '--runs', '1.5'], /--runs .*"1.5"/],
  [['probe', 'response', '--runs', '1', '--runs', '2'], /--runs given more than once/],
  [['probe', 'response', '--colour'], /unknown argument: colour/i],
  [['probe', 'response', '--lab', 'hcnolab'], /--lab and --target go together/],
  [['probe', 'response', '--target', 'g1'], /--lab and --target go together/],
  [['probe', 'response', '--lab', 'BAD', '--target', 'g1'], /--lab: bad lab name "BAD"/],
  [['probe', 'response', '--lab', 'hcnolab', '--target', 'g0'], /--target: bad target "g0"/],
  [['probe', 'response', '--lab', 'hcnolab', '--target', 'gx'], /--target: bad target "gx"/],
  [['probe', 'response', '--lab', 'hcnolab', '--target', 'g65'], /--target: bad target "g65"/],
  [['probe', 'response', '--lab', 'hcnolab', '--target', 'host', '--host', '127.0.0.1'], /--lab\/--target replace --host/],
  [['probe', 'response', '--lab', 'hcnolab', '--target', 'host'], /no lab hcnolab/],
  [['probe', 'response', '--port', '7007'], /--port and --netns need --host/],
  [['probe', 'response', '--netns', 'x'], /--port and --netns need --host/],
  [['probe', 'response', '--host', ''], /--host must be a non-empty word/],
  [['probe', 'response', '--host', '   '], /--host must be a non-empty word/],
  [['probe', 'response', '--netns', ''], /--netns must be a non-empty word/],
];

const endpoint: Case[] = [
  [['endpoint', '--bind', 'notanaddr'], /--bind must be a numeric IPv4 or IPv6 address \(got "notanaddr"\)/],
  [['endpoint', '--bind', ''], /--bind must be a non-empty word/],
  [['endpoint', '--bind', '127.0.0.1.5'], /--bind must be a numeric/],
  [['endpoint', '--bind', 'localhost'], /--bind must be a numeric/],
  [['endpoint', '--port', '65535'], /--port 65535 leaves no port \+ 1 for discard/],
  [['endpoint', '--port', '70000'], /--port must be a whole number from 0 to 65535/],
  [['endpoint', '--port', '-1'], /--port .*"-1"/],
  [['endpoint', '--port', 'abc'], /--port .*"abc"/],
  [['endpoint', '--port'], /not enough arguments following: port/i],
  [['endpoint', '--discard-port', '70000'], /--discard-port must be a whole number/],
  [['endpoint', '--discard-port', 'abc'], /--discard-port .*"abc"/],
  [['endpoint', '--port', '7100', '--discard-port', '7100'], /--port and --discard-port must differ/],
  [['endpoint', '--wait', 'x'], /wait.*"x"/i],
  [['endpoint', '--netns', ''], /--netns must be a non-empty word/],
  [['endpoint', 'extra'], /unknown argument: extra/i],
];

const lab: Case[] = [
  [['lab'], /not enough non-option arguments/i],
  [['lab', 'fly'], /invalid values.*action/i],
  [['lab', 'up', '--name', 'hcx', '--guests', 'abc'], /--guests must be a whole number from 0 to 64 \(got "abc"\)/],
  [['lab', 'up', '--name', 'hcx', '--guests', '-1'], /--guests .*"-1"/],
  [['lab', 'up', '--name', 'hcx', '--guests', '65'], /--guests must be a whole number from 0 to 64/],
  [['lab', 'up', '--name', 'hcx', '--guests', '1.5'], /--guests .*"1.5"/],
  [['lab', 'up', '--name', 'BAD'], /--name: bad lab name "BAD"/],
  [['lab', 'up', '--name', ''], /--name must be a non-empty word/],
  [['lab', 'up', '--name', 'toolongname12'], /--name: bad lab name "toolongname12"/],
  [['lab', 'up', '--name', '1abc'], /--name: bad lab name "1abc"/],
  [['lab', 'up', '--name', 'hcx', '--mem', 'abc'], /--mem: bad memory size "abc"/],
  [['lab', 'up', '--name', 'hcx', '--mem', '0M'], /--mem: bad memory size "0M"/],
  [['lab', 'up', '--name', 'hcx', '--cpus', 'x'], /--cpus: bad CPU list "x"/],
  [['lab', 'up', '--name', 'hcx', '--transport', 'slirp'], /transport.*slirp/i],
  [['lab', 'up', '--name', 'hcx', '--image', 'fedora'], /image.*fedora/i],
  [['lab', 'up', '--name', 'hcx', '--servers', 'ftp'], /--servers: unknown server 'ftp'/],
  [['lab', 'up', '--name', 'hcx', '--servers', 'dns'], /need --image debian/],
  [['lab', 'up', '--name', 'hcx', '--kernel', ''], /--kernel must be a non-empty word/],
  [['lab', 'status', '--name', 'a b'], /--name: bad lab name "a b"/],
  [['lab', 'status', '--name', 'hcnolab'], /no lab hcnolab/],
  [['lab', 'exec', '--name', 'hcx'], /name a command after --/],
  [['lab', 'exec', '--name', 'hcx', '--side', 'guest', '--', 'true'], /side.*guest/i],
  [['lab', 'down', '--name', 'BAD'], /--name: bad lab name/],
];

const others: Case[] = [
  [['doctor', '--kernel', ''], /--kernel must be a non-empty word/],
  [['doctor', '--colour'], /unknown argument: colour/i],
  [['cleanup', '--lab', 'BAD'], /bad lab name "BAD"/],
  [['cleanup', '--lab', 'hcx', '--all'], /--lab and --all exclude each other/],
  [['image'], /not enough non-option arguments/i],
  [['image', 'destroy'], /invalid values.*action/i],
  [['image', 'build', '--image', 'fedora'], /image.*fedora/i],
  [['image', 'build', '--cache-dir', '/proc/x'], /--cache-dir "\/proc\/x": not a place for files/],
  [['image', 'build', '--cache-dir', '/sys/umlperf'], /--cache-dir "\/sys\/umlperf": not a place for files/],
  [['image', 'build', '--cache-dir', path.join(aFile, 'sub')], /--cache-dir .*a-file is not a directory/],
  [['image', 'build', '--cache-dir', ''], /--cache-dir must be a non-empty word/],
  [['serve-bench'], /not enough non-option arguments/i],
  [['serve-bench', 'ftp'], /invalid values.*server/i],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', '-1'], /--timeout must be a number above 0 to 60000 ms \(got "-1"\)/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', '0'], /--timeout must be a number above 0/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', 'abc'], /--timeout .*"abc"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', '100000'], /--timeout .*"100000"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--requests', '0'], /--requests must be a whole number from 1/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--requests', 'abc'], /--requests .*"abc"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 256/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--concurrency', '1000'], /--concurrency .*"1000"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--duration', '0'], /--duration must be a number above 0/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--duration', 'abc'], /--duration .*"abc"/],
  [['serve-bench', 'dns', '--lab', 'BAD'], /--lab: bad lab name "BAD"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--target', 'gx'], /--target: bad target "gx"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab'], /no lab hcnolab/],
];

const paper: Case[] = [
  [['paper', '--experiment', '5'], /--experiment takes a comma-separated list of whole numbers from 1 to 4 \(got "5"\)/],
  [['paper', '--experiment', '0,1'], /--experiment .*"0,1"/],
  [['paper', '--experiment', 'x'], /--experiment .*"x"/],
  [['paper', '--experiment', '1,,2'], /--experiment .*"1,,2"/],
  [['paper', '--runs', '0'], /--runs must be a whole number from 1 to 1000/],
  [['paper', '--runs', 'abc'], /--runs .*"abc"/],
  [['paper', '--runs', '1001'], /--runs .*"1001"/],
  [['paper', '--guests', 'x'], /--guests takes a comma-separated list of whole numbers from 0 to 64 \(got "x"\)/],
  [['paper', '--guests', '-1'], /--guests .*"-1"/],
  [['paper', '--guests', '65'], /--guests .*"65"/],
  [['paper', '--servers', 'ftp'], /--servers: unknown "ftp"/],
  [['paper', '--servers', 'www,,dns'], /--servers: unknown ""/],
  [['paper', '--servers', ''], /--servers must be a non-empty word/],
  [['paper', '--format', 'pdf'], /format.*pdf/i],
  [['paper', '--transport', 'slirp'], /transport.*slirp/i],
  [['paper', '--mem', 'abc'], /--mem: bad memory size "abc"/],
  [['paper', '--mem', '64X'], /--mem: bad memory size "64X"/],
  [['paper', '--kernel', '/nonexistent/linux'], /--kernel: no such file/],
  [['paper', '--kernel', tmp], /--kernel: .* is not a file/],
  [['paper', '--kernel', aFile], /--kernel: .* is not executable/],
  [['paper', '--out', tmp], /--out .* is a directory; name a file/],
  [['paper', '--out', `${tmp}/`], /--out .* is a directory; name a file/],
  [['paper', '--out', '/proc/x'], /--out "\/proc\/x": not a place for a report/],
  [['paper', '--out', path.join(tmp, 'nodir', 'x.json')], /--out .*directory .*nodir does not exist or is not writable/],
  [['paper', '--out', path.join(aFile, 'x.json')], /--out .*does not exist or is not writable/],
  [['paper', '--out', '/dev/null'], /--out "\/dev\/null": not a place for a report/],
  [['paper', '--out', ''], /--out must be a non-empty word/],
  [['paper', 'extra'], /unknown argument: extra/i],
  [['paper', '--runs', '3', '--runs', '4'], /--runs given more than once/],
];

const global: Case[] = [
  [[], /name a command/],
  [['frobnicate'], /unknown argument: frobnicate/i],
  [['--colour'], /unknown argument|name a command/i],
];

const cases = [...probe, ...endpoint, ...lab, ...others, ...paper, ...global];

interface Outcome {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, UMLPERF_RESULTS_DIR: resultsDir, UMLPERF_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    if (child.pid) pids.push(child.pid);
    // A bad-usage case must end at parse time; one still running is a failure. It is
    // interrupted (so a paper run tears its lab down), and killed only if that does not end it.
    const stopping = setTimeout(() => child.kill('SIGINT'), 30_000);
    const killing = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('close', (status) => {
      clearTimeout(stopping);
      clearTimeout(killing);
      resolve({ args, status, stdout, stderr });
    });
  });
}

async function inBatches<T, R>(xs: T[], width: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await f(xs[i]);
    }
  }));
  return out;
}

/** A lab (or its namespace) a `paper` run of one of our cases would have made. */
const paperLab = (n: string) => {
  const lab = n.replace(/-(client|host)$/, '');
  // A paper run numbers its labs 0..z after its prefix: exactly one more character.
  return pids.some((p) => lab.startsWith(paperLabPrefix(p)) && lab.length === paperLabPrefix(p).length + 1);
};

/** What the CLI could have made: our labs' namespaces and state, the image cache, temp files. */
function snapshot(): string[] {
  const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  const ours = (n: string) => LABS.some((l) => n === l || n.startsWith(`${l}-`));
  const cache = ls(DEFAULT_CACHE_DIR).map((f) => `cache ${f} ${fs.statSync(path.join(DEFAULT_CACHE_DIR, f)).mtimeMs}`);
  return [
    ...ls('/run/netns').filter((n) => ours(n) || paperLab(n)).map((n) => `netns ${n}`),
    ...ls(RUN_ROOT).filter((n) => ours(n) || paperLab(n)).map((n) => `run ${n}`),
    ...cache,
    ...ls(tmp).map((f) => `tmp ${f}`),
    ...ls(path.join(tmp, 'nodir')).map((f) => `tmp nodir/${f}`),
  ].sort();
}

const pids: number[] = [];
let outcomes: Outcome[] = [];
let before: string[] = [];

test.before(async () => {
  before = snapshot();
  outcomes = await inBatches(cases, 8, ([args]) => run(args));
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  // Should a case have started a paper run, its labs go too (the test has failed by then).
  const left = fs.existsSync(RUN_ROOT) ? fs.readdirSync(RUN_ROOT).filter(paperLab) : [];
  for (const lab of left) spawnSync(process.execPath, [cliPath, 'cleanup', '--lab', lab], { stdio: 'ignore', timeout: 60_000 });
});

test(`the table has at least 100 cases over every command (${cases.length})`, () => {
  assert.ok(cases.length >= 100);
  const commands = new Set(cases.map(([a]) => a[0]).filter(Boolean));
  for (const c of ['probe', 'endpoint', 'lab', 'doctor', 'cleanup', 'image', 'serve-bench', 'paper']) assert.ok(commands.has(c), c);
});

test('every case: exit 2, one line on stderr naming the problem, nothing on stdout, no stack', () => {
  const bad: string[] = [];
  cases.forEach(([args, message], i) => {
    const o = outcomes[i];
    const lines = o.stderr.split('\n').filter((l) => l !== '');
    const what = `umlperf ${args.join(' ')}`;
    if (o.status !== 2) bad.push(`${what}: exit ${o.status} (${o.stderr.trim()})`);
    else if (lines.length !== 1) bad.push(`${what}: ${lines.length} lines on stderr: ${o.stderr}`);
    else if (!/^umlperf: \S/.test(lines[0])) bad.push(`${what}: ${lines[0]}`);
    else if (!message.test(lines[0])) bad.push(`${what}: message ${JSON.stringify(lines[0])} does not match ${message}`);
    else if (/\bat .*:\d+:\d+/.test(o.stderr)) bad.push(`${what}: a stack trace`);
    else if (o.stdout !== '') bad.push(`${what}: stdout ${JSON.stringify(o.stdout.slice(0, 80))}`);
  });
  assert.equal(bad, []);
});

test('nothing created: no lab, namespace, image, report file or saved result', () => {
  assert.equal(snapshot(), before);
  assert.not.ok(fs.existsSync(resultsDir), 'no result saved');
  assert.not.ok(fs.existsSync('/proc/x'));
});

test.run();
