import cron from 'node-cron';
import picomatch from 'picomatch';
import { z } from 'zod';
import { FINDING_KINDS, type FindingKind } from '../core/findings.js';
import { DEFAULT_INCIDENT_SETTINGS, type IncidentSettings } from '../core/incident.js';
import { DEFAULT_RULES, type RuleSettings } from '../core/rules.js';
import { groupKey, type GroupRef, type Severity } from '../core/protocol.js';

/**
 * The alerting part of the configuration: what is watched, when a check runs, the
 * thresholds (the case study's by default) and where incidents go. Times are in
 * minutes or seconds as people write them; the core gets milliseconds.
 */

const severity = z.enum(['warning', 'critical', 'page']);
const minutes = z.number().positive();
const slackTarget = z.string().regex(/^(S|U|W)[A-Z0-9]{2,}$|^here$|^channel$/, 'a user group id (S…), a user id (U…/W…), "here" or "channel"');
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'a channel id such as C0123ABCD (not a #name)');

const ThresholdsSchema = z.strictObject({
  warning: z.strictObject({ lag: z.number().int().nonnegative().optional(), growingForMinutes: minutes.optional() }).optional(),
  critical: z.strictObject({ lag: z.number().int().nonnegative().optional(), doublingWithinMinutes: minutes.optional() }).optional(),
  page: z.strictObject({ lag: z.number().int().nonnegative().optional() }).optional(),
});

const SignalsSchema = z.strictObject({
  stallAfterMinutes: minutes.optional(),
  rebalanceWindowMinutes: minutes.optional(),
  rebalanceStormCount: z.number().int().min(2).optional(),
  // Any finding of the catalogue can raise severity: the keys are its kinds.
  raise: z.strictObject(Object.fromEntries(FINDING_KINDS.map((kind) => [kind, severity.optional()])) as Record<FindingKind, z.ZodOptional<typeof severity>>).optional(),
});

const GroupOverrideSchema = z.strictObject({
  match: z.string().min(1),
  channel: channelId.optional(),
  oncall: z.array(slackTarget).optional(),
  thresholds: ThresholdsSchema.optional(),
  signals: SignalsSchema.optional(),
});

/** The top-level sections of the YAML file that alerting reads, under their own names. */
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
      oncall: z.array(slackTarget).default([]),
      renotifyMinutes: minutes.default(15),
      resolveAfterMinutes: minutes.default(5),
      deescalateAfterMinutes: minutes.default(2),
      rootRefreshSeconds: z.number().positive().default(60),
    })
    .prefault({}),
  thresholds: ThresholdsSchema.prefault({}),
  signals: SignalsSchema.prefault({}),
  groups: z.array(GroupOverrideSchema).default([]),
  store: z
    .strictObject({
      path: z.string().min(1).default('lagbot.db'),
      /** Delivered outbox rows are kept this long (for looking into what was sent), then pruned. */
      outboxRetentionDays: z.number().positive().default(7),
    })
    .prefault({}),
});

export type AlertingConfig = z.infer<typeof AlertingSchema>;

export interface GroupAlerting {
  rules: RuleSettings;
  incident: IncidentSettings;
  /** null: alerting is off for this group (no channel configured). */
  channel: string | null;
  oncall: string[];
}

type Thresholds = z.infer<typeof ThresholdsSchema>;
type Signals = z.infer<typeof SignalsSchema>;

const MIN = 60_000;

function rulesFrom(base: RuleSettings, t: Thresholds | undefined, s: Signals | undefined): RuleSettings {
  const raise: Partial<Record<FindingKind, Severity>> = { ...base.signals.raise };
  for (const [kind, level] of Object.entries(s?.raise ?? {})) if (level) raise[kind as FindingKind] = level;
  return {
    rateWindowMs: base.rateWindowMs,
    thresholds: {
      warning: {
        lag: t?.warning?.lag ?? base.thresholds.warning.lag,
        growingForMs: t?.warning?.growingForMinutes !== undefined ? t.warning.growingForMinutes * MIN : base.thresholds.warning.growingForMs,
      },
      critical: {
        lag: t?.critical?.lag ?? base.thresholds.critical.lag,
        doublingWithinMs:
          t?.critical?.doublingWithinMinutes !== undefined ? t.critical.doublingWithinMinutes * MIN : base.thresholds.critical.doublingWithinMs,
      },
      page: { lag: t?.page?.lag ?? base.thresholds.page.lag },
    },
    signals: {
      stallAfterMs: s?.stallAfterMinutes !== undefined ? s.stallAfterMinutes * MIN : base.signals.stallAfterMs,
      rebalanceWindowMs: s?.rebalanceWindowMinutes !== undefined ? s.rebalanceWindowMinutes * MIN : base.signals.rebalanceWindowMs,
      rebalanceStormCount: s?.rebalanceStormCount ?? base.signals.rebalanceStormCount,
      raise,
    },
  };
}

const LEVELS = ['warning', 'critical', 'page'] as const;

/**
 * Thresholds that contradict each other (a warning line above the critical one, a group's
 * critical line below the global warning line it inherits, ...) would make severities that
 * can never happen or always skip a level: refused at start, naming the keys that clash.
 */
export function thresholdProblems(config: AlertingConfig): string[] {
  const count = new Intl.NumberFormat('en-US');
  const problems: string[] = [];
  type Level = (typeof LEVELS)[number];
  const check = (where: (level: Level) => string, rules: RuleSettings, owns: (level: Level) => boolean = () => true) => {
    for (let i = 0; i + 1 < LEVELS.length; i += 1) {
      const [low, high] = [LEVELS[i] as Level, LEVELS[i + 1] as Level];
      if (!owns(low) && !owns(high)) continue;
      const lowLag = rules.thresholds[low].lag;
      const highLag = rules.thresholds[high].lag;
      if (lowLag >= highLag) {
        problems.push(`${where(low)} (${count.format(lowLag)}) must be below ${where(high)} (${count.format(highLag)}): each severity's line lies above the one before it`);
      }
    }
  };
  const global = rulesFrom(DEFAULT_RULES, config.thresholds, config.signals);
  const globalKey = (level: Level) =>
    config.thresholds[level]?.lag !== undefined ? `thresholds.${level}.lag` : `the default ${level} line`;
  check(globalKey, global);
  config.groups.forEach((g, i) => {
    const key = (level: Level) =>
      g.thresholds?.[level]?.lag !== undefined ? `groups[${i}] (match "${g.match}") thresholds.${level}.lag` : globalKey(level);
    // Only contradictions this entry brings in; the global ones are reported once, above.
    check(key, rulesFrom(global, g.thresholds, g.signals), (level) => g.thresholds?.[level]?.lag !== undefined);
  });
  return problems;
}

/** Settings per group: global ones, with the first matching `groups` entry on top. */
export class AlertingPolicy {
  private readonly global: GroupAlerting;
  private readonly overrides: Array<{ matches: (g: string) => boolean; settings: GroupAlerting }>;
  private readonly included: (g: string) => boolean;
  private readonly excluded: (g: string) => boolean;
  private readonly cache = new Map<string, GroupAlerting>();

  constructor(readonly config: AlertingConfig) {
    const a = config.alerting;
    const rules = rulesFrom({ ...DEFAULT_RULES, rateWindowMs: config.check.rateWindowMinutes * MIN }, config.thresholds, config.signals);
    const incident = (r: RuleSettings): IncidentSettings => ({
      ...DEFAULT_INCIDENT_SETTINGS,
      resolveAfterMs: a.resolveAfterMinutes * MIN,
      deescalateAfterMs: a.deescalateAfterMinutes * MIN,
      renotifyAfterMs: a.renotifyMinutes * MIN,
      rootRefreshMs: a.rootRefreshSeconds * 1000,
      warningLag: r.thresholds.warning.lag,
    });
    this.global = { rules, incident: incident(rules), channel: a.channel ?? null, oncall: a.oncall };
    this.overrides = config.groups.map((g) => {
      const r = rulesFrom(rules, g.thresholds, g.signals);
      return {
        matches: picomatch(g.match, { dot: true }),
        settings: { rules: r, incident: incident(r), channel: g.channel ?? this.global.channel, oncall: g.oncall ?? this.global.oncall },
      };
    });
    this.included = picomatch(config.watch.include, { dot: true });
    this.excluded = config.watch.exclude.length > 0 ? picomatch(config.watch.exclude, { dot: true }) : () => false;
  }

  /** Whether a group is watched by the scheduled checks (`/lag` answers for every group). */
  watches(ref: GroupRef): boolean {
    return this.included(ref.group) && !this.excluded(ref.group);
  }

  forGroup(ref: GroupRef): GroupAlerting {
    const key = groupKey(ref);
    let settings = this.cache.get(key);
    if (!settings) {
      settings = this.overrides.find((o) => o.matches(ref.group))?.settings ?? this.global;
      this.cache.set(key, settings);
    }
    return settings;
  }

  /** Settings of the findings detectors, for one-off reads such as `/lag`. */
  get findingSettings(): RuleSettings['signals'] {
    return this.global.rules.signals;
  }

  /** The channel for lagbot's own notices (monitoring degraded/recovered). */
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
