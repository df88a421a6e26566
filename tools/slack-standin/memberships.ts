import { stringArg } from './content.js';
import type { Directory } from './directory.js';

type Args = Record<string, unknown>;
type ApiResult = { ok: boolean; [key: string]: unknown };

const fail = (error: string, extra: Record<string, unknown> = {}): ApiResult => ({ ok: false, error, ...extra });
const missing = (field: string): ApiResult => fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] missing required field: ${field}`] } });

const USERGROUP_ID = /^S[A-Z0-9]{2,}$/;
/** conversations.members' page size when the caller gives none, and the most it allows. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

/** Slack's cursors are opaque base64; theirs for members read like `user:U0123`. */
const cursorOf = (user: string): string => Buffer.from(`user:${user}`).toString('base64');
function userOfCursor(cursor: string): string | null {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  return text.startsWith('user:') ? text.slice(5) : null;
}

/**
 * Who is in which user group and which channel, as `usergroups.users.list` and
 * `conversations.members` answer it. Tests change membership as an admin would in Slack.
 * A channel whose members were never set counts every user the workspace has seen, as a
 * workspace-wide channel does; a user group exists only once it was set.
 */
export class Memberships {
  private readonly usergroups = new Map<string, Set<string>>();
  private readonly channels = new Map<string, Set<string>>();

  constructor(
    private readonly directory: Directory,
    private readonly botUserId: string,
  ) {}

  setUsergroup(id: string, users: readonly string[]): void {
    if (!USERGROUP_ID.test(id)) throw new Error(`Slack stand-in: "${id}" is not a user-group id (S...)`);
    this.usergroups.set(id, new Set(users));
  }

  addToUsergroup(id: string, user: string): void {
    this.setUsergroup(id, [...(this.usergroups.get(id) ?? []), user]);
  }

  removeFromUsergroup(id: string, user: string): void {
    this.usergroups.get(id)?.delete(user);
  }

  deleteUsergroup(id: string): void {
    this.usergroups.delete(id);
  }

  /** The channel's members from now on; the bot is one of them, as it must be to post there. */
  setChannelMembers(channel: string, users: readonly string[]): void {
    this.channels.set(channel, new Set([this.botUserId, ...users]));
  }

  usersList(args: Args): ApiResult {
    const usergroup = stringArg(args, 'usergroup');
    if (usergroup === undefined) return missing('usergroup');
    const users = this.usergroups.get(usergroup);
    if (!users) return fail('no_such_subteam');
    return { ok: true, users: [...users] };
  }

  conversationsMembers(args: Args): ApiResult {
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const channel = this.directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    const limitText = stringArg(args, 'limit');
    const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) return fail('invalid_limit');
    const members = [...(this.channels.get(channel.id) ?? new Set([this.botUserId, ...this.directory.userIds()]))].sort();
    let start = 0;
    const cursor = stringArg(args, 'cursor');
    if (cursor !== undefined && cursor !== '') {
      const after = userOfCursor(cursor);
      start = after === null ? -1 : members.indexOf(after);
      if (start < 0) return fail('invalid_cursor');
    }
    const page = members.slice(start, start + Math.min(limit, MAX_LIMIT));
    const next = members[start + page.length];
    return { ok: true, members: page, response_metadata: { next_cursor: next !== undefined ? cursorOf(next) : '' } };
  }
}
