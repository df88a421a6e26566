import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { parseLagCommand } from '../../core/command.js';
import { parseSilenceCommand } from '../../core/silence-command.js';
import { silenceFailureMessage, silenceProblemMessage } from '../../views/silence-text.js';
import { clusterErrorMessage, usageErrorMessage } from '../../views/lag-message.js';
import { lagChartReply } from '../lag-chart-reply.js';
import { lagReply, type LagAnswerDeps } from '../lag-reply.js';
import { answerSilenceCommand, type SilenceActions } from './silences.js';

export interface LagCommandDeps extends LagAnswerDeps {
  /** Present when silences are kept (lagbot start); without them `/lag silence` says so. */
  silences?: SilenceActions;
}

/**
 * `/lag ...`: acknowledge at once (Slack gives 3 seconds, a slow cluster may take
 * longer), then answer through the response_url, visible only to the caller.
 */
export function lagCommand(deps: LagCommandDeps) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const silence = parseSilenceCommand(command.text ?? '');
    if (silence) {
      const message = !silence.ok
        ? silenceProblemMessage(silence.problem)
        : deps.silences
          ? await answerSilenceCommand(silence.command, command.user_id, { silences: deps.silences, clock: deps.query.clock, logger: deps.logger })
          : silenceFailureMessage(null);
      await respond({ response_type: 'ephemeral', ...message });
      return;
    }
    const parsed = parseLagCommand(command.text ?? '');
    let message;
    if (!parsed.ok) message = usageErrorMessage(parsed.error);
    else if (parsed.request.kind === 'group' && parsed.request.view === 'chart') message = await chartOrError(parsed.request, deps, client);
    else message = await lagReply(parsed.request, deps, { commandText: command.text.trim() });
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
