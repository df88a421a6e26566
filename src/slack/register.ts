import type { App, BlockButtonAction } from '@slack/bolt';
import { ActionIds } from '../core/action-ids.js';
import type { LagAnswerDeps } from './lag-answer.js';
import { lagCommand } from './listeners/lag-command.js';
import { postLagToChannel } from './listeners/post-lag-to-channel.js';

/** The one place every Slack listener is registered; manifest.yml must match it. */
export const registered = {
  commands: ['/lag'],
  actions: [ActionIds.postLagToChannel],
} as const;

export function registerListeners(app: App, deps: LagAnswerDeps, command = '/lag'): void {
  app.command(command, lagCommand(deps));
  app.action<BlockButtonAction>(ActionIds.postLagToChannel, postLagToChannel(deps));
}
