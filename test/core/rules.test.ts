import { describe, expect, it } from 'vitest';
import { appendSample, sampleOf, type GroupSample } from '../../src/core/history.js';
import { DEFAULT_RULES, evaluate, type Evaluation, type RuleSettings } from '../../src/core/rules.js';
import { CHECK_MS, T0, lagOf, ramp, scriptedLag, type GroupScript } from '../support/scripted.js';

/** Evaluate the last of a series of scripted checks, 30 s apart. */
function evaluateSeries(scripts: GroupScript[], rules: RuleSettings = DEFAULT_RULES): Evaluation {
  let history: GroupSample[] = [];
  let evaluation: Evaluation | undefined;
  scripts.forEach((script, i) => {
    const lag = scriptedLag(T0 + i * CHECK_MS, script);
    history = appendSample(history, sampleOf(lag, history[history.length - 1]), 60 * 60_000);
    evaluation = evaluate(lag, history, rules);
  });
  return evaluation as Evaluation;
}

const series = (lags: number[]) => evaluateSeries(lags.map((l) => lagOf(l)));

describe('threshold rules (the case study defaults)', () => {
  it('warns when lag is over 50,000 and has grown for 5 minutes', () => {
    const e = series(ramp(51_000, 90_000, 11)); // 11 checks = 5 minutes
    expect(e.severity).toBe('warning');
    expect(e.reasons).toEqual([{ rule: 'growing', lag: 90_000, line: 50_000, forMs: 5 * 60_000 }]);
  });

  it('does not warn on high but flat lag, nor on growth shorter than 5 minutes', () => {
    expect(series(Array(12).fill(80_000)).severity).toBeNull();
    expect(series(ramp(51_000, 90_000, 8)).severity).toBeNull();
  });

  it('tolerates one dip in an otherwise growing trend', () => {
    const lags = ramp(51_000, 90_000, 11);
    lags[5] = (lags[4] as number) - 1_000;
    expect(series(lags).severity).toBe('warning');
  });

  it('is critical over 500,000, or when lag doubled within 10 minutes', () => {
    expect(series([510_000]).severity).toBe('critical');
    const doubled = series([60_000, 70_000, 90_000, 130_000]);
    expect(doubled.severity).toBe('critical');
    expect(doubled.reasons).toEqual([{ rule: 'doubled', from: 60_000, to: 130_000, withinMs: 10 * 60_000 }]);
  });

  it('does not call small numbers doubling critical, nor a climb from under the warning line', () => {
    expect(series([100, 5_000, 40_000]).severity).toBeNull();
    expect(series([30_000, 45_000, 79_000]).severity).toBeNull();
    expect(series([51_000, 80_000, 103_000]).severity).toBe('critical');
  });

  it('pages over 2,000,000', () => {
    expect(series([2_100_000]).severity).toBe('page');
  });

  it('uses per-group numbers when configured', () => {
    const rules: RuleSettings = { ...DEFAULT_RULES, thresholds: { ...DEFAULT_RULES.thresholds, page: { lag: 1_000, seconds: null } } };
    expect(evaluateSeries([lagOf(1_500)], rules).severity).toBe('page');
  });
});

describe('figures', () => {
  it('estimates time to drain while lag shrinks', () => {
    const e = series([120_000, 90_000, 60_000]); // -30,000 per 30 s = -1,000/s
    expect(e.figures.lagGrowthPerSec).toBe(-1_000);
    expect(e.figures.drainMs).toBe(60_000);
    expect(e.figures.nextThreshold).toBeNull();
  });

  it('estimates time to the next threshold while lag grows', () => {
    const e = series([400_000, 430_000]); // +1,000/s
    expect(e.figures.nextThreshold).toEqual({ severity: 'critical', lag: 500_000, inMs: 70_000, rule: 'line' });
    expect(e.figures.drainMs).toBeNull();
  });

  it('derives produce and consume rates from offsets', () => {
    const e = evaluateSeries([
      { partitions: [{ committed: 1_000, logEnd: 5_000 }], members: 1 },
      { partitions: [{ committed: 4_000, logEnd: 20_000 }], members: 1 },
    ]);
    expect(e.figures.producePerSec).toBe(500);
    expect(e.figures.consumePerSec).toBe(100);
  });
});

describe('signals', () => {
  const caseStudy = (i: number): GroupScript => ({
    partitions: [
      { committed: 8_412_901 + i * 14_000, logEnd: 8_901_234 + i * 14_000 },
      { committed: 8_100_442, logEnd: 12_543_210 + i * 12_000 },
      { committed: 9_023_011 + i * 14_000, logEnd: 9_187_443 + i * 14_000 },
    ],
  });

  it('names the hot partition and its owner', () => {
    const e = evaluateSeries([caseStudy(0)]);
    expect(e.findings.find((x) => x.kind === 'hot-partition')).toMatchObject({
      topic: 'user-events',
      partition: 1,
      lag: 4_442_768,
      owner: { clientId: 'consumer-2', host: '10.0.1.15' },
    });
  });

  it('sees a stalled consumer once its offset has not moved for 5 minutes while messages arrive', () => {
    const before = evaluateSeries(Array.from({ length: 10 }, (_, i) => caseStudy(i)));
    expect(before.findings.some((x) => x.kind === 'stalled')).toBe(false);
    const after = evaluateSeries(Array.from({ length: 11 }, (_, i) => caseStudy(i)));
    expect(after.findings.find((x) => x.kind === 'stalled')).toMatchObject({
      topic: 'user-events',
      partition: 1,
      sinceMs: 5 * 60_000,
      arrived: 120_000,
      owner: { clientId: 'consumer-2', host: '10.0.1.15' },
    });
  });

  it('does not call a caught-up idle partition stalled', () => {
    const idle = Array.from({ length: 12 }, () => ({ partitions: [{ committed: 100, logEnd: 100 }], members: 1 }));
    expect(evaluateSeries(idle).findings.some((x) => x.kind === 'stalled')).toBe(false);
  });

  it('sees a stopped group', () => {
    const e = evaluateSeries([{ partitions: [{ committed: 1, logEnd: 10 }], members: 0 }]);
    expect(e.findings.map((x) => x.kind)).toContain('stopped');
  });

  it('sees a rebalance storm: three rebalances within 10 minutes', () => {
    const states = ['Stable', 'PreparingRebalance', 'Stable', 'CompletingRebalance', 'Stable', 'PreparingRebalance', 'Stable'] as const;
    const e = evaluateSeries(states.map((state) => ({ ...lagOf(1_000), state })));
    expect(e.findings.find((x) => x.kind === 'rebalance-storm')).toEqual({ kind: 'rebalance-storm', rebalances: 3, windowMs: 10 * 60_000 });
  });

  it('counts member changes as rebalances too', () => {
    const scripts = [0, 1, 2, 3].map((i) => ({ ...lagOf(1_000), memberPrefix: `gen${i}` }));
    expect(evaluateSeries(scripts).findings.map((x) => x.kind)).toContain('rebalance-storm');
  });

  it('gives scaling advice: idle consumers, or fewer consumers than partitions', () => {
    const three = [{ committed: 0, logEnd: 10 }, { committed: 0, logEnd: 10 }, { committed: 0, logEnd: 10 }];
    expect(evaluateSeries([{ partitions: three, members: 5 }]).findings.find((x) => x.kind === 'idle-members')).toEqual({
      kind: 'idle-members',
      idle: 2,
      members: 5,
      partitions: 3,
    });
    expect(evaluateSeries([{ partitions: three.map((p) => ({ ...p, owner: 0 })), members: 1 }]).findings.find((x) => x.kind === 'under-scaled')).toEqual({
      kind: 'under-scaled',
      members: 1,
      partitions: 3,
    });
  });

  it('raises severity from evidence where configured', () => {
    const rules: RuleSettings = { ...DEFAULT_RULES, signals: { ...DEFAULT_RULES.signals, raise: { stopped: 'critical' } } };
    const e = evaluateSeries([{ partitions: [{ committed: 1, logEnd: 10 }], members: 0 }], rules);
    expect(e.severity).toBe('critical');
    expect(e.reasons).toContainEqual({ rule: 'raised', finding: 'stopped', severity: 'critical' });
    expect(evaluateSeries([{ partitions: [{ committed: 1, logEnd: 10 }], members: 0 }]).severity).toBeNull();
  });
});

describe('outlook while growing', () => {
  it('accounts for the doubling rule when it fires before the critical line', () => {
    // Over the warning line since 60,000, growing 500/s: it doubles at 120,000 in 60 s, long before 500,000.
    const e = series([60_000, 70_000, 90_000]);
    expect(e.figures.nextThreshold).toEqual({ severity: 'critical', lag: 120_000, inMs: 60_000, rule: 'doubling' });
    // Replaying the next checks at the same rate: critical comes when the outlook said.
    const later = series([60_000, 70_000, 90_000, 105_000, 120_000]);
    expect(later.severity).toBe('critical');
    expect(later.reasons[0]).toMatchObject({ rule: 'doubled', from: 60_000, to: 120_000 });
  });

  it('points at the next line that would change the severity', () => {
    // Critical by doubling at 130,000: the critical line (500,000) is behind it in effect.
    const e = series([60_000, 70_000, 90_000, 130_000]);
    expect(e.severity).toBe('critical');
    expect(e.figures.nextThreshold?.severity).toBe('page');
  });
});

describe('staleness lines (thresholds in seconds)', () => {
  const withSeconds = (seconds: { warning?: number; critical?: number; page?: number }): RuleSettings => ({
    ...DEFAULT_RULES,
    thresholds: {
      warning: { ...DEFAULT_RULES.thresholds.warning, seconds: seconds.warning ?? null },
      critical: { ...DEFAULT_RULES.thresholds.critical, seconds: seconds.critical ?? null },
      page: { ...DEFAULT_RULES.thresholds.page, seconds: seconds.page ?? null },
    },
  });
  const staleBy = (lag: number, lagSeconds: number | null) => {
    const read = scriptedLag(T0, lagOf(lag));
    read.lagSeconds = lagSeconds;
    read.lagSecondsMethod = lagSeconds === null ? null : 'estimated';
    return read;
  };
  const once = (read: ReturnType<typeof staleBy>, rules: RuleSettings) => evaluate(read, [sampleOf(read)], rules);

  it('warns over a warning line in seconds alone, with lag far under the offset line', () => {
    const e = once(staleBy(1_000, 61), withSeconds({ warning: 60 }));
    expect(e.severity).toBe('warning');
    expect(e.reasons).toEqual([{ rule: 'stale', severity: 'warning', seconds: 61, line: 60 }]);
    expect(e.belowWarning).toBe(false);
    expect(e.figures.lagSeconds).toBe(61);
  });

  it('takes the highest level whose line is crossed, and the offset lines still apply beside it', () => {
    expect(once(staleBy(1_000, 700), withSeconds({ warning: 60, critical: 300, page: 900 })).severity).toBe('critical');
    expect(once(staleBy(1_000, 901), withSeconds({ warning: 60, critical: 300, page: 900 })).severity).toBe('page');
    // Offsets over the page line page, even when fresh by seconds.
    expect(once(staleBy(2_100_000, 5), withSeconds({ warning: 60 })).severity).toBe('page');
  });

  it('unknown or fresh staleness fires nothing, and the default thresholds have no seconds lines', () => {
    expect(once(staleBy(1_000, null), withSeconds({ warning: 60 })).severity).toBeNull();
    expect(once(staleBy(1_000, 59), withSeconds({ warning: 60 })).belowWarning).toBe(true);
    expect(once(staleBy(1_000, 10_000), DEFAULT_RULES).severity).toBeNull();
  });

  it('lag on idle partitions alone never crosses an offset line', () => {
    const read = scriptedLag(T0, lagOf(600_000));
    const idle = new Set(read.partitions);
    const e = evaluate(read, [sampleOf(read)], DEFAULT_RULES, idle);
    expect(e.severity).toBeNull();
    expect(e.belowWarning).toBe(true);
    // The figures still show the offsets as they are.
    expect(e.figures.totalLag).toBe(600_000);
  });
});
