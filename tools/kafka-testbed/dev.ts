// `npm run kafka`: a throwaway single-node Kafka for local development. Ctrl-C stops it.
import { startKafka, type KafkaTestbed } from './broker.js';

const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
const versionArg = process.argv.find((a) => a.startsWith('--version='));

let tb: KafkaTestbed;
try {
  tb = await startKafka({
    ...(versionArg ? { version: versionArg.slice('--version='.length) } : {}),
    log: (line) => {
      // Broker output is WARN-level noise unless asked for; our own progress lines always show.
      if (verbose || !line.startsWith('[kafka ')) console.error(line);
    },
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

console.log(`KAFKA_BROKERS=${tb.bootstrap}`);
console.log(`Apache Kafka ${tb.version} (pid ${tb.pid}); Ctrl-C to stop. Data is wiped on stop.`);

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
