import type { webApi } from '@slack/bolt';
import type { Clock } from '../core/ports.js';

/**
 * Who is in a user group and who is in a channel, read from Slack's Web API and trusted for
 * a short while: the access rules ask on every click, Slack's rate limits would not.
 */

export interface MembershipReader {
  usergroupMembers(usergroup: string): Promise<readonly string[]>;
  channelMembers(channel: string): Promise<readonly string[]>;
}

/** A failed read, with Slack's own error code where it gave one (`no_such_subteam`, `missing_scope`, ...). */
export class MembershipReadError extends Error {
  constructor(
    readonly code: string,
    cause: unknown,
  ) {
    super(code, { cause });
    this.name = 'MembershipReadError';
  }
}

function codeOf(error: unknown): string {
  const data = typeof error === 'object' && error !== null && 'data' in error ? (error as { data?: { error?: unknown } }).data : undefined;
  if (typeof data?.error === 'string') return data.error;
  return error instanceof Error ? error.message : String(error);
}

/** conversations.members answers in pages; this many per page keeps a big channel to a few calls. */
const PAGE = 1_000;
/** A channel bigger than this many pages is read no further: its members beyond are not let in by membership. */
const MAX_PAGES = 50;

export function webMemberships(client: webApi.WebClient): MembershipReader {
  return {
    async usergroupMembers(usergroup) {
      try {
        const answer = await client.usergroups.users.list({ usergroup });
        return answer.users ?? [];
      } catch (error) {
        throw new MembershipReadError(codeOf(error), error);
      }
    },
    async channelMembers(channel) {
      const members: string[] = [];
      let cursor: string | undefined;
      try {
        for (let page = 0; page < MAX_PAGES; page += 1) {
          const answer = await client.conversations.members({ channel, limit: PAGE, ...(cursor ? { cursor } : {}) });
          members.push(...(answer.members ?? []));
          cursor = answer.response_metadata?.next_cursor || undefined;
          if (!cursor) break;
        }
      } catch (error) {
        throw new MembershipReadError(codeOf(error), error);
      }
      return members;
    },
  };
}

/**
 * Memberships kept for `ttlMs` after they were read. Concurrent asks for the same one share
 * one call; a failed read is not kept, so the next ask tries Slack again.
 */
export class MembershipCache {
  private readonly entries = new Map<string, { at: number; members: Promise<ReadonlySet<string>> }>();

  constructor(
    private readonly reader: MembershipReader,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  usergroup(id: string): Promise<ReadonlySet<string>> {
    return this.get(`usergroup:${id}`, () => this.reader.usergroupMembers(id));
  }

  channel(id: string): Promise<ReadonlySet<string>> {
    return this.get(`channel:${id}`, () => this.reader.channelMembers(id));
  }

  private get(key: string, read: () => Promise<readonly string[]>): Promise<ReadonlySet<string>> {
    const now = this.clock.now();
    const kept = this.entries.get(key);
    if (kept && now - kept.at < this.ttlMs) return kept.members;
    const members = read().then((ids) => new Set(ids));
    this.entries.set(key, { at: now, members });
    members.catch(() => {
      if (this.entries.get(key)?.members === members) this.entries.delete(key);
    });
    return members;
  }
}
