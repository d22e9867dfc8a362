// WWW: Apache httpd with name-based virtual hosts, one page per vhost. Started as `apache2`
// with a config of our own (no envvars, no apache2ctl): few modules, one child process.
import { VHOSTS, ZONE } from './zone.js';
import type { ImageFile, ServerSpec } from './spec.js';

const CONF = '/etc/apache2/umlperf.conf';
const DOCROOT = '/srv/www';
const RUNTIME = '/var/lib/umlperf-apache2';
const MODULES = ['mpm_event', 'authz_core', 'dir', 'mime'];

/** The text each vhost's index page holds; the health check looks for it. */
export function vhostMarker(vhost: string): string {
  return `umlperf vhost ${vhost}.${ZONE}`;
}

function httpdConf(): string {
  const mods = MODULES.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`);
  const vhosts = VHOSTS.map((v) => `<VirtualHost *:80>
  ServerName ${v}.${ZONE}
  DocumentRoot ${DOCROOT}/${v}
</VirtualHost>`);
  return `# Written by umlperf at image build time. The first vhost is the default.
ServerRoot /etc/apache2
ServerName www.${ZONE}
Listen 0.0.0.0:80
PidFile /run/umlperf-apache2.pid
DefaultRuntimeDir ${RUNTIME}
Mutex file:${RUNTIME} default
${mods.join('\n')}
User www-data
Group www-data
ErrorLog /var/log/apache2/umlperf-error.log
LogLevel warn
HostnameLookups Off
KeepAlive On
# One child with 25 threads: a guest has one CPU, and every fork costs ~15 ms there.
StartServers 1
ServerLimit 4
ThreadsPerChild 25
MinSpareThreads 5
MaxSpareThreads 75
MaxRequestWorkers 100
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory ${DOCROOT}>
  Require all granted
</Directory>
DirectoryIndex index.html
TypesConfig /etc/mime.types
${vhosts.join('\n')}
`;
}

export const www: ServerSpec = {
  name: 'www',
  label: 'WWW (Apache httpd)',
  daemon: 'apache2',
  files(): ImageFile[] {
    const pages = VHOSTS.map((v) => ({
      path: `${DOCROOT}/${v}/index.html`,
      content: `<!doctype html><title>${v}.${ZONE}</title><p>${vhostMarker(v)}</p>\n`,
    }));
    return [{ path: CONF, content: httpdConf() }, ...pages];
  },
  dirs: [{ path: RUNTIME, owner: 'www-data', mode: 0o755 }, { path: '/var/log/apache2', mode: 0o755 }],
  startCommand: `/usr/sbin/apache2 -f ${CONF} -DFOREGROUND`,
};
