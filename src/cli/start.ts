import { loadConfig, requireSlackSecrets } from '../config/config.js';
import { systemClock } from '../core/protocol.js';
import { createKafkaLag } from '../kafka/connect.js';
import { createLogger } from '../log/logger.js';
import { startSlackApp } from '../slack/app.js';

/**
 * `lagbot start`: validate everything first (fail fast on bad config), then connect.
 * Runs until SIGINT/SIGTERM and shuts down cleanly.
 */
export async function runStart(env: Record<string, string | undefined>): Promise<number> {
  const config = await loadConfig(env);
  const secrets = requireSlackSecrets(config);
  const logger = createLogger(env.LOG_LEVEL ?? 'info');
  const kafka = createKafkaLag(config.kafka, systemClock, logger);

  const slack = await startSlackApp({
    mode: config.slack.mode,
    ...secrets,
    ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}),
    command: config.slack.command,
    port: config.http.port,
    host: config.http.host,
    lagSource: kafka.reader,
    clock: systemClock,
    logger,
    routes: [
      {
        path: '/healthz',
        method: ['GET'],
        handler: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true }));
        },
      },
    ],
  });
  logger.info(
    { mode: config.slack.mode, port: slack.port, brokers: config.kafka.brokers, config: config.source },
    `lagbot started (${config.slack.mode} mode${slack.port !== null ? `, port ${slack.port}` : ''})`,
  );

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info('lagbot stopping');
  await slack.stop();
  await kafka.stop();
  return 0;
}
