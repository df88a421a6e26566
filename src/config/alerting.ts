import cron from 'node-cron';
import picomatch from 'picomatch';
import { z } from 'zod';
import { FINDING_KINDS, type FindingKind } from '../core/findings.js';
import { NO_ESCALATION, type EscalationPolicy } from '../core/escalation.js';
import { DEFAULT_INCIDENT_SETTINGS, type IncidentSettings } from '../core/incident.js';
import { DEFAULT_RULES, type RuleSettings } from '../core/rules.js';
import { groupKey, type GroupRef, type Severity } from '../core/protocol.js';
import { AccessRulesSchema, AccessSchema } from './access.js';

/**
 * The alerting part of the configuration: what is watched, when a check runs, the
 * thresholds (the case study's by default) and where incidents go. Times are in
 * minutes or seconds as people write them; the core gets milliseconds.
 */

const severity = z.enum(['warning', 'critical', 'page']);
const minutes = z.number().positive();
const slackTarget = z.string().regex(/^(S|U|W)[A-Z0-9]{2,}$|^here$|^channel$/, 'a user group id (S…), a user id (U…/W…), "here" or "channel"');
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'a channel id such as C0123ABCD (not a #name)');

const lagLine = z.number().int().nonnegative();
/** Staleness in seconds beside (or instead of writing) the lag line: either fires. */
const secondsLine = z.number().positive();
const ThresholdsSchema = z.strictObject({
  warning: z.strictObject({ lag: lagLine.optional(), seconds: secondsLine.optional(), growingForMinutes: minutes.optional() }).optional(),
  critical: z.strictObject({ lag: lagLine.optional(), seconds: secondsLine.optional(), doublingWithinMinutes: minutes.optional() }).optional(),
  page: z.strictObject({ lag: lagLine.optional(), seconds: secondsLine.optional() }).optional(),
});

const SHARE = "a share above 0 and below 1, e.g. 0.25 (a quarter of the other partitions' rate)";

const SignalsSchema = z.strictObject({
  stallAfterMinutes: minutes.optional(),
  rebalanceWindowMinutes: minutes.optional(),
  rebalanceStormCount: z.number().int().min(2).optional(),
  /** A partition consumed at this share of its siblings' rate or less, while falling behind, is slow. */
  slowConsumerRatio: z.number().gt(0, SHARE).lt(1, SHARE).optional(),
  /** A produce rate this many times its median over the history or more is a traffic spike. */
  trafficSpikeRatio: z.number().gt(1, 'a factor above 1, e.g. 2 (twice the median produce rate)').optional(),
  // Any finding of the catalogue can raise severity: the keys are its kinds.
  raise: z.strictObject(Object.fromEntries(FINDING_KINDS.map((kind) => [kind, severity.optional()])) as Record<FindingKind, z.ZodOptional<typeof severity>>).optional(),
});

/**
 * An escalation policy: levels notified one after the other while nobody acknowledges,
 * the whole list run `repeat` more times, from the severity `startsAt`.
 */
const REPEAT = 'a whole number of rounds after the first (0 or more), or "forever"';
const EscalationSchema = z.strictObject({
  startsAt: severity.default('page'),
  /** Rounds after the first; `forever`: until someone acknowledges. */
  repeat: z.union([z.number().int(REPEAT).nonnegative(REPEAT), z.literal('forever')], { message: REPEAT }).default(0),
  levels: z
    .array(
      z.strictObject({
        notify: z.array(slackTarget).min(1, 'a level needs someone to notify'),
        /** How long this level has to acknowledge before the next one is notified. */
        waitMinutes: minutes,
      }),
    )
    .min(1, 'an escalation policy needs at least one level'),
});

type EscalationConfig = z.infer<typeof EscalationSchema>;

const GroupOverrideSchema = z.strictObject({
  /** A glob over group ids; every group when absent. */
  match: z.string().min(1).optional(),
  /** A glob over cluster names, such as prod-*; every cluster when absent. */
  cluster: z.string().min(1).optional(),
  channel: channelId.optional(),
  /** The short form of a one-level policy (see policyOf); refused beside `escalation`. */
  oncall: z.array(slackTarget).optional(),
  escalation: EscalationSchema.optional(),
  thresholds: ThresholdsSchema.optional(),
  signals: SignalsSchema.optional(),
  /** Who may act on these groups' incidents and read them with /lag; the most specific rule setting a key wins. */
  access: AccessRulesSchema.optional(),
});

/** The top-level sections of the YAML file that alerting reads, under their own names. */
/** postgres://user@host:port/database, with no password in it: a config file is no place for one. */
const PostgresUrl = z
  .string()
  .refine((u) => URL.canParse(u) && ['postgres:', 'postgresql:'].includes(new URL(u).protocol), { message: 'a postgres:// URL, e.g. postgres://lagbot@db.internal:5432/lagbot' })
  .refine((u) => !URL.canParse(u) || new URL(u).password === '', { message: 'no password in the URL: lagbot reads it from the PGPASSWORD environment variable' })
  .refine((u) => !URL.canParse(u) || new URL(u).pathname.length > 1, { message: 'name the database at the end of the URL, e.g. postgres://lagbot@db.internal:5432/lagbot' });

/** Where lagbot keeps its state: the SQLite file (the default) or a PostgreSQL database. */
export type StoreTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export const DEFAULT_STORE_PATH = 'lagbot.db';

/** How messages name the store: the file, or the URL (which holds no password). */
export function storeName(target: StoreTarget): string {
  return target.kind === 'sqlite' ? target.path : target.url;
}

export function storeTarget(store: { path?: string | undefined; url?: string | undefined }): StoreTarget {
  return store.url !== undefined ? { kind: 'postgres', url: store.url } : { kind: 'sqlite', path: store.path ?? DEFAULT_STORE_PATH };
}

export const AlertingSchema = z.strictObject({
  check: z
    .strictObject({
      /** node-cron expression with a seconds field. */
      schedule: z
        .string()
        .refine((e) => cron.validate(e), 'a node-cron expression, e.g. "*/30 * * * * *" (seconds first) or "* * * * *"')
        .default('*/30 * * * * *'),
      historyMinutes: minutes.default(60),
      rateWindowMinutes: minutes.default(2),
      /** A partition whose log end stood still this long is idle: 0 s stale, and its lag alone never alerts. */
      idleAfterMinutes: minutes.default(5),
      degradedAfterFailures: z.number().int().min(1).default(3),
    })
    .prefault({}),
  watch: z
    .strictObject({
      include: z.array(z.string().min(1)).default(['*']),
      exclude: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  alerting: z
    .strictObject({
      channel: channelId.optional(),
      // No defaults here: beside `escalation`, either one set is a contradiction (escalationProblems).
      oncall: z.array(slackTarget).optional(),
      renotifyMinutes: minutes.optional(),
      escalation: EscalationSchema.optional(),
      resolveAfterMinutes: minutes.default(5),
      deescalateAfterMinutes: minutes.default(2),
      rootRefreshSeconds: z.number().positive().default(60),
    })
    .prefault({}),
  thresholds: ThresholdsSchema.prefault({}),
  signals: SignalsSchema.prefault({}),
  groups: z
    .array(GroupOverrideSchema.refine((g) => g.match !== undefined || g.cluster !== undefined, { message: 'a groups entry needs match (a group glob), cluster (a cluster glob), or both' }))
    .default([]),
  access: AccessSchema.prefault({}),
  store: z
    .strictObject({
      /** The SQLite file (the default store, `lagbot.db`): one replica. */
      path: z.string().min(1).optional(),
      /** A PostgreSQL database instead, for two or more replicas; the password comes from PGPASSWORD. */
      url: PostgresUrl.optional(),
      /** Delivered outbox rows are kept this long (for looking into what was sent), then pruned. */
      outboxRetentionDays: z.number().positive().default(7),
    })
    .refine((s) => s.path === undefined || s.url === undefined, {
      message: 'store.path (SQLite) and store.url (PostgreSQL) name two different stores; lagbot keeps one: set store.url for PostgreSQL or store.path for SQLite, not both',
    })
    .prefault({}),
});

export type AlertingConfig = z.infer<typeof AlertingSchema>;

export interface GroupAlerting {
  rules: RuleSettings;
  incident: IncidentSettings;
  /** null: alerting is off for this group (no channel configured). */
  channel: string | null;
}

type Thresholds = z.infer<typeof ThresholdsSchema>;
type Signals = z.infer<typeof SignalsSchema>;

const MIN = 60_000;
const RENOTIFY_MINUTES = 15;

/**
 * The escalation policy of a settings block. `oncall` is the short form of a one-level
 * policy: those people, from page, again every `renotifyMinutes` until acknowledged, as
 * lagbot did before policies. Nobody to notify: no policy.
 */
function policyOf(escalation: EscalationConfig | undefined, oncall: readonly string[] | undefined, renotifyMinutes: number | undefined): EscalationPolicy {
  if (escalation) {
    return {
      startsAt: escalation.startsAt,
      repeat: escalation.repeat === 'forever' ? null : escalation.repeat,
      levels: escalation.levels.map((l) => ({ notify: l.notify, waitMs: l.waitMinutes * MIN })),
    };
  }
  if (!oncall || oncall.length === 0) return NO_ESCALATION;
  return { startsAt: 'page', repeat: null, levels: [{ notify: oncall, waitMs: (renotifyMinutes ?? RENOTIFY_MINUTES) * MIN }] };
}

/**
 * `oncall` (with `renotifyMinutes`) and `escalation` say the same thing two ways: set
 * together, one of them would be silently ignored, so lagbot refuses to start.
 */
export function escalationProblems(config: AlertingConfig): string[] {
  const problems: string[] = [];
  const a = config.alerting;
  if (a.escalation && a.oncall !== undefined) {
    problems.push('alerting.oncall and alerting.escalation are both set: oncall is the short form of a one-level escalation policy; keep one of them');
  }
  if (a.escalation && a.renotifyMinutes !== undefined) {
    problems.push("alerting.renotifyMinutes and alerting.escalation are both set: renotifyMinutes goes with alerting.oncall; with a policy, each level's waitMinutes says when the next level is notified");
  }
  config.groups.forEach((g, i) => {
    if (g.escalation && g.oncall !== undefined) {
      problems.push(`groups[${i}] (${ruleName(g)}): oncall and escalation are both set: oncall is the short form of a one-level escalation policy; keep one of them`);
    }
  });
  return problems;
}

function rulesFrom(base: RuleSettings, t: Thresholds | undefined, s: Signals | undefined): RuleSettings {
  const raise: Partial<Record<FindingKind, Severity>> = { ...base.signals.raise };
  for (const [kind, level] of Object.entries(s?.raise ?? {})) if (level) raise[kind as FindingKind] = level;
  return {
    staleness: base.staleness,
    thresholds: {
      warning: {
        lag: t?.warning?.lag ?? base.thresholds.warning.lag,
        seconds: t?.warning?.seconds ?? base.thresholds.warning.seconds,
        growingForMs: t?.warning?.growingForMinutes !== undefined ? t.warning.growingForMinutes * MIN : base.thresholds.warning.growingForMs,
      },
      critical: {
        lag: t?.critical?.lag ?? base.thresholds.critical.lag,
        seconds: t?.critical?.seconds ?? base.thresholds.critical.seconds,
        doublingWithinMs:
          t?.critical?.doublingWithinMinutes !== undefined ? t.critical.doublingWithinMinutes * MIN : base.thresholds.critical.doublingWithinMs,
      },
      page: { lag: t?.page?.lag ?? base.thresholds.page.lag, seconds: t?.page?.seconds ?? base.thresholds.page.seconds },
    },
    signals: {
      stallAfterMs: s?.stallAfterMinutes !== undefined ? s.stallAfterMinutes * MIN : base.signals.stallAfterMs,
      rebalanceWindowMs: s?.rebalanceWindowMinutes !== undefined ? s.rebalanceWindowMinutes * MIN : base.signals.rebalanceWindowMs,
      rebalanceStormCount: s?.rebalanceStormCount ?? base.signals.rebalanceStormCount,
      rateWindowMs: base.signals.rateWindowMs,
      slowConsumerRatio: s?.slowConsumerRatio ?? base.signals.slowConsumerRatio,
      trafficSpikeRatio: s?.trafficSpikeRatio ?? base.signals.trafficSpikeRatio,
      raise,
    },
  };
}

const LEVELS = ['warning', 'critical', 'page'] as const;

/** A `groups` entry whose cluster glob matches no configured cluster is a routing rule that silently never applies. */
export function clusterRuleProblems(config: AlertingConfig, clusters: readonly string[]): string[] {
  return config.groups.flatMap((g, i) => {
    if (g.cluster === undefined) return [];
    const matches = picomatch(g.cluster, { dot: true });
    return clusters.some((name) => matches(name)) ? [] : [`groups[${i}] (${ruleName(g)}): the cluster glob matches none of the clusters (${clusters.join(', ')}), so the rule would never apply`];
  });
}

/** How a `groups` entry is named in messages: what it matches. */
function ruleName(g: z.infer<typeof GroupOverrideSchema>): string {
  return [g.match !== undefined ? `match "${g.match}"` : null, g.cluster !== undefined ? `cluster "${g.cluster}"` : null].filter((x) => x !== null).join(', ');
}

/** What the policy needs of each cluster: its own watch list and channel, when it has them. */
export interface ClusterAlerting {
  name: string;
  watch: { include: string[]; exclude: string[] } | null;
  channel: string | null;
}

type GroupFilter = (group: string) => boolean;

function watchFilter(watch: { include: string[]; exclude: string[] }): GroupFilter {
  const included = picomatch(watch.include, { dot: true });
  const excluded = watch.exclude.length > 0 ? picomatch(watch.exclude, { dot: true }) : () => false;
  return (group) => included(group) && !excluded(group);
}

/**
 * Thresholds that contradict each other (a warning line above the critical one, a group's
 * critical line below the global warning line it inherits, ...) would make severities that
 * can never happen or always skip a level: refused at start, naming the keys that clash.
 */
export function thresholdProblems(config: AlertingConfig): string[] {
  const count = new Intl.NumberFormat('en-US');
  const problems: string[] = [];
  type Level = (typeof LEVELS)[number];
  type Line = 'lag' | 'seconds';
  const shown = (line: Line, value: number) => (line === 'lag' ? count.format(value) : `${value} s`);
  const check = (where: (level: Level, line: Line) => string, rules: RuleSettings, owns: (level: Level, line: Line) => boolean = () => true) => {
    for (const line of ['lag', 'seconds'] as const) {
      // Seconds lines are optional per level: each one set lies above the lower ones set.
      const set = LEVELS.filter((level) => rules.thresholds[level][line] !== null);
      for (let i = 0; i + 1 < set.length; i += 1) {
        const [low, high] = [set[i] as Level, set[i + 1] as Level];
        if (!owns(low, line) && !owns(high, line)) continue;
        const lowValue = rules.thresholds[low][line] as number;
        const highValue = rules.thresholds[high][line] as number;
        if (lowValue >= highValue) {
          const what = line === 'lag' ? 'line' : 'staleness line';
          problems.push(`${where(low, line)} (${shown(line, lowValue)}) must be below ${where(high, line)} (${shown(line, highValue)}): each severity's ${what} lies above the one before it`);
        }
      }
    }
  };
  const global = rulesFrom(DEFAULT_RULES, config.thresholds, config.signals);
  const globalKey = (level: Level, line: Line) =>
    config.thresholds[level]?.[line] !== undefined ? `thresholds.${level}.${line}` : line === 'lag' ? `the default ${level} line` : `thresholds.${level}.seconds`;
  check(globalKey, global);
  config.groups.forEach((g, i) => {
    const key = (level: Level, line: Line) =>
      g.thresholds?.[level]?.[line] !== undefined ? `groups[${i}] (${ruleName(g)}) thresholds.${level}.${line}` : globalKey(level, line);
    // Only contradictions this entry brings in; the global ones are reported once, above.
    check(key, rulesFrom(global, g.thresholds, g.signals), (level, line) => g.thresholds?.[level]?.[line] !== undefined);
  });
  return problems;
}

/**
 * Settings per group: global ones, with the first matching `groups` entry on top. A
 * cluster's own watch list and channel stand in for the global ones on that cluster.
 */
export class AlertingPolicy {
  private readonly global: GroupAlerting;
  private readonly overrides: Array<{ matches: (ref: GroupRef) => boolean; thresholds: Thresholds | undefined; signals: Signals | undefined; entry: z.infer<typeof GroupOverrideSchema> }>;
  private readonly watchOf: (cluster: string) => GroupFilter;
  private readonly clusterChannel: (cluster: string) => string | null;
  private readonly cache = new Map<string, GroupAlerting>();
  private readonly incidentSettings: (r: RuleSettings, escalation?: EscalationPolicy) => IncidentSettings;

  /** `clusters`: every configured cluster; without them, a cluster's own watch list and channel would be ignored. */
  constructor(
    readonly config: AlertingConfig,
    clusters: readonly ClusterAlerting[],
  ) {
    const a = config.alerting;
    const rules = rulesFrom(
      { ...DEFAULT_RULES, signals: { ...DEFAULT_RULES.signals, rateWindowMs: config.check.rateWindowMinutes * MIN }, staleness: { idleAfterMs: config.check.idleAfterMinutes * MIN } },
      config.thresholds,
      config.signals,
    );
    const globalPolicy = policyOf(a.escalation, a.oncall, a.renotifyMinutes);
    this.incidentSettings = (r: RuleSettings, escalation: EscalationPolicy = globalPolicy): IncidentSettings => ({
      ...DEFAULT_INCIDENT_SETTINGS,
      resolveAfterMs: a.resolveAfterMinutes * MIN,
      deescalateAfterMs: a.deescalateAfterMinutes * MIN,
      escalation,
      rootRefreshMs: a.rootRefreshSeconds * 1000,
      warningLag: r.thresholds.warning.lag,
    });
    this.global = { rules, incident: this.incidentSettings(rules), channel: a.channel ?? null };
    this.overrides = config.groups.map((g) => {
      const group = g.match !== undefined ? picomatch(g.match, { dot: true }) : () => true;
      const cluster = g.cluster !== undefined ? picomatch(g.cluster, { dot: true }) : () => true;
      return { matches: (ref: GroupRef) => group(ref.group) && cluster(ref.cluster), thresholds: g.thresholds, signals: g.signals, entry: g };
    });
    const globalWatch = watchFilter(config.watch);
    const byCluster = new Map(clusters.map((c) => [c.name, c]));
    const watches = new Map(clusters.map((c) => [c.name, c.watch ? watchFilter(c.watch) : globalWatch]));
    this.watchOf = (cluster) => watches.get(cluster) ?? globalWatch;
    this.clusterChannel = (cluster) => byCluster.get(cluster)?.channel ?? null;
  }

  /** Whether a group is watched by the scheduled checks (`/lag` answers for every group). */
  watches(ref: GroupRef): boolean {
    return this.watchOf(ref.cluster)(ref.group);
  }

  forGroup(ref: GroupRef): GroupAlerting {
    const key = groupKey(ref);
    let settings = this.cache.get(key);
    if (!settings) {
      const home = this.channelFor(ref.cluster);
      const override = this.overrides.find((o) => o.matches(ref));
      if (override) {
        const r = rulesFrom(this.global.rules, override.thresholds, override.signals);
        const { escalation, oncall } = override.entry;
        // A rule's own policy or oncall replaces the default policy; without either it inherits it.
        const policy = escalation || oncall ? policyOf(escalation, oncall, this.config.alerting.renotifyMinutes) : undefined;
        settings = { rules: r, incident: this.incidentSettings(r, policy), channel: override.entry.channel ?? home };
      } else {
        settings = { ...this.global, channel: home };
      }
      this.cache.set(key, settings);
    }
    return settings;
  }

  /** Where a cluster's incidents and notices go unless a `groups` entry says otherwise. */
  channelFor(cluster: string): string | null {
    return this.clusterChannel(cluster) ?? this.global.channel;
  }

  /** Settings of the findings detectors, for one-off reads such as `/lag`. */
  get findingSettings(): RuleSettings['signals'] {
    return this.global.rules.signals;
  }

  /** The global channel (`alerting.channel`). */
  get defaultChannel(): string | null {
    return this.global.channel;
  }

  get historyMs(): number {
    return this.config.check.historyMinutes * MIN;
  }

  get degradedAfterFailures(): number {
    return this.config.check.degradedAfterFailures;
  }
}
