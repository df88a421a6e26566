import { historyChart } from '../../src/core/chart.js';
import { DEFAULT_INCIDENT_SETTINGS, step, type IncidentSettings, type Step, type TimelineEntry } from '../../src/core/incident.js';
import { appendSample, sampleOf, type GroupSample } from '../../src/core/history.js';
import { computeGroupLag } from '../../src/core/lag.js';
import type { GroupLag, GroupMember, GroupState, Incident } from '../../src/core/protocol.js';
import { DEFAULT_RULES, evaluate, type Evaluation, type RuleSettings } from '../../src/core/rules.js';
import type { Silence } from '../../src/core/silence.js';

export const CHECK_MS = 30_000;
export const T0 = Date.UTC(2024, 6, 23, 3, 0, 0);

export interface PartitionScript {
  committed: number;
  /** null: the log end could not be read (its leader is down). */
  logEnd: number | null;
  owner?: number | null;
}

export interface GroupScript {
  partitions: PartitionScript[];
  state?: GroupState;
  /** Number of members; member i owns partitions assigned to it via `owner`. */
  members?: number;
  memberPrefix?: string;
  /** Appended to member ids only: a member that rejoined gets a new id, its client id and host stay. */
  memberIdSuffix?: string;
}

/** A read of group `g` at time `at` with the given offsets, members and state. */
export function scriptedLag(at: number, script: GroupScript, group = 'user-events-consumer'): GroupLag {
  const memberCount = script.members ?? script.partitions.length;
  const prefix = script.memberPrefix ?? 'consumer';
  const members: GroupMember[] = Array.from({ length: memberCount }, (_, m) => ({
    memberId: `${prefix}-${m + 1}${script.memberIdSuffix ?? ''}`,
    clientId: `${prefix}-${m + 1}`,
    host: `10.0.1.${14 + m}`,
    assignment: [
      {
        topic: 'user-events',
        partitions: script.partitions.flatMap((p, i) => ((p.owner ?? i % Math.max(1, memberCount)) === m ? [i] : [])),
      },
    ].filter((t) => t.partitions.length > 0),
  }));
  return computeGroupLag(
    {
      cluster: 'default',
      group,
      state: script.state ?? (memberCount > 0 ? 'Stable' : 'Empty'),
      protocol: 'classic',
      protocolType: 'consumer',
      assignmentStrategy: 'range',
      membersVisible: true,
      members,
      committed: script.partitions.map((p, partition) => ({ topic: 'user-events', partition, offset: p.committed })),
    },
    new Map([
      [
        'user-events',
        {
          topic: 'user-events',
          exists: true,
          partitions: script.partitions.flatMap((p, partition) => (p.logEnd === null ? [] : [{ partition, logEndOffset: p.logEnd, logStartOffset: 0 }])),
        },
      ],
    ]),
    at,
  );
}

/** One partition group whose lag is exactly `lag` (produced `lag` more than consumed). */
export function lagOf(lag: number, consumed = 1_000_000): GroupScript {
  return { partitions: [{ committed: consumed, logEnd: consumed + lag }], members: 1 };
}

export interface Run {
  history: GroupSample[];
  incident: Incident | null;
  timeline: TimelineEntry[];
  steps: Step[];
  evaluations: Evaluation[];
  now: number;
}

/** Drives checks every 30 s through the real history, rules and state machine. */
export class Scenario {
  history: GroupSample[] = [];
  incident: Incident | null = null;
  timeline: TimelineEntry[] = [];
  steps: Step[] = [];
  now = T0;
  /** The silences each check is given, as the store would hold them. */
  silences: Silence[] = [];
  private ids = 0;

  constructor(
    readonly rules: RuleSettings = DEFAULT_RULES,
    readonly settings: IncidentSettings = DEFAULT_INCIDENT_SETTINGS,
  ) {}

  check(script: GroupScript): Step {
    const lag = scriptedLag(this.now, script);
    this.history = appendSample(this.history, sampleOf(lag, this.history[this.history.length - 1]), 60 * 60_000);
    const evaluation = evaluate(lag, this.history, this.rules);
    const history = this.history;
    const leadIn = () => historyChart(lag, history, [])?.points ?? [];
    const result = step(this.incident, { kind: 'evaluation', evaluation, channel: 'C0ALERTS', newId: () => `inc-${++this.ids}`, leadIn, silences: this.silences }, this.settings, this.now);
    this.record(result);
    this.now += CHECK_MS;
    return result;
  }

  /** Checks for each lag value in turn. */
  checks(lags: readonly number[], shape: (lag: number, i: number) => GroupScript = (lag) => lagOf(lag)): Step[] {
    return lags.map((lag, i) => this.check(shape(lag, i)));
  }

  click(input: Parameters<typeof step>[1]): Step {
    const result = step(this.incident, input, this.settings, this.now);
    this.record(result);
    return result;
  }

  kinds(): string[] {
    return this.timeline.map((e) => e.kind);
  }

  private record(result: Step): void {
    this.incident = result.incident;
    this.timeline.push(...result.timeline);
    this.steps.push(result);
  }
}

/** `n` values rising linearly from `from` to `to`. */
export function ramp(from: number, to: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(from + ((to - from) * i) / Math.max(1, n - 1)));
}

/**
 * A hot partition whose owner changes: two checks of owner "a", a rebalance, then owner
 * "b" holds it. The incident tests check its structure, the view tests its sentences.
 */
export function hotPartitionChangingOwner(): Scenario {
  const s = new Scenario();
  const hot = (state: 'Stable' | 'PreparingRebalance', prefix: string): GroupScript => ({
    partitions: [
      { committed: 0, logEnd: 10_000 },
      { committed: 0, logEnd: 700_000 },
    ],
    state,
    memberPrefix: prefix,
  });
  s.check(hot('Stable', 'a'));
  s.check(hot('Stable', 'a'));
  s.check(hot('PreparingRebalance', 'a'));
  s.check(hot('Stable', 'b'));
  return s;
}
