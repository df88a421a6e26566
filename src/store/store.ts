import type { Clock, HistoryStore, IncidentStore, OpenIncidentList, SilenceStore } from '../core/ports.js';
import type { Incident } from '../core/protocol.js';
import type { OutboxRow, OutboxStore } from './outbox.js';
import type { IncidentFilter } from './records.js';

/**
 * Everything lagbot keeps, as both stores (SQLite, PostgreSQL) offer it: the core's ports,
 * the outbox as delivery reads it, and what the CLI and the janitor ask of it.
 */
export interface LagbotStore extends IncidentStore, OpenIncidentList, OutboxStore, HistoryStore, SilenceStore {
  /** Which store this is, for logs and for the start-up line: a path or a URL without its password. */
  readonly description: string;
  /** Incidents, newest first (by opening time). */
  listIncidents(filter?: IncidentFilter): Promise<Incident[]>;
  /** Every incident id, newest first: for suggesting the one someone meant. */
  incidentIds(): Promise<string[]>;
  /** Every outbox row, oldest first: for tests and for looking into a stuck queue. */
  outboxRows(): Promise<OutboxRow[]>;
  /** Forgets finished rows created before `before`; returns how many. */
  pruneOutbox(before: number): Promise<number>;
  close(): Promise<void>;
}

/** A leader's commit or Slack call from a replica that no longer leads: refused, so it is never heard twice. */
export class NotLeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotLeaderError';
  }
}

export interface StoreOptions {
  /** Stamps outbox rows (created, delivered); tests pass a fake one. */
  clock?: Clock;
}
