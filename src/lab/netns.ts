// Network namespaces, the veth between them, the bridge and neighbour entries, made with
// iproute2. TAPs are made natively (tap.ts).
import fs from 'node:fs';

import { faultPoint } from './fault.js';
import { ip } from './run.js';

/**
 * Arguments for `ip` that run a command inside `netns`, pinned to `cpus` (a taskset list such
 * as "0" or "0-1") when given; taskset execs, so the pid stays the command's own.
 */
export function netnsExecArgs(netns: string, cpus?: string): string[] {
  return ['netns', 'exec', netns, ...(cpus ? ['taskset', '-c', cpus] : [])];
}

export function netnsExists(name: string): boolean {
  return fs.existsSync(`/run/netns/${name}`);
}

export async function netnsAdd(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
  faultPoint('netns-add');
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Deletes a namespace (and every link in it); nothing when it is gone already. */
export async function netnsDelete(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  await ip(['netns', 'delete', name], { okStderr: /No such file/ });
}

/** A veth pair with one end named `end` in each namespace. */
export async function vethAdd(nsA: string, nsB: string, end: string, macA: string, macB: string): Promise<void> {
  await ip(['-n', nsA, 'link', 'add', end, 'address', macA, 'type', 'veth', 'peer', 'name', end, 'address', macB, 'netns', nsB]);
}

export async function bridgeAdd(ns: string, name: string, mac: string): Promise<void> {
  await ip(['-n', ns, 'link', 'add', name, 'address', mac, 'type', 'bridge', 'forward_delay', '0']);
}

export async function linkMaster(ns: string, link: string, master: string): Promise<void> {
  await ip(['-n', ns, 'link', 'set', link, 'master', master]);
}

export async function linkUp(ns: string, link: string): Promise<void> {
  await ip(['-n', ns, 'link', 'set', link, 'up']);
}

export async function addrAdd(ns: string, link: string, cidr: string): Promise<void> {
  await ip(['-n', ns, 'addr', 'add', cidr, 'dev', link]);
}

/** A permanent neighbour entry: no ARP before the first packet (a ~3 s stall at guest boot). */
export async function neighPermanent(ns: string, link: string, address: string, mac: string): Promise<void> {
  await ip(['-n', ns, 'neigh', 'replace', address, 'lladdr', mac, 'dev', link, 'nud', 'permanent']);
}
