import type { Severity } from './protocol.js';
import { SEVERITY_RANK } from './rules.js';

/**
 * Escalation policies: who is notified, in which order, and how long each level has to
 * acknowledge before the next one is told. Pure functions over the policy (from the
 * configuration) and its state (kept in the incident); the incident machine decides when
 * a policy starts, stops and restarts.
 */

export interface EscalationLevel {
  /** Slack targets as configured: user ids (U…/W…), user-group ids (S…), `here`, `channel`. */
  notify: readonly string[];
  /** How long this level has to acknowledge before the next level is notified. */
  waitMs: number;
}

export interface EscalationPolicy {
  levels: readonly EscalationLevel[];
  /** How many times the whole policy runs again after its first round; null: until acknowledged. */
  repeat: number | null;
  /** The severity at which the policy starts. */
  startsAt: Severity;
}

/** No one to notify: every notification of the policy is skipped. */
export const NO_ESCALATION: EscalationPolicy = { levels: [], repeat: 0, startsAt: 'page' };

/** Where a running policy stands, kept in the incident. */
export interface EscalationState {
  /** Index of the level notified last. */
  level: number;
  /** The round that level belongs to, from 1. */
  round: number;
  notifiedAt: number;
  /** Every round ran out without an acknowledgement: no one else is notified until an escalation restarts it. */
  exhausted: boolean;
}

/** "Level 2 of 3, round 1 of 2", as figures; `rounds` null: the policy repeats until acknowledged. */
export interface PolicyPosition {
  level: number;
  levels: number;
  round: number;
  rounds: number | null;
}

/** Why people were notified. */
export type NotifyReason =
  | { kind: 'started'; severity: Severity }
  | { kind: 'no-acknowledgement'; afterMs: number }
  | { kind: 'restarted'; severity: Severity }
  /** A silence held the policy back; it starts again from its first level when the silence ends. */
  | { kind: 'silence-ended' }
  | { kind: 'responder-added'; by: string }
  | { kind: 'reassigned'; by: string; from: string | null };

export interface Notification {
  notify: string[];
  reason: NotifyReason;
  /** Null for people added by hand (responders, reassignment), outside the policy's levels. */
  position: PolicyPosition | null;
}

export const roundsOf = (policy: EscalationPolicy): number | null => (policy.repeat === null ? null : policy.repeat + 1);

/** Whether an incident at `severity` is one the policy notifies for. */
export function reaches(policy: EscalationPolicy, severity: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[policy.startsAt];
}

function positionOf(policy: EscalationPolicy, level: number, round: number): PolicyPosition {
  return { level: level + 1, levels: policy.levels.length, round, rounds: roundsOf(policy) };
}

/** The policy from its first level. Null when it has no one to notify. */
export function startPolicy(policy: EscalationPolicy, now: number, reason: NotifyReason): { state: EscalationState; notification: Notification } | null {
  const first = policy.levels[0];
  if (!first) return null;
  return {
    state: { level: 0, round: 1, notifiedAt: now, exhausted: false },
    notification: { notify: [...first.notify], reason, position: positionOf(policy, 0, 1) },
  };
}

export type PolicyAdvance =
  | { state: EscalationState; notification: Notification; stopped: null }
  /** The last level of the last round waited in vain. */
  | { state: EscalationState; notification: null; stopped: { levels: number; rounds: number; afterMs: number } };

/**
 * The next level once the current one's wait has run out without an acknowledgement; after
 * the last level, the first level of the next round; after the last round, the policy stops.
 * Null while the wait runs, or once stopped.
 */
export function advancePolicy(policy: EscalationPolicy, state: EscalationState, now: number): PolicyAdvance | null {
  if (state.exhausted || policy.levels.length === 0) return null;
  // The configuration may have lost levels since the state was stored: the last one stands in.
  const current = Math.min(state.level, policy.levels.length - 1);
  const waitedMs = now - state.notifiedAt;
  if (waitedMs < (policy.levels[current] as EscalationLevel).waitMs) return null;
  const wraps = current + 1 >= policy.levels.length;
  const level = wraps ? 0 : current + 1;
  const round = wraps ? state.round + 1 : state.round;
  const rounds = roundsOf(policy);
  if (rounds !== null && round > rounds) {
    return { state: { ...state, exhausted: true }, notification: null, stopped: { levels: policy.levels.length, rounds, afterMs: waitedMs } };
  }
  return {
    state: { level, round, notifiedAt: now, exhausted: false },
    notification: { notify: [...(policy.levels[level] as EscalationLevel).notify], reason: { kind: 'no-acknowledgement', afterMs: waitedMs }, position: positionOf(policy, level, round) },
    stopped: null,
  };
}
