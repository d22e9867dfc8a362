// umlperf lab up|status|down|exec: a lab of UML guests behind a bridge, probed from a client
// namespace. `up` leaves the lab running (guests detached); `down` tears it down from its state.
import type { Argv, CommandModule } from 'yargs';

import { UsageError } from '../../src/errors.js';
import { debianImage } from '../../src/images/debian.js';
import { parseServers } from '../../src/servers/start.js';
import { DEFAULT_MEM, SERVERS_MEM, checkMem, labDown, labExec, labGuestExec, labStatus, labUp, type LabInfo } from '../../src/lab/lab.js';
import { DEFAULT_KERNEL } from '../../src/lab/kernel.js';
import { DEFAULT_LAB, MAX_GUESTS, guestNumber, validateGuestCount, validateLabName } from '../../src/lab/names.js';
import { formatLimits, parseLimits, type GuestLimits } from '../../src/lab/limits.js';
import { intFlag, textFlag, textWith } from '../args.js';
import { interruptible } from '../progress.js';
import { asResult } from '../../src/result/envelope.js';

const checkSide = (side: string) => {
  if (side === 'client' || side === 'host' || /^g[1-9][0-9]*$/.test(side) && Number(side.slice(1)) <= MAX_GUESTS) return;
  throw new UsageError(`bad --side ${JSON.stringify(side)}: client, host or g1..g${MAX_GUESTS}`);
};

const checkCpus = (c: string) => {
  if (!/^\d+([-,]\d+)*$/.test(c)) throw new UsageError(`bad CPU list ${JSON.stringify(c)}: e.g. 0 or 0-1 or 0,2`);
};

interface Args {
  action: 'up' | 'status' | 'down' | 'exec';
  name: string;
  guests: number;
  image: 'minimal' | 'debian';
  servers?: string;
  transport: 'vector' | 'tuntap';
  mem?: string;
  cpus?: string;
  limit?: GuestLimits;
  kernel: string;
  side: string;
  timeout: number;
  json: boolean;
  cmd?: string[];
  _: (string | number)[];
  '--'?: (string | number)[];
}

function printInfo(lab: LabInfo): void {
  const out = [`lab ${lab.name}${lab.status ? ` (${lab.status})` : ''}: client ${lab.client.netns} ${lab.client.address}, host ${lab.host.netns} ${lab.host.address}`];
  for (const g of lab.guests) {
    const state = g.alive === undefined ? '' : g.alive ? '  running' : `  NOT RUNNING (log ${g.log})`;
    out.push(`  ${g.id.padEnd(4)} ${g.address.padEnd(13)} pid ${String(g.pid).padEnd(7)} ${g.transport.padEnd(7)} boot ${g.bootMs} ms${state}`);
    if (g.limits) out.push(`       limits ${formatLimits(g.limits.limits)}${g.limits.unsupported.length ? ` (unsupported here: ${g.limits.unsupported.join(', ')})` : ''}`);
  }
  if (lab.guestsUpMs !== undefined) out.push(`${lab.guests.length} guest(s) up in ${(lab.guestsUpMs / 1000).toFixed(2)} s`);
  for (const [t, ms] of Object.entries(lab.serversHealthyMs ?? {})) out.push(`  servers healthy on ${t} after ${(ms / 1000).toFixed(2)} s`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function jsonInfo(lab: LabInfo): string {
  return `${JSON.stringify(asResult('lab', lab), null, 2)}\n`;
}

async function handler(a: Args): Promise<void> {
  const name = validateLabName(a.name);
  switch (a.action) {
    case 'up': {
      validateGuestCount(a.guests);
      const tty = process.stderr.isTTY;
      const servers = parseServers(a.servers);
      const progress = tty ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
      const image = a.image === 'debian' ? await debianImage({ progress }) : a.image;
      const lab = await interruptible((signal) =>
        labUp({ name, guests: a.guests, image, servers, transport: a.transport, mem: a.mem, cpus: a.cpus, kernel: a.kernel, limits: a.limit, signal,
          progress: tty ? (l) => process.stderr.write(`${l}\n`) : undefined }));
      if (a.json) process.stdout.write(jsonInfo(lab));
      else printInfo(lab);
      return;
    }
    case 'status': {
      const lab = labStatus(name);
      if (a.json) process.stdout.write(jsonInfo(lab));
      else printInfo(lab);
      return;
    }
    case 'down': {
      const r = await labDown(name);
      if (a.json) process.stdout.write(`${JSON.stringify(asResult('lab-down', r))}\n`);
      else process.stdout.write(r.removed ? `lab ${name} is down\n` : `no lab ${name} (nothing to do)\n`);
      return;
    }
    case 'exec': {
      // Words after `--` land in argv._ (after the command name) or in argv['--'].
      const cmd = [...(a.cmd ?? []), ...(a['--'] ?? a._.slice(1))].map(String);
      if (!cmd.length) throw new UsageError('lab exec: name a command after --, e.g. umlperf lab exec --side host -- ip addr');
      if (a.side === 'client' || a.side === 'host') {
        process.exitCode = await labExec(name, a.side, cmd);
        return;
      }
      if (!/^g[1-9][0-9]*$/.test(a.side)) throw new UsageError(`bad --side ${JSON.stringify(a.side)}: client, host or g1..g${MAX_GUESTS}`);
      guestNumber(a.side);  // a UsageError past g${MAX_GUESTS}
      if (!(Number.isFinite(a.timeout) && a.timeout >= 1 && a.timeout <= 3600)) throw new UsageError(`bad --timeout ${JSON.stringify(a.timeout)}: seconds, 1 to 3600`);
      const r = await interruptible((signal) => labGuestExec(name, a.side, cmd, { timeoutMs: a.timeout * 1000, signal }));
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.status;
      return;
    }
  }
}

const command: CommandModule<object, Args> = {
  command: 'lab <action> [cmd..]',
  describe: 'a lab of UML guests: up, status, down, exec -- CMD (in the client or host namespace, or in a guest)',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['up', 'status', 'down', 'exec'] as const, describe: 'what to do' })
      .positional('cmd', { type: 'string', array: true, describe: 'exec: the command, after --' })
      .option('name', { type: 'string', default: DEFAULT_LAB, requiresArg: true, coerce: textWith('name', validateLabName), describe: 'lab name: 1-10 of a-z0-9' })
      .option('guests', { type: 'string', default: '1', requiresArg: true, coerce: intFlag('guests', 0, MAX_GUESTS), describe: `up: number of guests (0-${MAX_GUESTS})` })
      .option('image', { choices: ['minimal', 'debian'] as const, default: 'minimal' as const, describe: 'up: guest image' })
      .option('servers', { type: 'string', requiresArg: true, coerce: textWith('servers', parseServers), describe: 'up: servers on every guest and the host side, e.g. dns,www,mail (needs --image debian)' })
      .option('transport', { choices: ['vector', 'tuntap'] as const, default: 'vector' as const, describe: 'up: UML network driver' })
      .option('mem', { type: 'string', requiresArg: true, coerce: textWith('mem', checkMem), describe: `up: guest memory (UML mem=; default ${DEFAULT_MEM}, ${SERVERS_MEM} with --servers)` })
      .option('kernel', { type: 'string', default: DEFAULT_KERNEL, requiresArg: true, coerce: textFlag('kernel', 4096), describe: 'up: UML kernel' })
      .option('cpus', { type: 'string', requiresArg: true, coerce: textWith('cpus', checkCpus), describe: 'up: pin guests, host endpoint and host-side servers to these CPUs (taskset list, e.g. 0)' })
      .option('limit', { type: 'string', requiresArg: true, coerce: (v: unknown) => (v === undefined ? undefined : parseLimits(String(v))), describe: 'up: host-side limits on each guest\'s cgroup, e.g. cpu=50%,mem=256M,io=20M,pids=512' })
      .option('side', { type: 'string', default: 'client', requiresArg: true, coerce: textWith('side', checkSide), describe: 'exec: the client or host namespace, or inside guest gN (over its console, not the network)' })
      .option('timeout', { type: 'string', default: '60', requiresArg: true, coerce: intFlag('timeout', 1, 3600), describe: 'exec in a guest: seconds before the command is killed' })
      .option('json', { type: 'boolean', default: false, describe: 'up, status: print JSON' }) as unknown as Argv<Args>,
  handler,
};
export default command;
