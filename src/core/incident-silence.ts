import type { Draft, PhaseContext, TimelineEntry, TimelineEvent } from './incident.js';
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
  // What the silence held back is owed now: a page nobody has taken, and that the rules still
  // call a page (not a group back under its lines, about to de-escalate or resolve), is told again.
  const notify = incident.severity === 'page' && ctx.target === 'page' && incident.acknowledged === null && !snoozed;
  tell(draft, ctx, { kind: 'silence-ended', by: was.by, endedBy, notified: notify }, notify);
  draft.incident = { ...incident, silence: { ...was, endedAt: now, endedBy }, lastNotifiedAt: notify ? now : incident.lastNotifiedAt };
  draft.rootChanged = true;
}

/** Under a silence nobody is mentioned; a re-notification, which exists only to mention, is not told at all. */
export function muteWhileSilenced(draft: Draft): void {
  if (appliedSilence(draft.incident.silence) === null) return;
  draft.timeline = draft.timeline.filter((e) => e.kind !== 'renotified').map((e) => (e.mention ? { ...e, mention: false } : e));
}
