// What each server contributes to the image and to the start script.

export const SERVER_NAMES = ['dns', 'www', 'mail'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** A file the image build writes into the root, with its mode (default 0644). */
export interface ImageFile {
  path: string;
  content: string;
  mode?: number;
}

export interface ServerSpec {
  name: ServerName;
  /** What tables and messages call it. */
  label: string;
  /** The program that serves it, as `ps` shows it (named, apache2, postfix). */
  daemon: string;
  /** Config files prepared at image build time. */
  files(): ImageFile[];
  /** Directories to create at build time, with owner and mode (names resolved in the image). */
  dirs?: Array<{ path: string; owner?: string; mode?: number }>;
  /** One shell command, run in the foreground of a background job: it must not daemonise. */
  startCommand: string;
  /** Shell lines run before startCommand (kept short: every exec costs ~15 ms in a guest). */
  prelude?: string;
}
