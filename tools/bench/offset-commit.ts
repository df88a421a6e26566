/**
 * The benchmark's own OffsetCommit, for building a cluster state (lagbot itself is read-only
 * and has no way to commit). Kafka's `AdminClient.alterConsumerGroupOffsets` sends one
 * OffsetCommit per group with generation -1 and no member; kafkajs' public API has no such
 * call (`admin.setOffsets` joins the group as a consumer first), but its internal Cluster and
 * Broker classes send exactly that request. Read from kafkajs 2.2.4 (src/cluster/index.js,
 * src/broker/index.js, src/loggers, src/network/socketFactory.js); with any other version
 * `createOffsetCommitter` returns null and the state builder uses `admin.setOffsets`.
 */
import { createRequire } from 'node:module';
import type { ISocketFactory, RetryOptions } from 'kafkajs';

export const OFFSET_COMMIT_KAFKAJS_VERSION = '2.2.4';

export interface TopicOffsets {
  topic: string;
  partitions: Array<{ partition: number; offset: string }>;
}

interface InternalBroker {
  offsetCommit(request: { groupId: string; groupGenerationId: number; memberId: string; topics: TopicOffsets[] }): Promise<unknown>;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  /** FindCoordinator (retried while the coordinator is not available), then that broker, connected. */
  findGroupCoordinator(request: { groupId: string }): Promise<InternalBroker>;
}

type ClusterClass = new (options: Record<string, unknown>) => InternalCluster;
interface Loggers {
  LEVELS: { NOTHING: number };
  createLogger(options: { level: number; logCreator: () => () => void }): unknown;
}

export interface OffsetCommitter {
  /** One OffsetCommit to the group's coordinator, generation -1, no member id. */
  commit(groupId: string, topics: TopicOffsets[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface OffsetCommitterOptions {
  clientId: string;
  requestTimeoutMs: number;
  retry: RetryOptions;
}

/** null when the installed kafkajs is not the version this was read from. */
export function createOffsetCommitter(brokers: string[], options: OffsetCommitterOptions): OffsetCommitter | null {
  const require = createRequire(import.meta.url);
  let Cluster: ClusterClass;
  let loggers: Loggers;
  let socketFactory: ISocketFactory;
  try {
    const { version } = require('kafkajs/package.json') as { version: string };
    if (version !== OFFSET_COMMIT_KAFKAJS_VERSION) return null;
    Cluster = require('kafkajs/src/cluster') as ClusterClass;
    loggers = require('kafkajs/src/loggers') as Loggers;
    socketFactory = (require('kafkajs/src/network/socketFactory') as () => ISocketFactory)();
  } catch {
    return null;
  }
  if (typeof Cluster !== 'function' || typeof loggers.createLogger !== 'function') return null;

  // The options kafkajs' Kafka client passes to its clusters (src/index.js), for a plain
  // connection without SSL or SASL: the test bed's broker or KAFKA_BROKERS.
  const cluster = new Cluster({
    logger: loggers.createLogger({ level: loggers.LEVELS.NOTHING, logCreator: () => () => undefined }),
    socketFactory,
    brokers,
    clientId: options.clientId,
    connectionTimeout: 3_000,
    requestTimeout: options.requestTimeoutMs,
    enforceRequestTimeout: true,
    retry: options.retry,
    allowAutoTopicCreation: false,
    maxInFlightRequests: null,
    instrumentationEmitter: null,
    offsets: new Map(),
  });
  let connected: Promise<void> | null = null;
  const connect = () =>
    (connected ??= (async () => {
      await cluster.connect();
      await cluster.refreshMetadata();
    })());

  return {
    async commit(groupId, topics) {
      await connect();
      const broker = await cluster.findGroupCoordinator({ groupId });
      await broker.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics });
    },
    async disconnect() {
      connected = null;
      await cluster.disconnect();
    },
  };
}
