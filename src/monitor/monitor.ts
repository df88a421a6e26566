import { randomUUID } from 'node:crypto';
import type { AlertingPolicy } from '../config/alerting.js';
import { step, type IncidentInput, type Step } from '../core/incident.js';
import type { Clock, GroupLag, Incident } from '../core/protocol.js';
import type { Evaluation } from '../core/rules.js';
import type { LagSource } from '../kafka/lag-reader.js';
import { describeError } from '../kafka/errors.js';
import type { Logger } from '../log/logger.js';
import type { HealthState } from '../metrics/health.js';
import type { LagMetrics } from '../metrics/metrics.js';
import type { IncidentStore } from '../store/types.js';
import { effectsOf, monitoringMessage } from '../views/incident-message.js';
import { GroupHistories } from './histories.js';

export interface MonitorDeps {
  lagSource: Pick<LagSource, 'readAllGroups'>;
  store: IncidentStore;
  policy: AlertingPolicy;
  clock: Clock;
  logger: Logger;
  metrics?: LagMetrics;
  health?: HealthState;
  /** Told after each commit that the outbox has new work. */
  delivery?: { kick(): void };
  newId?: () => string;
}

export interface GroupVerdict {
  group: string;
  evaluation: Evaluation;
  incident: Incident | null;
  alerting: boolean;
}

export type CheckReport =
  | { ok: true; at: number; durationMs: number; verdicts: GroupVerdict[] }
  | { ok: false; at: number; durationMs: number; error: string; consecutiveFailures: number };

export type IncidentAction = { kind: 'acknowledge' } | { kind: 'snooze'; forMs: number } | { kind: 'resolve' };

const FAILURES_KEY = 'monitor.consecutiveFailures';
const DEGRADED_KEY = 'monitor.degraded';

/**
 * One check cycle: read every watched group, extend its history, evaluate the rules,
 * advance its incident, and commit the incident with its Slack effects. The Kafka read
 * is the only await; everything after it runs without interleaving, so a button click
 * can never see half a check.
 */
export class LagMonitor {
  private readonly histories: GroupHistories;
  private readonly newId: () => string;

  constructor(private readonly deps: MonitorDeps) {
    this.newId = deps.newId ?? (() => `inc-${randomUUID()}`);
    this.histories = new GroupHistories(deps.policy);
  }

  async check(): Promise<CheckReport> {
    const { clock, store, policy, metrics, health, logger } = this.deps;
    const startedAt = clock.now();
    let groups: GroupLag[];
    try {
      groups = (await this.deps.lagSource.readAllGroups()).filter((g) => policy.watches(g.group));
    } catch (error) {
      const durationMs = clock.now() - startedAt;
      const failures = (store.state<number>(FAILURES_KEY) ?? 0) + 1;
      const detail = describeError(error);
      logger.warn({ failures, err: detail }, 'check failed: Kafka could not be read');
      metrics?.recordCheckFailure(error, durationMs / 1000);
      health?.recordFailure(error, clock.now());
      const state: Record<string, unknown> = { [FAILURES_KEY]: failures };
      const channel = policy.defaultChannel;
      const degradeNow = failures >= policy.config.check.degradedAfterFailures && !store.state<boolean>(DEGRADED_KEY);
      if (degradeNow) state[DEGRADED_KEY] = true;
      store.commit({
        state,
        effects:
          degradeNow && channel
            ? [{ kind: 'post-channel', channel, message: monitoringMessage('degraded', `${failures} checks in a row could not read Kafka (${detail})`) }]
            : [],
      });
      this.deps.delivery?.kick();
      return { ok: false, at: startedAt, durationMs, error: detail, consecutiveFailures: failures };
    }

    const at = clock.now();
    const wasDegraded = store.state<boolean>(DEGRADED_KEY) === true;
    const failuresBefore = store.state<number>(FAILURES_KEY) ?? 0;
    if (wasDegraded || failuresBefore > 0) {
      const channel = policy.defaultChannel;
      store.commit({
        state: { [FAILURES_KEY]: 0, [DEGRADED_KEY]: false },
        effects:
          wasDegraded && channel
            ? [{ kind: 'post-channel', channel, message: monitoringMessage('recovered', `Kafka answers again; ${groups.length} groups read`) }]
            : [],
      });
    }

    const verdicts: GroupVerdict[] = [];
    const seen = new Set<string>();
    for (const lag of groups) {
      seen.add(lag.group);
      const settings = policy.forGroup(lag.group);
      const evaluation = this.histories.observe(lag);
      let incident = store.openIncidentFor(lag.group);
      if (settings.channel) {
        const result = step(incident, { kind: 'evaluation', evaluation, channel: incident?.channel ?? settings.channel, newId: this.newId }, settings.incident, at);
        this.commitStep(result, settings.oncall);
        incident = result.incident?.status === 'open' ? result.incident : null;
      }
      metrics?.setSeverity(lag.group, incident?.severity ?? null);
      verdicts.push({ group: lag.group, evaluation, incident, alerting: settings.channel !== null });
    }
    for (const group of this.histories.retain(seen)) metrics?.removeSeverity(group);

    const durationMs = clock.now() - startedAt;
    metrics?.recordCheck(groups, at, durationMs / 1000);
    health?.recordSuccess(at);
    this.deps.delivery?.kick();
    return { ok: true, at, durationMs, verdicts };
  }

  /** A button click on an incident. Returns what to tell the person who clicked, if anything. */
  act(incidentId: string, user: string, action: IncidentAction): Step {
    const { store, policy, clock } = this.deps;
    const incident = store.incident(incidentId);
    const settings = policy.forGroup(incident?.group ?? '');
    const input: IncidentInput =
      action.kind === 'snooze' ? { kind: 'snooze', user, forMs: action.forMs } : { kind: action.kind, user };
    const result = step(incident, input, settings.incident, clock.now());
    this.commitStep(result, settings.oncall);
    if (result.incident) this.deps.metrics?.setSeverity(result.incident.group, result.incident.status === 'open' ? result.incident.severity : null);
    this.deps.delivery?.kick();
    return result;
  }

  private commitStep(result: Step, oncall: readonly string[]): void {
    const effects = effectsOf(result, oncall);
    if (!result.incident || (effects.length === 0 && result.notice !== null)) return;
    this.deps.store.commit({ incident: result.incident, effects });
  }
}
