import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { parseLagCommand } from '../../core/command.js';
import { scopeLagQuery } from '../access-guard.js';
import { lagReply } from '../lag-reply.js';
import type { ListenerDeps } from '../register.js';

/**
 * "Post to channel" on a private `/lag` answer: read the numbers again (they may have
 * moved since the caller looked), share them in the channel credited to the clicker,
 * and remove the private copy.
 */
export function postLagToChannel(deps: Pick<ListenerDeps, 'query' | 'logger' | 'access'>) {
  return async ({ ack, action, body, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const parsed = parseLagCommand(action.value ?? '');
    if (!parsed.ok) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: `Cannot share this answer: ${parsed.error}` });
      return;
    }
    // Read again, so read within the rules again: the channel it goes to must be one they allow.
    const scoped = await scopeLagQuery(deps.access, deps.query, parsed.request, { user: body.user.id, channel: body.channel?.id });
    if (!scoped.ok) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: scoped.text });
      return;
    }
    const message = await lagReply(parsed.request, { ...deps, query: scoped.query }, { sharedBy: body.user.id });
    await respond({ response_type: 'in_channel', replace_original: false, ...message });
    await respond({ delete_original: true });
  };
}
