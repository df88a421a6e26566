import { describe, expect, it } from 'vitest';
import { DEFAULT_INCIDENT_SETTINGS } from '../../src/core/incident.js';
import { CHECK_MS, Scenario, T0, ramp } from '../support/scripted.js';

const MIN = 60_000;
const checksFor = (ms: number) => Math.round(ms / CHECK_MS);

/** Lag climbing past the warning line and growing for 5 minutes: the incident opens. */
function openedAtWarning(): Scenario {
  const s = new Scenario();
  s.checks(ramp(51_000, 90_000, 11));
  expect(s.incident?.severity).toBe('warning');
  return s;
}

describe('incident lifecycle', () => {
  it('opens once at warning, with the reasons in the timeline', () => {
    const s = openedAtWarning();
    expect(s.steps.filter((x) => x.opened)).toHaveLength(1);
    expect(s.timeline[0]).toMatchObject({ kind: 'opened', mention: false, at: T0 + 10 * CHECK_MS });
    expect(s.timeline[0]?.text).toContain('Opened at WARNING: total lag 90,000 > 50,000 and growing for 5 min');
    expect(s.incident).toMatchObject({ id: 'inc-1', channel: 'C0ALERTS', status: 'open', peakLag: 90_000 });
  });

  it('escalates to critical without paging, then to page with a mention', () => {
    const s = openedAtWarning();
    s.checks([600_000]);
    expect(s.incident?.severity).toBe('critical');
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'escalated', mention: false });
    s.checks([2_500_000]);
    expect(s.incident?.severity).toBe('page');
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'escalated', mention: true });
    expect(s.timeline.at(-1)?.text).toContain('Escalated to PAGE: total lag 2,500,000 > 2,000,000');
    expect(s.incident?.peakSeverity).toBe('page');
  });

  it('re-notifies an unacknowledged page at the configured interval, and an ack stops it', () => {
    const s = new Scenario();
    s.checks([2_500_000]);
    expect(s.timeline[0]).toMatchObject({ kind: 'opened', mention: true });
    s.checks(Array(checksFor(15 * MIN)).fill(2_600_000));
    const renotified = s.timeline.filter((e) => e.kind === 'renotified');
    expect(renotified).toHaveLength(1);
    expect(renotified[0]).toMatchObject({ mention: true, at: T0 + 15 * MIN });
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    s.checks(Array(checksFor(40 * MIN)).fill(2_600_000));
    expect(s.timeline.filter((e) => e.kind === 'renotified')).toHaveLength(1);
  });

  it('notifies again when an acknowledged incident escalates higher, and needs a new ack', () => {
    const s = openedAtWarning();
    s.checks([600_000]);
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(s.incident?.acknowledged).toMatchObject({ by: 'U0SRE', severity: 'critical' });
    s.checks([2_500_000]);
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'escalated', mention: true });
    expect(s.timeline.at(-1)?.text).toContain('was acknowledged at CRITICAL; needs a new acknowledgement');
    expect(s.incident?.acknowledged).toBeNull();
  });

  it('de-escalates only after the lower severity has held for the configured time', () => {
    const s = new Scenario();
    s.checks([600_000, 400_000, 400_000, 400_000, 400_000]);
    expect(s.incident?.severity).toBe('critical');
    s.checks([400_000]);
    expect(s.incident?.severity).toBe('warning');
    expect(s.timeline.at(-1)?.text).toBe('De-escalated to WARNING: total lag 400,000, below the CRITICAL line for 2 min.');
  });

  it('does not de-escalate when lag crosses back before the hold ends', () => {
    const s = openedAtWarning();
    s.checks([600_000, 400_000, 400_000, 600_000, 400_000, 400_000, 400_000]);
    expect(s.incident?.severity).toBe('critical');
  });

  it('resolves with hysteresis: recovering first, resolved after 5 minutes under the line', () => {
    const s = openedAtWarning();
    s.checks([30_000]);
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'recovering' });
    s.checks(Array(checksFor(5 * MIN) - 1).fill(20_000));
    expect(s.incident?.status).toBe('open');
    s.checks([10_000]);
    expect(s.incident?.status).toBe('resolved');
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'resolved', mention: false });
    expect(s.timeline.at(-1)?.text).toBe('Resolved: lag under 50,000 for 5 min (now 10,000).');
  });

  it('does not flap when lag hovers at the warning line', () => {
    const s = openedAtWarning();
    const hovering = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 49_000 : 51_000));
    s.checks(hovering);
    expect(s.incident?.status).toBe('open');
    expect(s.steps.filter((x) => x.opened)).toHaveLength(1);
    expect(s.kinds().filter((k) => k === 'resolved')).toHaveLength(0);
  });

  it('writes a summary like the case study\'s impact section on resolve', () => {
    const s = openedAtWarning();
    s.checks([600_000, 4_200_000]);
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    s.checks([300_000, 30_000]);
    s.checks(Array(checksFor(5 * MIN)).fill(0));
    const resolved = s.timeline.find((e) => e.kind === 'resolved');
    expect(resolved?.summary).toMatchObject({
      group: 'user-events-consumer',
      peakLag: 4_200_000,
      peakLagAt: T0 + 12 * CHECK_MS,
      peakSeverity: 'page',
      openedAt: T0 + 10 * CHECK_MS,
      acknowledged: { by: 'U0SRE', afterMs: 3 * CHECK_MS },
      resolvedBy: null,
    });
    expect(resolved?.summary?.resolvedAt).toBe(s.incident?.resolved?.at);
  });

  it('tells the hot partition (per owner), rebalances and member changes in the thread', () => {
    const s = new Scenario();
    const hot = (state: 'Stable' | 'PreparingRebalance', prefix: string) => () => ({
      partitions: [
        { committed: 0, logEnd: 10_000 },
        { committed: 0, logEnd: 700_000 },
      ],
      state,
      memberPrefix: prefix,
    });
    s.check(hot('Stable', 'a')());
    s.check(hot('Stable', 'a')());
    s.check(hot('PreparingRebalance', 'a')());
    s.check(hot('Stable', 'b')());
    const kinds = s.kinds();
    expect(kinds.filter((k) => k === 'evidence').length).toBeGreaterThanOrEqual(1);
    // Told once per owner: after the rebalance the hot partition has a new owner, which is news.
    expect(s.timeline.filter((e) => e.text.startsWith('Hot partition user-events-1')).map((e) => e.text.split('owned by ')[1])).toEqual([
      'a-2 on 10.0.1.15.',
      'b-2 on 10.0.1.15.',
    ]);
    expect(s.timeline.find((e) => e.kind === 'rebalance')?.text).toBe('Rebalance seen: group state Stable → PreparingRebalance.');
    expect(s.timeline.find((e) => e.kind === 'members-changed')?.text).toBe(
      'Members changed: 2 → 2 members; joined: b-1, b-2; left: a-1, a-2.',
    );
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

describe('buttons', () => {
  it('acknowledge records who and when; a repeated click changes nothing and says so', () => {
    const s = openedAtWarning();
    const first = s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(first.rootChanged).toBe(true);
    expect(first.timeline[0]).toMatchObject({ kind: 'acknowledged', user: 'U0SRE' });
    const again = s.click({ kind: 'acknowledge', user: 'U0OTHER' });
    expect(again.timeline).toEqual([]);
    expect(again.notice).toEqual({ text: 'Already acknowledged by {user}; nothing changed.', user: 'U0SRE' });
    expect(s.incident?.acknowledged?.by).toBe('U0SRE');
  });

  it('snooze silences re-notification until it ends', () => {
    const s = new Scenario();
    s.checks([2_500_000]);
    s.click({ kind: 'snooze', user: 'U0SRE', forMs: 30 * MIN });
    s.checks(Array(checksFor(29 * MIN)).fill(2_500_000));
    expect(s.timeline.filter((e) => e.kind === 'renotified')).toHaveLength(0);
    s.checks(Array(checksFor(2 * MIN)).fill(2_500_000));
    expect(s.kinds()).toContain('snooze-ended');
    expect(s.timeline.filter((e) => e.kind === 'renotified')).toHaveLength(1);
  });

  it('an escalation above the snoozed severity ends the snooze', () => {
    const s = openedAtWarning();
    s.click({ kind: 'snooze', user: 'U0SRE', forMs: 120 * MIN });
    s.checks([2_500_000]);
    expect(s.incident?.snoozed).toBeNull();
    expect(s.timeline.at(-1)).toMatchObject({ kind: 'escalated', mention: true });
    expect(s.timeline.at(-1)?.text).toContain('Snooze ended by the escalation.');
  });

  it('a shorter snooze inside a longer one changes nothing', () => {
    const s = openedAtWarning();
    s.click({ kind: 'snooze', user: 'U0SRE', forMs: 120 * MIN });
    expect(s.click({ kind: 'snooze', user: 'U0B', forMs: 30 * MIN }).notice?.text).toContain('Already snoozed');
  });

  it('resolve by hand closes with a summary; later clicks say it is already resolved', () => {
    const s = openedAtWarning();
    const resolved = s.click({ kind: 'resolve', user: 'U0SRE' });
    expect(resolved.incident?.status).toBe('resolved');
    expect(resolved.timeline[0]).toMatchObject({ kind: 'resolved', user: 'U0SRE', summary: { resolvedBy: 'U0SRE', acknowledged: null } });
    for (const input of [{ kind: 'acknowledge', user: 'U1' }, { kind: 'snooze', user: 'U1', forMs: MIN }, { kind: 'resolve', user: 'U1' }] as const) {
      const late = s.click(input);
      expect(late.timeline).toEqual([]);
      expect(late.notice).toEqual({ text: 'Already resolved by {user}; nothing changed.', user: 'U0SRE' });
    }
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
