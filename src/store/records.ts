import type { Owner } from '../core/findings.js';
import { DEFAULT_CLUSTER, type Incident, type Severity, type SlackFile, type SlackMessage } from '../core/protocol.js';
import type { Silence, SilenceTarget } from '../core/silence.js';
import type { OutboxKind, OutboxRow, OutboxState } from './outbox.js';

/**
 * What SQLite and PostgreSQL share of the store: the rows as both keep them, how a row
 * becomes the core's data, and the SQL both dialects read alike. One place, so the two
 * stores cannot drift apart in what they mean.
 */

/** Which incidents to list; every field narrows. */
export interface IncidentFilter {
  cluster?: string;
  group?: string;
  status?: Incident['status'];
  /** Open incidents, and those resolved (or opened) at or after this time (ms since epoch). */
  since?: number;
  limit?: number;
}

export interface OutboxRecord {
  seq: number;
  incident_id: string | null;
  channel: string;
  kind: OutboxKind;
  message: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  last_attempt_at: number | null;
  last_answer_at: number | null;
  delivered_at: number | null;
  slack_ts: string | null;
  file: string | null;
  slack_file_id: string | null;
}

export const UNFINISHED = `state IN ('pending', 'sending')`;

// Standalone channel messages have no incident; they are ordered per channel instead. A root
// edit carries the whole current state and waits for its own budget (chat.update), so it is a
// stream of its own: the thread never waits behind it. Files too: an upload can be slow or
// fail, and the timeline text must not wait for it.
export const STREAM_KEY = `CASE WHEN incident_id IS NULL THEN 'channel:' || channel WHEN kind = 'update-root' THEN 'root:' || incident_id WHEN kind = 'post-file' THEN 'file:' || incident_id ELSE 'incident:' || incident_id END`;

type StoredIncident = Omit<Incident, 'cluster' | 'figures'> & {
  cluster?: string;
  figures: Omit<Incident['figures'], 'hotPartition'> & {
    drainSeconds?: number | null;
    nextThreshold: { severity: Severity; lag: number; seconds?: number; inMs?: number; rule?: 'line' | 'doubling' } | null;
    hotPartition: (Omit<NonNullable<Incident['figures']['hotPartition']>, 'owner'> & { owner?: Owner | null; memberId?: string | null; host?: string | null }) | null;
  };
};

/**
 * An incident as saved, brought up to today's shape: incidents written before clusters
 * were named belong to the default cluster, and their figures counted seconds where
 * they now count milliseconds. A check refreshes the figures anyway; this covers the
 * minute until it does.
 */
export function incidentOf(json: string): Incident {
  const stored = JSON.parse(json) as StoredIncident;
  const { drainSeconds, ...figures } = stored.figures;
  const next = figures.nextThreshold;
  const hot = figures.hotPartition;
  const owner = hot && hot.owner === undefined && hot.memberId ? { memberId: hot.memberId, clientId: null, host: hot.host ?? null } : (hot?.owner ?? null);
  return {
    ...stored,
    cluster: stored.cluster ?? DEFAULT_CLUSTER,
    figures: {
      ...figures,
      drainMs: figures.drainMs ?? (drainSeconds === undefined || drainSeconds === null ? null : drainSeconds * 1000),
      nextThreshold: next === null ? null : { severity: next.severity, lag: next.lag, inMs: next.inMs ?? (next.seconds ?? 0) * 1000, rule: next.rule ?? 'line' },
      hotPartition: hot ? { topic: hot.topic, partition: hot.partition, lag: hot.lag, share: hot.share, owner } : null,
    },
  } as Incident;
}

export function toRow(r: OutboxRecord): OutboxRow {
  return {
    seq: r.seq,
    incidentId: r.incident_id,
    channel: r.channel,
    kind: r.kind,
    message: JSON.parse(r.message) as SlackMessage,
    file: r.file === null ? null : (JSON.parse(r.file) as SlackFile),
    slackFileId: r.slack_file_id,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    lastAttemptAt: r.last_attempt_at,
    lastAnswerAt: r.last_answer_at,
    deliveredAt: r.delivered_at,
    slackTs: r.slack_ts,
  };
}


export interface SilenceRecord {
  id: string;
  target: string;
  by_user: string;
  reason: string | null;
  created_at: number;
  starts_at: number;
  ends_at: number;
  ended_by: string | null;
  ended_at: number | null;
}

export function silenceOf(r: SilenceRecord): Silence {
  return {
    id: r.id,
    target: JSON.parse(r.target) as SilenceTarget,
    by: r.by_user,
    reason: r.reason,
    createdAt: r.created_at,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    endedEarly: r.ended_by !== null && r.ended_at !== null ? { by: r.ended_by, at: r.ended_at } : null,
  };
}
