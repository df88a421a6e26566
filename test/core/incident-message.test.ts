import { describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import { DEFAULT_INCIDENT_SETTINGS, type ImpactSummary, type IncidentSettings, type TimelineEntry, type TimelineEvent, type TimelineKind } from '../../src/core/incident.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import {
  effectsOf,
  incidentRootMessage,
  monitoringMessage,
  noticeText,
  slackEffectsOf,
  timelineMessage,
} from '../../src/views/incident-message.js';
import { mentionOf } from '../../src/views/text-style.js';
import { reasonText, timelineText } from '../../src/views/timeline-text.js';
import { Scenario, T0, ramp, hotPartitionChangingOwner } from '../support/scripted.js';
import { readable } from '../support/readable.js';

/**
 * The wording of incidents: structured timeline entries and notices in, sentences and
 * Slack messages out. The state machine's own tests (incident.test.ts) assert structure.
 */

const MIN = 60_000;

/** `oncall: [S0ONCALL, U0LEAD]`, the short form of a one-level policy. */
const ONCALL: IncidentSettings = { ...DEFAULT_INCIDENT_SETTINGS, escalation: { startsAt: 'page', repeat: null, levels: [{ notify: ['S0ONCALL', 'U0LEAD'], waitMs: 15 * MIN }] } };

function pagedIncident() {
  const s = new Scenario(DEFAULT_RULES, ONCALL);
  s.checks(ramp(51_000, 90_000, 11));
  s.checks([2_500_000]);
  return s;
}

/** An entry as the state machine stamps it. */
const entry = (event: TimelineEvent, at = T0, mention = false): TimelineEntry => ({ ...event, at, mention }) as TimelineEntry;

const summary = (overrides: Partial<ImpactSummary> = {}): ImpactSummary => ({
  group: 'user-events-consumer',
  peakLag: 4_200_000,
  peakLagAt: T0 + 6 * MIN,
  peakSeverity: 'page',
  openedAt: T0,
  resolvedAt: T0 + 72 * MIN,
  acknowledged: null,
  resolvedBy: null,
  consumeBefore: 1_200,
  consumeAfter: 3_400,
  ...overrides,
});

describe('incident root message', () => {
  it('shows severity, lag with trend, hot partition, outlook and the buttons', () => {
    const s = pagedIncident();
    const message = incidentRootMessage(s.incident!);
    const text = readable(message);
    expect(message.text).toContain(':rotating_light: PAGE: consumer lag 2,500,000 on `user-events-consumer`');
    expect(text).toContain('PAGE · consumer lag · user-events-consumer');
    expect(text).toMatch(/\*Total lag\*\n2,500,000 :chart_with_upwards_trend: \+/);
    expect(text).toContain('*Acknowledged*\nnot yet');
    const buttons = JSON.stringify(message.blocks);
    for (const id of [ActionIds.acknowledgeIncident, ActionIds.snoozeIncidentShort, ActionIds.snoozeIncidentLong, ActionIds.resolveIncident]) {
      expect(buttons).toContain(id);
    }
    expect(buttons).toContain(s.incident!.id);
  });

  it('shows who acknowledged, and once resolved offers only the postmortem', () => {
    const s = pagedIncident();
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(readable(incidentRootMessage(s.incident!))).toContain('*Acknowledged*\n<@U0SRE> at 03:06:00 UTC');
    s.click({ kind: 'resolve', user: 'U0SRE' });
    const resolved = incidentRootMessage(s.incident!);
    expect(resolved.text).toContain('RESOLVED');
    const actions = resolved.blocks.filter((b) => b.type === 'actions');
    expect(actions.flatMap((b) => b.elements.map((e) => ('action_id' in e ? e.action_id : null)))).toEqual([ActionIds.postmortemIncident]);
    expect(JSON.stringify(actions)).toContain(`"value":"${s.incident!.id}"`);
  });

  it('leads the hot partition owner with client id and host, says "no lag" when there is none, and names the doubling rule in the outlook', () => {
    const s = pagedIncident();
    const base = s.incident!;
    const owner = { memberId: 'consumer-2-7f0c8a1e-4b1d-4c6e-9a3f-1d2e3f4a5b6c', clientId: 'consumer-2', host: '10.0.1.15' };
    const hot = readable(incidentRootMessage({ ...base, figures: { ...base.figures, hotPartition: { topic: 'user-events', partition: 1, lag: 5, share: 0.9, owner } } }));
    expect(hot).toContain('*Hot partition*\nuser-events-1 (90%, 5)\nconsumer-2 @ 10.0.1.15');
    expect(hot).not.toContain(owner.memberId);
    const caughtUp = readable(incidentRootMessage({ ...base, figures: { ...base.figures, totalLag: 0, hotPartition: null, drainMs: 0 } }));
    expect(caughtUp).toContain('*Hot partition*\nnone (no lag)');
    const spread = readable(incidentRootMessage({ ...base, figures: { ...base.figures, totalLag: 900, hotPartition: null } }));
    expect(spread).toContain('*Hot partition*\nnone (lag is spread)');
    const doubling = { severity: 'critical' as const, lag: 120_000, inMs: 60_000, rule: 'doubling' as const };
    const outlook = readable(incidentRootMessage({ ...base, figures: { ...base.figures, drainMs: null, nextThreshold: doubling } }));
    expect(outlook).toContain('*Outlook*\nCRITICAL (lag doubles to 120,000) in ~1 min');
  });

  it('keeps Slack formatting characters of a group name out of the fallback text as well', () => {
    const s = pagedIncident();
    const message = incidentRootMessage({ ...s.incident!, group: '*bold*_x_' });
    expect(message.text).toContain('on `*bold*_x_`');
    expect(message.text.replace(/`[^`]*`|:[a-z_]+:/g, '')).not.toMatch(/[*_]/);
  });

  it('escapes Kafka-derived names', () => {
    const s = pagedIncident();
    for (const owner of [
      { memberId: '<@U1>', clientId: null, host: '<x>' },
      { memberId: 'm-1', clientId: '<!everyone>', host: null },
    ]) {
      const evil = { ...s.incident!, group: '<!channel>', figures: { ...s.incident!.figures, hotPartition: { topic: '<!here>', partition: 1, lag: 5, share: 0.9, owner } } };
      const text = readable(incidentRootMessage(evil));
      expect(text).not.toMatch(/<!channel>|<!here>|<@U1>|<x>|<!everyone>/);
      expect(text).toContain('&lt;!here&gt;-1');
    }
  });
});

describe('the root message and its people', () => {
  it('offers Add responder and Reassign while open, and shows the assignee and the responders', () => {
    const s = pagedIncident();
    const buttons = JSON.stringify(incidentRootMessage(s.incident!).blocks);
    expect(buttons).toContain(ActionIds.addResponder);
    expect(buttons).toContain(ActionIds.reassignIncident);
    s.click({ kind: 'reassign', user: 'U0MARIA', assignee: 'U0BOB' });
    s.click({ kind: 'add-responders', user: 'U0BOB', responders: ['U0DBA', 'U0NET'] });
    const text = readable(incidentRootMessage(s.incident!));
    expect(text).toContain('*Assignee*\n<@U0BOB> (by <@U0MARIA> at 03:06:00 UTC)');
    expect(text).toContain('Responders: <@U0DBA>, <@U0NET>');
    s.click({ kind: 'resolve', user: 'U0BOB' });
    const resolved = JSON.stringify(incidentRootMessage(s.incident!).blocks);
    expect(resolved).not.toContain(ActionIds.addResponder);
    expect(resolved).not.toContain(ActionIds.reassignIncident);
  });
});

describe('timeline messages', () => {
  it('stamp the time and mention people only in the entry that notifies them, with why', () => {
    const s = pagedIncident();
    const escalated = s.timeline.find((e) => e.kind === 'escalated')!;
    expect(timelineMessage(escalated).text).not.toContain('subteam');
    const notified = s.timeline.find((e) => e.kind === 'notified')!;
    expect(timelineMessage(notified).text).toBe(
      '`03:05:30 UTC` :loudspeaker: Notified <!subteam^S0ONCALL>, <@U0LEAD> (level 1 of 1, round 1): the incident paged; total lag 2,500,000.',
    );
    expect(timelineMessage(s.timeline[0]!).text).not.toContain('subteam');
  });

  it("escape Slack's control characters in the sentence itself, not only in names", () => {
    // Slack reads &, < and > as markup; a reason's "lag > line" must reach it as &gt;.
    const s = pagedIncident();
    const escalated = s.timeline.find((e) => e.kind === 'escalated')!;
    const message = timelineMessage(escalated);
    expect(message.text).toBe('`03:05:30 UTC` :arrow_up: Escalated to PAGE: total lag 2,500,000 &gt; 2,000,000.');
  });

  it('render a re-notification stored before escalation policies as it was told', () => {
    const message = timelineMessage(entry({ kind: 'renotified', openForMs: 15 * MIN, lag: 2_600_000, growthPerSec: 120 }, T0, true));
    expect(message.text).toBe('`03:00:00 UTC` :loudspeaker: Still paging, unacknowledged for 15 min: total lag 2,600,000 (+120/s).');
  });

  it('say when the policy stopped, and who brought people in, with live mentions', () => {
    const stopped = timelineMessage(entry({ kind: 'escalation-stopped', levels: 2, rounds: 1, afterMs: 10 * MIN }));
    expect(stopped.text).toBe(
      '`03:00:00 UTC` :no_bell: Escalation policy stopped: 1 round of 2 levels went unacknowledged (the last level waited 10 min); no one else is notified unless the incident escalates.',
    );
    const added = timelineMessage(entry({ kind: 'notified', notify: ['U0DBA', 'S0NET'], reason: { kind: 'responder-added', by: 'U0MARIA' }, position: null, lag: 10 }, T0, true));
    expect(added.text).toBe('`03:00:00 UTC` :loudspeaker: Notified <@U0DBA>, <!subteam^S0NET>: added as responders by <@U0MARIA>.');
  });

  it('renders the user of a click as a mention and Kafka text escaped', () => {
    const acked = timelineMessage(entry({ kind: 'acknowledged', user: 'U0SRE', severity: 'warning', afterMs: MIN }));
    expect(acked.text).toContain('Acknowledged by <@U0SRE> at WARNING, 1 min after opening.');
    const members = timelineMessage(entry({ kind: 'members-changed', before: 1, after: 2, joined: ['<!here>'], left: [] }));
    expect(members.text).toContain('Members changed: 1 → 2 members; joined: `&lt;!here&gt;`.');
    expect(members.text).not.toContain('<!here>');
    const hot = timelineMessage(
      entry({ kind: 'evidence', finding: { kind: 'hot-partition', topic: '<!channel>', partition: 1, lag: 9, share: 0.9, totalLag: 10, owner: { memberId: '<@U1>', clientId: null, host: '<x>' } } }),
    );
    expect(readable(hot)).not.toMatch(/<!channel>|<@U1>|<x>/);
  });

  it('ends with an impact summary on resolve', () => {
    const s = pagedIncident();
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    s.click({ kind: 'resolve', user: 'U0SRE' });
    const resolved = s.timeline.find((e) => e.kind === 'resolved')!;
    const text = readable(timelineMessage(resolved));
    expect(text).toContain('Resolved by <@U0SRE>. Lag at resolution: 2,500,000.');
    expect(text).toContain('*Impact*');
    expect(text).toContain('*Peak lag*\n2,500,000 at 03:05:30 UTC');
    expect(text).toContain('*Peak severity*\nPAGE');
    expect(text).toContain('*Time to acknowledge*\n1 min (<@U0SRE>)');
    expect(text).toContain('*Time to resolve*\n1 min (by <@U0SRE>)');
  });

  it('summarise an automatic resolve that nobody acknowledged', () => {
    const message = timelineMessage(entry({ kind: 'resolved', by: null, cause: { auto: true, line: 50_000, underForMs: 5 * MIN, lag: 10_000 }, summary: summary() }));
    const text = readable(message);
    expect(text).toContain('*Time to acknowledge*\nnever acknowledged');
    expect(text).toContain('*Time to resolve*\n1 h 12 min (automatically)');
    expect(text).toContain('*Consume rate*\n+1,200/s → +3,400/s');
    expect(text).toContain('*Window*\n03:00:00 UTC → 04:12:00 UTC');
  });

  it('maps on-call entries to Slack mention syntax', () => {
    expect(['S0A', 'U0B', 'W0C', 'here'].map(mentionOf)).toEqual(['<!subteam^S0A>', '<@U0B>', '<@W0C>', '<!here>']);
  });
});

/** One sentence per kind, with the figures of the state machine's scenarios. */
describe('timeline sentences', () => {
  const SENTENCES: Record<TimelineKind, Array<[TimelineEvent, string]>> = {
    opened: [
      [
        { kind: 'opened', severity: 'warning', reasons: [{ rule: 'growing', lag: 90_000, line: 50_000, forMs: 5 * MIN }] },
        'Opened at WARNING: total lag 90,000 > 50,000 and growing for 5 min.',
      ],
      [
        { kind: 'opened', severity: 'page', reasons: [{ rule: 'critical-line', lag: 600_000, line: 500_000 }, { rule: 'raised', finding: 'rebalance-storm', severity: 'page' }] },
        'Opened at PAGE: total lag 600,000 > 500,000; rebalance storm raises severity to page.',
      ],
    ],
    escalated: [
      [
        { kind: 'escalated', severity: 'page', reasons: [{ rule: 'page-line', lag: 2_500_000, line: 2_000_000 }], lag: 2_500_000, wasAcknowledgedAt: null, snoozeEnded: false },
        'Escalated to PAGE: total lag 2,500,000 > 2,000,000.',
      ],
      [
        { kind: 'escalated', severity: 'page', reasons: [{ rule: 'page-line', lag: 2_500_000, line: 2_000_000 }], lag: 2_500_000, wasAcknowledgedAt: 'critical', snoozeEnded: false },
        'Escalated to PAGE: total lag 2,500,000 > 2,000,000 (was acknowledged at CRITICAL; needs a new acknowledgement).',
      ],
      [
        { kind: 'escalated', severity: 'page', reasons: [{ rule: 'page-line', lag: 2_500_000, line: 2_000_000 }], lag: 2_500_000, wasAcknowledgedAt: null, snoozeEnded: true },
        'Escalated to PAGE: total lag 2,500,000 > 2,000,000. Snooze ended by the escalation.',
      ],
      [
        // Over the line without a rule firing: the incident keeps a warning, and says the lag.
        { kind: 'escalated', severity: 'warning', reasons: [], lag: 90_000, wasAcknowledgedAt: null, snoozeEnded: false },
        'Escalated to WARNING: total lag 90,000.',
      ],
    ],
    deescalated: [
      [
        { kind: 'deescalated', severity: 'warning', from: 'critical', lag: 400_000, belowForMs: 2 * MIN },
        'De-escalated to WARNING: total lag 400,000, below the CRITICAL line for 2 min.',
      ],
    ],
    evidence: [
      [
        { kind: 'evidence', finding: { kind: 'stalled', topic: 'user-events', partition: 1, sinceMs: 6 * MIN, arrived: 42_000, owner: { memberId: 'consumer-2-def456', clientId: 'consumer-2', host: '10.0.1.15' } } },
        'Consumer stalled on user-events-1 (owner consumer-2 on 10.0.1.15): the committed offset has not moved for 6 min while 42,000 messages arrived.',
      ],
    ],
    rebalance: [[{ kind: 'rebalance', from: 'Stable', to: 'PreparingRebalance' }, 'Rebalance seen: group state Stable → PreparingRebalance.']],
    'members-changed': [
      [{ kind: 'members-changed', before: 2, after: 2, joined: ['b-1', 'b-2'], left: ['a-1', 'a-2'] }, 'Members changed: 2 → 2 members; joined: b-1, b-2; left: a-1, a-2.'],
      [{ kind: 'members-changed', before: 0, after: 5, joined: ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'], left: [] }, 'Members changed: 0 → 5 members; joined: m-1, m-2, m-3 and 2 more.'],
    ],
    acknowledged: [[{ kind: 'acknowledged', user: 'U0SRE', severity: 'warning', afterMs: 30_000 }, 'Acknowledged by @U0SRE at WARNING, 30s after opening.']],
    snoozed: [[{ kind: 'snoozed', user: 'U0SRE', forMs: 30 * MIN }, 'Snoozed by @U0SRE for 30 min: no re-notification until then unless it escalates.']],
    'snooze-ended': [[{ kind: 'snooze-ended', user: 'U0SRE' }, 'Snooze by @U0SRE ended.']],
    refused: [
      [{ kind: 'refused', user: 'U0MARIA', action: 'resolve', rule: 'access.resolve', unreadable: false }, '@U0MARIA tried to resolve; not allowed (access.resolve).'],
      [
        { kind: 'refused', user: 'U0MARIA', action: 'snooze', rule: 'groups[0] (match "payments-*") access.snooze', unreadable: true },
        '@U0MARIA tried to snooze; refused: lagbot could not read from Slack whether they are among those groups[0] (match "payments-*") access.snooze allows.',
      ],
    ],
    recovering: [
      [
        { kind: 'recovering', lag: 30_000, line: 50_000, resolveAfterMs: 5 * MIN },
        'Recovering: total lag 30,000 is back under 50,000; resolving after 5 min under the line.',
      ],
    ],
    relapsed: [[{ kind: 'relapsed', lag: 60_000, line: 50_000 }, 'Lag back over 50,000 (60,000): not resolving.']],
    silenced: [
      [
        { kind: 'silenced', by: 'U0SRE', until: T0 + 120 * MIN, reason: 'partition increase', target: { kind: 'groups', pattern: 'payments-*', cluster: null } },
        `Silenced by @U0SRE until ${new Date(T0 + 120 * MIN).toISOString().slice(11, 19)} UTC (the groups matching payments-*): partition increase. The timeline goes on; nobody is mentioned until then.`,
      ],
      [
        { kind: 'silenced', by: 'U0SRE', until: T0 + 30 * MIN, reason: null, target: { kind: 'cluster', cluster: 'prod-eu' } },
        `Silenced by @U0SRE until ${new Date(T0 + 30 * MIN).toISOString().slice(11, 19)} UTC (every group on prod-eu). The timeline goes on; nobody is mentioned until then.`,
      ],
    ],
    'silence-ended': [
      [{ kind: 'silence-ended', by: 'U0SRE', endedBy: null, notified: false }, 'Silence by @U0SRE is over. Notifications are back on.'],
      [{ kind: 'silence-ended', by: 'U0SRE', endedBy: 'U0MARIA', notified: true }, 'Silence by @U0SRE ended early by @U0MARIA. Still unacknowledged: the escalation policy starts again from its first level.'],
    ],
    notified: [
      [
        { kind: 'notified', notify: ['S0ONCALL'], reason: { kind: 'started', severity: 'page' }, position: { level: 1, levels: 2, round: 1, rounds: 3 }, lag: 2_100_000 },
        'Notified @S0ONCALL (level 1 of 2, round 1 of 3): the incident paged; total lag 2,100,000.',
      ],
      [
        { kind: 'notified', notify: ['S0ONCALL'], reason: { kind: 'started', severity: 'critical' }, position: { level: 1, levels: 1, round: 1, rounds: 1 }, lag: 600_000 },
        'Notified @S0ONCALL (level 1 of 1, round 1 of 1): the incident reached CRITICAL; total lag 600,000.',
      ],
      [
        { kind: 'notified', notify: ['U0LEAD', 'here'], reason: { kind: 'no-acknowledgement', afterMs: 5 * MIN }, position: { level: 2, levels: 2, round: 1, rounds: 3 }, lag: 2_600_000, staleness: { seconds: 45, method: 'exact' } },
        'Notified @U0LEAD, @here (level 2 of 2, round 1 of 3): no acknowledgement after 5 min; total lag 2,600,000; staleness 45s (exact).',
      ],
      [
        { kind: 'notified', notify: ['S0ONCALL'], reason: { kind: 'no-acknowledgement', afterMs: 15 * MIN }, position: { level: 1, levels: 1, round: 4, rounds: null }, lag: 2_600_000 },
        'Notified @S0ONCALL (level 1 of 1, round 4): no acknowledgement after 15 min; total lag 2,600,000.',
      ],
      [
        { kind: 'notified', notify: ['S0ONCALL'], reason: { kind: 'restarted', severity: 'page' }, position: { level: 1, levels: 2, round: 1, rounds: 1 }, lag: 2_500_000 },
        'Notified @S0ONCALL (level 1 of 2, round 1 of 1): restarted after escalation to PAGE; total lag 2,500,000.',
      ],
      [
        { kind: 'notified', notify: ['S0ONCALL'], reason: { kind: 'silence-ended' }, position: { level: 1, levels: 1, round: 1, rounds: null }, lag: 2_500_000 },
        'Notified @S0ONCALL (level 1 of 1, round 1): the silence ended, the policy starts again; total lag 2,500,000.',
      ],
      [{ kind: 'notified', notify: ['U0DBA'], reason: { kind: 'responder-added', by: 'U0MARIA' }, position: null, lag: 5 }, 'Notified @U0DBA: added as responder by @U0MARIA.'],
      [{ kind: 'notified', notify: ['U0BOB'], reason: { kind: 'reassigned', by: 'U0MARIA', from: null }, position: null, lag: 5 }, 'Notified @U0BOB: reassigned to them by @U0MARIA.'],
      [{ kind: 'notified', notify: ['U0ANA'], reason: { kind: 'reassigned', by: 'U0BOB', from: 'U0BOB' }, position: null, lag: 5 }, 'Notified @U0ANA: reassigned to them by @U0BOB (was @U0BOB).'],
    ],
    'escalation-stopped': [
      [
        { kind: 'escalation-stopped', levels: 2, rounds: 3, afterMs: 10 * MIN },
        'Escalation policy stopped: 3 rounds of 2 levels went unacknowledged (the last level waited 10 min); no one else is notified unless the incident escalates.',
      ],
      [
        { kind: 'escalation-stopped', levels: 1, rounds: 1, afterMs: 15 * MIN },
        'Escalation policy stopped: 1 round of 1 level went unacknowledged (the last level waited 15 min); no one else is notified unless the incident escalates.',
      ],
    ],
    renotified: [
      [{ kind: 'renotified', openForMs: 15 * MIN, lag: 2_600_000, growthPerSec: 120 }, 'Still paging, unacknowledged for 15 min: total lag 2,600,000 (+120/s).'],
      [{ kind: 'renotified', openForMs: 75 * MIN, lag: null, growthPerSec: null }, 'Still paging, unacknowledged for 1 h 15 min: total lag - (unknown).'],
    ],
    resolved: [
      [
        { kind: 'resolved', by: null, cause: { auto: true, line: 50_000, underForMs: 5 * MIN, lag: 10_000 }, summary: summary() },
        'Resolved: lag under 50,000 for 5 min (now 10,000).',
      ],
      [
        { kind: 'resolved', by: 'U0SRE', cause: { auto: false, lag: 90_000 }, summary: summary({ resolvedBy: 'U0SRE' }) },
        'Resolved by @U0SRE. Lag at resolution: 90,000.',
      ],
    ],
  };

  for (const [kind, cases] of Object.entries(SENTENCES)) {
    it(`${kind}`, () => {
      for (const [event, sentence] of cases) expect(timelineText(event)).toBe(sentence);
    });
  }

  it('each reason reads as the rule and its figures', () => {
    expect(reasonText({ rule: 'page-line', lag: 2_500_000, line: 2_000_000 })).toBe('total lag 2,500,000 > 2,000,000');
    expect(reasonText({ rule: 'doubled', from: 60_000, to: 130_000, withinMs: 10 * MIN })).toBe('lag doubled within 10 min (60,000 → 130,000)');
    expect(reasonText({ rule: 'growing', lag: 90_000, line: 50_000, forMs: 5 * MIN })).toBe('total lag 90,000 > 50,000 and growing for 5 min');
    expect(reasonText({ rule: 'raised', finding: 'no-committed-offset', severity: 'critical' })).toBe('no committed offset raises severity to critical');
  });
});

/** The sentences of whole scenarios: what the state machine decides, as the thread reads it. */
describe('the thread of a scenario', () => {
  it('reads the opening, the escalation, the de-escalation and the resolve', () => {
    const s = new Scenario();
    s.checks(ramp(51_000, 90_000, 11));
    expect(timelineText(s.timeline[0]!)).toBe('Opened at WARNING: total lag 90,000 > 50,000 and growing for 5 min.');
    s.checks([600_000, 2_500_000]);
    expect(timelineText(s.timeline.at(-1)!)).toBe('Escalated to PAGE: total lag 2,500,000 > 2,000,000.');
    s.checks([30_000, ...Array(10).fill(10_000)]);
    expect(s.timeline.slice(-2).map((e) => timelineText(e))).toEqual([
      'Recovering: total lag 30,000 is back under 50,000; resolving after 5 min under the line.',
      'Resolved: lag under 50,000 for 5 min (now 10,000).',
    ]);

    const lower = new Scenario();
    lower.checks([600_000, 400_000, 400_000, 400_000, 400_000, 400_000]);
    expect(timelineText(lower.timeline.at(-1)!)).toBe('De-escalated to WARNING: total lag 400,000, below the CRITICAL line for 2 min.');
  });

  it('tells the hot partition per owner, the rebalance and the member change', () => {
    const s = hotPartitionChangingOwner();
    const lines = s.timeline.map((e) => timelineText(e));
    expect(lines.filter((l) => l.startsWith('Hot partition user-events-1')).map((l) => l.split('Owner: ')[1])).toEqual([
      'a-2 on 10.0.1.15 (member a-2).',
      'b-2 on 10.0.1.15 (member b-2).',
    ]);
    expect(lines).toContain('Rebalance seen: group state Stable → PreparingRebalance.');
    expect(lines).toContain('Members changed: 2 → 2 members; joined: b-1, b-2; left: a-1, a-2.');
  });

  it('says what an acknowledged escalation and an escalation past a snooze mean', () => {
    const acked = new Scenario();
    acked.checks([...ramp(51_000, 90_000, 11), 600_000]);
    acked.click({ kind: 'acknowledge', user: 'U0SRE' });
    acked.checks([2_500_000]);
    expect(timelineText(acked.timeline.at(-1)!)).toContain('was acknowledged at CRITICAL; needs a new acknowledgement');

    const snoozed = new Scenario();
    snoozed.checks(ramp(51_000, 90_000, 11));
    snoozed.click({ kind: 'snooze', user: 'U0SRE', forMs: 120 * MIN });
    snoozed.checks([2_500_000]);
    expect(timelineText(snoozed.timeline.at(-1)!)).toContain('Snooze ended by the escalation.');
  });
});

describe('click notices', () => {
  it('say who already acknowledged, snoozed or resolved, as a mention', () => {
    const s = new Scenario();
    s.checks(ramp(51_000, 90_000, 11));
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(noticeText(s.click({ kind: 'acknowledge', user: 'U0OTHER' }).notice!)).toBe('Already acknowledged by <@U0SRE>; nothing changed.');
    s.click({ kind: 'snooze', user: 'U0SRE', forMs: 120 * MIN });
    expect(noticeText(s.click({ kind: 'snooze', user: 'U0B', forMs: 30 * MIN }).notice!)).toBe('Already snoozed by <@U0SRE> until then or later; nothing changed.');
    s.click({ kind: 'resolve', user: 'U0SRE' });
    expect(noticeText(s.click({ kind: 'resolve', user: 'U1' }).notice!)).toBe('Already resolved by <@U0SRE>; nothing changed.');
  });

  it('say who the incident is already assigned to', () => {
    expect(noticeText({ kind: 'already-assigned', to: 'U0BOB' })).toBe('Already assigned to <@U0BOB>; nothing changed.');
  });

  it('say when an incident resolved by itself or no longer exists', () => {
    expect(noticeText({ kind: 'already-resolved', by: null })).toBe('Already resolved automatically; nothing changed.');
    expect(noticeText({ kind: 'no-such-incident' })).toBe('This incident no longer exists.');
  });
});

describe('monitoring notices', () => {
  it('say that lagbot cannot read Kafka, with the error escaped, and that it can again', () => {
    const degraded = monitoringMessage('default', { kind: 'degraded', failures: 3, error: 'Cannot reach <k:9092>' });
    expect(degraded.text).toBe(
      ':warning: Monitoring degraded: 3 checks in a row could not read Kafka (Cannot reach &lt;k:9092&gt;). lagbot opens and resolves no incidents until it can read Kafka again.',
    );
    expect(monitoringMessage('default', { kind: 'recovered', groups: 12 }).text).toBe(':white_check_mark: Monitoring recovered: Kafka answers again; 12 groups read.');
  });

  it('name the cluster when it has a name of its own', () => {
    expect(monitoringMessage('prod-eu', { kind: 'degraded', failures: 3, error: 'timeout' }).text).toBe(
      ':warning: Monitoring degraded on prod-eu: 3 checks in a row could not read Kafka (timeout). lagbot opens and resolves no incidents on prod-eu until it can read Kafka again.',
    );
    expect(monitoringMessage('prod-eu', { kind: 'recovered', groups: 2 }).text).toBe(':white_check_mark: Monitoring recovered on prod-eu: Kafka answers again; 2 groups read.');
  });
});

describe('effects of a step', () => {
  it('posts the root first, then the thread entries; later steps edit the root', () => {
    const s = new Scenario();
    const opened = s.check({ partitions: [{ committed: 0, logEnd: 700_000 }], members: 1 });
    expect(effectsOf(opened).map((e) => e.kind)).toEqual(['post-root', 'post-thread', 'post-file']);
    // A minute after the opening chart: no second chart for this escalation.
    const escalated = s.check({ partitions: [{ committed: 0, logEnd: 2_700_000 }], members: 1 });
    expect(effectsOf(escalated).map((e) => e.kind)).toEqual(['post-thread', 'update-root']);
  });

  it('posts a chart of the incident with its thresholds when it opens, and the whole incident when it resolves', () => {
    const s = new Scenario();
    const lines = [
      { severity: 'warning' as const, lag: 50_000 },
      { severity: 'critical' as const, lag: 500_000 },
    ];
    const opened = effectsOf(s.check({ partitions: [{ committed: 0, logEnd: 700_000 }], members: 1 }), lines).find((e) => e.kind === 'post-file');
    expect(opened).toMatchObject({
      kind: 'post-file',
      incidentId: 'inc-1',
      channel: 'C0ALERTS',
      file: { kind: 'chart', title: 'Lag of user-events-consumer: CRITICAL opened', chart: { group: 'user-events-consumer', thresholds: lines, points: [{ lag: 700_000 }] } },
    });
    expect(opened?.kind === 'post-file' && opened.file.filename).toMatch(/^lag-user-events-consumer-\d{8}-\d{4}\.png$/);
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    const resolved = effectsOf(s.click({ kind: 'resolve', user: 'U0SRE' }), lines).find((e) => e.kind === 'post-file');
    expect(resolved?.kind === 'post-file' && resolved.file.title).toBe('Lag of user-events-consumer: the whole incident, resolved');
    const chart = resolved?.kind === 'post-file' && resolved.file.kind === 'chart' ? resolved.file.chart : null;
    expect(chart?.marks.map((m) => m.kind)).toEqual(['opened', 'acknowledged', 'resolved']);
  });

  it('a click that changed nothing has no effects', () => {
    const s = new Scenario();
    s.checks([700_000]);
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(effectsOf(s.click({ kind: 'acknowledge', user: 'U0B' }))).toEqual([]);
  });

  it('the monitor effects become incident messages and channel notices', () => {
    const s = new Scenario();
    const opened = s.check({ partitions: [{ committed: 0, logEnd: 700_000 }], members: 1 });
    const effects = slackEffectsOf([
      { kind: 'incident', step: opened },
      { kind: 'monitoring', cluster: 'default', channel: 'C0ALERTS', change: { kind: 'recovered', groups: 1 } },
    ]);
    expect(effects.map((e) => [e.kind, e.channel])).toEqual([
      ['post-root', 'C0ALERTS'],
      ['post-thread', 'C0ALERTS'],
      ['post-file', 'C0ALERTS'],
      ['post-channel', 'C0ALERTS'],
    ]);
    expect(effects[3]?.kind === 'post-channel' && effects[3].message).toEqual(monitoringMessage('default', { kind: 'recovered', groups: 1 }));
  });
});
