import cron from 'node-cron';
import type { ISocketFactory } from 'kafkajs';
import { accessRulesOf } from '../config/access.js';
import { AlertingPolicy, storeTarget } from '../config/alerting.js';
import { requireSlackSecrets, type LagbotConfig } from '../config/config.js';
import { homeOf } from '../core/home.js';
import type { Clock } from '../core/ports.js';
import type { GroupRef } from '../core/protocol.js';
import type { Logger } from '../log/logger.js';
import { chartThresholds } from '../core/chart.js';
import { stopChartRenderer } from '../charts/renderer.js';
import { HealthState } from '../metrics/health.js';
import { LagMetrics } from '../metrics/metrics.js';
import { metricsRoutes } from '../metrics/routes.js';
import { ClusterMonitors } from '../monitor/cluster-monitors.js';
import { LagMonitor } from '../monitor/monitor.js';
import { CheckScheduler } from '../monitor/scheduler.js';
import { Silences } from '../monitor/silences.js';
import { accessGuard, startSlackApp } from '../slack/app.js';
import { SlackDelivery, createDeliveryClient } from '../slack/delivery.js';
import { HomeTab } from '../slack/home-tab.js';
import { OutboxJanitor } from '../store/outbox-janitor.js';
import { openReplicaStore } from '../store/open.js';
import type { LagbotStore } from '../store/store.js';
import type { Leadership, OutboxWatch } from './leadership.js';
import { homeView } from '../views/home.js';
import { slackEffectsOf } from '../views/incident-message.js';
import { openClusters } from './clusters.js';

export interface RunningLagbot {
  port: number | null;
  /** One monitor per cluster. */
  monitors: ClusterMonitors;
  /** The delivery of this term of leadership; null while this replica stands by. */
  readonly delivery: SlackDelivery | null;
  leadership: Leadership;
  /** The App Home tab and who is kept up to date with it. */
  home: HomeTab;
  /** Silences and maintenance windows. */
  silences: Silences;
  metrics: LagMetrics;
  stop(): Promise<void>;
}

export interface LagbotDeps {
  clock: Clock;
  logger: Logger;
  /** Off for a process whose checks are driven from outside (the benchmark calls a monitor's `check()`). */
  schedule?: boolean;
  /** kafkajs' socketFactory, for a proxy or for counting requests on the wire. */
  socketFactory?: ISocketFactory;
}

/** Milliseconds between two runs of a cron schedule, for health staleness. */
function scheduleIntervalMs(schedule: string): number {
  const probe = cron.createTask(schedule, () => undefined);
  const [a, b] = probe.getNextRuns(2);
  void probe.destroy();
  return a && b ? b.getTime() - a.getTime() : 60_000;
}

/**
 * The composition root: configure every part (validation only), then start them in
 * order, and stop them in reverse. `lagbot start`, the end-to-end tests and the
 * benchmark all use it.
 */
export async function startLagbot(config: LagbotConfig, deps: LagbotDeps): Promise<RunningLagbot> {
  const { clock, logger } = deps;
  const secrets = requireSlackSecrets(config);
  const policy = new AlertingPolicy(config, config.clusters);
  const interval = scheduleIntervalMs(config.check.schedule);
  const metrics = new LagMetrics({}, config.clusters.map((c) => c.name));
  const silent = config.clusters.filter((c) => policy.channelFor(c.name) === null).map((c) => c.name);
  if (silent.length === config.clusters.length) {
    logger.warn('alerting is off: set alerting.channel (a channel id) in the LAGBOT_CONFIG file, or a channel per cluster, to open incidents; /lag, /metrics and checks work without it');
  } else if (silent.length > 0) {
    logger.warn({ clusters: silent }, `alerting is off for ${silent.join(', ')}: no channel of its own and no alerting.channel; a groups rule with a channel still alerts`);
  }

  // A cluster whose key file is missing stops start-up here, before the store is opened.
  const clusters = openClusters(config.clusters, clock, logger, deps.socketFactory ? { socketFactory: deps.socketFactory } : {});
  const target = storeTarget(config.store);
  let store: LagbotStore;
  let leadership: Leadership;
  let outboxWatch: OutboxWatch;
  try {
    ({ store, leadership, outbox: outboxWatch } = await openReplicaStore(target, { clock, logger: logger.child({ component: 'store' }), intervalMs: interval }));
  } catch (error) {
    await clusters.stop();
    throw error;
  }
  logger.info({ store: store.description }, 'store open');
  const slackClient = createDeliveryClient(secrets.botToken, { ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}), timeoutMs: config.slack.requestTimeoutMs });
  // Only the leader delivers; each term of leadership gets a delivery of its own (one cannot restart).
  const newDelivery = () =>
    new SlackDelivery({
      store,
      client: slackClient,
      logger: logger.child({ component: 'delivery' }),
      clock,
      postMinTimeMs: config.slack.postIntervalMs,
      updatesPerWindow: config.slack.updatesPerMinute,
      updateWindowMs: 60_000,
      callTimeoutMs: config.slack.requestTimeoutMs,
    });
  let delivery: SlackDelivery | null = null;
  const kicker = { kick: () => delivery?.kick() };
  const silences = new Silences({ store, clock, clusters: config.clusters.map((c) => c.name), logger: logger.child({ component: 'silences' }), changed: () => home.changed() });
  metrics.countSilencesWith(() => silences.activeNow());
  const janitor = new OutboxJanitor(store, { retentionMs: config.store.outboxRetentionDays * 86_400_000, clock, logger });
  // One guard for every surface that shows or changes something: the listeners and the Home tab.
  const access = accessGuard(accessRulesOf(config), slackClient, {
    clock,
    logger,
    membershipCacheMs: config.access.membershipCacheSeconds * 1000,
    where: { clusters: config.clusters.map((c) => c.name), channelOf: (ref) => policy.forGroup(ref).channel },
  });
  const home: HomeTab = new HomeTab({
    publish: async (user, view) => {
      await slackClient.views.publish({ user_id: user, view });
    },
    view: async (user) => {
      // Home is opened outside any channel: only the rules' users and user groups let a viewer see a group.
      const scope = await access.queryScope(user, undefined);
      const visible = (ref: GroupRef) => scope.decide(ref).allowed;
      const silenced = await access.readableSilences(user, undefined, await silences.current());
      return homeView(homeOf([...monitors.byCluster.keys()], await store.openIncidents(), (cluster) => monitors.standingsOf(cluster), clock.now(), { visible, silences: silenced }));
    },
    clock,
    logger: logger.child({ component: 'home' }),
  });
  const health = new Map(clusters.sources.map((source) => [source.cluster, new HealthState({ clock, staleAfterMs: Math.max(3 * interval, 60_000) })]));
  const monitors = new ClusterMonitors(
    new Map(
      clusters.sources.map((source, i) => [
        source.cluster,
        new LagMonitor({
          source,
          ...(clusters.recordTimes[i] ? { recordTimes: clusters.recordTimes[i] } : {}),
          store,
          history: store,
          policy,
          clock,
          logger: logger.child({ component: 'monitor', cluster: source.cluster }),
          render: (effects) => slackEffectsOf(effects, { timeZone: config.postmortem.timeZone }),
          metrics,
          health: health.get(source.cluster) as HealthState,
          delivery: kicker,
          home: { incidentChanged: () => home.changed() },
          silences,
          // Replicas on one PostgreSQL: a standby's App Home tab shows the leader's standings.
          shareStandings: target.kind !== 'sqlite',
        }),
      ]),
    ),
    store,
  );
  // A scheduler per cluster: a slow or dead cluster skips its own ticks, never the others'.
  const schedulers = [...monitors.byCluster].map(
    ([cluster, monitor]) =>
      new CheckScheduler(
        config.check.schedule,
        async () => {
          const report = await monitor.check();
          if (delivery) metrics.setOutboxPending((await delivery.status()).pending);
          return report;
        },
        logger.child({ cluster }),
      ),
  );

  // On a standby, the same schedule takes in the history the leader stores, for its /lag answers.
  const followers = [...monitors.byCluster].map(([cluster, monitor]) => new CheckScheduler(config.check.schedule, () => monitor.follow(), logger.child({ cluster, role: 'standby' })));

  let slack: Awaited<ReturnType<typeof startSlackApp>>;
  try {
    slack = await startSlackApp({
      mode: config.slack.mode,
      ...secrets,
      ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}),
      command: config.slack.command,
      port: config.http.port,
      host: config.http.host,
      query: {
        sources: clusters.sources,
        clock,
        findingSettings: policy.findingSettings,
        history: (ref) => monitors.historyOf(ref),
        staleness: policy.forGroup({ cluster: clusters.sources[0]?.cluster ?? '', group: '' }).rules.staleness,
        recordTimes: clusters.recordTimes,
        onRecordTimesError: (cluster, err) => logger.warn({ cluster, err: err instanceof Error ? err.message : String(err) }, 'record timestamps could not be read for /lag; lag in seconds is estimated'),
        chartThresholds: (ref) => chartThresholds(policy.forGroup(ref).rules.thresholds),
      },
      logger,
      incidents: monitors,
      home,
      access,
      silences,
      routes: metricsRoutes(metrics, health, () => clock.now(), () => (leadership.isLeader() ? 'leader' : 'standby')),
    });
  } catch (error) {
    // Nothing else has started yet; what was opened is closed, so the process can end.
    await clusters.stop();
    await store.close();
    throw error;
  }
  // Leading and standing by, in turns: the leader checks and delivers; a standby answers /lag
  // and records clicks, which the leader's delivery then sends.
  const lead = async (): Promise<void> => {
    await Promise.all(followers.map((f) => f.stop()));
    for (const monitor of monitors.byCluster.values()) monitor.resume();
    delivery = newDelivery();
    delivery.start();
    if (deps.schedule !== false) for (const scheduler of schedulers) scheduler.start();
  };
  const standBy = async (): Promise<void> => {
    // Waits for a check in progress: it ends before this replica may lead again (see Leadership.onChange).
    await Promise.all(schedulers.map((s) => s.stop()));
    const ending = delivery;
    delivery = null;
    await ending?.stop();
    metrics.dropGroupSeries();
    if (deps.schedule !== false) for (const follower of followers) follower.start();
  };
  let transition: Promise<void> = Promise.resolve();
  leadership.onChange((leader) => {
    metrics.setLeader(leader);
    transition = transition.then(leader ? lead : standBy).catch((err: unknown) => logger.error({ err, leader }, 'changing role failed'));
    return transition;
  });
  metrics.setLeader(false);
  if (deps.schedule !== false) for (const follower of followers) follower.start();

  try {
    // The gauge counts from the first scrape, and silences over for a week are forgotten.
    await silences.forCheck(clock.now());
  } catch (err) {
    logger.error({ err }, 'could not read the silences at start; the first check tries again');
  }
  janitor.start();
  outboxWatch.start(() => delivery?.kick());
  leadership.start();

  let stopped: Promise<void> | null = null;
  return {
    port: slack.port,
    monitors,
    get delivery() {
      return delivery;
    },
    leadership,
    home,
    silences,
    metrics,
    stop: () => {
      stopped ??= (async () => {
        await leadership.stop();
        await outboxWatch.stop();
        await transition;
        await Promise.all([...schedulers, ...followers].map((s) => s.stop()));
        await slack.stop();
        await home.stop();
        await delivery?.stop();
        stopChartRenderer();
        janitor.stop();
        await clusters.stop();
        await store.close();
      })();
      return stopped;
    },
  };
}
