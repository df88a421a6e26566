/**
 * Every Block Kit action id lagbot sends and listens for. Views and listeners both
 * import from here so a renamed id cannot leave a button without a handler.
 */
export const ActionIds = {
  postLagToChannel: 'lag_post_to_channel',
  acknowledgeIncident: 'incident_acknowledge',
  snoozeIncidentShort: 'incident_snooze_short',
  snoozeIncidentLong: 'incident_snooze_long',
  resolveIncident: 'incident_resolve',
  postmortemIncident: 'incident_postmortem',
  /** End now (or cancel) on a silence of the `/lag silences` list; the value is the silence id. */
  endSilence: 'silence_end',
  addResponder: 'incident_add_responder',
  reassignIncident: 'incident_reassign',
} as const;

/** The modals lagbot opens (their `callback_id`), and the one input of each: a user picker. */
export const ModalIds = {
  addResponder: 'incident_add_responder_modal',
  reassignIncident: 'incident_reassign_modal',
  /** block_id and action_id of the picker in both modals. */
  peopleBlock: 'people',
  peopleInput: 'picked',
} as const;

/** Snooze buttons and their durations (minutes), in the order they appear. */
export const SNOOZE_BUTTONS = [
  { actionId: ActionIds.snoozeIncidentShort, minutes: 30, label: 'Snooze 30 min' },
  { actionId: ActionIds.snoozeIncidentLong, minutes: 120, label: 'Snooze 2 h' },
] as const;

export type ActionId = (typeof ActionIds)[keyof typeof ActionIds];
