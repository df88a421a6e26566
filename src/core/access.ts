import picomatch from 'picomatch';
import type { GroupRef } from './protocol.js';

/**
 * Who may do what to an incident, and who may read which groups with `/lag`: pure
 * decisions over plain data. The Slack edge reads the facts a decision needs (the actor's
 * user groups, the incident channel's members) and hands them in; nothing here calls Slack.
 */

/** Everything a person can do to an incident that someone may be refused. */
export const ACCESS_ACTIONS = ['acknowledge', 'snooze', 'resolve', 'silence', 'reassign'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

/** Who a rule lets in. */
export type Grantee =
  | { kind: 'everyone' }
  | { kind: 'user'; id: string }
  | { kind: 'usergroup'; id: string }
  /** The members of the incident's channel. */
  | { kind: 'channel-members' }
  /** Anyone typing `/lag` in this channel (query rules only). */
  | { kind: 'channel'; id: string };

/** A rule as the configuration set it; `source` names the key, for refusals and logs. */
export interface AccessRule {
  grantees: readonly Grantee[];
  source: string;
}

/**
 * One layer of rules: the top-level `access`, a cluster's, or a `groups` entry's. Each
 * sets some keys; a key it leaves out comes from the next most specific layer that sets it.
 */
export interface AccessLayer {
  /** A glob over cluster names; every cluster when absent. */
  cluster?: string;
  /** A glob over group ids; every group when absent. */
  match?: string;
  /** Higher wins; among equals, the first layer in the list. See SPECIFICITY. */
  specificity: number;
  /** Where the layer is in the configuration, e.g. `groups[2] (match "payments-*")`; empty for the top level. */
  source: string;
  actions: Partial<Record<AccessAction, readonly Grantee[]>>;
  query?: readonly Grantee[];
}

/**
 * Most specific first: a groups rule naming both group and cluster, one naming the group,
 * one naming only a cluster glob, a cluster's own `access`, the top-level `access`.
 */
export const SPECIFICITY = { groupAndCluster: 5, group: 4, clusterGlob: 3, cluster: 2, global: 1 } as const;

export interface AccessRules {
  layers: readonly AccessLayer[];
}

/** What applies when no layer says: the incident channel's members may act, and everyone may read. */
export const DEFAULT_ACTION_RULE: AccessRule = { grantees: [{ kind: 'channel-members' }], source: 'the default (channel-members)' };
export const DEFAULT_QUERY_RULE: AccessRule = { grantees: [{ kind: 'everyone' }], source: 'the default (everyone)' };

export const OPEN_ACCESS: AccessRules = { layers: [] };

/** The layers that apply to a group, most specific first (stable for equals: file order). */
function layersFor(rules: AccessRules, ref: GroupRef): AccessLayer[] {
  const applies = (l: AccessLayer): boolean =>
    (l.cluster === undefined || picomatch.isMatch(ref.cluster, l.cluster, { dot: true })) && (l.match === undefined || picomatch.isMatch(ref.group, l.match, { dot: true }));
  return rules.layers
    .map((layer, i) => ({ layer, i }))
    .filter(({ layer }) => applies(layer))
    .sort((a, b) => b.layer.specificity - a.layer.specificity || a.i - b.i)
    .map(({ layer }) => layer);
}

/** The configuration key a rule comes from, as refusals name it: `access.resolve`, `groups[1] (match "pay-*") access.resolve`. */
const keyOf = (layer: AccessLayer, key: AccessAction | 'query'): string => (layer.source ? `${layer.source} access.${key}` : `access.${key}`);

/** The rule deciding who may take `action` on an incident of this group. */
export function actionRuleFor(rules: AccessRules, action: AccessAction, ref: GroupRef): AccessRule {
  for (const layer of layersFor(rules, ref)) {
    const grantees = layer.actions[action];
    if (grantees) return { grantees, source: keyOf(layer, action) };
  }
  return DEFAULT_ACTION_RULE;
}

/** The rule deciding who may read this group with `/lag`. */
export function queryRuleFor(rules: AccessRules, ref: GroupRef): AccessRule {
  for (const layer of layersFor(rules, ref)) {
    if (layer.query) return { grantees: layer.query, source: keyOf(layer, 'query') };
  }
  return DEFAULT_QUERY_RULE;
}

/** A membership as read from Slack: known, or not readable (and why). */
export type Membership = { ok: true; member: boolean } | { ok: false; error: string };

/** The facts about one person a decision may need; absent ones were not read. */
export interface Facts {
  actor: string;
  /** The channel the request came from (a `/lag` command's). */
  channel?: string;
  /** The actor's membership of each user group read. */
  userGroups: ReadonlyMap<string, Membership>;
  /** The actor's membership of the incident's channel, when read. */
  channelMembers?: Membership;
}

/** What could not be read from Slack, so a refusal can say so rather than "not allowed". */
export interface Unreadable {
  what: { kind: 'usergroup'; id: string } | { kind: 'channel-members'; channel: string };
  error: string;
}

export type Decision = { allowed: true; by: Grantee; rule: string } | Refusal;
export type Refusal = { allowed: false; rule: string; grantees: readonly Grantee[]; unreadable: Unreadable[] };

/** The Slack reads a decision needs, beyond what the request itself says; none when a cheaper grant already lets the actor in. */
export interface Lookups {
  userGroups: string[];
  channelMembers: boolean;
}

const grantedWithoutLookup = (g: Grantee, actor: string, channel: string | undefined): boolean =>
  g.kind === 'everyone' || (g.kind === 'user' && g.id === actor) || (g.kind === 'channel' && g.id === channel);

export function lookupsFor(rules: readonly AccessRule[], actor: string, channel?: string): Lookups {
  const userGroups = new Set<string>();
  let channelMembers = false;
  for (const rule of rules) {
    if (rule.grantees.some((g) => grantedWithoutLookup(g, actor, channel))) continue;
    for (const g of rule.grantees) {
      if (g.kind === 'usergroup') userGroups.add(g.id);
      if (g.kind === 'channel-members') channelMembers = true;
    }
  }
  return { userGroups: [...userGroups], channelMembers };
}

/**
 * Whether the rule lets the actor in. Any one grantee is enough; a membership that could
 * not be read grants nothing (fail closed), and the refusal lists it.
 */
export function decide(rule: AccessRule, facts: Facts, incidentChannel?: string): Decision {
  const unreadable: Unreadable[] = [];
  for (const g of rule.grantees) {
    if (grantedWithoutLookup(g, facts.actor, facts.channel)) return { allowed: true, by: g, rule: rule.source };
    const membership = g.kind === 'usergroup' ? facts.userGroups.get(g.id) : g.kind === 'channel-members' ? facts.channelMembers : undefined;
    if (membership === undefined) continue;
    if (membership.ok && membership.member) return { allowed: true, by: g, rule: rule.source };
    if (!membership.ok) {
      unreadable.push({ what: g.kind === 'usergroup' ? { kind: 'usergroup', id: g.id } : { kind: 'channel-members', channel: incidentChannel ?? '' }, error: membership.error });
    }
  }
  return { allowed: false, rule: rule.source, grantees: rule.grantees, unreadable };
}

/** What an incident action is aimed at: the incident's group and the channel it lives in. */
export type ActionTarget = GroupRef & { channel: string };

export interface ActionRequest {
  action: AccessAction;
  target: ActionTarget;
}

export function decideAction(rules: AccessRules, request: ActionRequest, facts: Facts): Decision {
  return decide(actionRuleFor(rules, request.action, request.target), facts, request.target.channel);
}

export function decideQuery(rules: AccessRules, ref: GroupRef, facts: Facts): Decision {
  return decide(queryRuleFor(rules, ref), facts);
}

/** Every query rule the configuration sets: what `/lag list` must be able to decide for the asker. */
export function queryRules(rules: AccessRules): AccessRule[] {
  return rules.layers.flatMap((l) => (l.query ? [{ grantees: l.query, source: keyOf(l, 'query') }] : []));
}

/** Whether any rule restricts `/lag` at all; when none does, nothing needs to be read. */
export function queryIsOpen(rules: AccessRules): boolean {
  return rules.layers.every((l) => l.query === undefined || l.query.some((g) => g.kind === 'everyone'));
}
