import type { ISocketFactory, SASLOptions } from 'kafkajs';
import type { ClusterConfig } from '../config/clusters.js';
import type { Clock } from '../core/ports.js';
import type { Logger } from '../log/logger.js';
import { AdminSession } from './admin-session.js';
import { KafkaLagReader } from './lag-reader.js';

export interface KafkaLag {
  reader: KafkaLagReader;
  stop(): Promise<void>;
}

function saslOptions(config: ClusterConfig): SASLOptions | undefined {
  const sasl = config.sasl;
  if (!sasl) return undefined;
  switch (sasl.mechanism) {
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512':
      return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
    default:
      throw new Error(`cluster ${config.name}: SASL ${sasl.mechanism} is not supported yet`);
  }
}

export interface KafkaLagOptions {
  /** kafkajs' socketFactory, for a proxy or for counting requests on the wire (the benchmark). */
  socketFactory?: ISocketFactory;
}

/** Configure the Kafka side of one cluster (nothing connects until the first read). */
export function createKafkaLag(config: ClusterConfig, clock: Clock, logger: Logger, options: KafkaLagOptions = {}): KafkaLag {
  const sasl = saslOptions(config);
  const session = new AdminSession(
    {
      cluster: config.name,
      brokers: config.brokers,
      clientId: config.clientId,
      connectionTimeoutMs: config.connectionTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      readDeadlineMs: config.readDeadlineMs,
      ssl: config.tls !== null,
      ...(sasl ? { sasl } : {}),
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
    },
    logger.child({ component: 'kafka', cluster: config.name }),
  );
  return {
    reader: new KafkaLagReader(config.name, session, clock),
    stop: () => session.stop(),
  };
}
