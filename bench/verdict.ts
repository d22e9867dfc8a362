// The bench's verdict on one row: umlperf against its peer over alternating rounds.
// "≥ 1.00 ×" a peer: the ratio of the medians (umlperf / peer) over at least 10 rounds is ≥ 1.00
// and the lower end of its paired-bootstrap 95% CI is ≥ 0.98. For response time, where lower is
// better: ≤ 1.00 with the upper end ≤ 1.02. For a cost that should not show (the interval row):
// the whole CI within 0.99-1.01.
import { pairedMedianRatio } from '../src/stats.js';

export type Better = 'lower' | 'higher' | 'same';

export interface BenchVerdict {
  ratio: number;
  low: number;
  high: number;
  /** What the row must show: '≥ 1.00', '≤ 1.00' or 'within 1%'. */
  target: string;
  met: boolean;
}

export const MIN_ROUNDS = 10;

export function benchVerdict(better: Better, ours: readonly number[], peer: readonly number[]): BenchVerdict {
  if (ours.length !== peer.length) throw new Error(`bench verdict: ${ours.length} rounds of umlperf against ${peer.length} of the peer`);
  const q = pairedMedianRatio(ours, peer);
  const enough = ours.length >= MIN_ROUNDS;
  const met =
    enough &&
    (better === 'higher' ? q.ratio >= 1 && q.low >= 0.98 : better === 'lower' ? q.ratio <= 1 && q.high <= 1.02 : q.low >= 0.99 && q.high <= 1.01);
  const target = better === 'higher' ? '≥ 1.00' : better === 'lower' ? '≤ 1.00' : 'within 1%';
  return { ...q, target, met };
}
