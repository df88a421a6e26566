import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startKafka } from '../../tools/kafka-testbed/broker.js';
import {
  kafkaJarsCached,
  kafkaVersionFromEnv,
  missingTools,
  missingToolsMessage,
  resolveKafkaJars,
} from '../../tools/kafka-testbed/jars.js';

export interface ProvidedKafka {
  bootstrap: string;
  brokers: string[];
  /** Version of the Kafka jars (broker and CLI); with an external cluster, of the CLI only. */
  version: string;
  /** "-cp" value for Kafka's CLI classes, or null when an external cluster is used without java+mvn. */
  classpath: string | null;
  external: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafka: ProvidedKafka;
  }
}

// Broker output is mostly WARN noise; LAGBOT_KAFKA_LOG=1 streams it when debugging a failure.
const verbose = process.env['LAGBOT_KAFKA_LOG'] === '1';
// The broker's own "ready" line is dropped: setup prints a single summary line instead.
const log = (line: string) => {
  const brokerOutput = line.startsWith('[kafka ');
  if ((verbose && brokerOutput) || (!brokerOutput && !/ ready on /.test(line))) console.log(`[kafka] ${line}`);
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const version = kafkaVersionFromEnv();
  const external = process.env['KAFKA_BROKERS']?.trim();

  if (external) {
    const brokers = external
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '');
    let classpath: string | null = null;
    const missing = missingTools({ needMaven: !(await kafkaJarsCached(version)) });
    if (missing.length === 0) {
      classpath = join(await resolveKafkaJars(version, { log }), '*');
    } else {
      console.warn(`[kafka] ${missing.join(' and ')} missing: tests comparing with Kafka's own CLI will be skipped`);
    }
    console.log(
      `[kafka] external cluster KAFKA_BROKERS=${brokers.join(',')} (CLI: ${classpath ? `Kafka ${version}` : 'none'})`,
    );
    project.provide('kafka', { bootstrap: brokers[0] ?? external, brokers, version, classpath, external: true });
    return async () => {};
  }

  // Maven is only needed for the first download; a filled .cache/kafka runs with java alone.
  const missing = missingTools({ needMaven: !(await kafkaJarsCached(version)) });
  if (missing.length > 0) throw new Error(missingToolsMessage(missing));

  const started = Date.now();
  const tb = await startKafka({ version, log });
  console.log(
    `[kafka] Apache Kafka ${tb.version} on ${tb.bootstrap} (pid ${tb.pid}, up in ${((Date.now() - started) / 1000).toFixed(1)}s)`,
  );
  project.provide('kafka', {
    bootstrap: tb.bootstrap,
    brokers: tb.brokers,
    version: tb.version,
    classpath: tb.classpath,
    external: false,
  });
  return async () => {
    await tb.stop();
  };
}
