import { parseArgs } from 'node:util';
import { runDemo } from './run.js';
import { untilStopSignal } from '../../src/cli/until-signal.js';

/**
 * `npm run demo`: the case study's incident on a local Kafka, with the real lagbot and a
 * Slack playground in the browser. Runs until Ctrl-C, which stops everything it started.
 */
async function runDemoCommand(args: string[], usageError: (m: string) => Error): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { port: { type: 'string', default: '0' }, speed: { type: 'string', default: '1' } } }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const port = Number(values.port);
  const speed = Number(values.speed);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw usageError(`--port must be a port number, got "${values.port}"`);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 20) throw usageError(`--speed must be a number between 0 and 20, got "${values.speed}"`);

  const started = Date.now();
  const demo = await runDemo({ port, speed, ...(process.env.KAFKA_BROKERS ? { kafkaBrokers: process.env.KAFKA_BROKERS.split(',') } : {}) });
  console.log(
    [
      '',
      `lagbot demo is ready in ${((Date.now() - started) / 1000).toFixed(1)}s.`,
      '',
      `  Open ${demo.url} in a browser: it is a Slack channel, #kafka-lag.`,
      '',
      '  Try:  /lag user-events-consumer          lag per partition, the hot partition and its owner',
      '        /lag user-events-consumer members  who owns what',
      '        /lag list                          every group',
      '  Watch the incident open in the channel, escalate, and click Acknowledge, Snooze or Resolve.',
      `  The incident plays in about ${Math.round(180 / speed)} s. Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
  await untilStopSignal();
  console.log('Stopping the demo...');
  await demo.stop();
  return 0;
}

const USAGE = 'usage: npm run demo [-- --port N] [-- --speed X]   (npm needs the -- before options meant for the demo)';

try {
  process.exitCode = await runDemoCommand(process.argv.slice(2), (m) => new Error(`${m}\n${USAGE}`));
} catch (error) {
  console.error(`demo: ${(error as Error).message}`);
  process.exitCode = 2;
}
