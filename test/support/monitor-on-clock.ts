import type { Admin, Consumer } from 'kafkajs';
import { AlertingPolicy } from '../../src/config/alerting.js';
import { parseConfig } from '../../src/config/config.js';
import type { Clock } from '../../src/core/ports.js';
import { createKafkaLag, type KafkaLag } from '../../src/kafka/connect.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { LagMonitor, type MonitorDeps } from '../../src/monitor/monitor.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { slackEffectsOf } from '../../src/views/incident-message.js';
import { createTopic, eventually, kafkaClient, testbed } from './kafka.js';

/**
 * A group on a new topic whose one member commits only what the test says it got through:
 * the rates, and so the findings, come from offsets the test controls.
 */
export interface CommittingGroup {
  consumer: Consumer;
  /** Commits `offsets[i]` on partition i. */
  commit(offsets: readonly number[]): Promise<void>;
}

export async function committingGroup(admin: Admin, topic: string, group: string, partitions: number, clientId?: string): Promise<CommittingGroup> {
  await createTopic(admin, topic, partitions);
  const consumer = kafkaClient(clientId).consumer({ groupId: group, heartbeatInterval: 500, sessionTimeout: 30_000 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
  await eventually(async () => joined, 'the consumer to join its group');
  return {
    consumer,
    commit: (offsets) => consumer.commitOffsets(offsets.map((offset, partition) => ({ topic, partition, offset: String(offset) }))),
  };
}

/** A LagMonitor on the test bed's broker, its checks on an injected clock, its store in memory. */
export interface MonitorOnClock {
  monitor: LagMonitor;
  reader: KafkaLag;
  policy: AlertingPolicy;
  store: SqliteIncidentStore;
  logger: Logger;
  stop(): Promise<void>;
}

/** `deps`: more of the monitor's parts, built on the rig's store (the silences, say). */
export function monitorOnClock(yaml: string, clock: Clock, deps: (store: SqliteIncidentStore) => Partial<MonitorDeps> = () => ({})): MonitorOnClock {
  const config = parseConfig(yaml, { KAFKA_BROKERS: testbed().bootstrap });
  const policy = new AlertingPolicy(config, config.clusters);
  const logger = createLogger('silent');
  const reader = createKafkaLag(config.clusters[0]!, clock, logger);
  const store = openSqliteStore(':memory:', { clock });
  const monitor = new LagMonitor({ source: reader.reader, store, policy, clock, logger, render: slackEffectsOf, ...deps(store) });
  return {
    monitor,
    reader,
    policy,
    store,
    logger,
    stop: async () => {
      await reader.stop();
      await store.close();
    },
  };
}
