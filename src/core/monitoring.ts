/**
 * Whether lagbot can see a cluster: the state machine beside the incident machine. A few
 * failed checks in a row make monitoring "degraded" (said once); the first good check
 * after that makes it "recovered" (said once). While the whole cluster is silenced (a
 * maintenance window, when Kafka being unreachable is the plan) the degradation is kept but
 * not said; it is said at the first failed check after the silence, and a recovery inside
 * it is not said either, since nobody was told of the degradation. Pure: the monitor stores
 * the state.
 */

export interface MonitoringState {
  consecutiveFailures: number;
  degraded: boolean;
  /** Degraded under a silence of the cluster and not said yet (absent: said, or not degraded). */
  unsaid?: boolean;
}

export const HEALTHY: MonitoringState = { consecutiveFailures: 0, degraded: false };

export type CheckOutcome = { ok: true; groups: number } | { ok: false; error: string };

export type MonitoringChange =
  | { kind: 'degraded'; failures: number; error: string }
  | { kind: 'recovered'; groups: number };

export interface MonitoringStep {
  state: MonitoringState;
  change: MonitoringChange | null;
}

/** `silenced`: a silence of the whole cluster is in force at this check. */
export function onCheck(state: MonitoringState, outcome: CheckOutcome, degradedAfterFailures: number, silenced = false): MonitoringStep {
  if (outcome.ok) {
    return { state: HEALTHY, change: state.degraded && !state.unsaid ? { kind: 'recovered', groups: outcome.groups } : null };
  }
  const failures = state.consecutiveFailures + 1;
  const degraded = state.degraded || failures >= degradedAfterFailures;
  const due = degraded && (!state.degraded || state.unsaid === true);
  if (due && silenced) return { state: { consecutiveFailures: failures, degraded, unsaid: true }, change: null };
  return {
    state: { consecutiveFailures: failures, degraded },
    change: due ? { kind: 'degraded', failures, error: outcome.error } : null,
  };
}
