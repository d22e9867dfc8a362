// umlperf lab up|status|down|exec|list: a lab of UML guests behind a bridge, probed from a client
// namespace. `up` leaves the lab running (guests detached); `down` tears it down from its state.
// Each action is its own subcommand with its own options (one builder each, below).
import type { Argv, CommandModule } from 'yargs';

import { UsageError } from '../../src/errors.js';
import { debianImage } from '../../src/images/debian.js';
import { DEFAULT_MEM, SERVERS_MEM, labDown, labExec, labGuestExec, labList, labStatus, labUp, type LabInfo, type LabSummary } from '../../src/lab/lab.js';
import { DEFAULT_KERNEL } from '../../src/lab/kernel.js';
import { DEFAULT_LAB, MAX_GUESTS, guestNumber, validateLabName } from '../../src/lab/names.js';
import { formatLimits, parseLimits, type GuestLimits } from '../../src/lab/limits.js';
import { serverWithDaemon, type ServerName } from '../../src/servers/start.js';
import { table } from '../../src/report/table.js';
import { resolveNet } from '../../src/lab/net-config.js';
import { cpuListFlag, cpuListText, durationFlag, intFlag, memFlag, serverListFlag, textFlag, textWith } from '../args.js';
import { interruptible } from '../progress.js';
import { asResult } from '../../src/result/envelope.js';

const checkSide = (side: string) => {
  if (side === 'client' || side === 'host' || /^g[1-9][0-9]*$/.test(side) && Number(side.slice(1)) <= MAX_GUESTS) return;
  throw new UsageError(`bad --side ${JSON.stringify(side)}: client, host or g1..g${MAX_GUESTS}`);
};

// Options more than one action takes, declared once.
const labOption = (y: Argv) =>
  y.option('lab', { type: 'string', default: DEFAULT_LAB, requiresArg: true, coerce: textWith('lab', validateLabName), describe: 'lab name: 1-10 of a-z0-9, starting with a letter' });
const jsonOption = (y: Argv, what: string) => y.option('json', { type: 'boolean', default: false, describe: what });

function printInfo(lab: LabInfo): void {
  const out = [`lab ${lab.name}${lab.status ? ` (${lab.status})` : ''}: client ${lab.client.netns} ${lab.client.address}, host ${lab.host.netns} ${lab.host.address}`];
  for (const g of lab.guests) {
    const state = g.alive === undefined ? '' : g.alive ? '  running' : `  NOT RUNNING (log ${g.log})`;
    out.push(`  ${g.id.padEnd(4)} ${g.address.padEnd(13)} pid ${String(g.pid).padEnd(7)} ${g.transport.padEnd(7)} boot ${g.bootMs} ms${state}`);
    if (g.limits) out.push(`       limits ${formatLimits(g.limits.limits)}${g.limits.unsupported.length ? ` (unsupported here: ${g.limits.unsupported.join(', ')})` : ''}`);
  }
  if (lab.net) out.push(`  net ${lab.net.preset ? `preset ${lab.net.preset}: ` : ''}${lab.net.line || '(builtin)'}`);
  if (lab.guestsUpMs !== undefined) out.push(`${lab.guests.length} guest(s) up in ${(lab.guestsUpMs / 1000).toFixed(2)} s`);
  for (const [t, ms] of Object.entries(lab.serversHealthyMs ?? {})) out.push(`  servers healthy on ${t} after ${(ms / 1000).toFixed(2)} s`);
  process.stdout.write(`${out.join('\n')}\n`);
}

const jsonInfo = (lab: LabInfo) => `${JSON.stringify(asResult('lab', lab), null, 2)}\n`;

// ---- lab up

interface UpArgs {
  lab: string;
  guests: number;
  image: 'minimal' | 'debian';
  servers?: ServerName[];
  transport?: 'vector' | 'tuntap';
  net?: string;
  mem?: string;
  cpu?: number[];
  limit?: GuestLimits;
  kernel: string;
  json: boolean;
}

export function upOptions(y: Argv): Argv<UpArgs> {
  return jsonOption(labOption(y), 'print the lab as JSON')
    .option('guests', { type: 'string', default: '1', requiresArg: true, coerce: intFlag('guests', 0, MAX_GUESTS), describe: `number of guests (0-${MAX_GUESTS})` })
    .option('image', { choices: ['minimal', 'debian'] as const, default: 'minimal' as const, requiresArg: true, describe: 'guest image' })
    .option('servers', { type: 'string', requiresArg: true, coerce: serverListFlag('servers'), describe: 'servers on every guest and the host side: dns, www, mail or a list (needs --image debian)' })
    .option('transport', { choices: ['vector', 'tuntap'] as const, requiresArg: true, describe: 'UML network driver (default vector; --net transport= says more)' })
    .option('net', { type: 'string', requiresArg: true, coerce: textWith('net', resolveNet), describe: 'network configuration: a preset (builtin, default, saved by tune --save) or key=value,… (transport, gro, vec, depth, mtu, hostOffload, qdisc, txqlen, sockbuf, tcpRmem, cpus, rps)' })
    .option('mem', { type: 'string', requiresArg: true, coerce: memFlag('mem'), describe: `guest memory, e.g. 128M (default ${DEFAULT_MEM}, ${SERVERS_MEM} with --servers)` })
    .option('kernel', { type: 'string', default: DEFAULT_KERNEL, requiresArg: true, coerce: textFlag('kernel', 4096), describe: 'UML kernel' })
    .option('cpu', { type: 'string', requiresArg: true, coerce: cpuListFlag('cpu'), describe: 'run guests, host endpoint and host-side servers on these CPUs, e.g. 0 or 0-1 or 0,2' })
    .option('limit', { type: 'string', requiresArg: true, coerce: (v: unknown) => (v === undefined ? undefined : parseLimits(String(v))), describe: 'host-side limits on each guest\'s cgroup, e.g. cpu=50%,mem=256M,io=20M,pids=512' })
    .example('$0 lab up --guests 2', 'a lab "umlperf" of two guests on the minimal image')
    .example('$0 lab up --lab web --image debian --servers dns,www --json', 'BIND and Apache on a guest and on the host side') as unknown as Argv<UpArgs>;
}

async function up(a: UpArgs): Promise<void> {
  const tty = process.stderr.isTTY;
  const servers = a.servers ?? [];
  if (servers.length && a.image !== 'debian') throw new UsageError('--servers needs --image debian (the minimal image has no servers)');
  const progress = tty ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
  const image = a.image === 'debian' ? await debianImage({ progress }) : a.image;
  const lab = await interruptible((signal) =>
    labUp({ name: a.lab, guests: a.guests, image, servers, transport: a.transport, net: a.net, mem: a.mem, cpus: a.cpu && cpuListText(a.cpu), kernel: a.kernel, limits: a.limit, signal, progress }));
  if (a.json) {
    process.stdout.write(jsonInfo(lab));
    return;
  }
  printInfo(lab);
  if (servers.length) process.stdout.write(`servers on the host side and every guest: ${servers.map(serverWithDaemon).join(', ')}\n`);
}

// ---- lab status, down

interface LabArgs {
  lab: string;
  json: boolean;
}

function statusOptions(y: Argv): Argv<LabArgs> {
  return jsonOption(labOption(y), 'print the lab as JSON')
    .example('$0 lab status --lab web', 'its guests, addresses, and whether each is running') as unknown as Argv<LabArgs>;
}

function status(a: LabArgs): void {
  const lab = labStatus(a.lab);
  if (a.json) process.stdout.write(jsonInfo(lab));
  else printInfo(lab);
}

function downOptions(y: Argv): Argv<LabArgs> {
  return jsonOption(labOption(y), 'print { name, removed } as JSON')
    .example('$0 lab down --lab web', 'end its guests and servers, remove its links, namespaces and files') as unknown as Argv<LabArgs>;
}

async function down(a: LabArgs): Promise<void> {
  const r = await labDown(a.lab);
  if (a.json) process.stdout.write(`${JSON.stringify(asResult('lab-down', r))}\n`);
  else process.stdout.write(r.removed ? `lab ${a.lab} is down\n` : `no lab ${a.lab} (nothing to do)\n`);
}

// ---- lab exec

interface ExecArgs {
  lab: string;
  side: string;
  timeout?: number;
  cmd?: string[];
  _: (string | number)[];
  '--'?: (string | number)[];
}

function execOptions(y: Argv): Argv<ExecArgs> {
  return labOption(y)
    .positional('cmd', { type: 'string', array: true, describe: 'the command, after --' })
    .option('side', { type: 'string', default: 'client', requiresArg: true, coerce: textWith('side', checkSide), describe: 'the client or host namespace, or inside guest gN (over its console, not the network)' })
    .option('timeout', { type: 'string', requiresArg: true, coerce: durationFlag('timeout', 1000, 3_600_000), describe: 'in a guest: end the command after this long (default 60s)' })
    .example('$0 lab exec --side host -- ip addr', 'a command in the lab\'s host namespace')
    .example('$0 lab exec --side g1 --timeout 10s -- uname -a', 'a command inside guest g1') as unknown as Argv<ExecArgs>;
}

async function exec(a: ExecArgs): Promise<void> {
  // Words after `--` land in argv._ (after `lab exec`) or in argv['--'].
  const cmd = [...(a.cmd ?? []), ...(a['--'] ?? a._.slice(2))].map(String);
  if (!cmd.length) throw new UsageError('lab exec: name a command after --, e.g. umlperf lab exec --side host -- ip addr');
  if (a.side === 'client' || a.side === 'host') {
    if (a.timeout !== undefined) throw new UsageError('--timeout applies to lab exec in a guest (--side gN) only');
    process.exitCode = await labExec(a.lab, a.side, cmd);
    return;
  }
  guestNumber(a.side); // a UsageError past the last guest
  const r = await interruptible((signal) => labGuestExec(a.lab, a.side, cmd, { timeoutMs: a.timeout ?? 60_000, signal }));
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.status;
}

// ---- lab list

interface ListArgs {
  json: boolean;
}

function listOptions(y: Argv): Argv<ListArgs> {
  return jsonOption(y, 'print { labs: [{ name, status, guests, running, image, startedAt }] } as JSON')
    .example('$0 lab list', 'every lab on this machine, with its guests and how many run') as unknown as Argv<ListArgs>;
}

function list(a: ListArgs): void {
  const labs: LabSummary[] = labList();
  if (a.json) {
    process.stdout.write(`${JSON.stringify(asResult('lab-list', { labs }), null, 2)}\n`);
    return;
  }
  if (!labs.length) {
    process.stdout.write('no labs\n');
    return;
  }
  const rows = labs.map((l) => [l.name, l.status, String(l.guests), String(l.running), l.image ?? '', l.startedAt ?? '']);
  process.stdout.write(`${table(['lab', 'status', 'guests', 'running', 'image', 'created'], rows, 2)}\n`);
}

// ---- the command

const sub = <A>(command: string, describe: string, builder: (y: Argv) => Argv<A>, handler: (a: A) => void | Promise<void>): CommandModule<object, A> =>
  ({ command, describe, builder, handler: handler as CommandModule<object, A>['handler'] });

const command: CommandModule = {
  command: 'lab <action>',
  describe: 'a lab of UML guests: up, status, down, exec, list',
  builder: (y: Argv) =>
    y
      .command(sub('up', 'start a lab: a client and a host namespace, a bridge, N guests', upOptions, up))
      .command(sub('status', 'a lab\'s guests and whether they run', statusOptions, status))
      .command(sub('down', 'stop a lab and remove everything it made', downOptions, down))
      .command(sub('exec [cmd..]', 'run a command in the lab\'s client or host namespace, or in a guest', execOptions, exec))
      .command(sub('list', 'the labs on this machine', listOptions, list))
      .demandCommand(1, 'name a lab action: up, status, down, exec or list')
      .example('$0 lab up --guests 2', 'start a lab of two guests')
      .example('$0 lab list', 'the labs on this machine'),
  handler: () => undefined,
};
export default command;
