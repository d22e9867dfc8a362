// The real stage: UML guests in a lab, servers on both sides from the Debian image. Each step
// of the study gets a fresh lab (a new unique name), so no state carries from one to the next.
import { debianImage, type DebianImage } from '../images/debian.js';
import { minimalImage, type GuestImage } from '../images/minimal.js';
import { UsageError } from '../errors.js';
import type { FpuState } from '../lab/fpu.js';
import { kernelCaps, DEFAULT_KERNEL } from '../lab/kernel.js';
import { labDown, labUp } from '../lab/lab.js';
import { clientNetns, guestAddress, HOST_ADDRESS } from '../lab/names.js';
import type { Transport } from '../lab/state.js';
import { DEFAULT_DISCARD_PORT, DEFAULT_ECHO_PORT } from '../probes.js';
import type { ServerName } from '../servers/spec.js';
import type { Experiment, ServerRole, Side } from './model.js';
import { signalGuestServers, signalHostServers } from './pause.js';
import type { ProbeTarget, Stage, StageGroup } from './stage.js';
import { cgroupFreeze } from '../lab/cgroup.js';

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

export class LabStage implements Stage {
  private lab?: string;
  private warnings: string[] = [];
  private step = 0;
  /** The paired experiment the current lab was prepared for, and what is paused in it now. */
  private group?: StageGroup;
  private stopped: ServerName[] = [];
  private frozen: string[] = [];
  private condition?: string;
  private kernelVersion = '';
  private fpuState?: FpuState;
  /** The network configuration of the labs (lab up --net line). */
  private net?: string;

  private constructor(
    private o: LabStageOptions,
    private minimal: GuestImage,
    private debian: DebianImage | undefined,
  ) {}

  /** Builds (or finds cached) the images the study needs. */
  static async create(o: LabStageOptions): Promise<LabStage> {
    if (o.labPrefix !== undefined) checkLabPrefix(o.labPrefix);
    const say = o.progress ?? (() => undefined);
    const caps = await kernelCaps(o.kernel ?? DEFAULT_KERNEL);
    say('image minimal');
    const minimal = await minimalImage();
    let debian: DebianImage | undefined;
    if (o.servers) {
      say('image debian (mmdebstrap: about a minute the first time, cached after)');
      debian = await debianImage({ progress: say });
    }
    const s = new LabStage(o, minimal, debian);
    s.kernelVersion = caps.version;
    return s;
  }

  /**
   * One lab for a whole paired experiment: every server of the group running on both sides and
   * the most guests it needs; arrange() then switches between its conditions by stopping
   * servers (SIGSTOP) and freezing guests, and close() always resumes them.
   */
  async prepare(group: StageGroup): Promise<void> {
    await this.boot({ experiment: group.experiment, servers: group.servers, guests: group.guests });
    this.group = group;
    this.stopped = [];
    this.frozen = [];
    this.condition = undefined;
  }

  async arrange(step: { experiment: Experiment; servers: ServerRole; guests: number }): Promise<void> {
    const g = this.group;
    if (this.lab && g && g.experiment === step.experiment && (step.servers === 'none' || g.servers.includes(step.servers)) && step.guests <= g.guests)
      return this.switchTo(step);
    this.group = undefined;
    await this.boot({ experiment: step.experiment, servers: step.servers === 'none' ? [] : [step.servers], guests: step.guests });
  }

  /** Makes the prepared lab look like `step`: its server alone running, its guests alone thawed. */
  private async switchTo(step: { servers: ServerRole; guests: number }): Promise<void> {
    const key = `${step.servers}/${step.guests}`;
    if (this.condition === key) return;
    this.condition = undefined; // unknown until every switch below is done
    const lab = this.lab!;
    const all = this.group!.servers.map((r) => ROLE_SERVER[r]);
    const run = step.servers === 'none' ? [] : [ROLE_SERVER[step.servers]];
    const stop = all.filter((s) => !run.includes(s));
    // Recorded before signalling: whatever happens next, close() continues them.
    this.stopped = [...new Set([...this.stopped, ...stop])];
    signalHostServers(lab, stop, 'SIGSTOP');
    signalHostServers(lab, run, 'SIGCONT');
    if (all.length) await signalGuestServers(lab, 'g1', { stop, cont: run });
    this.stopped = stop;
    for (let n = 1; n <= this.group!.guests; n++) {
      const leaf = `g${n}`;
      const freeze = n > step.guests;
      if (freeze === this.frozen.includes(leaf)) continue;
      if (freeze) this.frozen.push(leaf);
      if (!(await cgroupFreeze(lab, leaf, freeze))) throw new Error(`cannot ${freeze ? 'freeze' : 'thaw'} guest ${leaf} of lab ${lab} (no cgroup freezer here)`);
      if (!freeze) this.frozen = this.frozen.filter((x) => x !== leaf);
    }
    this.condition = key;
  }

  /** Continues every stopped server and thaws every frozen guest; on every path, errors included. */
  private async resume(): Promise<void> {
    const lab = this.lab;
    if (!lab || (!this.stopped.length && !this.frozen.length)) return;
    const stopped = this.stopped, frozen = this.frozen;
    this.stopped = [];
    this.frozen = [];
    this.condition = undefined;
    const errors: string[] = [];
    for (const leaf of frozen) if (!(await cgroupFreeze(lab, leaf, false))) errors.push(`thaw ${leaf}`);
    try {
      signalHostServers(lab, stopped, 'SIGCONT');
    } catch (e) {
      errors.push((e as Error).message);
    }
    if (stopped.length) await signalGuestServers(lab, 'g1', { cont: stopped }).catch((e: Error) => errors.push(e.message));
    if (errors.length) this.warnings.push(`lab ${lab}: could not resume everything before teardown (${errors.join('; ')}); teardown ends it regardless`);
  }

  private async boot(step: { experiment: Experiment; servers: ServerRole[]; guests: number }): Promise<void> {
    await this.teardown();
    let name = this.nextLabName();
    const servers = step.servers.filter((s) => s !== 'none').map((s) => ROLE_SERVER[s as Exclude<ServerRole, 'none'>]);
    const debian = step.experiment === 2 || servers.length > 0;
    if (debian && !this.debian) throw new Error('experiment 2 needs the Debian image');
    // A guest very rarely dies during boot (seen once in ~200 boots: a fatal signal pending for
    // its init, then ENOMEM mounting root); one fresh lab is tried before the run gives up, and
    // the result says so.
    for (let attempt = 1; ; attempt++) {
      this.o.progress?.(`lab ${name}: ${step.guests} guest(s)${servers.length ? `, ${step.servers.join(', ')}` : ''}`);
      this.lab = name;
      try {
        // With servers, lab up runs the same server from the same image on the host side too,
        // and returns once both sides pass their health checks.
        const up = await labUp({
          name,
          guests: step.guests,
          image: debian ? this.debian : this.minimal,
          transport: this.o.transport,
          kernel: this.o.kernel,
          mem: this.o.mem,
          servers: servers.length ? servers : undefined,
          cpus: this.o.cpus,
          signal: this.o.signal,
        });
        this.fpuState ??= up.guests.find((g) => g.fpuState)?.fpuState;
        this.net ??= up.net?.line || 'builtin';
        return;
      } catch (e) {
        this.lab = undefined; // a failed lab up has removed what it made
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
    if (!this.lab) throw new Error('no lab arranged');
    return { netns: clientNetns(this.lab), host: side === 'host' ? HOST_ADDRESS : guestAddress(1), echoPort: DEFAULT_ECHO_PORT, discardPort: DEFAULT_DISCARD_PORT };
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

  private async teardown(): Promise<void> {
    try {
      await this.resume();
    } finally {
      const lab = this.lab;
      this.lab = undefined;
      this.group = undefined;
      if (lab) await labDown(lab);
    }
  }

  async close(): Promise<void> {
    await this.teardown();
  }
}
