// The real stage: UML guests in labs, servers on both sides from the Debian image. Each
// experiment gets a lab of its own (a new unique name), so no state carries from one to the
// next; the labs stand side by side, all but the one measured parked (frozen whole).
import { debianImage, type DebianImage } from '../images/debian.js';
import { minimalImage, type GuestImage } from '../images/minimal.js';
import { UsageError } from '../errors.js';
import type { FpuState } from '../lab/fpu.js';
import { kernelCaps, DEFAULT_KERNEL } from '../lab/kernel.js';
import { labDown, labUp, resolveLabNet } from '../lab/lab.js';
import type { NetConfig } from '../lab/net-config.js';
import { clientNetns, guestAddress, HOST_ADDRESS } from '../lab/names.js';
import type { Transport } from '../lab/state.js';
import { DEFAULT_DISCARD_PORT, DEFAULT_ECHO_PORT } from '../probes.js';
import type { ServerName } from '../servers/spec.js';
import type { Experiment, ServerRole, Side } from './model.js';
import { signalGuestServers, signalHostServers } from './pause.js';
import type { ProbeTarget, Stage, StageGroup } from './stage.js';
import { cgroupFreeze, cgroupMode } from '../lab/cgroup.js';
import path from 'node:path';

const ROLE_SERVER: Record<Exclude<ServerRole, 'none'>, ServerName> = { www: 'www', dns: 'dns', mail: 'mail' };

export interface LabStageOptions {
  transport?: Transport;
  kernel?: string;
  mem?: string;
  /** CPUs (taskset list) for guests, host endpoint and host-side servers. */
  cpus?: string;
  /** The labs are named this plus a step number (default pp<pid>): 1-8 of a-z0-9, a letter first. */
  labPrefix?: string;
  /** Build the Debian image (experiment 2 needs it). */
  servers: boolean;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

/** Every lab a `umlperf paper` process makes is named this, then a step number (base 36). */
export function paperLabPrefix(pid: number): string {
  return `pp${(pid % 46656).toString(36)}`;
}

/** A prefix for a run's lab names (each is the prefix and a one-character step), or a UsageError. */
export function checkLabPrefix(p: string): string {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(p)) throw new UsageError(`bad lab prefix ${JSON.stringify(p)}: 1 to 8 of a-z and 0-9, a letter first`);
  return p;
}

/** One lab of the stage: the paired experiment it was prepared for (if any), and what is paused in it now. */
interface StageLab {
  name: string;
  group?: StageGroup;
  /** Servers stopped on both sides (a parked lab's host side is frozen instead). */
  stopped: ServerName[];
  /** Frozen cgroup leaves: guests beyond the condition, and every leaf of a parked lab. */
  frozen: string[];
  /** The condition it is switched to; undefined while unknown or parked. */
  condition?: string;
  /** The server last left running on both sides ('none': all stopped); undefined while unknown. */
  servers?: ServerRole;
}

export class LabStage implements Stage {
  /** Every lab standing: one per prepared experiment, and at most one arranged without preparation. */
  private labs: StageLab[] = [];
  /** The lab the probes target. */
  private current?: StageLab;
  private warnings: string[] = [];
  private step = 0;
  private kernelVersion = '';
  private fpuState?: FpuState;
  /** The network configuration of the labs (lab up --net line). */
  private net?: string;

  private constructor(
    private o: LabStageOptions,
    private minimal: GuestImage,
    private debian: DebianImage | undefined,
    /** Resolved once, before the first lab: every lab of the run gets this one configuration. */
    private netConfig: NetConfig,
  ) {}

  /** Builds (or finds cached) the images the study needs. */
  static async create(o: LabStageOptions): Promise<LabStage> {
    if (o.labPrefix !== undefined) checkLabPrefix(o.labPrefix);
    // The `default` preset as it is now: a presets file saved during the run changes none of its labs.
    const net = resolveLabNet({ transport: o.transport });
    const say = o.progress ?? (() => undefined);
    const caps = await kernelCaps(o.kernel ?? DEFAULT_KERNEL);
    say('image minimal');
    const minimal = await minimalImage();
    let debian: DebianImage | undefined;
    if (o.servers) {
      say('image debian (mmdebstrap: about a minute the first time, cached after)');
      debian = await debianImage({ progress: say });
    }
    const s = new LabStage(o, minimal, debian, net.config);
    s.kernelVersion = caps.version;
    return s;
  }

  /** A lab can be parked (every process of it frozen) where the host has a cgroup freezer. */
  canPark(): boolean {
    const m = cgroupMode();
    return m.version === 2 || (m.version === 1 && m.roots.some((r) => path.basename(r) === 'freezer'));
  }

  /**
   * One lab for a whole paired experiment: every server of the group running on both sides and
   * the most guests it needs; arrange() then switches between its conditions by stopping
   * servers (SIGSTOP) and freezing guests, and close() always resumes them. The labs of other
   * experiments stay, parked (frozen whole) while this one is measured, where the host can
   * freeze (canPark); elsewhere they are torn down first.
   */
  async prepare(group: StageGroup): Promise<void> {
    for (const l of this.labs.filter((x) => !this.canPark() || !x.group || x.group.experiment === group.experiment)) await this.teardown(l);
    if (this.current) await this.park(this.current);
    const lab = await this.boot({ experiment: group.experiment, servers: group.servers, guests: group.guests });
    lab.group = group;
  }

  async arrange(step: { experiment: Experiment; servers: ServerRole; guests: number }): Promise<void> {
    const fits = this.labs.find(({ group: g }) => g && g.experiment === step.experiment && (step.servers === 'none' || g.servers.includes(step.servers)) && step.guests <= g.guests);
    if (fits) {
      if (this.current !== fits && this.current) await this.park(this.current);
      this.current = fits;
      return this.switchTo(fits, step);
    }
    // Not prepared for: a lab of its own, in place of the last one made this way.
    for (const l of this.labs.filter((x) => !x.group)) await this.teardown(l);
    if (this.current) await this.park(this.current);
    await this.boot({ experiment: step.experiment, servers: step.servers === 'none' ? [] : [step.servers], guests: step.guests });
  }

  /** The leaves of a lab: its host side, then its guests. */
  private leaves(lab: StageLab): string[] {
    return ['host', ...Array.from({ length: lab.group?.guests ?? 0 }, (_, i) => `g${i + 1}`)];
  }

  /** Freezes every process of a prepared lab (its host side, servers and endpoint, and its guests) while another is measured. */
  private async park(lab: StageLab): Promise<void> {
    if (!lab.group) return;
    lab.condition = undefined; // unknown until switchTo has run again
    for (const leaf of this.leaves(lab)) await this.setFrozen(lab, leaf, true);
  }

  /** Freezes or thaws one leaf of a lab, recording it first when freezing: whatever happens next, teardown thaws it. */
  private async setFrozen(lab: StageLab, leaf: string, freeze: boolean): Promise<void> {
    if (freeze === lab.frozen.includes(leaf)) return;
    if (freeze) lab.frozen.push(leaf);
    if (!(await cgroupFreeze(lab.name, leaf, freeze))) throw new Error(`cannot ${freeze ? 'freeze' : 'thaw'} ${leaf} of lab ${lab.name} (no cgroup freezer here)`);
    if (!freeze) lab.frozen = lab.frozen.filter((x) => x !== leaf);
  }

  /** Makes a prepared lab look like `step`: its server alone running, its guests alone thawed. */
  private async switchTo(lab: StageLab, step: { servers: ServerRole; guests: number }): Promise<void> {
    const key = `${step.servers}/${step.guests}`;
    if (lab.condition === key) return;
    lab.condition = undefined; // unknown until every switch below is done
    const g = lab.group!;
    for (const leaf of this.leaves(lab)) await this.setFrozen(lab, leaf, leaf !== 'host' && Number(leaf.slice(1)) > step.guests);
    // Parking froze the servers as they were: signalled only when the server changes.
    if (lab.servers !== step.servers) {
      lab.servers = undefined;
      const all = g.servers.map((r) => ROLE_SERVER[r]);
      const run = step.servers === 'none' ? [] : [ROLE_SERVER[step.servers]];
      const stop = all.filter((s) => !run.includes(s));
      // Recorded before signalling: whatever happens next, teardown continues them.
      lab.stopped = [...new Set([...lab.stopped, ...stop])];
      signalHostServers(lab.name, stop, 'SIGSTOP');
      signalHostServers(lab.name, run, 'SIGCONT');
      if (all.length) await signalGuestServers(lab.name, 'g1', { stop, cont: run });
      lab.stopped = stop;
      lab.servers = step.servers;
    }
    lab.condition = key;
  }

  /** Continues every stopped server and thaws every frozen leaf of a lab; on every path, errors included. */
  private async resume(lab: StageLab): Promise<void> {
    if (!lab.stopped.length && !lab.frozen.length) return;
    const stopped = lab.stopped, frozen = lab.frozen;
    lab.stopped = [];
    lab.frozen = [];
    lab.condition = undefined;
    lab.servers = undefined;
    const errors: string[] = [];
    for (const leaf of frozen) if (!(await cgroupFreeze(lab.name, leaf, false))) errors.push(`thaw ${leaf}`);
    try {
      signalHostServers(lab.name, stopped, 'SIGCONT');
    } catch (e) {
      errors.push((e as Error).message);
    }
    if (stopped.length) await signalGuestServers(lab.name, 'g1', { cont: stopped }).catch((e: Error) => errors.push(e.message));
    if (errors.length) this.warnings.push(`lab ${lab.name}: could not resume everything before teardown (${errors.join('; ')}); teardown ends it regardless`);
  }

  /** Brings up a new lab and makes it the current one (the others stay as they are). */
  private async boot(step: { experiment: Experiment; servers: ServerRole[]; guests: number }): Promise<StageLab> {
    let name = this.nextLabName();
    const servers = step.servers.filter((s) => s !== 'none').map((s) => ROLE_SERVER[s as Exclude<ServerRole, 'none'>]);
    const debian = step.experiment === 2 || servers.length > 0;
    if (debian && !this.debian) throw new Error('experiment 2 needs the Debian image');
    // A guest very rarely dies during boot (seen once in ~200 boots: a fatal signal pending for
    // its init, then ENOMEM mounting root); one fresh lab is tried before the run gives up, and
    // the result says so.
    for (let attempt = 1; ; attempt++) {
      this.o.progress?.(`lab ${name}: ${step.guests} guest(s)${servers.length ? `, ${step.servers.join(', ')}` : ''}`);
      // Recorded first: whatever happens next, close() takes it down.
      const lab: StageLab = { name, stopped: [], frozen: [] };
      this.labs.push(lab);
      this.current = lab;
      try {
        // With servers, lab up runs the same server from the same image on the host side too,
        // and returns once both sides pass their health checks.
        const up = await labUp({
          name,
          guests: step.guests,
          image: debian ? this.debian : this.minimal,
          // The legacy transport is in it already (resolveLabNet).
          net: this.netConfig,
          kernel: this.o.kernel,
          mem: this.o.mem,
          servers: servers.length ? servers : undefined,
          cpus: this.o.cpus,
          signal: this.o.signal,
        });
        this.fpuState ??= up.guests.find((g) => g.fpuState)?.fpuState;
        this.net ??= up.net?.line || 'builtin';
        return lab;
      } catch (e) {
        // A failed lab up has removed what it made.
        this.labs = this.labs.filter((x) => x !== lab);
        this.current = undefined;
        const code = (e as { code?: string }).code;
        if (attempt > 1 || (code !== 'ERR_UMLPERF_GUEST_EXIT' && code !== 'ERR_UMLPERF_GUEST_BOOT')) throw e;
        this.warnings.push(`experiment ${step.experiment}, ${step.guests} guest(s), ${step.servers.join(', ') || 'none'}: ${(e as Error).message.split('\n')[0]}; retried with a fresh lab`);
        name = this.nextLabName();
      }
    }
  }

  // Short and unique: the TAPs are named <lab>gN and must fit 15 characters.
  private nextLabName(): string {
    return `${this.o.labPrefix ?? paperLabPrefix(process.pid)}${(this.step++).toString(36)}`;
  }

  target(side: Side): ProbeTarget {
    if (!this.current) throw new Error('no lab arranged');
    return { netns: clientNetns(this.current.name), host: side === 'host' ? HOST_ADDRESS : guestAddress(1), echoPort: DEFAULT_ECHO_PORT, discardPort: DEFAULT_DISCARD_PORT };
  }

  netMtu(): number {
    return this.netConfig.mtu;
  }

  describe(): { transport: string; net?: string; kernel: string; image: string; labCpus: string | null; warnings: string[]; fpuState?: FpuState } {
    return {
      ...(this.net !== undefined ? { net: this.net } : {}),
      ...(this.fpuState ? { fpuState: this.fpuState } : {}),
      warnings: [...this.warnings],
      labCpus: this.o.cpus ?? null,
      transport: this.o.transport ?? 'vector',
      kernel: `${this.o.kernel ?? DEFAULT_KERNEL} ${this.kernelVersion}`.trim(),
      image: this.debian ? `${this.minimal.name} (experiments 1, 3), ${this.debian.name} (experiment 2)` : this.minimal.name,
    };
  }

  private async teardown(lab: StageLab): Promise<void> {
    try {
      await this.resume(lab);
    } finally {
      this.labs = this.labs.filter((x) => x !== lab);
      if (this.current === lab) this.current = undefined;
      await labDown(lab.name);
    }
  }

  /** Takes every lab down (each resumed first); the first failure is thrown once all were tried. */
  async close(): Promise<void> {
    let failed: unknown;
    for (const lab of [...this.labs]) await this.teardown(lab).catch((e) => (failed ??= e));
    if (failed) throw failed;
  }
}
