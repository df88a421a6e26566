import type { ISocketFactory, SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config/config.js';
import type { Clock } from '../core/ports.js';
import type { Logger } from '../log/logger.js';
import { AdminSession } from './admin-session.js';
import { KafkaLagReader } from './lag-reader.js';

export interface KafkaLag {
  reader: KafkaLagReader;
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
  /** The name the cluster goes by in messages, metrics and the store. */
  cluster: string;
  /** kafkajs' socketFactory, for a proxy or for counting requests on the wire (the benchmark). */
  socketFactory?: ISocketFactory;
}

/** Configure the Kafka side of one cluster (nothing connects until the first read). */
export function createKafkaLag(config: KafkaConfig, clock: Clock, logger: Logger, options: KafkaLagOptions): KafkaLag {
  const sasl = saslOptions(config);
  const session = new AdminSession(
    {
      cluster: options.cluster,
      brokers: config.brokers,
      clientId: config.clientId,
      connectionTimeoutMs: config.connectionTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      readDeadlineMs: config.readDeadlineMs,
      ssl: config.ssl,
      ...(sasl ? { sasl } : {}),
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
    },
    logger.child({ component: 'kafka', cluster: options.cluster }),
  );
  return {
    reader: new KafkaLagReader(options.cluster, session, clock),
    stop: () => session.stop(),
  };
}
