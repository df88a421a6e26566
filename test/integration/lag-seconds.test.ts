import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertingPolicy } from '../../src/config/alerting.js';
import { parseConfig } from '../../src/config/config.js';
import { answerLag } from '../../src/core/lag-query.js';
import type { Clock } from '../../src/core/ports.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { createKafkaLag, type KafkaLag } from '../../src/kafka/connect.js';
import { createLogger } from '../../src/log/logger.js';
import { LagMetrics } from '../../src/metrics/metrics.js';
import { LagMonitor, type CheckReport } from '../../src/monitor/monitor.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { slackEffectsOf } from '../../src/views/incident-message.js';
import { groupJson } from '../../src/views/json.js';
import { kafkaClient, testbed, uniqueName } from '../support/kafka.js';

/**
 * Lag in seconds on the real broker. Records are produced with known timestamps on a clock
 * lagbot also reads (its checks 30 s apart), a group is committed at a known record, and the
 * estimate must be within one check interval of the record's real age; a topic nothing is
 * produced to is 0 s stale whatever its offsets say, and its offsets alone do not alert.
 */

const CHECK_MS = 30_000;
const PER_CHECK = 100;

class StepClock implements Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
}

describe('lag in seconds on a real broker', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let source: KafkaLag;
  let store: SqliteIncidentStore;
  let dir: string;
  const clock = new StepClock(Date.now() - 40 * 60_000);
  const start = clock.at;
  const busy = uniqueName('seconds-busy');
  const quiet = uniqueName('seconds-quiet');
  const group = uniqueName('seconds-group');
  const idleGroup = uniqueName('seconds-idle');
  let monitor: LagMonitor;
  const metrics = new LagMetrics({ defaultMetrics: false });

  /** Offsets of the record produced at check `i` on each partition of `busy`: i*100 .. i*100+99, timestamped at that check. */
  const producedAt = (offset: number): number => start + Math.floor(offset / PER_CHECK) * CHECK_MS;

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: busy, numPartitions: 2, replicationFactor: 1 },
        { topic: quiet, numPartitions: 1, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    dir = mkdtempSync(join(tmpdir(), 'lagbot-seconds-'));
    store = openSqliteStore(join(dir, 'lagbot.db'), { clock });
    const yaml = `
watch:
  include: [${JSON.stringify(group)}, ${JSON.stringify(idleGroup)}]
alerting:
  channel: C0ALERTS
thresholds:
  warning: { lag: 10, growingForMinutes: 1 }
  critical: { lag: 20 }
  page: { lag: 30 }
`;
    const config = parseConfig(yaml, { KAFKA_BROKERS: testbed().bootstrap });
    source = createKafkaLag(config.clusters[0]!, clock, createLogger('silent'));
    monitor = new LagMonitor({
      source: source.reader,
      store,
      history: store,
      policy: new AlertingPolicy(config, config.clusters),
      clock,
      logger: createLogger('silent'),
      render: slackEffectsOf,
      metrics,
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await source?.stop();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const checkNow = async (): Promise<CheckReport & { ok: true }> => {
    const report = await monitor.check();
    if (!report.ok) throw new Error(`check failed: ${report.error}`);
    return report;
  };
  /** What /lag GROUP answers: a fresh read, with the monitor's history of the group (and, `exact`, the broker's record timestamps). */
  const readOf = async (name: string, exact = false): Promise<GroupLag> => {
    const answer = await answerLag(
      { kind: 'group', group: name, view: 'partitions' },
      {
        sources: [source.reader],
        clock,
        findingSettings: DEFAULT_RULES.signals,
        history: (ref) => monitor.historyOf(ref.group),
        ...(exact ? { recordTimes: [source.recordTimes], onRecordTimesError: (_c: string, e: unknown) => { throw e; } } : {}),
      },
    );
    if (answer.kind !== 'group' || !answer.found[0]) throw new Error(`no group ${name}: ${answer.kind}`);
    return answer.found[0].lag;
  };

  it('estimates each partition\'s staleness within one check interval of the record\'s age, and says how', async () => {
    // The quiet topic got its 50 records long before; the idle group consumed 10 of them.
    await producer.send({ topic: quiet, messages: Array.from({ length: 50 }, (_, i) => ({ value: `q${i}`, timestamp: String(start - 20 * 60_000 + i) })) });
    await admin.setOffsets({ groupId: idleGroup, topic: quiet, partitions: [{ partition: 0, offset: '10' }] });
    // The busy group sits at the record of check 5 on partition 0 and of check 19 on partition 1.
    await admin.setOffsets({ groupId: group, topic: busy, partitions: [{ partition: 0, offset: String(5 * PER_CHECK + 50) }, { partition: 1, offset: String(19 * PER_CHECK) }] });

    const severities: Array<string | null> = [];
    for (let i = 0; i <= 20; i += 1) {
      clock.at = start + i * CHECK_MS;
      for (const partition of [0, 1]) {
        await producer.send({ topic: busy, messages: Array.from({ length: PER_CHECK }, (_, k) => ({ partition, value: `b${i}-${k}`, timestamp: String(clock.at) })) });
      }
      clock.at += 1_000;
      const report = await checkNow();
      severities.push(report.verdicts.find((v) => v.group === idleGroup)?.evaluation.severity ?? null);
    }

    const lag = groupJson(await readOf(group));
    const p0 = lag.partitions.find((p) => p.partition === 0);
    const p1 = lag.partitions.find((p) => p.partition === 1);
    // /lag reads after the last check: the history is the monitor's, the read is fresh.
    const actual0 = (clock.at - producedAt(5 * PER_CHECK + 50)) / 1000;
    const actual1 = (clock.at - producedAt(19 * PER_CHECK)) / 1000;
    expect(p0?.lagSecondsMethod).toBe('estimated');
    expect(p1?.lagSecondsMethod).toBe('estimated');
    expect(Math.abs((p0?.lagSeconds ?? NaN) - actual0)).toBeLessThanOrEqual(CHECK_MS / 1000);
    expect(Math.abs((p1?.lagSeconds ?? NaN) - actual1)).toBeLessThanOrEqual(CHECK_MS / 1000);
    // The group is as stale as its stalest partition.
    expect(lag.lagSeconds).toBe(p0?.lagSeconds);
    expect(lag.lagSecondsMethod).toBe('estimated');

    // The idle group: 40 messages behind, over the page line in offsets, and 0 s stale once
    // nothing was produced for the idle window; from then on its offsets alone do not alert.
    const idle = await readOf(idleGroup);
    expect(idle.totalLag).toBe(40);
    const last = (await checkNow()).verdicts.find((v) => v.group === idleGroup);
    expect(last?.evaluation.figures.lagSeconds).toBe(0);
    expect(last?.evaluation.severity).toBeNull();
    // Before the idle window is seen the offsets alert as they always did; checks 11 to 20 are
    // 5 minutes and more after the monitor first saw the quiet topic, and alert no more.
    expect(severities[0]).toBe('page');
    expect(severities.slice(11).every((s) => s === null)).toBe(true);
  });

  it('is exact to the second from the record at the committed offset, for /lag GROUP', async () => {
    const lag = groupJson(await readOf(group, true));
    for (const [partition, committed] of [[0, 5 * PER_CHECK + 50], [1, 19 * PER_CHECK]] as const) {
      const p = lag.partitions.find((x) => x.partition === partition);
      expect(p?.lagSecondsMethod).toBe('exact');
      // The producer stamped the record at the committed offset; lagbot's clock is the reader's.
      expect(p?.lagSeconds).toBeCloseTo((clock.at - producedAt(committed)) / 1000, 0);
      expect(p?.lagSecondsSkipped).toBeNull();
    }
    expect(lag.lagSecondsMethod).toBe('exact');
  });

  it('knows an idle topic from the broker\'s newest record before it has watched it for long', async () => {
    const fresh = new LagMonitor({
      source: source.reader,
      recordTimes: source.recordTimes,
      store: openSqliteStore(':memory:', { clock }),
      policy: new AlertingPolicy(parseConfig(`watch:\n  include: [${JSON.stringify(idleGroup)}]\nalerting:\n  channel: C0ALERTS\nthresholds:\n  page: { lag: 30 }\n  critical: { lag: 20 }\n  warning: { lag: 10 }\n`, { KAFKA_BROKERS: testbed().bootstrap }), [{ name: 'default', watch: null, channel: null }]),
      clock,
      logger: createLogger('silent'),
      render: slackEffectsOf,
    });
    const report = await fresh.check();
    if (!report.ok) throw new Error(report.error);
    const verdict = report.verdicts.find((v) => v.group === idleGroup);
    // Its newest record is 20 minutes old: 0 s stale and no alert on the 40 offsets, at the first check.
    expect(verdict?.evaluation.figures.totalLag).toBe(40);
    expect(verdict?.evaluation.figures.lagSeconds).toBe(0);
    expect(verdict?.evaluation.severity).toBeNull();
  });

  it('exports the seconds to Prometheus with the same figures', async () => {
    const text = await metrics.metricsText();
    const groupLine = text.split('\n').find((l) => l.startsWith('kafka_consumergroup_lag_seconds{') && l.includes(`group="${group}"`));
    expect(groupLine).toBeDefined();
    const seconds = Number(groupLine?.split(' ').at(-1));
    const estimate = (clock.at - producedAt(5 * PER_CHECK + 50)) / 1000;
    expect(Math.abs(seconds - estimate)).toBeLessThanOrEqual(CHECK_MS / 1000);
    expect(text).toMatch(new RegExp(`kafka_consumer_lag_seconds\\{cluster="default",group="${idleGroup}",topic="${quiet}",partition="0"\\} 0\\n`));
  });
});
