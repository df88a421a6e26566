import { formatCount, formatDuration } from './format.js';
import { hotPartition } from './hints.js';
import { rebalancesIn, ratesOf, sampleAtOrBefore, splitKey, stalledPartitions, type GroupSample } from './history.js';
import type { GroupLag, IncidentFigures, Severity } from './protocol.js';

/** The case study's thresholds are the defaults; every number is configurable. */
export interface Thresholds {
  warning: { lag: number; growingForMs: number };
  critical: { lag: number; doublingWithinMs: number };
  page: { lag: number };
}

export type EvidenceKind = 'hot-partition' | 'stalled' | 'stopped' | 'rebalance-storm' | 'idle-members' | 'under-scaled';

export interface SignalSettings {
  stallAfterMs: number;
  rebalanceWindowMs: number;
  /** This many rebalances within the window make a storm. */
  rebalanceStormCount: number;
  /** Evidence that raises severity to at least this level, where configured. */
  raise: Partial<Record<EvidenceKind, Severity>>;
}

export interface RuleSettings {
  thresholds: Thresholds;
  signals: SignalSettings;
  /** Window for produce / consume / growth rates. */
  rateWindowMs: number;
}

export const DEFAULT_RULES: RuleSettings = {
  thresholds: {
    warning: { lag: 50_000, growingForMs: 5 * 60_000 },
    critical: { lag: 500_000, doublingWithinMs: 10 * 60_000 },
    page: { lag: 2_000_000 },
  },
  signals: { stallAfterMs: 5 * 60_000, rebalanceWindowMs: 10 * 60_000, rebalanceStormCount: 3, raise: {} },
  rateWindowMs: 2 * 60_000,
};

export interface Evidence {
  kind: EvidenceKind;
  /** Identifies the finding, so the timeline tells it once per incident. */
  key: string;
  text: string;
}

export interface Evaluation {
  group: string;
  at: number;
  /** What the rules say now; null when no rule fires. */
  severity: Severity | null;
  reasons: string[];
  evidence: Evidence[];
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
  const start = sampleAtOrBefore(history, now.at - windowMs);
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
  const earlier = history.filter((s) => s.at >= now.at - windowMs && s.at < now.at && s.totalLag !== null && s.totalLag > floor);
  const low = Math.min(...earlier.map((s) => s.totalLag as number));
  return Number.isFinite(low) && now.totalLag >= 2 * low ? low : null;
}

function figuresOf(lag: GroupLag, history: readonly GroupSample[], settings: RuleSettings, severity: Severity | null): IncidentFigures {
  const rates = ratesOf(history, settings.rateWindowMs);
  const hot = hotPartition(lag);
  const growth = rates?.lagGrowthPerSec ?? null;
  const total = lag.totalLag;
  let nextThreshold: IncidentFigures['nextThreshold'] = null;
  if (growth !== null && growth > 0 && total !== null) {
    const { warning, critical, page } = settings.thresholds;
    // The next line that would change the severity: a group already critical by the
    // doubling rule is heading for the page line, not for the critical one.
    const current = severity === null ? 0 : SEVERITY_RANK[severity];
    const next = ([['warning', warning.lag], ['critical', critical.lag], ['page', page.lag]] as const).find(
      ([level, line]) => line > total && SEVERITY_RANK[level] > current,
    );
    if (next) nextThreshold = { severity: next[0], lag: next[1], seconds: Math.round((next[1] - total) / growth) };
  }
  return {
    at: lag.readAt,
    totalLag: total,
    lagGrowthPerSec: growth,
    producePerSec: rates?.producePerSec ?? null,
    consumePerSec: rates?.consumePerSec ?? null,
    state: lag.state,
    members: lag.membersVisible ? lag.members.length : null,
    partitions: lag.partitions.length,
    hotPartition: hot
      ? {
          topic: hot.partition.topic,
          partition: hot.partition.partition,
          lag: hot.partition.lag as number,
          share: hot.share,
          memberId: hot.partition.memberId,
          host: hot.partition.host,
        }
      : null,
    drainSeconds: growth !== null && growth < 0 && total !== null ? Math.round(total / -growth) : total === 0 ? 0 : null,
    nextThreshold,
  };
}

function evidenceOf(lag: GroupLag, history: readonly GroupSample[], settings: SignalSettings): Evidence[] {
  const found: Evidence[] = [];
  const hot = hotPartition(lag);
  if (hot) {
    const p = hot.partition;
    const owner = p.memberId ? `owned by ${p.memberId} on ${p.host ?? '?'}` : 'with no owner';
    found.push({
      kind: 'hot-partition',
      key: `hot-partition:${p.topic}-${p.partition}:${p.memberId ?? '-'}`,
      text: `Hot partition ${p.topic}-${p.partition}: ${Math.round(hot.share * 100)}% of the lag (${formatCount(p.lag)}), ${owner}.`,
    });
  }

  const owners = new Map(lag.partitions.map((p) => [`${p.topic}\u0000${p.partition}`, p]));
  for (const stall of stalledPartitions(history, settings.stallAfterMs)) {
    const { topic, partition } = splitKey(stall.key);
    const owner = owners.get(stall.key);
    const who = owner?.memberId ? `owner ${owner.memberId} on ${owner.host ?? '?'}` : 'no owner';
    found.push({
      kind: 'stalled',
      key: `stalled:${topic}-${partition}`,
      text:
        `Consumer stalled on ${topic}-${partition} (${who}): the committed offset has not moved for ` +
        `${formatDuration(stall.sinceMs / 1000)} while ${formatCount(stall.arrived)} messages arrived.`,
    });
  }

  if (lag.protocol === 'classic' && lag.members.length === 0 && (lag.totalLag ?? 0) > 0) {
    found.push({ kind: 'stopped', key: 'stopped', text: 'Group stopped: no members, nothing is consuming.' });
  }

  const now = history[history.length - 1];
  if (now) {
    const recent = rebalancesIn(history.filter((s) => s.at >= now.at - settings.rebalanceWindowMs));
    if (recent.length >= settings.rebalanceStormCount) {
      found.push({
        kind: 'rebalance-storm',
        key: 'rebalance-storm',
        text:
          `Rebalance storm: ${recent.length} rebalances in ${formatDuration(settings.rebalanceWindowMs / 1000)}. ` +
          'Members are being dropped, usually because poll() takes longer than max.poll.interval.ms: ' +
          'slow processing (the case study\'s was schema deserialization). Tune max.poll.records and max.poll.interval.ms together.',
      });
    }
  }

  if (lag.membersVisible && lag.members.length > 0 && lag.partitions.length > 0) {
    const partitions = new Set(lag.partitions.map((p) => `${p.topic}-${p.partition}`)).size;
    if (lag.members.length > partitions) {
      found.push({
        kind: 'idle-members',
        key: 'idle-members',
        text: `${lag.members.length} consumers for ${partitions} partitions: ${lag.members.length - partitions} sit idle. Add partitions to consume faster.`,
      });
    } else if (lag.members.length < partitions) {
      found.push({
        kind: 'under-scaled',
        key: `under-scaled:${lag.members.length}`,
        text: `${lag.members.length} consumer${lag.members.length === 1 ? '' : 's'} for ${partitions} partitions: scaling to ${partitions} consumers gives each partition its own.`,
      });
    }
  }
  return found;
}

/** Evaluate one group's current read against its history (which ends with this read). */
export function evaluate(lag: GroupLag, history: readonly GroupSample[], settings: RuleSettings): Evaluation {
  const { warning, critical, page } = settings.thresholds;
  const total = lag.totalLag;
  const reasons: string[] = [];
  let severity: Severity | null = null;

  if (total !== null) {
    if (total > page.lag) {
      severity = 'page';
      reasons.push(`total lag ${formatCount(total)} > ${formatCount(page.lag)}`);
    } else if (total > critical.lag) {
      severity = 'critical';
      reasons.push(`total lag ${formatCount(total)} > ${formatCount(critical.lag)}`);
    } else if (total > warning.lag) {
      const doubledFrom = doubledWithin(history, critical.doublingWithinMs, warning.lag);
      if (doubledFrom !== null) {
        severity = 'critical';
        reasons.push(`lag doubled within ${formatDuration(critical.doublingWithinMs / 1000)} (${formatCount(doubledFrom)} → ${formatCount(total)})`);
      } else if (growingFor(history, warning.growingForMs)) {
        severity = 'warning';
        reasons.push(`total lag ${formatCount(total)} > ${formatCount(warning.lag)} and growing for ${formatDuration(warning.growingForMs / 1000)}`);
      }
    }
  }

  const evidence = evidenceOf(lag, history, settings.signals);
  for (const e of evidence) {
    const floor = settings.signals.raise[e.kind];
    if (floor && (total ?? 0) > 0 && maxSeverity(severity, floor) !== severity) {
      severity = floor;
      reasons.push(`${e.kind.replace('-', ' ')} raises severity to ${floor}`);
    }
  }

  return {
    group: lag.group,
    at: lag.readAt,
    severity,
    reasons,
    evidence,
    figures: figuresOf(lag, history, settings, severity),
    belowWarning: total !== null && total <= warning.lag,
    state: lag.state,
    memberIds: lag.membersVisible ? lag.members.map((m) => m.memberId).sort() : null,
  };
}
