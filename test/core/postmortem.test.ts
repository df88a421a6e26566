import { describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../src/core/incident.js';
import { postmortemFile, postmortemMarkdown, markdownCode } from '../../src/views/postmortem.js';
import { timelineText } from '../../src/views/timeline-text.js';
import { incidentFixture } from '../support/incident-fixture.js';
import { Scenario, T0, type GroupScript } from '../support/scripted.js';

const MIN = 60_000;

/**
 * The case study's night, scripted through the real history, rules and state machine:
 * partition 1 falls behind at 800/s, the incident pages, the on-call engineer acknowledges,
 * the fix lifts partition 1 to 14,200/s and lag drains until the incident resolves itself
 * (consumed as fast as produced, 1,000/s, once caught up).
 */
function caseStudyNight(): Scenario {
  const s = new Scenario();
  let consumed = 0;
  let produced = 0;
  const shape = (producePerCheck: number, consumePerCheck: number): GroupScript => {
    produced += producePerCheck;
    consumed = Math.min(produced, consumed + consumePerCheck);
    return {
      partitions: [
        { committed: 5_000, logEnd: 5_100 },
        { committed: consumed, logEnd: produced },
        { committed: 7_000, logEnd: 7_050 },
      ],
      members: 3,
    };
  };
  s.check(shape(50_000, 0));
  for (let i = 0; i < 12; i++) s.check(shape(30_000, 24_000)); // growing at 200/s past 50,000
  for (let i = 0; i < 4; i++) s.check(shape(800_000, 24_000)); // the spike: critical, then page
  s.click({ kind: 'acknowledge', user: 'U0SRE' });
  for (let i = 0; i < 30 && s.incident?.status === 'open'; i++) s.check(shape(30_000, 426_000)); // 14,200/s drains it
  return s;
}

const section = (markdown: string, title: string): string => {
  const start = markdown.indexOf(`## ${title}\n`);
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next === -1 ? undefined : next);
};

describe('postmortem draft', () => {
  const s = caseStudyNight();
  const incident = s.incident!;

  it('resolves in the scripted night, with acknowledgement, escalations and evidence', () => {
    expect(incident.status).toBe('resolved');
    expect(s.kinds()).toEqual(expect.arrayContaining(['opened', 'escalated', 'evidence', 'acknowledged', 'recovering', 'resolved']));
  });

  it('tells every timeline entry, in order, at its time in the configured zone', () => {
    const markdown = postmortemMarkdown(incident, s.timeline, { timeZone: 'Europe/Berlin', now: s.now });
    const timeline = section(markdown, 'Timeline');
    expect(timeline).toContain('Times in Europe/Berlin.');
    const lines = timeline.split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toHaveLength(s.timeline.length);
    s.timeline.forEach((entry, i) => {
      // T0 is 03:00 UTC in July: 05:00 in Berlin (CEST, UTC+2).
      const berlin = new Date(entry.at + 2 * 60 * MIN).toISOString().slice(11, 19);
      expect(lines[i]).toBe(`- **${berlin}** — ${timelineText(entry, { name: markdownCode, user: (id) => `@${id}` })}`);
    });
    expect(lines[0]).toBe('- **05:04:30** — Opened at CRITICAL: lag doubled within 10 min (50,150 → 104,150).');
    expect(markdown).toContain('opened 2024-07-23 05:04:30 (Europe/Berlin), resolved automatically after 13 min');
  });

  it('writes UTC by default, and the date before a time on another day than the opening', () => {
    const late = incidentFixture('inc-late', 'orders', { openedAt: Date.UTC(2024, 6, 23, 23, 50), status: 'open' });
    const entries: TimelineEntry[] = [
      { at: late.openedAt, mention: false, kind: 'opened', severity: 'warning', reasons: [] },
      { at: late.openedAt + 20 * MIN, mention: false, kind: 'acknowledged', user: 'U0SRE', severity: 'warning', afterMs: 20 * MIN },
    ];
    const markdown = postmortemMarkdown(late, entries, { timeZone: 'UTC', now: late.openedAt + 30 * MIN });
    expect(markdown).toContain('- **23:50:00** — Opened at WARNING');
    expect(markdown).toContain('- **2024-07-24 00:10:00** — Acknowledged by @U0SRE at WARNING, 20 min after opening.');
  });

  it('sums up the real-world impact: peak lag, staleness, duration, time to acknowledge and resolve, consume rates', () => {
    const resolved = s.timeline.find((e) => e.kind === 'resolved');
    if (resolved?.kind !== 'resolved') throw new Error('no resolved entry');
    const summary = resolved.summary;
    const impact = section(postmortemMarkdown(incident, s.timeline, { timeZone: 'UTC', now: s.now }), 'Real-World Impact');
    const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
    expect(summary.peakLag).toBe(incident.peakLag);
    expect(impact).toContain(`- **Peak lag:** ${incident.peakLag.toLocaleString('en-US')} messages (at ${clock(incident.peakLagAt)})`);
    expect(impact).toContain('- **Peak staleness:** not measured');
    expect(impact).toContain('- **Peak severity:** PAGE');
    const minutes = Math.round((summary.resolvedAt - incident.openedAt) / MIN);
    expect(impact).toContain(`- **Duration:** ${minutes} min (${clock(incident.openedAt)} → ${clock(summary.resolvedAt)})`);
    expect(impact).toContain(`- **Time to acknowledge:** ${Math.round(summary.acknowledged!.afterMs / MIN)} min (@U0SRE)`);
    expect(impact).toContain(`- **Time to resolve:** ${minutes} min (automatically)`);
    // Caught up, the partition is consumed as fast as it is produced to.
    expect(impact).toContain('- **Consume rate:** 800/s when it opened → 1,000/s at resolution');
  });

  it('shows the peak staleness when it was measured', () => {
    const resolved = s.timeline.find((e) => e.kind === 'resolved');
    if (resolved?.kind !== 'resolved') throw new Error('no resolved entry');
    const timeline = s.timeline.map((e) => (e === resolved ? { ...resolved, summary: { ...resolved.summary, peakLagSeconds: 45 } } : e));
    const impact = section(postmortemMarkdown(incident, timeline, { timeZone: 'UTC', now: s.now }), 'Real-World Impact');
    expect(impact).toContain('- **Peak staleness:** 45s');
    const open = { ...incident, status: 'open' as const, resolved: null, peakLagSeconds: 125 };
    expect(postmortemMarkdown(open, s.timeline.filter((e) => e.kind !== 'resolved'), { timeZone: 'UTC', now: s.now })).toContain('- **Peak staleness:** 2 min');
  });

  it('lists the findings told as root-cause candidates, and leaves the takeaways to fill', () => {
    const markdown = postmortemMarkdown(incident, s.timeline, { timeZone: 'UTC', now: s.now });
    const candidates = section(markdown, 'Root-cause candidates');
    const evidence = s.timeline.filter((e) => e.kind === 'evidence');
    expect(evidence.length).toBeGreaterThan(0);
    expect(candidates).toContain('- Hot partition `user-events-1` holds');
    expect(candidates.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(evidence.length);
    expect(section(markdown, 'Key takeaways')).toBe('## Key takeaways\n\n1. \n2. \n3. \n');
  });

  it('says so when there is no timeline or no finding, and drafts an open incident so far', () => {
    const open = incidentFixture('inc-old', 'orders', { openedAt: T0 });
    const markdown = postmortemMarkdown(open, [], { timeZone: 'UTC', now: T0 + 40 * MIN });
    expect(markdown).toContain('No timeline was kept for this incident');
    expect(markdown).toContain('lagbot told no finding during the incident');
    expect(markdown).toContain('still open after 40 min');
    expect(markdown).toContain('- **Duration:** 40 min so far (03:00:00 → now)');
    expect(markdown).toContain('- **Time to resolve:** not resolved yet');
    expect(markdown).toContain('- **Time to acknowledge:** never acknowledged');
    expect(markdown).toContain('- **Consume rate:** unknown when it opened → unknown now');
  });

  it('says when the timeline starts after the opening (an incident open when timelines began to be stored)', () => {
    const later = s.timeline.filter((e) => e.kind !== 'opened');
    const markdown = postmortemMarkdown(incident, later, { timeZone: 'UTC', now: s.now });
    expect(markdown).toContain('Times in UTC. Entries from before lagbot stored timelines are only in the Slack thread.');
    expect(postmortemMarkdown(incident, s.timeline, { timeZone: 'UTC', now: s.now })).toContain('Times in UTC.\n');
  });

  it('keeps Kafka names code, whatever their characters', () => {
    expect(markdownCode('orders')).toBe('`orders`');
    expect(markdownCode('a`b')).toBe('``a`b``');
    expect(markdownCode('`x')).toBe('`` `x ``');
    expect(markdownCode('two\nlines')).toBe('`two lines`');
    const odd = incidentFixture('inc-odd', '*pay*_<b>`x`', { cluster: 'prod_eu' });
    const markdown = postmortemMarkdown(odd, [], { timeZone: 'UTC', now: T0 });
    expect(markdown.split('\n')[0]).toBe('# Postmortem draft: consumer lag of `` *pay*_<b>`x` `` on `prod_eu`');
  });

  it('is the markdown file posted into the thread', () => {
    const file = postmortemFile(incident, s.timeline, { timeZone: 'UTC', now: s.now });
    expect(file).toEqual({
      kind: 'markdown',
      filename: `postmortem-${incident.id}.md`,
      title: 'Postmortem draft: user-events-consumer',
      text: postmortemMarkdown(incident, s.timeline, { timeZone: 'UTC', now: s.now }),
    });
  });
});

