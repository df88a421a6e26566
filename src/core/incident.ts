import type { AccessAction, Refusal } from './access.js';
import { CHART_EVERY_MS, appendMark, appendPoint, leadInOf, pointOf, type ChartMark, type LagPoint } from './chart.js';
import { advancePolicy, NO_ESCALATION, reaches, startPolicy, type EscalationPolicy, type EscalationState, type Notification, type NotifyReason } from './escalation.js';
import { findingIdentity, type Finding } from './findings.js';
import type { GroupState, Incident, IncidentFigures, LagSecondsMethod, Severity } from './protocol.js';
import { SEVERITY_RANK, type Evaluation, type Reason } from './rules.js';
import { appliedSilence, muteWhileSilenced, trackSilence } from './incident-silence.js';
import { silenceFor, type Silence, type SilenceTarget } from './silence.js';

export { muteWhileSilenced, trackSilence };

/**
 * The incident state machine: a pure function from (incident, input, time) to the next
 * incident and what happened, as structured timeline entries. No I/O and no sentences:
 * the views turn entries into Slack messages, and the store saves both in one transaction.
 */

export interface IncidentSettings {
  /** Lag must stay under the warning line this long before the incident resolves. */
  resolveAfterMs: number;
  /** A lower severity must hold this long before the incident de-escalates. */
  deescalateAfterMs: number;
  /** Who is notified, in which order, from which severity (see escalation.ts). */
  escalation: EscalationPolicy;
  /** Root message refreshed for changed figures alone at most this often. */
  rootRefreshMs: number;
  warningLag: number;
}

export const DEFAULT_INCIDENT_SETTINGS: IncidentSettings = {
  resolveAfterMs: 5 * 60_000,
  deescalateAfterMs: 2 * 60_000,
  escalation: NO_ESCALATION,
  rootRefreshMs: 60_000,
  warningLag: 50_000,
};

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
  /** The stalest the group got while open, in seconds; null when never known. */
  peakLagSeconds?: number | null;
}

/** How stale the group was when an entry was told, and how that was found. */
export interface Staleness {
  seconds: number;
  method: LagSecondsMethod | null;
}

/** The figures' staleness, when known, for a timeline entry. */
function stalenessOf(figures: IncidentFigures): { staleness?: Staleness } {
  return figures.lagSeconds === null || figures.lagSeconds === undefined ? {} : { staleness: { seconds: figures.lagSeconds, method: figures.lagSecondsMethod ?? null } };
}

/** One event of an incident, as figures; each becomes one reply in the incident's thread. */
export type TimelineEvent =
  | { kind: 'opened'; severity: Severity; reasons: Reason[]; staleness?: Staleness }
  | { kind: 'escalated'; severity: Severity; reasons: Reason[]; lag: number | null; wasAcknowledgedAt: Severity | null; snoozeEnded: boolean; staleness?: Staleness }
  | { kind: 'deescalated'; severity: Severity; from: Severity; lag: number | null; belowForMs: number }
  | { kind: 'evidence'; finding: Finding }
  | { kind: 'rebalance'; from: GroupState; to: GroupState }
  | { kind: 'members-changed'; before: number; after: number; joined: string[]; left: string[] }
  | { kind: 'acknowledged'; user: string; severity: Severity; afterMs: number }
  | { kind: 'snoozed'; user: string; forMs: number }
  | { kind: 'snooze-ended'; user: string }
  /** Someone the access rules leave out tried an action; `rule` names the rule, `unreadable` when Slack could not tell. */
  | { kind: 'refused'; user: string; action: AccessAction; rule: string; unreadable: boolean }
  | { kind: 'recovering'; lag: number | null; line: number; resolveAfterMs: number }
  | { kind: 'relapsed'; lag: number | null; line: number }
  | { kind: 'silenced'; by: string; until: number; reason: string | null; target: SilenceTarget }
  /** `endedBy`: who ended it early, null when it ran out; `notified`: a page nobody took was told again. */
  | { kind: 'silence-ended'; by: string; endedBy: string | null; notified: boolean }
  /** Kept for timelines stored before escalation policies: re-notifications are `notified` entries now. */
  | { kind: 'renotified'; openForMs: number; lag: number | null; growthPerSec: number | null; staleness?: Staleness }
  /** People were notified (mentioned in the thread): by the policy, or added by hand. */
  | ({ kind: 'notified'; lag: number | null; staleness?: Staleness } & Notification)
  /** The policy's last round ran out without an acknowledgement. */
  | { kind: 'escalation-stopped'; levels: number; rounds: number; afterMs: number }
  | {
      kind: 'resolved';
      by: string | null;
      /** Automatic: under the line this long; by hand: the lag when it was resolved. */
      cause: { auto: true; line: number; underForMs: number; lag: number | null } | { auto: false; lag: number | null };
      summary: ImpactSummary;
    };

export type TimelineKind = TimelineEvent['kind'];

/** An event stamped with its time, and whether it mentions people (a `notified` entry does). */
export type TimelineEntry = TimelineEvent & { at: number; mention: boolean };

/** What a click that changed nothing tells the person who clicked. */
export type Notice =
  | { kind: 'no-such-incident' }
  | { kind: 'already-resolved'; by: string | null }
  | { kind: 'already-acknowledged'; by: string }
  | { kind: 'already-snoozed'; by: string }
  | { kind: 'already-assigned'; to: string }
  /** The access rules refused the click (and its thread was told). */
  | { kind: 'not-allowed'; action: AccessAction; refusal: Refusal };

export type IncidentInput =
  /** `afterGap`: checks were missed since the previous one (Kafka unreadable, or lagbot restarted). */
  /**
   * `leadIn`: the group's points before this check, asked only when an incident opens, so its
   * series (and first chart) starts with the build-up rather than a single point.
   */
  /** `silences`: those in force or recently over (see silence.ts); one that covers the group opens nothing and mentions no one. */
  | { kind: 'evaluation'; evaluation: Evaluation; channel: string; newId: () => string; afterGap?: boolean; leadIn?: () => readonly LagPoint[]; silences?: readonly Silence[] }
  | { kind: 'acknowledge'; user: string }
  | { kind: 'snooze'; user: string; forMs: number }
  | { kind: 'resolve'; user: string }
  /** People the clicker brought in: notified in the thread, listed on the root. */
  | { kind: 'add-responders'; user: string; responders: readonly string[] }
  /** The incident handed to `assignee`: notified, and shown on the root as its assignee. */
  | { kind: 'reassign'; user: string; assignee: string }
  /** A click the access rules refused: told in the timeline, nothing else changes. */
  | { kind: 'refused'; user: string; action: AccessAction; rule: string; unreadable: boolean };

export interface Step {
  incident: Incident | null;
  timeline: TimelineEntry[];
  /** The root message must be posted (new incident) or edited. */
  opened: boolean;
  rootChanged: boolean;
  notice: Notice | null;
  /** A chart of the incident goes into its thread: it opened, resolved, or escalated with no chart in the last CHART_EVERY_MS. */
  chart?: boolean;
}

const rank = (s: Severity | null): number => (s === null ? 0 : SEVERITY_RANK[s]);

function nothing(incident: Incident | null, notice: Notice | null = null): Step {
  return { incident, timeline: [], opened: false, rootChanged: false, notice };
}

/** The findings an incident tells as evidence; a rebalance already has its own entry. */
const isEvidence = (f: Finding): boolean => f.kind !== 'rebalancing' && f.kind !== 'members-not-visible';

/** A `notified` entry: who, why, and the figures at that moment. */
export function notifiedEntry(notification: Notification, figures: IncidentFigures, at: number): TimelineEntry {
  return { at, mention: true, kind: 'notified', ...notification, lag: figures.totalLag, ...stalenessOf(figures) };
}

/**
 * The policy's state of an incident. Incidents stored before policies have none: an
 * unacknowledged one that was paged was re-notified from lastNotifiedAt, which is where
 * its first level now stands.
 */
export function escalationOf(incident: Incident, policy: EscalationPolicy): EscalationState | null {
  if (incident.escalation !== undefined) return incident.escalation;
  if (incident.acknowledged === null && incident.lastNotifiedAt !== null && reaches(policy, incident.severity)) {
    return { level: 0, round: 1, notifiedAt: incident.lastNotifiedAt, exhausted: false };
  }
  return null;
}

function open(input: Extract<IncidentInput, { kind: 'evaluation' }>, settings: IncidentSettings, now: number): Step {
  const { evaluation } = input;
  const severity = evaluation.severity as Severity;
  const evidence = evaluation.findings.filter(isEvidence);
  const started = reaches(settings.escalation, severity) ? startPolicy(settings.escalation, now, { kind: 'started', severity }) : null;
  const incident: Incident = {
    id: input.newId(),
    cluster: evaluation.ref.cluster,
    group: evaluation.ref.group,
    channel: input.channel,
    status: 'open',
    severity,
    peakSeverity: severity,
    openedAt: now,
    updatedAt: now,
    peakLag: evaluation.figures.totalLag ?? 0,
    peakLagAt: now,
    peakLagSeconds: evaluation.figures.lagSeconds ?? null,
    openingConsumePerSec: evaluation.figures.consumePerSec,
    figures: evaluation.figures,
    acknowledged: null,
    snoozed: null,
    resolved: null,
    lastNotifiedAt: started ? now : null,
    escalation: started?.state ?? null,
    assignee: null,
    responders: [],
    belowWarningSince: null,
    belowWarningObservedMs: 0,
    lowerSeverity: null,
    lastObservedAt: now,
    rootRefreshedAt: now,
    told: evidence.map(findingIdentity),
    lastState: evaluation.state,
    lastMemberIds: evaluation.memberIds,
    series: [...leadInOf(input.leadIn?.() ?? [], now), pointOf(evaluation.figures)],
    marks: [],
    chartedAt: null,
  };
  const timeline: TimelineEntry[] = [
    { at: now, mention: false, kind: 'opened', severity, reasons: evaluation.reasons, ...stalenessOf(evaluation.figures) },
    ...(started ? [notifiedEntry(started.notification, evaluation.figures, now)] : []),
    ...evidence.map((finding): TimelineEntry => ({ at: now, mention: false, kind: 'evidence', finding })),
  ];
  return { incident, timeline, opened: true, rootChanged: true, notice: null };
}

/**
 * The incident's impact, as of `at`: at resolution (the resolved entry carries it) or, for an
 * incident still open, so far.
 */
export function impactSummaryOf(incident: Incident, at: number, resolvedBy: string | null): ImpactSummary {
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
    peakLagSeconds: incident.peakLagSeconds ?? null,
  };
}

function resolve(incident: Incident, at: number, by: string | null, cause: Extract<TimelineEvent, { kind: 'resolved' }>['cause']): Step {
  const resolved: Incident = { ...incident, status: 'resolved', resolved: { by, at }, updatedAt: at, snoozed: null };
  const entry: TimelineEntry = { at, mention: false, kind: 'resolved', by, cause, summary: impactSummaryOf(incident, at, by) };
  return { incident: resolved, timeline: [entry], opened: false, rootChanged: true, notice: null };
}

/**
 * One check's progress through an open incident. Each phase below is a small function of
 * this draft: it reads the evaluation, and may change the incident, add timeline entries
 * and mark the root message for an edit.
 */
export interface Draft {
  incident: Incident;
  timeline: TimelineEntry[];
  rootChanged: boolean;
  /** Set when the incident resolved: later phases have nothing to do. */
  resolved: Step | null;
}

export interface PhaseContext {
  evaluation: Evaluation;
  settings: IncidentSettings;
  now: number;
  /** The figures before this check, for "did anything move". */
  previous: IncidentFigures;
  /** The severity the incident should have now (see targetSeverity). */
  target: Severity | null;
  /**
   * Observed time since the previous check: 0 after a gap. Every hold ("under the line for
   * 5 min", "below critical for 2 min") adds this, so time without data never counts.
   */
  elapsedMs: number;
  /** The silences of the check (see IncidentInput), for the silence phases. */
  silences?: readonly Silence[];
}

export type Phase = (draft: Draft, ctx: PhaseContext) => void;

const tell = (draft: Draft, ctx: PhaseContext, event: TimelineEvent, mention = false): void => {
  draft.timeline.push({ ...event, at: ctx.now, mention } as TimelineEntry);
};

/**
 * While open, lag above the warning line keeps at least a warning even when it has
 * stopped growing: the incident is about lag, not only about the trend.
 */
export function targetSeverity(evaluation: Evaluation): Severity | null {
  return evaluation.severity ?? (evaluation.belowWarning ? null : 'warning');
}

/** Every check's figures join the incident's own series, which outlives the monitor's one-hour history. */
export const recordSeries: Phase = (draft, { evaluation }) => {
  draft.incident = { ...draft.incident, series: appendPoint(draft.incident.series ?? [], pointOf(evaluation.figures)) };
};

export const trackPeak: Phase = (draft, { evaluation, now }) => {
  const lag = evaluation.figures.totalLag;
  if (lag !== null && lag > draft.incident.peakLag) draft.incident = { ...draft.incident, peakLag: lag, peakLagAt: now };
  const seconds = evaluation.figures.lagSeconds;
  if (seconds !== null && seconds !== undefined && seconds > (draft.incident.peakLagSeconds ?? -1)) draft.incident = { ...draft.incident, peakLagSeconds: seconds };
};

/** Runs before escalation, so an escalation in the same check notifies normally. */
export const expireSnooze: Phase = (draft, ctx) => {
  const snoozed = draft.incident.snoozed;
  if (!snoozed || ctx.now < snoozed.until) return;
  tell(draft, ctx, { kind: 'snooze-ended', user: snoozed.by });
  draft.incident = { ...draft.incident, snoozed: null };
  draft.rootChanged = true;
};

/**
 * Whether an escalation to `target` (re)starts the policy from its first level: it reaches
 * the policy's severity from below it, past an acknowledgement, or after the policy ran out.
 * A policy still running at a severity it notifies for carries on where it is.
 */
function policyRestart(incident: Incident, target: Severity, policy: EscalationPolicy): NotifyReason | null {
  if (!reaches(policy, target)) return null;
  const state = escalationOf(incident, policy);
  const running = state !== null && !state.exhausted && incident.acknowledged === null && reaches(policy, incident.severity);
  if (running) return null;
  // Never notified before: this is the policy's first start, not a restart.
  return incident.lastNotifiedAt === null ? { kind: 'started', severity: target } : { kind: 'restarted', severity: target };
}

export const escalate: Phase = (draft, ctx) => {
  const { target, now, evaluation, settings } = ctx;
  const incident = draft.incident;
  if (target === null || rank(target) <= rank(incident.severity)) return;
  const wasAcked = incident.acknowledged;
  const snoozeEnded = incident.snoozed !== null && rank(target) > rank(incident.snoozed.severity);
  const reason = policyRestart(incident, target, settings.escalation);
  const started = reason ? startPolicy(settings.escalation, now, reason) : null;
  draft.incident = {
    ...incident,
    severity: target,
    peakSeverity: rank(target) > rank(incident.peakSeverity) ? target : incident.peakSeverity,
    lowerSeverity: null,
    acknowledged: null,
    snoozed: snoozeEnded ? null : incident.snoozed,
    lastNotifiedAt: started ? now : incident.lastNotifiedAt,
    escalation: started ? started.state : escalationOf(incident, settings.escalation),
  };
  tell(draft, ctx, {
    kind: 'escalated',
    severity: target,
    reasons: evaluation.reasons,
    lag: evaluation.figures.totalLag,
    wasAcknowledgedAt: wasAcked?.severity ?? null,
    snoozeEnded,
    ...stalenessOf(evaluation.figures),
  });
  if (started) draft.timeline.push(notifiedEntry(started.notification, evaluation.figures, now));
  draft.rootChanged = true;
};

/** A lower severity must hold for deescalateAfterMs before the incident steps down. */
export const deescalate: Phase = (draft, ctx) => {
  const { target, now, settings, evaluation, elapsedMs } = ctx;
  const incident = draft.incident;
  if (target !== null && rank(target) < rank(incident.severity)) {
    const lower = incident.lowerSeverity;
    if (!lower || lower.severity !== target) {
      draft.incident = { ...incident, lowerSeverity: { severity: target, since: now, observedMs: 0 } };
      return;
    }
    const observedMs = (lower.observedMs ?? 0) + elapsedMs;
    if (observedMs >= settings.deescalateAfterMs) {
      tell(draft, ctx, { kind: 'deescalated', severity: target, from: incident.severity, lag: evaluation.figures.totalLag, belowForMs: observedMs });
      draft.incident = { ...incident, severity: target, lowerSeverity: null };
      draft.rootChanged = true;
    } else {
      draft.incident = { ...incident, lowerSeverity: { ...lower, observedMs } };
    }
  } else if (incident.lowerSeverity && (target === null || rank(target) >= rank(incident.severity))) {
    draft.incident = { ...incident, lowerSeverity: null };
  }
};

export const tellEvidence: Phase = (draft, ctx) => {
  for (const finding of ctx.evaluation.findings.filter(isEvidence)) {
    const identity = findingIdentity(finding);
    if (draft.incident.told.includes(identity)) continue;
    tell(draft, ctx, { kind: 'evidence', finding });
    draft.incident = { ...draft.incident, told: [...draft.incident.told, identity] };
  }
};

export const tellGroupChanges: Phase = (draft, ctx) => {
  const { evaluation } = ctx;
  const { lastState, lastMemberIds } = draft.incident;
  if (lastState === 'Stable' && evaluation.state !== 'Stable' && evaluation.state !== 'Unknown') {
    tell(draft, ctx, { kind: 'rebalance', from: lastState, to: evaluation.state });
  }
  const now = evaluation.memberIds;
  if (lastMemberIds && now && lastMemberIds.join('\n') !== now.join('\n')) {
    tell(draft, ctx, {
      kind: 'members-changed',
      before: lastMemberIds.length,
      after: now.length,
      joined: now.filter((m) => !lastMemberIds.includes(m)),
      left: lastMemberIds.filter((m) => !now.includes(m)),
    });
  }
  draft.incident = { ...draft.incident, lastState: evaluation.state, lastMemberIds: now ?? lastMemberIds };
};

/** Under the warning line: start the resolve clock, or resolve once it has run out. Back over: stop it. */
export const trackRecovery: Phase = (draft, ctx) => {
  const { target, now, settings, evaluation, elapsedMs } = ctx;
  const lag = evaluation.figures.totalLag;
  const line = settings.warningLag;
  if (target === null) {
    if (draft.incident.belowWarningSince === null) {
      draft.incident = { ...draft.incident, belowWarningSince: now, belowWarningObservedMs: 0 };
      tell(draft, ctx, { kind: 'recovering', lag, line, resolveAfterMs: settings.resolveAfterMs });
      draft.rootChanged = true;
      return;
    }
    const observedMs = (draft.incident.belowWarningObservedMs ?? 0) + elapsedMs;
    draft.incident = { ...draft.incident, belowWarningObservedMs: observedMs };
    if (observedMs >= settings.resolveAfterMs) {
      draft.resolved = resolve(draft.incident, now, null, { auto: true, line, underForMs: observedMs, lag });
    }
  } else if (draft.incident.belowWarningSince !== null) {
    draft.incident = { ...draft.incident, belowWarningSince: null, belowWarningObservedMs: 0 };
    tell(draft, ctx, { kind: 'relapsed', lag, line });
    draft.rootChanged = true;
  }
};

/**
 * An unacknowledged incident at the policy's severity moves to the next level once the
 * current level's wait has run out; a snoozed one stands still until the snooze ends.
 */
export const followPolicy: Phase = (draft, ctx) => {
  const { now, settings, evaluation } = ctx;
  const incident = draft.incident;
  const policy = settings.escalation;
  const snoozed = incident.snoozed !== null && now < incident.snoozed.until;
  const state = escalationOf(incident, policy);
  // A silence holds the policy where it is; trackSilence starts it again when the silence ends.
  const silenced = appliedSilence(incident.silence) !== null;
  if (state === null || incident.acknowledged !== null || snoozed || silenced || !reaches(policy, incident.severity)) return;
  const next = advancePolicy(policy, state, now);
  if (!next) return;
  if (next.notification) {
    draft.timeline.push(notifiedEntry(next.notification, evaluation.figures, now));
    draft.incident = { ...incident, escalation: next.state, lastNotifiedAt: now };
  } else {
    tell(draft, ctx, { kind: 'escalation-stopped', ...next.stopped });
    draft.incident = { ...incident, escalation: next.state };
  }
};

/** The root names the current diagnosis: a new one is worth an edit at once. */
function diagnosisChanged(before: IncidentFigures, after: IncidentFigures): boolean {
  const identity = (f: IncidentFigures): string => (f.diagnosis ? findingIdentity(f.diagnosis) : '');
  return identity(before) !== identity(after);
}

/** Whether new figures alone are worth an edit of the root message before rootRefreshMs is up. */
export function figuresMoved(before: IncidentFigures, after: IncidentFigures): boolean {
  const a = before.totalLag ?? 0;
  const b = after.totalLag ?? 0;
  const bigMove = Math.abs(b - a) > Math.max(1, a) * 0.1;
  const trendFlip = Math.sign(before.lagGrowthPerSec ?? 0) !== Math.sign(after.lagGrowthPerSec ?? 0);
  const hotMoved = `${before.hotPartition?.topic}-${before.hotPartition?.partition}` !== `${after.hotPartition?.topic}-${after.hotPartition?.partition}`;
  return bigMove || trendFlip || hotMoved || diagnosisChanged(before, after) || before.state !== after.state || before.members !== after.members;
}

export const refreshRoot: Phase = (draft, ctx) => {
  const { now, settings, previous, evaluation } = ctx;
  if (!draft.rootChanged && (now - draft.incident.rootRefreshedAt >= settings.rootRefreshMs || figuresMoved(previous, evaluation.figures))) {
    draft.rootChanged = true;
  }
  if (draft.rootChanged) draft.incident = { ...draft.incident, rootRefreshedAt: now };
};

/** The phases of a check on an open incident, in the order they must run. */
export const PHASES: readonly Phase[] = [recordSeries, trackPeak, expireSnooze, trackSilence, escalate, deescalate, tellEvidence, tellGroupChanges, trackRecovery, followPolicy, muteWhileSilenced, refreshRoot];

function onEvaluation(current: Incident, evaluation: Evaluation, settings: IncidentSettings, now: number, afterGap: boolean, silences: readonly Silence[]): Step {
  const draft: Draft = { incident: { ...current, figures: evaluation.figures, updatedAt: now }, timeline: [], rootChanged: false, resolved: null };
  const last = current.lastObservedAt ?? null;
  const elapsedMs = afterGap || last === null ? 0 : Math.max(0, now - last);
  const ctx: PhaseContext = { evaluation, settings, now, previous: current.figures, target: targetSeverity(evaluation), elapsedMs, silences };
  for (const phase of PHASES) {
    phase(draft, ctx);
    if (draft.resolved) return { ...draft.resolved, timeline: [...draft.timeline, ...draft.resolved.timeline] };
  }
  const incident = { ...draft.incident, lastObservedAt: now };
  return { incident, timeline: draft.timeline, opened: false, rootChanged: draft.rootChanged, notice: null };
}

/** What a click on an incident that can no longer change says; null while it is open. */
export function alreadyResolved(incident: Incident | null): Notice | null {
  if (!incident) return { kind: 'no-such-incident' };
  return incident.status === 'resolved' ? { kind: 'already-resolved', by: incident.resolved?.by ?? null } : null;
}

function markOf(entry: TimelineEntry): ChartMark | null {
  switch (entry.kind) {
    case 'opened':
    case 'escalated':
      return { kind: entry.kind, at: entry.at, severity: entry.severity, by: null };
    case 'acknowledged':
      return { kind: 'acknowledged', at: entry.at, severity: entry.severity, by: entry.user };
    case 'resolved':
      return { kind: 'resolved', at: entry.at, severity: null, by: entry.by };
    default:
      return null;
  }
}

/** The step's marks join the incident, and whether it is worth a chart in the thread. */
function withChart(result: Step, now: number): Step {
  const incident = result.incident;
  if (!incident || result.timeline.length === 0) return result;
  let marks = incident.marks ?? [];
  for (const entry of result.timeline) {
    const mark = markOf(entry);
    if (mark) marks = appendMark(marks, mark);
  }
  const kinds = new Set(result.timeline.map((e) => e.kind));
  const last = incident.chartedAt ?? null;
  const chart = kinds.has('opened') || kinds.has('resolved') || (kinds.has('escalated') && (last === null || now - last >= CHART_EVERY_MS));
  return { ...result, incident: { ...incident, marks, chartedAt: chart ? now : last }, chart };
}

/** Advance an incident by one input at time `now`. */
export function step(current: Incident | null, input: IncidentInput, settings: IncidentSettings, now: number): Step {
  return withChart(advance(current, input, settings, now), now);
}

function advance(current: Incident | null, input: IncidentInput, settings: IncidentSettings, now: number): Step {
  if (input.kind === 'evaluation') {
    const live = current && current.status === 'open' ? current : null;
    // Missing data neither opens nor resolves anything, and is a gap: the time until the
    // next reading is not observed.
    if (input.evaluation.figures.totalLag === null) return nothing(live && live.lastObservedAt !== null ? { ...live, lastObservedAt: null } : live);
    const silences = input.silences ?? [];
    if (!live) return input.evaluation.severity && silenceFor(silences, input.evaluation.ref, now) === null ? open(input, settings, now) : nothing(null);
    return onEvaluation(live, input.evaluation, settings, now, input.afterGap === true, silences);
  }

  if (input.kind === 'refused') {
    if (!current) return nothing(null, { kind: 'no-such-incident' });
    const { kind: _kind, ...refusal } = input;
    return { incident: current, timeline: [{ at: now, mention: false, kind: 'refused', ...refusal }], opened: false, rootChanged: false, notice: null };
  }

  const closed = alreadyResolved(current);
  if (closed !== null || !current) return nothing(current, closed);

  switch (input.kind) {
    case 'acknowledge': {
      if (current.acknowledged) return nothing(current, { kind: 'already-acknowledged', by: current.acknowledged.by });
      // An acknowledgement stops the policy; an escalation past it starts it again.
      const incident: Incident = { ...current, acknowledged: { by: input.user, at: now, severity: current.severity }, escalation: null, updatedAt: now };
      const entry: TimelineEntry = { at: now, mention: false, kind: 'acknowledged', user: input.user, severity: current.severity, afterMs: now - current.openedAt };
      return { incident, timeline: [entry], opened: false, rootChanged: true, notice: null };
    }
    case 'snooze': {
      const until = now + input.forMs;
      if (current.snoozed && current.snoozed.until >= until) return nothing(current, { kind: 'already-snoozed', by: current.snoozed.by });
      const incident: Incident = { ...current, snoozed: { by: input.user, at: now, until, severity: current.severity }, updatedAt: now };
      const entry: TimelineEntry = { at: now, mention: false, kind: 'snoozed', user: input.user, forMs: input.forMs };
      return { incident, timeline: [entry], opened: false, rootChanged: true, notice: null };
    }
    case 'resolve':
      return resolve(current, now, input.user, { auto: false, lag: current.figures.totalLag });
    case 'add-responders': {
      const responders = [...new Set(input.responders)];
      if (responders.length === 0) return nothing(current);
      const known = current.responders ?? [];
      const incident: Incident = { ...current, responders: [...known, ...responders.filter((r) => !known.includes(r))], updatedAt: now };
      const entry = notifiedEntry({ notify: responders, reason: { kind: 'responder-added', by: input.user }, position: null }, current.figures, now);
      return { incident, timeline: [entry], opened: false, rootChanged: true, notice: null };
    }
    case 'reassign': {
      const from = current.assignee?.user ?? null;
      if (from === input.assignee) return nothing(current, { kind: 'already-assigned', to: from });
      const incident: Incident = { ...current, assignee: { user: input.assignee, by: input.user, at: now }, updatedAt: now };
      const entry = notifiedEntry({ notify: [input.assignee], reason: { kind: 'reassigned', by: input.user, from }, position: null }, current.figures, now);
      return { incident, timeline: [entry], opened: false, rootChanged: true, notice: null };
    }
  }
}
