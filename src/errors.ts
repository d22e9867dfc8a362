// Errors users can act on: one line, with a code. Usage errors (bad options) exit 2 in the
// CLI; everything else that fails at run time exits 1.

export class UmlperfError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UmlperfError';
    this.code = code;
  }
}

/** A bad option or argument: the caller's mistake, fixable by changing the call. */
export class UsageError extends UmlperfError {
  constructor(message: string) {
    super('ERR_UMLPERF_USAGE', message);
    this.name = 'UsageError';
  }
}

/** Codes that mean the caller named something that does not exist: fixable by changing the call. */
const USAGE_CODES = new Set(['ERR_UMLPERF_USAGE', 'ENOTFOUND', 'ERR_UMLPERF_NO_LAB']);

export function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || USAGE_CODES.has((e as { code?: string })?.code ?? '');
}

/** An AbortError (code ABORT_ERR); `cause` is the signal's reason when there is one. */
export function abortError(cause?: unknown): Error {
  const e = new Error('the operation was aborted', cause === undefined ? undefined : { cause }) as Error & { code: string };
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}
