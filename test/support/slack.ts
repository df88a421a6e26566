import { systemClock } from '../../src/core/ports.js';
import type { LagSource } from '../../src/core/ports.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { createLogger } from '../../src/log/logger.js';
import { startSlackApp, type RunningSlackApp } from '../../src/slack/app.js';
import { startSlackStandin, type SlackStandin, type SlackStandinOptions } from '../../tools/slack-standin/standin.js';

export const SIGNING_SECRET = 'lagbot-test-signing-secret';

export interface SlackRig {
  slack: SlackStandin;
  lagbot: RunningSlackApp;
  stop(): Promise<void>;
}

/** The real Bolt app of lagbot over HTTP, talking to a local Slack stand-in. */
export async function startSlackRig(lagSource: LagSource, standin: Omit<SlackStandinOptions, 'signingSecret'> = {}): Promise<SlackRig> {
  const slack = await startSlackStandin({ ...standin, signingSecret: SIGNING_SECRET });
  const lagbot = await startSlackApp({
    mode: 'http',
    botToken: slack.botToken,
    signingSecret: SIGNING_SECRET,
    apiUrl: slack.apiUrl,
    command: '/lag',
    port: 0,
    host: '127.0.0.1',
    query: { sources: [lagSource], clock: systemClock, findingSettings: DEFAULT_RULES.signals },
    logger: createLogger('silent'),
  });
  slack.setEventsUrl(`http://127.0.0.1:${lagbot.port}/slack/events`);
  return {
    slack,
    lagbot,
    stop: async () => {
      await lagbot.stop();
      await slack.stop();
    },
  };
}

export { readable } from './readable.js';
