import { impactSummaryOf, type ImpactSummary, type TimelineEntry } from '../core/incident.js';
import type { Incident, SlackFile } from '../core/protocol.js';
import { findingText } from './finding-text.js';
import { formatCount, formatDuration, formatZoned } from './format.js';
import { isNamed, type TextStyle } from './text-style.js';
import { timelineText } from './timeline-text.js';

/**
 * The postmortem draft of an incident, in Markdown, shaped like the case study's last
 * sections: a timeline, the real-world impact, root-cause candidates, and key takeaways
 * left for people to write. Drafted from the incident and its stored timeline alone.
 */

export interface PostmortemOptions {
  /** IANA time zone the times are written in (`postmortem.timeZone`). */
  timeZone: string;
  /** Now: how long an incident still open has lasted so far. */
  now: number;
}

/**
 * A Kafka name as a Markdown code span, so `*`, `_` or `<` in it are text, not formatting or
 * HTML. The fence is one backtick longer than any run inside the name (CommonMark's rule).
 */
export function markdownCode(name: string): string {
  const flat = name.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Slack user ids as `@U0SRE`: a file shows no live mentions. */
const MARKDOWN_STYLE: TextStyle = { name: markdownCode, user: (id) => `@${id}` };

const resolvedByText = (impact: ImpactSummary): string => (impact.resolvedBy ? `by ${MARKDOWN_STYLE.user(impact.resolvedBy)}` : 'automatically');

const perSecond = (rate: number | null): string => (rate === null ? 'unknown' : `${formatCount(Math.round(rate))}/s`);

interface Times {
  /** `03:14:05`, with the date in front when it is not the day the incident opened. */
  clock(ms: number): string;
  /** `2026-11-27 03:14:05`. */
  full(ms: number): string;
}

function timesIn(timeZone: string, openedAt: number): Times {
  const openedOn = formatZoned(openedAt, timeZone).date;
  return {
    clock: (ms) => {
      const { date, time } = formatZoned(ms, timeZone);
      return date === openedOn ? time : `${date} ${time}`;
    },
    full: (ms) => {
      const { date, time } = formatZoned(ms, timeZone);
      return `${date} ${time}`;
    },
  };
}

/** The impact as the resolved entry recorded it; for an incident still open, so far. */
function impactOf(incident: Incident, timeline: readonly TimelineEntry[], now: number): ImpactSummary {
  const resolved = timeline.find((e): e is Extract<TimelineEntry, { kind: 'resolved' }> => e.kind === 'resolved');
  if (resolved) return resolved.summary;
  if (incident.resolved) return impactSummaryOf(incident, incident.resolved.at, incident.resolved.by);
  return impactSummaryOf(incident, now, null);
}

function summaryLine(incident: Incident, impact: ImpactSummary, times: Times, timeZone: string): string {
  const where = isNamed(incident.cluster) ? ` on cluster ${markdownCode(incident.cluster)}` : '';
  const opened = `opened ${times.full(incident.openedAt)} (${timeZone})`;
  const duration = formatDuration(impact.resolvedAt - impact.openedAt);
  const end =
    incident.status === 'resolved'
      ? `resolved ${resolvedByText(impact)} after ${duration}`
      : `still open after ${duration}`;
  return (
    `${impact.peakSeverity.toUpperCase()} consumer lag incident of group ${markdownCode(incident.group)}${where}: ${opened}, ${end}; ` +
    `peak lag ${formatCount(impact.peakLag)} messages.`
  );
}

function timelineSection(timeline: readonly TimelineEntry[], times: Times, timeZone: string): string[] {
  if (timeline.length === 0) {
    return ['No timeline was kept for this incident (it opened before lagbot stored timelines): its Slack thread has it.'];
  }
  // An incident open when lagbot began to store timelines has only its later entries.
  const partial = timeline[0]?.kind === 'opened' ? '' : ' Entries from before lagbot stored timelines are only in the Slack thread.';
  return [`Times in ${timeZone}.${partial}`, '', ...timeline.map((e) => `- **${times.clock(e.at)}** — ${timelineText(e, MARKDOWN_STYLE)}`)];
}

function stalenessText(impact: ImpactSummary): string {
  const seconds = impact.peakLagSeconds;
  return seconds === null || seconds === undefined ? 'not measured' : formatDuration(seconds * 1000);
}

function impactSection(incident: Incident, impact: ImpactSummary, times: Times): string[] {
  const open = incident.status === 'open';
  const duration = formatDuration(impact.resolvedAt - impact.openedAt);
  const ack = impact.acknowledged ? `${formatDuration(impact.acknowledged.afterMs)} (${MARKDOWN_STYLE.user(impact.acknowledged.by)})` : 'never acknowledged';
  const resolve = open ? 'not resolved yet' : `${duration} (${resolvedByText(impact)})`;
  return [
    `- **Peak lag:** ${formatCount(impact.peakLag)} messages (at ${times.clock(impact.peakLagAt)})`,
    `- **Peak staleness:** ${stalenessText(impact)}`,
    `- **Peak severity:** ${impact.peakSeverity.toUpperCase()}`,
    `- **Duration:** ${duration}${open ? ' so far' : ''} (${times.clock(impact.openedAt)} → ${open ? 'now' : times.clock(impact.resolvedAt)})`,
    `- **Time to acknowledge:** ${ack}`,
    `- **Time to resolve:** ${resolve}`,
    `- **Consume rate:** ${perSecond(impact.consumeBefore)} when it opened → ${perSecond(impact.consumeAfter)} ${open ? 'now' : 'at resolution'}`,
  ];
}

function rootCauseSection(timeline: readonly TimelineEntry[], times: Times): string[] {
  const findings = timeline.filter((e): e is Extract<TimelineEntry, { kind: 'evidence' }> => e.kind === 'evidence');
  if (findings.length === 0) return ['lagbot told no finding during the incident: the cause is for people to find.'];
  return findings.map((e) => `- ${findingText(e.finding, MARKDOWN_STYLE)} (seen ${times.clock(e.at)})`);
}

/** The draft as Markdown. */
export function postmortemMarkdown(incident: Incident, timeline: readonly TimelineEntry[], options: PostmortemOptions): string {
  const times = timesIn(options.timeZone, incident.openedAt);
  const impact = impactOf(incident, timeline, options.now);
  const where = isNamed(incident.cluster) ? ` on ${markdownCode(incident.cluster)}` : '';
  return [
    `# Postmortem draft: consumer lag of ${markdownCode(incident.group)}${where}`,
    '',
    summaryLine(incident, impact, times, options.timeZone),
    '',
    `Incident \`${incident.id}\`. Drafted by lagbot from the incident's timeline: check it, then fill in the takeaways.`,
    '',
    '## Timeline',
    '',
    ...timelineSection(timeline, times, options.timeZone),
    '',
    '## Real-World Impact',
    '',
    ...impactSection(incident, impact, times),
    '',
    '## Root-cause candidates',
    '',
    ...rootCauseSection(timeline, times),
    '',
    '## Key takeaways',
    '',
    '1. ',
    '2. ',
    '3. ',
    '',
  ].join('\n');
}

/** The draft as the file lagbot posts into the incident's thread. */
export function postmortemFile(incident: Incident, timeline: readonly TimelineEntry[], options: PostmortemOptions): SlackFile {
  return {
    kind: 'markdown',
    filename: `postmortem-${incident.id}.md`,
    title: `Postmortem draft: ${incident.group}`,
    text: postmortemMarkdown(incident, timeline, options),
  };
}
