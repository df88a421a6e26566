import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { parseLagCommand } from '../../core/command.js';
import { usageErrorMessage } from '../../views/lag-message.js';
import { lagReply, type LagAnswerDeps } from '../lag-reply.js';

/**
 * `/lag ...`: acknowledge at once (Slack gives 3 seconds, a slow cluster may take
 * longer), then answer through the response_url, visible only to the caller.
 */
export function lagCommand(deps: LagAnswerDeps) {
  return async ({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const parsed = parseLagCommand(command.text ?? '');
    const message = parsed.ok
      ? await lagReply(parsed.request, deps, { commandText: command.text.trim() })
      : usageErrorMessage(parsed.error);
    await respond({ response_type: 'ephemeral', ...message });
  };
}
