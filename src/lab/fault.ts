// Fault injection for the crash-safety tests: `UMLPERF_FAULT=<point>:fail` makes the running
// `lab up` fail, and `<point>:kill` SIGKILLs its process, the first time it passes <point>.
// Points sit right after an object is made and before anything else happens, some of them
// inside the function that makes the object (so a record written after it would be missed):
//   state, netns-add, links, endpoint-spawned, servers-spawned, servers, tap-created,
//   guest-spawned, booted, health-spawned, health
// Unset (always, outside tests), a point costs one environment lookup.
import { UmlperfError } from '../errors.js';

export const FAULT_POINTS = [
  'state', 'netns-add', 'links', 'endpoint-spawned', 'servers-spawned', 'servers', 'tap-created', 'guest-spawned', 'booted',
  'health-spawned', 'health',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export function faultPoint(point: FaultPoint): void {
  const f = process.env.UMLPERF_FAULT;
  if (!f) return;
  const [at, how] = f.split(':');
  if (at !== point) return;
  if (how === 'kill') process.kill(process.pid, 'SIGKILL');
  throw new UmlperfError('ERR_UMLPERF_FAULT', `injected fault at ${point}`);
}
