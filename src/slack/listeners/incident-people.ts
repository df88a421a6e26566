import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { ActionIds, ModalIds } from '../../core/action-ids.js';
import type { IncidentAction } from '../../monitor/monitor.js';
import { noticePlainText, noticeText } from '../../views/incident-message.js';
import { peopleModal, peopleModalKindOf, type PeopleModalKind } from '../../views/incident-modals.js';
import { INCIDENT_ID, type IncidentGate } from '../incident-gate.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;
type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Which form each root button opens. */
export const PEOPLE_BUTTONS: ReadonlyArray<{ actionId: string; kind: PeopleModalKind }> = [
  { actionId: ActionIds.addResponder, kind: 'add-responders' },
  { actionId: ActionIds.reassignIncident, kind: 'reassign' },
];

export const PEOPLE_MODAL_IDS = [ModalIds.addResponder, ModalIds.reassignIncident];

const Metadata = z.object({ incidentId: z.string().regex(INCIDENT_ID) });
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/**
 * "Add responder" / "Reassign" on an incident's root: opens the form with a user picker,
 * with the click's trigger_id (valid for 3 seconds, so before anything slow). An incident
 * that can no longer change gets a private answer instead.
 */
export function openPeopleModal(gate: IncidentGate, kind: PeopleModalKind) {
  return async ({ ack, action, body, client, respond, logger }: ButtonArgs): Promise<void> => {
    await ack();
    const incidentId = action.value ?? '';
    if (!INCIDENT_ID.test(incidentId)) {
      logger.warn(`ignored ${action.action_id} with value ${JSON.stringify(incidentId).slice(0, 100)}`);
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'This button does not belong to a lagbot incident.' });
      return;
    }
    const refused = await gate.refusal({ incidentId, user: body.user.id, action: kind });
    if (refused) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: noticeText(refused) });
      return;
    }
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: peopleModal(kind, incidentId) });
    } catch (err) {
      logger.warn(`views.open for ${action.action_id} failed: ${err instanceof Error ? err.message : String(err)}`);
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'Slack did not open the form in time; please click again.' });
    }
  };
}

/** What the submitted picker holds: users only, and one for a reassignment. */
function pickedAction(kind: PeopleModalKind, view: ViewSubmitAction['view']): IncidentAction | string {
  const value = view.state.values[ModalIds.peopleBlock]?.[ModalIds.peopleInput];
  if (kind === 'reassign') {
    const user = value?.selected_user;
    return typeof user === 'string' && USER_ID.test(user) ? { kind: 'reassign', assignee: user } : 'Pick the person to hand the incident to.';
  }
  const users = value?.selected_users ?? [];
  if (users.length === 0) return 'Pick at least one person.';
  if (!users.every((u) => USER_ID.test(u))) return 'Only people can be added as responders.';
  return { kind: 'add-responders', responders: users };
}

/**
 * The form's submission (view_submission). It is answered only once the incident has
 * taken it: a refusal or a mistake keeps the form open with the reason under the picker;
 * otherwise the form closes and the thread and root change through the outbox.
 */
export function submitPeopleModal(gate: IncidentGate) {
  return async ({ ack, body, view, logger }: SubmitArgs): Promise<void> => {
    const kind = peopleModalKindOf(view.callback_id);
    let metadata: z.infer<typeof Metadata> | null = null;
    try {
      const parsed = Metadata.safeParse(JSON.parse(view.private_metadata));
      metadata = parsed.success ? parsed.data : null;
    } catch {
      // not JSON: not a form lagbot opened
    }
    if (!kind || !metadata) {
      logger.warn(`ignored view_submission ${view.callback_id} with metadata ${JSON.stringify(view.private_metadata).slice(0, 100)}`);
      await ack({ response_action: 'errors', errors: { [ModalIds.peopleBlock]: 'This form does not belong to a lagbot incident.' } });
      return;
    }
    const action = pickedAction(kind, view);
    if (typeof action === 'string') {
      await ack({ response_action: 'errors', errors: { [ModalIds.peopleBlock]: action } });
      return;
    }
    // Slack wants the answer within 3 s: whatever the gate looks up must stay well inside that.
    const notice = await gate.perform(metadata.incidentId, body.user.id, action);
    if (notice) await ack({ response_action: 'errors', errors: { [ModalIds.peopleBlock]: noticePlainText(notice) } });
    else await ack();
  };
}
