import type { KnownBlock } from '@slack/types';
import { ActionIds, SNOOZE_BUTTONS } from '../core/action-ids.js';
import { formatClock, formatCount, formatDuration, formatPercent, formatRate } from '../core/format.js';
import type { ImpactSummary, Step, TimelineEntry, TimelineKind } from '../core/incident.js';
import type { Incident, Severity, SlackEffect, SlackMessage } from '../core/protocol.js';
import { escapeSlack, truncate } from '../core/slack-escape.js';
import { LIMITS, context, fields, header, section } from './blocks.js';

const SEVERITY_ICON: Record<Severity, string> = { warning: ':warning:', critical: ':red_circle:', page: ':rotating_light:' };

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
  recovering: ':chart_with_downwards_trend:',
  relapsed: ':chart_with_upwards_trend:',
  renotified: ':loudspeaker:',
  resolved: ':white_check_mark:',
};

/** Slack mention syntax for an on-call entry: user group `S…`, user `U…`/`W…`, or `here`. */
export function mentionOf(id: string): string {
  if (/^S[A-Z0-9]+$/.test(id)) return `<!subteam^${id}>`;
  if (/^[UW][A-Z0-9]+$/.test(id)) return `<@${id}>`;
  if (id === 'here' || id === 'channel') return `<!${id}>`;
  return escapeSlack(id);
}

/** Plain core text made safe for Slack, with `{user}` turned into a real mention. */
function render(text: string, user?: string): string {
  const safe = escapeSlack(text);
  return user ? safe.replace('{user}', mentionOf(user)) : safe;
}

function trend(perSec: number | null): string {
  if (perSec === null) return '';
  if (perSec > 0) return ` :chart_with_upwards_trend: ${formatRate(perSec)}`;
  if (perSec < 0) return ` :chart_with_downwards_trend: ${formatRate(perSec)}`;
  return ' (flat)';
}

function outlook(incident: Incident): string {
  const f = incident.figures;
  if (f.drainSeconds !== null) return f.drainSeconds === 0 ? 'caught up' : `drains in ~${formatDuration(f.drainSeconds)}`;
  if (f.nextThreshold) return `${f.nextThreshold.severity.toUpperCase()} (${formatCount(f.nextThreshold.lag)}) in ~${formatDuration(f.nextThreshold.seconds)}`;
  if ((f.lagGrowthPerSec ?? 0) > 0) return 'growing, past every threshold';
  return f.lagGrowthPerSec === null ? 'trend not known yet' : 'not draining';
}

function hotText(incident: Incident): string {
  const hot = incident.figures.hotPartition;
  if (!hot) return 'none (lag is spread)';
  const owner = hot.memberId ? `${escapeSlack(truncate(hot.memberId, 60))} @ ${escapeSlack(hot.host ?? '?')}` : 'no owner';
  return `${escapeSlack(`${hot.topic}-${hot.partition}`)} (${formatPercent(hot.share)}, ${formatCount(hot.lag)})\n${owner}`;
}

function actions(incident: Incident): KnownBlock[] {
  if (incident.status !== 'open') return [];
  const value = incident.id;
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
  const members = f.members === null ? 'not visible (KIP-848)' : String(f.members);
  const ack = incident.acknowledged ? `${mentionOf(incident.acknowledged.by)} at ${formatClock(incident.acknowledged.at)}` : 'not yet';
  const blocks: KnownBlock[] = [
    header(`${status} · consumer lag · ${incident.group}`),
    fields([
      ['Total lag', `${formatCount(f.totalLag)}${trend(f.lagGrowthPerSec)}`],
      ['Hot partition', hotText(incident)],
      ['Members / state', `${members} · ${f.state}`],
      ['Outlook', outlook(incident)],
      ['Opened', `${formatClock(incident.openedAt)} · peak ${formatCount(incident.peakLag)}`],
      [incident.status === 'resolved' ? 'Resolved' : 'Acknowledged', incident.resolved ? resolvedText(incident) : ack],
    ]),
  ];
  const notes: string[] = [];
  if (incident.snoozed && incident.status === 'open') notes.push(`:zzz: Snoozed by ${mentionOf(incident.snoozed.by)} until ${formatClock(incident.snoozed.until)}`);
  notes.push(`Consume ${formatRate(f.consumePerSec)} · produce ${formatRate(f.producePerSec)} · updated ${formatClock(f.at)} · timeline in the thread`);
  blocks.push(...actions(incident), context(notes.join(' · ')));
  const text = `${icon} ${status}: consumer lag ${formatCount(f.totalLag)} on ${escapeSlack(incident.group)}`;
  return { text: truncate(text, LIMITS.fallbackText), blocks };
}

function resolvedText(incident: Incident): string {
  const r = incident.resolved;
  if (!r) return '-';
  return `${r.by ? mentionOf(r.by) : 'automatically'} at ${formatClock(r.at)}`;
}

function summaryBlocks(summary: ImpactSummary): KnownBlock[] {
  const duration = formatDuration((summary.resolvedAt - summary.openedAt) / 1000);
  const ack = summary.acknowledged ? `${formatDuration(summary.acknowledged.afterMs / 1000)} (${mentionOf(summary.acknowledged.by)})` : 'never acknowledged';
  const rates =
    summary.consumeBefore === null && summary.consumeAfter === null
      ? 'unknown'
      : `${formatRate(summary.consumeBefore)} → ${formatRate(summary.consumeAfter)}`;
  return [
    section('*Impact*'),
    fields([
      ['Peak lag', `${formatCount(summary.peakLag)} at ${formatClock(summary.peakLagAt)}`],
      ['Peak severity', summary.peakSeverity.toUpperCase()],
      ['Time to acknowledge', ack],
      ['Time to resolve', `${duration} (${summary.resolvedBy ? `by ${mentionOf(summary.resolvedBy)}` : 'automatically'})`],
      ['Consume rate', rates],
      ['Window', `${formatClock(summary.openedAt)} → ${formatClock(summary.resolvedAt)}`],
    ]),
  ];
}

/** One timeline entry: a reply in the incident's thread, stamped with its time. */
export function timelineMessage(entry: TimelineEntry, oncall: readonly string[]): SlackMessage {
  const mentions = entry.mention && oncall.length > 0 ? ` ${oncall.map(mentionOf).join(' ')}` : '';
  const line = `\`${formatClock(entry.at)}\` ${TIMELINE_ICON[entry.kind]} ${render(entry.text, entry.user)}${mentions}`;
  const blocks: KnownBlock[] = [section(line)];
  if (entry.summary) blocks.push(...summaryBlocks(entry.summary));
  return { text: truncate(line, LIMITS.fallbackText), blocks };
}

/** What a button click answers the clicker with (only they see it). */
export function noticeText(notice: NonNullable<Step['notice']>): string {
  return render(notice.text, notice.user);
}

export function monitoringMessage(kind: 'degraded' | 'recovered', detail: string): SlackMessage {
  const text =
    kind === 'degraded'
      ? `:warning: Monitoring degraded: ${escapeSlack(detail)}. lagbot opens and resolves no incidents until it can read Kafka again.`
      : `:white_check_mark: Monitoring recovered: ${escapeSlack(detail)}.`;
  return { text, blocks: [section(text)] };
}

/** Slack effects of one state-machine step, in the order they must appear. */
export function effectsOf(step: Step, oncall: readonly string[]): SlackEffect[] {
  const incident = step.incident;
  if (!incident) return [];
  const effects: SlackEffect[] = [];
  const base = { incidentId: incident.id, channel: incident.channel };
  if (step.opened) effects.push({ kind: 'post-root', ...base, message: incidentRootMessage(incident) });
  for (const entry of step.timeline) effects.push({ kind: 'post-thread', ...base, message: timelineMessage(entry, oncall) });
  if (step.rootChanged && !step.opened) effects.push({ kind: 'update-root', ...base, message: incidentRootMessage(incident) });
  return effects;
}
