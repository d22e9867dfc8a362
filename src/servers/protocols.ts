// Minimal clients for the three servers, written for measurement: DNS over UDP, HTTP/1.1
// GET with a Host header, and an SMTP transaction. Each returns when the server has answered
// and rejects with a one-line reason otherwise; every call has a timeout.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';

// ---------------------------------------------------------------- DNS (RFC 1035)

export interface DnsAnswer {
  rcode: number;
  authoritative: boolean;
  /** A records as dotted quads, MX as "pref name", CNAME targets as names. */
  answers: string[];
}

const QTYPE = { A: 1, CNAME: 5, MX: 15 } as const;
export type DnsType = keyof typeof QTYPE;

export function encodeQuery(id: number, name: string, type: DnsType): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + l.length, 0) + 1 + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(0x0000, 2); // standard query, no recursion wanted: the server is authoritative
  q.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    q[o++] = l.length;
    o += q.write(l, o, 'ascii');
  }
  q[o++] = 0;
  q.writeUInt16BE(QTYPE[type], o);
  q.writeUInt16BE(1, o + 2); // IN
  return q;
}

function readName(b: Buffer, off: number): [string, number] {
  const parts: string[] = [];
  let o = off;
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = b[o];
    if (len === undefined) throw new Error('truncated name');
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = o + 2;
      o = ((len & 0x3f) << 8) | b[o + 1];
      continue;
    }
    if (len === 0) return [parts.join('.'), end < 0 ? o + 1 : end];
    parts.push(b.toString('ascii', o + 1, o + 1 + len));
    o += 1 + len;
  }
  throw new Error('name compression loop');
}

export function decodeResponse(b: Buffer, id: number): DnsAnswer | undefined {
  if (b.length < 12 || b.readUInt16BE(0) !== id || !(b[2] & 0x80)) return undefined;
  const flags = b.readUInt16BE(2);
  const qd = b.readUInt16BE(4);
  const an = b.readUInt16BE(6);
  let o = 12;
  for (let i = 0; i < qd; i++) o = readName(b, o)[1] + 4;
  const answers: string[] = [];
  for (let i = 0; i < an; i++) {
    o = readName(b, o)[1];
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 8);
    const rd = o + 10;
    if (type === QTYPE.A && len === 4) answers.push(`${b[rd]}.${b[rd + 1]}.${b[rd + 2]}.${b[rd + 3]}`);
    else if (type === QTYPE.MX) answers.push(`${b.readUInt16BE(rd)} ${readName(b, rd + 2)[0]}`);
    else if (type === QTYPE.CNAME) answers.push(readName(b, rd)[0]);
    o = rd + len;
  }
  return { rcode: flags & 0x0f, authoritative: (flags & 0x0400) !== 0, answers };
}

/** A UDP socket for repeated queries to one server (one outstanding query at a time). */
export class DnsClient {
  private sock = dgram.createSocket('udp4');
  private pending?: { id: number; resolve: (a: DnsAnswer) => void; reject: (e: Error) => void };
  private ready: Promise<void>;

  constructor(private addr: string, private port = 53) {
    this.sock.on('message', (msg) => {
      const p = this.pending;
      if (!p) return;
      const a = decodeResponse(msg, p.id);
      if (a) { this.pending = undefined; p.resolve(a); }
    });
    this.ready = new Promise((res, rej) => {
      this.sock.once('error', rej);
      this.sock.connect(this.port, this.addr, () => { this.sock.off('error', rej); res(); });
    });
    // A connected UDP socket hears ICMP port-unreachable as ECONNREFUSED: fail the query now
    // rather than at its timeout (a health check polling a starting named wants this).
    this.sock.on('error', (e) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    });
  }

  async query(name: string, type: DnsType, timeoutMs: number): Promise<DnsAnswer> {
    await this.ready;
    const id = randomInt(0, 0x10000);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending = undefined; reject(new Error(`no DNS answer from ${this.addr} in ${timeoutMs} ms`)); }, timeoutMs);
      this.pending = { id, resolve: (a) => { clearTimeout(timer); resolve(a); }, reject: (e) => { clearTimeout(timer); reject(e); } };
      this.sock.send(encodeQuery(id, name, type));
    });
  }

  close(): void {
    this.sock.close();
  }
}

// ---------------------------------------------------------------- HTTP/1.1

export interface HttpReply {
  status: number;
  body: string;
}

/** GET path with a Host header on a fresh connection (Connection: close). */
export function httpGet(addr: string, host: string, timeoutMs: number, path = '/', port = 80): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: addr, port, noDelay: true });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no HTTP reply from ${addr} in ${timeoutMs} ms`)); }, timeoutMs);
    s.once('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: umlperf\r\nConnection: close\r\n\r\n`));
    s.on('data', (b) => chunks.push(b));
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
    s.once('end', () => {
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) return reject(new Error(`not an HTTP reply from ${addr}`));
      const i = text.indexOf('\r\n\r\n');
      resolve({ status: Number(m[1]), body: i < 0 ? '' : text.slice(i + 4) });
    });
  });
}

// ---------------------------------------------------------------- SMTP (RFC 5321)

export interface SmtpOptions {
  addr: string;
  port?: number;
  from: string;
  to: string;
  subject: string;
  body: string;
  timeoutMs: number;
}

export interface SmtpResult {
  /** From connect() to the 250 that accepts the message. */
  acceptedNs: bigint;
  /** The server's reply to the end of DATA (it names the queue id). */
  reply: string;
}

/** One SMTP transaction: banner, EHLO, MAIL, RCPT, DATA, QUIT. */
export function smtpSend(o: SmtpOptions): Promise<SmtpResult> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host: o.addr, port: o.port ?? 25, noDelay: true });
    let buf = '';
    let step = 0;
    let accepted: SmtpResult | undefined;
    const fail = (why: string) => { clearTimeout(timer); s.destroy(); reject(new Error(`SMTP to ${o.addr}: ${why}`)); };
    const timer = setTimeout(() => fail(`no reply in ${o.timeoutMs} ms (step ${step})`), o.timeoutMs);
    const message = `From: <${o.from}>\r\nTo: <${o.to}>\r\nSubject: ${o.subject}\r\n\r\n` +
      o.body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.\r\n';
    // [expected reply code, what to send after it]
    const steps: Array<[number, string | undefined]> = [
      [220, 'EHLO client.umlperf.test\r\n'],
      [250, `MAIL FROM:<${o.from}>\r\n`],
      [250, `RCPT TO:<${o.to}>\r\n`],
      [250, 'DATA\r\n'],
      [354, message],
      [250, 'QUIT\r\n'],
      [221, undefined],
    ];
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      for (;;) {
        // A reply ends with a line "NNN text" (a space after the code, not a dash).
        const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buf);
        if (!m) return;
        const code = Number(m[1]);
        const line = buf.slice(m.index, m.index + m[0].length).trim();
        buf = buf.slice(m.index + m[0].length);
        const [want, next] = steps[step];
        if (code !== want) return fail(`expected ${want}, got "${line}"`);
        if (step === 5) accepted = { acceptedNs: process.hrtime.bigint() - t0, reply: line };
        step++;
        if (next === undefined) {
          clearTimeout(timer);
          s.end();
          return resolve(accepted!);
        }
        s.write(next);
      }
    });
    s.once('error', (e) => fail((e as Error).message));
    s.once('close', () => { if (step < steps.length) fail('connection closed early'); });
  });
}
