// Names and addresses of a lab: pure functions, validated at the edge. Every address is in the
// RFC 2544 benchmarking range 198.18.0.0/15 and lives only inside the lab's own namespaces.
import { UsageError } from '../errors.js';

export const DEFAULT_LAB = 'umlperf';
export const MAX_GUESTS = 64;
/** `<lab>g<N>` must fit IFNAMSIZ (15 characters): 10 + 'g' + 2 digits. */
const LAB_NAME = /^[a-z][a-z0-9]{0,9}$/;
const GUEST_ID = /^g([1-9][0-9]*)$/;

export const SUBNET_PREFIX = 24;
export const HOST_ADDRESS = '198.18.0.1';
export const CLIENT_ADDRESS = '198.18.0.2';
export const HOST_MAC = '02:00:c6:12:00:01';
export const CLIENT_MAC = '02:00:c6:12:00:02';
/** The veth end in each namespace and the bridge in `<lab>-host`. */
export const VETH = 'veth0';
export const BRIDGE = 'br0';
/** State file, sockets and FIFOs of our own (root, 0700): small, on tmpfs. */
export const RUN_ROOT = '/run/umlperf';
/** umlperf's files on disk (root's). */
export const DATA_ROOT = '/var/lib/umlperf';
/**
 * Per-lab files on disk (COW files, guest directories, console logs): a guest writing its
 * disk must not fill /run. `<LABS_ROOT>/<lab>` is root's, open to the lab's guest group only.
 */
export const LABS_ROOT = `${DATA_ROOT}/labs`;
/** Console logs of failed guests, kept after their lab is gone (root, 0700, bounded). */
export const KEPT_LOGS_DIR = `${DATA_ROOT}/logs`;

export function validateLabName(name: unknown): string {
  if (typeof name !== 'string' || !LAB_NAME.test(name))
    throw new UsageError(`bad lab name ${JSON.stringify(name)}: 1-10 characters of a-z and 0-9, starting with a letter`);
  return name;
}

export function validateGuestCount(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_GUESTS)
    throw new UsageError(`bad guest count ${JSON.stringify(n)}: a whole number from 0 to ${MAX_GUESTS}`);
  return n;
}

export const clientNetns = (lab: string): string => `${lab}-client`;
export const hostNetns = (lab: string): string => `${lab}-host`;
export const labDir = (lab: string): string => `${RUN_ROOT}/${lab}`;
export const dataDir = (lab: string): string => `${LABS_ROOT}/${lab}`;
/** A guest's own directory (its uid's, 0700): uml_dir, COW file, hostfs Maildir. */
export const guestDir = (lab: string, n: number): string => `${LABS_ROOT}/${lab}/g${n}`;
export const guestId = (n: number): string => `g${n}`;
export const tapName = (lab: string, n: number): string => `${lab}g${n}`;
export const guestAddress = (n: number): string => `198.18.0.${10 + n}`;
/** Locally administered, fixed per guest so neighbour entries can be made before boot. */
export const guestMac = (n: number): string => `02:00:c6:12:00:${(10 + n).toString(16).padStart(2, '0')}`;

/** The guest number of `gN`, or a UsageError. */
export function guestNumber(id: string): number {
  const m = GUEST_ID.exec(id);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= MAX_GUESTS)) throw new UsageError(`bad target ${JSON.stringify(id)}: host or g1..g${MAX_GUESTS}`);
  return n;
}

export interface LabTarget {
  /** The namespace to probe from. */
  netns: string;
  /** The address to probe. */
  host: string;
}

/** Where a probe of `--lab L --target host|gN` runs and what it aims at (no lookup). */
export function labTarget(lab: string, target: string): LabTarget {
  validateLabName(lab);
  const host = target === 'host' ? HOST_ADDRESS : guestAddress(guestNumber(target));
  return { netns: clientNetns(lab), host };
}
