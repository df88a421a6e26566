import type { ConnectionOptions } from 'node:tls';
import kafkajs, { type Admin, type ISocketFactory, type Kafka, type LogEntry, type Mechanism, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { TlsSettings } from '../config/clusters.js';
import { LagUnavailableError } from '../core/ports.js';
import type { Logger } from '../log/logger.js';
import { AdminReads, BatchedReads, type ClusterReads } from './cluster-reads.js';
import type { SaslIdentity } from './auth/sasl.js';
import { speaksTls } from './auth/tls-probe.js';
import { describeError, explainSecurityFailure, isConnectionFailure, isStaleMetadata, speaksTlsMessage, type Explanation } from './errors.js';
import { INTERNALS_KAFKAJS_VERSION, createSharedAdmin, type InternalCluster } from './kafkajs-internals.js';
import { createLimiter, type Limiter } from './limit.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export interface KafkaConnectionConfig {
  /** The cluster's name, for errors that say which cluster failed. */
  cluster: string;
  brokers: string[];
  clientId: string;
  /** Per connection attempt. */
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** Upper bound for any single read, so a slow cluster yields an answer, not a hang. */
  readDeadlineMs: number;
  /** node TLS options (certificates already read); absent for plaintext. */
  ssl?: ConnectionOptions;
  sasl?: SASLOptions | Mechanism;
  /** What the cluster is configured with, to explain a refused handshake or login in its terms. */
  security?: { tls: TlsSettings | null; sasl: SaslIdentity | null };
  /** kafkajs' own extension point for how sockets are opened (proxies, or a benchmark that counts requests). */
  socketFactory?: ISocketFactory;
  reauthenticationThresholdMs?: number;
  /** false: kafkajs' own requests only, never lagbot's flexible-version ones (flexible/requests.ts). */
  flexibleRequests?: boolean;
}

function kafkaLogs(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { kafka: extra };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}

// Few, short retries: an on-call person would rather hear "unreachable" in seconds than
// wait for kafkajs' default back-off.
const RETRY: RetryOptions = { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 };

interface Connection {
  admin: Admin;
  reads: ClusterReads;
  /** kafkajs' cluster behind the batched reads, for requests of other readers over the same connections; null on the public-API path. */
  cluster: InternalCluster | null;
}

/**
 * One long-lived kafkajs admin connection, reused by every read. It connects lazily so
 * lagbot starts while Kafka is down, and it is recreated when the connection drops or
 * the client's metadata goes stale (kafkajs keeps asking for a deleted topic forever).
 */
export class AdminSession {
  private readonly kafka: Kafka;
  private connection: Connection | null = null;
  private connecting: Promise<Connection> | null = null;
  private saidFallback = false;
  /** Once a read worked, a closed connection is a broker failing, not a listener spoken to wrongly. */
  private everRead = false;
  /** Bounds requests in flight per read: OffsetFetch per group, coordinator lookups. */
  private readonly limiter: Limiter;

  constructor(
    readonly config: KafkaConnectionConfig,
    private readonly logger: Logger,
    concurrency = 32,
  ) {
    this.limiter = createLimiter(concurrency);
    this.kafka = new KafkaClient({
      brokers: config.brokers,
      clientId: config.clientId,
      connectionTimeout: config.connectionTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      ...(config.ssl ? { ssl: config.ssl } : {}),
      ...(config.sasl ? { sasl: config.sasl } : {}),
      ...(config.socketFactory ? { socketFactory: config.socketFactory } : {}),
      ...(config.reauthenticationThresholdMs !== undefined ? { reauthenticationThreshold: config.reauthenticationThresholdMs } : {}),
      retry: RETRY,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogs(logger),
    });
  }

  /** The batched path shares the admin's connections and metadata; without kafkajs' internals, the admin API alone. */
  private open(): Connection {
    const shared = createSharedAdmin(this.kafka, RETRY);
    if (shared) return { admin: shared.admin, reads: new BatchedReads(shared.cluster, this.limiter, this.logger, this.config.flexibleRequests ?? true), cluster: shared.cluster };
    if (!this.saidFallback) {
      this.saidFallback = true;
      this.logger.warn(`this kafkajs is not ${INTERNALS_KAFKAJS_VERSION}: reading through its public admin API, which sends more requests for the same numbers`);
    }
    const admin = this.kafka.admin();
    return { admin, reads: new AdminReads(admin, this.limiter), cluster: null };
  }

  private async connected(): Promise<Connection> {
    if (this.connection) return this.connection;
    if (!this.connecting) {
      const connection = this.open();
      this.connecting = connection.admin
        .connect()
        .then(() => {
          this.connection = connection;
          return connection;
        })
        .finally(() => {
          this.connecting = null;
        });
    }
    return this.connecting;
  }

  private async reset(): Promise<void> {
    const admin = this.connection?.admin;
    this.connection = null;
    if (admin) await admin.disconnect().catch(() => undefined);
  }

  /**
   * Run `read` with the admin client under the read deadline. A stale-metadata or
   * connection failure gets one retry on a fresh client; anything still failing becomes
   * a LagUnavailableError that says which brokers were tried.
   */
  async use<T>(what: string, read: (reads: ClusterReads, cluster: InternalCluster | null) => Promise<T>): Promise<T> {
    const deadline = this.config.readDeadlineMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.unavailable(`Kafka did not answer within ${deadline / 1000}s while ${what} (brokers ${this.config.brokers.join(',')})`)),
        deadline,
      );
    });
    const attempt = async (): Promise<T> => {
      try {
        const connection = await this.connected();
        return await read(connection.reads, connection.cluster);
      } catch (error) {
        const refused = this.explain(error);
        if (refused?.certain) throw this.unavailable(refused.message, error);
        if (!isStaleMetadata(error) && !isConnectionFailure(error)) throw error;
        this.logger.warn({ err: describeError(error), what }, 'kafka admin client reset');
        await this.reset();
        try {
          const connection = await this.connected();
          return await read(connection.reads, connection.cluster);
        } catch (retryError) {
          await this.reset();
          throw this.unavailable(await this.whyUnreachable(retryError, what), retryError);
        }
      }
    };
    try {
      const result = await Promise.race([attempt(), timeout]);
      this.everRead = true;
      return result;
    } catch (error) {
      if (error instanceof LagUnavailableError) {
        await this.reset();
        throw error;
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A refused handshake or login, in the cluster's own terms; null for anything else. */
  private explain(error: unknown): Explanation | null {
    if (!this.config.security) return null;
    return explainSecurityFailure(error, { cluster: this.config.cluster, ...this.config.security });
  }

  private async whyUnreachable(error: unknown, what: string): Promise<string> {
    const unreachable = `Cannot reach Kafka at ${this.config.brokers.join(',')} while ${what}: ${describeError(error)}`;
    const explained = this.explain(error);
    if (!explained || (!explained.certain && this.everRead)) return unreachable;
    // A TLS listener closes a plaintext connection without a word; one handshake tells it
    // apart from a SASL listener doing the same.
    if (explained.closedInPlaintext && (await speaksTls(explained.closedInPlaintext, this.config.connectionTimeoutMs))) {
      return speaksTlsMessage(this.config.cluster, explained.closedInPlaintext);
    }
    return explained.certain ? explained.message : `${unreachable}; ${explained.message}`;
  }

  private unavailable(message: string, cause?: unknown): LagUnavailableError {
    return new LagUnavailableError(message, this.config.cluster, this.config.brokers, cause === undefined ? undefined : { cause });
  }

  async stop(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    await this.reset();
  }
}
