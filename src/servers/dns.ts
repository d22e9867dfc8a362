// DNS: BIND `named`, authoritative for the lab zone, IPv4 only, no recursion.
import { ZONE, zoneFile } from './zone.js';
import type { ImageFile, ServerSpec } from './spec.js';

const CONF = '/etc/bind/umlperf.conf';
const ZONE_PATH = `/etc/bind/db.${ZONE}`;

function namedConf(): string {
  return `// Written by umlperf at image build time.
options {
  directory "/var/cache/bind";
  listen-on port 53 { any; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  pid-file none;
  session-keyfile none;
  notify no;
  querylog no;
};
// No rndc control channel: nothing here needs it, and it saves a listener.
controls { };
zone "${ZONE}" {
  type primary;
  file "${ZONE_PATH}";
};
`;
}

export const dns: ServerSpec = {
  name: 'dns',
  label: 'DNS (BIND named)',
  daemon: 'named',
  files(): ImageFile[] {
    return [
      { path: CONF, content: namedConf() },
      { path: ZONE_PATH, content: zoneFile() },
    ];
  },
  // -g: foreground, log to stderr (no syslog in guests); -4: IPv4 only; -n 1: one worker
  // thread (a guest has one CPU).
  startCommand: `/usr/sbin/named -4 -g -n 1 -u bind -c ${CONF}`,
};
