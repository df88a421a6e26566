import type { ISocketFactory } from 'kafkajs';
import type { ClusterConfig } from '../config/clusters.js';
import { ConfigError } from '../config/config.js';
import type { Clock, LagSource } from '../core/ports.js';
import { KafkaSetupError, createKafkaLag, type KafkaLag } from '../kafka/connect.js';
import type { Logger } from '../log/logger.js';

/** One Kafka connection per cluster, each with its own deadline, in the configured order. */
export interface OpenClusters {
  sources: LagSource[];
  stop(): Promise<void>;
}

/**
 * Configure every cluster (nothing connects until the first read; TLS files are read and
 * checked now). `only` picks one by name; an unknown name is a configuration error listing
 * the known ones.
 */
export function openClusters(
  clusters: readonly ClusterConfig[],
  clock: Clock,
  logger: Logger,
  options: { only?: string; socketFactory?: ISocketFactory; env?: Record<string, string | undefined> } = {},
): OpenClusters {
  const chosen = options.only === undefined ? clusters : clusters.filter((c) => c.name === options.only);
  if (chosen.length === 0) throw new ConfigError(`no cluster named "${options.only}"; known clusters: ${clusters.map((c) => c.name).join(', ')}`);
  const opened: KafkaLag[] = [];
  try {
    for (const cluster of chosen) {
      opened.push(createKafkaLag(cluster, clock, logger, { ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}), ...(options.env ? { env: options.env } : {}) }));
    }
  } catch (error) {
    void Promise.all(opened.map((k) => k.stop()));
    // A key file that is missing or does not fit is bad configuration, found before anything connects.
    if (error instanceof KafkaSetupError) throw new ConfigError(error.message);
    throw error;
  }
  return {
    sources: opened.map((k) => k.reader),
    stop: async () => {
      await Promise.all(opened.map((k) => k.stop()));
    },
  };
}
