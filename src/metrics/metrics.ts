import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { completeTotal } from '../core/lag.js';
import type { GroupLag, GroupRef, Severity } from '../core/protocol.js';

export interface LagMetricsOptions {
  /** Process and Node.js metrics (`lagbot_process_*`, `lagbot_nodejs_*`); default true. */
  defaultMetrics?: boolean;
}

/** Numeric so alert rules can compare (`lagbot_incident_severity >= 2`). */
export const SEVERITY_LEVEL: Record<Severity, number> = { warning: 1, critical: 2, page: 3 };

/** Kafka checks take from tens of milliseconds (small cluster) to seconds (many groups, slow brokers). */
export const CHECK_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * lagbot's Prometheus metrics. Each instance owns its registry: the global default registry
 * would make two instances (or two tests) register the same names and throw.
 *
 * The Kafka lag series use the names and labels of kafka-lag-exporter/kafka_exporter so
 * existing dashboards and alert rules keep working when lagbot replaces the exporter.
 */
export class LagMetrics {
  readonly registry: Registry;

  private readonly consumerLag: Gauge<'cluster' | 'group' | 'topic' | 'partition'>;
  private readonly groupLagTotal: Gauge<'cluster' | 'group'>;
  private readonly groupMembers: Gauge<'cluster' | 'group'>;
  private readonly groupPartitions: Gauge<'cluster' | 'group'>;
  private readonly incidentSeverity: Gauge<'cluster' | 'group'>;
  private readonly checkDuration: Histogram<'cluster'>;
  private readonly checksTotal: Counter<'cluster' | 'result'>;
  private readonly consecutiveFailures: Gauge<'cluster'>;
  private readonly lastSuccess: Gauge<'cluster'>;
  /** The group and partition series each cluster's last check set, so the next one replaces only its own. */
  private readonly seriesOf = new Map<string, { partitions: Array<Record<'cluster' | 'group' | 'topic' | 'partition', string>>; groups: Array<Record<'cluster' | 'group', string>> }>();
  private readonly outboxPending: Gauge;

  /** `clusters`: their check series exist from the start, so rate() and increase() see the first error. */
  constructor(options: LagMetricsOptions = {}, clusters: readonly string[] = []) {
    this.registry = new Registry();
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'lagbot_' });
    const registers = [this.registry];

    this.consumerLag = new Gauge({
      name: 'kafka_consumer_lag',
      help: 'Consumer group lag per partition (log end offset minus committed offset); absent when unknown.',
      labelNames: ['cluster', 'group', 'topic', 'partition'],
      registers,
    });
    this.groupLagTotal = new Gauge({
      name: 'kafka_consumergroup_lag_total',
      help: 'Sum of the known partition lags of a consumer group.',
      labelNames: ['cluster', 'group'],
      registers,
    });
    this.groupMembers = new Gauge({
      name: 'kafka_consumergroup_members',
      help: 'Members of a consumer group; absent when members are not visible (KIP-848 groups).',
      labelNames: ['cluster', 'group'],
      registers,
    });
    this.groupPartitions = new Gauge({
      name: 'kafka_consumergroup_partitions',
      help: 'Partitions a consumer group has offsets on or is assigned.',
      labelNames: ['cluster', 'group'],
      registers,
    });
    this.incidentSeverity = new Gauge({
      name: 'lagbot_incident_severity',
      help: 'Severity of the open lag incident of a group: 0 none, 1 warning, 2 critical, 3 page.',
      labelNames: ['cluster', 'group'],
      registers,
    });
    this.checkDuration = new Histogram({
      name: 'lagbot_check_duration_seconds',
      help: 'Duration of a lag check (reading offsets of all watched groups).',
      buckets: CHECK_DURATION_BUCKETS,
      labelNames: ['cluster'],
      registers,
    });
    this.checksTotal = new Counter({
      name: 'lagbot_checks_total',
      help: 'Lag checks by cluster and result.',
      labelNames: ['cluster', 'result'],
      registers,
    });
    this.consecutiveFailures = new Gauge({
      name: 'lagbot_check_failures_consecutive',
      help: 'Lag checks of a cluster failed in a row since its last successful one.',
      labelNames: ['cluster'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'lagbot_last_successful_check_timestamp_seconds',
      help: 'Unix time of the last successful lag check of a cluster.',
      labelNames: ['cluster'],
      registers,
    });
    this.outboxPending = new Gauge({
      name: 'lagbot_slack_outbox_pending',
      help: 'Slack messages waiting in the outbox for delivery.',
      registers,
    });

    for (const cluster of clusters) {
      this.checksTotal.inc({ cluster, result: 'ok' }, 0);
      this.checksTotal.inc({ cluster, result: 'error' }, 0);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * A successful check of one cluster. `groups` is everything it saw: that cluster's series
   * of groups and partitions missing from it are dropped, so a deleted group or topic leaves
   * no frozen value behind, and the other clusters' series stay as they are.
   */
  recordCheck(cluster: string, groups: GroupLag[], at: number, durationSec?: number): void {
    // Replaced rather than diffed: this method is synchronous, so a scrape never sees the
    // gauges half-empty, and replacing cannot miss a vanished series.
    const before = this.seriesOf.get(cluster);
    for (const labels of before?.partitions ?? []) this.consumerLag.remove(labels);
    for (const labels of before?.groups ?? []) {
      this.groupLagTotal.remove(labels);
      this.groupMembers.remove(labels);
      this.groupPartitions.remove(labels);
    }
    const now: { partitions: Array<Record<'cluster' | 'group' | 'topic' | 'partition', string>>; groups: Array<Record<'cluster' | 'group', string>> } = { partitions: [], groups: [] };
    for (const g of groups) {
      for (const p of g.partitions) {
        // Unknown lag is left out: 0 would read as "caught up" and silence alerts.
        if (p.lag === null) continue;
        const labels = { cluster: g.cluster, group: g.group, topic: p.topic, partition: String(p.partition) };
        this.consumerLag.set(labels, p.lag);
        now.partitions.push(labels);
      }
      const labels = { cluster: g.cluster, group: g.group };
      now.groups.push(labels);
      // Absent, like an unknown partition's lag, when a log end is missing: a partial sum would look like a drop, then a jump.
      const total = completeTotal(g);
      if (total !== null) this.groupLagTotal.set(labels, total);
      if (g.membersVisible) this.groupMembers.set(labels, g.members.length);
      this.groupPartitions.set(labels, g.partitions.length);
    }
    this.seriesOf.set(cluster, now);
    this.checksTotal.inc({ cluster, result: 'ok' });
    this.consecutiveFailures.set({ cluster }, 0);
    this.lastSuccess.set({ cluster }, at / 1000);
    if (durationSec !== undefined) this.recordCheckDuration(cluster, durationSec);
  }

  /**
   * A failed check of one cluster. Its lag series keep their last values: the check learned
   * nothing new, and dropping them would look like the lag went away; the failure gauge and
   * the last-success timestamp tell how old they are. The error is not a label: its text
   * would make one series per message.
   */
  recordCheckFailure(cluster: string, _error: unknown, durationSec?: number): void {
    this.checksTotal.inc({ cluster, result: 'error' });
    this.consecutiveFailures.inc({ cluster });
    if (durationSec !== undefined) this.recordCheckDuration(cluster, durationSec);
  }

  recordCheckDuration(cluster: string, seconds: number): void {
    this.checkDuration.observe({ cluster }, seconds);
  }

  /** null: no open incident (0), kept as a series so "no incident" and "not exported" differ. */
  setSeverity(ref: GroupRef, severity: Severity | null): void {
    this.incidentSeverity.set({ cluster: ref.cluster, group: ref.group }, severity === null ? 0 : SEVERITY_LEVEL[severity]);
  }

  /** Drops a group's severity series, for groups lagbot no longer watches. */
  removeSeverity(ref: GroupRef): void {
    this.incidentSeverity.remove({ cluster: ref.cluster, group: ref.group });
  }

  setOutboxPending(n: number): void {
    this.outboxPending.set(n);
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}
