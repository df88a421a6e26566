import { limitHeapGrowth } from '../app/heap-growth.js';
import { startLagbot, type RunningLagbot } from '../app/lagbot.js';
import { loadConfig } from '../config/config.js';
import { systemClock } from '../core/ports.js';
import { createLogger } from '../log/logger.js';
import { untilStopSignal } from './until-signal.js';

/** How long a stop during start-up waits for the start to settle before leaving anyway. */
const STOP_DURING_START_MS = 2_000;

/**
 * `lagbot start`: validate everything first (every problem at once, before anything opens),
 * then connect. Runs until SIGINT/SIGTERM and shuts down cleanly; a signal that arrives
 * while it is still starting stops it too, within seconds.
 */
export async function runStart(env: Record<string, string | undefined>): Promise<number> {
  // Before the heap grows: the limit applies from the first full collection on.
  limitHeapGrowth();
  const config = await loadConfig(env, { requireSlack: true });
  const logger = createLogger(env.LOG_LEVEL ?? 'info');
  const signal = untilStopSignal();
  const starting = startLagbot(config, { clock: systemClock, logger });
  const first = await Promise.race([starting.then((lagbot) => ({ lagbot })), signal.then((stop) => ({ stop }))]);
  if ('stop' in first) {
    logger.info(`${first.stop} during start-up: stopping`);
    const stopped = starting.then((lagbot) => lagbot.stop()).catch(() => undefined);
    await Promise.race([stopped, new Promise((r) => setTimeout(r, STOP_DURING_START_MS).unref())]);
    // A Slack call still in flight would hold the process open until its own timeout.
    process.exit(0);
  }
  const lagbot: RunningLagbot = first.lagbot;
  logger.info(
    { mode: config.slack.mode, port: lagbot.port, clusters: config.clusters.map((c) => `${c.name} (${c.brokers.join(',')})`), config: config.source, schedule: config.check.schedule },
    `lagbot started (${config.slack.mode} mode${lagbot.port !== null ? `, port ${lagbot.port}` : ''})`,
  );
  await signal;
  logger.info('lagbot stopping');
  await lagbot.stop();
  return 0;
}
