// The host side's endpoint: the static umlperf-endpoint run inside `<lab>-host`, bound to the
// bridge address, detached in its own process group so it outlives `lab up`.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

import { abortError, UmlperfError } from '../errors.js';
import { DEFAULT_ECHO_PORT } from '../probes.js';
import { endpointBinary } from '../images/minimal.js';
import { inCgroupArgs } from './cgroup.js';
import { faultPoint } from './fault.js';
import { HOST_ADDRESS, hostNetns } from './names.js';
import { netnsExecArgs } from './netns.js';
import { startTimeOf } from './process.js';
import type { ProcessRecord } from './state.js';

export function spawnHostEndpoint(lab: string, log: string, onSpawn: (p: ProcessRecord) => void, signal?: AbortSignal, cpus?: string,
  cgroupProcs: string[] = []): Promise<ProcessRecord> {
  const fd = fs.openSync(log, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  let child: ChildProcess;
  try {
    const [cmd, ...args] = inCgroupArgs(cgroupProcs,
      ['ip', ...netnsExecArgs(hostNetns(lab), cpus), endpointBinary(), '--bind', HOST_ADDRESS, '--port', String(DEFAULT_ECHO_PORT)]);
    child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) return Promise.reject(new UmlperfError('ERR_UMLPERF_ENDPOINT', 'cannot spawn umlperf-endpoint'));
  faultPoint('endpoint-spawned');
  const proc: ProcessRecord = { role: 'endpoint', id: 'host', pid: child.pid, pgid: child.pid, startTime: startTimeOf(child.pid) };
  onSpawn(proc);
  // Its stdout is a file (a pipe would break when we exit): watch the file for the ready line.
  return new Promise((resolve, reject) => {
    let n = 0;
    const timer = setInterval(() => {
      const text = fs.readFileSync(log, 'utf8');
      if (/^umlperf-endpoint ready/m.test(text)) finish();
      else if (child.exitCode !== null || ++n > 250)
        finish(new UmlperfError('ERR_UMLPERF_ENDPOINT', `host endpoint did not start: ${text.trim().split('\n').pop() ?? 'no output'}; log: ${log}`));
    }, 20);
    const onAbort = () => finish(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    function finish(e?: Error) {
      clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
      if (e) return reject(e);
      child.unref();
      resolve(proc);
    }
  });
}
