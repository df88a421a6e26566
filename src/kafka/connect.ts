import type { ISocketFactory } from 'kafkajs';
import type { ClusterConfig } from '../config/clusters.js';
import type { Clock } from '../core/ports.js';
import type { Logger } from '../log/logger.js';
import { AdminSession } from './admin-session.js';
import type { Fetch } from './auth/client-credentials.js';
import type { MskSigner } from './auth/msk-iam.js';
import { saslSetup } from './auth/sasl.js';
import { tlsOptions, type ReadFile } from './auth/tls.js';
import { KafkaLagReader } from './lag-reader.js';
import { KafkaRecordTimes, type RecordTimeLimits } from './record-times.js';

export { KafkaSetupError } from './auth/setup-error.js';

export interface KafkaLag {
  reader: KafkaLagReader;
  /** Record timestamps (lag in seconds), over the reader's connections. */
  recordTimes: KafkaRecordTimes;
  stop(): Promise<void>;
}

export interface KafkaLagOptions {
  /** kafkajs' socketFactory, for a proxy or for counting requests on the wire (the benchmark). */
  socketFactory?: ISocketFactory;
  /**
   * kafkajs logs in again this long before the broker's session ends (KIP-368); 10 s by
   * default. Brokers with connections.max.reauth.ms below it need less, as the test bed's does.
   */
  reauthenticationThresholdMs?: number;
  /** Where AWS_REGION is read for MSK IAM; process.env by default. */
  env?: Record<string, string | undefined>;
  /** Bounds of the record-time reads (cache, fetches per call, sizes); DEFAULT_RECORD_TIME_LIMITS by default. */
  recordTimeLimits?: RecordTimeLimits;
  /** Seams for the unit tests; the real file system, fetch and AWS signer by default. */
  readFile?: ReadFile;
  fetch?: Fetch;
  mskSigner?: MskSigner;
}

/**
 * Configure the Kafka side of one cluster. Its certificate files are read and checked now,
 * so a missing or wrong file is a KafkaSetupError at start; nothing connects until the first read.
 */
export function createKafkaLag(config: ClusterConfig, clock: Clock, logger: Logger, options: KafkaLagOptions = {}): KafkaLag {
  const ssl = config.tls ? tlsOptions(config.name, config.tls, options.readFile) : null;
  const sasl = saslSetup(config, {
    clock,
    env: options.env ?? process.env,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.mskSigner ? { sign: options.mskSigner } : {}),
  });
  const kafkaLogger = logger.child({ component: 'kafka', cluster: config.name });
  const session = new AdminSession(
    {
      cluster: config.name,
      brokers: config.brokers,
      clientId: config.clientId,
      connectionTimeoutMs: config.connectionTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      readDeadlineMs: config.readDeadlineMs,
      ...(ssl ? { ssl } : {}),
      ...(sasl ? { sasl: sasl.options } : {}),
      security: { tls: config.tls, sasl: sasl?.identity ?? null },
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
      ...(options.reauthenticationThresholdMs !== undefined ? { reauthenticationThresholdMs: options.reauthenticationThresholdMs } : {}),
      flexibleRequests: config.flexibleRequests ?? true,
    },
    kafkaLogger,
  );
  return {
    reader: new KafkaLagReader(config.name, session, clock),
    recordTimes: new KafkaRecordTimes(config.name, session, clock, kafkaLogger, options.recordTimeLimits),
    stop: () => session.stop(),
  };
}
