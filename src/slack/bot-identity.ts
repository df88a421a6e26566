import { webApi } from '@slack/bolt';

/** Slack could not be reached at start-up, or refused the bot token: lagbot cannot run. */
export class SlackStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackStartError';
  }
}

export interface BotIdentity {
  botId: string;
  botUserId: string;
}

const DEFAULT_API_URL = 'https://slack.com/api/';

/**
 * One auth.test before anything else starts, without retries and under a deadline, so a
 * token Slack refuses or a Slack that cannot be reached is one clear line at start, not a
 * stack trace minutes later. Bolt gets the answer and skips its own check.
 */
export async function verifyBotToken(token: string, options: { apiUrl?: string; timeoutMs?: number } = {}): Promise<BotIdentity> {
  const apiUrl = options.apiUrl ?? DEFAULT_API_URL;
  const client = new webApi.WebClient(token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? 5_000,
    logLevel: webApi.LogLevel.ERROR,
  });
  let answer: Awaited<ReturnType<typeof client.auth.test>>;
  try {
    answer = await client.auth.test();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const error = (err as { data?: { error?: unknown } }).data?.error;
    if (code === webApi.ErrorCode.PlatformError && typeof error === 'string') {
      throw new SlackStartError(`Slack refused SLACK_BOT_TOKEN (auth.test answered ${error}): check the Bot User OAuth Token`, { cause: err });
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new SlackStartError(`Slack cannot be reached at ${apiUrl} (${detail}): check the network, or SLACK_API_URL`, { cause: err });
  }
  if (typeof answer.bot_id !== 'string' || typeof answer.user_id !== 'string') {
    throw new SlackStartError('SLACK_BOT_TOKEN is not a bot token (auth.test named no bot): use the Bot User OAuth Token (xoxb-...)');
  }
  return { botId: answer.bot_id, botUserId: answer.user_id };
}
