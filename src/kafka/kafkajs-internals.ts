import { createRequire } from 'node:module';
import type { Admin, GroupDescription, Kafka, RetryOptions } from 'kafkajs';

/**
 * The only module that reaches into kafkajs' unexported classes, and why: the public admin
 * API costs one Metadata and two ListOffsets per topic for log offsets, and a FindCoordinator
 * per group on every describeGroups / fetchOffsets call. kafkajs' own Cluster and Broker
 * classes can send one ListOffsets per leader for all topics and single requests to a known
 * coordinator, which is what a check over hundreds of groups needs (see BENCHMARKS.md).
 *
 * What is used was read from kafkajs 2.2.4 (src/index.js, src/admin, src/cluster,
 * src/broker); any other version gets `null` here and lagbot falls back to the public API,
 * which gives the same answers with more requests.
 */
export const INTERNALS_KAFKAJS_VERSION = '2.2.4';

export interface RawPartitionMetadata {
  partitionId: number;
  leader: number;
}

export interface RawMetadata {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  topicMetadata: Array<{ topic: string; partitionMetadata: RawPartitionMetadata[] }>;
}

export interface RawTopicPartitionOffsets {
  topic: string;
  partitions: Array<{ partition: number; offset: string }>;
}

/** The protocol requests of kafkajs' Broker that lagbot sends (each is exactly one request). */
export interface InternalBroker {
  listGroups(): Promise<{ groups: Array<{ groupId: string; protocolType: string }> }>;
  describeGroups(request: { groupIds: string[] }): Promise<{ groups: GroupDescription[] }>;
  /** `topics: []` asks for every topic the group has offsets for. */
  offsetFetch(request: { groupId: string; topics: [] }): Promise<{ responses: RawTopicPartitionOffsets[] }>;
  /** timestamp -1 = log end (latest), -2 = log start (earliest). */
  listOffsets(request: { topics: Array<{ topic: string; partitions: Array<{ partition: number; timestamp: number }> }> }): Promise<{ responses: RawTopicPartitionOffsets[] }>;
}

export interface InternalCluster {
  findBroker(node: { nodeId: number }): Promise<InternalBroker>;
  findGroupCoordinatorMetadata(request: { groupId: string }): Promise<{ coordinator: { nodeId: number } }>;
  brokerPool: {
    /** One Metadata request; `[]` means every topic. Also refreshes the broker list. */
    refreshMetadata(topics: string[]): Promise<void>;
    metadata: RawMetadata | null;
  };
}

export interface SharedAdmin {
  admin: Admin;
  /** The connections and metadata `admin` uses, for requests the admin API cannot batch. */
  cluster: InternalCluster;
}

type ClusterFactory = (options: { allowAutoTopicCreation: boolean; instrumentationEmitter: unknown; metadataMaxAge?: number }) => InternalCluster;
type AdminFactory = (options: { retry: RetryOptions; logger: unknown; cluster: InternalCluster; instrumentationEmitter: unknown }) => Admin;

interface Internals {
  createAdmin: AdminFactory;
  Emitter: new () => unknown;
}

let loaded: Internals | null | undefined;

function loadInternals(): Internals | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    const require = createRequire(import.meta.url);
    const { version } = require('kafkajs/package.json') as { version: string };
    if (version !== INTERNALS_KAFKAJS_VERSION) return null;
    const createAdmin = require('kafkajs/src/admin') as unknown;
    const Emitter = require('kafkajs/src/instrumentation/emitter') as unknown;
    if (typeof createAdmin !== 'function' || typeof Emitter !== 'function') return null;
    loaded = { createAdmin: createAdmin as AdminFactory, Emitter: Emitter as new () => unknown };
  } catch {
    loaded = null;
  }
  return loaded;
}

/** kafkajs' Client keeps its cluster factory (with brokers, SSL, SASL, socket factory) under a private symbol. */
function clusterFactoryOf(kafka: Kafka): ClusterFactory | null {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = symbol ? (kafka as unknown as Record<symbol, unknown>)[symbol] : undefined;
  return typeof factory === 'function' ? (factory as ClusterFactory) : null;
}

/**
 * An admin client and the cluster it runs on, sharing connections, metadata and request
 * instrumentation (`admin.on(admin.events.REQUEST)` sees the cluster's requests too).
 * null when this kafkajs is not the one the internals were read from.
 */
export function createSharedAdmin(kafka: Kafka, retry: RetryOptions): SharedAdmin | null {
  const internals = loadInternals();
  const factory = internals && clusterFactoryOf(kafka);
  if (!internals || !factory) return null;
  const instrumentationEmitter = new internals.Emitter();
  // kafkajs' own admin(): no auto topic creation, metadata max age left at its default.
  const cluster: unknown = factory.call(kafka, { allowAutoTopicCreation: false, instrumentationEmitter });
  if (!isCluster(cluster)) return null;
  return { admin: internals.createAdmin({ retry, logger: kafka.logger(), cluster, instrumentationEmitter }), cluster };
}

function isCluster(value: unknown): value is InternalCluster {
  const c = value as Partial<InternalCluster> | null;
  return (
    typeof c?.findBroker === 'function' &&
    typeof c.findGroupCoordinatorMetadata === 'function' &&
    typeof c.brokerPool?.refreshMetadata === 'function'
  );
}
