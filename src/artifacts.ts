// Where the native files we build are: the local build first (as node-gyp-build looks for the
// addon), then the prebuilds an installed package ships.
import fs from 'node:fs';
import path from 'node:path';

import { UmlperfError } from './errors.js';
import { packageRoot } from './native.js';

export function nativeArtifact(file: string): string {
  const candidates = [
    path.join(packageRoot, 'build', 'Release', file),
    path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, file),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new UmlperfError('ENOENT', `${file} is not built; run npx node-gyp rebuild (looked in ${candidates.join(', ')})`);
  return found;
}
