import kafkajs, { type Admin, type Kafka, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '../log/logger.js';
import { KafkaUnavailableError, describeError, isConnectionFailure, isStaleMetadata } from './errors.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export interface KafkaConnectionConfig {
  brokers: string[];
  clientId: string;
  /** Per connection attempt. */
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** Upper bound for any single read, so a slow cluster yields an answer, not a hang. */
  readDeadlineMs: number;
  ssl?: boolean;
  sasl?: SASLOptions;
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

/**
 * One long-lived kafkajs admin connection, reused by every read. It connects lazily so
 * lagbot starts while Kafka is down, and it is recreated when the connection drops or
 * the client's metadata goes stale (kafkajs keeps asking for a deleted topic forever).
 */
export class AdminSession {
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private connecting: Promise<Admin> | null = null;

  constructor(
    readonly config: KafkaConnectionConfig,
    private readonly logger: Logger,
  ) {
    this.kafka = new KafkaClient({
      brokers: config.brokers,
      clientId: config.clientId,
      connectionTimeout: config.connectionTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      ssl: config.ssl,
      ...(config.sasl ? { sasl: config.sasl } : {}),
      // Few, short retries: an on-call person would rather hear "unreachable" in
      // seconds than wait for kafkajs' default back-off.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
      logLevel: logLevel.WARN,
      logCreator: kafkaLogs(logger),
    });
  }

  private async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    if (!this.connecting) {
      const admin = this.kafka.admin();
      this.connecting = admin
        .connect()
        .then(() => {
          this.admin = admin;
          return admin;
        })
        .finally(() => {
          this.connecting = null;
        });
    }
    return this.connecting;
  }

  private async reset(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    if (admin) await admin.disconnect().catch(() => undefined);
  }

  /**
   * Run `read` with the admin client under the read deadline. A stale-metadata or
   * connection failure gets one retry on a fresh client; anything still failing becomes
   * a KafkaUnavailableError that says which brokers were tried.
   */
  async use<T>(what: string, read: (admin: Admin) => Promise<T>): Promise<T> {
    const deadline = this.config.readDeadlineMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaUnavailableError(`Kafka did not answer within ${deadline / 1000}s while ${what} (brokers ${this.config.brokers.join(',')})`, this.config.brokers)),
        deadline,
      );
    });
    const attempt = async (): Promise<T> => {
      try {
        return await read(await this.connected());
      } catch (error) {
        if (!isStaleMetadata(error) && !isConnectionFailure(error)) throw error;
        this.logger.warn({ err: describeError(error), what }, 'kafka admin client reset');
        await this.reset();
        try {
          return await read(await this.connected());
        } catch (retryError) {
          await this.reset();
          throw new KafkaUnavailableError(
            `Cannot reach Kafka at ${this.config.brokers.join(',')} while ${what}: ${describeError(retryError)}`,
            this.config.brokers,
            { cause: retryError },
          );
        }
      }
    };
    try {
      return await Promise.race([attempt(), timeout]);
    } catch (error) {
      if (error instanceof KafkaUnavailableError) {
        await this.reset();
        throw error;
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    await this.reset();
  }
}
