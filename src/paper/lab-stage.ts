// The real stage: UML guests in a lab, servers on both sides from the Debian image. Each step
// of the study gets a fresh lab (a new unique name), so no state carries from one to the next.
import { debianImage, type DebianImage } from '../images/debian.js';
import { minimalImage, type GuestImage } from '../images/minimal.js';
import type { FpuState } from '../lab/fpu.js';
import { kernelCaps, DEFAULT_KERNEL } from '../lab/kernel.js';
import { labDown, labUp } from '../lab/lab.js';
import { clientNetns, guestAddress, HOST_ADDRESS } from '../lab/names.js';
import type { Transport } from '../lab/state.js';
import { DEFAULT_DISCARD_PORT, DEFAULT_ECHO_PORT } from '../probes.js';
import type { ServerName } from '../servers/spec.js';
import type { Experiment, ServerRole, Side } from './model.js';
import type { ProbeTarget, Stage } from './stage.js';

const ROLE_SERVER: Record<Exclude<ServerRole, 'none'>, ServerName> = { www: 'www', dns: 'dns', mail: 'mail' };

export interface LabStageOptions {
  transport?: Transport;
  kernel?: string;
  mem?: string;
  /** CPUs (taskset list) for guests, host endpoint and host-side servers. */
  cpus?: string;
  /** Build the Debian image (experiment 2 needs it). */
  servers: boolean;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

/** Every lab a `umlperf paper` process makes is named this, then a step number (base 36). */
export function paperLabPrefix(pid: number): string {
  return `pp${(pid % 46656).toString(36)}`;
}

export class LabStage implements Stage {
  private lab?: string;
  private warnings: string[] = [];
  private step = 0;
  private kernelVersion = '';
  private fpuState?: FpuState;

  private constructor(
    private o: LabStageOptions,
    private minimal: GuestImage,
    private debian: DebianImage | undefined,
  ) {}

  /** Builds (or finds cached) the images the study needs. */
  static async create(o: LabStageOptions): Promise<LabStage> {
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

  async arrange(step: { experiment: Experiment; servers: ServerRole; guests: number }): Promise<void> {
    await this.teardown();
    let name = this.nextLabName();
    const server = step.servers === 'none' ? undefined : ROLE_SERVER[step.servers];
    const debian = step.experiment === 2 || server !== undefined;
    if (debian && !this.debian) throw new Error('experiment 2 needs the Debian image');
    // A guest very rarely dies during boot (seen once in ~200 boots: a fatal signal pending for
    // its init, then ENOMEM mounting root); one fresh lab is tried before the run gives up, and
    // the result says so.
    for (let attempt = 1; ; attempt++) {
      this.o.progress?.(`lab ${name}: ${step.guests} guest(s)${server ? `, ${step.servers}` : ''}`);
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
          servers: server ? [server] : undefined,
          cpus: this.o.cpus,
          signal: this.o.signal,
        });
        this.fpuState ??= up.guests.find((g) => g.fpuState)?.fpuState;
        return;
      } catch (e) {
        this.lab = undefined; // a failed lab up has removed what it made
        const code = (e as { code?: string }).code;
        if (attempt > 1 || (code !== 'ERR_UMLPERF_GUEST_EXIT' && code !== 'ERR_UMLPERF_GUEST_BOOT')) throw e;
        this.warnings.push(`experiment ${step.experiment}, ${step.guests} guest(s), ${step.servers}: ${(e as Error).message.split('\n')[0]}; retried with a fresh lab`);
        name = this.nextLabName();
      }
    }
  }

  // Short and unique: the TAPs are named <lab>gN and must fit 15 characters.
  private nextLabName(): string {
    return `${paperLabPrefix(process.pid)}${(this.step++).toString(36)}`;
  }

  target(side: Side): ProbeTarget {
    if (!this.lab) throw new Error('no lab arranged');
    return { netns: clientNetns(this.lab), host: side === 'host' ? HOST_ADDRESS : guestAddress(1), echoPort: DEFAULT_ECHO_PORT, discardPort: DEFAULT_DISCARD_PORT };
  }

  describe(): { transport: string; kernel: string; image: string; labCpus: string | null; warnings: string[]; fpuState?: FpuState } {
    return {
      ...(this.fpuState ? { fpuState: this.fpuState } : {}),
      warnings: [...this.warnings],
      labCpus: this.o.cpus ?? null,
      transport: this.o.transport ?? 'vector',
      kernel: `${this.o.kernel ?? DEFAULT_KERNEL} ${this.kernelVersion}`.trim(),
      image: this.debian ? `${this.minimal.name} (experiments 1, 3), ${this.debian.name} (experiment 2)` : this.minimal.name,
    };
  }

  private async teardown(): Promise<void> {
    const lab = this.lab;
    this.lab = undefined;
    if (lab) await labDown(lab);
  }

  async close(): Promise<void> {
    await this.teardown();
  }
}
