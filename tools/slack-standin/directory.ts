import type { ChannelInfo, UserInfo } from './types.js';

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export interface ResolvedChannel extends ChannelInfo {
  isIm: boolean;
  isPrivate: boolean;
}

/**
 * The workspace's channels and users. Anything shaped like a Slack ID exists on first use, so
 * tests need not declare the channels they use; names only resolve for channels declared or seen,
 * which is where a real workspace would say channel_not_found.
 */
export class Directory {
  private readonly channels = new Map<string, ChannelInfo>();
  private readonly users = new Map<string, UserInfo>();

  constructor(channels: ChannelInfo[], users: UserInfo[]) {
    for (const c of channels) this.addChannel(c);
    for (const u of users) this.addUser(u);
  }

  addChannel(channel: ChannelInfo): void {
    this.channels.set(channel.id, { ...channel });
  }

  addUser(user: UserInfo): void {
    this.users.set(user.id, { ...user });
  }

  /** Accepts what chat.postMessage accepts: a channel ID, `#name`/`name`, or a user ID (the DM). */
  resolveChannel(idOrName: string): ResolvedChannel | undefined {
    if (USER_ID.test(idOrName)) {
      return this.describe({ id: `D${idOrName.slice(1)}`, name: idOrName.toLowerCase() });
    }
    if (CHANNEL_ID.test(idOrName)) {
      const known = this.channels.get(idOrName) ?? { id: idOrName, name: idOrName.toLowerCase() };
      this.channels.set(known.id, known);
      return this.describe(known);
    }
    const name = idOrName.replace(/^#/, '');
    const byName = [...this.channels.values()].find((c) => c.name === name);
    return byName && this.describe(byName);
  }

  resolveUser(id: string): UserInfo | undefined {
    if (!USER_ID.test(id)) return undefined;
    const known = this.users.get(id) ?? { id, name: id.toLowerCase() };
    this.users.set(id, known);
    return { ...known };
  }

  /** Every user known by name or seen, for a people picker. */
  knownUsers(): UserInfo[] {
    return [...this.users.values()].map((u) => ({ ...u }));
  }

  /** Every user seen so far, declared or not. */
  userIds(): string[] {
    return [...this.users.keys()];
  }

  private describe(channel: ChannelInfo): ResolvedChannel {
    return { ...channel, isIm: channel.id.startsWith('D'), isPrivate: channel.id.startsWith('G') };
  }
}
