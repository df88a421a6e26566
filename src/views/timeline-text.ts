import { actionRefusedSentence } from './access-text.js';
import type { NotifyReason, PolicyPosition } from '../core/escalation.js';
import type { Notice, Staleness, TimelineEvent } from '../core/incident.js';
import type { Severity } from '../core/protocol.js';
import type { Reason } from '../core/rules.js';
import { findingText } from './finding-text.js';
import { formatClock, formatCount, formatDuration, formatRate, formatStaleness } from './format.js';
import { PLAIN_STYLE, type TextStyle } from './text-style.js';
import { targetText } from './silence-text.js';

/** The sentences of an incident: why a severity, what happened, what a click changed. */

const upper = (s: Severity): string => s.toUpperCase();

export function reasonText(r: Reason): string {
  switch (r.rule) {
    case 'page-line':
    case 'critical-line':
      return `total lag ${formatCount(r.lag)} > ${formatCount(r.line)}`;
    case 'doubled':
      return `lag doubled within ${formatDuration(r.withinMs)} (${formatCount(r.from)} → ${formatCount(r.to)})`;
    case 'growing':
      return `total lag ${formatCount(r.lag)} > ${formatCount(r.line)} and growing for ${formatDuration(r.forMs)}`;
    case 'raised':
      return `${r.finding.replace(/-/g, ' ')} raises severity to ${r.severity}`;
    case 'stale':
      return `staleness ${formatStaleness(r.seconds)} > ${formatStaleness(r.line)}`;
  }
}

export const reasonsText = (reasons: readonly Reason[]): string => reasons.map(reasonText).join('; ');

function list(ids: readonly string[], s: TextStyle): string {
  const shown = ids.slice(0, 3).map(s.name).join(', ');
  return ids.length > 3 ? `${shown} and ${ids.length - 3} more` : shown;
}

/** `; staleness 45s (exact)`, unless a reason already says it. */
function stalenessNote(staleness: Staleness | undefined, reasons: readonly Reason[]): string {
  if (!staleness || reasons.some((r) => r.rule === 'stale')) return '';
  const how = staleness.method === 'exact' ? ' (exact)' : staleness.method === 'extrapolated' ? ' (extrapolated)' : '';
  return `; staleness ${formatStaleness(staleness.seconds, staleness.method)}${how}`;
}

/** `level 2 of 3, round 1 of 2`; a policy without end counts its rounds alone. */
function positionText(p: PolicyPosition): string {
  return `level ${p.level} of ${p.levels}, round ${p.round}${p.rounds === null ? '' : ` of ${p.rounds}`}`;
}

function notifyReasonText(r: NotifyReason, count: number, s: TextStyle): string {
  switch (r.kind) {
    case 'started':
      return r.severity === 'page' ? 'the incident paged' : `the incident reached ${upper(r.severity)}`;
    case 'no-acknowledgement':
      return `no acknowledgement after ${formatDuration(r.afterMs)}`;
    case 'restarted':
      return `restarted after escalation to ${upper(r.severity)}`;
    case 'silence-ended':
      return 'the silence ended, the policy starts again';
    case 'responder-added':
      return `added as ${count === 1 ? 'responder' : 'responders'} by ${s.user(r.by)}`;
    case 'reassigned':
      return `reassigned to them by ${s.user(r.by)}${r.from ? ` (was ${s.user(r.from)})` : ''}`;
  }
}

export function timelineText(e: TimelineEvent, s: TextStyle = PLAIN_STYLE): string {
  switch (e.kind) {
    case 'opened':
      return `Opened at ${upper(e.severity)}: ${reasonsText(e.reasons)}${stalenessNote(e.staleness, e.reasons)}.`;
    case 'escalated': {
      const why = reasonsText(e.reasons) || `total lag ${formatCount(e.lag)}`;
      const acked = e.wasAcknowledgedAt ? ` (was acknowledged at ${upper(e.wasAcknowledgedAt)}; needs a new acknowledgement)` : '';
      return `Escalated to ${upper(e.severity)}: ${why}${stalenessNote(e.staleness, e.reasons)}${acked}.${e.snoozeEnded ? ' Snooze ended by the escalation.' : ''}`;
    }
    case 'deescalated':
      return `De-escalated to ${upper(e.severity)}: total lag ${formatCount(e.lag)}, below the ${upper(e.from)} line for ${formatDuration(e.belowForMs)}.`;
    case 'evidence':
      return findingText(e.finding, s);
    case 'rebalance':
      return `Rebalance seen: group state ${e.from} → ${e.to}.`;
    case 'members-changed': {
      const parts = [`${e.before} → ${e.after} members`];
      if (e.joined.length > 0) parts.push(`joined: ${list(e.joined, s)}`);
      if (e.left.length > 0) parts.push(`left: ${list(e.left, s)}`);
      return `Members changed: ${parts.join('; ')}.`;
    }
    case 'acknowledged':
      return `Acknowledged by ${s.user(e.user)} at ${upper(e.severity)}, ${formatDuration(e.afterMs)} after opening.`;
    case 'snoozed':
      return `Snoozed by ${s.user(e.user)} for ${formatDuration(e.forMs)}: no re-notification until then unless it escalates.`;
    case 'snooze-ended':
      return `Snooze by ${s.user(e.user)} ended.`;
    case 'refused':
      return e.unreadable
        ? `${s.user(e.user)} tried to ${e.action}; refused: lagbot could not read from Slack whether they are among those ${s.name(e.rule)} allows.`
        : `${s.user(e.user)} tried to ${e.action}; not allowed (${s.name(e.rule)}).`;
    case 'recovering':
      return `Recovering: total lag ${formatCount(e.lag)} is back under ${formatCount(e.line)}; resolving after ${formatDuration(e.resolveAfterMs)} under the line.`;
    case 'relapsed':
      return `Lag back over ${formatCount(e.line)} (${formatCount(e.lag)}): not resolving.`;
    case 'silenced':
      return `Silenced by ${s.user(e.by)} until ${formatClock(e.until)} (${targetText(e.target, s)})${e.reason === null ? '' : `: ${e.reason}`}. The timeline goes on; nobody is mentioned until then.`;
    case 'silence-ended': {
      const how = e.endedBy === null ? `Silence by ${s.user(e.by)} is over.` : `Silence by ${s.user(e.by)} ended early by ${s.user(e.endedBy)}.`;
      return e.notified ? `${how} Still unacknowledged: the escalation policy starts again from its first level.` : `${how} Notifications are back on.`;
    }
    case 'renotified':
      return `Still paging, unacknowledged for ${formatDuration(e.openForMs)}: total lag ${formatCount(e.lag)} (${formatRate(e.growthPerSec)})${stalenessNote(e.staleness, [])}.`;
    case 'notified': {
      const where = e.position ? ` (${positionText(e.position)})` : '';
      const figures = e.position ? `; total lag ${formatCount(e.lag)}${stalenessNote(e.staleness, [])}` : '';
      return `Notified ${e.notify.map(s.user).join(', ')}${where}: ${notifyReasonText(e.reason, e.notify.length, s)}${figures}.`;
    }
    case 'escalation-stopped':
      return `Escalation policy stopped: ${e.rounds} ${e.rounds === 1 ? 'round' : 'rounds'} of ${e.levels} ${e.levels === 1 ? 'level' : 'levels'} went unacknowledged (the last level waited ${formatDuration(e.afterMs)}); no one else is notified unless the incident escalates.`;
    case 'resolved': {
      const c = e.cause;
      const why = c.auto
        ? `lag under ${formatCount(c.line)} for ${formatDuration(c.underForMs)} (now ${formatCount(c.lag)}).`
        : `Lag at resolution: ${formatCount(c.lag)}.`;
      return e.by ? `Resolved by ${s.user(e.by)}. ${why}` : `Resolved: ${why}`;
    }
  }
}

export function noticeText(n: Notice, s: TextStyle = PLAIN_STYLE): string {
  switch (n.kind) {
    case 'no-such-incident':
      return 'This incident no longer exists.';
    case 'already-resolved':
      return n.by ? `Already resolved by ${s.user(n.by)}; nothing changed.` : 'Already resolved automatically; nothing changed.';
    case 'already-acknowledged':
      return `Already acknowledged by ${s.user(n.by)}; nothing changed.`;
    case 'already-snoozed':
      return `Already snoozed by ${s.user(n.by)} until then or later; nothing changed.`;
    case 'already-assigned':
      return `Already assigned to ${s.user(n.to)}; nothing changed.`;
    case 'not-allowed':
      return actionRefusedSentence(n.action, n.refusal, s);
  }
}
