import type { SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config/config.js';
import type { Clock } from '../core/protocol.js';
import type { Logger } from '../log/logger.js';
import { AdminSession, type KafkaRequestListener } from './admin-session.js';
import { KafkaLagReader } from './lag-reader.js';

export interface KafkaLag {
  reader: KafkaLagReader;
  /** Which requests reads use: batched through kafkajs internals, or its public admin API only. */
  readPath(): 'batched' | 'admin-api';
  /** Called for every Kafka request lagbot sends; returns a function that unsubscribes. */
  onRequest(listener: KafkaRequestListener): () => void;
  stop(): Promise<void>;
}

function saslOptions(config: KafkaConfig): SASLOptions | undefined {
  if (!config.sasl || !config.saslPassword) return undefined;
  const { username } = config.sasl;
  const password = config.saslPassword;
  switch (config.sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

export interface KafkaLagOptions {
  /** `admin-api` never uses kafkajs internals (for comparison); `auto` uses them when this kafkajs has them. */
  readPath?: 'auto' | 'admin-api';
}

/** Configure the Kafka side (nothing connects until the first read). */
export function createKafkaLag(config: KafkaConfig, clock: Clock, logger: Logger, options: KafkaLagOptions = {}): KafkaLag {
  const sasl = saslOptions(config);
  const session = new AdminSession(
    {
      brokers: config.brokers,
      clientId: config.clientId,
      connectionTimeoutMs: config.connectionTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      readDeadlineMs: config.readDeadlineMs,
      ssl: config.ssl,
      ...(sasl ? { sasl } : {}),
      readPath: options.readPath ?? 'auto',
    },
    logger.child({ component: 'kafka' }),
  );
  return {
    reader: new KafkaLagReader(session, clock),
    readPath: () => session.readPath,
    onRequest: (listener) => session.onRequest(listener),
    stop: () => session.stop(),
  };
}
