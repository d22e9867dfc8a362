// umlperf image build [--image minimal|debian]: build (or find in the cache) a guest image.
import { asResult } from '../../src/result/envelope.js';
import type { Argv, CommandModule } from 'yargs';
import { debianImage } from '../../src/images/debian.js';
import { DEFAULT_CACHE_DIR, minimalImage, type GuestImage } from '../../src/images/minimal.js';
import { pruneImages } from '../../src/images/prune.js';
import { dirFlag } from '../args.js';

interface Args {
  image: 'minimal' | 'debian';
  'cache-dir': string;
  json: boolean;
}

/** The options every image action takes: where the cache is, and JSON output. */
function cacheOptions(y: Argv): Argv {
  return y
    .option('cache-dir', { type: 'string', default: DEFAULT_CACHE_DIR, requiresArg: true, coerce: dirFlag('cache-dir'), describe: 'where images are kept' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' });
}

const build: CommandModule<object, Args> = {
  command: 'build',
  describe: 'build a guest image, or find it in the cache (by a hash of its recipe); prints where it is',
  builder: (y: Argv) =>
    cacheOptions(y)
      .option('image', { choices: ['minimal', 'debian'] as const, default: 'minimal' as const, requiresArg: true, describe: 'which image' })
      .example('$0 image build --image debian', 'the Debian image with BIND, Apache and Postfix (~30 s the first time)') as unknown as Argv<Args>,
  handler: async (a) => {
    const startedAt = new Date().toISOString();
    const tty = process.stderr.isTTY;
    const progress = (line: string) => { if (tty) process.stderr.write(`${line}\n`); };
    const img: GuestImage & { baseBytes?: number; baseAllocatedBytes?: number } = a.image === 'debian'
      ? await debianImage({ cacheDir: a['cache-dir'], progress })
      : await minimalImage({ cacheDir: a['cache-dir'] });
    if (a.json) {
      process.stdout.write(JSON.stringify(asResult('image', img, startedAt), null, 2) + '\n');
      return;
    }
    const extra = img.baseAllocatedBytes !== undefined && img.baseBytes !== undefined
      ? `, ${(img.baseAllocatedBytes / 2 ** 20).toFixed(0)} MiB allocated of ${(img.baseBytes / 2 ** 20).toFixed(0)} MiB`
      : '';
    process.stdout.write(`${img.name}: ${img.built ? `built in ${(img.buildMs / 1000).toFixed(1)} s` : 'cached'}${extra}\n` +
      `  base ${img.base}\n  root ${img.root}\n`);
  },
};

interface PruneArgs {
  'cache-dir': string;
  'dry-run': boolean;
  json: boolean;
}

const prune: CommandModule<object, PruneArgs> = {
  command: 'prune',
  describe: "remove cached images no recipe or lab uses any more (each rebuild of the endpoint leaves the old one behind)",
  builder: (y: Argv) =>
    cacheOptions(y)
      .option('dry-run', { type: 'boolean', default: false, describe: 'only list what would be removed' })
      .example('$0 image prune --dry-run', 'what would go, and how much space it would free') as unknown as Argv<PruneArgs>,
  handler: async (a) => {
    const startedAt = new Date().toISOString();
    const r = await pruneImages({ cacheDir: a['cache-dir'], dryRun: a['dry-run'] });
    if (a.json) {
      process.stdout.write(JSON.stringify(asResult('image-prune', r, startedAt), null, 2) + '\n');
      return;
    }
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const lines = [
      ...r.removed.map((x) => `${r.dryRun ? 'would remove' : 'removed'} ${x.name} (${x.reason}, ${mib(x.bytes)})`),
      ...r.kept.map((x) => `kept ${x.name} (${x.why})`),
      `${r.dryRun ? 'would free' : 'freed'} ${mib(r.bytesFreed)} in ${r.cacheDir}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

const command: CommandModule = {
  command: 'image <action>',
  describe: 'guest images: build, prune',
  builder: (y: Argv) =>
    y
      .command(build)
      .command(prune)
      .demandCommand(1, 'name an image action: build or prune')
      .example('$0 image build', 'the minimal image (busybox and the endpoint)'),
  handler: () => undefined,
};
export default command;
