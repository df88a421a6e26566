import { describe, expect, it } from 'vitest';
import {
  actionRuleFor,
  decideAction,
  decideQuery,
  lookupsFor,
  OPEN_ACCESS,
  queryRuleFor,
  queryRules,
  SPECIFICITY,
  type AccessRules,
  type Facts,
  type Membership,
} from '../../src/core/access.js';

const IN: Membership = { ok: true, member: true };
const OUT: Membership = { ok: true, member: false };
const payments = { cluster: 'prod-eu', group: 'payments-consumer', channel: 'C0PAY' };

const facts = (actor: string, more: Partial<Facts> = {}): Facts => ({ actor, userGroups: new Map(), ...more });

/** The configuration's layers as plain data: global, a cluster's own, and groups rules of each kind. */
const RULES: AccessRules = {
  layers: [
    { specificity: SPECIFICITY.global, source: '', actions: { resolve: [{ kind: 'usergroup', id: 'S0SRE' }] }, query: [{ kind: 'channel', id: 'C0SRE' }, { kind: 'usergroup', id: 'S0SRE' }] },
    { cluster: 'prod-eu', specificity: SPECIFICITY.cluster, source: 'clusters[0] (prod-eu)', actions: { snooze: [{ kind: 'user', id: 'U0LEAD' }] } },
    { cluster: 'prod-*', specificity: SPECIFICITY.clusterGlob, source: 'groups[0] (cluster "prod-*")', actions: { snooze: [{ kind: 'usergroup', id: 'S0PROD' }] } },
    { match: 'payments-*', specificity: SPECIFICITY.group, source: 'groups[1] (match "payments-*")', actions: { resolve: [{ kind: 'usergroup', id: 'S0PAY' }] }, query: [{ kind: 'channel', id: 'C0PAY' }] },
    {
      match: 'payments-*',
      cluster: 'prod-eu',
      specificity: SPECIFICITY.groupAndCluster,
      source: 'groups[2] (match "payments-*", cluster "prod-eu")',
      actions: { reassign: [{ kind: 'user', id: 'U0LEAD' }] },
    },
  ],
};

describe('which rule decides', () => {
  it('is the most specific layer that sets the key, whatever the file order', () => {
    expect(actionRuleFor(RULES, 'reassign', payments).source).toBe('groups[2] (match "payments-*", cluster "prod-eu") access.reassign');
    expect(actionRuleFor(RULES, 'resolve', payments).source).toBe('groups[1] (match "payments-*") access.resolve');
    // A cluster glob in a groups rule is more specific than the cluster entry's own access.
    expect(actionRuleFor(RULES, 'snooze', payments).source).toBe('groups[0] (cluster "prod-*") access.snooze');
    expect(actionRuleFor(RULES, 'snooze', { cluster: 'staging', group: 'payments-consumer' }).source).toBe('the default (channel-members)');
    expect(actionRuleFor(RULES, 'resolve', { cluster: 'staging', group: 'orders' }).source).toBe('access.resolve');
  });

  it('falls back to channel members for actions and everyone for /lag when nothing is configured', () => {
    expect(actionRuleFor(OPEN_ACCESS, 'acknowledge', payments).grantees).toEqual([{ kind: 'channel-members' }]);
    expect(queryRuleFor(OPEN_ACCESS, payments).grantees).toEqual([{ kind: 'everyone' }]);
  });

  it('takes the first of two equally specific rules', () => {
    const rules: AccessRules = {
      layers: [
        { match: 'pay*', specificity: SPECIFICITY.group, source: 'groups[0]', actions: { resolve: [{ kind: 'user', id: 'U0A' }] } },
        { match: 'payments-*', specificity: SPECIFICITY.group, source: 'groups[1]', actions: { resolve: [{ kind: 'user', id: 'U0B' }] } },
      ],
    };
    expect(actionRuleFor(rules, 'resolve', payments).source).toBe('groups[0] access.resolve');
  });
});

describe('incident actions', () => {
  it('lets a listed user in without reading anything from Slack', () => {
    const request = { action: 'reassign' as const, target: payments };
    expect(lookupsFor([actionRuleFor(RULES, 'reassign', payments)], 'U0LEAD')).toEqual({ userGroups: [], channelMembers: false });
    expect(decideAction(RULES, request, facts('U0LEAD'))).toMatchObject({ allowed: true, by: { kind: 'user', id: 'U0LEAD' } });
    expect(decideAction(RULES, request, facts('U0MARIA'))).toMatchObject({ allowed: false, rule: 'groups[2] (match "payments-*", cluster "prod-eu") access.reassign', unreadable: [] });
  });

  it('decides by user-group membership', () => {
    const request = { action: 'resolve' as const, target: payments };
    expect(lookupsFor([actionRuleFor(RULES, 'resolve', payments)], 'U0MARIA')).toEqual({ userGroups: ['S0PAY'], channelMembers: false });
    expect(decideAction(RULES, request, facts('U0MARIA', { userGroups: new Map([['S0PAY', IN]]) })).allowed).toBe(true);
    expect(decideAction(RULES, request, facts('U0MARIA', { userGroups: new Map([['S0PAY', OUT]]) }))).toMatchObject({ allowed: false, grantees: [{ kind: 'usergroup', id: 'S0PAY' }] });
  });

  it('decides by membership of the incident channel by default', () => {
    const request = { action: 'acknowledge' as const, target: payments };
    expect(lookupsFor([actionRuleFor(RULES, 'acknowledge', payments)], 'U0MARIA')).toEqual({ userGroups: [], channelMembers: true });
    expect(decideAction(RULES, request, facts('U0MARIA', { channelMembers: IN }))).toMatchObject({ allowed: true, by: { kind: 'channel-members' } });
    expect(decideAction(RULES, request, facts('U0MARIA', { channelMembers: OUT }))).toMatchObject({ allowed: false, rule: 'the default (channel-members)' });
  });

  it('refuses when Slack could not say, and names what could not be read (fail closed)', () => {
    const refused = decideAction(RULES, { action: 'resolve', target: payments }, facts('U0MARIA', { userGroups: new Map([['S0PAY', { ok: false, error: 'no_such_subteam' }]]) }));
    expect(refused).toEqual({
      allowed: false,
      rule: 'groups[1] (match "payments-*") access.resolve',
      grantees: [{ kind: 'usergroup', id: 'S0PAY' }],
      unreadable: [{ what: { kind: 'usergroup', id: 'S0PAY' }, error: 'no_such_subteam' }],
    });
    const channel = decideAction(RULES, { action: 'acknowledge', target: payments }, facts('U0MARIA', { channelMembers: { ok: false, error: 'ratelimited' } }));
    expect(channel).toMatchObject({ allowed: false, unreadable: [{ what: { kind: 'channel-members', channel: 'C0PAY' }, error: 'ratelimited' }] });
  });

  it('lets in through any one grantee even when another could not be read', () => {
    const rules: AccessRules = { layers: [{ specificity: SPECIFICITY.global, source: 'access', actions: { resolve: [{ kind: 'usergroup', id: 'S0A' }, { kind: 'usergroup', id: 'S0B' }] } }] };
    const decision = decideAction(rules, { action: 'resolve', target: payments }, facts('U0MARIA', { userGroups: new Map<string, Membership>([['S0A', { ok: false, error: 'fatal_error' }], ['S0B', IN]]) }));
    expect(decision).toMatchObject({ allowed: true, by: { kind: 'usergroup', id: 'S0B' } });
  });
});

describe('/lag queries', () => {
  it('lets in a channel or a member of a listed user group, per the most specific rule', () => {
    const orders = { cluster: 'prod-eu', group: 'orders' };
    expect(decideQuery(RULES, orders, facts('U0MARIA', { channel: 'C0SRE' })).allowed).toBe(true);
    expect(decideQuery(RULES, orders, facts('U0MARIA', { channel: 'C0RANDOM', userGroups: new Map([['S0SRE', IN]]) })).allowed).toBe(true);
    expect(decideQuery(RULES, orders, facts('U0MARIA', { channel: 'C0RANDOM', userGroups: new Map([['S0SRE', OUT]]) }))).toMatchObject({ allowed: false, rule: 'access.query' });
    // The payments rule replaces the global one: the SRE channel is not in it.
    expect(decideQuery(RULES, payments, facts('U0MARIA', { channel: 'C0SRE' }))).toMatchObject({ allowed: false, rule: 'groups[1] (match "payments-*") access.query' });
    expect(decideQuery(RULES, payments, facts('U0MARIA', { channel: 'C0PAY' })).allowed).toBe(true);
  });

  it('knows every rule a listing must decide, and what to read for them', () => {
    expect(queryRules(RULES).map((r) => r.source)).toEqual(['access.query', 'groups[1] (match "payments-*") access.query']);
    expect(lookupsFor(queryRules(RULES), 'U0MARIA', 'C0RANDOM')).toEqual({ userGroups: ['S0SRE'], channelMembers: false });
    // Typed in the channel the global rule lists: that rule needs nothing more.
    expect(lookupsFor(queryRules(RULES), 'U0MARIA', 'C0SRE')).toEqual({ userGroups: [], channelMembers: false });
  });
});
