// Mail: Postfix in the study's qmail role (qmail is not packaged), delivering every
// recipient of the zone into one Maildir. The master runs in the foreground (`master -s`);
// no chroot in master.cf, so no copies of /etc files under the queue directory.
import fs from 'node:fs/promises';
import path from 'node:path';
import { MAILBOX, MAIL_BASE, ZONE } from './zone.js';
import type { ImageFile, ServerSpec } from './spec.js';

/** Owner of delivered mail (no account: Postfix's virtual(8) delivers with this uid). */
export const MAIL_UID = 5000;
/** Where delivered messages land inside the image. */
export const MAILDIR = `${MAIL_BASE}/${MAILBOX}`;

/**
 * Prepares a host directory to stand for MAIL_BASE (bind-mounted on the host side, hostfs in a
 * guest) and returns the host path of the Maildir in it. The Maildir is made here, world-
 * writable: under hostfs every file the guest creates belongs to the host's root, so a Maildir
 * that virtual(8) made itself (0700) would lock out the mail uid on the next delivery.
 */
export async function prepareMailHostDir(dir: string): Promise<string> {
  const maildir = path.join(dir, MAILBOX);
  for (const d of [dir, maildir, ...['tmp', 'new', 'cur'].map((s) => path.join(maildir, s))]) {
    await fs.mkdir(d, { recursive: true });
    await fs.chown(d, MAIL_UID, MAIL_UID);
    await fs.chmod(d, 0o777);
  }
  return maildir;
}

function mainCf(): string {
  return `# Written by umlperf at image build time.
compatibility_level = 3.6
myhostname = mail.${ZONE}
mydomain = ${ZONE}
myorigin = $mydomain
mydestination = localhost
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.0/8 198.18.0.0/15
relayhost =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtpd_banner = $myhostname ESMTP Postfix
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
smtpd_tls_security_level = none
smtp_tls_security_level = none
# No DNS needed on the way in: the lab's clients have no names worth looking up.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
# A benchmark sends faster than one mailbox absorbs; do not add Postfix's 1 s pauses.
in_flow_delay = 0
message_size_limit = 1048576
virtual_mailbox_domains = ${ZONE}
virtual_mailbox_base = ${MAIL_BASE}
virtual_mailbox_maps = static:${MAILBOX}/
virtual_uid_maps = static:${MAIL_UID}
virtual_gid_maps = static:${MAIL_UID}
maillog_file = /var/log/postfix.log
`;
}

// Only the services an inbound SMTP delivery uses; no pickup (nothing submits locally).
const MASTER_CF = `# Written by umlperf at image build time.
# service type  private unpriv  chroot  wakeup  maxproc command
smtp      inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export const mail: ServerSpec = {
  name: 'mail',
  label: 'mail (Postfix)',
  daemon: 'postfix',
  files(): ImageFile[] {
    return [
      { path: '/etc/postfix/main.cf', content: mainCf() },
      { path: '/etc/postfix/master.cf', content: MASTER_CF },
    ];
  },
  dirs: [{ path: MAIL_BASE, owner: `${MAIL_UID}:${MAIL_UID}`, mode: 0o777 }],
  // A guest may be told to keep its Maildir on a host directory (hostfs), so that the host
  // sees delivered mail as it lands: `umlperf.mailhostfs=/host/dir` on the kernel command line.
  prelude: `cmdline=; read -r cmdline 2>/dev/null < /proc/cmdline
case " $cmdline " in
  *" umlperf.mailhostfs="*)
    d=\${cmdline##*umlperf.mailhostfs=}; d=\${d%% *}
    mount -t hostfs none ${MAIL_BASE} -o "$d" || echo "umlperf: hostfs mail mount failed" >&2
    # hostfs shows every file as the host's root's: the delivery agent's link() from tmp/ to
    # new/ of a file it "does not own" needs protected_hardlinks off (guest-only setting).
    echo 0 > /proc/sys/fs/protected_hardlinks ;;
esac`,
  startCommand: '/usr/lib/postfix/sbin/master -s',
};
