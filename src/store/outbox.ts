import type { SlackEffect, SlackFile, SlackMessage } from '../core/protocol.js';

/**
 * The outbox as the delivery layer sees it. Rows are Slack effects in commit order (`seq`);
 * each moves `pending` → `sending` → `delivered`, or ends `failed` (Slack refused it for good)
 * or `superseded` (a newer root edit made it pointless).
 *
 * `sending` is written before the Slack call and survives a crash, so a row found `sending`
 * by a process that has no call in flight for it is "in doubt": Slack may or may not have it.
 */
export type OutboxState = 'pending' | 'sending' | 'delivered' | 'superseded' | 'failed';

export type OutboxKind = SlackEffect['kind'];

export interface OutboxRow {
  seq: number;
  /** null for standalone channel messages (`post-channel`). */
  incidentId: string | null;
  channel: string;
  kind: OutboxKind;
  /** For `post-file` rows, the file's title as text (what logs and lookups show). */
  message: SlackMessage;
  /** `post-file` rows only: what to render and upload. */
  file: SlackFile | null;
  /** `post-file` rows only: Slack's id for the uploaded bytes, recorded before they are shared into the thread. */
  slackFileId: string | null;
  state: OutboxState;
  /** Slack calls made for this row (lookups of in-doubt rows excluded). */
  attempts: number;
  /** Not to be tried before this time (ms since epoch). */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  /** When the last Slack call for this row began, and when Slack last answered one (null: no answer since it began). */
  lastAttemptAt: number | null;
  lastAnswerAt: number | null;
  deliveredAt: number | null;
  /** The ts of the message in Slack, once delivered. */
  slackTs: string | null;
}

export interface OutboxCounts {
  pending: number;
  sending: number;
  failed: number;
  lastDeliveredAt: number | null;
}

/** What a row does after a failed attempt. */
export interface RetryPlan {
  nextAttemptAt: number;
  error: string;
  /**
   * True when the call may have reached Slack (timeout, 5xx): the row stays `sending`, so it
   * is looked up in Slack before it is sent again.
   */
  outcomeUnknown: boolean;
  /** The failed call got an answer from Slack, so it can no longer take effect later. */
  answered?: boolean;
}

/** The store side of delivery: reads the queue and records what happened to each row. */
export interface OutboxStore {
  /** Names this store's messages in Slack beside their seq, which other stores reuse. */
  readonly outboxStamp: string;
  /**
   * The oldest unfinished (`pending` or `sending`) row of each ordering stream, oldest first. A
   * stream is one incident's posts, one incident's root edits, or one channel's standalone
   * rows, or one incident's files: only a stream's head may be delivered, which keeps each
   * incident's timeline in order, and a slow upload never holds up the text.
   */
  outboxHeads(limit: number): Promise<OutboxRow[]>;
  outboxRow(seq: number): Promise<OutboxRow | null>;
  /**
   * Committed before each Slack call: pending → sending (an in-doubt row stays sending), one
   * more attempt. False when the row has finished meanwhile (superseded, failed).
   */
  markSending(seq: number): Promise<boolean>;
  /**
   * Records the Slack ts; a delivered `post-root` also becomes its incident's root message.
   * `channel` is the channel ID Slack answered with (`chat.update` takes IDs only).
   */
  markDelivered(seq: number, ts: string, channel?: string): Promise<void>;
  /** Back to the queue after a transient failure; an older root edit yields to a newer one. */
  markRetry(seq: number, plan: RetryPlan): Promise<void>;
  /**
   * Slack refused the row for good. A failed `post-root` takes its incident's unfinished rows
   * with it: without a root message they have nowhere to go.
   */
  markFailed(seq: number, error: string): Promise<void>;
  /** Rows left `sending`, oldest first. */
  inDoubt(): Promise<OutboxRow[]>;
  /** A `post-file` row's bytes are in Slack under this id, not yet shared: committed before the share. */
  markFileUploaded(seq: number, fileId: string): Promise<void>;
  rootMessage(incidentId: string): Promise<{ channel: string; ts: string } | null>;
  /** The incident's post-root is still to be delivered: its root edits wait for it. */
  rootPending(incidentId: string): Promise<boolean>;
  outboxCounts(): Promise<OutboxCounts>;
}
