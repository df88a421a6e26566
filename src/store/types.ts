import type { Incident, SlackEffect } from '../core/protocol.js';

/**
 * Durable state: incidents, their Slack message ids, and the outbox of Slack effects.
 * Everything that changes together is committed together, so a crash at any point
 * leaves either the old state and its queued effects or the new ones, never half.
 */
export interface IncidentStore {
  /** The open incident of a group, if any. */
  openIncidentFor(group: string): Incident | null;
  openIncidents(): Incident[];
  incident(id: string): Incident | null;
  /** Save the incident (if given), queue its effects and set monitor state, in one transaction. */
  commit(change: { incident?: Incident; effects?: SlackEffect[]; state?: Record<string, unknown> }): void;
  /** Where an incident's root message is, once delivered. */
  rootMessage(incidentId: string): { channel: string; ts: string } | null;
  /** Small durable monitor state (e.g. consecutive failed checks), JSON values. */
  state<T>(key: string): T | null;
  close(): void;
}
