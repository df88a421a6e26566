/**
 * Whether lagbot can see a cluster: the state machine beside the incident machine. A few
 * failed checks in a row make monitoring "degraded" (said once); the first good check
 * after that makes it "recovered" (said once). Pure: the monitor stores the state.
 */

export interface MonitoringState {
  consecutiveFailures: number;
  degraded: boolean;
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

export function onCheck(state: MonitoringState, outcome: CheckOutcome, degradedAfterFailures: number): MonitoringStep {
  if (outcome.ok) {
    return { state: HEALTHY, change: state.degraded ? { kind: 'recovered', groups: outcome.groups } : null };
  }
  const failures = state.consecutiveFailures + 1;
  const degradeNow = !state.degraded && failures >= degradedAfterFailures;
  return {
    state: { consecutiveFailures: failures, degraded: state.degraded || degradeNow },
    change: degradeNow ? { kind: 'degraded', failures, error: outcome.error } : null,
  };
}
