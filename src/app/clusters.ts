import type { ISocketFactory } from 'kafkajs';
import type { ClusterConfig } from '../config/clusters.js';
import { ConfigError } from '../config/config.js';
import type { Clock, LagSource } from '../core/ports.js';
import type { RecordTimeSource } from '../core/record-time.js';
import { KafkaSetupError, createKafkaLag, type KafkaLag } from '../kafka/connect.js';
import type { Logger } from '../log/logger.js';

/** One Kafka connection per cluster, each with its own deadline, in the configured order. */
export interface OpenClusters {
  sources: LagSource[];
  /** Each cluster's record times, in the order of `sources`, sharing its connections. */
  recordTimes: RecordTimeSource[];
  stop(): Promise<void>;
}

/** The one wording for a cluster name lagbot does not know, in every surface. */
export function unknownClusterText(name: string, known: readonly string[]): string {
  return `no cluster named "${name}"; known clusters: ${known.join(', ')}`;
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
  if (chosen.length === 0) throw new ConfigError(unknownClusterText(options.only ?? '', clusters.map((c) => c.name)));
  const opened: KafkaLag[] = [];
  // A key file that is missing or does not fit is bad configuration, found before anything
  // connects, and every cluster's is reported at once.
  const problems: string[] = [];
  for (const cluster of chosen) {
    try {
      opened.push(createKafkaLag(cluster, clock, logger, { ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}), ...(options.env ? { env: options.env } : {}) }));
    } catch (error) {
      if (!(error instanceof KafkaSetupError)) {
        void Promise.all(opened.map((k) => k.stop()));
        throw error;
      }
      problems.push(error.message);
    }
  }
  if (problems.length > 0) {
    void Promise.all(opened.map((k) => k.stop()));
    throw new ConfigError(problems.join('\n'));
  }
  return {
    sources: opened.map((k) => k.reader),
    recordTimes: opened.map((k) => k.recordTimes),
    stop: async () => {
      await Promise.all(opened.map((k) => k.stop()));
    },
  };
}
