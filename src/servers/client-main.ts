// The client side of health checks and benchmarks, run as a child process inside the lab's
// client namespace (`ip netns exec <lab>-client node client-main.js JOB`): every socket it
// opens lives in that namespace, so no bug here can send traffic anywhere else. It prints
// one JSON line with the result. Timestamps are CLOCK_MONOTONIC (process.hrtime), the same
// clock as the parent's.
import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { DnsClient, httpGet, smtpSend } from './protocols.js';
import { HOST_ADDR, VHOSTS, ZONE } from './zone.js';
import { vhostMarker } from './www.js';
import type { ServerName } from './spec.js';
import { pollUntil, sleep } from '../wait.js';

export interface HealthJob {
  kind: 'health';
  addr: string;
  servers: ServerName[];
  /** Give up after this long. */
  deadlineMs: number;
  /** Pause between attempts at one server. */
  intervalMs: number;
  /** Host path of the Maildir the target delivers into (omit: SMTP acceptance only). */
  maildir?: string;
  token: string;
}

export interface ServerHealth {
  server: ServerName;
  ok: boolean;
  /** CLOCK_MONOTONIC ns at which the check first passed (as a decimal string). */
  okAtNs?: string;
  attempts: number;
  detail: string;
}

export interface BenchJob {
  kind: 'bench';
  proto: 'dns' | 'http' | 'smtp';
  addr: string;
  requests: number;
  concurrency: number;
  timeoutMs: number;
  durationMs: number;
  warmup: number;
}

export interface BenchRaw {
  samplesNs: number[];
  errors: number;
  firstError?: string;
  durationNs: number;
  startedAtNs: string;
  /** Mean cost of one process.hrtime.bigint() call here, ns. */
  clockOverheadNs: number;
}

function hrtimeOverheadNs(): number {
  const n = 1000;
  const t0 = now();
  for (let i = 0; i < n; i++) now();
  return Number(now() - t0) / (n + 1);
}

const now = () => process.hrtime.bigint();

/** One health probe of one server: resolves with a description, rejects with the reason. */
async function checkOnce(server: ServerName, job: HealthJob, dnsClient: () => DnsClient): Promise<string> {
  const budget = Math.max(200, Math.min(2000, job.intervalMs * 10));
  switch (server) {
    case 'dns': {
      const a = await dnsClient().query(`www.${ZONE}`, 'A', budget);
      if (a.rcode !== 0 || !a.authoritative || !a.answers.includes(HOST_ADDR))
        throw new Error(`DNS answer rcode=${a.rcode} aa=${a.authoritative} [${a.answers.join(' ')}]`);
      return `www.${ZONE} A ${a.answers.join(' ')} (authoritative)`;
    }
    case 'www': {
      // Two vhosts on one address: the answer must depend on the Host header.
      for (const v of [VHOSTS[0], VHOSTS[1]]) {
        const r = await httpGet(job.addr, `${v}.${ZONE}`, budget);
        if (r.status !== 200 || !r.body.includes(vhostMarker(v)))
          throw new Error(`GET http://${v}.${ZONE}/ → ${r.status} without the vhost's page`);
      }
      return `GET / on vhosts ${VHOSTS[0]}, ${VHOSTS[1]} → 200`;
    }
    case 'mail': {
      const subject = `umlperf-health ${job.token}`;
      const r = await smtpSend({ addr: job.addr, from: `health@client.${ZONE}`, to: `postmaster@${ZONE}`, subject,
        body: `health check ${job.token}\n`, timeoutMs: budget * 2 });
      if (!job.maildir) return `accepted (${r.reply}); delivery not visible from here`;
      const maildir = job.maildir;
      if (await pollUntil(() => maildirHas(maildir, subject), { timeoutMs: 5000, intervalMs: 20 })) return `accepted and delivered to the Maildir (${r.reply})`;
      throw new Error(`accepted (${r.reply}) but not in ${job.maildir}/new within 5 s`);
    }
  }
}

/** Messages are at most 1 MiB (Postfix's message_size_limit in the image). */
const MAX_MESSAGE = 1 << 20;

/**
 * Whether a message holding `needle` is in the Maildir. A guest's Maildir is the guest's to
 * write (hostfs), and we run as root: regular files only, no symlink followed, no FIFO waited
 * on, at most one message's size read.
 */
async function maildirHas(maildir: string, needle: string): Promise<boolean> {
  const dir = path.join(maildir, 'new');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(path.join(dir, n), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
      if (!(await fh.stat()).isFile()) continue;
      const buf = Buffer.alloc(MAX_MESSAGE);
      const { bytesRead } = await fh.read(buf, 0, MAX_MESSAGE, 0);
      if (buf.subarray(0, bytesRead).toString('latin1').includes(needle)) return true;
    } catch {
      // not a regular file of its own, or gone
    } finally {
      await fh?.close();
    }
  }
  return false;
}

export async function runHealth(job: HealthJob): Promise<ServerHealth[]> {
  const end = performance.now() + job.deadlineMs;
  let dns: DnsClient | undefined;
  const dnsClient = () => (dns ??= new DnsClient(job.addr));
  try {
    return await Promise.all(job.servers.map(async (server): Promise<ServerHealth> => {
      let attempts = 0;
      let detail = 'not tried';
      while (performance.now() < end) {
        attempts++;
        try {
          detail = await checkOnce(server, job, dnsClient);
          return { server, ok: true, okAtNs: now().toString(), attempts, detail };
        } catch (e) {
          detail = (e as Error).message;
        }
        await sleep(job.intervalMs);
      }
      return { server, ok: false, attempts, detail };
    }));
  } finally {
    dns?.close();
  }
}

/** Closed-loop load: `concurrency` workers, each one request at a time, bounded in count and time. */
export async function runBench(job: BenchJob): Promise<BenchRaw> {
  const samples: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let issued = 0;
  const total = job.requests + job.warmup;
  const startedAt = now();
  const stopAt = startedAt + BigInt(job.durationMs) * 1_000_000n;
  let seq = 0;
  const worker = async () => {
    const dns = job.proto === 'dns' ? new DnsClient(job.addr) : undefined;
    try {
      while (issued < total && now() < stopAt) {
        const i = issued++;
        const t0 = now();
        try {
          if (dns) {
            const a = await dns.query(`g${1 + (i % 32)}.${ZONE}`, 'A', job.timeoutMs);
            if (a.rcode !== 0 || a.answers.length !== 1) throw new Error(`DNS rcode ${a.rcode}`);
          } else if (job.proto === 'http') {
            const v = VHOSTS[i % VHOSTS.length];
            const r = await httpGet(job.addr, `${v}.${ZONE}`, job.timeoutMs);
            if (r.status !== 200) throw new Error(`HTTP status ${r.status}`);
          } else {
            await smtpSend({ addr: job.addr, from: `bench@client.${ZONE}`, to: `bench@${ZONE}`,
              subject: `umlperf-bench ${process.pid}-${seq++}`, body: 'x'.repeat(512), timeoutMs: job.timeoutMs });
          }
          const dt = Number(now() - t0);
          if (i >= job.warmup) samples.push(dt);
        } catch (e) {
          errors++;
          firstError ??= (e as Error).message;
        }
      }
    } finally {
      dns?.close();
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return { samplesNs: samples, errors, firstError, durationNs: Number(now() - startedAt), startedAtNs: startedAt.toString(), clockOverheadNs: Math.round(hrtimeOverheadNs() * 10) / 10 };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as HealthJob | BenchJob;
  const result = job.kind === 'health' ? await runHealth(job) : await runBench(job);
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main().then(() => process.exit(0), (e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  });
}
