import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { MembershipCache, MembershipReadError, webMemberships, type MembershipReader } from '../../src/slack/memberships.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';

let standin: SlackStandin | undefined;
afterEach(async () => {
  await standin?.stop();
  standin = undefined;
});

describe('memberships read from Slack', () => {
  it('reads a user group, and every page of a channel, as the Web API answers them', async () => {
    standin = await startSlackStandin({ signingSecret: 's' });
    const client = new webApi.WebClient(standin.botToken, { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } });
    const members = Array.from({ length: 2_345 }, (_, i) => `U0M${String(i).padStart(5, '0')}`);
    standin.memberships.setChannelMembers('C0BIG', members);
    standin.memberships.setUsergroup('S0SRE', ['U0A']);
    const reader = webMemberships(client);
    expect(await reader.usergroupMembers('S0SRE')).toEqual(['U0A']);
    const read = await reader.channelMembers('C0BIG');
    expect(new Set(read)).toEqual(new Set([...members, standin.bot.userId]));
    expect(standin.callsOf('conversations.members')).toHaveLength(3);
    await expect(reader.usergroupMembers('S0NOPE')).rejects.toEqual(new MembershipReadError('no_such_subteam', undefined));
    standin.failNext('conversations.members', { error: 'missing_scope' });
    await expect(reader.channelMembers('C0BIG')).rejects.toThrow('missing_scope');
  });
});

describe('the membership cache', () => {
  const counting = (answers: Array<string[] | Error>): MembershipReader & { calls: number } => {
    const reader = {
      calls: 0,
      usergroupMembers: async () => {
        const answer = answers[reader.calls++] ?? [];
        if (answer instanceof Error) throw answer;
        return answer;
      },
      channelMembers: async () => [],
    };
    return reader;
  };

  it('trusts a read for its time to live, then reads again', async () => {
    let now = 0;
    const reader = counting([['U0A', 'U0B'], ['U0A']]);
    const cache = new MembershipCache(reader, { now: () => now }, 60_000);
    expect((await cache.usergroup('S0SRE')).has('U0B')).toBe(true);
    now = 59_999;
    expect((await cache.usergroup('S0SRE')).has('U0B')).toBe(true);
    expect(reader.calls).toBe(1);
    now = 60_000;
    expect((await cache.usergroup('S0SRE')).has('U0B')).toBe(false);
    expect(reader.calls).toBe(2);
  });

  it('shares one read between concurrent asks, and keeps no failure', async () => {
    const reader = counting([new MembershipReadError('ratelimited', null), ['U0A']]);
    const cache = new MembershipCache(reader, { now: () => 0 }, 60_000);
    const [a, b] = await Promise.allSettled([cache.usergroup('S0SRE'), cache.usergroup('S0SRE')]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    expect(reader.calls).toBe(1);
    expect([...(await cache.usergroup('S0SRE'))]).toEqual(['U0A']);
    expect(reader.calls).toBe(2);
  });
});
