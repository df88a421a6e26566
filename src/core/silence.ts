import picomatch from 'picomatch';
import type { GroupRef } from './protocol.js';

/**
 * Silences and maintenance windows: while one covers a group, a check opens no incident for
 * it and an open incident mentions no one (its timeline goes on). Whether a silence is in
 * force is a function of the time alone, so nothing has to run when one starts or ends.
 */

/** What a silence covers: the groups a glob matches (on one cluster, or on every cluster), or a whole cluster. */
export type SilenceTarget = { kind: 'groups'; pattern: string; cluster: string | null } | { kind: 'cluster'; cluster: string };

export interface Silence {
  id: string;
  target: SilenceTarget;
  /** The Slack user who silenced. */
  by: string;
  reason: string | null;
  createdAt: number;
  startsAt: number;
  endsAt: number;
  /** Someone ended it before `endsAt`. */
  endedEarly: { by: string; at: number } | null;
}

/** Bounds that keep a typo from hiding a group for a month. */
export const SILENCE_LIMITS = {
  minMs: 60_000,
  maxMs: 7 * 86_400_000,
  /** How far ahead a maintenance window may be scheduled. */
  maxAheadMs: 30 * 86_400_000,
  reasonChars: 300,
  /** Silences over for longer than this are forgotten. */
  keepEndedMs: 7 * 86_400_000,
} as const;

/** When a silence stops being in force: its end, or the moment it was ended early. */
export function endOf(silence: Silence): number {
  return silence.endedEarly ? Math.min(silence.endedEarly.at, silence.endsAt) : silence.endsAt;
}

export function isActive(silence: Silence, now: number): boolean {
  return silence.startsAt <= now && now < endOf(silence);
}

/** Not yet in force, and not ended before it began. */
export function isScheduled(silence: Silence, now: number): boolean {
  return now < silence.startsAt && silence.endedEarly === null;
}

const matchers = new Map<string, (name: string) => boolean>();

/** A pattern picomatch cannot compile matches only the group of that exact name. */
function globOrLiteral(pattern: string): (name: string) => boolean {
  try {
    const glob = picomatch(pattern, { dot: true, bash: true, nonegate: true });
    return (name) => glob(name);
  } catch {
    return (name) => name === pattern;
  }
}

function globMatches(pattern: string, name: string): boolean {
  let match = matchers.get(pattern);
  if (!match) {
    // Group ids are not paths: `*` crosses `/` and `.` like any other character. A leading `!`
    // is a character, not a negation: `!x` silencing every group but x would be one typo away.
    match = globOrLiteral(pattern);
    if (matchers.size > 1000) matchers.clear();
    matchers.set(pattern, match);
  }
  return match(name);
}

export function covers(target: SilenceTarget, ref: GroupRef): boolean {
  if (target.kind === 'cluster') return target.cluster === ref.cluster;
  return (target.cluster === null || target.cluster === ref.cluster) && globMatches(target.pattern, ref.group);
}

/**
 * The silence in force for a group at `now`, or null. Of several, the one that lasts
 * longest: it is the one that says until when the group is quiet.
 */
export function silenceFor(silences: readonly Silence[], ref: GroupRef, now: number): Silence | null {
  let found: Silence | null = null;
  for (const s of silences) {
    if (!isActive(s, now) || !covers(s.target, ref)) continue;
    if (found === null || endOf(s) > endOf(found)) found = s;
  }
  return found;
}

/** Whether a silence of the whole cluster is in force: lagbot's own word that it cannot read Kafka is held back then. */
export function clusterSilenced(silences: readonly Silence[], cluster: string, now: number): boolean {
  return silences.some((s) => s.target.kind === 'cluster' && s.target.cluster === cluster && isActive(s, now));
}

/** Active silences first (ending soonest first), then scheduled ones (starting soonest first). */
export function currentSilences(silences: readonly Silence[], now: number): Silence[] {
  const active = silences.filter((s) => isActive(s, now)).sort((a, b) => endOf(a) - endOf(b) || a.id.localeCompare(b.id));
  const scheduled = silences.filter((s) => isScheduled(s, now)).sort((a, b) => a.startsAt - b.startsAt || a.id.localeCompare(b.id));
  return [...active, ...scheduled];
}

export const activeCount = (silences: readonly Silence[], now: number): number => silences.filter((s) => isActive(s, now)).length;

/** What someone asked for with `/lag silence ...`, as parsed (see silence-command.ts). */
export interface SilenceRequest {
  target: SilenceTarget;
  durationMs: number;
  /** A maintenance window's start; now when absent. */
  from: number | null;
  reason: string | null;
}

/** Why a silence was refused: kinds and figures, the view writes the sentence. */
export type SilenceProblem =
  | { kind: 'too-short'; durationMs: number; minMs: number }
  | { kind: 'too-long'; durationMs: number; maxMs: number }
  | { kind: 'starts-in-past'; from: number; now: number }
  | { kind: 'starts-too-far-ahead'; from: number; maxAheadMs: number }
  | { kind: 'reason-too-long'; chars: number; maxChars: number }
  | { kind: 'unknown-cluster'; cluster: string; known: readonly string[] };

export type SilencePlan = { ok: true; silence: Silence } | { ok: false; problem: SilenceProblem };

export interface PlanContext {
  now: number;
  user: string;
  id: string;
  /** The configured clusters: a silence on a cluster lagbot does not watch would silence nothing. */
  clusters: readonly string[];
}

/** A requested silence checked against the time and the configuration, or the reason it is refused. */
export function planSilence(request: SilenceRequest, ctx: PlanContext): SilencePlan {
  const refuse = (problem: SilenceProblem): SilencePlan => ({ ok: false, problem });
  const { durationMs, from, reason, target } = request;
  const cluster = target.cluster;
  if (cluster !== null && !ctx.clusters.includes(cluster)) return refuse({ kind: 'unknown-cluster', cluster, known: ctx.clusters });
  if (durationMs < SILENCE_LIMITS.minMs) return refuse({ kind: 'too-short', durationMs, minMs: SILENCE_LIMITS.minMs });
  if (durationMs > SILENCE_LIMITS.maxMs) return refuse({ kind: 'too-long', durationMs, maxMs: SILENCE_LIMITS.maxMs });
  // A minute of grace: "from 02:00" typed at 02:00:20 means now, not an error.
  if (from !== null && from < ctx.now - 60_000) return refuse({ kind: 'starts-in-past', from, now: ctx.now });
  if (from !== null && from - ctx.now > SILENCE_LIMITS.maxAheadMs) return refuse({ kind: 'starts-too-far-ahead', from, maxAheadMs: SILENCE_LIMITS.maxAheadMs });
  if (reason !== null && reason.length > SILENCE_LIMITS.reasonChars) return refuse({ kind: 'reason-too-long', chars: reason.length, maxChars: SILENCE_LIMITS.reasonChars });
  const startsAt = from === null ? ctx.now : Math.max(from, ctx.now);
  return { ok: true, silence: { id: ctx.id, target, by: ctx.user, reason, createdAt: ctx.now, startsAt, endsAt: startsAt + durationMs, endedEarly: null } };
}

/** What ending a silence early did. */
export type SilenceEnding = { kind: 'ended'; silence: Silence } | { kind: 'no-such-silence'; id: string } | { kind: 'already-over'; silence: Silence };

/** End a silence now; a scheduled one is cancelled (it ends before it starts). */
export function endSilence(silence: Silence | null, id: string, user: string, now: number): SilenceEnding {
  if (!silence) return { kind: 'no-such-silence', id };
  if (endOf(silence) <= now) return { kind: 'already-over', silence };
  return { kind: 'ended', silence: { ...silence, endedEarly: { by: user, at: now } } };
}

/** The silence an open incident is under (or was, with when it ended), as its root message tells it. */
export interface IncidentSilence {
  id: string;
  by: string;
  until: number;
  reason: string | null;
  target: SilenceTarget;
  /** Set once it no longer applies; null while it does. */
  endedAt: number | null;
  /** Who ended it early; null when it ran out (or while it applies). */
  endedBy: string | null;
}
