import { startLagbot } from '../app/lagbot.js';
import { loadConfig } from '../config/config.js';
import { systemClock } from '../core/ports.js';
import { createLogger } from '../log/logger.js';
import { untilStopSignal } from './until-signal.js';

/**
 * `lagbot start`: validate everything first (fail fast on bad config), then connect.
 * Runs until SIGINT/SIGTERM and shuts down cleanly.
 */
export async function runStart(env: Record<string, string | undefined>): Promise<number> {
  const config = await loadConfig(env);
  const logger = createLogger(env.LOG_LEVEL ?? 'info');
  const lagbot = await startLagbot(config, { clock: systemClock, logger });
  logger.info(
    { mode: config.slack.mode, port: lagbot.port, brokers: config.kafka.brokers, config: config.source, schedule: config.check.schedule },
    `lagbot started (${config.slack.mode} mode${lagbot.port !== null ? `, port ${lagbot.port}` : ''})`,
  );
  await untilStopSignal();
  logger.info('lagbot stopping');
  await lagbot.stop();
  return 0;
}
