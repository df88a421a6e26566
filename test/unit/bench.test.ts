import { describe, expect, it } from 'vitest';
import { parseOptions, parseScale } from '../../tools/bench/options.js';
import { committedOffset, expectedLag, layoutOf } from '../../tools/bench/state.js';
import { percentile, summarize } from '../../tools/bench/stats.js';

describe('benchmark options', () => {
  it('defaults to 500 groups over 100 topics and 5,000 partitions', () => {
    expect(parseOptions([]).scales).toEqual([{ groups: 500, topics: 100, partitions: 5_000 }]);
  });

  it('reads scales as GROUPSxPARTITIONS (50 partitions a topic) or GROUPSxTOPICSxPARTITIONS', () => {
    expect(parseScale('1000x10000')).toEqual({ groups: 1_000, topics: 200, partitions: 10_000 });
    expect(parseScale('100x7x1000')).toEqual({ groups: 100, topics: 7, partitions: 1_000 });
    expect(parseOptions(['--scales', '100x1000,500x5000']).scales).toHaveLength(2);
    expect(parseOptions(['--groups', '10', '--partitions', '500']).scales).toEqual([{ groups: 10, topics: 10, partitions: 500 }]);
  });

  it('refuses what it cannot build, with the reason', () => {
    expect(() => parseScale('10x5')).not.toThrow();
    expect(() => parseScale('10x20x5')).toThrow(/cannot be spread/);
    expect(() => parseScale('lots')).toThrow(/GROUPSxPARTITIONS/);
    expect(() => parseOptions(['--cycles', '0'])).toThrow(/positive integer/);
    expect(() => parseOptions(['--scales', '1x10', '--groups', '3'])).toThrow(/not both/);
    expect(() => parseOptions(['--frobnicate'])).toThrow(/Unknown option/);
  });
});

describe('benchmark cluster state', () => {
  it('spreads partitions over topics, gives one group about 1,000 partitions and the others one topic each', () => {
    const layout = layoutOf({ groups: 500, topics: 100, partitions: 5_000 }, 1_000);
    expect(layout.topics.every((t) => t.partitions === 50)).toBe(true);
    expect(layout.widePartitions).toBe(1_000);
    expect(layout.groups).toHaveLength(500);
    expect(layout.groupPartitions).toBe(1_000 + 499 * 50);
    const uneven = layoutOf({ groups: 3, topics: 3, partitions: 10 }, 1_000);
    expect(uneven.topics.map((t) => t.partitions)).toEqual([4, 3, 3]);
  });

  it('expects each group to lag by the log end minus its committed offsets', () => {
    const layout = layoutOf({ groups: 2, topics: 1, partitions: 2 }, 1);
    layout.logEnd = [[5, 3]];
    const committed = [0, 1].map((g) => [0, 1].map((p) => committedOffset(layout, g, 0, p)));
    expect(committed.flat().every((c, i) => c >= 0 && c <= (layout.logEnd[0]?.[i % 2] ?? 0))).toBe(true);
    expect(expectedLag(layout).get('bench-wide')).toBe(8 - (committed[0]?.[0] ?? 0) - (committed[0]?.[1] ?? 0));
  });
});

describe('benchmark statistics', () => {
  it('uses nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 0.5)).toBe(50);
    expect(percentile(samples, 0.99)).toBe(99);
    expect(summarize([3, 1, 2])).toMatchObject({ n: 3, minMs: 1, medianMs: 2, maxMs: 3 });
  });
});
