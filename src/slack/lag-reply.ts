import type { LagRequest } from '../core/command.js';
import { answerLag, type LagQueryDeps } from '../core/lag-query.js';
import type { Logger } from '../log/logger.js';
import { clusterErrorMessage, lagAnswerMessage, type LagMessageOptions, type SlackMessage } from '../views/lag-message.js';

export interface LagAnswerDeps {
  query: LagQueryDeps;
  logger: Logger;
}

/** The Slack reply to a `/lag` request. A surprise becomes a message that says so; it never escapes. */
export async function lagReply(request: LagRequest, deps: LagAnswerDeps, options: LagMessageOptions = {}): Promise<SlackMessage> {
  try {
    return lagAnswerMessage(await answerLag(request, deps.query), options);
  } catch (error) {
    deps.logger.error({ err: error, request }, 'lag request failed');
    return clusterErrorMessage(`unexpected error (${error instanceof Error ? error.message : String(error)})`);
  }
}
