import { z } from 'zod';
import { ACCESS_ACTIONS, SPECIFICITY, type AccessAction, type AccessLayer, type AccessRules, type Grantee } from '../core/access.js';

/**
 * The `access` sections: at the top level, in a `clusters` entry and in a `groups` entry.
 * Each lists, per incident action, who may take it (user ids, user-group ids,
 * `channel-members`, `everyone`), and under `query` who may read with `/lag` (channel ids,
 * user ids, user-group ids, `everyone`). The core resolves which layer applies.
 */

const ACTOR = /^[UW][A-Z0-9]{2,}$/;
const USERGROUP = /^S[A-Z0-9]{2,}$/;
const CHANNEL = /^[CG][A-Z0-9]{2,}$/;

const actionEntry = z
  .string()
  .refine((s) => ACTOR.test(s) || USERGROUP.test(s) || s === 'channel-members' || s === 'everyone', {
    error: (issue) => `"${String(issue.input)}" is not a user id (U…/W…), a user-group id (S…), channel-members or everyone`,
  });

const queryEntry = z
  .string()
  .refine((s) => ACTOR.test(s) || USERGROUP.test(s) || CHANNEL.test(s) || s === 'everyone', {
    error: (issue) => `"${String(issue.input)}" is not a channel id (C…/G…), a user id (U…/W…), a user-group id (S…) or everyone`,
  });

const actionList = z.array(actionEntry);
const queryList = z.array(queryEntry);

export const AccessRulesSchema = z.strictObject({
  ...(Object.fromEntries(ACCESS_ACTIONS.map((a) => [a, actionList.optional()])) as Record<AccessAction, z.ZodOptional<typeof actionList>>),
  /** Who may read these groups with `/lag`: a command typed in one of the channels, or by one of the people. */
  query: queryList.optional(),
});

/** The top-level section adds how long memberships read from Slack are trusted. */
export const AccessSchema = AccessRulesSchema.extend({
  membershipCacheSeconds: z.number().positive().max(3_600, 'at most 3600 (an hour): a removed member keeps access this long').default(60),
});

export type AccessRulesFile = z.infer<typeof AccessRulesSchema>;
export type AccessFile = z.infer<typeof AccessSchema>;

function grantee(entry: string): Grantee {
  if (entry === 'everyone') return { kind: 'everyone' };
  if (entry === 'channel-members') return { kind: 'channel-members' };
  if (USERGROUP.test(entry)) return { kind: 'usergroup', id: entry };
  if (CHANNEL.test(entry)) return { kind: 'channel', id: entry };
  return { kind: 'user', id: entry };
}

/** Lists that cannot mean what their author wanted: nobody at all, or everyone beside names that add nothing. */
function listProblems(where: string, list: readonly string[] | undefined): string[] {
  if (list === undefined) return [];
  if (list.length === 0) return [`${where}: an empty list lets nobody in; list who may, or leave the key out for the default`];
  if (list.includes('everyone') && list.length > 1) return [`${where}: everyone already includes ${list.filter((e) => e !== 'everyone').join(', ')}; write either everyone or the list`];
  return [];
}

export function accessProblems(where: string, file: AccessRulesFile | undefined): string[] {
  if (!file) return [];
  return [...ACCESS_ACTIONS.flatMap((a) => listProblems(`${where}.${a}`, file[a])), ...listProblems(`${where}.query`, file.query)];
}

function layerOf(file: AccessRulesFile, base: Omit<AccessLayer, 'actions' | 'query'>): AccessLayer {
  const actions: AccessLayer['actions'] = {};
  for (const a of ACCESS_ACTIONS) {
    const list = file[a];
    if (list) actions[a] = list.map(grantee);
  }
  return { ...base, actions, ...(file.query ? { query: file.query.map(grantee) } : {}) };
}

export interface AccessSources {
  access?: AccessRulesFile | undefined;
  clusters: ReadonlyArray<{ name: string; access?: AccessRulesFile | undefined }>;
  groups: ReadonlyArray<{ match?: string | undefined; cluster?: string | undefined; access?: AccessRulesFile | undefined }>;
}

const ruleName = (g: { match?: string | undefined; cluster?: string | undefined }): string =>
  [g.match !== undefined ? `match "${g.match}"` : null, g.cluster !== undefined ? `cluster "${g.cluster}"` : null].filter((x) => x !== null).join(', ');

/** The configuration's access sections as the core's layers. */
export function accessRulesOf(config: AccessSources): AccessRules {
  const all: AccessLayer[] = [];
  if (config.access) all.push(layerOf(config.access, { specificity: SPECIFICITY.global, source: '' }));
  config.clusters.forEach((c, i) => {
    if (c.access) all.push(layerOf(c.access, { cluster: c.name, specificity: SPECIFICITY.cluster, source: `clusters[${i}] (${c.name})` }));
  });
  config.groups.forEach((g, i) => {
    if (!g.access) return;
    const specificity = g.match !== undefined && g.cluster !== undefined ? SPECIFICITY.groupAndCluster : g.match !== undefined ? SPECIFICITY.group : SPECIFICITY.clusterGlob;
    all.push(layerOf(g.access, { ...(g.cluster !== undefined ? { cluster: g.cluster } : {}), ...(g.match !== undefined ? { match: g.match } : {}), specificity, source: `groups[${i}] (${ruleName(g)})` }));
  });
  // A section that sets no key (the top level with only its cache setting) decides nothing.
  return { layers: all.filter((l) => Object.keys(l.actions).length > 0 || l.query !== undefined) };
}

/**
 * Every contradiction in the access sections: empty lists, everyone beside names, and a
 * `groups` rule whose access key can never apply because an earlier rule matching exactly
 * the same groups sets it first.
 */
export function allAccessProblems(config: AccessSources): string[] {
  const problems = [...accessProblems('access', config.access)];
  config.clusters.forEach((c, i) => problems.push(...accessProblems(`clusters[${i}] (${c.name}).access`, c.access)));
  const seen = new Map<string, Map<string, number>>();
  config.groups.forEach((g, i) => {
    if (!g.access) return;
    problems.push(...accessProblems(`groups[${i}] (${ruleName(g)}).access`, g.access));
    const same = `${g.match ?? '\u0000'}\u0001${g.cluster ?? '\u0000'}`;
    const firstSetters = seen.get(same) ?? new Map<string, number>();
    for (const key of [...ACCESS_ACTIONS, 'query'] as const) {
      if (g.access[key] === undefined) continue;
      const first = firstSetters.get(key);
      if (first !== undefined) problems.push(`groups[${i}] (${ruleName(g)}).access.${key} never applies: groups[${first}] matches the same groups and sets access.${key} first`);
      else firstSetters.set(key, i);
    }
    seen.set(same, firstSetters);
  });
  return problems;
}
