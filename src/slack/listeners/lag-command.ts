import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { parseLagCommand } from '../../core/command.js';
import { parseSilenceCommand } from '../../core/silence-command.js';
import { silenceFailureMessage, silenceProblemMessage } from '../../views/silence-text.js';
import { clusterErrorMessage, usageErrorMessage } from '../../views/lag-message.js';
import { scopeLagQuery } from '../access-guard.js';
import { lagChartReply } from '../lag-chart-reply.js';
import { lagReply, type LagAnswerDeps } from '../lag-reply.js';
import type { AccessGuard } from '../access-guard.js';
import { answerSilenceCommand, type SilenceActions } from './silences.js';

export interface LagCommandDeps extends LagAnswerDeps {
  /** Every answer stays within what the access rules let the caller read. */
  access: AccessGuard;
  /** Present when silences are kept (lagbot start); without them `/lag silence` says so. */
  silences?: SilenceActions;
}

/**
 * `/lag ...`: acknowledge at once (Slack gives 3 seconds, a slow cluster may take
 * longer), then answer through the response_url, visible only to the caller, within what
 * the access rules let the caller read from this channel.
 */
export function lagCommand(deps: LagCommandDeps) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const silence = parseSilenceCommand(command.text ?? '');
    if (silence) {
      const message = !silence.ok
        ? silenceProblemMessage(silence.problem)
        : deps.silences
          ? await answerSilenceCommand(silence.command, command.user_id, { silences: deps.silences, clock: deps.query.clock, logger: deps.logger, access: deps.access }, command.channel_id)
          : silenceFailureMessage(null);
      await respond({ response_type: 'ephemeral', ...message });
      return;
    }
    const parsed = parseLagCommand(command.text ?? '');
    if (!parsed.ok) {
      await respond({ response_type: 'ephemeral', ...usageErrorMessage(parsed.error) });
      return;
    }
    const scoped = await scopeLagQuery(deps.access, deps.query, parsed.request, { user: command.user_id, channel: command.channel_id });
    if (!scoped.ok) {
      await respond({ response_type: 'ephemeral', text: scoped.text });
      return;
    }
    const within = { ...deps, query: scoped.query };
    const message =
      parsed.request.kind === 'group' && parsed.request.view === 'chart'
        ? await chartOrError(parsed.request, within, client)
        : await lagReply(parsed.request, within, { commandText: command.text.trim() });
    await respond({ response_type: 'ephemeral', ...message });
  };
}

/** A chart that cannot be made or uploaded is answered in words, like any other failure. */
async function chartOrError(request: Parameters<typeof lagChartReply>[0], deps: LagAnswerDeps, client: AllMiddlewareArgs['client']) {
  try {
    return await lagChartReply(request, deps, client);
  } catch (error) {
    deps.logger.error({ err: error, request }, 'lag chart failed');
    return clusterErrorMessage(`could not make the chart (${error instanceof Error ? error.message : String(error)})`);
  }
}
