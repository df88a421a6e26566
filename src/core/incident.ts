import { formatCount, formatDuration, formatRate } from './format.js';
import type { Incident, IncidentFigures, Severity } from './protocol.js';
import { SEVERITY_RANK, type Evaluation } from './rules.js';

/**
 * The incident state machine: a pure function from (incident, input, time) to the next
 * incident and what happened, as timeline entries. No I/O: Slack effects are derived
 * from the result by the views, and the store saves both in one transaction.
 */

export interface IncidentSettings {
  /** Lag must stay under the warning line this long before the incident resolves. */
  resolveAfterMs: number;
  /** A lower severity must hold this long before the incident de-escalates. */
  deescalateAfterMs: number;
  /** An unacknowledged page mentions the on-call people again after this long. */
  renotifyAfterMs: number;
  /** Root message refreshed for changed figures alone at most this often. */
  rootRefreshMs: number;
  warningLag: number;
}

export const DEFAULT_INCIDENT_SETTINGS: IncidentSettings = {
  resolveAfterMs: 5 * 60_000,
  deescalateAfterMs: 2 * 60_000,
  renotifyAfterMs: 15 * 60_000,
  rootRefreshMs: 60_000,
  warningLag: 50_000,
};

export type TimelineKind =
  | 'opened'
  | 'escalated'
  | 'deescalated'
  | 'evidence'
  | 'rebalance'
  | 'members-changed'
  | 'acknowledged'
  | 'snoozed'
  | 'snooze-ended'
  | 'recovering'
  | 'relapsed'
  | 'renotified'
  | 'resolved';

export interface ImpactSummary {
  group: string;
  peakLag: number;
  peakLagAt: number;
  peakSeverity: Severity;
  openedAt: number;
  resolvedAt: number;
  acknowledged: { by: string; afterMs: number } | null;
  resolvedBy: string | null;
  consumeBefore: number | null;
  consumeAfter: number | null;
}

export interface TimelineEntry {
  at: number;
  kind: TimelineKind;
  /** Plain text (escaped by the view); `{user}` stands for the Slack user in `user`. */
  text: string;
  user?: string;
  /** Mention the on-call people in this entry. */
  mention: boolean;
  summary?: ImpactSummary;
}

export type IncidentInput =
  | { kind: 'evaluation'; evaluation: Evaluation; channel: string; newId: () => string }
  | { kind: 'acknowledge'; user: string }
  | { kind: 'snooze'; user: string; forMs: number }
  | { kind: 'resolve'; user: string };

export interface Step {
  incident: Incident | null;
  timeline: TimelineEntry[];
  /** The root message must be posted (new incident) or edited. */
  opened: boolean;
  rootChanged: boolean;
  /** For button clicks: what to tell the person who clicked (`{user}` as in timeline text). */
  notice: { text: string; user?: string } | null;
}

const rank = (s: Severity | null): number => (s === null ? 0 : SEVERITY_RANK[s]);
const upper = (s: Severity): string => s.toUpperCase();

function nothing(incident: Incident | null, notice: Step['notice'] = null): Step {
  return { incident, timeline: [], opened: false, rootChanged: false, notice };
}

function open(input: Extract<IncidentInput, { kind: 'evaluation' }>, now: number): Step {
  const { evaluation } = input;
  const severity = evaluation.severity as Severity;
  const lag = evaluation.figures.totalLag ?? 0;
  const incident: Incident = {
    id: input.newId(),
    group: evaluation.group,
    channel: input.channel,
    status: 'open',
    severity,
    peakSeverity: severity,
    openedAt: now,
    updatedAt: now,
    peakLag: lag,
    peakLagAt: now,
    openingConsumePerSec: evaluation.figures.consumePerSec,
    figures: evaluation.figures,
    acknowledged: null,
    snoozed: null,
    resolved: null,
    lastNotifiedAt: severity === 'page' ? now : null,
    belowWarningSince: null,
    lowerSeverity: null,
    rootRefreshedAt: now,
    told: evaluation.evidence.map((e) => e.key),
    lastState: evaluation.state,
    lastMemberIds: evaluation.memberIds,
  };
  const timeline: TimelineEntry[] = [
    { at: now, kind: 'opened', text: `Opened at ${upper(severity)}: ${evaluation.reasons.join('; ')}.`, mention: severity === 'page' },
    ...evaluation.evidence.map((e) => ({ at: now, kind: 'evidence' as const, text: e.text, mention: false })),
  ];
  return { incident, timeline, opened: true, rootChanged: true, notice: null };
}

function summaryOf(incident: Incident, at: number, resolvedBy: string | null): ImpactSummary {
  return {
    group: incident.group,
    peakLag: incident.peakLag,
    peakLagAt: incident.peakLagAt,
    peakSeverity: incident.peakSeverity,
    openedAt: incident.openedAt,
    resolvedAt: at,
    acknowledged: incident.acknowledged ? { by: incident.acknowledged.by, afterMs: incident.acknowledged.at - incident.openedAt } : null,
    resolvedBy,
    consumeBefore: incident.openingConsumePerSec,
    consumeAfter: incident.figures.consumePerSec,
  };
}

function resolve(incident: Incident, at: number, by: string | null, why: string): Step {
  const resolved: Incident = { ...incident, status: 'resolved', resolved: { by, at }, updatedAt: at, snoozed: null };
  const entry: TimelineEntry = {
    at,
    kind: 'resolved',
    text: by ? `Resolved by {user}. ${why}` : `Resolved: ${why}`,
    ...(by ? { user: by } : {}),
    mention: false,
    summary: summaryOf(incident, at, by),
  };
  return { incident: resolved, timeline: [entry], opened: false, rootChanged: true, notice: null };
}

function membersChangeText(before: readonly string[], after: readonly string[]): string {
  const gone = before.filter((m) => !after.includes(m));
  const added = after.filter((m) => !before.includes(m));
  const list = (ids: string[]) => (ids.length > 3 ? `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more` : ids.join(', '));
  const parts = [`${before.length} → ${after.length} members`];
  if (added.length > 0) parts.push(`joined: ${list(added)}`);
  if (gone.length > 0) parts.push(`left: ${list(gone)}`);
  return `Members changed: ${parts.join('; ')}.`;
}

function figuresMoved(before: IncidentFigures, after: IncidentFigures): boolean {
  const a = before.totalLag ?? 0;
  const b = after.totalLag ?? 0;
  const bigMove = Math.abs(b - a) > Math.max(1, a) * 0.1;
  const trendFlip = Math.sign(before.lagGrowthPerSec ?? 0) !== Math.sign(after.lagGrowthPerSec ?? 0);
  const hotMoved = `${before.hotPartition?.topic}-${before.hotPartition?.partition}` !== `${after.hotPartition?.topic}-${after.hotPartition?.partition}`;
  return bigMove || trendFlip || hotMoved || before.state !== after.state || before.members !== after.members;
}

function onEvaluation(current: Incident, evaluation: Evaluation, settings: IncidentSettings, now: number): Step {
  let incident: Incident = { ...current, figures: evaluation.figures, updatedAt: now };
  const timeline: TimelineEntry[] = [];
  let rootChanged = false;
  const lag = evaluation.figures.totalLag;

  if (lag !== null && lag > incident.peakLag) incident = { ...incident, peakLag: lag, peakLagAt: now };

  // Snooze expiry first, so an escalation in the same check notifies normally.
  if (incident.snoozed && now >= incident.snoozed.until) {
    timeline.push({ at: now, kind: 'snooze-ended', text: 'Snooze by {user} ended.', user: incident.snoozed.by, mention: false });
    incident = { ...incident, snoozed: null };
    rootChanged = true;
  }

  // While open, lag above the warning line keeps at least a warning even when it has
  // stopped growing: the incident is about lag, not only about the trend.
  const target: Severity | null = evaluation.severity ?? (evaluation.belowWarning ? null : 'warning');

  if (target !== null && rank(target) > rank(incident.severity)) {
    const wasAcked = incident.acknowledged;
    const snoozeBroken = incident.snoozed !== null && rank(target) > rank(incident.snoozed.severity);
    const notify = target === 'page' || wasAcked !== null;
    incident = {
      ...incident,
      severity: target,
      peakSeverity: rank(target) > rank(incident.peakSeverity) ? target : incident.peakSeverity,
      lowerSeverity: null,
      acknowledged: null,
      snoozed: snoozeBroken ? null : incident.snoozed,
      lastNotifiedAt: notify ? now : incident.lastNotifiedAt,
    };
    const after = wasAcked ? ` (was acknowledged at ${upper(wasAcked.severity)}; needs a new acknowledgement)` : '';
    const snoozeText = snoozeBroken ? ' Snooze ended by the escalation.' : '';
    timeline.push({ at: now, kind: 'escalated', text: `Escalated to ${upper(target)}: ${evaluation.reasons.join('; ') || `total lag ${formatCount(lag)}`}${after}.${snoozeText}`, mention: notify });
    rootChanged = true;
  } else if (target !== null && rank(target) < rank(incident.severity)) {
    const lower = incident.lowerSeverity;
    if (!lower || lower.severity !== target) {
      incident = { ...incident, lowerSeverity: { severity: target, since: now } };
    } else if (now - lower.since >= settings.deescalateAfterMs) {
      timeline.push({
        at: now,
        kind: 'deescalated',
        text: `De-escalated to ${upper(target)}: total lag ${formatCount(lag)}, below the ${upper(incident.severity)} line for ${formatDuration((now - lower.since) / 1000)}.`,
        mention: false,
      });
      incident = { ...incident, severity: target, lowerSeverity: null };
      rootChanged = true;
    }
  } else if (incident.lowerSeverity) {
    incident = { ...incident, lowerSeverity: null };
  }

  for (const e of evaluation.evidence) {
    if (incident.told.includes(e.key)) continue;
    timeline.push({ at: now, kind: 'evidence', text: e.text, mention: false });
    incident = { ...incident, told: [...incident.told, e.key] };
  }

  if (incident.lastState === 'Stable' && evaluation.state !== 'Stable' && evaluation.state !== 'Unknown') {
    timeline.push({ at: now, kind: 'rebalance', text: `Rebalance seen: group state ${incident.lastState} → ${evaluation.state}.`, mention: false });
  }
  if (incident.lastMemberIds && evaluation.memberIds && incident.lastMemberIds.join('\n') !== evaluation.memberIds.join('\n')) {
    timeline.push({ at: now, kind: 'members-changed', text: membersChangeText(incident.lastMemberIds, evaluation.memberIds), mention: false });
  }
  incident = { ...incident, lastState: evaluation.state, lastMemberIds: evaluation.memberIds ?? incident.lastMemberIds };

  if (target === null) {
    if (incident.belowWarningSince === null) {
      incident = { ...incident, belowWarningSince: now };
      timeline.push({
        at: now,
        kind: 'recovering',
        text: `Recovering: total lag ${formatCount(lag)} is back under ${formatCount(settings.warningLag)}; resolving after ${formatDuration(settings.resolveAfterMs / 1000)} under the line.`,
        mention: false,
      });
      rootChanged = true;
    } else if (now - incident.belowWarningSince >= settings.resolveAfterMs) {
      const resolved = resolve(
        incident,
        now,
        null,
        `lag under ${formatCount(settings.warningLag)} for ${formatDuration((now - incident.belowWarningSince) / 1000)} (now ${formatCount(lag)}).`,
      );
      return { ...resolved, timeline: [...timeline, ...resolved.timeline] };
    }
  } else if (incident.belowWarningSince !== null) {
    incident = { ...incident, belowWarningSince: null };
    timeline.push({ at: now, kind: 'relapsed', text: `Lag back over ${formatCount(settings.warningLag)} (${formatCount(lag)}): not resolving.`, mention: false });
    rootChanged = true;
  }

  const snoozed = incident.snoozed !== null && now < incident.snoozed.until;
  if (
    incident.severity === 'page' &&
    incident.acknowledged === null &&
    !snoozed &&
    incident.lastNotifiedAt !== null &&
    now - incident.lastNotifiedAt >= settings.renotifyAfterMs
  ) {
    timeline.push({
      at: now,
      kind: 'renotified',
      text: `Still paging, unacknowledged for ${formatDuration((now - incident.openedAt) / 1000)}: total lag ${formatCount(lag)} (${formatRate(evaluation.figures.lagGrowthPerSec)}).`,
      mention: true,
    });
    incident = { ...incident, lastNotifiedAt: now };
  }

  if (!rootChanged && (now - incident.rootRefreshedAt >= settings.rootRefreshMs || figuresMoved(current.figures, evaluation.figures))) {
    rootChanged = true;
  }
  if (rootChanged) incident = { ...incident, rootRefreshedAt: now };
  return { incident, timeline, opened: false, rootChanged, notice: null };
}

function alreadyResolved(incident: Incident | null): Step['notice'] {
  if (!incident) return { text: 'This incident no longer exists.' };
  if (incident.status !== 'resolved') return null;
  const by = incident.resolved?.by;
  return by ? { text: 'Already resolved by {user}; nothing changed.', user: by } : { text: 'Already resolved automatically; nothing changed.' };
}

/** Advance an incident by one input at time `now`. */
export function step(current: Incident | null, input: IncidentInput, settings: IncidentSettings, now: number): Step {
  if (input.kind === 'evaluation') {
    const live = current && current.status === 'open' ? current : null;
    // Missing data neither opens nor resolves anything.
    if (input.evaluation.figures.totalLag === null) return nothing(live);
    if (!live) return input.evaluation.severity ? open(input, now) : nothing(null);
    return onEvaluation(live, input.evaluation, settings, now);
  }

  const closed = alreadyResolved(current);
  if (closed !== null || !current) return nothing(current, closed);

  switch (input.kind) {
    case 'acknowledge': {
      if (current.acknowledged) return nothing(current, { text: 'Already acknowledged by {user}; nothing changed.', user: current.acknowledged.by });
      const incident: Incident = { ...current, acknowledged: { by: input.user, at: now, severity: current.severity }, updatedAt: now };
      const after = formatDuration((now - current.openedAt) / 1000);
      return {
        incident,
        timeline: [{ at: now, kind: 'acknowledged', text: `Acknowledged by {user} at ${upper(current.severity)}, ${after} after opening.`, user: input.user, mention: false }],
        opened: false,
        rootChanged: true,
        notice: null,
      };
    }
    case 'snooze': {
      const until = now + input.forMs;
      if (current.snoozed && current.snoozed.until >= until) {
        return nothing(current, { text: 'Already snoozed by {user} until then or later; nothing changed.', user: current.snoozed.by });
      }
      const incident: Incident = { ...current, snoozed: { by: input.user, at: now, until, severity: current.severity }, updatedAt: now };
      return {
        incident,
        timeline: [{ at: now, kind: 'snoozed', text: `Snoozed by {user} for ${formatDuration(input.forMs / 1000)}: no re-notification until then unless it escalates.`, user: input.user, mention: false }],
        opened: false,
        rootChanged: true,
        notice: null,
      };
    }
    case 'resolve':
      return resolve(current, now, input.user, `Lag at resolution: ${formatCount(current.figures.totalLag)}.`);
  }
}
