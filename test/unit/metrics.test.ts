import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { computeGroupLag } from '../../src/core/lag.js';
import type { CommittedOffset, GroupLag } from '../../src/core/protocol.js';
import { LagMetrics } from '../../src/metrics/metrics.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads the exposition text as Prometheus would, so the tests check the wire format, not prom-client's internals. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: m[1] as string, labels, value });
  }
  return samples;
}

async function scrape(metrics: LagMetrics): Promise<Sample[]> {
  return parseExposition(await metrics.metricsText());
}

function series(samples: Sample[], name: string): Array<[Record<string, string>, number]> {
  return samples
    .filter((s) => s.name === name)
    .map((s): [Record<string, string>, number] => [s.labels, s.value])
    .sort((a, b) => JSON.stringify(a[0]).localeCompare(JSON.stringify(b[0])));
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

/** The case study group: three partitions of user-events, all with known lag. */
function userEvents(at = 1_000): GroupLag {
  return computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), at);
}

/** A second group with one known lag and two partitions never committed (unknown lag). */
function billing(at = 1_000): GroupLag {
  const snapshot = caseStudySnapshot({
    group: 'billing',
    committed: [{ topic: 'user-events', partition: 0, offset: 8_901_000 }],
  });
  return computeGroupLag(snapshot, caseStudyOffsets(), at);
}

const lite = () => new LagMetrics({ defaultMetrics: false }, ['default']);

describe('LagMetrics: kafka_consumer_lag', () => {
  it('exports one series per partition with known lag, labelled group/topic/partition', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [userEvents(), billing()], 1_000);
    expect(series(await scrape(metrics), 'kafka_consumer_lag')).toEqual([
      [{ cluster: 'default', group: 'billing', topic: 'user-events', partition: '0' }, 234],
      [{ cluster: 'default', group: 'user-events-consumer', topic: 'user-events', partition: '0' }, 488_333],
      [{ cluster: 'default', group: 'user-events-consumer', topic: 'user-events', partition: '1' }, 4_442_768],
      [{ cluster: 'default', group: 'user-events-consumer', topic: 'user-events', partition: '2' }, 164_432],
    ]);
  });

  it('follows a group whose partitions come in another order at the next check', async () => {
    const metrics = lite();
    const first = userEvents();
    metrics.recordCheck('default', [first], 1_000);
    const reordered = { ...first, partitions: [...first.partitions].reverse() };
    const changed = { ...first, partitions: first.partitions.map((p) => ({ ...p, lag: (p.lag ?? 0) + 1 })) };
    for (const read of [reordered, changed, first]) {
      metrics.recordCheck('default', [read], 2_000);
      const last = new Map(read.partitions.map((p) => [String(p.partition), p.lag]));
      expect(series(await scrape(metrics), 'kafka_consumer_lag')).toEqual(
        ['0', '1', '2'].map((partition) => [{ cluster: 'default', group: 'user-events-consumer', topic: 'user-events', partition }, last.get(partition)]),
      );
    }
  });

  it('replaces only the checked cluster\'s series: another cluster keeps its own', async () => {
    const metrics = new LagMetrics({ defaultMetrics: false }, ['prod-eu', 'staging']);
    const on = (cluster: string, lag: GroupLag): GroupLag => ({ ...lag, cluster });
    metrics.recordCheck('prod-eu', [on('prod-eu', userEvents())], 1_000);
    metrics.recordCheck('staging', [on('staging', billing())], 1_000);
    metrics.recordCheck('prod-eu', [], 2_000);
    const samples = await scrape(metrics);
    expect(series(samples, 'kafka_consumer_lag')).toEqual([[{ cluster: 'staging', group: 'billing', topic: 'user-events', partition: '0' }, 234]]);
    expect(series(samples, 'kafka_consumergroup_lag_total').map(([l]) => l.cluster)).toEqual(['staging']);
    metrics.recordCheckFailure('staging', new Error('down'));
    const after = await scrape(metrics);
    expect(value(after, 'lagbot_checks_total', { cluster: 'staging', result: 'error' })).toBe(1);
    expect(value(after, 'lagbot_checks_total', { cluster: 'prod-eu', result: 'error' })).toBe(0);
    expect(value(after, 'lagbot_check_failures_consecutive', { cluster: 'staging' })).toBe(1);
    expect(value(after, 'lagbot_check_failures_consecutive', { cluster: 'prod-eu' })).toBe(0);
  });

  it('exports no group total while a partition\'s log end is unknown, as for an unknown partition', async () => {
    const metrics = lite();
    const offsets = caseStudyOffsets();
    const topic = offsets.get('user-events');
    if (!topic?.exists) throw new Error('the case study topic exists');
    const partial = computeGroupLag(caseStudySnapshot(), new Map([['user-events', { ...topic, partitions: topic.partitions.filter((p) => p.partition !== 1) }]]), 1_000);
    metrics.recordCheck('default', [partial], 1_000);
    const samples = await scrape(metrics);
    expect(value(samples, 'kafka_consumergroup_lag_total', { cluster: 'default', group: 'user-events-consumer' })).toBeUndefined();
    expect(series(samples, 'kafka_consumer_lag').map(([l]) => l.partition)).toEqual(['0', '2']);
  });

  it('leaves unknown lag out instead of exporting 0', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [billing()], 1_000);
    const samples = await scrape(metrics);
    const billingPartitions = series(samples, 'kafka_consumer_lag').map(([l]) => l.partition);
    expect(billingPartitions).toEqual(['0']);
    expect(value(samples, 'kafka_consumergroup_partitions', { cluster: 'default', group: 'billing' })).toBe(3);
  });

  it('drops every series of a group that vanished between checks', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [userEvents(), billing()], 1_000);
    metrics.setSeverity({ cluster: 'default', group: 'billing' }, null);
    metrics.recordCheck('default', [userEvents(2_000)], 2_000);
    const samples = await scrape(metrics);
    for (const name of ['kafka_consumer_lag', 'kafka_consumergroup_lag_total', 'kafka_consumergroup_members', 'kafka_consumergroup_partitions']) {
      expect(series(samples, name).map(([l]) => l.group)).not.toContain('billing');
      expect(series(samples, name).length).toBeGreaterThan(0);
    }
    expect(series(samples, 'kafka_consumer_lag')).toHaveLength(3);
    // Severity belongs to the incident lifecycle, not to the check.
    expect(value(samples, 'lagbot_incident_severity', { cluster: 'default', group: 'billing' })).toBe(0);
  });

  it('drops a partition whose lag became unknown, keeps the others', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [userEvents()], 1_000);
    const later = computeGroupLag(
      caseStudySnapshot({ committed: caseStudySnapshot().committed.filter((c) => c.partition !== 1) }),
      caseStudyOffsets(),
      2_000,
    );
    metrics.recordCheck('default', [later], 2_000);
    expect(series(await scrape(metrics), 'kafka_consumer_lag').map(([l]) => l.partition)).toEqual(['0', '2']);
  });
});

describe('LagMetrics: kafka_consumer_lag kept per group', () => {
  it('exposes what a prom-client Gauge emptied and set again on every check exposes, line for line and in order', async () => {
    const metrics = lite();
    // The way lagbot kept the series before: remove the cluster's series, set this check's.
    const registry = new Registry();
    const plain = new Gauge({ name: 'kafka_consumer_lag', help: 'x', labelNames: ['cluster', 'group', 'topic', 'partition'], registers: [registry] });
    const setBefore = new Map<string, Array<Record<'cluster' | 'group' | 'topic' | 'partition', string>>>();
    const recordPlainly = (cluster: string, groups: readonly GroupLag[]) => {
      for (const labels of setBefore.get(cluster) ?? []) plain.remove(labels);
      const now: Array<Record<'cluster' | 'group' | 'topic' | 'partition', string>> = [];
      for (const g of groups) {
        for (const p of g.partitions) {
          if (p.lag === null) continue;
          const labels = { cluster: g.cluster, group: g.group, topic: p.topic, partition: String(p.partition) };
          plain.set(labels, p.lag);
          now.push(labels);
        }
      }
      setBefore.set(cluster, now);
    };
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('kafka_consumer_lag{'));
    const committed = (...offsets: Array<[number, number]>): CommittedOffset[] => offsets.map(([partition, offset]) => ({ topic: 'user-events', partition, offset }));
    const group = (group: string, at: number, rows: CommittedOffset[], cluster = 'default'): GroupLag => ({
      ...computeGroupLag(caseStudySnapshot({ group, members: [], committed: rows }), caseStudyOffsets(), at),
      cluster,
    });
    const checks: Array<[string, GroupLag[]]> = [
      ['default', [group('a', 1, committed([0, 5], [1, 6])), group('b', 1, committed([2, 7]))]],
      // New lags, so the read's order (largest lag first) changes; b gains a partition.
      ['default', [group('a', 2, committed([0, 8_900_000], [1, 6])), group('b', 2, committed([2, 7], [0, 1]))]],
      ['staging', [group('a', 3, committed([1, 9]), 'staging')]],
      // A partition whose lag becomes unknown, and a group gone.
      ['default', [group('a', 4, [...committed([0, 5]), { topic: 'user-events', partition: 1, offset: null }])]],
      ['staging', [group('a', 5, committed([1, 10]), 'staging'), group('c', 5, committed([0, 1], [1, 2], [2, 3]), 'staging')]],
      ['default', []],
      ['default', [group('b', 7, committed([2, 7], [0, 1]))]],
    ];
    for (const [cluster, groups] of checks) {
      metrics.recordCheck(cluster, groups, 1_000);
      recordPlainly(cluster, groups);
      expect(lines(await metrics.metricsText())).toEqual(lines(await registry.metrics()));
    }
    expect(lines(await metrics.metricsText()).length).toBeGreaterThan(0);
  });

  it('is emptied by the registry\'s resetMetrics like any prom-client metric', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [userEvents()], 1_000);
    metrics.registry.resetMetrics();
    expect(series(await scrape(metrics), 'kafka_consumer_lag')).toEqual([]);
    metrics.recordCheck('default', [userEvents()], 2_000);
    expect(series(await scrape(metrics), 'kafka_consumer_lag')).toHaveLength(3);
  });
});

describe('LagMetrics: group gauges', () => {
  it('exports total lag, members and partitions per group', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [userEvents(), billing()], 1_000);
    const samples = await scrape(metrics);
    expect(series(samples, 'kafka_consumergroup_lag_total')).toEqual([
      [{ cluster: 'default', group: 'billing' }, 234],
      [{ cluster: 'default', group: 'user-events-consumer' }, 4_442_768 + 488_333 + 164_432],
    ]);
    expect(series(samples, 'kafka_consumergroup_members')).toEqual([
      [{ cluster: 'default', group: 'billing' }, 3],
      [{ cluster: 'default', group: 'user-events-consumer' }, 3],
    ]);
    expect(series(samples, 'kafka_consumergroup_partitions')).toEqual([
      [{ cluster: 'default', group: 'billing' }, 3],
      [{ cluster: 'default', group: 'user-events-consumer' }, 3],
    ]);
  });

  it('leaves out total lag when no lag is known, and members when they are not visible', async () => {
    const metrics = lite();
    const nothingKnown = computeGroupLag(caseStudySnapshot({ group: 'fresh', committed: [] }), caseStudyOffsets(), 0);
    const kip848 = computeGroupLag(
      caseStudySnapshot({ group: 'kip848', protocol: 'consumer', membersVisible: false, members: [] }),
      caseStudyOffsets(),
      0,
    );
    metrics.recordCheck('default', [nothingKnown, kip848], 0);
    const samples = await scrape(metrics);
    expect(series(samples, 'kafka_consumergroup_lag_total').map(([l]) => l.group)).toEqual(['kip848']);
    expect(series(samples, 'kafka_consumergroup_members').map(([l]) => l.group)).toEqual(['fresh']);
  });
});

describe('LagMetrics: incidents, checks, outbox', () => {
  it('maps severity to 0 none, 1 warning, 2 critical, 3 page', async () => {
    const metrics = lite();
    metrics.setSeverity({ cluster: 'default', group: 'a' }, null);
    metrics.setSeverity({ cluster: 'default', group: 'b' }, 'warning');
    metrics.setSeverity({ cluster: 'default', group: 'c' }, 'critical');
    metrics.setSeverity({ cluster: 'default', group: 'd' }, 'page');
    expect(series(await scrape(metrics), 'lagbot_incident_severity')).toEqual([
      [{ cluster: 'default', group: 'a' }, 0],
      [{ cluster: 'default', group: 'b' }, 1],
      [{ cluster: 'default', group: 'c' }, 2],
      [{ cluster: 'default', group: 'd' }, 3],
    ]);
    metrics.setSeverity({ cluster: 'default', group: 'd' }, null);
    metrics.removeSeverity({ cluster: 'default', group: 'a' });
    expect(series(await scrape(metrics), 'lagbot_incident_severity')).toEqual([
      [{ cluster: 'default', group: 'b' }, 1],
      [{ cluster: 'default', group: 'c' }, 2],
      [{ cluster: 'default', group: 'd' }, 0],
    ]);
  });

  it('drops, on standing by, every lag, member and severity series, and keeps the checks counted and the leader gauge', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [userEvents(), billing()], 1_000, 0.2);
    metrics.setSeverity({ cluster: 'default', group: 'user-events-consumer' }, 'page');
    const names = ['kafka_consumer_lag', 'kafka_consumergroup_lag_total', 'kafka_consumergroup_members', 'kafka_consumergroup_partitions', 'lagbot_incident_severity'];
    const before = await scrape(metrics);
    for (const name of names) expect(series(before, name).length).toBeGreaterThan(0);
    metrics.setLeader(false);
    metrics.dropGroupSeries();
    const after = await scrape(metrics);
    for (const name of [...names, 'kafka_consumer_lag_seconds', 'kafka_consumergroup_lag_seconds']) expect(series(after, name)).toEqual([]);
    expect(value(after, 'lagbot_checks_total', { cluster: 'default', result: 'ok' })).toBe(1);
    expect(value(after, 'lagbot_leader')).toBe(0);
    // Leading again, the next check exports them afresh.
    metrics.recordCheck('default', [billing()], 2_000);
    expect(series(await scrape(metrics), 'kafka_consumergroup_lag_total').map(([labels]) => labels.group)).toEqual(['billing']);
  });

  it('counts checks by result and consecutive failures, and stamps the last success', async () => {
    const metrics = lite();
    let samples = await scrape(metrics);
    expect(series(samples, 'lagbot_checks_total')).toEqual([
      [{ cluster: 'default', result: 'error' }, 0],
      [{ cluster: 'default', result: 'ok' }, 0],
    ]);

    metrics.recordCheck('default', [userEvents()], 1_700_000_000_000, 0.2);
    metrics.recordCheckFailure('default', new Error('broker down'), 3);
    metrics.recordCheckFailure('default', new Error('broker down'), 12);
    samples = await scrape(metrics);
    expect(value(samples, 'lagbot_checks_total', { cluster: 'default', result: 'ok' })).toBe(1);
    expect(value(samples, 'lagbot_checks_total', { cluster: 'default', result: 'error' })).toBe(2);
    expect(value(samples, 'lagbot_check_failures_consecutive', { cluster: 'default' })).toBe(2);
    expect(value(samples, 'lagbot_last_successful_check_timestamp_seconds', { cluster: 'default' })).toBe(1_700_000_000);
    // A failed check keeps the last known lag rather than pretending it went away.
    expect(series(samples, 'kafka_consumer_lag')).toHaveLength(3);

    metrics.recordCheck('default', [userEvents()], 1_700_000_060_000);
    samples = await scrape(metrics);
    expect(value(samples, 'lagbot_check_failures_consecutive', { cluster: 'default' })).toBe(0);
    expect(value(samples, 'lagbot_last_successful_check_timestamp_seconds', { cluster: 'default' })).toBe(1_700_000_060);
  });

  it('observes check durations in the histogram', async () => {
    const metrics = lite();
    metrics.recordCheck('default', [], 0, 0.02);
    metrics.recordCheckFailure('default', 'timeout', 12);
    metrics.recordCheckDuration('default', 0.7);
    metrics.recordCheck('default', [], 0); // no duration given: not observed
    const samples = await scrape(metrics);
    expect(value(samples, 'lagbot_check_duration_seconds_count', { cluster: 'default' })).toBe(3);
    expect(value(samples, 'lagbot_check_duration_seconds_sum', { cluster: 'default' })).toBeCloseTo(12.72);
    expect(value(samples, 'lagbot_check_duration_seconds_bucket', { le: '0.025', cluster: 'default' })).toBe(1);
    expect(value(samples, 'lagbot_check_duration_seconds_bucket', { le: '1', cluster: 'default' })).toBe(2);
    expect(value(samples, 'lagbot_check_duration_seconds_bucket', { le: '10', cluster: 'default' })).toBe(2);
    expect(value(samples, 'lagbot_check_duration_seconds_bucket', { le: '+Inf', cluster: 'default' })).toBe(3);
  });

  it('exports the outbox backlog', async () => {
    const metrics = lite();
    metrics.setOutboxPending(7);
    expect(value(await scrape(metrics), 'lagbot_slack_outbox_pending')).toBe(7);
    metrics.setOutboxPending(0);
    expect(value(await scrape(metrics), 'lagbot_slack_outbox_pending')).toBe(0);
  });
});

describe('LagMetrics: registry', () => {
  it('serves the Prometheus text format with default metrics under lagbot_', async () => {
    const metrics = new LagMetrics();
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const names = new Set((await scrape(metrics)).map((s) => s.name));
    expect(names).toContain('lagbot_process_cpu_user_seconds_total');
    expect(names).toContain('lagbot_nodejs_heap_size_total_bytes');
    expect([...names].filter((n) => n.startsWith('process_') || n.startsWith('nodejs_'))).toEqual([]);
  });

  it('lets several instances live side by side, each with its own values', async () => {
    const a = new LagMetrics();
    const b = new LagMetrics();
    a.setOutboxPending(1);
    b.setOutboxPending(2);
    expect(value(await scrape(a), 'lagbot_slack_outbox_pending')).toBe(1);
    expect(value(await scrape(b), 'lagbot_slack_outbox_pending')).toBe(2);
  });
});

describe('LagMetrics: lag in seconds', () => {
  it('exports kafka_consumer_lag_seconds per partition and kafka_consumergroup_lag_seconds per group, leaving unknown ones out', async () => {
    const metrics = new LagMetrics({ defaultMetrics: false });
    const lag = userEvents();
    lag.partitions.forEach((p, i) => {
      p.lagSeconds = i === 0 ? 45 : i === 1 ? 3.5 : null;
      p.lagSecondsMethod = p.lagSeconds === null ? null : 'estimated';
    });
    lag.lagSeconds = 45;
    lag.lagSecondsMethod = 'estimated';
    const unknown = billing();
    metrics.recordCheck('default', [lag, unknown], 2_000);
    const samples = await scrape(metrics);
    const perPartition = series(samples, 'kafka_consumer_lag_seconds');
    expect(perPartition.map(([l, v]) => [l.group, `${l.topic}-${l.partition}`, v])).toEqual(
      lag.partitions
        .filter((p) => p.lagSeconds !== null)
        .map((p) => ['user-events-consumer', `${p.topic}-${p.partition}`, p.lagSeconds])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    expect(value(samples, 'kafka_consumergroup_lag_seconds', { cluster: 'default', group: 'user-events-consumer' })).toBe(45);
    expect(value(samples, 'kafka_consumergroup_lag_seconds', { cluster: 'default', group: 'billing' })).toBeUndefined();

    // The next check replaces the values; a group gone takes its series with it.
    const later = userEvents(32_000);
    later.lagSeconds = 12;
    for (const p of later.partitions) p.lagSeconds = 12;
    metrics.recordCheck('default', [later], 32_000);
    const next = await scrape(metrics);
    expect(series(next, 'kafka_consumer_lag_seconds').map(([, v]) => v)).toEqual([12, 12, 12]);
    expect(series(next, 'kafka_consumergroup_lag_seconds')).toEqual([[{ cluster: 'default', group: 'user-events-consumer' }, 12]]);
  });
});
