import type { LagRequest } from '../core/command.js';
import { closestNames } from '../core/suggest.js';
import { KafkaUnavailableError } from '../kafka/errors.js';
import type { LagSource } from '../kafka/lag-reader.js';
import { listingOf, sortListings } from '../core/lag.js';
import type { Clock } from '../core/protocol.js';
import type { Logger } from '../log/logger.js';
import {
  clusterErrorMessage,
  groupLagMessage,
  groupListMessage,
  groupMembersMessage,
  helpMessage,
  unknownGroupMessage,
  type LagMessageOptions,
  type SlackMessage,
} from '../views/lag-message.js';

export interface LagAnswerDeps {
  lagSource: LagSource;
  clock: Clock;
  logger: Logger;
}

/**
 * Answer one `/lag` request with a Slack message: the cluster read plus the view. Kafka
 * failures become a message that says what failed; they never escape as exceptions.
 */
export async function answerLagRequest(
  request: LagRequest,
  deps: LagAnswerDeps,
  options: LagMessageOptions = {},
): Promise<SlackMessage> {
  try {
    switch (request.kind) {
      case 'help':
        return helpMessage();
      case 'list': {
        const groups = await deps.lagSource.readAllGroups();
        return groupListMessage(sortListings(groups.map(listingOf)), deps.clock.now(), options);
      }
      case 'group': {
        const lag = await deps.lagSource.readGroup(request.group);
        if (!lag) {
          const names = await deps.lagSource.listGroupNames();
          return unknownGroupMessage(request.group, closestNames(request.group, names));
        }
        return request.view === 'members' ? groupMembersMessage(lag, options) : groupLagMessage(lag, options);
      }
    }
  } catch (error) {
    if (error instanceof KafkaUnavailableError) return clusterErrorMessage(error.message);
    deps.logger.error({ err: error, request }, 'lag request failed');
    return clusterErrorMessage(`unexpected error (${(error as Error).message ?? String(error)})`);
  }
}
