import { DEFAULT_FINDING_SETTINGS, diagnosisOf, findingOfKind, findingsOf, type Finding, type FindingKind, type FindingSettings } from './findings.js';
import { completeTotal } from './lag.js';
import { observedWindow, ratesOf, sampleObservedAgo, type GroupSample } from './history.js';
import type { GroupLag, GroupRef, IncidentFigures, PartitionLag, Severity } from './protocol.js';
import { DEFAULT_STALENESS, type StalenessSettings } from './staleness.js';

/** The case study's thresholds are the defaults; every number is configurable. */
export interface Thresholds {
  /** `seconds`: a staleness line beside the lag line (either fires); null: none. */
  warning: { lag: number; growingForMs: number; seconds: number | null };
  critical: { lag: number; doublingWithinMs: number; seconds: number | null };
  page: { lag: number; seconds: number | null };
}

export interface SignalSettings extends FindingSettings {
  /** Findings that raise severity to at least this level, where configured. */
  raise: Partial<Record<FindingKind, Severity>>;
}

export interface RuleSettings {
  thresholds: Thresholds;
  /** The findings' settings; their `rateWindowMs` is the window of the figures' produce, consume and growth rates too. */
  signals: SignalSettings;
  staleness: StalenessSettings;
}

export const DEFAULT_RULES: RuleSettings = {
  thresholds: {
    warning: { lag: 50_000, growingForMs: 5 * 60_000, seconds: null },
    critical: { lag: 500_000, doublingWithinMs: 10 * 60_000, seconds: null },
    page: { lag: 2_000_000, seconds: null },
  },
  signals: { ...DEFAULT_FINDING_SETTINGS, raise: {} },
  staleness: DEFAULT_STALENESS,
};

/** Why the rules chose a severity: the rule and its figures. */
export type Reason =
  | { rule: 'page-line' | 'critical-line'; lag: number; line: number }
  | { rule: 'doubled'; from: number; to: number; withinMs: number }
  | { rule: 'growing'; lag: number; line: number; forMs: number }
  /** Staleness over a level's seconds line. */
  | { rule: 'stale'; severity: Severity; seconds: number; line: number }
  | { rule: 'raised'; finding: FindingKind; severity: Severity };

export interface Evaluation {
  ref: GroupRef;
  at: number;
  /** What the rules say now; null when no rule fires. */
  severity: Severity | null;
  reasons: Reason[];
  /** Everything the findings catalogue sees in this read and the history before it. */
  findings: Finding[];
  figures: IncidentFigures;
  /** Total lag known and under the warning line: the condition for resolving. */
  belowWarning: boolean;
  state: GroupLag['state'];
  memberIds: string[] | null;
}

export const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2, page: 3 };

export function maxSeverity(a: Severity | null, b: Severity | null): Severity | null {
  if (a === null) return b;
  if (b === null) return a;
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

/**
 * Growing for the whole window: the history reaches back that far, lag is higher now
 * than at the window's start, and most steps went up (one dip from a batch commit does
 * not break the trend).
 */
function growingFor(history: readonly GroupSample[], windowMs: number): boolean {
  const now = history[history.length - 1];
  if (!now || now.totalLag === null) return false;
  const start = sampleObservedAgo(history, windowMs);
  if (!start || start.totalLag === null || now.totalLag <= start.totalLag) return false;
  const steps = history.filter((s) => s.at >= start.at && s.totalLag !== null);
  let up = 0;
  for (let i = 1; i < steps.length; i += 1) if ((steps[i]?.totalLag ?? 0) >= (steps[i - 1]?.totalLag ?? 0)) up += 1;
  return steps.length > 1 && up / (steps.length - 1) >= 2 / 3;
}

/**
 * Lag at least doubled within the window: some sample in it had half of today's lag or
 * less, and was itself over the warning line. Climbing from near zero to just over the
 * line is how every incident starts; it is the warning rule's business, not critical.
 */
function doubledWithin(history: readonly GroupSample[], windowMs: number, floor: number): number | null {
  const now = history[history.length - 1];
  if (!now || now.totalLag === null) return null;
  const earlier = observedWindow(history, windowMs).filter((s) => s !== now && s.totalLag !== null && s.totalLag > floor);
  const low = Math.min(...earlier.map((s) => s.totalLag as number));
  return Number.isFinite(low) && now.totalLag >= 2 * low ? low : null;
}

/** The lag at which the doubling rule fires: twice the lowest over-the-line sample in the window, now included. */
function doublingTarget(history: readonly GroupSample[], windowMs: number, floor: number): number | null {
  const now = history[history.length - 1];
  if (!now) return null;
  const over = observedWindow(history, windowMs).filter((s) => s.totalLag !== null && s.totalLag > floor).map((s) => s.totalLag as number);
  return over.length > 0 ? 2 * Math.min(...over) : null;
}

function figuresOf(lag: GroupLag, history: readonly GroupSample[], findings: readonly Finding[], settings: RuleSettings, severity: Severity | null): IncidentFigures {
  const rates = ratesOf(history, settings.signals.rateWindowMs);
  const hot = findingOfKind(findings, 'hot-partition');
  const growth = rates?.lagGrowthPerSec ?? null;
  const total = completeTotal(lag);
  let nextThreshold: IncidentFigures['nextThreshold'] = null;
  if (growth !== null && growth > 0 && total !== null) {
    const { warning, critical, page } = settings.thresholds;
    // The next line that would change the severity: a group already critical by the
    // doubling rule is heading for the page line, not for the critical one.
    const current = severity === null ? 0 : SEVERITY_RANK[severity];
    const inMs = (target: number) => Math.round(((target - total) / growth) * 1000);
    const next = ([['warning', warning.lag], ['critical', critical.lag], ['page', page.lag]] as const).find(
      ([level, line]) => line > total && SEVERITY_RANK[level] > current,
    );
    if (next) nextThreshold = { severity: next[0], lag: next[1], inMs: inMs(next[1]), rule: 'line' };
    // The doubling rule can make it critical well before the critical line: lag over the
    // warning line doubles from the lowest such sample still in the window.
    const doublesAt = current < SEVERITY_RANK.critical && total > warning.lag ? doublingTarget(history, critical.doublingWithinMs, warning.lag) : null;
    if (doublesAt !== null && doublesAt > total && (!nextThreshold || inMs(doublesAt) < nextThreshold.inMs)) {
      nextThreshold = { severity: 'critical', lag: doublesAt, inMs: inMs(doublesAt), rule: 'doubling' };
    }
  }
  return {
    at: lag.readAt,
    totalLag: total,
    lagSeconds: lag.lagSeconds ?? null,
    lagSecondsMethod: lag.lagSecondsMethod ?? null,
    lagGrowthPerSec: growth,
    producePerSec: rates?.producePerSec ?? null,
    consumePerSec: rates?.consumePerSec ?? null,
    state: lag.state,
    members: lag.membersVisible ? lag.members.length : null,
    partitions: lag.partitions.length,
    hotPartition: hot ? { topic: hot.topic, partition: hot.partition, lag: hot.lag, share: hot.share, owner: hot.owner } : null,
    drainMs: growth !== null && growth < 0 && total !== null ? Math.round((total / -growth) * 1000) : total === 0 ? 0 : null,
    nextThreshold,
    diagnosis: diagnosisOf(findings),
  };
}

/** The highest level whose seconds line the group's staleness is over. */
function staleLevel(seconds: number | null | undefined, thresholds: Thresholds): Reason | null {
  if (seconds === null || seconds === undefined) return null;
  for (const level of ['page', 'critical', 'warning'] as const) {
    const line = thresholds[level].seconds;
    if (line !== null && seconds > line) return { rule: 'stale', severity: level, seconds, line };
  }
  return null;
}

/**
 * Evaluate one group's current read against its history (which ends with this read).
 * `idle`: partitions nothing was produced to for the idle window; their lag in offsets
 * alone never alerts (0 s stale: the records wait, but none grow older than the topic).
 */
export function evaluate(lag: GroupLag, history: readonly GroupSample[], settings: RuleSettings, idle: ReadonlySet<PartitionLag> = new Set()): Evaluation {
  const { warning, critical, page } = settings.thresholds;
  // A read missing some partitions is missing data to the rules: it neither opens, raises,
  // lowers nor resolves anything, and the time it covers is not observed.
  const complete = completeTotal(lag);
  let idleLag = 0;
  for (const p of idle) idleLag += p.lag ?? 0;
  const total = complete === null ? null : complete - idleLag;
  const reasons: Reason[] = [];
  let severity: Severity | null = null;

  if (total !== null) {
    if (total > page.lag) {
      severity = 'page';
      reasons.push({ rule: 'page-line', lag: total, line: page.lag });
    } else if (total > critical.lag) {
      severity = 'critical';
      reasons.push({ rule: 'critical-line', lag: total, line: critical.lag });
    } else if (total > warning.lag) {
      const doubledFrom = doubledWithin(history, critical.doublingWithinMs, warning.lag);
      if (doubledFrom !== null) {
        severity = 'critical';
        reasons.push({ rule: 'doubled', from: doubledFrom, to: total, withinMs: critical.doublingWithinMs });
      } else if (growingFor(history, warning.growingForMs)) {
        severity = 'warning';
        reasons.push({ rule: 'growing', lag: total, line: warning.lag, forMs: warning.growingForMs });
      }
    }
  }

  const stale = staleLevel(lag.lagSeconds, settings.thresholds);
  if (stale && stale.rule === 'stale' && maxSeverity(severity, stale.severity) !== severity) {
    severity = stale.severity;
    reasons.unshift(stale);
  }

  const findings = findingsOf({ lag, history, settings: settings.signals });
  for (const f of findings) {
    const floor = settings.signals.raise[f.kind];
    if (floor && (total ?? 0) > 0 && maxSeverity(severity, floor) !== severity) {
      severity = floor;
      reasons.push({ rule: 'raised', finding: f.kind, severity: floor });
    }
  }

  return {
    ref: { cluster: lag.cluster, group: lag.group },
    at: lag.readAt,
    severity,
    reasons,
    findings,
    figures: figuresOf(lag, history, findings, settings, severity),
    belowWarning: total !== null && total <= warning.lag && (warning.seconds === null || (lag.lagSeconds ?? 0) <= warning.seconds),
    state: lag.state,
    memberIds: lag.membersVisible ? lag.members.map((m) => m.memberId).sort() : null,
  };
}
