import { describe, expect, it } from 'vitest';
import { advancePolicy, startPolicy, type EscalationPolicy } from '../../src/core/escalation.js';
import { DEFAULT_INCIDENT_SETTINGS, step, type IncidentSettings, type TimelineEntry } from '../../src/core/incident.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { incidentFixture } from '../support/incident-fixture.js';
import { CHECK_MS, Scenario, T0, ramp } from '../support/scripted.js';

/**
 * Escalation policies over plain data and the scripted clock of the scenarios: which level
 * is notified when, why, and when the policy stops, stands still or starts again.
 */

const MIN = 60_000;
const checksFor = (ms: number) => Math.round(ms / CHECK_MS);

/** Primary on call for 5 min, then the lead and the channel for 10 min; the whole list twice. */
const TWO_LEVELS: EscalationPolicy = {
  startsAt: 'page',
  repeat: 1,
  levels: [
    { notify: ['S0PRIMARY'], waitMs: 5 * MIN },
    { notify: ['U0LEAD', 'here'], waitMs: 10 * MIN },
  ],
};

const withPolicy = (escalation: EscalationPolicy): IncidentSettings => ({ ...DEFAULT_INCIDENT_SETTINGS, escalation });

type Notified = Extract<TimelineEntry, { kind: 'notified' }>;
const notified = (s: Scenario): Notified[] => s.timeline.filter((e): e is Notified => e.kind === 'notified');
/** Who was notified, at which level and round, and why: one line per notification. */
const story = (s: Scenario): string[] =>
  notified(s).map((e) => `${(e.at - T0) / MIN}m ${e.notify.join('+')} L${e.position?.level ?? '-'}R${e.position?.round ?? '-'} ${e.reason.kind}`);

describe('an escalation policy', () => {
  it('starts when the incident pages, moves a level when the wait runs out, repeats the whole list, then stops and says so', () => {
    const s = new Scenario(DEFAULT_RULES, withPolicy(TWO_LEVELS));
    s.checks([2_500_000]);
    s.checks(Array(checksFor(60 * MIN)).fill(2_600_000));
    expect(story(s)).toEqual([
      '0m S0PRIMARY L1R1 started',
      '5m U0LEAD+here L2R1 no-acknowledgement',
      '15m S0PRIMARY L1R2 no-acknowledgement',
      '20m U0LEAD+here L2R2 no-acknowledgement',
    ]);
    expect(notified(s)[1]).toMatchObject({ mention: true, reason: { kind: 'no-acknowledgement', afterMs: 5 * MIN }, position: { level: 2, levels: 2, round: 1, rounds: 2 }, lag: 2_600_000 });
    const stopped = s.timeline.filter((e) => e.kind === 'escalation-stopped');
    expect(stopped).toEqual([{ kind: 'escalation-stopped', at: T0 + 30 * MIN, mention: false, levels: 2, rounds: 2, afterMs: 10 * MIN }]);
    expect(s.incident?.escalation).toMatchObject({ exhausted: true });
  });

  it('is stopped by an acknowledgement, and an escalation above the acknowledged severity restarts it from the first level', () => {
    const s = new Scenario(DEFAULT_RULES, withPolicy({ ...TWO_LEVELS, startsAt: 'critical' }));
    s.checks(ramp(51_000, 90_000, 11)); // opens at warning: below the policy's severity
    expect(notified(s)).toEqual([]);
    s.checks([600_000]); // critical
    s.checks(Array(checksFor(5 * MIN)).fill(600_000));
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(s.incident?.escalation).toBeNull();
    s.checks(Array(checksFor(30 * MIN)).fill(600_000));
    const escalatedAt = (s.now - T0) / MIN;
    s.checks([2_500_000]); // page, above the acknowledged critical
    expect(story(s)).toEqual([
      '5.5m S0PRIMARY L1R1 started',
      '10.5m U0LEAD+here L2R1 no-acknowledgement',
      `${escalatedAt}m S0PRIMARY L1R1 restarted`,
    ]);
    expect(notified(s)[0]?.reason).toEqual({ kind: 'started', severity: 'critical' });
    expect(notified(s)[2]?.reason).toEqual({ kind: 'restarted', severity: 'page' });
    expect(s.incident?.acknowledged).toBeNull();
    // The restarted policy runs on from there.
    s.checks(Array(checksFor(5 * MIN)).fill(2_600_000));
    expect(story(s).at(-1)).toBe(`${escalatedAt + 5}m U0LEAD+here L2R1 no-acknowledgement`);
  });

  it('restarts when the incident comes back to its severity after stepping below it, and holds while below', () => {
    const s = new Scenario(DEFAULT_RULES, { ...withPolicy(TWO_LEVELS), deescalateAfterMs: MIN });
    s.checks([2_500_000]);
    s.checks(Array(checksFor(3 * MIN)).fill(600_000)); // de-escalates to critical after a minute
    expect(s.incident?.severity).toBe('critical');
    s.checks(Array(checksFor(20 * MIN)).fill(600_000));
    expect(story(s)).toEqual(['0m S0PRIMARY L1R1 started']);
    s.checks([2_500_000]);
    expect(notified(s).at(-1)?.reason).toEqual({ kind: 'restarted', severity: 'page' });
    expect(notified(s).at(-1)?.position).toEqual({ level: 1, levels: 2, round: 1, rounds: 2 });
  });

  it('carries on where it is when the incident escalates while the policy runs', () => {
    const s = new Scenario(DEFAULT_RULES, withPolicy({ ...TWO_LEVELS, startsAt: 'critical' }));
    s.checks([600_000]);
    s.checks(Array(checksFor(2 * MIN)).fill(600_000));
    s.checks([2_500_000]);
    s.checks(Array(checksFor(3 * MIN)).fill(2_500_000));
    expect(story(s)).toEqual(['0m S0PRIMARY L1R1 started', '5m U0LEAD+here L2R1 no-acknowledgement']);
  });

  it('does not advance while snoozed; once the snooze ends, the level whose wait ran out is followed by the next', () => {
    const s = new Scenario(DEFAULT_RULES, withPolicy(TWO_LEVELS));
    s.checks([2_500_000]);
    s.click({ kind: 'snooze', user: 'U0SRE', forMs: 30 * MIN });
    s.checks(Array(checksFor(29 * MIN)).fill(2_500_000));
    expect(story(s)).toEqual(['0m S0PRIMARY L1R1 started']);
    s.checks(Array(checksFor(2 * MIN)).fill(2_500_000));
    expect(story(s)).toEqual(['0m S0PRIMARY L1R1 started', '30.5m U0LEAD+here L2R1 no-acknowledgement']);
    expect(notified(s)[1]?.reason).toEqual({ kind: 'no-acknowledgement', afterMs: 30.5 * MIN });
  });

  it('starts at the severity it is configured for: page by default, so a critical incident notifies no one', () => {
    const paging = new Scenario(DEFAULT_RULES, withPolicy(TWO_LEVELS));
    paging.checks([600_000]);
    paging.checks(Array(checksFor(30 * MIN)).fill(600_000));
    expect(paging.incident?.severity).toBe('critical');
    expect(notified(paging)).toEqual([]);

    const critical = new Scenario(DEFAULT_RULES, withPolicy({ ...TWO_LEVELS, startsAt: 'critical' }));
    const opened = critical.check({ partitions: [{ committed: 0, logEnd: 600_000 }], members: 1 });
    expect(opened.timeline.map((e) => e.kind)).toEqual(['opened', 'notified']);
    expect(opened.timeline[1]).toMatchObject({ notify: ['S0PRIMARY'], reason: { kind: 'started', severity: 'critical' } });
  });

  it('with repeat null (oncall with renotifyMinutes) notifies its one level until acknowledged, never stopping', () => {
    const s = new Scenario(DEFAULT_RULES, withPolicy({ startsAt: 'page', repeat: null, levels: [{ notify: ['S0ONCALL'], waitMs: 15 * MIN }] }));
    s.checks([2_500_000]);
    s.checks(Array(checksFor(120 * MIN)).fill(2_500_000));
    expect(notified(s).map((e) => e.position?.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.timeline.some((e) => e.kind === 'escalation-stopped')).toBe(false);
  });

  it('without anyone to notify tells nothing', () => {
    const s = new Scenario();
    s.checks([2_500_000]);
    s.checks(Array(checksFor(60 * MIN)).fill(2_500_000));
    expect(notified(s)).toEqual([]);
    expect(s.incident?.escalation).toBeNull();
  });
});

describe('an incident stored before escalation policies', () => {
  const NOW = T0 + 60 * MIN;
  const evaluation = {
    ref: { cluster: 'default', group: 'orders' },
    at: NOW,
    severity: 'page' as const,
    reasons: [],
    findings: [],
    figures: { ...incidentFixture('x', 'orders').figures, at: NOW, totalLag: 2_600_000 },
    belowWarning: false,
    state: 'Stable' as const,
    memberIds: ['m-1'],
  };

  it('loads without policy state and follows the policy from its first level', () => {
    // A page, mentioned 5 min ago, as a lagbot before policies stored it: no escalation, assignee or responders.
    const old = incidentFixture('inc-old', 'orders', { severity: 'page', peakSeverity: 'page', openedAt: T0, lastNotifiedAt: NOW - 5 * MIN, lastObservedAt: NOW - CHECK_MS });
    expect(old).not.toHaveProperty('escalation');
    const next = step(old, { kind: 'evaluation', evaluation, channel: 'C0ALERTS', newId: () => 'unused' }, withPolicy(TWO_LEVELS), NOW);
    expect(next.timeline.filter((e) => e.kind === 'notified')).toMatchObject([{ notify: ['U0LEAD', 'here'], position: { level: 2, round: 1 }, reason: { kind: 'no-acknowledgement', afterMs: 5 * MIN } }]);
    expect(next.incident?.escalation).toEqual({ level: 1, round: 1, notifiedAt: NOW, exhausted: false });
  });

  it('acknowledged before, stays quiet; responders and reassignment work on it', () => {
    const old = incidentFixture('inc-old', 'orders', { severity: 'page', openedAt: T0, lastNotifiedAt: T0, acknowledged: { by: 'U0SRE', at: T0, severity: 'page' } });
    const quiet = step(old, { kind: 'evaluation', evaluation, channel: 'C0ALERTS', newId: () => 'unused' }, withPolicy(TWO_LEVELS), NOW);
    expect(quiet.timeline.filter((e) => e.kind === 'notified')).toEqual([]);
    const added = step(old, { kind: 'add-responders', user: 'U0SRE', responders: ['U0DBA'] }, withPolicy(TWO_LEVELS), NOW);
    expect(added.incident?.responders).toEqual(['U0DBA']);
  });
});

describe('responders and reassignment', () => {
  const settings = withPolicy(TWO_LEVELS);
  const open = () => incidentFixture('inc-1', 'orders', { openedAt: T0, escalation: null, assignee: null, responders: [] });

  it('"Add responder" notifies the people picked, names who added them, and lists them on the incident once each', () => {
    const first = step(open(), { kind: 'add-responders', user: 'U0MARIA', responders: ['U0DBA', 'U0NET', 'U0DBA'] }, settings, T0 + MIN);
    expect(first.timeline).toEqual([
      { kind: 'notified', at: T0 + MIN, mention: true, notify: ['U0DBA', 'U0NET'], reason: { kind: 'responder-added', by: 'U0MARIA' }, position: null, lag: 5_000 },
    ]);
    expect(first.rootChanged).toBe(true);
    const second = step(first.incident, { kind: 'add-responders', user: 'U0MARIA', responders: ['U0NET', 'U0APP'] }, settings, T0 + 2 * MIN);
    expect(second.incident?.responders).toEqual(['U0DBA', 'U0NET', 'U0APP']);
    expect(second.timeline[0]).toMatchObject({ notify: ['U0NET', 'U0APP'] });
  });

  it('"Reassign" notifies the new assignee, who is then the incident\'s assignee; the same person again changes nothing', () => {
    const first = step(open(), { kind: 'reassign', user: 'U0MARIA', assignee: 'U0BOB' }, settings, T0 + MIN);
    expect(first.incident?.assignee).toEqual({ user: 'U0BOB', by: 'U0MARIA', at: T0 + MIN });
    expect(first.timeline).toMatchObject([{ kind: 'notified', notify: ['U0BOB'], reason: { kind: 'reassigned', by: 'U0MARIA', from: null }, position: null }]);
    const second = step(first.incident, { kind: 'reassign', user: 'U0BOB', assignee: 'U0ANA' }, settings, T0 + 2 * MIN);
    expect(second.timeline[0]).toMatchObject({ reason: { kind: 'reassigned', by: 'U0BOB', from: 'U0BOB' } });
    const again = step(second.incident, { kind: 'reassign', user: 'U0MARIA', assignee: 'U0ANA' }, settings, T0 + 3 * MIN);
    expect(again).toMatchObject({ timeline: [], rootChanged: false, notice: { kind: 'already-assigned', to: 'U0ANA' } });
  });

  it('neither reaches a resolved incident', () => {
    const resolved = incidentFixture('inc-1', 'orders', { status: 'resolved', resolved: { by: 'U0SRE', at: T0 } });
    for (const input of [{ kind: 'add-responders', user: 'U0MARIA', responders: ['U0DBA'] }, { kind: 'reassign', user: 'U0MARIA', assignee: 'U0DBA' }] as const) {
      expect(step(resolved, input, settings, T0 + MIN)).toMatchObject({ timeline: [], notice: { kind: 'already-resolved', by: 'U0SRE' } });
    }
  });
});

describe('advancePolicy', () => {
  it('waits out the current level, to the millisecond', () => {
    const state = { level: 0, round: 1, notifiedAt: T0, exhausted: false };
    expect(advancePolicy(TWO_LEVELS, state, T0 + 5 * MIN - 1)).toBeNull();
    expect(advancePolicy(TWO_LEVELS, state, T0 + 5 * MIN)?.state).toEqual({ level: 1, round: 1, notifiedAt: T0 + 5 * MIN, exhausted: false });
  });

  it('takes the last level for a state stored under a longer policy, and does nothing once exhausted', () => {
    const beyond = advancePolicy(TWO_LEVELS, { level: 4, round: 1, notifiedAt: T0, exhausted: false }, T0 + 10 * MIN);
    expect(beyond?.notification?.position).toEqual({ level: 1, levels: 2, round: 2, rounds: 2 });
    expect(advancePolicy(TWO_LEVELS, { level: 1, round: 2, notifiedAt: T0, exhausted: true }, T0 + 60 * MIN)).toBeNull();
  });

  it('has nothing to start without levels', () => {
    expect(startPolicy({ startsAt: 'page', repeat: 0, levels: [] }, T0, { kind: 'started', severity: 'page' })).toBeNull();
  });
});
