import { describe, expect, it } from 'vitest';
import { accessRulesOf } from '../../src/config/access.js';
import { parseConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { AccessGuard } from '../../src/slack/access-guard.js';
import { MembershipCache, MembershipReadError, type MembershipReader } from '../../src/slack/memberships.js';

const yaml = `
clusters:
  - { name: prod-eu, brokers: [a:1] }
  - { name: prod-us, brokers: [b:1] }
access:
  silence: [S0SRE]
groups:
  - match: "payments-*"
    access: { silence: [U0PAY] }
  - match: "payments-*"
    cluster: prod-us
    access: { silence: [channel-members] }
`;

function guard(reader: Partial<MembershipReader> = {}): AccessGuard {
  const memberships = new MembershipCache({ usergroupMembers: async () => ['U0SRE'], channelMembers: async () => ['U0US'], ...reader }, { now: () => 0 }, 60_000);
  const rules = accessRulesOf(parseConfig(yaml, {}, 'test.yaml'));
  return new AccessGuard(rules, memberships, createLogger('silent'), { clusters: ['prod-eu', 'prod-us'], channelOf: (ref) => (ref.cluster === 'prod-us' ? 'C0US' : null) });
}

describe('who may silence', () => {
  it('decides a glob on every cluster it covers, by the rules its own text matches', async () => {
    const all = { kind: 'groups' as const, pattern: 'payments-*', cluster: null };
    // prod-eu lets U0PAY in, prod-us only its incident channel's members: both must agree.
    expect(await guard().maySilence('U0PAY', all)).toMatchObject({ allowed: false, rule: 'groups[1] (match "payments-*", cluster "prod-us") access.silence' });
    expect(await guard().maySilence('U0PAY', { ...all, cluster: 'prod-eu' })).toMatchObject({ allowed: true });
    expect(await guard().maySilence('U0US', { ...all, cluster: 'prod-us' })).toMatchObject({ allowed: true, by: { kind: 'channel-members' } });
    // A glob no groups rule's match covers falls to the top level.
    expect(await guard().maySilence('U0PAY', { kind: 'groups', pattern: 'pay*', cluster: 'prod-eu' })).toMatchObject({ allowed: false, rule: 'access.silence' });
    expect(await guard().maySilence('U0SRE', { kind: 'cluster', cluster: 'prod-eu' })).toMatchObject({ allowed: true, by: { kind: 'usergroup', id: 'S0SRE' } });
  });

  it('fails closed when Slack cannot say', async () => {
    const broken = guard({ usergroupMembers: async () => Promise.reject(new MembershipReadError('ratelimited', null)) });
    expect(await broken.maySilence('U0SRE', { kind: 'cluster', cluster: 'prod-eu' })).toMatchObject({
      allowed: false,
      unreadable: [{ what: { kind: 'usergroup', id: 'S0SRE' }, error: 'ratelimited' }],
    });
  });
});
