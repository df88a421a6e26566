import { reaches, startPolicy } from './escalation.js';
import { notifiedEntry, type Draft, type PhaseContext, type TimelineEntry, type TimelineEvent } from './incident.js';
import { endOf, silenceFor, type IncidentSilence } from './silence.js';

/**
 * The incident's phases for silences, kept apart from the notification logic they override:
 * `trackSilence` notes when a silence starts or stops applying to the incident (both are
 * timeline entries), and `muteWhileSilenced`, the last word on mentions, takes them out of
 * whatever the other phases told while one applies. The timeline itself goes on.
 */

const tell = (draft: Draft, ctx: PhaseContext, event: TimelineEvent, mention = false): void => {
  draft.timeline.push({ ...event, at: ctx.now, mention } as TimelineEntry);
};

/** The silence the incident is under now, null when none. */
export const appliedSilence = (silence: IncidentSilence | null | undefined): IncidentSilence | null => (silence && silence.endedAt === null ? silence : null);

export function trackSilence(draft: Draft, ctx: PhaseContext): void {
  const { now } = ctx;
  const incident = draft.incident;
  const silences = ctx.silences ?? [];
  const current = silenceFor(silences, incident, now);
  const was = appliedSilence(incident.silence);
  if (current && (was === null || was.id !== current.id)) {
    const until = endOf(current);
    tell(draft, ctx, { kind: 'silenced', by: current.by, until, reason: current.reason, target: current.target });
    draft.incident = { ...incident, silence: { id: current.id, by: current.by, until, reason: current.reason, target: current.target, endedAt: null, endedBy: null } };
    draft.rootChanged = true;
    return;
  }
  if (current || was === null) return;
  const stored = silences.find((s) => s.id === was.id);
  const endedBy = stored?.endedEarly && stored.endedEarly.at < stored.endsAt ? stored.endedEarly.by : null;
  const snoozed = incident.snoozed !== null && now < incident.snoozed.until;
  // What the silence held back is owed now: an incident nobody has taken, at the escalation
  // policy's severity and still called so by the rules (not a group back under its lines,
  // about to de-escalate or resolve), starts the policy again from its first level.
  const policy = ctx.settings.escalation;
  const owed = incident.acknowledged === null && !snoozed && reaches(policy, incident.severity) && ctx.target !== null && reaches(policy, ctx.target);
  const restarted = owed ? startPolicy(policy, now, { kind: 'silence-ended' }) : null;
  tell(draft, ctx, { kind: 'silence-ended', by: was.by, endedBy, notified: restarted !== null });
  draft.incident = { ...incident, silence: { ...was, endedAt: now, endedBy } };
  if (restarted) {
    draft.timeline.push(notifiedEntry(restarted.notification, ctx.evaluation.figures, now));
    draft.incident = { ...draft.incident, escalation: restarted.state, lastNotifiedAt: now };
  }
  draft.rootChanged = true;
}

/**
 * Under a silence nobody is mentioned. The policy's notifications (an escalation restarting it,
 * say), which exist only to mention, are not told at all; people a person added or reassigned
 * by hand in the meantime were asked for, and are still told.
 */
export function muteWhileSilenced(draft: Draft): void {
  if (appliedSilence(draft.incident.silence) === null) return;
  const byPolicy = (e: TimelineEntry): boolean => e.kind === 'renotified' || (e.kind === 'notified' && e.position !== null);
  draft.timeline = draft.timeline.filter((e) => !byPolicy(e)).map((e) => (e.mention ? { ...e, mention: false } : e));
}
