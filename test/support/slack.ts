import { systemClock } from '../../src/core/protocol.js';
import type { LagSource } from '../../src/kafka/lag-reader.js';
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
    lagSource,
    clock: systemClock,
    logger: createLogger('silent'),
    webApiRetries: 0,
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

/** Every string in a Slack payload, joined: what a person could read in it. */
export function readable(payload: unknown): string {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(payload);
  return out.join('\n');
}
