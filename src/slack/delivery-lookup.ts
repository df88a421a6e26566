import type { webApi } from '@slack/bolt';
import type { MessageMetadata } from '@slack/types';

/**
 * Finding out whether an in-doubt outbox row already reached Slack. Every message lagbot posts
 * carries its outbox seq in Slack message metadata, so reading the channel (or the thread)
 * back tells "posted, here is its ts" from "never arrived".
 */

export const OUTBOX_EVENT_TYPE = 'lagbot_outbox';

/**
 * The metadata stamped on every post: the store's stamp and the row's seq name it; `incident_id`
 * is left out for standalone channel messages.
 */
export function outboxMetadata(stamp: string, seq: number, incidentId: string | null): MessageMetadata {
  return { event_type: OUTBOX_EVENT_TYPE, event_payload: { store: stamp, seq, ...(incidentId === null ? {} : { incident_id: incidentId }) } };
}

export interface LookupRequest {
  /** The store's stamp: the same seq in another store's message is not this row. */
  stamp: string;
  seq: number;
  incidentId: string | null;
  channel: string;
  /** Where a thread reply would be; null for root and channel messages. */
  threadTs: string | null;
  /** Read no further back than this (ms since epoch). */
  notBefore: number;
}

const PAGE_SIZE = 200;

/** A Slack ts for a time in ms: seconds, then microseconds. */
export function slackTs(ms: number): string {
  const whole = Math.max(0, Math.floor(ms));
  return `${Math.floor(whole / 1000)}.${String((whole % 1000) * 1000).padStart(6, '0')}`;
}

function isOurs(message: unknown, stamp: string, seq: number, incidentId: string | null): message is { ts: string } {
  if (typeof message !== 'object' || message === null) return false;
  const { ts, metadata } = message as { ts?: unknown; metadata?: { event_type?: unknown; event_payload?: Record<string, unknown> } };
  if (typeof ts !== 'string' || metadata?.event_type !== OUTBOX_EVENT_TYPE) return false;
  const payload = metadata.event_payload ?? {};
  if (Number(payload.seq) !== seq) return false;
  // Messages posted before stores had stamps carry none; their incident id still tells them apart.
  if (payload.store !== undefined && payload.store !== stamp) return false;
  return incidentId === null || payload.incident_id === incidentId;
}

interface Page {
  messages?: unknown[];
  has_more?: boolean;
  response_metadata?: { next_cursor?: string };
}

/**
 * The ts of the row's message in Slack, or null when Slack has no such message. Throws the
 * WebClient's error when Slack cannot be asked; the caller retries as for any call.
 */
export async function findOutboxMessage(client: webApi.WebClient, request: LookupRequest): Promise<string | null> {
  const { channel, threadTs, stamp, seq, incidentId } = request;
  const oldest = slackTs(request.notBefore);
  let cursor: string | undefined;
  for (;;) {
    const common = { channel, oldest, include_all_metadata: true, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
    const page: Page =
      threadTs === null ? await client.conversations.history(common) : await client.conversations.replies({ ...common, ts: threadTs });
    const found = (page.messages ?? []).find((m) => isOurs(m, stamp, seq, incidentId));
    if (found) return found.ts;
    const next = page.response_metadata?.next_cursor;
    if (!page.has_more || !next || next === cursor) return null;
    cursor = next;
  }
}
