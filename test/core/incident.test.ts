import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INCIDENT_SETTINGS,
  PHASES,
  deescalate,
  recordSeries,
  escalate,
  expireSnooze,
  followPolicy,
  muteWhileSilenced,
  trackSilence,
  refreshRoot,
  step,
  targetSeverity,
  tellEvidence,
  tellGroupChanges,
  trackPeak,
  trackRecovery,
  type Draft,
  type IncidentSettings,
  type PhaseContext,
  type TimelineEntry,
  type TimelineKind,
} from '../../src/core/incident.js';
import type { Incident, IncidentFigures, Severity } from '../../src/core/protocol.js';
import { DEFAULT_RULES, type Evaluation } from '../../src/core/rules.js';
import { incidentFixture } from '../support/incident-fixture.js';
import { CHECK_MS, Scenario, T0, ramp, type GroupScript, hotPartitionChangingOwner } from '../support/scripted.js';

/**
 * The incident state machine, asserted as structure: timeline entry kinds and their
 * figures. The sentences are the views' business (incident-message.test.ts).
 */

const MIN = 60_000;
const checksFor = (ms: number) => Math.round(ms / CHECK_MS);
const CHECK = CHECK_MS;

/** The entries of one kind, typed as that kind. */
function ofKind<K extends TimelineKind>(timeline: readonly TimelineEntry[], kind: K): Extract<TimelineEntry, { kind: K }>[] {
  return timeline.filter((e): e is Extract<TimelineEntry, { kind: K }> => e.kind === kind);
}

/** `oncall: [S0ONCALL]` with `renotifyMinutes: 15`, as the configuration turns it into a one-level policy. */
const ONCALL: IncidentSettings = { ...DEFAULT_INCIDENT_SETTINGS, escalation: { startsAt: 'page', repeat: null, levels: [{ notify: ['S0ONCALL'], waitMs: 15 * MIN }] } };

/** Lag climbing past the warning line and growing for 5 minutes: the incident opens. */
function openedAtWarning(settings: IncidentSettings = DEFAULT_INCIDENT_SETTINGS): Scenario {
  const s = new Scenario(DEFAULT_RULES, settings);
  s.checks(ramp(51_000, 90_000, 11));
  expect(s.incident?.severity).toBe('warning');
  return s;
}

describe('incident lifecycle', () => {
  it('opens once at warning, with the reasons in the timeline', () => {
    const s = openedAtWarning();
    expect(s.steps.filter((x) => x.opened)).toHaveLength(1);
    expect(s.timeline[0]).toMatchObject({
      kind: 'opened',
      mention: false,
      at: T0 + 10 * CHECK_MS,
      severity: 'warning',
      reasons: [{ rule: 'growing', lag: 90_000, line: 50_000, forMs: 5 * MIN }],
    });
    expect(s.incident).toMatchObject({ id: 'inc-1', cluster: 'default', group: 'user-events-consumer', channel: 'C0ALERTS', status: 'open', peakLag: 90_000 });
  });

  it('escalates to critical without paging, then to page, notifying the on-call people', () => {
    const s = openedAtWarning(ONCALL);
    s.checks([600_000]);
    expect(s.incident?.severity).toBe('critical');
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'escalated', severity: 'critical', mention: false });
    s.checks([2_500_000]);
    expect(s.incident?.severity).toBe('page');
    expect(s.timeline.slice(-2)).toMatchObject([
      { kind: 'escalated', severity: 'page', mention: false, lag: 2_500_000, reasons: [{ rule: 'page-line', lag: 2_500_000, line: 2_000_000 }], wasAcknowledgedAt: null, snoozeEnded: false },
      { kind: 'notified', mention: true, notify: ['S0ONCALL'], reason: { kind: 'started', severity: 'page' }, position: { level: 1, levels: 1, round: 1, rounds: null }, lag: 2_500_000 },
    ]);
    expect(s.incident?.peakSeverity).toBe('page');
  });

  it('re-notifies an unacknowledged page at the configured interval, and an ack stops it', () => {
    const s = new Scenario(DEFAULT_RULES, ONCALL);
    s.checks([2_500_000]);
    expect(s.timeline.slice(0, 2)).toMatchObject([
      { kind: 'opened', severity: 'page', mention: false },
      { kind: 'notified', mention: true, notify: ['S0ONCALL'], reason: { kind: 'started', severity: 'page' } },
    ]);
    s.checks(Array(checksFor(15 * MIN)).fill(2_600_000));
    const notified = ofKind(s.timeline, 'notified');
    expect(notified).toHaveLength(2);
    expect(notified[1]).toMatchObject({ mention: true, at: T0 + 15 * MIN, reason: { kind: 'no-acknowledgement', afterMs: 15 * MIN }, position: { level: 1, round: 2, rounds: null }, lag: 2_600_000 });
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    s.checks(Array(checksFor(40 * MIN)).fill(2_600_000));
    expect(ofKind(s.timeline, 'notified')).toHaveLength(2);
  });

  it('notifies when an acknowledged incident escalates to a page, and needs a new ack', () => {
    const s = openedAtWarning(ONCALL);
    s.checks([600_000]);
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(s.incident?.acknowledged).toMatchObject({ by: 'U0SRE', severity: 'critical' });
    s.checks([2_500_000]);
    expect(s.timeline.slice(-2)).toMatchObject([
      { kind: 'escalated', severity: 'page', wasAcknowledgedAt: 'critical' },
      { kind: 'notified', notify: ['S0ONCALL'], reason: { kind: 'started', severity: 'page' } },
    ]);
    expect(s.incident?.acknowledged).toBeNull();
  });

  it('de-escalates only after the lower severity has held for the configured time', () => {
    const s = new Scenario();
    s.checks([600_000, 400_000, 400_000, 400_000, 400_000]);
    expect(s.incident?.severity).toBe('critical');
    expect(s.kinds()).not.toContain('deescalated');
    s.checks([400_000]);
    expect(s.incident?.severity).toBe('warning');
    expect(s.timeline.at(-1)).toEqual({
      kind: 'deescalated',
      at: T0 + 5 * CHECK_MS,
      mention: false,
      severity: 'warning',
      from: 'critical',
      lag: 400_000,
      belowForMs: 2 * MIN,
    });
  });

  it('does not de-escalate when lag crosses back before the hold ends', () => {
    const s = openedAtWarning();
    s.checks([600_000, 400_000, 400_000, 600_000, 400_000, 400_000, 400_000]);
    expect(s.incident?.severity).toBe('critical');
    expect(s.kinds()).not.toContain('deescalated');
  });

  it('resolves with hysteresis: recovering first, resolved after 5 minutes under the line', () => {
    const s = openedAtWarning();
    s.checks([30_000]);
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'recovering', lag: 30_000, line: 50_000, resolveAfterMs: 5 * MIN });
    s.checks(Array(checksFor(5 * MIN) - 1).fill(20_000));
    expect(s.incident?.status).toBe('open');
    s.checks([10_000]);
    expect(s.incident?.status).toBe('resolved');
    expect(s.timeline.at(-1)).toMatchObject({
      kind: 'resolved',
      mention: false,
      by: null,
      cause: { auto: true, line: 50_000, underForMs: 5 * MIN, lag: 10_000 },
    });
  });

  it('does not flap when lag hovers at the warning line', () => {
    const s = openedAtWarning();
    const hovering = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 49_000 : 51_000));
    s.checks(hovering);
    expect(s.incident?.status).toBe('open');
    expect(s.steps.filter((x) => x.opened)).toHaveLength(1);
    expect(s.kinds().filter((k) => k === 'resolved')).toHaveLength(0);
  });

  it("writes a summary like the case study's impact section on resolve", () => {
    const s = openedAtWarning();
    s.checks([600_000, 4_200_000]);
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    s.checks([300_000, 30_000]);
    s.checks(Array(checksFor(5 * MIN)).fill(0));
    const [resolved] = ofKind(s.timeline, 'resolved');
    expect(resolved?.summary).toMatchObject({
      group: 'user-events-consumer',
      peakLag: 4_200_000,
      peakLagAt: T0 + 12 * CHECK_MS,
      peakSeverity: 'page',
      openedAt: T0 + 10 * CHECK_MS,
      acknowledged: { by: 'U0SRE', afterMs: 3 * CHECK_MS },
      resolvedBy: null,
    });
    expect(resolved?.summary.resolvedAt).toBe(s.incident?.resolved?.at);
  });

  it('tells the hot partition (per owner), rebalances and member changes in the thread', () => {
    const s = hotPartitionChangingOwner();
    const evidence = ofKind(s.timeline, 'evidence');
    expect(evidence.length).toBeGreaterThanOrEqual(1);
    // Told once per owner: after the rebalance the hot partition has a new owner, which is news.
    const hotPartitions = evidence.flatMap((e) => (e.finding.kind === 'hot-partition' ? [e.finding] : []));
    expect(hotPartitions.map((f) => [`${f.topic}-${f.partition}`, f.owner])).toEqual([
      ['user-events-1', { memberId: 'a-2', clientId: 'a-2', host: '10.0.1.15' }],
      ['user-events-1', { memberId: 'b-2', clientId: 'b-2', host: '10.0.1.15' }],
    ]);
    expect(ofKind(s.timeline, 'rebalance')).toEqual([{ kind: 'rebalance', at: T0 + 2 * CHECK_MS, mention: false, from: 'Stable', to: 'PreparingRebalance' }]);
    expect(ofKind(s.timeline, 'members-changed')).toEqual([
      { kind: 'members-changed', at: T0 + 3 * CHECK_MS, mention: false, before: 2, after: 2, joined: ['b-1', 'b-2'], left: ['a-1', 'a-2'] },
    ]);
  });

  it('neither opens nor resolves on missing data', () => {
    const s = new Scenario();
    const unknown = { partitions: [], members: 1 };
    s.check(unknown);
    expect(s.incident).toBeNull();
    const open = openedAtWarning();
    open.checks(Array(20).fill(0), () => ({ partitions: [], members: 1 }));
    expect(open.incident?.status).toBe('open');
  });
});

describe('a read missing partitions (a broker down)', () => {
  const two = (p0: number, p1: number | null): GroupScript => ({
    partitions: [
      { committed: 1_000_000, logEnd: 1_000_000 + p0 },
      { committed: 1_000_000, logEnd: p1 === null ? null : 1_000_000 + p1 },
    ],
  });

  it('never resolves an incident on what it can still see, and does not count that time as observed', () => {
    const s = new Scenario();
    s.check(two(300_000, 300_000));
    expect(s.incident?.severity).toBe('critical');
    // The partition holding the lag is unreadable for 20 checks (10 min, twice the resolve window): what is left is under the line.
    for (let i = 0; i < 20; i += 1) s.check(two(10_000, null));
    expect(s.incident).toMatchObject({ status: 'open', severity: 'critical', belowWarningSince: null });
    expect(s.kinds()).toEqual(['opened', 'evidence']);
    // Back, and really drained: now the resolve window starts, from the first whole read.
    s.check(two(10_000, 10_000));
    expect(s.kinds()).toEqual(['opened', 'evidence', 'recovering']);
  });

  it('does not see a doubling when the missing partitions come back', () => {
    const s = new Scenario();
    for (let i = 0; i < 4; i += 1) s.check(two(200_000, 200_000));
    expect(s.incident).toBeNull();
    for (let i = 0; i < 3; i += 1) s.check(two(200_000, null));
    s.check(two(200_000, 200_000));
    // 200,000 known while a partition was missing, then 400,000 whole: not a doubling.
    expect(s.incident).toBeNull();
    expect(s.steps.every((step) => step.incident === null)).toBe(true);
  });
});

describe('buttons', () => {
  it('acknowledge records who and when; a repeated click changes nothing and says so', () => {
    const s = openedAtWarning();
    const first = s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(first.rootChanged).toBe(true);
    expect(first.notice).toBeNull();
    expect(first.timeline).toEqual([{ kind: 'acknowledged', at: T0 + 11 * CHECK_MS, mention: false, user: 'U0SRE', severity: 'warning', afterMs: CHECK_MS }]);
    const again = s.click({ kind: 'acknowledge', user: 'U0OTHER' });
    expect(again.timeline).toEqual([]);
    expect(again.rootChanged).toBe(false);
    expect(again.notice).toEqual({ kind: 'already-acknowledged', by: 'U0SRE' });
    expect(s.incident?.acknowledged?.by).toBe('U0SRE');
  });

  it('snooze silences re-notification until it ends', () => {
    const s = new Scenario(DEFAULT_RULES, ONCALL);
    s.checks([2_500_000]);
    const snoozed = s.click({ kind: 'snooze', user: 'U0SRE', forMs: 30 * MIN });
    expect(snoozed.timeline).toEqual([{ kind: 'snoozed', at: T0 + CHECK_MS, mention: false, user: 'U0SRE', forMs: 30 * MIN }]);
    const reminders = () => ofKind(s.timeline, 'notified').filter((e) => e.reason.kind === 'no-acknowledgement');
    s.checks(Array(checksFor(29 * MIN)).fill(2_500_000));
    expect(reminders()).toHaveLength(0);
    s.checks(Array(checksFor(2 * MIN)).fill(2_500_000));
    expect(ofKind(s.timeline, 'snooze-ended')).toMatchObject([{ user: 'U0SRE', at: T0 + CHECK_MS + 30 * MIN }]);
    expect(reminders()).toHaveLength(1);
  });

  it('an escalation above the snoozed severity ends the snooze', () => {
    const s = openedAtWarning();
    s.click({ kind: 'snooze', user: 'U0SRE', forMs: 120 * MIN });
    s.checks([2_500_000]);
    expect(s.incident?.snoozed).toBeNull();
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'escalated', severity: 'page', snoozeEnded: true });
  });

  it('a shorter snooze inside a longer one changes nothing', () => {
    const s = openedAtWarning();
    s.click({ kind: 'snooze', user: 'U0SRE', forMs: 120 * MIN });
    const shorter = s.click({ kind: 'snooze', user: 'U0B', forMs: 30 * MIN });
    expect(shorter.notice).toEqual({ kind: 'already-snoozed', by: 'U0SRE' });
    expect(shorter.timeline).toEqual([]);
    expect(s.incident?.snoozed?.by).toBe('U0SRE');
  });

  it('resolve by hand closes with a summary; later clicks say it is already resolved', () => {
    const s = openedAtWarning();
    const resolved = s.click({ kind: 'resolve', user: 'U0SRE' });
    expect(resolved.incident?.status).toBe('resolved');
    expect(resolved.timeline[0]).toMatchObject({
      kind: 'resolved',
      by: 'U0SRE',
      mention: false,
      cause: { auto: false, lag: 90_000 },
      summary: { resolvedBy: 'U0SRE', acknowledged: null },
    });
    for (const input of [{ kind: 'acknowledge', user: 'U1' }, { kind: 'snooze', user: 'U1', forMs: MIN }, { kind: 'resolve', user: 'U1' }] as const) {
      const late = s.click(input);
      expect(late.timeline).toEqual([]);
      expect(late.notice).toEqual({ kind: 'already-resolved', by: 'U0SRE' });
    }
  });

  it('a click on an automatically resolved incident, or on none, says so', () => {
    const s = openedAtWarning();
    s.checks(Array(checksFor(5 * MIN) + 1).fill(0));
    expect(s.incident?.status).toBe('resolved');
    expect(s.click({ kind: 'acknowledge', user: 'U1' }).notice).toEqual({ kind: 'already-resolved', by: null });
    expect(step(null, { kind: 'resolve', user: 'U1' }, DEFAULT_INCIDENT_SETTINGS, T0)).toMatchObject({ incident: null, timeline: [], notice: { kind: 'no-such-incident' } });
  });

  it('a refused click is told in the timeline and changes nothing else, open or resolved', () => {
    const s = openedAtWarning();
    const before = s.incident;
    const refused = s.click({ kind: 'refused', user: 'U0MARIA', action: 'resolve', rule: 'access.resolve', unreadable: false });
    expect(refused.incident).toEqual(before);
    expect(refused).toMatchObject({ rootChanged: false, opened: false, notice: null, chart: false });
    expect(refused.timeline).toEqual([{ at: expect.any(Number) as number, mention: false, kind: 'refused', user: 'U0MARIA', action: 'resolve', rule: 'access.resolve', unreadable: false }]);
    s.click({ kind: 'resolve', user: 'U0SRE' });
    expect(s.click({ kind: 'refused', user: 'U0MARIA', action: 'acknowledge', rule: 'access.acknowledge', unreadable: true }).timeline.map((e) => e.kind)).toEqual(['refused']);
    expect(step(null, { kind: 'refused', user: 'U1', action: 'snooze', rule: 'access.snooze', unreadable: false }, DEFAULT_INCIDENT_SETTINGS, T0)).toMatchObject({ timeline: [], notice: { kind: 'no-such-incident' } });
  });

  it('a new incident opens if lag is still high after a manual resolve', () => {
    const s = new Scenario();
    s.checks([700_000]);
    s.click({ kind: 'resolve', user: 'U0SRE' });
    s.checks([700_000]);
    expect(s.incident).toMatchObject({ id: 'inc-2', status: 'open', severity: 'critical' });
  });
});

describe('root message edits', () => {
  it('are not one per check: figures alone refresh the root at most every rootRefreshMs', () => {
    const s = openedAtWarning();
    const before = s.steps.length;
    s.checks(ramp(90_000, 95_000, 10)); // small moves, 5 minutes
    const edits = s.steps.slice(before).filter((x) => x.rootChanged).length;
    expect(edits).toBeLessThanOrEqual(Math.ceil((5 * MIN) / DEFAULT_INCIDENT_SETTINGS.rootRefreshMs));
    expect(edits).toBeGreaterThan(0);
  });
});

/**
 * The phases one at a time, on a hand-made incident and evaluation: each is a small
 * function of a draft, so each can be checked without playing a whole scenario.
 */
describe('phases', () => {
  const NOW = T0 + 60 * MIN;
  const settings = DEFAULT_INCIDENT_SETTINGS;

  function figures(totalLag: number, overrides: Partial<IncidentFigures> = {}): IncidentFigures {
    return { ...incidentFixture('x', 'g').figures, at: NOW, totalLag, ...overrides };
  }

  /** An evaluation with just what the phases read; severity null means no rule fired. */
  function evaluation(totalLag: number, severity: Severity | null, overrides: Partial<Evaluation> = {}): Evaluation {
    return {
      ref: { cluster: 'default', group: 'orders' },
      at: NOW,
      severity,
      reasons: [],
      findings: [],
      figures: figures(totalLag),
      belowWarning: totalLag <= settings.warningLag,
      state: 'Stable',
      memberIds: ['m-1'],
      ...overrides,
    };
  }

  function draftOf(overrides: Partial<Incident> = {}): Draft {
    return { incident: incidentFixture('inc-1', 'orders', { openedAt: T0, ...overrides }), timeline: [], rootChanged: false, resolved: null };
  }

  function ctxOf(e: Evaluation, overrides: Partial<PhaseContext> = {}): PhaseContext {
    // One check interval of observed time since the previous check, unless a test says otherwise.
    return { evaluation: e, settings, now: NOW, previous: figures(5_000), target: targetSeverity(e), elapsedMs: CHECK, ...overrides };
  }

  it('run in their documented order', () => {
    expect(PHASES).toEqual([recordSeries, trackPeak, expireSnooze, trackSilence, escalate, deescalate, tellEvidence, tellGroupChanges, trackRecovery, followPolicy, muteWhileSilenced, refreshRoot]);
  });

  it('trackPeak keeps the largest staleness seen; unmeasured checks leave it', () => {
    const draft = draftOf({ peakLagSeconds: null });
    const stale = (lagSeconds: number | null) => evaluation(90_000, 'warning', { figures: { ...figures(90_000), lagSeconds, lagSecondsMethod: lagSeconds === null ? null : 'estimated' } });
    trackPeak(draft, ctxOf(stale(45)));
    expect(draft.incident.peakLagSeconds).toBe(45);
    trackPeak(draft, ctxOf(stale(30), { now: NOW + CHECK }));
    trackPeak(draft, ctxOf(stale(null), { now: NOW + 2 * CHECK }));
    trackPeak(draft, ctxOf(evaluation(90_000, 'warning'), { now: NOW + 3 * CHECK }));
    expect(draft.incident.peakLagSeconds).toBe(45);
    trackPeak(draft, ctxOf(stale(60), { now: NOW + 4 * CHECK }));
    expect(draft.incident.peakLagSeconds).toBe(60);
  });

  it('targetSeverity keeps at least a warning while lag is over the line', () => {
    expect(targetSeverity(evaluation(90_000, null))).toBe('warning');
    expect(targetSeverity(evaluation(90_000, 'critical'))).toBe('critical');
    expect(targetSeverity(evaluation(10_000, null))).toBeNull();
  });

  describe('escalate', () => {
    it('raises the severity, clears the acknowledgement and starts the policy when it pages', () => {
      const draft = draftOf({ severity: 'critical', acknowledged: { by: 'U0SRE', at: T0, severity: 'critical' }, lowerSeverity: { severity: 'warning', since: T0, observedMs: 0 } });
      const reasons = [{ rule: 'page-line', lag: 2_500_000, line: 2_000_000 } as const];
      escalate(draft, ctxOf(evaluation(2_500_000, 'page', { reasons }), { settings: ONCALL }));
      expect(draft.incident).toMatchObject({ severity: 'page', peakSeverity: 'page', acknowledged: null, lowerSeverity: null, lastNotifiedAt: NOW, escalation: { level: 0, round: 1, notifiedAt: NOW, exhausted: false } });
      expect(draft.timeline).toEqual([
        { kind: 'escalated', at: NOW, mention: false, severity: 'page', reasons, lag: 2_500_000, wasAcknowledgedAt: 'critical', snoozeEnded: false },
        { kind: 'notified', at: NOW, mention: true, notify: ['S0ONCALL'], reason: { kind: 'started', severity: 'page' }, position: { level: 1, levels: 1, round: 1, rounds: null }, lag: 2_500_000 },
      ]);
      expect(draft.rootChanged).toBe(true);
    });

    it('escalating to critical, unacknowledged, mentions nobody and keeps a snooze taken at that level', () => {
      const snoozed = { by: 'U0SRE', at: T0, until: NOW + MIN, severity: 'critical' as const };
      const draft = draftOf({ severity: 'warning', snoozed });
      escalate(draft, ctxOf(evaluation(600_000, 'critical')));
      expect(draft.incident).toMatchObject({ severity: 'critical', snoozed, lastNotifiedAt: null });
      expect(draft.timeline).toMatchObject([{ kind: 'escalated', severity: 'critical', mention: false, wasAcknowledgedAt: null, snoozeEnded: false }]);
    });

    it('ends a snooze taken at a lower severity', () => {
      const draft = draftOf({ severity: 'warning', snoozed: { by: 'U0SRE', at: T0, until: NOW + MIN, severity: 'warning' } });
      escalate(draft, ctxOf(evaluation(600_000, 'critical')));
      expect(draft.incident.snoozed).toBeNull();
      expect(draft.timeline).toMatchObject([{ kind: 'escalated', snoozeEnded: true }]);
    });

    it('does nothing at the same or a lower severity', () => {
      for (const [lag, severity] of [[600_000, 'critical'], [90_000, 'warning'], [10_000, null]] as const) {
        const draft = draftOf({ severity: 'critical' });
        const before = draft.incident;
        escalate(draft, ctxOf(evaluation(lag, severity)));
        expect(draft).toEqual({ incident: before, timeline: [], rootChanged: false, resolved: null });
      }
    });
  });

  describe('deescalate', () => {
    it('starts the hold the first time a lower severity is seen, and tells nothing yet', () => {
      const draft = draftOf({ severity: 'critical' });
      deescalate(draft, ctxOf(evaluation(400_000, null)));
      expect(draft.incident.lowerSeverity).toEqual({ severity: 'warning', since: NOW, observedMs: 0 });
      expect(draft.timeline).toEqual([]);
      expect(draft.rootChanged).toBe(false);
    });

    it('steps down once the lower severity has held for deescalateAfterMs of observed time', () => {
      const draft = draftOf({ severity: 'page', lowerSeverity: { severity: 'critical', since: NOW - settings.deescalateAfterMs, observedMs: settings.deescalateAfterMs - CHECK } });
      deescalate(draft, ctxOf(evaluation(600_000, 'critical')));
      expect(draft.incident).toMatchObject({ severity: 'critical', lowerSeverity: null });
      expect(draft.timeline).toEqual([
        { kind: 'deescalated', at: NOW, mention: false, severity: 'critical', from: 'page', lag: 600_000, belowForMs: settings.deescalateAfterMs },
      ]);
      expect(draft.rootChanged).toBe(true);
    });

    it('waits while the hold has not run out', () => {
      const lowerSeverity = { severity: 'critical' as const, since: NOW - settings.deescalateAfterMs, observedMs: settings.deescalateAfterMs - CHECK - 1 };
      const draft = draftOf({ severity: 'page', lowerSeverity });
      deescalate(draft, ctxOf(evaluation(600_000, 'critical')));
      expect(draft.incident).toMatchObject({ severity: 'page', lowerSeverity: { ...lowerSeverity, observedMs: settings.deescalateAfterMs - 1 } });
      expect(draft.timeline).toEqual([]);
    });

    it('does not count time without data: after a gap the hold only grows by what was observed', () => {
      // The wall clock says the hold ran out long ago; only 30 s of it were seen.
      const lowerSeverity = { severity: 'critical' as const, since: NOW - 10 * MIN, observedMs: CHECK };
      const draft = draftOf({ severity: 'page', lowerSeverity });
      deescalate(draft, ctxOf(evaluation(600_000, 'critical'), { elapsedMs: 0 }));
      expect(draft.incident).toMatchObject({ severity: 'page', lowerSeverity: { observedMs: CHECK } });
      expect(draft.timeline).toEqual([]);
    });

    it('restarts the hold when the lower severity changes', () => {
      const draft = draftOf({ severity: 'page', lowerSeverity: { severity: 'critical', since: T0, observedMs: MIN } });
      deescalate(draft, ctxOf(evaluation(90_000, 'warning')));
      expect(draft.incident).toMatchObject({ severity: 'page', lowerSeverity: { severity: 'warning', since: NOW, observedMs: 0 } });
      expect(draft.timeline).toEqual([]);
    });

    it('drops the hold when lag is back at the current severity', () => {
      const draft = draftOf({ severity: 'critical', lowerSeverity: { severity: 'warning', since: T0, observedMs: MIN } });
      deescalate(draft, ctxOf(evaluation(600_000, 'critical')));
      expect(draft.incident).toMatchObject({ severity: 'critical', lowerSeverity: null });
      expect(draft.timeline).toEqual([]);
    });
  });

  describe('trackRecovery', () => {
    it('starts the resolve clock when lag goes under the warning line', () => {
      const draft = draftOf();
      trackRecovery(draft, ctxOf(evaluation(30_000, null)));
      expect(draft.incident.belowWarningSince).toBe(NOW);
      expect(draft.timeline).toEqual([{ kind: 'recovering', at: NOW, mention: false, lag: 30_000, line: 50_000, resolveAfterMs: settings.resolveAfterMs }]);
      expect(draft.rootChanged).toBe(true);
      expect(draft.resolved).toBeNull();
    });

    it('keeps waiting under the line until resolveAfterMs of observed time has passed', () => {
      const draft = draftOf({ belowWarningSince: NOW - settings.resolveAfterMs, belowWarningObservedMs: settings.resolveAfterMs - CHECK - 1 });
      trackRecovery(draft, ctxOf(evaluation(20_000, null)));
      expect(draft.timeline).toEqual([]);
      expect(draft.resolved).toBeNull();
      expect(draft.incident.belowWarningObservedMs).toBe(settings.resolveAfterMs - 1);
    });

    it('does not count time without data as time under the line', () => {
      // 42 s on the wall clock since the line was crossed, 33 s of them without data.
      const draft = draftOf({ belowWarningSince: NOW - 42_000, belowWarningObservedMs: 9_000 });
      trackRecovery(draft, ctxOf(evaluation(400, null), { elapsedMs: 0, settings: { ...settings, resolveAfterMs: 40_000 } }));
      expect(draft.resolved).toBeNull();
      expect(draft.incident.belowWarningObservedMs).toBe(9_000);
    });

    it('resolves once lag has stayed under the line for resolveAfterMs', () => {
      const draft = draftOf({ belowWarningSince: NOW - settings.resolveAfterMs, belowWarningObservedMs: settings.resolveAfterMs - CHECK });
      trackRecovery(draft, ctxOf(evaluation(10_000, null)));
      expect(draft.resolved?.incident).toMatchObject({ status: 'resolved', resolved: { by: null, at: NOW } });
      expect(draft.resolved?.timeline).toMatchObject([
        { kind: 'resolved', at: NOW, mention: false, by: null, cause: { auto: true, line: 50_000, underForMs: settings.resolveAfterMs, lag: 10_000 } },
      ]);
      expect(draft.resolved?.rootChanged).toBe(true);
    });

    it('stops the clock when lag is back over the line', () => {
      const draft = draftOf({ belowWarningSince: NOW - MIN });
      trackRecovery(draft, ctxOf(evaluation(60_000, null)));
      expect(draft.incident.belowWarningSince).toBeNull();
      expect(draft.timeline).toEqual([{ kind: 'relapsed', at: NOW, mention: false, lag: 60_000, line: 50_000 }]);
      expect(draft.rootChanged).toBe(true);
    });
  });

  describe('followPolicy, on an incident stored before escalation policies', () => {
    // No `escalation` state: a page last mentioned 15 min ago stands at the first level.
    const paging = { severity: 'page' as const, lastNotifiedAt: NOW - 15 * MIN };
    const evaluationAt = (lag: number) => evaluation(lag, 'page', { figures: figures(lag, { lagGrowthPerSec: 120 }) });
    const renotify = (draft: Draft, e: Evaluation) => followPolicy(draft, ctxOf(e, { settings: ONCALL }));

    it('mentions the on-call people again once the level has waited since the last mention', () => {
      const draft = draftOf(paging);
      renotify(draft, evaluationAt(2_600_000));
      expect(draft.timeline).toEqual([
        { kind: 'notified', at: NOW, mention: true, notify: ['S0ONCALL'], reason: { kind: 'no-acknowledgement', afterMs: 15 * MIN }, position: { level: 1, levels: 1, round: 2, rounds: null }, lag: 2_600_000 },
      ]);
      expect(draft.incident).toMatchObject({ lastNotifiedAt: NOW, escalation: { level: 0, round: 2, notifiedAt: NOW, exhausted: false } });
    });

    it('stays quiet before the interval, when acknowledged, snoozed or not paging', () => {
      const quiet: Partial<Incident>[] = [
        { ...paging, lastNotifiedAt: NOW - 15 * MIN + 1 },
        { ...paging, acknowledged: { by: 'U0SRE', at: T0, severity: 'page' } },
        { ...paging, snoozed: { by: 'U0SRE', at: T0, until: NOW + 1, severity: 'page' } },
        { ...paging, severity: 'critical' },
        { ...paging, lastNotifiedAt: null },
      ];
      for (const overrides of quiet) {
        const draft = draftOf(overrides);
        const before = draft.incident;
        renotify(draft, evaluationAt(2_600_000));
        expect(draft.timeline).toEqual([]);
        expect(draft.incident).toBe(before);
      }
    });
  });

  it('a flapping group tells its hot partition once, not again for each new member id of the same client', () => {
    const s = new Scenario();
    const hotGroup = (i: number, suffix: string): GroupScript => ({
      partitions: [
        { committed: 1_000, logEnd: 2_000 },
        { committed: 1_000, logEnd: 100_000 + i * 40_000 },
        { committed: 1_000, logEnd: 2_000 },
      ],
      members: 3,
      memberIdSuffix: suffix,
    });
    for (let i = 0; i < 16; i += 1) s.check(hotGroup(i, `-gen${i}`)); // every check, every member rejoined with a new id
    const hot = ofKind(s.timeline, 'evidence').filter((e) => e.finding.kind === 'hot-partition');
    expect(hot).toHaveLength(1);
    expect(ofKind(s.timeline, 'members-changed').length).toBeGreaterThan(5);
  });

  it('tellEvidence tells each finding once by identity, and leaves a rebalance to its own entry', () => {
    const hot = (memberId: string, host: string) =>
      ({ kind: 'hot-partition', topic: 'user-events', partition: 1, lag: 690_000, share: 0.98, totalLag: 700_000, owner: { memberId, clientId: 'consumer-2', host } }) as const;
    const draft = draftOf();
    tellEvidence(draft, ctxOf(evaluation(700_000, 'critical', { findings: [hot('consumer-2-a', '10.0.1.15'), { kind: 'rebalancing', state: 'PreparingRebalance' }] })));
    expect(draft.timeline).toEqual([{ kind: 'evidence', at: NOW, mention: false, finding: hot('consumer-2-a', '10.0.1.15') }]);
    // A new member id for the same client on the same host says nothing new; another host does.
    tellEvidence(draft, ctxOf(evaluation(700_000, 'critical', { findings: [hot('consumer-2-b', '10.0.1.15')] })));
    expect(draft.timeline).toHaveLength(1);
    tellEvidence(draft, ctxOf(evaluation(700_000, 'critical', { findings: [hot('consumer-2-c', '10.0.1.99')] })));
    expect(ofKind(draft.timeline, 'evidence').map((e) => e.finding.kind === 'hot-partition' && e.finding.owner?.host)).toEqual(['10.0.1.15', '10.0.1.99']);
  });

  it('tellEvidence tells a KIP-848 reconciliation with its moves once per target assignment', () => {
    const from = { memberId: 'Kq2ZyXwVuTsRqPoNmLkJiH', clientId: 'orders-2', host: '10.0.2.12' };
    const to = { memberId: 'Lp3MnBvCxZaSdFgHjKlQwE', clientId: 'orders-3', host: '10.0.2.13' };
    const move = (partition: number) => ({ topic: 'orders', partition, lag: 90_000, from, to });
    const reconciling = (assignmentEpoch: number, partitions: number[]) =>
      ({ kind: 'reconciling', moving: partitions.map(move), membersBehind: 2, members: 3, assignmentEpoch }) as const;
    const draft = draftOf();
    tellEvidence(draft, ctxOf(evaluation(700_000, 'critical', { findings: [reconciling(12, [3, 4])] })));
    expect(draft.timeline).toEqual([{ kind: 'evidence', at: NOW, mention: false, finding: reconciling(12, [3, 4]) }]);
    // One partition arrived: the same target, nothing new to tell. A new target is news.
    tellEvidence(draft, ctxOf(evaluation(700_000, 'critical', { findings: [reconciling(12, [3])] })));
    expect(draft.timeline).toHaveLength(1);
    tellEvidence(draft, ctxOf(evaluation(700_000, 'critical', { findings: [reconciling(13, [3])] })));
    expect(ofKind(draft.timeline, 'evidence').map((e) => e.finding.kind === 'reconciling' && e.finding.assignmentEpoch)).toEqual([12, 13]);
  });

  it('expireSnooze ends a snooze whose time is up, and leaves a running one alone', () => {
    const ended = draftOf({ snoozed: { by: 'U0SRE', at: T0, until: NOW, severity: 'warning' } });
    expireSnooze(ended, ctxOf(evaluation(90_000, null)));
    expect(ended.incident.snoozed).toBeNull();
    expect(ended.timeline).toEqual([{ kind: 'snooze-ended', at: NOW, mention: false, user: 'U0SRE' }]);
    expect(ended.rootChanged).toBe(true);

    const running = draftOf({ snoozed: { by: 'U0SRE', at: T0, until: NOW + 1, severity: 'warning' } });
    expireSnooze(running, ctxOf(evaluation(90_000, null)));
    expect(running.incident.snoozed).not.toBeNull();
    expect(running.timeline).toEqual([]);
  });
});
