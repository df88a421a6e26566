import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { kafkaJarsCached, kafkaVersionFromEnv, missingTools, missingToolsMessage, resolveKafkaJars } from '../kafka-testbed/jars.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { localBroker, runScale, type KafkaTarget, type ScaleResult } from './run-scale.js';
import { formatSummary, targetsOf } from './summary.js';

const log = (line: string) => console.log(line);

/** KAFKA_BROKERS: measure an existing cluster; Kafka's tool then runs only if java and the jars are at hand. */
async function externalTarget(brokers: string[]): Promise<KafkaTarget> {
  const version = kafkaVersionFromEnv();
  const missing = missingTools({ needMaven: !(await kafkaJarsCached(version)) });
  const classpath = missing.length === 0 ? join(await resolveKafkaJars(version, { log }), '*') : null;
  if (!classpath) log(`${missing.join(' and ')} missing: kafka-consumer-groups will not be timed`);
  // No counting proxy: the cluster's advertised addresses are its own. lagbot's requests are counted on its side.
  return { brokers, bootstrap: brokers[0] as string, classpath, version, external: true, counted: null };
}

async function main(options: BenchOptions): Promise<number> {
  const external = process.env['KAFKA_BROKERS']
    ?.split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (!external || external.length === 0) {
    const missing = missingTools({ needMaven: !(await kafkaJarsCached(kafkaVersionFromEnv())) });
    if (missing.length > 0) {
      console.error(missingToolsMessage(missing));
      return 2;
    }
  } else if (options.scales.length > 1) {
    console.error('With KAFKA_BROKERS, run one scale at a time: each scale needs a cluster of its own');
    return 2;
  }

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    loadAvgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  log(`lagbot benchmark on ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; load ${machine.loadAvgAtStart.join(' ')}`);

  const results: ScaleResult[] = [];
  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  // Written after every scale, so a failure in the last one keeps the others' figures.
  const save = () =>
    writeFile(
      out,
      JSON.stringify(
        {
          generatedAt: new Date().toISOString(),
          machine: { ...machine, loadAvgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
          options,
          scales: results.map((r) => ({ ...r, targets: targetsOf(r) })),
        },
        null,
        2,
      ) + '\n',
    );
  for (const scale of options.scales) {
    const target = async () =>
      external ? { kafka: await externalTarget(external), stop: async () => undefined } : localBroker(scale, options, log);
    results.push(await runScale(scale, options, target, log));
    await save();
  }

  log(formatSummary(results));
  log(`\nResults: ${out}`);
  return 0;
}

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
main(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
