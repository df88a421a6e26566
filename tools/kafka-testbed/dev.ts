// `npm run kafka`: a throwaway single-node Kafka for local development. Ctrl-C stops it.
// `npm run kafka -- --brokers 3`: one KRaft controller and three brokers instead (see cluster.ts).
import { startKafka, type KafkaTestbed } from './broker.js';
import { startKafkaCluster } from './cluster.js';

const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
const versionArg = process.argv.find((a) => a.startsWith('--version='));
// `--brokers 3` (or --brokers=3): a cluster of one controller and that many brokers.
const brokersAt = process.argv.findIndex((a) => a === '--brokers' || a.startsWith('--brokers='));
const brokersArg = brokersAt < 0 ? undefined : (process.argv[brokersAt]?.split('=')[1] ?? process.argv[brokersAt + 1]);
const brokerCount = brokersArg === undefined ? 1 : Number(brokersArg);
if (!Number.isInteger(brokerCount) || brokerCount < 1) {
  console.error(`--brokers needs a positive whole number, got ${brokersArg ?? 'nothing'}`);
  process.exit(2);
}

let tb: Pick<KafkaTestbed, 'bootstrap' | 'version' | 'exited' | 'stop'> & { what: string };
try {
  const common = {
    ...(versionArg ? { version: versionArg.slice('--version='.length) } : {}),
    log: (line: string) => {
      // Broker output is WARN-level noise unless asked for; our own progress lines always show.
      if (verbose || !line.startsWith('[kafka ')) console.error(line);
    },
  };
  if (brokerCount === 1) {
    const single = await startKafka(common);
    tb = { bootstrap: single.bootstrap, version: single.version, exited: single.exited, stop: () => single.stop(), what: `pid ${single.pid}` };
  } else {
    const cluster = await startKafkaCluster({ ...common, brokers: brokerCount });
    const nodes = [cluster.controller, ...cluster.brokerNodes];
    tb = {
      bootstrap: cluster.bootstrap,
      version: cluster.version,
      what: `controller pid ${cluster.controller.pid}, ${cluster.brokerNodes.map((b) => `broker ${b.nodeId} pid ${b.pid}`).join(', ')}`,
      // Any node exiting on its own ends the session, as the single broker's exit does.
      exited: Promise.race(nodes.map((n) => n.exited)),
      stop: () => cluster.stop(),
    };
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

console.log(`KAFKA_BROKERS=${tb.bootstrap}`);
console.log(`Apache Kafka ${tb.version} (${tb.what}); Ctrl-C to stop. Data is wiped on stop.`);

let stopping = false;
void tb.exited.then(({ code, signal }) => {
  if (stopping) return;
  console.error(`Kafka exited on its own (${code ?? signal}); rerun with --verbose to see its output.`);
  process.exit(1);
});

const shutdown = async (signal: string): Promise<void> => {
  // A second Ctrl-C while the broker shuts down means "now": the exit handler SIGKILLs it.
  if (stopping) process.exit(130);
  stopping = true;
  console.error(`\n${signal}: stopping Kafka...`);
  await tb.stop();
  console.error('Kafka stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
