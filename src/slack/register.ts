import type { App, BlockButtonAction, ViewSubmitAction } from '@slack/bolt';
import { ActionIds } from '../core/action-ids.js';
import type { IncidentActions } from '../monitor/cluster-monitors.js';
import type { AccessGuard } from './access-guard.js';
import type { LagAnswerDeps } from './lag-reply.js';
import type { HomeOpened } from './home-tab.js';
import { appHomeOpened } from './listeners/app-home-opened.js';
import { IncidentGate } from './incident-gate.js';
import { INCIDENT_BUTTON_IDS, incidentButton, postmortemButton } from './listeners/incident-buttons.js';
import { PEOPLE_BUTTONS, PEOPLE_MODAL_IDS, openPeopleModal, submitPeopleModal } from './listeners/incident-people.js';
import { lagCommand } from './listeners/lag-command.js';
import { postLagToChannel } from './listeners/post-lag-to-channel.js';
import { endSilenceButton, type SilenceActions } from './listeners/silences.js';

/**
 * What the app registers and the bot scopes it needs; manifest.yml must declare exactly
 * this (checked by test/unit/manifest.test.ts). `/lag` answers go through response_url
 * (no scope); incidents post and edit messages (chat:write) and, after a crash, look up
 * whether a message already reached the channel (channels:history, groups:history); charts
 * (the incident's, and `/lag GROUP chart`'s) and postmortems are uploaded as files (files:write).
 * The Home tab is published on `app_home_opened` with views.publish, which needs no scope.
 * The access rules read user groups (usergroups.users.list: usergroups:read) and the members
 * of incident channels (conversations.members: channels:read, and groups:read for private ones).
 */
export const registered = {
  commands: ['/lag'],
  actions: [ActionIds.postLagToChannel, ...INCIDENT_BUTTON_IDS, ActionIds.postmortemIncident, ...PEOPLE_BUTTONS.map((b) => b.actionId), ActionIds.endSilence],
  /** Modal submissions (view_submission), by callback_id; views.open needs no scope. */
  views: PEOPLE_MODAL_IDS,
  events: ['app_home_opened'],
  botScopes: ['commands', 'chat:write', 'channels:history', 'groups:history', 'files:write', 'usergroups:read', 'channels:read', 'groups:read'],
} as const;

export interface ListenerDeps extends LagAnswerDeps {
  /** Every action and `/lag` answer is checked against the access rules through it. */
  access: AccessGuard;
  /** Present when incidents are on: their buttons need it. */
  incidents?: IncidentActions;
  /** Present when the App Home tab is served. */
  home?: HomeOpened;
  /** Present when silences are kept: `/lag silence` and the End now button act through it. */
  silences?: SilenceActions;
}

export function registerListeners(app: App, deps: ListenerDeps, command: string = registered.commands[0]): void {
  app.command(command, lagCommand(deps));
  app.action<BlockButtonAction>(ActionIds.postLagToChannel, postLagToChannel(deps));
  if (deps.incidents) {
    const gate = new IncidentGate(deps.incidents, deps.access);
    const onClick = incidentButton(gate);
    for (const id of INCIDENT_BUTTON_IDS) app.action<BlockButtonAction>(id, onClick);
    app.action<BlockButtonAction>(ActionIds.postmortemIncident, postmortemButton(gate));
    for (const b of PEOPLE_BUTTONS) app.action<BlockButtonAction>(b.actionId, openPeopleModal(gate, b.kind));
    const onSubmit = submitPeopleModal(gate);
    for (const id of PEOPLE_MODAL_IDS) app.view<ViewSubmitAction>(id, onSubmit);
  }
  if (deps.home) app.event('app_home_opened', appHomeOpened(deps.home));
  if (deps.silences) app.action<BlockButtonAction>(ActionIds.endSilence, endSilenceButton({ silences: deps.silences, clock: deps.query.clock, logger: deps.logger, access: deps.access }));
}
