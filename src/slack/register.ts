import type { App, BlockButtonAction } from '@slack/bolt';
import { ActionIds } from '../core/action-ids.js';
import type { LagAnswerDeps } from './lag-answer.js';
import { lagCommand } from './listeners/lag-command.js';
import { postLagToChannel } from './listeners/post-lag-to-channel.js';

/**
 * What the app registers and the bot scopes it needs; manifest.yml must declare exactly
 * this (checked by test/unit/manifest.test.ts). Answers go through response_url, which
 * needs no scope.
 */
export const registered = {
  commands: ['/lag'],
  actions: [ActionIds.postLagToChannel],
  botScopes: ['commands'],
} as const;

export function registerListeners(app: App, deps: LagAnswerDeps, command: string = registered.commands[0]): void {
  app.command(command, lagCommand(deps));
  app.action<BlockButtonAction>(ActionIds.postLagToChannel, postLagToChannel(deps));
}
