import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { ActionIds, SNOOZE_BUTTONS } from '../../core/action-ids.js';
import type { IncidentAction } from '../../monitor/monitor.js';
import { noticeText } from '../../views/incident-message.js';
import { INCIDENT_ID, type IncidentGate } from '../incident-gate.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

function actionFor(actionId: string): IncidentAction | null {
  if (actionId === ActionIds.acknowledgeIncident) return { kind: 'acknowledge' };
  if (actionId === ActionIds.resolveIncident) return { kind: 'resolve' };
  const snooze = SNOOZE_BUTTONS.find((b) => b.actionId === actionId);
  return snooze ? { kind: 'snooze', forMs: snooze.minutes * 60_000 } : null;
}

/**
 * Acknowledge / Snooze / Resolve on an incident's root message. The click is
 * acknowledged at once; the root message and the thread change through the outbox.
 * Only a click that changes nothing, or one the access rules refuse, gets a private answer saying so.
 */
export function incidentButton(gate: IncidentGate) {
  return async ({ ack, action, body, respond, logger }: ButtonArgs): Promise<void> => {
    await ack();
    const incidentAction = actionFor(action.action_id);
    const incidentId = action.value ?? '';
    if (!incidentAction || !INCIDENT_ID.test(incidentId)) {
      logger.warn(`ignored incident button ${action.action_id} with value ${JSON.stringify(incidentId).slice(0, 100)}`);
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'This button does not belong to a lagbot incident.' });
      return;
    }
    const notice = await gate.perform(incidentId, body.user.id, incidentAction);
    if (notice) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: noticeText(notice) });
    }
  };
}

/**
 * "Postmortem" on a resolved incident's root: the draft goes into the thread as a file,
 * through the outbox like every other post.
 */
export function postmortemButton(gate: IncidentGate) {
  return async ({ ack, action, body, respond, logger }: ButtonArgs): Promise<void> => {
    await ack();
    const incidentId = action.value ?? '';
    if (!INCIDENT_ID.test(incidentId)) {
      logger.warn(`ignored postmortem button with value ${JSON.stringify(incidentId).slice(0, 100)}`);
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'This button does not belong to a lagbot incident.' });
      return;
    }
    const notice = await gate.postmortem(incidentId, body.user.id);
    const text = notice ? noticeText(notice) : 'The postmortem draft is on its way into the thread, as a file.';
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  };
}

export const INCIDENT_BUTTON_IDS = [ActionIds.acknowledgeIncident, ActionIds.resolveIncident, ...SNOOZE_BUTTONS.map((b) => b.actionId)];
