import { describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import { effectsOf, incidentRootMessage, mentionOf, timelineMessage } from '../../src/views/incident-message.js';
import { Scenario, ramp } from '../support/scripted.js';
import { readable } from '../support/slack.js';

function pagedIncident() {
  const s = new Scenario();
  s.checks(ramp(51_000, 90_000, 11));
  s.checks([2_500_000]);
  return s;
}

describe('incident root message', () => {
  it('shows severity, lag with trend, hot partition, outlook and the buttons', () => {
    const s = pagedIncident();
    const message = incidentRootMessage(s.incident!);
    const text = readable(message);
    expect(message.text).toContain(':rotating_light: PAGE: consumer lag 2,500,000 on user-events-consumer');
    expect(text).toContain('PAGE · consumer lag · user-events-consumer');
    expect(text).toMatch(/\*Total lag\*\n2,500,000 :chart_with_upwards_trend: \+/);
    expect(text).toContain('*Acknowledged*\nnot yet');
    const buttons = JSON.stringify(message.blocks);
    for (const id of [ActionIds.acknowledgeIncident, ActionIds.snoozeIncidentShort, ActionIds.snoozeIncidentLong, ActionIds.resolveIncident]) {
      expect(buttons).toContain(id);
    }
    expect(buttons).toContain(s.incident!.id);
  });

  it('shows who acknowledged, and drops the buttons once resolved', () => {
    const s = pagedIncident();
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    expect(readable(incidentRootMessage(s.incident!))).toContain('*Acknowledged*\n<@U0SRE> at 03:06:00 UTC');
    s.click({ kind: 'resolve', user: 'U0SRE' });
    const resolved = incidentRootMessage(s.incident!);
    expect(resolved.text).toContain('RESOLVED');
    expect(resolved.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('escapes Kafka-derived names', () => {
    const s = pagedIncident();
    const evil = { ...s.incident!, group: '<!channel>', figures: { ...s.incident!.figures, hotPartition: { topic: '<!here>', partition: 1, lag: 5, share: 0.9, memberId: '<@U1>', host: '<x>' } } };
    const text = readable(incidentRootMessage(evil));
    expect(text).not.toMatch(/<!channel>|<!here>|<@U1>|<x>/);
  });
});

describe('timeline messages', () => {
  it('stamp the time and mention on-call people only where the entry says so', () => {
    const s = pagedIncident();
    const escalated = s.timeline.find((e) => e.kind === 'escalated')!;
    const message = timelineMessage(escalated, ['S0ONCALL', 'U0LEAD']);
    expect(message.text).toMatch(/^`03:05:30 UTC` :arrow_up: Escalated to PAGE: total lag 2,500,000 &gt; 2,000,000\. <!subteam\^S0ONCALL> <@U0LEAD>$/);
    const opened = timelineMessage(s.timeline[0]!, ['S0ONCALL']);
    expect(opened.text).not.toContain('subteam');
  });

  it('renders the user of a click as a mention and Kafka text escaped', () => {
    const message = timelineMessage({ at: 0, kind: 'acknowledged', text: 'Acknowledged by {user} on <!here>', user: 'U0SRE', mention: false }, []);
    expect(message.text).toContain('Acknowledged by <@U0SRE> on &lt;!here&gt;');
  });

  it('ends with an impact summary on resolve', () => {
    const s = pagedIncident();
    s.click({ kind: 'acknowledge', user: 'U0SRE' });
    s.click({ kind: 'resolve', user: 'U0SRE' });
    const resolved = s.timeline.find((e) => e.kind === 'resolved')!;
    const text = readable(timelineMessage(resolved, []));
    expect(text).toContain('*Impact*');
    expect(text).toContain('*Peak lag*\n2,500,000 at 03:05:30 UTC');
    expect(text).toContain('*Peak severity*\nPAGE');
    expect(text).toContain('*Time to acknowledge*\n1 min (<@U0SRE>)');
    expect(text).toContain('*Time to resolve*\n1 min (by <@U0SRE>)');
  });

  it('maps on-call entries to Slack mention syntax', () => {
    expect(['S0A', 'U0B', 'W0C', 'here'].map(mentionOf)).toEqual(['<!subteam^S0A>', '<@U0B>', '<@W0C>', '<!here>']);
  });
});

describe('effects of a step', () => {
  it('posts the root first, then the thread entries; later steps edit the root', () => {
    const s = new Scenario();
    const opened = s.check({ partitions: [{ committed: 0, logEnd: 700_000 }], members: 1 });
    expect(effectsOf(opened, []).map((e) => e.kind)).toEqual(['post-root', 'post-thread']);
    const escalated = s.check({ partitions: [{ committed: 0, logEnd: 2_700_000 }], members: 1 });
    expect(effectsOf(escalated, []).map((e) => e.kind)).toEqual(['post-thread', 'update-root']);
  });
});
