// Where the experiments run. The orchestrator asks a stage to arrange servers and guests and
// tells it nothing else; the lab-backed stage (lab-stage.ts) does the work.
import type { FpuState } from '../lab/fpu.js';
import type { Experiment, ServerRole, Side } from './model.js';

export interface ProbeTarget {
  /** Namespace the probes run in (the lab's client side). */
  netns?: string;
  host: string;
  echoPort: number;
  discardPort: number;
  /** TCP chargen, for latency under load (default echoPort + 2, the endpoint's). */
  sourcePort?: number;
}

/** Everything a paired experiment switches between: its servers (each also paused) and up to `guests` guests. */
export interface StageGroup {
  experiment: Experiment;
  servers: Exclude<ServerRole, 'none'>[];
  guests: number;
}

export interface Stage {
  /**
   * Optional: provision a whole experiment at once, so that arrange() for its steps only
   * switches (servers stopped, guests frozen) and both sides of a comparison alternate block by
   * block. A stage without it arranges every step afresh.
   */
  prepare?(group: StageGroup): Promise<void>;
  /**
   * Optional, with prepare: whether the stage keeps every prepared experiment's lab, parked
   * while another is measured, so that the run can interleave the experiments' blocks. Without
   * it, preparing one experiment may end the last, and they run one after another.
   */
  canPark?(): boolean;
  /**
   * Run `servers` on both sides and `guests` guests; the measured guest is g1. Every step of
   * experiment 2 (its no-server baseline too) uses the image that carries the servers.
   */
  arrange(step: { experiment: Experiment; servers: ServerRole; guests: number }): Promise<void>;
  target(side: Side): ProbeTarget;
  /** Optional: the MTU of the stage's network, known before its first lab (default 1500). */
  netMtu?(): number;
  /** What results should record about the stage; warnings: what went wrong and was recovered. */
  describe(): { transport: string; net?: string; kernel: string; image: string; labCpus: string | null; warnings?: string[]; fpuState?: FpuState };
  close(): Promise<void>;
}
