/**
 * Micro-benchmark of partitionStaleness, the largest function of the check cycle's profile
 * (issue 11). One group of 51 partitions (50,950 group-partitions over 1,000 groups) with an
 * hour of 30-second samples (120), the monitor's case: the newest sample is this read. Three
 * shapes, each timed over every partition of the group:
 * - `behind`: the committed offsets are older than the whole history (the walk reads it all);
 * - `inside`: the committed offsets are inside the history (the walk stops on the bracket);
 * - `idle`: nothing produced for the idle window.
 *
 *   npm run -s build:tools && node build/tools/bench/staleness-micro.js [rounds]
 */
import { sampleOf, type GroupSample } from '../../src/core/history.js';
import type { GroupLag, PartitionLag } from '../../src/core/protocol.js';
import { DEFAULT_STALENESS, partitionStaleness } from '../../src/core/staleness.js';

const PARTITIONS = 51;
const SAMPLES = 120;
const STEP_MS = 30_000;
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

type Shape = 'behind' | 'inside' | 'idle';

function readOf(at: number, i: number, shape: Shape): GroupLag {
  const partitions: PartitionLag[] = [];
  for (let p = 0; p < PARTITIONS; p += 1) {
    const rate = shape === 'idle' ? 0 : 50 + p * 7;
    const logEnd = 1_000_000 + p * 10_000 + (shape === 'idle' ? 0 : i * rate * 30);
    // behind: the consumers stopped before the history began; inside: they trail by 20 minutes.
    const committed = shape === 'behind' ? 500_000 : shape === 'inside' ? Math.max(0, logEnd - 40 * rate * 30) : logEnd - 10;
    partitions.push({ topic: `topic-${p % 5}`, partition: p, committedOffset: committed, logEndOffset: logEnd, logStartOffset: 0, lag: logEnd - committed, memberId: null, clientId: null, host: null, flags: [] });
  }
  return { cluster: 'default', group: 'g', state: 'Stable', protocol: 'classic', protocolType: 'consumer', assignmentStrategy: null, membersVisible: true, members: [], partitions, topics: [], totalLag: null, readAt: at };
}

function build(shape: Shape): { history: GroupSample[]; last: GroupLag } {
  const history: GroupSample[] = [];
  let last = readOf(T0, 0, shape);
  for (let i = 0; i < SAMPLES; i += 1) {
    last = readOf(T0 + i * STEP_MS, i, shape);
    history.push(sampleOf(last, history.at(-1)));
  }
  return { history, last };
}

function time(shape: Shape, rounds: number): number {
  const { history, last } = build(shape);
  let sink = 0;
  const run = (n: number): void => {
    for (let r = 0; r < n; r += 1) for (const p of last.partitions) sink += partitionStaleness(p, last.readAt, history, DEFAULT_STALENESS).seconds ?? 1;
  };
  run(Math.max(1, rounds >> 3));
  const start = process.hrtime.bigint();
  run(rounds);
  const ns = Number(process.hrtime.bigint() - start) / (rounds * last.partitions.length);
  if (sink === 42) console.log('');
  return ns;
}

const rounds = Number(process.argv[2] ?? 2_000);
for (const shape of ['behind', 'inside', 'idle'] as const) {
  const best = Math.min(time(shape, rounds), time(shape, rounds), time(shape, rounds));
  console.log(`${shape.padEnd(7)} ${best.toFixed(0).padStart(6)} ns per call (best of 3, ${rounds} rounds x ${PARTITIONS} partitions, ${SAMPLES} samples)`);
}
