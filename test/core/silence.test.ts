import { describe, expect, it } from 'vitest';
import { parseDuration, parseInstant } from '../../src/core/duration.js';
import { parseSilenceCommand } from '../../src/core/silence-command.js';
import { currentSilences, endSilence, isActive, planSilence, silenceFor, SILENCE_LIMITS, type Silence, type SilenceRequest } from '../../src/core/silence.js';
import { DEFAULT_INCIDENT_SETTINGS, type IncidentSettings } from '../../src/core/incident.js';
import { Scenario, T0, ramp } from '../support/scripted.js';

const MIN = 60_000;
const H = 60 * MIN;

function silence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: 'sil-aaaa',
    target: { kind: 'groups', pattern: 'user-events-*', cluster: null },
    by: 'U0SRE',
    reason: 'partition increase',
    createdAt: T0,
    startsAt: T0,
    endsAt: T0 + 2 * H,
    endedEarly: null,
    ...overrides,
  };
}

describe('durations', () => {
  it('reads days, hours and minutes, largest first', () => {
    expect(parseDuration('45m')).toBe(45 * MIN);
    expect(parseDuration('2h')).toBe(2 * H);
    expect(parseDuration('1h30m')).toBe(90 * MIN);
    expect(parseDuration('1d')).toBe(24 * H);
    expect(parseDuration('2D12H')).toBe(60 * H);
  });

  it('refuses what it would have to guess', () => {
    for (const word of ['2', '2 hours', '1.5h', '30s', '0m', '0h0m', 'h', '30m2h', '', '-2h', '2hours', '1h1h']) expect(parseDuration(word), word).toBeNull();
  });
});

describe('instants', () => {
  it('reads ISO 8601 times with an explicit zone', () => {
    expect(parseInstant('2026-12-03T02:00Z')).toBe(Date.UTC(2026, 11, 3, 2, 0));
    expect(parseInstant('2026-12-03T02:00:30Z')).toBe(Date.UTC(2026, 11, 3, 2, 0, 30));
    expect(parseInstant('2026-12-03T03:00+01:00')).toBe(Date.UTC(2026, 11, 3, 2, 0));
    expect(parseInstant('2026-12-02T21:30-04:30')).toBe(Date.UTC(2026, 11, 3, 2, 0));
    expect(parseInstant('2026-12-03t02:00z')).toBe(Date.UTC(2026, 11, 3, 2, 0));
  });

  it('refuses times without a zone and dates that do not exist', () => {
    for (const word of ['2026-12-03T02:00', '2026-12-03 02:00Z', '2026-02-30T02:00Z', '2026-13-01T02:00Z', '2026-12-03T24:00Z', '02:00Z', 'tomorrow', '2026-12-03T02:00+1', '2026-12-03T02:00+15:00']) {
      expect(parseInstant(word), word).toBeNull();
    }
  });
});

describe('which silence applies', () => {
  const ref = { cluster: 'prod-eu', group: 'user-events-consumer' };

  it('matches globs over group ids, on every cluster or on one', () => {
    expect(silenceFor([silence()], ref, T0)?.id).toBe('sil-aaaa');
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: 'user-events-*', cluster: 'prod-us' } })], ref, T0)).toBeNull();
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: 'user-events-*', cluster: 'prod-eu' } })], ref, T0)).not.toBeNull();
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: 'payments-*', cluster: null } })], ref, T0)).toBeNull();
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: 'user-events-consumer', cluster: null } })], ref, T0)).not.toBeNull();
    // A glob crosses the dots and slashes group ids often have.
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: 'team.*', cluster: null } })], { cluster: 'a', group: 'team.orders/v2' }, T0)).not.toBeNull();
    // `!` is not a negation: it would silence every group but one.
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: '!payments', cluster: null } })], ref, T0)).toBeNull();
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: '!payments', cluster: null } })], { cluster: 'a', group: '!payments' }, T0)).not.toBeNull();
    expect(silenceFor([silence({ target: { kind: 'groups', pattern: '{a,user-events-*}', cluster: null } })], ref, T0)).not.toBeNull();
  });

  it('matches every group of a cluster', () => {
    const onCluster = silence({ target: { kind: 'cluster', cluster: 'prod-eu' } });
    expect(silenceFor([onCluster], ref, T0)).not.toBeNull();
    expect(silenceFor([onCluster], { ...ref, cluster: 'prod-us' }, T0)).toBeNull();
  });

  it('is a function of time: not before its start, not from its end, not after being ended early', () => {
    const s = silence({ startsAt: T0 + H, endsAt: T0 + 3 * H });
    expect(silenceFor([s], ref, T0 + H - 1)).toBeNull();
    expect(silenceFor([s], ref, T0 + H)).not.toBeNull();
    expect(silenceFor([s], ref, T0 + 3 * H - 1)).not.toBeNull();
    expect(silenceFor([s], ref, T0 + 3 * H)).toBeNull();
    const ended = { ...s, endedEarly: { by: 'U0MARIA', at: T0 + 2 * H } };
    expect(silenceFor([ended], ref, T0 + 2 * H - 1)).not.toBeNull();
    expect(silenceFor([ended], ref, T0 + 2 * H)).toBeNull();
  });

  it('of several, names the one lasting longest', () => {
    const short = silence({ id: 'sil-short', endsAt: T0 + H });
    const long = silence({ id: 'sil-long', endsAt: T0 + 5 * H, target: { kind: 'cluster', cluster: 'prod-eu' } });
    expect(silenceFor([short, long], ref, T0)?.id).toBe('sil-long');
  });

  it('lists those in force (ending soonest first), then those scheduled (starting soonest first), and nothing over', () => {
    const list = [
      silence({ id: 'sil-later', startsAt: T0 + 5 * H, endsAt: T0 + 6 * H }),
      silence({ id: 'sil-over', startsAt: T0 - 3 * H, endsAt: T0 - H }),
      silence({ id: 'sil-long', endsAt: T0 + 4 * H }),
      silence({ id: 'sil-soon', startsAt: T0 + H, endsAt: T0 + 2 * H }),
      silence({ id: 'sil-short', endsAt: T0 + H }),
      silence({ id: 'sil-cancelled', startsAt: T0 + H, endsAt: T0 + 2 * H, endedEarly: { by: 'U0SRE', at: T0 } }),
    ];
    expect(currentSilences(list, T0).map((s) => s.id)).toEqual(['sil-short', 'sil-long', 'sil-soon', 'sil-later']);
  });
});

describe('planning a silence', () => {
  const ctx = { now: T0, user: 'U0SRE', id: 'sil-new1', clusters: ['prod-eu', 'prod-us'] };
  const request = (overrides: Partial<SilenceRequest> = {}): SilenceRequest => ({ target: { kind: 'groups', pattern: 'payments-*', cluster: null }, durationMs: 2 * H, from: null, reason: 'deploy', ...overrides });

  it('starts now, or at the maintenance window', () => {
    expect(planSilence(request(), ctx)).toEqual({ ok: true, silence: { id: 'sil-new1', target: request().target, by: 'U0SRE', reason: 'deploy', createdAt: T0, startsAt: T0, endsAt: T0 + 2 * H, endedEarly: null } });
    const window = planSilence(request({ from: T0 + 24 * H }), ctx);
    expect(window.ok && [window.silence.startsAt, window.silence.endsAt]).toEqual([T0 + 24 * H, T0 + 26 * H]);
    expect(window.ok && isActive(window.silence, T0)).toBe(false);
  });

  it('refuses silly durations, past or far starts, long reasons and unknown clusters, saying which', () => {
    expect(planSilence(request({ durationMs: 8 * 24 * H }), ctx)).toEqual({ ok: false, problem: { kind: 'too-long', durationMs: 8 * 24 * H, maxMs: SILENCE_LIMITS.maxMs } });
    expect(planSilence(request({ from: T0 - 5 * MIN }), ctx)).toEqual({ ok: false, problem: { kind: 'starts-in-past', from: T0 - 5 * MIN, now: T0 } });
    expect(planSilence(request({ from: T0 + 40 * 24 * H }), ctx)).toMatchObject({ ok: false, problem: { kind: 'starts-too-far-ahead' } });
    expect(planSilence(request({ reason: 'x'.repeat(301) }), ctx)).toMatchObject({ ok: false, problem: { kind: 'reason-too-long', chars: 301 } });
    expect(planSilence(request({ target: { kind: 'cluster', cluster: 'staging' } }), ctx)).toEqual({ ok: false, problem: { kind: 'unknown-cluster', cluster: 'staging', known: ['prod-eu', 'prod-us'] } });
    expect(planSilence(request({ target: { kind: 'groups', pattern: 'x', cluster: 'staging' } }), ctx)).toMatchObject({ ok: false, problem: { kind: 'unknown-cluster' } });
  });

  it('takes a start typed a few seconds late as now', () => {
    const late = planSilence(request({ from: T0 - 20_000 }), ctx);
    expect(late.ok && late.silence.startsAt).toBe(T0);
  });

  it('ends early once; a scheduled one is cancelled before it starts', () => {
    const s = silence();
    const ended = endSilence(s, s.id, 'U0MARIA', T0 + H);
    expect(ended).toEqual({ kind: 'ended', silence: { ...s, endedEarly: { by: 'U0MARIA', at: T0 + H } } });
    if (ended.kind !== 'ended') throw new Error('not ended');
    expect(endSilence(ended.silence, s.id, 'U0OTHER', T0 + H + 1).kind).toBe('already-over');
    expect(endSilence(null, 'sil-none', 'U0OTHER', T0)).toEqual({ kind: 'no-such-silence', id: 'sil-none' });
    const cancelled = endSilence(silence({ startsAt: T0 + H, endsAt: T0 + 2 * H }), s.id, 'U0SRE', T0);
    expect(cancelled.kind === 'ended' && currentSilences([cancelled.silence], T0)).toEqual([]);
  });
});

describe('the silence commands', () => {
  const parsed = (text: string) => parseSilenceCommand(text);

  it('leaves every other /lag command alone', () => {
    for (const text of ['', 'list', 'orders', 'group silence', 'orders members', 'help']) expect(parsed(text), text).toBeNull();
  });

  it('reads a group, a glob, a glob on one cluster and a whole cluster', () => {
    expect(parsed('silence payments-* 2h deploy of v2')).toEqual({ ok: true, command: { kind: 'silence', request: { target: { kind: 'groups', pattern: 'payments-*', cluster: null }, durationMs: 2 * H, from: null, reason: 'deploy of v2' } } });
    expect(parsed('silence orders in prod-eu 30m')).toEqual({ ok: true, command: { kind: 'silence', request: { target: { kind: 'groups', pattern: 'orders', cluster: 'prod-eu' }, durationMs: 30 * MIN, from: null, reason: null } } });
    expect(parsed('silence cluster:prod-eu 2h deploy')).toMatchObject({ ok: true, command: { request: { target: { kind: 'cluster', cluster: 'prod-eu' }, reason: 'deploy' } } });
    expect(parsed('silence group cluster:odd 1h')).toMatchObject({ ok: true, command: { request: { target: { kind: 'groups', pattern: 'cluster:odd', cluster: null } } } });
    expect(parsed('silence "group with spaces" 1h')).toMatchObject({ ok: true, command: { request: { target: { pattern: 'group with spaces' } } } });
    // Slack escapes &, < and > in command text.
    expect(parsed('silence a&amp;b 1h &lt;reason&gt;')).toMatchObject({ ok: true, command: { request: { target: { pattern: 'a&b' }, reason: '<reason>' } } });
  });

  it('reads a maintenance window', () => {
    expect(parsed('SILENCE user-events-consumer 2h from 2026-12-03T02:00Z increase partitions')).toMatchObject({
      ok: true,
      command: { request: { target: { pattern: 'user-events-consumer' }, durationMs: 2 * H, from: Date.UTC(2026, 11, 3, 2), reason: 'increase partitions' } },
    });
  });

  it('says what is wrong', () => {
    expect(parsed('silence')).toEqual({ ok: false, problem: { kind: 'silence-usage', missing: 'target' } });
    expect(parsed('silence orders')).toEqual({ ok: false, problem: { kind: 'silence-usage', missing: 'duration' } });
    expect(parsed('silence orders two-hours')).toEqual({ ok: false, problem: { kind: 'bad-duration', word: 'two-hours' } });
    expect(parsed('silence orders 2h from')).toEqual({ ok: false, problem: { kind: 'missing-start' } });
    expect(parsed('silence orders 2h from 2026-12-03T02:00 window')).toEqual({ ok: false, problem: { kind: 'bad-start', word: '2026-12-03T02:00' } });
    expect(parsed('silence orders in')).toEqual({ ok: false, problem: { kind: 'missing-cluster' } });
    expect(parsed('silence cluster:Prod_EU 1h')).toEqual({ ok: false, problem: { kind: 'bad-cluster', word: 'Prod_EU' } });
    expect(parsed('unsilence')).toEqual({ ok: false, problem: { kind: 'unsilence-usage' } });
    expect(parsed('unsilence 42')).toEqual({ ok: false, problem: { kind: 'bad-silence-id', word: '42' } });
    expect(parsed('silences now')).toEqual({ ok: false, problem: { kind: 'silences-usage', extra: 'now' } });
  });

  it('lists and ends', () => {
    expect(parsed('silences')).toEqual({ ok: true, command: { kind: 'list' } });
    expect(parsed('unsilence sil-3f9k2m')).toEqual({ ok: true, command: { kind: 'end', id: 'sil-3f9k2m' } });
  });
});

describe('an incident under a silence', () => {
  /** Lag at the page line at once: the incident opens at PAGE and mentions the on-call people. */
  const PAGE = 2_500_000;
  /** What `oncall: [S0ONCALL]` with renotifyMinutes 15 stands for: one level from PAGE, repeated. */
  const ONCALL: IncidentSettings = { ...DEFAULT_INCIDENT_SETTINGS, escalation: { startsAt: 'page', repeat: null, levels: [{ notify: ['S0ONCALL'], waitMs: 15 * 60_000 }] } };
  const scenario = (): Scenario => new Scenario(undefined, ONCALL);

  it('does not open while the group is silenced, and opens once the silence is over', () => {
    const s = scenario();
    s.silences = [silence({ target: { kind: 'groups', pattern: 'user-events-consumer', cluster: null }, endsAt: T0 + 2 * 30_000 })];
    s.checks([PAGE, PAGE]);
    expect(s.incident).toBeNull();
    expect(s.timeline).toEqual([]);
    s.checks([PAGE]);
    expect(s.incident?.severity).toBe('page');
    expect(s.timeline.map((e) => [e.kind, e.mention])).toEqual([
      ['opened', false],
      ['notified', true],
    ]);
  });

  it('does not open on a silenced cluster', () => {
    const s = scenario();
    s.silences = [silence({ target: { kind: 'cluster', cluster: 'default' } })];
    s.checks([PAGE]);
    expect(s.incident).toBeNull();
  });

  it('keeps the timeline of an open incident without mentions, and tells the silence starting and ending', () => {
    const s = scenario();
    s.checks(ramp(51_000, 90_000, 11));
    expect(s.incident?.severity).toBe('warning');
    const startsAt = s.now;
    s.silences = [silence({ startsAt, endsAt: startsAt + 40 * 30_000 })];
    const first = s.check({ partitions: [{ committed: 1_000_000, logEnd: 1_000_000 + PAGE }], members: 1 });
    expect(first.timeline.map((e) => [e.kind, e.mention])).toEqual([
      ['silenced', false],
      ['escalated', false],
    ]);
    expect(first.timeline[0]).toMatchObject({ by: 'U0SRE', until: startsAt + 40 * 30_000, reason: 'partition increase' });
    expect(first.rootChanged).toBe(true);
    expect(s.incident?.silence).toMatchObject({ id: 'sil-aaaa', by: 'U0SRE', endedAt: null });

    // Paging and unacknowledged for longer than the re-notification interval: nothing re-notifies while silenced.
    s.checks(Array(39).fill(PAGE));
    expect(s.timeline.some((e) => e.mention && e.at > startsAt)).toBe(false);
    expect(s.kinds()).not.toContain('notified');

    // The silence over, the page nobody took starts the policy again from its first level.
    const after = s.check(lagOfPage());
    expect(after.timeline.map((e) => [e.kind, e.mention])).toEqual([
      ['silence-ended', false],
      ['notified', true],
    ]);
    expect(after.timeline[0]).toMatchObject({ by: 'U0SRE', endedBy: null, notified: true });
    expect(after.timeline[1]).toMatchObject({ notify: ['S0ONCALL'], reason: { kind: 'silence-ended' }, position: { level: 1, round: 1 } });
    expect(s.incident?.silence).toMatchObject({ endedAt: after.timeline[0]?.at, endedBy: null });
    expect(s.incident?.lastNotifiedAt).toBe(after.timeline[0]?.at);
  });

  it('notifies no one when the group is back under the page line as the silence ends', () => {
    const s = scenario();
    s.checks([PAGE]);
    s.silences = [silence({ startsAt: s.now, endsAt: s.now + 30_000 })];
    s.checks([PAGE]);
    const ended = s.check({ partitions: [{ committed: 1_000_000, logEnd: 1_000_000 + 600_000 }], members: 1 });
    expect(ended.timeline).toMatchObject([{ kind: 'silence-ended', endedBy: null, notified: false, mention: false }]);
  });

  it('names who ended it early, and notifies no one when the page was acknowledged', () => {
    const s = scenario();
    s.checks([PAGE]);
    s.click({ kind: 'acknowledge', user: 'U0MARIA' });
    s.silences = [silence({ startsAt: s.now })];
    s.checks([PAGE]);
    s.silences = [{ ...(s.silences[0] as Silence), endedEarly: { by: 'U0LEAD', at: s.now } }];
    const ended = s.check(lagOfPage());
    expect(ended.timeline).toMatchObject([{ kind: 'silence-ended', endedBy: 'U0LEAD', notified: false, mention: false }]);
  });

  function lagOfPage() {
    return { partitions: [{ committed: 1_000_000, logEnd: 1_000_000 + PAGE }], members: 1 };
  }
});
