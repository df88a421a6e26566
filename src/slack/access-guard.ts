import {
  decideAction,
  decideQuery,
  lookupsFor,
  queryIsOpen,
  queryRules,
  actionRuleFor,
  type AccessAction,
  type ActionTarget,
  type Refusal,
  type AccessRules,
  type Decision,
  type Facts,
  type Membership,
  type Unreadable,
} from '../core/access.js';
import type { LagRequest } from '../core/command.js';
import type { LagQueryDeps } from '../core/lag-query.js';
import type { GroupRef } from '../core/protocol.js';
import type { SilenceTarget } from '../core/silence.js';
import type { Logger } from '../log/logger.js';
import { queryRefusedText } from '../views/access-text.js';
import { MembershipReadError, type MembershipCache } from './memberships.js';

/**
 * The one place where the access rules meet Slack: every listener that acts on an incident
 * or answers `/lag` asks here first. The guard reads the memberships a decision needs
 * (cached), and the core decides.
 */

/** The asker's `/lag` rights, decided group by group over memberships read once per request. */
export interface QueryScope {
  decide(ref: GroupRef): Decision;
  /** Memberships the rules need that could not be read: a listing would hide groups without saying why. */
  unreadable: Unreadable[];
}

const OPEN_SCOPE: QueryScope = { decide: () => ({ allowed: true, by: { kind: 'everyone' }, rule: 'the default (everyone)' }), unreadable: [] };

/** Where the rules need to know the configuration: the clusters, and each group's incident channel. */
export interface AccessWhere {
  clusters: readonly string[];
  /** The channel a group's incidents go to; null when it alerts nowhere. */
  channelOf: (ref: GroupRef) => string | null;
}

export class AccessGuard {
  constructor(
    private readonly rules: AccessRules,
    private readonly memberships: MembershipCache,
    private readonly logger: Logger,
    private readonly where: AccessWhere,
  ) {}

  /**
   * Whether `actor` may silence (or end a silence of) `target`. A glob is decided by the rules
   * whose match its own text matches, on every cluster it covers; a whole cluster by the
   * cluster's rules. `channel-members` are those of the group's incident channel, or of the
   * channel the command was typed in (`typedIn`) where the group alerts nowhere.
   */
  async maySilence(actor: string, target: SilenceTarget, typedIn?: string): Promise<Decision> {
    const refs = this.refsOf(target);
    let allowed: Decision | null = null;
    for (const ref of refs) {
      const decision = await this.mayAct(actor, 'silence', { ...ref, channel: this.where.channelOf(ref) ?? typedIn ?? '' });
      if (!decision.allowed) return decision;
      allowed ??= decision;
    }
    return allowed ?? { allowed: false, rule: 'access.silence', grantees: [], unreadable: [] };
  }

  /** The silences `actor` may read of, by the query rules: a listing tells no names they may not read. */
  async readableSilences<T extends { target: SilenceTarget }>(actor: string, typedIn: string | undefined, silences: readonly T[]): Promise<T[]> {
    const scope = await this.queryScope(actor, typedIn);
    return silences.filter((s) => this.refsOf(s.target).some((ref) => scope.decide(ref).allowed));
  }

  /** The groups a silence covers, as the rules see them: its pattern on each of its clusters, or a whole cluster as `*`. */
  private refsOf(target: SilenceTarget): GroupRef[] {
    if (target.kind === 'cluster') return [{ cluster: target.cluster, group: '*' }];
    return (target.cluster !== null ? [target.cluster] : this.where.clusters).map((cluster) => ({ cluster, group: target.pattern }));
  }

  /** Whether `actor` may take `action` on an incident of `target` (also for silence and reassign handlers). */
  async mayAct(actor: string, action: AccessAction, target: ActionTarget): Promise<Decision> {
    const rule = actionRuleFor(this.rules, action, target);
    const facts = await this.facts(actor, lookupsFor([rule], actor), { channel: target.channel });
    return decideAction(this.rules, { action, target }, facts);
  }

  /** What `actor`, typing in `channel`, may read with `/lag`. */
  async queryScope(actor: string, channel: string | undefined): Promise<QueryScope> {
    if (queryIsOpen(this.rules)) return OPEN_SCOPE;
    const facts = await this.facts(actor, lookupsFor(queryRules(this.rules), actor, channel), channel !== undefined ? { asked: channel } : {});
    const unreadable = [...facts.userGroups].flatMap(([id, m]): Unreadable[] => (m.ok ? [] : [{ what: { kind: 'usergroup', id }, error: m.error }]));
    return { decide: (ref) => decideQuery(this.rules, ref, facts), unreadable };
  }

  private async facts(actor: string, lookups: { userGroups: string[]; channelMembers: boolean }, where: { asked?: string; channel?: string }): Promise<Facts> {
    const read = async (what: string, members: () => Promise<ReadonlySet<string>>): Promise<Membership> => {
      try {
        return { ok: true, member: (await members()).has(actor) };
      } catch (error) {
        const code = error instanceof MembershipReadError ? error.code : error instanceof Error ? error.message : String(error);
        this.logger.warn({ actor, what, error: code }, `access: could not read ${what} from Slack; refusing what depends on it`);
        return { ok: false, error: code };
      }
    };
    const groups = await Promise.all(lookups.userGroups.map(async (id) => [id, await read(`the members of user group ${id}`, () => this.memberships.usergroup(id))] as const));
    const channel = where.channel;
    // No channel (a group that alerts nowhere, asked from nowhere): channel-members lets no one in.
    const channelMembers = lookups.channelMembers && channel ? await read(`the members of channel ${channel}`, () => this.memberships.channel(channel)) : undefined;
    return { actor, ...(where.asked !== undefined ? { channel: where.asked } : {}), userGroups: new Map(groups), ...(channelMembers ? { channelMembers } : {}) };
  }
}

export type ScopedQuery = { ok: true; query: LagQueryDeps } | { ok: false; text: string };

/**
 * `/lag` within the asker's rights: a group outside them is refused in words that depend on
 * the request and the rules only (never on whether the group exists), and a listing or the
 * closest names of a missing group hold only what the asker may read.
 */
export async function scopeLagQuery(guard: AccessGuard, query: LagQueryDeps, request: LagRequest, asker: { user: string; channel: string | undefined }): Promise<ScopedQuery> {
  if (request.kind === 'help') return { ok: true, query };
  const scope = await guard.queryScope(asker.user, asker.channel);
  if (scope === OPEN_SCOPE) return { ok: true, query };
  const visible = (ref: GroupRef): boolean => scope.decide(ref).allowed;
  const asked = request.cluster === undefined ? query.sources : query.sources.filter((s) => s.cluster === request.cluster);
  // An unknown cluster name gets the list of known ones, which is configuration, not Kafka.
  if (asked.length === 0) return { ok: true, query };

  if (request.kind === 'list') {
    if (scope.unreadable.length > 0) return { ok: false, text: queryRefusedText({ allowed: false, rule: 'access.query', grantees: [], unreadable: scope.unreadable }) };
    return { ok: true, query: { ...query, visible } };
  }
  const decisions = asked.map((s) => ({ source: s, decision: scope.decide({ cluster: s.cluster, group: request.group }) }));
  const allowed = decisions.filter((d) => d.decision.allowed).map((d) => d.source);
  if (allowed.length === 0) {
    const refusals = decisions.map((d) => d.decision).filter((d): d is Refusal => !d.allowed);
    const refusal = refusals.find((r) => r.unreadable.length > 0) ?? (refusals[0] as Refusal);
    return { ok: false, text: queryRefusedText(refusal) };
  }
  // The cluster filter stays the caller's: with it, the answer keeps naming the cluster asked.
  return { ok: true, query: { ...query, sources: allowed, visible } };
}

