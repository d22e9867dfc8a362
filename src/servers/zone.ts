// The lab's address plan and DNS zone, shared by the server configs, the health checks and
// the benchmarks. Every address is in the RFC 2544 benchmarking range 198.18.0.0/15.

export const ZONE = 'umlperf.test';
export const HOST_ADDR = '198.18.0.1';
export const CLIENT_ADDR = '198.18.0.2';
/** Guests are g1..gMAX at 198.18.0.(10+n): the zone names them all, built once per image. */
export const MAX_GUESTS = 244;

export function guestAddr(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_GUESTS) throw new RangeError(`guest number ${n} is outside 1..${MAX_GUESTS}`);
  return `198.18.0.${10 + n}`;
}

/** `host` or `gN` → its address; undefined for anything else. */
export function targetAddr(target: string): string | undefined {
  if (target === 'host') return HOST_ADDR;
  const m = /^g([1-9][0-9]*)$/.exec(target);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= MAX_GUESTS ? guestAddr(n) : undefined;
}

/** Name-based virtual hosts that Apache serves on every side (the study's virtual hosting). */
export const VHOSTS = ['www', 'site1', 'site2', 'site3'] as const;
/** The mailbox every recipient of the zone is delivered to (Maildir, relative to MAIL_BASE). */
export const MAIL_BASE = '/var/spool/umlperf-mail';
export const MAILBOX = 'inbox';

/** The A records of the zone, name → address; `www`, `mail`, `ns` live on the host side. */
export function zoneRecords(): Array<[string, string]> {
  const recs: Array<[string, string]> = [
    ['host', HOST_ADDR],
    ['ns', HOST_ADDR],
    ['www', HOST_ADDR],
    ['mail', HOST_ADDR],
    ['client', CLIENT_ADDR],
  ];
  for (let n = 1; n <= MAX_GUESTS; n++) recs.push([`g${n}`, guestAddr(n)]);
  return recs;
}

/** The zone file BIND loads, authoritative for ZONE. */
export function zoneFile(serial = 1): string {
  const lines = [
    '$TTL 300',
    `$ORIGIN ${ZONE}.`,
    `@\tIN\tSOA\tns.${ZONE}. hostmaster.${ZONE}. ${serial} 3600 600 86400 300`,
    '@\tIN\tNS\tns',
    '@\tIN\tMX\t10 mail',
    ...zoneRecords().map(([name, addr]) => `${name}\tIN\tA\t${addr}`),
    ...VHOSTS.filter((v) => v !== 'www').map((v) => `${v}\tIN\tCNAME\twww`),
  ];
  return lines.join('\n') + '\n';
}
