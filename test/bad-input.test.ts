// Every command and flag with bad values: exit 2, exactly one line on stderr naming what was
// wrong, nothing on stdout, no stack trace, and nothing created (no lab, no namespace, no file,
// no image cache entry, no saved result). The CLI runs as a separate process per case, in
// parallel batches.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CACHE_DIR } from '../src/images/minimal.js';
import { RUN_ROOT } from '../src/lab/names.js';
import { paperLabPrefix } from '../src/paper/lab-stage.js';
import { cliPath, tempDir } from './helpers.js';

const tmp = tempDir(path.join(tmpdir(), 'umlperf-bad-'));
const aFile = path.join(tmp, 'a-file');
fs.writeFileSync(aFile, 'x');
const resultsDir = path.join(tmp, 'results');
// Lab names the cases use: none may come to exist.
const LABS = ['hcnolab', 'hcx', 'flnolab', 'flx', 'umlperf'];

type Case = [args: string[], message: RegExp];

const probe: Case[] = [
  [['probe'], /not enough non-option arguments/i],
  [['probe', 'latency'], /invalid values.*kind/i],
  [['probe', 'response', '--protocol', 'sctp'], /protocol.*sctp/i],
  [['probe', 'response', '--size', '0'], /--size must be a whole number of bytes from 1 B/],
  [['probe', 'response', '--size', 'abc'], /--size .*"abc"/],
  [['probe', 'response', '--size', '-5'], /--size .*"-5"/],
  [['probe', 'response', '--size', '1.5'], /--size must be a whole number of bytes/],
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
  [['probe', 'response', '--request-interval', '-1'], /--request-interval must be a duration from 0us to 60s/],
  [['probe', 'response', '--request-interval', 'abc'], /--request-interval .*"abc"/],
  [['probe', 'response', '--timeout', '0'], /--timeout must be a duration from 1ms to 600s/],
  [['probe', 'response', '--timeout', '-5'], /--timeout .*"-5"/],
  [['probe', 'response', '--timeout', 'abc'], /--timeout .*"abc"/],
  [['probe', 'response', '--timeout', 'Infinity'], /--timeout .*"Infinity"/],
  [['probe', 'response', '--timeout', 'NaN'], /--timeout .*"NaN"/],
  [['probe', 'throughput', '--bytes', '0'], /--bytes must be a whole number of bytes from 1 B/],
  [['probe', 'throughput', '--bytes', 'abc'], /--bytes .*"abc"/],
  [['probe', 'throughput', '--bytes', '10', '--duration', '1s'], /--bytes or --duration, not both/],
  [['probe', 'throughput', '--duration', '0'], /--duration must be a duration from 10ms to 3600s/],
  [['probe', 'throughput', '--duration', '-1s'], /--duration .*"-1s"/],
  [['probe', 'throughput', '--duration', 'abc'], /--duration .*"abc"/],
  [['probe', 'throughput', '--duration', '4000s'], /--duration must be a duration from 10ms to 3600s/],
  [['probe', 'stream', '--rate', '-1'], /--rate must be a number from 0/],
  [['probe', 'stream', '--rate', 'fast'], /--rate .*"fast"/],
  [['probe', 'stream', '--loss-threshold', '101'], /--loss-threshold must be a number from 0 to 100/],
  [['probe', 'stream', '--loss-threshold', '-1'], /--loss-threshold .*"-1"/],
  [['probe', 'stream', '--protocol', 'tcp'], /stream is UDP only/],
  [['probe', 'response', '--rate', '10'], /--rate applies to probe stream and throughput only/],
  [['probe', 'throughput', '--find-max-rate'], /--find-max-rate applies to UDP throughput only/],
  [['probe', 'response', '--find-max-rate'], /--find-max-rate applies to probe stream and throughput only/],
  [['probe', 'response', '--loss-threshold', '1'], /--loss-threshold applies to probe stream and throughput only/],
  [['probe', 'throughput', '--protocol', 'udp', '--loss-threshold', '1'], /--loss-threshold goes with --find-max-rate/],
  [['probe', 'throughput', '--protocol', 'udp', '--find-max-rate', '--reverse'], /--find-max-rate .*not with --reverse/],
  [['probe', 'throughput', '--protocol', 'udp', '--find-max-rate', '--parallel', '2', '--bytes', '1M'], /not with --parallel, --bytes/],
  [['probe', 'throughput', '--iterations', '5'], /--iterations applies to probe response only/],
  [['probe', 'stream', '--timeout', '5ms'], /--timeout applies to probe response and crr only/],
  [['probe', 'response', '--bytes', '100'], /--bytes applies to probe throughput only/],
  [['probe', 'response', '--duration', '1s'], /--duration applies to probe throughput and stream and rrul only/],
  [['probe', 'response', '--wait', 'sleepy'], /wait.*sleepy/i],
  [['probe', 'response', '--cpu', '-1'], /--cpu must be a CPU list .*"-1"/],
  [['probe', 'response', '--cpu', 'abc'], /--cpu .*"abc"/],
  [['probe', 'response', '--cpu', '5000'], /--cpu must be a CPU list from 0 to 4095/],
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
  [['lab', 'fly'], /did you mean|unknown argument/i],
  [['lab', 'up', '--lab', 'hcx', '--guests', 'abc'], /--guests must be a whole number from 0 to 64 \(got "abc"\)/],
  [['lab', 'up', '--lab', 'hcx', '--guests', '-1'], /--guests .*"-1"/],
  [['lab', 'up', '--lab', 'hcx', '--guests', '65'], /--guests must be a whole number from 0 to 64/],
  [['lab', 'up', '--lab', 'hcx', '--guests', '1.5'], /--guests .*"1.5"/],
  [['lab', 'up', '--lab', 'BAD'], /--lab: bad lab name "BAD"/],
  [['lab', 'up', '--lab', ''], /--lab must be a non-empty word/],
  [['lab', 'up', '--lab', 'toolongname12'], /--lab: bad lab name "toolongname12"/],
  [['lab', 'up', '--lab', '1abc'], /--lab: bad lab name "1abc"/],
  [['lab', 'up', '--lab', 'hcx', '--mem', 'abc'], /--mem must be a memory size .*"abc"/],
  [['lab', 'up', '--lab', 'hcx', '--mem', '0M'], /--mem must be a memory size .*"0M"/],
  [['lab', 'up', '--lab', 'flx', '--mem', '1.5'], /--mem must be a memory size from 1MiB to 64GiB in whole KiB/],
  [['lab', 'up', '--lab', 'hcx', '--cpu', 'x'], /--cpu must be a CPU list .*"x"/],
  [['lab', 'up', '--lab', 'flx', '--cpu', '3-1'], /--cpu must be a CPU list .*"3-1"/],
  [['lab', 'up', '--lab', 'flx', '--cpu', '0,'], /--cpu must be a CPU list .*"0,"/],
  [['lab', 'up', '--lab', 'hcx', '--transport', 'slirp'], /transport.*slirp/i],
  [['lab', 'up', '--lab', 'hcx', '--image', 'fedora'], /image.*fedora/i],
  [['lab', 'up', '--lab', 'hcx', '--servers', 'ftp'], /--servers: unknown server 'ftp'/],
  [['lab', 'up', '--lab', 'flx', '--servers', 'httpd'], /--servers: unknown server 'httpd' \(known: dns, www, mail\)/],
  [['lab', 'up', '--lab', 'hcx', '--servers', 'dns'], /--servers needs --image debian/],
  [['lab', 'up', '--lab', 'hcx', '--kernel', ''], /--kernel must be a non-empty word/],
  [['lab', 'status', '--lab', 'a b'], /--lab: bad lab name "a b"/],
  [['lab', 'status', '--lab', 'hcnolab'], /no lab hcnolab \(umlperf lab up --lab hcnolab\)/],
  [['lab', 'exec', '--lab', 'hcx'], /name a command after --/],
  [['lab', 'exec', '--lab', 'hcx', '--side', 'guest', '--', 'true'], /side.*guest/i],
  [['lab', 'exec', '--lab', 'flnolab', '--timeout', '5s', '--', 'true'], /--timeout applies to lab exec in a guest \(--side gN\) only/],
  [['lab', 'exec', '--lab', 'flnolab', '--side', 'g1', '--timeout', '60', '--', 'true'], /--timeout must be a duration from 1s to 3600s, with a unit.*"60"/],
  [['lab', 'down', '--lab', 'BAD'], /--lab: bad lab name/],
  // The 0.1 names are gone.
  // (--servers on the minimal image keeps a regression from making a lab: the handler refuses
  // it before anything is made, with another message.)
  [['lab', 'up', '--name', 'flx', '--lab', 'flx', '--servers', 'dns'], /unknown argument: name/i],
  [['lab', 'status', '--name', 'flx'], /unknown argument: name/i],
  [['lab', 'up', '--lab', 'flx', '--cpus', '0'], /unknown argument: cpus/i],
  // Each action takes its own options only.
  [['lab', 'status', '--lab', 'flx', '--guests', '2'], /unknown argument: guests/i],
  [['lab', 'down', '--lab', 'flx', '--image', 'debian'], /unknown argument: image/i],
  [['lab', 'list', '--lab', 'flx'], /unknown argument: lab/i],
  [['lab', 'exec', '--lab', 'flx', '--json', '--', 'true'], /unknown argument: json/i],
  [['lab', 'up', '--lab', 'flx', '--side', 'g1'], /unknown argument: side/i],
  [['lab', 'list', 'extra'], /unknown argument: extra/i],
];

const others: Case[] = [
  [['doctor', '--kernel', ''], /--kernel must be a non-empty word/],
  [['doctor', '--colour'], /unknown argument: colour/i],
  [['cleanup', '--lab', 'BAD'], /bad lab name "BAD"/],
  [['cleanup', '--lab', 'hcx', '--all'], /--lab and --all exclude each other/],
  [['cleanup', '--lab'], /not enough arguments following: lab/i],
  [['image'], /not enough non-option arguments/i],
  [['image', 'destroy'], /name an image action: build|did you mean/i],
  [['image', 'build', '--lab', 'flx'], /unknown argument: lab/i],
  [['image', 'build', '--image', 'fedora'], /image.*fedora/i],
  [['image', 'build', '--cache-dir', '/proc/x'], /--cache-dir "\/proc\/x": not a place for files/],
  [['image', 'build', '--cache-dir', '/sys/umlperf'], /--cache-dir "\/sys\/umlperf": not a place for files/],
  [['image', 'build', '--cache-dir', path.join(aFile, 'sub')], /--cache-dir .*a-file is not a directory/],
  [['image', 'build', '--cache-dir', ''], /--cache-dir must be a non-empty word/],
  [['serve-bench'], /not enough non-option arguments/i],
  [['serve-bench', 'ftp'], /invalid values.*server/i],
  [['serve-bench', 'http', '--lab', 'flnolab'], /invalid values.*"http".*choices: "dns", "www", "mail"/i],
  [['serve-bench', 'smtp', '--lab', 'flnolab'], /invalid values.*"smtp"/i],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', '-1'], /--timeout must be a duration from 1ms to 60s, with a unit: 500ms, 2s, 1m \(got "-1"\)/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', '0'], /--timeout must be a duration from 1ms/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', 'abc'], /--timeout .*"abc"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--timeout', '100s'], /--timeout .*"100s"/],
  [['serve-bench', 'dns', '--lab', 'flnolab', '--timeout', '2000'], /--timeout .*with a unit.*"2000"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--requests', '0'], /--requests must be a whole number from 1/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--requests', 'abc'], /--requests .*"abc"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 256/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--concurrency', '1000'], /--concurrency .*"1000"/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--max-duration', '0'], /--max-duration must be a duration from 1ms to 600s/],
  [['serve-bench', 'dns', '--lab', 'hcnolab', '--max-duration', 'abc'], /--max-duration .*"abc"/],
  [['serve-bench', 'dns', '--lab', 'flnolab', '--max-duration', '700s'], /--max-duration .*"700s"/],
  [['serve-bench', 'dns', '--lab', 'flnolab', '--duration', '5s'], /unknown argument: duration/i],
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
  [['paper', '--servers', 'ftp'], /--servers: unknown server 'ftp'/],
  [['paper', '--servers', 'httpd,named'], /--servers: unknown server 'httpd' \(known: dns, www, mail\)/],
  [['paper', '--servers', 'none'], /--servers: name at least one of dns, www, mail/],
  [['paper', '--servers', ''], /--servers must be a non-empty word/],
  [['paper', '--format', 'pdf'], /format.*pdf/i],
  [['paper', '--transport', 'slirp'], /transport.*slirp/i],
  [['paper', '--mem', 'abc'], /--mem must be a memory size .*"abc"/],
  [['paper', '--mem', '64X'], /--mem must be a memory size .*"64X"/],
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
  [['paper', '--pin'], /unknown argument: pin/i],
  [['paper', '--cpu', 'x'], /--cpu must be a CPU list .*"x"/],
  [['paper', '--cpu', 'anything'], /--cpu must be a CPU list .*"anything"/],
  [['paper', '--cpu', '4095'], /--cpu 4095: this machine has CPUs 0-\d+/],
  [['paper', '--cpu', `0-${availableParallelism() - 1}`], /leaves no CPU for the probes/],
  // Options that do not apply to the experiments asked for.
  [['paper', '--experiment', '1', '--guests', '2'], /--guests applies to experiment 3 only/],
  [['paper', '--experiment', '1,3', '--servers', 'dns'], /--servers applies to experiment 2 only/],
  [['paper', '--experiment', '4', '--runs', '3'], /--runs does not apply to experiment 4 alone/],
  [['paper', '--experiment', '4', '--transport', 'tuntap'], /--transport does not apply to experiment 4 alone/],
  [['paper', '--experiment', '4', '--cpu', '0'], /--cpu does not apply to experiment 4 alone/],
  [['paper', '--max-runs', '30'], /--max-runs goes with --ci-target/],
  [['paper', '--ci-target', '5', '--runs', '10', '--max-runs', '5'], /--max-runs \(5\) must be at least --runs \(10\)/],
  [['paper', '--samples'], /--samples goes with --format json/],
  [['paper', '--format', 'md', '--samples'], /--samples goes with --format json/],
];

const global: Case[] = [
  [[], /name a command/],
  [['frobnicate'], /unknown argument: frobnicate/i],
  [['--colour'], /unknown argument|name a command/i],
];

const isolate: Case[] = [
  [['isolate', '--window', '1.5s'], /--window is a whole number of seconds/],
  [['isolate', '--window', '10'], /--window must be a duration .*with a unit.*"10"/],
  [['isolate', '--window', '10m'], /--window must be a duration from 1s to 300s/],
  [['isolate', '--json', '--format', 'md'], /give --json or --format, not both/],
  [['isolate', '--servers', 'dns'], /--servers needs --image debian/],
  [['isolate', '--servers', 'httpd'], /--servers: unknown server 'httpd'/],
];

const more: Case[] = [
  // Renamed in 0.2: the old names are unknown.
  [['probe', 'response', '--timeout-ms', '5'], /unknown arguments?: timeout-ms/i],
  [['probe', 'response', '--interval-us', '5'], /unknown arguments?: interval-us/i],
  // Durations and sizes with units, and errors in the flag's own name.
  [['probe', 'throughput', '--duration', '500'], /--duration must be a duration .*with a unit.*"500"/],
  [['probe', 'throughput', '--bytes', '1.5'], /--bytes must be a whole number of bytes .*"1.5"/],
  [['probe', 'throughput', '--bytes', '1X'], /--bytes .*64KiB, 1.5MB, 1G \(got "1X"\)/],
  [['probe', 'response', '--request-interval', '5'], /--request-interval .*with a unit.*"5"/],
  [['probe', 'response', '--timeout', '1h'], /--timeout must be a duration from 1ms to 600s,.*"1h"/],
  [['probe', 'response', '--protocol', 'udp', '--size', '4'], /--size: a UDP request .* at least 8 bytes/],
  [['probe', 'throughput', '--omit', '1s', '--duration', '500ms'], /--omit \(1s\) must be shorter than --duration \(500ms\)/],
  [['probe', 'throughput', '--omit', '300ms', '--interval', '200ms', '--duration', '1s'], /--omit \(300ms\) must be a whole number of --interval \(200ms\)/],
  [['probe', 'throughput', '--protocol', 'udp', '--omit', '1s', '--duration', '2s'], /--omit is TCP only/],
  [['probe', 'throughput', '--omit', '1s'], /--omit goes with --duration/],
  [['probe', 'response', '--no-samples'], /--samples goes with --json/],
  [['probe', 'throughput', '--samples', '--json'], /--samples applies to probe response and crr only/],
  [['probe', 'response', '--cpu', '0-1'], /--cpu takes one CPU here/],
  // A library check that reaches the CLI says the flag, not the option's name (sourcePort).
  [['probe', 'throughput', '--host', '127.0.0.1', '--port', '65535', '--bidir'], /port 65535 leaves no room .*give --source-port$/],
  [['endpoint', '--no-chargen', '--chargen-port', '9000'], /--chargen-port goes with chargen/],
  [['endpoint', '--no-chargen', '--source-max', '5s'], /--source-max goes with chargen/],
  [['endpoint', '--source-max', '5'], /--source-max .*with a unit.*"5"/],
  [['report', aFile, '--samples'], /--samples goes with --format json/],
];

const cases = [...probe, ...endpoint, ...lab, ...others, ...paper, ...global, ...isolate, ...more];

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
  for (const c of ['probe', 'endpoint', 'lab', 'doctor', 'cleanup', 'image', 'serve-bench', 'paper', 'isolate', 'report']) assert.ok(commands.has(c), c);
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
