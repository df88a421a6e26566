import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { parseLagCommand } from '../../core/command.js';
import { lagReply, type LagAnswerDeps } from '../lag-reply.js';

/**
 * "Post to channel" on a private `/lag` answer: read the numbers again (they may have
 * moved since the caller looked), share them in the channel credited to the clicker,
 * and remove the private copy.
 */
export function postLagToChannel(deps: LagAnswerDeps) {
  return async ({ ack, action, body, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const parsed = parseLagCommand(action.value ?? '');
    if (!parsed.ok) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: `Cannot share this answer: ${parsed.error}` });
      return;
    }
    const message = await lagReply(parsed.request, deps, { sharedBy: body.user.id });
    await respond({ response_type: 'in_channel', replace_original: false, ...message });
    await respond({ delete_original: true });
  };
}
