import type { ModalView } from '@slack/types';
import { ModalIds } from '../core/action-ids.js';

/** The two forms of an incident's root: bring people in, or hand the incident over. */
export type PeopleModalKind = 'add-responders' | 'reassign';

const WORDING: Record<PeopleModalKind, { callbackId: string; title: string; submit: string; label: string; hint: string }> = {
  'add-responders': {
    callbackId: ModalIds.addResponder,
    title: 'Add responders',
    submit: 'Notify',
    label: 'Who should help?',
    hint: 'They are mentioned in the incident thread.',
  },
  reassign: {
    callbackId: ModalIds.reassignIncident,
    title: 'Reassign incident',
    submit: 'Reassign',
    label: 'New assignee',
    hint: 'They are mentioned in the incident thread and shown on its root message as the assignee.',
  },
};

/** What a modal carries back in its submission: which incident it is about. */
export interface PeopleModalMetadata {
  incidentId: string;
}

/** The modal with a user picker that "Add responder" or "Reassign" opens (views.open). */
export function peopleModal(kind: PeopleModalKind, incidentId: string): ModalView {
  const w = WORDING[kind];
  const metadata: PeopleModalMetadata = { incidentId };
  return {
    type: 'modal',
    callback_id: w.callbackId,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: w.title },
    submit: { type: 'plain_text', text: w.submit },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: ModalIds.peopleBlock,
        label: { type: 'plain_text', text: w.label },
        hint: { type: 'plain_text', text: w.hint },
        element:
          kind === 'add-responders'
            ? { type: 'multi_users_select', action_id: ModalIds.peopleInput, placeholder: { type: 'plain_text', text: 'Pick people' } }
            : { type: 'users_select', action_id: ModalIds.peopleInput, placeholder: { type: 'plain_text', text: 'Pick a person' } },
      },
    ],
  };
}

/** The modal kind of a callback_id, for the submission listener. */
export function peopleModalKindOf(callbackId: string): PeopleModalKind | null {
  const found = (Object.keys(WORDING) as PeopleModalKind[]).find((k) => WORDING[k].callbackId === callbackId);
  return found ?? null;
}
