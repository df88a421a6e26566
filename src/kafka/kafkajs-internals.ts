import { createRequire } from 'node:module';
import type { Admin, GroupDescription, Kafka, RetryOptions } from 'kafkajs';
import type { BrokerVersions, FlexibleRequest } from './flexible/requests.js';

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
  /** Present in a metadata answer read with `metadataAsAnswered`; 0 when the partition is fine. */
  partitionErrorCode?: number;
}

export interface RawMetadata {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  topicMetadata: Array<{ topic: string; topicErrorCode?: number; partitionMetadata: RawPartitionMetadata[] }>;
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
  /** What the broker answered to ApiVersions when kafkajs connected, by API key. */
  versions?: BrokerVersions | null;
  /** kafkajs' own choice of version for a request definition, from the broker's ApiVersions. */
  lookupRequest?: (apiKey: number, definition: unknown) => (args: unknown) => KafkajsProtocolRequest;
}

interface KafkajsProtocolRequest {
  request: { apiKey: number; apiVersion: number; apiName: string; encode: () => Promise<KafkajsEncoder> };
  response: { decode: (payload: Buffer) => Promise<unknown>; parse: (data: unknown) => Promise<unknown> };
  /** Fetch sets it from its maxWaitTime. */
  requestTimeout?: number;
}

export interface InternalCluster {
  findBroker(node: { nodeId: number }): Promise<InternalBroker>;
  findGroupCoordinatorMetadata(request: { groupId: string }): Promise<{ coordinator: { nodeId: number } }>;
  brokerPool: {
    /** One Metadata request; `[]` means every topic. Also refreshes the broker list. */
    refreshMetadata(topics: string[]): Promise<void>;
    metadata: RawMetadata | null;
    /** The bootstrap connection, the only one before a Metadata answer was ever taken. */
    seedBroker?: InternalBroker;
    /** A broker with an open connection if there is one (else the first that connects), as kafkajs' own refresh picks. */
    findConnectedBroker(): Promise<InternalBroker>;
    /** Calls `use` with one broker after another until a call does not throw; null when none did. */
    withBroker<T>(use: (b: { nodeId: number; broker: InternalBroker }) => Promise<T>): Promise<T | null>;
  };
}

export interface SharedAdmin {
  admin: Admin;
  /** The connections and metadata `admin` uses, for requests the admin API cannot batch. */
  cluster: InternalCluster;
}

type ClusterFactory = (options: { allowAutoTopicCreation: boolean; instrumentationEmitter: unknown; metadataMaxAge?: number }) => InternalCluster;
type AdminFactory = (options: { retry: RetryOptions; logger: unknown; cluster: InternalCluster; instrumentationEmitter: unknown }) => Admin;

interface KafkajsEncoder {
  writeBuffer(value: Buffer): KafkajsEncoder;
}

interface Internals {
  createAdmin: AdminFactory;
  Emitter: new () => unknown;
  Encoder: new () => KafkajsEncoder;
  createErrorFromCode: (code: number) => Error;
  metadataDefinition: unknown;
  metadataApiKey: number;
  fetchDefinition: unknown;
  fetchApiKey: number;
  listOffsetsDefinition: unknown;
  listOffsetsApiKey: number;
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
    const Encoder = require('kafkajs/src/protocol/encoder') as unknown;
    const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode?: unknown };
    const { requests } = require('kafkajs/src/protocol/requests') as { requests?: { Metadata?: unknown; Fetch?: unknown; ListOffsets?: unknown } };
    const metadataDefinition = requests?.Metadata;
    const fetchDefinition = requests?.Fetch;
    const listOffsetsDefinition = requests?.ListOffsets;
    const keys = require('kafkajs/src/protocol/requests/apiKeys') as { Metadata?: unknown; Fetch?: unknown; ListOffsets?: unknown };
    const { Metadata: metadataApiKey, Fetch: fetchApiKey, ListOffsets: listOffsetsApiKey } = keys;
    if (typeof createAdmin !== 'function' || typeof Emitter !== 'function' || typeof Encoder !== 'function' || typeof createErrorFromCode !== 'function') return null;
    if (!metadataDefinition || typeof metadataApiKey !== 'number') return null;
    if (!fetchDefinition || typeof fetchApiKey !== 'number' || !listOffsetsDefinition || typeof listOffsetsApiKey !== 'number') return null;
    loaded = {
      createAdmin: createAdmin as AdminFactory,
      Emitter: Emitter as new () => unknown,
      Encoder: Encoder as new () => KafkajsEncoder,
      createErrorFromCode: createErrorFromCode as (code: number) => Error,
      metadataDefinition,
      metadataApiKey,
      fetchDefinition,
      fetchApiKey,
      listOffsetsDefinition,
      listOffsetsApiKey,
    };
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
    typeof c.brokerPool?.refreshMetadata === 'function' &&
    typeof c.brokerPool.findConnectedBroker === 'function'
  );
}

type SendRequest = (protocolRequest: KafkajsProtocolRequest) => Promise<unknown>;

/** kafkajs' Broker sends through a private method that also drops a connection the broker closed. */
function sendRequestOf(broker: InternalBroker): SendRequest | null {
  for (let proto: object | null = Object.getPrototypeOf(broker) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    const symbol = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'private:Broker:sendRequest');
    if (symbol) {
      const send = (proto as Record<symbol, unknown>)[symbol];
      return typeof send === 'function' ? (send.bind(broker) as SendRequest) : null;
    }
  }
  return null;
}

/** Whether requests lagbot encodes itself (flexible/requests.ts) can go over this broker's kafkajs connection. */
export function canSendFlexible(broker: InternalBroker): boolean {
  return loadInternals() !== null && sendRequestOf(broker) !== null;
}

/**
 * One request lagbot encoded itself, over the kafkajs connection to `broker` (same TLS, SASL,
 * timeouts and request instrumentation as every other request).
 */
export async function sendFlexible<T>(broker: InternalBroker, request: FlexibleRequest<T>): Promise<T> {
  const internals = loadInternals();
  const send = sendRequestOf(broker);
  if (!internals || !send) throw new Error(`kafkajs ${INTERNALS_KAFKAJS_VERSION} internals are not available to send ${request.apiName}`);
  const answer = await send({
    request: {
      apiKey: request.apiKey,
      apiVersion: request.apiVersion,
      apiName: request.apiName,
      encode: () => Promise.resolve(new internals.Encoder().writeBuffer(request.body)),
    },
    response: { decode: (payload) => Promise.resolve(request.decode(payload)), parse: (data) => Promise.resolve(data) },
  });
  return answer as T;
}

/** The kafkajs error for a Kafka error code, so that flexible answers fail the way kafkajs' own do (same `type`, same `retriable`). */
export function kafkaError(code: number): Error {
  const internals = loadInternals();
  if (!internals) return new Error(`Kafka error code ${code}`);
  return internals.createErrorFromCode(code);
}

/**
 * Metadata as the broker answered it, topic and partition errors included, for `topics` or,
 * with none named, for every topic. kafkajs' own refresh rejects the whole answer when one
 * partition has no leader (LEADER_NOT_AVAILABLE while it is offline), which would fail every
 * read of the cluster for one partition; here each keeps its error code, for the read to
 * treat it as unknown. Never creates a topic it names.
 */
export async function metadataAsAnswered(broker: InternalBroker, topics: readonly string[] = []): Promise<RawMetadata> {
  return (await asAnswered(broker, 'Metadata', { topics: [...topics], allowAutoTopicCreation: false })) as RawMetadata;
}

/**
 * One of kafkajs' own requests, at the version kafkajs picks for this broker, with the answer
 * as decoded but not judged: kafkajs' parse throws for the first partition with an error,
 * which would fail every partition of a request for one.
 */
async function asAnswered(broker: InternalBroker, api: 'Metadata' | 'Fetch' | 'ListOffsets', args: unknown): Promise<unknown> {
  const internals = loadInternals();
  const send = sendRequestOf(broker);
  if (!internals || !send || !broker.lookupRequest) throw new Error(`kafkajs ${INTERNALS_KAFKAJS_VERSION} internals are not available to send ${api}`);
  const [apiKey, definition] =
    api === 'Metadata'
      ? [internals.metadataApiKey, internals.metadataDefinition]
      : api === 'Fetch'
        ? [internals.fetchApiKey, internals.fetchDefinition]
        : [internals.listOffsetsApiKey, internals.listOffsetsDefinition];
  const protocolRequest = broker.lookupRequest(apiKey, definition)(args);
  return await send({ ...protocolRequest, response: { decode: protocolRequest.response.decode, parse: (data) => Promise.resolve(data) } });
}

/** A record as kafkajs' Fetch decoder gives it (one per record, its batch's header beside it). */
export interface RawRecord {
  offset: string;
  timestamp: string;
  isControlRecord: boolean;
  batchContext: {
    firstOffset: string;
    lastOffsetDelta: number;
    producerId: string;
    inTransaction: boolean;
    isControlBatch: boolean;
    /** 0 CreateTime, 1 LogAppendTime. */
    timestampType: number;
  };
}

export interface RawFetchPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  /** Fetch v4+; -1 where the broker does not say. */
  lastStableOffset?: string;
  /** Fetch v5+ (kafkajs' name for log_start_offset). */
  lastStartOffset?: string;
  abortedTransactions?: Array<{ producerId: string; firstOffset: string }>;
  /** Record batches cut off by the size limit are left out by kafkajs' decoder. */
  messages: RawRecord[];
}

export interface RawFetchRequest {
  maxBytes: number;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
}

/** kafkajs' isolation levels (src/protocol/isolationLevel.js). */
const READ_COMMITTED = 1;

/**
 * One Fetch request as a read-committed consumer sends it, without a group or a session
 * (no fetch session: sessionId 0, epoch -1), that answers at once (maxWaitTime 0) with what
 * the leader has.
 */
export async function fetchAsAnswered(broker: InternalBroker, request: RawFetchRequest): Promise<{ responses: Array<{ topicName: string; partitions: RawFetchPartition[] }> }> {
  const answer = await asAnswered(broker, 'Fetch', { replicaId: -1, isolationLevel: READ_COMMITTED, maxWaitTime: 0, minBytes: 1, maxBytes: request.maxBytes, topics: request.topics });
  return answer as { responses: Array<{ topicName: string; partitions: RawFetchPartition[] }> };
}

/** kafkajs' ListOffsets (v1-v3 on today's brokers: one offset and its timestamp per partition), errors per partition kept. */
export async function listOffsetsAsAnswered(
  broker: InternalBroker,
  topics: Array<{ topic: string; partitions: Array<{ partition: number; timestamp: number }> }>,
): Promise<{ responses: Array<{ topic: string; partitions: Array<{ partition: number; errorCode: number; timestamp?: string; offset?: string; offsets?: string[] }> }> }> {
  const answer = await asAnswered(broker, 'ListOffsets', { replicaId: -1, isolationLevel: READ_COMMITTED, topics });
  return answer as { responses: Array<{ topic: string; partitions: Array<{ partition: number; errorCode: number; timestamp?: string; offset?: string; offsets?: string[] }> }> };
}
