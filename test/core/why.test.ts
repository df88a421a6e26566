import { describe, expect, it } from 'vitest';
import { DEFAULT_FINDING_SETTINGS, diagnosisOf, findingIdentity, findingsOf, type Finding, type FindingSettings } from '../../src/core/findings.js';
import { figuresMoved } from '../../src/core/incident.js';
import { appendSample, medianOf, partitionKey, partitionRates, rewindsIn, sampleOf, type GroupSample } from '../../src/core/history.js';
import { CHECK_MS, Scenario, T0, scriptedLag, type GroupScript } from '../support/scripted.js';

/** Why there is lag: rates per partition, and the findings that read them. */

const MIN = 60_000;
const SEC = CHECK_MS / 1000;

/** The history of one check per script, 30 s apart, and the last read. */
function run(scripts: readonly GroupScript[]) {
  let history: GroupSample[] = [];
  let lag = scriptedLag(T0, scripts[0] as GroupScript);
  scripts.forEach((script, i) => {
    lag = scriptedLag(T0 + i * CHECK_MS, script);
    history = appendSample(history, sampleOf(lag, history[history.length - 1]), 60 * MIN);
  });
  return { lag, history };
}

const findingsOver = (scripts: readonly GroupScript[], settings: FindingSettings = DEFAULT_FINDING_SETTINGS): Finding[] => {
  const { lag, history } = run(scripts);
  return findingsOf({ lag, history, settings });
};
const ofKind = <K extends Finding['kind']>(list: readonly Finding[], kind: K) => list.filter((f): f is Extract<Finding, { kind: K }> => f.kind === kind);

/**
 * Three partitions, each receiving `produce[p]` messages a second and consumed at
 * `consume[p]` a second (a partition consumed at its produce rate keeps up).
 */
function steady(checks: number, produce: readonly number[], consume: readonly number[], base = 1_000_000): GroupScript[] {
  return Array.from({ length: checks }, (_, i) => ({
    partitions: produce.map((rate, p) => ({ committed: base + Math.round((consume[p] as number) * SEC * i), logEnd: base + 5_000 + Math.round(rate * SEC * i) })),
  }));
}

describe('per-partition rates', () => {
  it('are the log-end and committed offset growth of each partition over the rate window', () => {
    const { history } = run(steady(10, [14_200, 14_200, 14_200], [14_200, 800, 14_200]));
    const rates = partitionRates(history, 2 * MIN);
    expect(rates?.spanSec).toBe(120);
    expect(rates?.keys).toEqual([0, 1, 2].map((p) => partitionKey('user-events', p)));
    expect([...(rates?.producePerSec ?? [])]).toEqual([14_200, 14_200, 14_200]);
    expect([...(rates?.consumePerSec ?? [])]).toEqual([14_200, 800, 14_200]);
  });

  it('are unknown with a single sample, and NaN for a partition whose offset is unknown', () => {
    expect(partitionRates(run(steady(1, [1], [1])).history, 2 * MIN)).toBeNull();
    const scripts = steady(5, [100, 100], [100, 100]);
    const last = scripts[4] as GroupScript;
    scripts[4] = { partitions: [last.partitions[0] as GroupScript['partitions'][number], { committed: 1, logEnd: null }] };
    const rates = partitionRates(run(scripts).history, 2 * MIN);
    expect(rates?.producePerSec[0]).toBe(100);
    expect(rates?.producePerSec[1]).toBeNaN();
  });

  it('match partitions by key when the partitions changed within the window', () => {
    const scripts = steady(6, [100, 100], [100, 100]);
    const grown = steady(6, [100, 100, 100], [100, 100, 100]);
    scripts[5] = grown[5] as GroupScript;
    const rates = partitionRates(run(scripts).history, 2 * MIN);
    expect([...(rates?.consumePerSec ?? [])].slice(0, 2)).toEqual([100, 100]);
    expect(rates?.consumePerSec[2]).toBeNaN();
  });

  it('take the median of known values only', () => {
    expect(medianOf([3, Number.NaN, 1, 2])).toBe(2);
    expect(medianOf([4, 1])).toBe(2.5);
    expect(medianOf([])).toBeNaN();
  });
});

describe('slow consumer', () => {
  it("names the slow partition among fast siblings, its rates and its owner (the case study's partition 1)", () => {
    const [slow, ...others] = ofKind(findingsOver(steady(10, [14_200, 14_200, 14_200], [14_200, 800, 14_200])), 'slow-consumer');
    expect(others).toEqual([]);
    expect(slow).toEqual({
      kind: 'slow-consumer',
      topic: 'user-events',
      partition: 1,
      consumePerSec: 800,
      producePerSec: 14_200,
      siblingsConsumePerSec: 14_200,
      siblings: 2,
      lag: 5_000 + (14_200 - 800) * SEC * 9,
      owner: { memberId: 'consumer-2', clientId: 'consumer-2', host: '10.0.1.15' },
    });
  });

  it('is not one slow consumer when all partitions are equally slow', () => {
    expect(ofKind(findingsOver(steady(10, [14_200, 14_200, 14_200], [800, 800, 800])), 'slow-consumer')).toEqual([]);
  });

  it('is not a partition that only gets less traffic and keeps up', () => {
    expect(ofKind(findingsOver(steady(10, [14_200, 800, 14_200], [14_200, 800, 14_200])), 'slow-consumer')).toEqual([]);
  });

  it('is not a partition consumed somewhat slower than its siblings: "far below" is the setting, a quarter by default', () => {
    const half = steady(10, [14_200, 14_200, 14_200], [14_200, 7_100, 14_200]);
    expect(ofKind(findingsOver(half), 'slow-consumer')).toEqual([]);
    expect(ofKind(findingsOver(half, { ...DEFAULT_FINDING_SETTINGS, slowConsumerRatio: 0.6 }), 'slow-consumer').map((f) => f.partition)).toEqual([1]);
  });

  it('is a stall, not a slow consumer, when the committed offset stands still', () => {
    const found = findingsOver(steady(12, [14_200, 14_200, 14_200], [14_200, 0, 14_200]));
    expect(ofKind(found, 'slow-consumer')).toEqual([]);
    expect(ofKind(found, 'stalled').map((f) => f.partition)).toEqual([1]);
  });

  it("compares with the siblings' consume rate, not their traffic: uneven produce rates (the demo's 100, 400, 50/s)", () => {
    // Partition 1 at 10/s of its 400/s: far below the others' 75/s (median of 100 and 50).
    expect(ofKind(findingsOver(steady(10, [100, 400, 50], [100, 10, 50])), 'slow-consumer').map((f) => [f.partition, f.siblingsConsumePerSec])).toEqual([[1, 75]]);
    // At 38/s it is about half of theirs: slower, but not "far below" by default.
    expect(ofKind(findingsOver(steady(10, [100, 400, 50], [100, 38, 50])), 'slow-consumer')).toEqual([]);
  });

  it('needs history: a one-off read has no rates', () => {
    expect(findingsOver(steady(1, [14_200, 14_200, 14_200], [14_200, 800, 14_200])).map((f) => f.kind)).not.toContain('slow-consumer');
  });
});

describe('traffic spike', () => {
  /** 40 min at `usual` produced and consumed, then `spike` produced for 4 min while consumers take `consumeInSpike`. */
  function spike(usual: number, spikeRate: number, consumeInSpike: number, spikeChecks = 8): GroupScript[] {
    let logEnd = 1_000_000;
    let committed = 1_000_000;
    const scripts: GroupScript[] = [];
    for (let i = 0; i < 80 + spikeChecks; i += 1) {
      const inSpike = i >= 80;
      if (i > 0) {
        logEnd += (inSpike ? spikeRate : usual) * SEC;
        committed += (inSpike ? consumeInSpike : usual) * SEC;
      }
      // One partition per member, all alike: the group's totals carry the story.
      scripts.push({ partitions: [0, 1].map(() => ({ committed, logEnd })), members: 2 });
    }
    return scripts;
  }

  it('sees produce well above its median while consumers hold their usual rate, with the figures', () => {
    const [found] = ofKind(findingsOver(spike(7_000, 21_700, 7_000)), 'traffic-spike');
    expect(found).toEqual({
      kind: 'traffic-spike',
      producePerSec: 43_400,
      baselinePerSec: 14_000,
      ratio: 3.1,
      baselineMs: 87 * CHECK_MS,
      consumePerSec: 14_000,
      usualConsumePerSec: 14_000,
      members: 2,
      partitions: 2,
    });
  });

  it('is not steady high traffic, however high', () => {
    expect(ofKind(findingsOver(spike(21_700, 21_700, 20_000, 0)), 'traffic-spike')).toEqual([]);
  });

  it('is not a spike when consumers slowed down as traffic rose', () => {
    expect(ofKind(findingsOver(spike(7_000, 21_700, 3_000)), 'traffic-spike')).toEqual([]);
  });

  it('is not a spike when consumers keep up with it', () => {
    expect(ofKind(findingsOver(spike(7_000, 21_700, 21_700)), 'traffic-spike')).toEqual([]);
  });

  it('needs a baseline longer than the spike: a short history says nothing', () => {
    expect(ofKind(findingsOver(spike(7_000, 21_700, 7_000).slice(74)), 'traffic-spike')).toEqual([]);
  });
});

describe('rewind', () => {
  it('names the partition, from and to, and when: a committed offset going backwards', () => {
    const scripts = steady(8, [100, 100, 100], [100, 100, 100]);
    const at5 = scripts[5] as GroupScript;
    // An offset reset on partition 2 at the sixth check; the consumer goes on from there.
    const reset = (s: GroupScript, drop: number): GroupScript => ({ partitions: s.partitions.map((p, i) => (i === 2 ? { ...p, committed: p.committed - drop } : p)) });
    scripts[5] = reset(at5, 40_000);
    scripts[6] = reset(scripts[6] as GroupScript, 40_000);
    scripts[7] = reset(scripts[7] as GroupScript, 40_000);
    const found = ofKind(findingsOver(scripts), 'rewind');
    expect(found).toEqual([
      {
        kind: 'rewind',
        topic: 'user-events',
        partition: 2,
        from: 1_000_000 + 100 * SEC * 4,
        to: 1_000_000 + 100 * SEC * 5 - 40_000,
        at: T0 + 5 * CHECK_MS,
        owner: { memberId: 'consumer-3', clientId: 'consumer-3', host: '10.0.1.16' },
      },
    ]);
  });

  it('is seen small (within a block of samples) and large (across blocks), and only within the rate window', () => {
    const back = (drop: number, at: number, checks = 8): GroupScript[] =>
      steady(checks, [100], [100]).map((s, i) => (i >= at ? { partitions: s.partitions.map((p) => ({ ...p, committed: p.committed - drop })) } : s));
    expect(rewindsIn(run(back(5_000, 6)).history, 2 * MIN)).toEqual([{ key: partitionKey('user-events', 0), from: 1_015_000, to: 1_013_000, at: T0 + 6 * CHECK_MS }]);
    expect(rewindsIn(run(back(5_000_000, 6)).history, 2 * MIN).map((r) => r.to)).toEqual([1_018_000 - 5_000_000]);
    expect(rewindsIn(run(back(5_000, 2, 12)).history, 2 * MIN)).toEqual([]);
    expect(rewindsIn(run(back(5_000, 2, 12)).history, 10 * MIN)).toHaveLength(1);
  });

  it('is not an offset that only moves forward or stands still, nor an unknown one', () => {
    expect(rewindsIn(run(steady(8, [100, 100], [100, 0])).history, 2 * MIN)).toEqual([]);
    const scripts = steady(4, [100], [100]);
    scripts[2] = { partitions: [{ committed: Number.NaN, logEnd: 2_000_000 }] };
    expect(rewindsIn(run(scripts).history, 2 * MIN)).toEqual([]);
  });

  it('is told in the timeline once', () => {
    const s = new Scenario();
    const scripts = steady(12, [30_000, 30_000, 30_000], [30_000, 30_000, 30_000]).map((script) => ({
      partitions: script.partitions.map((p) => ({ ...p, logEnd: (p.logEnd ?? 0) + 60_000 })),
    }));
    for (let i = 0; i < scripts.length; i += 1) {
      const script = scripts[i] as GroupScript;
      s.check(i >= 6 ? { partitions: script.partitions.map((p, k) => (k === 0 ? { ...p, committed: p.committed - 2_000_000 } : p)) } : script);
    }
    const told = s.timeline.filter((e) => e.kind === 'evidence' && e.finding.kind === 'rewind');
    expect(s.incident).not.toBeNull();
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ at: T0 + 6 * CHECK_MS });
  });
});

describe('stopped, stalled and slow stay distinct', () => {
  const kindsOver = (scripts: GroupScript[]) => new Set(findingsOver(scripts).map((f) => f.kind));

  it('stopped: no members, nothing consumes', () => {
    const k = kindsOver(steady(12, [100, 100, 100], [0, 0, 0]).map((s) => ({ ...s, members: 0 })));
    expect([k.has('stopped'), k.has('stalled'), k.has('slow-consumer')]).toEqual([true, false, false]);
  });

  it('stalled: members there, one offset standing still while messages arrive', () => {
    const k = kindsOver(steady(12, [100, 100, 100], [100, 0, 100]));
    expect([k.has('stopped'), k.has('stalled'), k.has('slow-consumer')]).toEqual([false, true, false]);
  });

  it('slow: the offset moves, far slower than its siblings', () => {
    const k = kindsOver(steady(12, [100, 100, 100], [100, 10, 100]));
    expect([k.has('stopped'), k.has('stalled'), k.has('slow-consumer')]).toEqual([false, false, true]);
  });
});

describe('told in the timeline once', () => {
  it('a slow consumer, check after check, is one evidence entry; a new owner of the slow partition is another', () => {
    const s = new Scenario();
    const slowScripts = steady(16, [30_000, 30_000, 30_000], [30_000, 2_000, 30_000]);
    slowScripts.slice(0, 12).forEach((script) => s.check(script));
    slowScripts.slice(12).forEach((script) => s.check({ ...script, memberPrefix: 'restarted' }));
    const told = s.timeline.filter((e) => e.kind === 'evidence' && e.finding.kind === 'slow-consumer');
    expect(told.map((e) => (e.kind === 'evidence' && e.finding.kind === 'slow-consumer' ? e.finding.owner?.clientId : null))).toEqual(['consumer-2', 'restarted-2']);
  });
});

describe('the diagnosis: the headline finding of a check', () => {
  it('prefers the why (slow consumer) over where the lag sits (hot partition)', () => {
    const found = findingsOver(steady(10, [14_200, 14_200, 14_200], [14_200, 800, 14_200]).map((s, i) => (i === 9 ? { partitions: s.partitions.map((p, k) => (k === 1 ? { ...p, logEnd: (p.logEnd ?? 0) + 5_000_000 } : p)) } : s)));
    expect(found.map((f) => f.kind)).toEqual(expect.arrayContaining(['hot-partition', 'slow-consumer']));
    expect(diagnosisOf(found)?.kind).toBe('slow-consumer');
  });

  it('is null when nothing explains lag', () => {
    expect(diagnosisOf(findingsOver(steady(10, [100, 100, 100], [100, 100, 100])))).toBeNull();
  });

  it('is named on the incident and the root is edited when it changes', () => {
    const s = new Scenario();
    const lagging = steady(14, [30_000, 30_000, 30_000], [30_000, 30_000, 30_000]).map((script, i) => ({
      partitions: script.partitions.map((p, k) => (k === 1 ? { ...p, committed: p.committed - 26_000 * SEC * i } : p)),
    }));
    // Partition 1 consumed at 4,000/s while the others take 30,000/s: a slow consumer.
    for (const script of lagging) s.check(script);
    expect(s.incident?.figures.diagnosis?.kind).toBe('slow-consumer');
    const figures = s.incident?.figures;
    if (!figures) throw new Error('no incident');
    // Nothing else moved: the new diagnosis alone edits the root at once.
    expect(figuresMoved(figures, { ...figures })).toBe(false);
    expect(figuresMoved(figures, { ...figures, diagnosis: { kind: 'stopped', totalLag: figures.totalLag, partitions: 3 } })).toBe(true);
    expect(figuresMoved({ ...figures, diagnosis: undefined }, { ...figures, diagnosis: null })).toBe(false);
    const last = lagging[lagging.length - 1] as GroupScript;
    s.check({ ...last, members: 0 });
    expect(s.incident?.figures.diagnosis?.kind).toBe('stopped');
  });

  it('has an identity per partition and owner, per rewind, once for a spike', () => {
    const owner = { memberId: 'm', clientId: 'consumer-2', host: '10.0.1.15' };
    const slow: Finding = { kind: 'slow-consumer', topic: 't', partition: 1, consumePerSec: 1, producePerSec: 2, siblingsConsumePerSec: 9, siblings: 2, lag: 5, owner };
    expect(findingIdentity(slow)).toBe('slow-consumer:t-1:consumer-2@10.0.1.15');
    expect(findingIdentity({ kind: 'rewind', topic: 't', partition: 1, from: 9, to: 1, at: 42, owner: null })).toBe('rewind:t-1@42');
  });
});
