// The image cache directory, checked before anything is made in it: Node's recursive mkdir
// never returns for a path under /proc, so a pseudo file system is refused up front.
import path from 'node:path';

import { UsageError } from '../errors.js';

export function checkCacheDir(dir: string): string {
  if (typeof dir !== 'string' || dir.length === 0) throw new UsageError('the image cache directory must be a non-empty path');
  const abs = path.resolve(dir);
  if (['/proc', '/sys', '/dev'].some((d) => abs === d || abs.startsWith(`${d}/`)))
    throw new UsageError(`${JSON.stringify(dir)} is not a place for image files (a pseudo file system)`);
  return abs;
}
