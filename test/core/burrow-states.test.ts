import { describe, expect, it } from 'vitest';
import type { FindingKind } from '../../src/core/findings.js';
import { appendSample, sampleOf, type GroupSample } from '../../src/core/history.js';
import { DEFAULT_RULES, evaluate, type Evaluation, type RuleSettings } from '../../src/core/rules.js';
import { CHECK_MS, T0, scriptedLag, type GroupScript } from '../support/scripted.js';

/**
 * Burrow's evaluation states (DESIGN.md: over a window of commits, OK, WARN, STOP, STALL,
 * REWIND per partition, ERR for a group with a STOP, STALL or REWIND) as a check on lagbot's
 * findings: for each, a history that Burrow would give that state, and what lagbot says.
 */

const SEC = CHECK_MS / 1000;
/** What Burrow calls its problems, in lagbot's catalogue. */
const PROBLEMS: readonly FindingKind[] = ['stopped', 'stalled', 'rewind', 'slow-consumer', 'traffic-spike'];

function evaluateSeries(scripts: readonly GroupScript[], rules: RuleSettings = DEFAULT_RULES): Evaluation {
  let history: GroupSample[] = [];
  let evaluation: Evaluation | null = null;
  scripts.forEach((script, i) => {
    const lag = scriptedLag(T0 + i * CHECK_MS, script);
    history = appendSample(history, sampleOf(lag, history[history.length - 1]), 60 * 60_000);
    evaluation = evaluate(lag, history, rules);
  });
  if (!evaluation) throw new Error('no checks');
  return evaluation;
}

const problems = (e: Evaluation): FindingKind[] => e.findings.map((f) => f.kind).filter((k) => PROBLEMS.includes(k));

/** Twelve checks (6 minutes, more than Burrow's window of 10 commits) of three partitions, each produced at 1,000/s. */
function checks(partition: (p: number, i: number) => { committed: number; logEnd: number }, members = 3): GroupScript[] {
  return Array.from({ length: 12 }, (_, i) => ({ partitions: [0, 1, 2].map((p) => partition(p, i)), members }));
}
const produced = (i: number) => 1_000_000 + 1_000 * SEC * i;

describe("Burrow's evaluation states, as lagbot tells them", () => {
  it('OK: lag within bounds across the window: no finding, no severity', () => {
    const e = evaluateSeries(checks((_, i) => ({ committed: produced(i) - 200, logEnd: produced(i) })));
    expect(problems(e)).toEqual([]);
    expect(e.severity).toBeNull();
  });

  it('WARN: lag never decreases across the window: the warning rule, lag over the line and growing', () => {
    // Consumed at 950/s of 1,000/s: the offsets move (no stall), lag grows 4,500 a check past the line, never doubling.
    const e = evaluateSeries(checks((_, i) => ({ committed: 1_000_000 - 20_000 + 950 * SEC * i, logEnd: produced(i) })));
    expect(e.severity).toBe('warning');
    expect(e.reasons.map((r) => r.rule)).toEqual(['growing']);
    expect(problems(e)).toEqual([]);
  });

  it('STOP: nothing commits any more because the consumers are gone: stopped', () => {
    const e = evaluateSeries(checks((_, i) => ({ committed: 1_000_000, logEnd: produced(i) }), 0));
    expect(problems(e)).toContain('stopped');
  });

  it('STOP on an idle topic (no commits, nothing to commit): no lag, nothing to say', () => {
    const e = evaluateSeries(checks(() => ({ committed: 1_000_000, logEnd: 1_000_000 })));
    expect(problems(e)).toEqual([]);
    expect(e.severity).toBeNull();
  });

  it('STALL: the same offset across the window while lag is non-zero and the consumer is there: stalled', () => {
    const e = evaluateSeries(checks((p, i) => ({ committed: p === 1 ? 1_000_000 : produced(i), logEnd: produced(i) })));
    expect(problems(e)).toEqual(['stalled']);
    expect(e.findings.find((f) => f.kind === 'stalled')).toMatchObject({ partition: 1, owner: { clientId: 'consumer-2' } });
  });

  it('REWIND: a committed offset went backwards: rewind, with from and to', () => {
    const e = evaluateSeries(checks((p, i) => ({ committed: p === 0 && i >= 10 ? 500_000 + 1_000 * SEC * (i - 10) : produced(i), logEnd: produced(i) })));
    expect(problems(e)).toEqual(['rewind']);
    expect(e.findings.find((f) => f.kind === 'rewind')).toMatchObject({ partition: 0, from: produced(9), to: 500_000, at: T0 + 10 * CHECK_MS });
  });

  it('ERR: a group with a partition STOP, STALL or REWIND has that finding, which signals.raise turns into a severity', () => {
    const stall = checks((p, i) => ({ committed: p === 1 ? 1_000_000 : produced(i), logEnd: produced(i) }));
    const rules: RuleSettings = { ...DEFAULT_RULES, signals: { ...DEFAULT_RULES.signals, raise: { stalled: 'page', rewind: 'page', stopped: 'page' } } };
    const e = evaluateSeries(stall, rules);
    expect(e.severity).toBe('page');
    expect(e.reasons).toContainEqual({ rule: 'raised', finding: 'stalled', severity: 'page' });
    const rewound = checks((p, i) => ({ committed: p === 0 && i >= 10 ? 500_000 : produced(i), logEnd: produced(i) }));
    expect(evaluateSeries(rewound, rules).reasons).toContainEqual({ rule: 'raised', finding: 'rewind', severity: 'page' });
  });

  it('beyond Burrow: a partition that moves, far slower than its siblings, is a slow consumer, not a STALL', () => {
    const e = evaluateSeries(checks((p, i) => ({ committed: 1_000_000 + (p === 1 ? 100 : 1_000) * SEC * i, logEnd: produced(i) })));
    expect(problems(e)).toEqual(['slow-consumer']);
  });
});
