import { randomUUID } from 'node:crypto';
import type { AlertingPolicy, GroupAlerting } from '../config/alerting.js';
import type { AccessAction, Refusal } from '../core/access.js';
import { chartThresholds, historyChart } from '../core/chart.js';
import { changesHome, standingOf, type GroupStanding } from '../core/home.js';
import { alreadyResolved, step, type IncidentInput, type Notice, type Step } from '../core/incident.js';
import { HEALTHY, onCheck, type CheckOutcome, type MonitoringState } from '../core/monitoring.js';
import { IncidentChangedError, type Clock, type HistoryStore, type IncidentStore, type LagSource, type OpenIncidentList } from '../core/ports.js';
import { groupKey, type GroupLag, type Incident, type SlackEffect } from '../core/protocol.js';
import { anchorAsks, askBrokerTimes, exactAsks, NO_BROKER_TIMES, type BrokerTimes } from '../core/broker-times.js';
import { partitionKey, type GroupSample } from '../core/history.js';
import type { PartitionOffset, PartitionRef, RecordTimeSource } from '../core/record-time.js';
import type { PartitionTimes } from '../core/staleness.js';
import type { Evaluation } from '../core/rules.js';
import type { Logger } from '../log/logger.js';
import type { HealthState } from '../metrics/health.js';
import type { LagMetrics } from '../metrics/metrics.js';
import type { MonitorEffect } from './effects.js';
import { GroupHistories } from './histories.js';
import { Serial } from './serial.js';
import type { SilencesAtCheck } from './silences.js';
import { clusterSilenced, type Silence } from '../core/silence.js';

export interface MonitorDeps {
  source: Pick<LagSource, 'cluster' | 'readAllGroups'>;
  /** The check reads all open incidents once (one query), not one per group. */
  store: IncidentStore & OpenIncidentList;
  /** Where the groups' histories outlive the process; without it they start empty on every start. */
  history?: HistoryStore;
  policy: AlertingPolicy;
  clock: Clock;
  logger: Logger;
  /** How effects become Slack messages: the composition root's choice, not the monitor's. */
  render: (effects: readonly MonitorEffect[]) => SlackEffect[];
  metrics?: LagMetrics;
  health?: HealthState;
  /** Told after each commit that the outbox has new work. */
  delivery?: { kick(): void };
  /** Told when an incident changed what the App Home tab shows of it (see changesHome). */
  home?: { incidentChanged(): void };
  newId?: () => string;
  /** The broker's record timestamps: exact staleness of open incidents' hot partitions, anchors where the history cannot tell. */
  recordTimes?: RecordTimeSource;
  /** The silences and maintenance windows each check applies; none without it. */
  silences?: SilencesAtCheck;
  /** Other replicas show this one's standings (the App Home tab of a standby): each check keeps them in the store. */
  shareStandings?: boolean;
}

/** Bounds on what a check asks the broker about time, so it never costs the check its cycle. */
const EXACT_PER_INCIDENT = 3;
const EXACT_PER_CHECK = 30;
const ANCHORS_PER_CHECK = 500;
const ANCHOR_MAX_AGE_MS = 5 * 60_000;
const BROKER_TIMES_DEADLINE_MS = 2_000;

export interface GroupVerdict {
  group: string;
  evaluation: Evaluation;
  incident: Incident | null;
  alerting: boolean;
}

export type CheckReport =
  | { ok: true; at: number; durationMs: number; verdicts: GroupVerdict[] }
  | { ok: false; at: number; durationMs: number; error: string; consecutiveFailures: number };

/** What a person can do to an incident: the core's inputs of a click, without the clicker (a refusal is told by the gate, never clicked). */
type ClickInput = Exclude<IncidentInput, { kind: 'evaluation' } | { kind: 'refused' }>;
export type IncidentAction = ClickInput extends infer T ? (T extends ClickInput ? Omit<T, 'user'> : never) : never;

const monitoringKey = (cluster: string): string => `monitoring:${cluster}`;
const standingsKey = (cluster: string): string => `standings:${cluster}`;

/**
 * One check cycle: read every watched group, extend its history, evaluate the rules,
 * advance its incident, and commit the incident with its Slack effects. The Kafka read comes
 * first; everything after it (the broker's record times, the silences, each group's step)
 * runs as one serial section with the button clicks, so a click can never see half a check,
 * though the store answers asynchronously.
 */
export class LagMonitor {
  private histories: GroupHistories;
  private readonly newId: () => string;
  /**
   * Whether the previous check of this process read the cluster. When it did not (it failed,
   * or this is the first check since start), the time since is a gap: no hold counts it.
   */
  private sawPreviousCheck = false;
  /** Whether this term's checks have taken in what the store held (once per term, at the first check). */
  private caughtUp = false;
  /** The newest time of this monitor's history that is also in the store: the next catch-up reads after it. */
  private storedTo: number | null = null;
  /** Anchors the broker gave, by partition, and when. */
  private readonly anchors = new Map<string, { at: number; times: PartitionTimes }>();
  /** The groups of the latest successful check, headlines only (the App Home tab's); null before one. */
  private standings: GroupStanding[] | null = null;
  private readonly serial = new Serial();
  /** The silences the last check could read: a store that fails once does not unsilence anything. */
  private silences: readonly Silence[] = [];

  constructor(private readonly deps: MonitorDeps) {
    this.newId = deps.newId ?? (() => `inc-${randomUUID()}`);
    this.histories = new GroupHistories(deps.policy);
  }

  async check(): Promise<CheckReport> {
    const { clock, source, policy } = this.deps;
    const startedAt = clock.now();
    if (!this.caughtUp) {
      this.caughtUp = true;
      await this.catchUp(startedAt);
    }
    let groups: GroupLag[];
    try {
      groups = (await source.readAllGroups()).filter((g) => policy.watches(g));
    } catch (error) {
      return this.serial.run(() => this.checkFailed(error, startedAt));
    }
    const at = clock.now();
    const verdicts = await this.serial.run(async () => {
      const silences = await this.silencesAt(at);
      await this.advanceMonitoring({ ok: true, groups: groups.length }, silences, at);
      const open = await this.openIncidentsOf();
      const times = await this.brokerTimes(groups, at, open);
      const afterGap = !this.sawPreviousCheck;
      this.sawPreviousCheck = true;
      this.histories.record(groups);
      const verdicts: GroupVerdict[] = [];
      for (const lag of groups) verdicts.push(await this.checkGroup(lag, at, afterGap, times, silences, open));
      return verdicts;
    });
    this.standings = groups.map(standingOf);
    await this.shareStandings();
    for (const ref of this.histories.retain(source.cluster, groups)) this.deps.metrics?.removeSeverity(ref);
    if (await this.keepHistory(groups, at)) this.storedTo = at;

    const durationMs = clock.now() - startedAt;
    this.deps.metrics?.recordCheck(source.cluster, groups, at, durationMs / 1000);
    this.deps.health?.recordSuccess(at);
    this.deps.delivery?.kick();
    return { ok: true, at, durationMs, verdicts };
  }

  /**
   * This replica leads again after another did. The history it followed as a standby is
   * kept; the next check first takes in what the last leader stored since, and counts the
   * time since this replica's own last check as a gap.
   */
  resume(): void {
    this.caughtUp = false;
    this.sawPreviousCheck = false;
    this.anchors.clear();
  }

  /**
   * Standing by: take in the samples the leader stored since the last look, so that `/lag`
   * answered here has the same rates, trends and staleness as the leader's answer.
   */
  follow(): Promise<void> {
    return this.serial.run(async () => {
      await this.catchUp(this.deps.clock.now());
      if (!this.deps.shareStandings) return;
      try {
        this.standings = (await this.deps.store.state<GroupStanding[]>(standingsKey(this.deps.source.cluster))) ?? this.standings;
      } catch (err) {
        this.deps.logger.warn({ err }, "could not read the leader's standings; the App Home tab shows the last ones read");
      }
    });
  }

  private async shareStandings(): Promise<void> {
    if (!this.deps.shareStandings || !this.standings) return;
    try {
      await this.deps.store.commit({ state: { [standingsKey(this.deps.source.cluster)]: this.standings }, asLeader: true });
    } catch (err) {
      // The check stands; only a standby's Home tab is a check older.
      this.deps.logger.warn({ err }, 'could not keep the standings for the other replicas');
    }
  }

  /** The samples this monitor holds of a group, oldest first (empty when it has none). */
  historyOf(group: string): readonly GroupSample[] {
    return this.histories.of({ cluster: this.deps.source.cluster, group });
  }

  /** Each group's headline at the latest successful check; null before the first one. */
  latestStandings(): readonly GroupStanding[] | null {
    return this.standings;
  }

  /** A button click on an incident: the step's notice says what to tell the person who clicked, if anything. */
  act(incidentId: string, user: string, action: IncidentAction): Promise<Step> {
    return this.serial.run(async () => {
      const { store, policy, clock } = this.deps;
      const result = await retriedOnChange(async () => {
        const incident = await store.incident(incidentId);
        const settings = policy.forGroup(incident ?? { cluster: this.deps.source.cluster, group: '' });
        const input = { ...action, user } as ClickInput;
        const result = step(incident, input, settings.incident, clock.now());
        await this.commitStep(result, settings, false, incident);
        return result;
      });
      if (result.incident) this.deps.metrics?.setSeverity(result.incident, result.incident.status === 'open' ? result.incident.severity : null);
      this.deps.delivery?.kick();
      return result;
    });
  }

  /** Why an action on the incident cannot happen (it is resolved, or unknown); null while it can. */
  async refusal(incidentId: string): Promise<Notice | null> {
    return alreadyResolved(await this.deps.store.incident(incidentId));
  }

  /** A click the access rules refused: the incident's thread tells who tried what, nothing else changes. */
  refused(incidentId: string, user: string, action: AccessAction, refusal: Refusal): Promise<void> {
    return this.serial.run(async () => {
      const { store, policy, clock } = this.deps;
      const committed = await retriedOnChange(async () => {
        const incident = await store.incident(incidentId);
        if (!incident) return false;
        const settings = policy.forGroup(incident);
        const input: IncidentInput = { kind: 'refused', user, action, rule: refusal.rule, unreadable: refusal.unreadable.length > 0 };
        await this.commitStep(step(incident, input, settings.incident, clock.now()), settings, false, incident);
        return true;
      });
      // Recorded by whichever replica took the click; the leader's delivery posts it.
      if (committed) this.deps.delivery?.kick();
    });
  }

  /**
   * The postmortem draft of an incident, posted into its thread again (the "Postmortem" button).
   * The answer is a notice when there is nothing to draft.
   */
  postmortem(incidentId: string): Promise<Notice | null> {
    return this.serial.run(async () => {
      const { store, clock } = this.deps;
      const incident = await store.incident(incidentId);
      if (!incident) return { kind: 'no-such-incident' } as const;
      const effects = this.deps.render([{ kind: 'postmortem', incident, timeline: await store.timeline(incidentId), at: clock.now() }]);
      await store.commit({ effects });
      this.deps.delivery?.kick();
      return null;
    });
  }

  /** This cluster's open incidents by group, in one read for the whole check. */
  private async openIncidentsOf(): Promise<Map<string, Incident>> {
    const cluster = this.deps.source.cluster;
    const open = new Map<string, Incident>();
    for (const incident of await this.deps.store.openIncidents()) if (incident.cluster === cluster) open.set(groupKey(incident), incident);
    return open;
  }

  /**
   * What the broker says about time for this check: the record at the committed offset of the
   * largest lags of each open incident (exact staleness), and the anchors of partitions the
   * history does not reach (kept a few minutes: the log start moves with retention only). A
   * failure or a slow broker leaves the estimates alone.
   */
  private async brokerTimes(groups: readonly GroupLag[], at: number, open: ReadonlyMap<string, Incident>): Promise<BrokerTimes> {
    const source = this.deps.recordTimes;
    if (!source) return NO_BROKER_TIMES;
    const exact: PartitionOffset[] = [];
    const anchors = new Map<string, PartitionRef>();
    for (const lag of groups) {
      if (exact.length < EXACT_PER_CHECK && open.has(groupKey(lag))) exact.push(...exactAsks(lag, Math.min(EXACT_PER_INCIDENT, EXACT_PER_CHECK - exact.length)));
      if (anchors.size >= ANCHORS_PER_CHECK) continue;
      const rules = this.deps.policy.forGroup(lag).rules;
      for (const ref of anchorAsks(lag, this.histories.of(lag), rules.staleness)) {
        const key = partitionKey(ref.topic, ref.partition);
        const kept = this.anchors.get(key);
        if ((kept && at - kept.at < ANCHOR_MAX_AGE_MS) || anchors.has(key)) continue;
        anchors.set(key, ref);
        if (anchors.size >= ANCHORS_PER_CHECK) break;
      }
    }
    for (const [key, kept] of this.anchors) if (at - kept.at >= ANCHOR_MAX_AGE_MS) this.anchors.delete(key);
    if (exact.length === 0 && anchors.size === 0 && this.anchors.size === 0) return NO_BROKER_TIMES;
    const fresh = await askBrokerTimes(source, { exact, anchors: [...anchors.values()] }, BROKER_TIMES_DEADLINE_MS, (err) =>
      this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'record timestamps could not be read; lag in seconds stays estimated this check'),
    );
    for (const [key, t] of fresh) if (t.logStart || t.newest) this.anchors.set(key, { at, times: { ...(t.logStart ? { logStart: t.logStart } : {}), ...(t.newest ? { newest: t.newest } : {}) } });
    const merged = new Map<string, PartitionTimes>();
    for (const [key, kept] of this.anchors) merged.set(key, kept.times);
    for (const [key, t] of fresh) merged.set(key, { ...merged.get(key), ...t });
    return merged;
  }

  private async silencesAt(at: number): Promise<readonly Silence[]> {
    if (!this.deps.silences) return this.silences;
    try {
      this.silences = await this.deps.silences.forCheck(at);
    } catch (err) {
      this.deps.logger.error({ err }, 'could not read the silences; this check applies those the previous one read');
    }
    return this.silences;
  }

  /**
   * The stored samples newer than this monitor's history: at start, the hour a previous
   * lagbot kept; on a standby, what the leader stored since the last look. Samples from the
   * store carry their leader's gap marks; the first check after them is a gap of its own.
   */
  private async catchUp(now: number): Promise<void> {
    const { history, source, policy, logger } = this.deps;
    if (!history) return;
    const since = this.storedTo === null ? now - policy.historyMs : this.storedTo + 1;
    const first = this.storedTo === null;
    try {
      const stored = await history.loadSamples(source.cluster, since);
      this.storedTo = this.histories.restore(source.cluster, stored) ?? this.storedTo;
      if (first && stored.length > 0) logger.info({ samples: stored.length }, 'lag history restored from the store');
    } catch (err) {
      logger.error({ err }, 'could not read the lag history from the store; going on with what this replica holds');
    }
  }

  /** Whether the store took this check's samples. */
  private async keepHistory(groups: readonly GroupLag[], at: number): Promise<boolean> {
    const { history, source, policy, logger } = this.deps;
    if (!history) return false;
    try {
      await history.appendSamples(source.cluster, this.histories.newest(groups), at - policy.historyMs);
      return true;
    } catch (err) {
      // The check itself stands; only a restart would start with less history.
      logger.error({ err }, 'could not store the lag history of this check');
      return false;
    }
  }

  private async checkFailed(error: unknown, startedAt: number): Promise<CheckReport> {
    const { clock, logger, metrics, health } = this.deps;
    const durationMs = clock.now() - startedAt;
    const detail = error instanceof Error ? error.message : String(error);
    this.sawPreviousCheck = false;
    const state = await this.advanceMonitoring({ ok: false, error: detail }, await this.silencesAt(startedAt), startedAt);
    logger.warn({ failures: state.consecutiveFailures, err: detail }, 'check failed: Kafka could not be read');
    metrics?.recordCheckFailure(this.deps.source.cluster, error, durationMs / 1000);
    health?.recordFailure(error, clock.now());
    this.deps.delivery?.kick();
    return { ok: false, at: startedAt, durationMs, error: detail, consecutiveFailures: state.consecutiveFailures };
  }

  /** Runs the monitoring state machine for this check and commits its state and any notice. */
  private async advanceMonitoring(outcome: CheckOutcome, silences: readonly Silence[], at: number): Promise<MonitoringState> {
    const { store, policy, source } = this.deps;
    const key = monitoringKey(source.cluster);
    const before = (await store.state<MonitoringState>(key)) ?? HEALTHY;
    const { state, change } = onCheck(before, outcome, policy.degradedAfterFailures, clusterSilenced(silences, source.cluster, at));
    if (state.consecutiveFailures === before.consecutiveFailures && state.degraded === before.degraded && state.unsaid === before.unsaid) return state;
    const channel = policy.channelFor(source.cluster);
    const effects = change && channel ? this.deps.render([{ kind: 'monitoring', cluster: source.cluster, channel, change }]) : [];
    await store.commit({ state: { [key]: state }, effects, asLeader: true });
    return state;
  }

  private async checkGroup(lag: GroupLag, at: number, afterGap: boolean, times: BrokerTimes, silences: readonly Silence[], open: ReadonlyMap<string, Incident>): Promise<GroupVerdict> {
    const settings = this.deps.policy.forGroup(lag);
    const evaluation = this.histories.observe(lag, afterGap, times);
    // The check's read first; a retry (a click committed meanwhile on another replica) reads the group's own.
    let fresh = false;
    const incident = await retriedOnChange(async () => {
      const stored = fresh ? await this.deps.store.openIncidentFor(lag) : (open.get(groupKey(lag)) ?? null);
      fresh = true;
      if (!settings.channel) return stored;
      const channel = stored?.channel ?? settings.channel;
      const leadIn = () => historyChart(lag, this.histories.of(lag), [])?.points ?? [];
      const input: IncidentInput = { kind: 'evaluation', evaluation, channel, newId: this.newId, afterGap, leadIn, silences };
      const result = step(stored, input, settings.incident, at);
      await this.commitStep(result, settings, true, stored);
      return result.incident?.status === 'open' ? result.incident : null;
    });
    this.deps.metrics?.setSeverity(lag, incident?.severity ?? null);
    return { group: lag.group, evaluation, incident, alerting: settings.channel !== null };
  }

  /** `asLeader`: a check's step, which only the leading replica may commit; a click's is any replica's. */
  private async commitStep(result: Step, settings: GroupAlerting, asLeader: boolean, basedOn: Incident | null): Promise<void> {
    const { store, clock, render } = this.deps;
    const incident = result.incident;
    const wanted: MonitorEffect[] = [{ kind: 'incident', step: result, thresholds: chartThresholds(settings.rules.thresholds) }];
    // The draft is written once, when the incident resolves, from everything its timeline told.
    if (incident && incident.status === 'resolved' && result.timeline.some((e) => e.kind === 'resolved')) {
      wanted.push({ kind: 'postmortem', incident, timeline: [...(await store.timeline(incident.id)), ...result.timeline], at: clock.now() });
    }
    const effects = render(wanted);
    if (!incident || (effects.length === 0 && result.notice !== null)) return;
    await store.commit({ incident, timeline: result.timeline, effects, ...(asLeader ? { asLeader } : {}), ...(basedOn ? { basedOn } : {}) });
    if (changesHome(result)) this.deps.home?.incidentChanged();
  }
}

/**
 * A step taken again from what is stored when another replica committed its incident
 * between the read and the commit (a click recorded on a standby during a check). A few
 * tries: each conflict means the other side's commit landed, so the next read sees it.
 */
async function retriedOnChange<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof IncidentChangedError) || i >= tries) throw err;
    }
  }
}
