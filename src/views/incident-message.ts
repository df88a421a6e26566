import type { KnownBlock } from '@slack/types';
import { ActionIds, SNOOZE_BUTTONS } from '../core/action-ids.js';
import { incidentChart, type ChartThreshold } from '../core/chart.js';
import type { ImpactSummary, Notice, Step, TimelineEntry, TimelineKind } from '../core/incident.js';
import type { MonitoringChange } from '../core/monitoring.js';
import type { Incident, Severity, SlackEffect, SlackMessage } from '../core/protocol.js';
import type { IncidentSilence } from '../core/silence.js';
import type { MonitorEffect } from '../monitor/effects.js';
import { codeSpan, escapeSlack, truncate } from '../core/slack-escape.js';
import { LIMITS, context, fields, header, section } from './blocks.js';
import { chartFile } from './chart-file.js';
import { FINDING_ICONS, findingText } from './finding-text.js';
import { formatClock, formatCount, formatDuration, formatPercent, formatRate, formatStaleness } from './format.js';
import { PLAIN_STYLE, mentionOf, onCluster, slackText } from './text-style.js';
import { postmortemFile } from './postmortem.js';
import { noticeText as noticeSentence, timelineText } from './timeline-text.js';

export const SEVERITY_ICON: Record<Severity, string> = { warning: ':warning:', critical: ':red_circle:', page: ':rotating_light:' };

const TIMELINE_ICON: Record<TimelineKind, string> = {
  opened: ':rotating_light:',
  escalated: ':arrow_up:',
  deescalated: ':arrow_down:',
  evidence: ':mag:',
  rebalance: ':arrows_counterclockwise:',
  'members-changed': ':busts_in_silhouette:',
  acknowledged: ':eyes:',
  snoozed: ':zzz:',
  'snooze-ended': ':alarm_clock:',
  refused: ':no_entry:',
  recovering: ':chart_with_downwards_trend:',
  relapsed: ':chart_with_upwards_trend:',
  renotified: ':loudspeaker:',
  silenced: ':no_bell:',
  'silence-ended': ':bell:',
  notified: ':loudspeaker:',
  'escalation-stopped': ':no_bell:',
  resolved: ':white_check_mark:',
};

function trend(perSec: number | null): string {
  if (perSec === null) return '';
  if (perSec > 0) return ` :chart_with_upwards_trend: ${formatRate(perSec)}`;
  if (perSec < 0) return ` :chart_with_downwards_trend: ${formatRate(perSec)}`;
  return ' (flat)';
}

function outlook(incident: Incident): string {
  const f = incident.figures;
  if (f.drainMs !== null) return f.drainMs === 0 ? 'caught up' : `drains in ~${formatDuration(f.drainMs)}`;
  const next = f.nextThreshold;
  if (next) {
    const at = next.rule === 'doubling' ? `lag doubles to ${formatCount(next.lag)}` : formatCount(next.lag);
    return `${next.severity.toUpperCase()} (${at}) in ~${formatDuration(next.inMs)}`;
  }
  if ((f.lagGrowthPerSec ?? 0) > 0) return 'growing, past every threshold';
  return f.lagGrowthPerSec === null ? 'trend not known yet' : 'not draining';
}

/** `45s (exact)`: how old the oldest unconsumed record is, as the last check saw it. */
function stalenessText(f: Incident['figures']): string {
  if (f.lagSeconds === null || f.lagSeconds === undefined) return 'unknown';
  const how = f.lagSecondsMethod === 'exact' ? 'exact' : f.lagSecondsMethod === 'extrapolated' ? 'extrapolated' : 'estimated';
  return `${formatStaleness(f.lagSeconds, f.lagSecondsMethod)} (${how})`;
}

function hotText(incident: Incident): string {
  const hot = incident.figures.hotPartition;
  if (!hot) return incident.figures.totalLag === 0 ? 'none (no lag)' : 'none (lag is spread)';
  // Client id and host lead, as in the case study's table; a member id is long and wraps.
  const owner = hot.owner ? `${escapeSlack(truncate(hot.owner.clientId ?? hot.owner.memberId, 60))} @ ${escapeSlack(hot.owner.host ?? '?')}` : 'no owner';
  return `${escapeSlack(`${hot.topic}-${hot.partition}`)} (${formatPercent(hot.share)}, ${formatCount(hot.lag)})\n${owner}`;
}

function actions(incident: Incident): KnownBlock[] {
  const value = incident.id;
  if (incident.status !== 'open') {
    return [
      {
        type: 'actions',
        block_id: `incident:${incident.id}`.slice(0, 255),
        elements: [{ type: 'button', action_id: ActionIds.postmortemIncident, text: { type: 'plain_text', text: 'Postmortem' }, value }],
      },
    ];
  }
  return [
    {
      type: 'actions',
      block_id: `incident:${incident.id}`.slice(0, 255),
      elements: [
        // Once acknowledged the button goes; a stale copy clicked later is answered anyway.
        ...(incident.acknowledged
          ? []
          : [{ type: 'button' as const, action_id: ActionIds.acknowledgeIncident, text: { type: 'plain_text' as const, text: 'Acknowledge' }, style: 'primary' as const, value }]),
        ...SNOOZE_BUTTONS.map((b) => ({ type: 'button' as const, action_id: b.actionId, text: { type: 'plain_text' as const, text: b.label }, value })),
        // Each opens a modal with a user picker (see incident-modals.ts).
        { type: 'button', action_id: ActionIds.addResponder, text: { type: 'plain_text', text: 'Add responder' }, value },
        { type: 'button', action_id: ActionIds.reassignIncident, text: { type: 'plain_text', text: 'Reassign' }, value },
        {
          type: 'button',
          action_id: ActionIds.resolveIncident,
          text: { type: 'plain_text', text: 'Resolve' },
          style: 'danger',
          value,
          confirm: {
            title: { type: 'plain_text', text: 'Resolve this incident?' },
            text: { type: 'mrkdwn', text: 'lagbot opens a new incident if lag is still over the thresholds at the next check.' },
            confirm: { type: 'plain_text', text: 'Resolve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    },
  ];
}

/** The incident's root message: everything the 03:14 reader needs at a glance. */
export function incidentRootMessage(incident: Incident): SlackMessage {
  const f = incident.figures;
  const status = incident.status === 'resolved' ? 'RESOLVED' : incident.severity.toUpperCase();
  const icon = incident.status === 'resolved' ? ':white_check_mark:' : SEVERITY_ICON[incident.severity];
  const members = f.members === null ? 'not visible' : String(f.members);
  const ack = incident.acknowledged ? `${mentionOf(incident.acknowledged.by)} at ${formatClock(incident.acknowledged.at)}` : 'not yet';
  const blocks: KnownBlock[] = [
    header(`${status} · consumer lag · ${incident.group}${onCluster(incident.cluster)}`),
    fields([
      ['Total lag', `${formatCount(f.totalLag)}${trend(f.lagGrowthPerSec)}`],
      ['Staleness', stalenessText(f)],
      ['Hot partition', hotText(incident)],
      ['Members / state', `${members} · ${f.state}`],
      ['Outlook', outlook(incident)],
      ['Opened', `${formatClock(incident.openedAt)} · peak ${formatCount(incident.peakLag)}`],
      [incident.status === 'resolved' ? 'Resolved' : 'Acknowledged', incident.resolved ? resolvedText(incident) : ack],
      ...(incident.assignee ? [['Assignee', `${mentionOf(incident.assignee.user)} (by ${mentionOf(incident.assignee.by)} at ${formatClock(incident.assignee.at)})`] as [string, string]] : []),
    ]),
  ];
  blocks.push(...diagnosisBlocks(incident));
  const notes: string[] = [];
  if (incident.snoozed && incident.status === 'open') notes.push(`:zzz: Snoozed by ${mentionOf(incident.snoozed.by)} until ${formatClock(incident.snoozed.until)}`);
  if (incident.silence && incident.status === 'open') notes.push(silenceNote(incident.silence));
  if (incident.responders && incident.responders.length > 0) notes.push(`Responders: ${incident.responders.map(mentionOf).join(', ')}`);
  notes.push(`Consume ${formatRate(f.consumePerSec)} · produce ${formatRate(f.producePerSec)} · updated ${formatClock(f.at)} · timeline in the thread`);
  blocks.push(...actions(incident), context(notes.join(' · ')));
  const text = `${icon} ${status}: consumer lag ${formatCount(f.totalLag)} on ${codeSpan(incident.group)}${onCluster(incident.cluster)}`;
  return { text: truncate(text, LIMITS.fallbackText), blocks };
}

/** Whether the root's reader can expect a mention: silenced by whom until when, or since when no longer. */
function silenceNote(silence: IncidentSilence): string {
  if (silence.endedAt === null) return `:no_bell: Silenced by ${mentionOf(silence.by)} until ${formatClock(silence.until)}${silence.reason === null ? '' : `: ${escapeSlack(truncate(silence.reason, 200))}`}`;
  return `:bell: Silence by ${mentionOf(silence.by)} ended at ${formatClock(silence.endedAt)}${silence.endedBy === null ? '' : ` by ${mentionOf(silence.endedBy)}`}`;
}

/** The current diagnosis, the headline finding of the latest check: the "why" at a glance. */
function diagnosisBlocks(incident: Incident): KnownBlock[] {
  const d = incident.figures.diagnosis;
  if (!d) return [];
  return [section(`*Diagnosis:* ${FINDING_ICONS[d.kind]} ${slackText((s) => findingText(d, s))}`)];
}

function resolvedText(incident: Incident): string {
  const r = incident.resolved;
  if (!r) return '-';
  return `${r.by ? mentionOf(r.by) : 'automatically'} at ${formatClock(r.at)}`;
}

function summaryBlocks(summary: ImpactSummary): KnownBlock[] {
  const duration = formatDuration(summary.resolvedAt - summary.openedAt);
  const ack = summary.acknowledged ? `${formatDuration(summary.acknowledged.afterMs)} (${mentionOf(summary.acknowledged.by)})` : 'never acknowledged';
  const rates =
    summary.consumeBefore === null && summary.consumeAfter === null
      ? 'unknown'
      : `${formatRate(summary.consumeBefore)} → ${formatRate(summary.consumeAfter)}`;
  return [
    section('*Impact*'),
    fields([
      ['Peak lag', `${formatCount(summary.peakLag)} at ${formatClock(summary.peakLagAt)}`],
      ['Peak staleness', summary.peakLagSeconds === null || summary.peakLagSeconds === undefined ? 'not measured' : formatStaleness(summary.peakLagSeconds)],
      ['Peak severity', summary.peakSeverity.toUpperCase()],
      ['Time to acknowledge', ack],
      ['Time to resolve', `${duration} (${summary.resolvedBy ? `by ${mentionOf(summary.resolvedBy)}` : 'automatically'})`],
      ['Consume rate', rates],
      ['Window', `${formatClock(summary.openedAt)} → ${formatClock(summary.resolvedAt)}`],
    ]),
  ];
}

/** One timeline entry: a reply in the incident's thread, stamped with its time. A `notified` entry's names are live mentions. */
export function timelineMessage(entry: TimelineEntry): SlackMessage {
  const line = `\`${formatClock(entry.at)}\` ${TIMELINE_ICON[entry.kind]} ${slackText((s) => timelineText(entry, s))}`;
  const blocks: KnownBlock[] = [section(line)];
  if (entry.kind === 'resolved') blocks.push(...summaryBlocks(entry.summary));
  return { text: truncate(line, LIMITS.fallbackText), blocks };
}

/** What a button click answers the clicker with (only they see it). */
export function noticeText(notice: Notice): string {
  return slackText((s) => noticeSentence(notice, s));
}

/** The same answer as plain text, for where Slack shows no mrkdwn (a modal's error under an input). */
export function noticePlainText(notice: Notice): string {
  return noticeSentence(notice, PLAIN_STYLE);
}

/** lagbot's own notice in the channel: it cannot see a cluster, or sees it again. */
export function monitoringMessage(cluster: string, change: MonitoringChange): SlackMessage {
  const text =
    change.kind === 'degraded'
      ? `:warning: Monitoring degraded${onCluster(cluster)}: ${change.failures} checks in a row could not read Kafka (${escapeSlack(change.error)}). lagbot opens and resolves no incidents${onCluster(cluster)} until it can read Kafka again.`
      : `:white_check_mark: Monitoring recovered${onCluster(cluster)}: Kafka answers again; ${change.groups} groups read.`;
  return { text, blocks: [section(text)] };
}

/** What the step's chart shows, in words: the moment it was posted for. */
function chartTitle(step: Step, incident: Incident): string {
  const where = `${incident.group}${incident.cluster === 'default' ? '' : ` on ${incident.cluster}`}`;
  if (incident.status === 'resolved') return `Lag of ${where}: the whole incident, resolved`;
  if (step.opened) return `Lag of ${where}: ${incident.severity.toUpperCase()} opened`;
  return `Lag of ${where}: escalated to ${incident.severity.toUpperCase()}`;
}

/**
 * Slack effects of one state-machine step, in the order they must appear. `thresholds`: the
 * group's lines, drawn on the step's chart when it has one.
 */
export function effectsOf(step: Step, thresholds: readonly ChartThreshold[] = []): SlackEffect[] {
  const incident = step.incident;
  if (!incident) return [];
  const effects: SlackEffect[] = [];
  const base = { incidentId: incident.id, channel: incident.channel };
  if (step.opened) effects.push({ kind: 'post-root', ...base, message: incidentRootMessage(incident) });
  for (const entry of step.timeline) effects.push({ kind: 'post-thread', ...base, message: timelineMessage(entry) });
  if (step.rootChanged && !step.opened) effects.push({ kind: 'update-root', ...base, message: incidentRootMessage(incident) });
  if (step.chart) effects.push({ kind: 'post-file', ...base, file: chartFile(incidentChart(incident, thresholds), chartTitle(step, incident)) });
  return effects;
}

export interface RenderOptions {
  /** The postmortem's time zone (`postmortem.timeZone`). */
  timeZone: string;
}

/** How the monitor's effects become Slack messages and files for the outbox. */
export function slackEffectsOf(effects: readonly MonitorEffect[], options: RenderOptions = { timeZone: 'UTC' }): SlackEffect[] {
  return effects.flatMap((e): SlackEffect[] => {
    switch (e.kind) {
      case 'incident':
        return effectsOf(e.step, e.thresholds);
      case 'monitoring':
        return [{ kind: 'post-channel', channel: e.channel, message: monitoringMessage(e.cluster, e.change) }];
      case 'postmortem':
        return [
          { kind: 'post-file', incidentId: e.incident.id, channel: e.incident.channel, file: postmortemFile(e.incident, e.timeline, { timeZone: options.timeZone, now: e.at }) },
        ];
    }
  });
}
