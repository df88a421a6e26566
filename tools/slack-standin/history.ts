import { stringArg, truthy } from './content.js';
import type { StoredMessage } from './types.js';

/**
 * Reading a conversation back, as `conversations.history` and `conversations.replies` do:
 * a time window, cursor pagination and the `include_all_metadata` switch. Pure functions over
 * the stored messages, so the Web API only has to find the channel.
 */

export type Page =
  | { ok: true; messages: Record<string, unknown>[]; has_more: boolean; response_metadata: { next_cursor: string } }
  | { ok: false; error: string };

type View = (message: StoredMessage) => Record<string, unknown>;

const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 999;
const REPLIES_DEFAULT_LIMIT = 1000;
const REPLIES_MAX_LIMIT = 1000;

/**
 * Slack ts values carry microseconds after the dot; as a double they would be at the edge of
 * precision, so they are compared as (seconds, micros) pairs.
 */
export function compareTs(a: string, b: string): number {
  const [as = '0', af = ''] = a.split('.');
  const [bs = '0', bf = ''] = b.split('.');
  const seconds = Number(as) - Number(bs);
  if (seconds !== 0) return Math.sign(seconds);
  return Math.sign(Number(af.padEnd(6, '0').slice(0, 6)) - Number(bf.padEnd(6, '0').slice(0, 6)));
}

// Slack's cursors are base64 of `next_ts:<ts>`, the first message of the next page.
const encodeCursor = (ts: string): string => Buffer.from(`next_ts:${ts}`).toString('base64');

function decodeCursor(cursor: string): string | undefined {
  const match = /^next_ts:(\d+(?:\.\d+)?)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return match?.[1];
}

function limitArg(args: Record<string, unknown>, fallback: number, max: number): number {
  const raw = Number(stringArg(args, 'limit') ?? fallback);
  if (!Number.isFinite(raw) || raw <= 0) return fallback;
  return Math.min(Math.floor(raw), max);
}

/** `oldest`/`latest` are exclusive unless `inclusive` is set; both are optional. */
function inWindow(args: Record<string, unknown>): (m: StoredMessage) => boolean {
  const oldest = stringArg(args, 'oldest');
  const latest = stringArg(args, 'latest');
  const inclusive = truthy(args.inclusive);
  return (m) => {
    if (oldest !== undefined) {
      const c = compareTs(m.ts, oldest);
      if (c < 0 || (c === 0 && !inclusive)) return false;
    }
    if (latest !== undefined) {
      const c = compareTs(m.ts, latest);
      if (c > 0 || (c === 0 && !inclusive)) return false;
    }
    return true;
  };
}

function viewFor(args: Record<string, unknown>, view: View): View {
  if (truthy(args.include_all_metadata)) return view;
  return (m) => {
    const { metadata: _metadata, ...rest } = view(m);
    return rest;
  };
}

/**
 * Cuts one page from `ordered`; `beforeCursor(m, cursorTs)` says whether `m` lies before the
 * cursor in reading order (so it was on an earlier page).
 */
function paginate(
  ordered: StoredMessage[],
  args: Record<string, unknown>,
  limit: number,
  view: View,
  beforeCursor: (m: StoredMessage, cursorTs: string) => boolean,
): Page {
  const cursor = stringArg(args, 'cursor');
  let start = 0;
  if (cursor !== undefined) {
    const cursorTs = decodeCursor(cursor);
    if (cursorTs === undefined) return { ok: false, error: 'invalid_cursor' };
    start = ordered.findIndex((m) => !beforeCursor(m, cursorTs));
    if (start < 0) start = ordered.length;
  }
  const page = ordered.slice(start, start + limit);
  const next = ordered[start + limit];
  return {
    ok: true,
    messages: page.map(viewFor(args, view)),
    has_more: next !== undefined,
    response_metadata: { next_cursor: next === undefined ? '' : encodeCursor(next.ts) },
  };
}

/** `conversations.history`: the channel's top-level messages, newest first. */
export function historyPage(channelMessages: StoredMessage[], args: Record<string, unknown>, view: View): Page {
  const newestFirst = channelMessages.filter(inWindow(args)).reverse();
  const limit = limitArg(args, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT);
  return paginate(newestFirst, args, limit, view, (m, cursorTs) => compareTs(m.ts, cursorTs) > 0);
}

/**
 * `conversations.replies`: the parent, then its replies oldest first. The window applies to
 * the replies; Slack puts the parent at the top of the first page whatever the window says.
 */
export function repliesPage(thread: StoredMessage[], args: Record<string, unknown>, view: View): Page {
  const [parent, ...replies] = thread;
  if (parent === undefined) return { ok: false, error: 'thread_not_found' };
  const ordered = [parent, ...replies.filter(inWindow(args))];
  const limit = limitArg(args, REPLIES_DEFAULT_LIMIT, REPLIES_MAX_LIMIT);
  return paginate(ordered, args, limit, view, (m, cursorTs) => compareTs(m.ts, cursorTs) < 0);
}
