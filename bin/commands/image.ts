// umlperf image build --image minimal|debian: build (or find in the cache) a guest image.
import { asResult } from '../../src/result/envelope.js';
import type { Argv, CommandModule } from 'yargs';
import { debianImage } from '../../src/images/debian.js';
import { DEFAULT_CACHE_DIR, minimalImage, type GuestImage } from '../../src/images/minimal.js';
import { dirFlag } from '../args.js';

interface Args {
  action: 'build';
  image: 'minimal' | 'debian';
  'cache-dir': string;
  json: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'image <action>',
  describe: 'build a guest image (cached by a hash of its recipe; prints where it is)',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['build'] as const, describe: 'what to do' })
      .option('image', { choices: ['minimal', 'debian'] as const, default: 'minimal' as const, requiresArg: true })
      .option('cache-dir', { type: 'string', default: DEFAULT_CACHE_DIR, requiresArg: true, coerce: dirFlag('cache-dir'), describe: 'where images are kept' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' }) as unknown as Argv<Args>,
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
export default command;
