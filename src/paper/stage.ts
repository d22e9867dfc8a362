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

export interface Stage {
  /**
   * Run `servers` on both sides and `guests` guests; the measured guest is g1. Every step of
   * experiment 2 (its no-server baseline too) uses the image that carries the servers.
   */
  arrange(step: { experiment: Experiment; servers: ServerRole; guests: number }): Promise<void>;
  target(side: Side): ProbeTarget;
  /** What results should record about the stage; warnings: what went wrong and was recovered. */
  describe(): { transport: string; kernel: string; image: string; labCpus: string | null; warnings?: string[]; fpuState?: FpuState };
  close(): Promise<void>;
}
