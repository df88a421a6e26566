/**
 * The ports the core owns: what it needs from the world, stated in its own terms. The
 * Kafka adapter implements LagSource, the SQLite store implements IncidentStore, and each
 * adapter translates its own failures into LagUnavailableError, so nothing above the
 * adapters knows kafkajs or SQLite exists.
 */

import type { SampleRecord } from './history.js';
import type { TimelineEntry } from './incident.js';
import type { GroupLag, GroupRef, Incident, SlackEffect } from './protocol.js';
import type { Silence } from './silence.js';

/** Injected everywhere time matters, so tests never sleep. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Lag as read from one cluster. */
export interface LagSource {
  readonly cluster: string;
  /** null when the cluster has no such group. */
  readGroup(group: string): Promise<GroupLag | null>;
  readAllGroups(): Promise<GroupLag[]>;
  listGroupNames(): Promise<string[]>;
}

/**
 * A cluster could not be read: unreachable, too slow, or it refused lagbot. The message
 * says which brokers were tried and what happened, in words an on-call person can act on.
 */
export class LagUnavailableError extends Error {
  constructor(
    message: string,
    readonly cluster: string,
    readonly brokers: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LagUnavailableError';
  }
}

/** What changes together, committed together: an incident, its timeline entries, its outgoing messages, monitor state. */
export interface Commit {
  incident?: Incident;
  /** New entries of `incident`'s timeline, in order; kept as data for the postmortem. */
  timeline?: TimelineEntry[];
  effects?: SlackEffect[];
  state?: Record<string, unknown>;
  /**
   * A check's result: only the replica that leads may commit it, and the store refuses it
   * from one that no longer does. Clicks are recorded by whichever replica receives them.
   */
  asLeader?: boolean;
  /**
   * The incident as the step that made this commit read it. When the stored incident is no
   * longer that (another replica committed it meanwhile: a click on a standby during a
   * check), the store refuses the commit with IncidentChangedError and keeps none of it, so
   * the step is taken again from what is stored rather than undoing the other's.
   */
  basedOn?: Incident;
}

/** The incident changed between a step's read and its commit; see Commit.basedOn. */
export class IncidentChangedError extends Error {
  constructor(readonly incidentId: string) {
    super(`incident ${incidentId} changed since it was read: the step is taken again`);
    this.name = 'IncidentChangedError';
  }
}

/** Whether the incident stored (as read back) is still the one a step was based on. */
export function sameIncident(stored: Incident | null, basedOn: Incident): boolean {
  return stored !== null && JSON.stringify(stored) === JSON.stringify(basedOn);
}

/**
 * Durable state as the monitor uses it. A crash at any point leaves either the old state
 * and its queued messages or the new ones, never half. Every method answers a Promise: a
 * store may be a database across the network (PostgreSQL), and SQLite's answers are simply
 * resolved at once.
 */
export interface IncidentStore {
  /** The open incident of a group, if any. */
  openIncidentFor(ref: GroupRef): Promise<Incident | null>;
  incident(id: string): Promise<Incident | null>;
  /** Every timeline entry committed for the incident, oldest first. */
  timeline(incidentId: string): Promise<TimelineEntry[]>;
  commit(change: Commit): Promise<void>;
  /** Small durable monitor state, JSON values. */
  state<T>(key: string): Promise<T | null>;
}

/** The open incidents of every cluster, for the App Home tab. */
export interface OpenIncidentList {
  openIncidents(): Promise<Incident[]>;
}

/**
 * Silences and maintenance windows. They are kept, never run: whether one is in force is a
 * function of the time (see silence.ts), so nothing is scheduled when one starts or ends.
 */
export interface SilenceStore {
  addSilence(silence: Silence): Promise<void>;
  silence(id: string): Promise<Silence | null>;
  /** Every silence not over before `since` (in force, scheduled, or over at `since` or later), oldest first. */
  silencesSince(since: number): Promise<Silence[]>;
  /**
   * Ends a silence early at `at`, unless it is already over by then; true when this call
   * ended it, so two people ending it at once get one answer each, not two endings.
   */
  endSilenceEarly(id: string, by: string, at: number): Promise<boolean>;
  /** Forgets silences over before `before`; returns how many. */
  pruneSilences(before: number): Promise<number>;
}

/** One group's sample of one check, as the history store keeps it. */
export interface StoredSample {
  group: string;
  record: SampleRecord;
}

/**
 * The groups' histories kept across restarts, so the growth, doubling and stall rules do
 * not start from nothing after every deploy.
 */
export interface HistoryStore {
  /** Add one check's samples of a cluster, and forget that cluster's samples older than `before`. */
  appendSamples(cluster: string, samples: readonly StoredSample[], before: number): Promise<void>;
  /** A cluster's samples since `since`, oldest first within each group. */
  loadSamples(cluster: string, since: number): Promise<StoredSample[]>;
}
