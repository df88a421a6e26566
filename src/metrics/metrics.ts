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
type PartitionLabels = Record<'cluster' | 'group' | 'topic' | 'partition', string>;

/**
 * One group's per-partition series as its last check left them. The labels are made once
 * per partition and kept while the group's partitions stay the same; a check writes only
 * the values and their order. A check of 1,000 groups over 10,000 partitions otherwise
 * made 50,000 label objects, hash strings and entries per metric, which lived until the next
 * check (long enough to reach V8's old generation) and were then garbage.
 */
interface GroupSeries {
  labels: PartitionLabels[];
  /**
   * Per partition of the check that made the series, in its order: the label index, then
   * the partition number (to know the same partitions again without making strings). An
   * array and not a map per group: a thousand groups' maps were 2 MB, kept for good.
   */
  slots: Int32Array;
  /** Lag and lag in seconds by label index; read only where their order points. */
  lags: Float64Array;
  seconds: Float64Array;
  /** Label indexes with a known value, in the order of the check's partitions. */
  lagOrder: Int32Array;
  secondsOrder: Int32Array;
  lagCount: number;
  secondsCount: number;
}

/** New series for the group's partitions; the label objects of `previous` are kept for the partitions it has (its partitions came in another order). */
function newGroupSeries(g: GroupLag, previous?: GroupSeries): GroupSeries {
  const labels: PartitionLabels[] = [];
  // Only while the series is made: a partition listed twice has one series.
  const index = new Map<string, Map<number, number>>();
  const known = new Map<string, PartitionLabels>();
  if (previous) for (const l of previous.labels) if (l.cluster === g.cluster) known.set(`${l.topic}\u0000${l.partition}`, l);
  const n = g.partitions.length;
  const slots = new Int32Array(2 * n);
  g.partitions.forEach((p, k) => {
    let byPartition = index.get(p.topic);
    if (!byPartition) index.set(p.topic, (byPartition = new Map()));
    let i = byPartition.get(p.partition);
    if (i === undefined) {
      i = labels.length;
      byPartition.set(p.partition, i);
      const partition = String(p.partition);
      labels.push(known.get(`${p.topic}\u0000${partition}`) ?? { cluster: g.cluster, group: g.group, topic: p.topic, partition });
    }
    slots[2 * k] = i;
    slots[2 * k + 1] = p.partition;
  });
  // One buffer per kind rather than one per array.
  const floats = new Float64Array(2 * labels.length);
  const order = new Int32Array(2 * n);
  return {
    labels,
    slots,
    lags: floats.subarray(0, labels.length),
    seconds: floats.subarray(labels.length),
    lagOrder: order.subarray(0, n),
    secondsOrder: order.subarray(n),
    lagCount: 0,
    secondsCount: 0,
  };
}

/** The group's series for this check: the previous ones while its partitions are the same, in the same order; new ones otherwise. */
function groupSeriesFor(g: GroupLag, previous: GroupSeries | undefined): GroupSeries {
  if (
    previous &&
    previous.slots.length === 2 * g.partitions.length &&
    previous.labels.every((l) => l.cluster === g.cluster) &&
    g.partitions.every((p, k) => previous.slots[2 * k + 1] === p.partition && previous.labels[previous.slots[2 * k] as number]?.topic === p.topic)
  ) {
    return previous;
  }
  return newGroupSeries(g, previous);
}

/**
 * The per-partition values the last check of each cluster saw, kept per group (see
 * GroupSeries) for the two per-partition gauges, which share the labels. The exposition is
 * prom-client's: the series of each cluster in the order its last check read them, the
 * clusters in the order they were last checked.
 */
class PartitionSeries {
  private readonly clusters = new Map<string, Map<string, GroupSeries>>();

  /** Replaces the cluster's series with those of this check; unknown values are left out. */
  record(cluster: string, groups: readonly GroupLag[]): void {
    const before = this.clusters.get(cluster);
    const now = new Map<string, GroupSeries>();
    for (const g of groups) {
      const series = groupSeriesFor(g, before?.get(g.group));
      let lagCount = 0;
      let secondsCount = 0;
      for (let k = 0; k < g.partitions.length; k += 1) {
        const p = g.partitions[k] as GroupLag['partitions'][number];
        const i = series.slots[2 * k] as number;
        // Unknown is left out: 0 would read as "caught up" and silence alerts.
        if (p.lag !== null) {
          series.lags[i] = p.lag;
          series.lagOrder[lagCount++] = i;
        }
        if (p.lagSeconds !== null && p.lagSeconds !== undefined) {
          series.seconds[i] = p.lagSeconds;
          series.secondsOrder[secondsCount++] = i;
        }
      }
      series.lagCount = lagCount;
      series.secondsCount = secondsCount;
      now.set(g.group, series);
    }
    // Last checked, last listed, as prom-client lists series in the order they were set.
    this.clusters.delete(cluster);
    this.clusters.set(cluster, now);
  }

  clear(): void {
    this.clusters.clear();
  }

  values(column: 'lag' | 'seconds'): Array<{ value: number; labels: PartitionLabels }> {
    const values: Array<{ value: number; labels: PartitionLabels }> = [];
    for (const groups of this.clusters.values()) {
      for (const series of groups.values()) {
        const [order, count, data] = column === 'lag' ? [series.lagOrder, series.lagCount, series.lags] : [series.secondsOrder, series.secondsCount, series.seconds];
        for (let k = 0; k < count; k += 1) {
          const i = order[k] as number;
          values.push({ value: data[i] as number, labels: series.labels[i] as PartitionLabels });
        }
      }
    }
    return values;
  }
}

/** A per-partition gauge whose values are read from the last checks at scrape time; none is ever set through it. */
class PartitionGauge extends Gauge<'cluster' | 'group' | 'topic' | 'partition'> {
  constructor(
    config: { name: string; help: string; registers: Registry[] },
    private readonly series: PartitionSeries,
    private readonly column: 'lag' | 'seconds',
  ) {
    super({ ...config, labelNames: ['cluster', 'group', 'topic', 'partition'] });
  }

  override async get(): ReturnType<Gauge<'cluster' | 'group' | 'topic' | 'partition'>['get']> {
    // The name, help and type as prom-client has them.
    const metric = await super.get();
    return { ...metric, values: this.series.values(this.column) };
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls this too, before this class's fields are set.
    (this.series as PartitionSeries | undefined)?.clear();
  }
}

export class LagMetrics {
  readonly registry: Registry;

  private readonly partitionSeries = new PartitionSeries();
  private readonly groupLagTotal: Gauge<'cluster' | 'group'>;
  private readonly groupLagSeconds: Gauge<'cluster' | 'group'>;
  private readonly groupMembers: Gauge<'cluster' | 'group'>;
  private readonly groupPartitions: Gauge<'cluster' | 'group'>;
  private readonly incidentSeverity: Gauge<'cluster' | 'group'>;
  private readonly checkDuration: Histogram<'cluster'>;
  private readonly checksTotal: Counter<'cluster' | 'result'>;
  private readonly consecutiveFailures: Gauge<'cluster'>;
  private readonly lastSuccess: Gauge<'cluster'>;
  /** The group series each cluster's last check set, so the next one replaces only its own. */
  private readonly seriesOf = new Map<string, Array<Record<'cluster' | 'group', string>>>();
  private readonly outboxPending: Gauge;
  private readonly leader: Gauge;
  /** Counts the silences in force at scrape time: they start and end with the clock, not with an event. */
  private activeSilences: () => number = () => 0;

  /** `clusters`: their check series exist from the start, so rate() and increase() see the first error. */
  constructor(options: LagMetricsOptions = {}, clusters: readonly string[] = []) {
    this.registry = new Registry();
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'lagbot_' });
    const registers = [this.registry];

    new PartitionGauge(
      { name: 'kafka_consumer_lag', help: 'Consumer group lag per partition (log end offset minus committed offset); absent when unknown.', registers },
      this.partitionSeries,
      'lag',
    );
    new PartitionGauge(
      {
        name: 'kafka_consumer_lag_seconds',
        help: 'How old the oldest record a consumer group has not consumed on a partition is, in seconds (exact, estimated from the log end history, or extrapolated); 0 for idle topics; absent when unknown.',
        registers,
      },
      this.partitionSeries,
      'seconds',
    );
    this.groupLagTotal = new Gauge({
      name: 'kafka_consumergroup_lag_total',
      help: 'Sum of the known partition lags of a consumer group.',
      labelNames: ['cluster', 'group'],
      registers,
    });
    this.groupLagSeconds = new Gauge({
      name: 'kafka_consumergroup_lag_seconds',
      help: 'Lag in seconds of a consumer group: that of its stalest partition; absent when unknown.',
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
    this.leader = new Gauge({
      name: 'lagbot_leader',
      help: 'Whether this replica leads (1: it runs the checks and delivers to Slack) or stands by (0).',
      registers,
    });

    const silencesNow = (): number => this.activeSilences();
    new Gauge({
      name: 'lagbot_silences_active',
      help: 'Silences (and maintenance windows) in force now: no incident opens and no one is mentioned for the groups they cover.',
      registers,
      collect() {
        this.set(silencesNow());
      },
    });

    for (const cluster of clusters) {
      this.checksTotal.inc({ cluster, result: 'ok' }, 0);
      this.checksTotal.inc({ cluster, result: 'error' }, 0);
    }
  }

  /** Where the silences gauge reads its count from at scrape time. */
  countSilencesWith(count: () => number): void {
    this.activeSilences = count;
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
    this.partitionSeries.record(cluster, groups);
    for (const labels of this.seriesOf.get(cluster) ?? []) {
      this.groupLagTotal.remove(labels);
      this.groupLagSeconds.remove(labels);
      this.groupMembers.remove(labels);
      this.groupPartitions.remove(labels);
    }
    const now: Array<Record<'cluster' | 'group', string>> = [];
    for (const g of groups) {
      const labels = { cluster: g.cluster, group: g.group };
      now.push(labels);
      // Absent, like an unknown partition's lag, when a log end is missing: a partial sum would look like a drop, then a jump.
      const total = completeTotal(g);
      if (total !== null) this.groupLagTotal.set(labels, total);
      if (g.lagSeconds !== null && g.lagSeconds !== undefined) this.groupLagSeconds.set(labels, g.lagSeconds);
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

  setLeader(leader: boolean): void {
    this.leader.set(leader ? 1 : 0);
  }

  /**
   * This replica stopped leading: its lag, member and severity series would stay frozen at
   * its last check while the new leader's move on, and a max() or sum() over the pods would
   * mix the two. Only the leader exports them; the counters and timings stay.
   */
  dropGroupSeries(): void {
    this.partitionSeries.clear();
    this.seriesOf.clear();
    for (const gauge of [this.groupLagTotal, this.groupLagSeconds, this.groupMembers, this.groupPartitions, this.incidentSeverity]) gauge.reset();
  }

  setOutboxPending(n: number): void {
    this.outboxPending.set(n);
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}
