// The FPU-state adapter every guest runs with (native/preload/fpu_adapter.c): where it is, and
// what it said in a guest's console log about how that guest ran.
import fs from 'node:fs';

import { nativeArtifact } from '../artifacts.js';


export const FPU_ADAPTER_FILE = 'umlperf-fpu.so';

export function fpuAdapterPath(): string {
  return nativeArtifact(FPU_ADAPTER_FILE);
}

/**
 * How a guest's UML kernel saved its processes' vector state: `native` when the host's XSAVE
 * area fits the kernel's buffer, `adapted` when the adapter had to widen every call (hosts with
 * AMX and kernels before 6.13), `unknown` when the adapter never saw such a call.
 */
export interface FpuState {
  mode: 'native' | 'adapted' | 'unknown';
  /** The host's XSAVE area as ptrace reports it, bytes. */
  hostXstateBytes?: number;
  /** The buffer the UML kernel passed, bytes. */
  umlXstateBytes?: number;
}

const LINE = /^umlperf-fpu: (native|adapted) uml=(\d+) host=(\d+)$/m;

export function parseFpuState(log: string): FpuState {
  const m = LINE.exec(log);
  if (!m) return { mode: 'unknown' };
  return { mode: m[1] as 'native' | 'adapted', umlXstateBytes: Number(m[2]), hostXstateBytes: Number(m[3]) };
}

export function fpuStateOf(logFile: string): FpuState {
  try {
    // The line comes with the first user process, within the first few KiB of the log.
    const fd = fs.openSync(logFile, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(256 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return parseFpuState(buf.subarray(0, n).toString('latin1'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return { mode: 'unknown' };
  }
}
