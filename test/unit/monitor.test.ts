import { describe, expect, it } from 'vitest';
import { AlertingPolicy } from '../../src/config/alerting.js';
import { parseConfig } from '../../src/config/config.js';
import type { MonitoringState } from '../../src/core/monitoring.js';
import { LagUnavailableError, type Clock } from '../../src/core/ports.js';
import { logEndHolder, type GroupSample } from '../../src/core/history.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { createLogger } from '../../src/log/logger.js';
import { LagMonitor, type MonitorDeps } from '../../src/monitor/monitor.js';
import { postmortemMarkdown } from '../../src/views/postmortem.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { slackEffectsOf } from '../../src/views/incident-message.js';
import { CHECK_MS, T0, lagOf, scriptedLag } from '../support/scripted.js';
import { silenceFixture } from '../support/silence-fixture.js';
import type { Silence } from '../../src/core/silence.js';

/**
 * The check loop with a scripted lag source (a port double: the Kafka adapter has its
 * own integration tests) and a real in-memory SQLite store.
 */
function rig(
  yaml: string,
  shared?: { clock: Clock & { t: number }; store: SqliteIncidentStore },
  home?: { incidentChanged(): void },
  render: MonitorDeps['render'] = slackEffectsOf,
  extra: Partial<MonitorDeps> = {},
) {
  const clock: Clock & { t: number } = shared?.clock ?? { t: T0, now() { return this.t; } };
  let next: (() => GroupLag[]) | Error = () => [];
  const store = shared?.store ?? openSqliteStore(':memory:', { clock });
  const config = parseConfig(yaml, { KAFKA_BROKERS: 'k:9092' });
  const policy = new AlertingPolicy(config, config.clusters);
  let ids = 0;
  const monitor = new LagMonitor({
    source: {
      cluster: 'default',
      readAllGroups: async () => {
        if (next instanceof Error) throw next;
        return next();
      },
    },
    store,
    history: store,
    policy,
    clock,
    logger: createLogger('silent'),
    render,
    newId: () => `inc-${++ids}`,
    ...(home ? { home } : {}),
    ...extra,
  });
  const check = async (source: (() => GroupLag[]) | Error) => {
    next = source;
    const report = await monitor.check();
    clock.t += CHECK_MS;
    return report;
  };
  const posts = async () => (await store.outboxRows()).map((r) => `${r.kind} ${r.channel} ${r.message.text.slice(0, 60)}`);
  return { clock, store, monitor, check, posts };
}

const BASE = 'alerting:\n  channel: C0ALERTS\ncheck:\n  degradedAfterFailures: 3\n';
const down = new LagUnavailableError('Cannot reach Kafka at k:9092', 'default', ['k:9092']);
const orders = { cluster: 'default', group: 'orders' };

describe('the check loop', () => {
  it('says once that monitoring is degraded after N failed checks, and once that it recovered', async () => {
    const r = rig(BASE);
    for (let i = 0; i < 2; i += 1) await r.check(down);
    expect((await r.posts())).toEqual([]);
    const third = await r.check(down);
    expect(third).toMatchObject({ ok: false, consecutiveFailures: 3 });
    await r.check(down);
    expect((await r.posts())).toEqual(['post-channel C0ALERTS :warning: Monitoring degraded: 3 checks in a row could not r']);
    await r.check(() => []);
    expect((await r.posts())[1]).toContain('post-channel C0ALERTS :white_check_mark: Monitoring recovered');
    await r.check(() => []);
    expect((await r.posts())).toHaveLength(2);
  });

  it('holds back "Monitoring degraded" while the whole cluster is silenced for maintenance, and says it once the silence is over and Kafka still cannot be read', async () => {
    let silences: Silence[] = [];
    const r = rig(BASE, undefined, undefined, slackEffectsOf, { silences: { forCheck: async () => silences } });
    silences = [silenceFixture('sil-maint', r.clock.t, { target: { kind: 'cluster', cluster: 'default' }, reason: 'broker upgrade' })];
    for (let i = 0; i < 4; i += 1) await r.check(down);
    expect(await r.posts()).toEqual([]);
    // A silence of some groups is not one of the cluster.
    silences = [silenceFixture('sil-some', r.clock.t, { target: { kind: 'groups', pattern: '*', cluster: 'default' } })];
    await r.check(down);
    expect(await r.posts()).toEqual(['post-channel C0ALERTS :warning: Monitoring degraded: 5 checks in a row could not r']);
    await r.check(down);
    expect(await r.posts()).toHaveLength(1);

    // Degraded and recovered inside one window: nothing to say.
    const quiet = rig(BASE, undefined, undefined, slackEffectsOf, { silences: { forCheck: async () => [silenceFixture('sil-maint', T0, { target: { kind: 'cluster', cluster: 'default' } })] } });
    for (let i = 0; i < 4; i += 1) await quiet.check(down);
    await quiet.check(() => []);
    expect(await quiet.posts()).toEqual([]);
  });

  it("keeps the monitoring state in the store under the cluster's key, so a restart continues the count", async () => {
    const first = rig(BASE);
    for (let i = 0; i < 2; i += 1) await first.check(down);
    expect((await first.store.state<MonitoringState>('monitoring:default'))).toEqual({ consecutiveFailures: 2, degraded: false });
    // lagbot restarts: a new monitor over the same store picks up the count.
    const restarted = rig(BASE, { clock: first.clock, store: first.store });
    await restarted.check(down);
    expect((await restarted.store.state<MonitoringState>('monitoring:default'))).toEqual({ consecutiveFailures: 3, degraded: true });
    expect((await restarted.posts())).toEqual(['post-channel C0ALERTS :warning: Monitoring degraded: 3 checks in a row could not r']);
    const again = rig(BASE, { clock: first.clock, store: first.store });
    await again.check(down);
    expect((await again.posts())).toHaveLength(1);
    await again.check(() => []);
    expect((await again.store.state<MonitoringState>('monitoring:default'))).toEqual({ consecutiveFailures: 0, degraded: false });
    expect((await again.posts())).toHaveLength(2);
  });

  it('neither opens nor resolves incidents while Kafka cannot be read', async () => {
    const r = rig(BASE);
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    const incident = (await r.store.openIncidentFor(orders));
    expect(incident).toMatchObject({ cluster: 'default', group: 'orders', severity: 'critical' });
    for (let i = 0; i < 30; i += 1) await r.check(down);
    expect((await r.store.openIncidentFor(orders))).toMatchObject({ id: incident?.id, status: 'open' });
    expect((await r.store.openIncidents())).toHaveLength(1);
  });

  it('counts only observed time under the line: an outage inside the resolve window does not resolve the incident', async () => {
    const r = rig('alerting:\n  channel: C0ALERTS\n  resolveAfterMinutes: 2\ncheck:\n  degradedAfterFailures: 3\n');
    const at = (lag: number) => () => [scriptedLag(r.clock.t, lagOf(lag), 'orders')];
    await r.check(at(700_000));
    await r.check(at(400)); // under the line: the resolve clock starts
    expect((await r.store.openIncidentFor(orders))?.belowWarningSince).not.toBeNull();
    for (let i = 0; i < 6; i += 1) await r.check(down); // 3 minutes without data
    await r.check(at(300)); // the first good check: nothing observed since the outage began
    expect((await r.store.openIncidentFor(orders))).toMatchObject({ status: 'open', belowWarningObservedMs: 0 });
    for (let i = 0; i < 3; i += 1) await r.check(at(200)); // 90 s observed
    expect((await r.store.openIncidentFor(orders))).toMatchObject({ status: 'open', belowWarningObservedMs: 90_000 });
    await r.check(at(100)); // 2 min observed under the line
    expect((await r.store.openIncidentFor(orders))).toBeNull();
    const resolved = (await r.store.outboxRows()).find((row) => row.message.text.includes('Resolved'));
    expect(resolved?.message.text).toContain('lag under 50,000 for 2 min');
  });

  it('keeps the lag history across a restart, so a stall seen before it is still seen after', async () => {
    const first = rig(BASE);
    const stalledAt = (i: number) => () => [scriptedLag(first.clock.t, { partitions: [{ committed: 1_000, logEnd: 1_000 + i * 500 }], members: 1 }, 'orders')];
    let i = 0;
    for (; i < 9; i += 1) {
      const report = await first.check(stalledAt(i)); // 4 minutes of a standing offset
      expect(report.ok && report.verdicts[0]?.evaluation.findings.some((f) => f.kind === 'stalled')).toBe(false);
    }
    first.clock.t += 10 * 60_000; // lagbot is down for 10 minutes; that is not observed time
    const restarted = rig(BASE, { clock: first.clock, store: first.store });
    const stalls: boolean[] = [];
    for (let k = 0; k < 3; k += 1, i += 1) {
      const report = await restarted.check(stalledAt(i));
      stalls.push(report.ok && report.verdicts[0]?.evaluation.findings.some((f) => f.kind === 'stalled') === true);
    }
    // 4 min before + 0 for the restart + 30 s + 30 s = 5 min of observed stall on the third check.
    expect(stalls).toEqual([false, false, true]);
  });

  it("holds each partition's log end once for the groups of a check that read it, and gives back each group's own offsets", async () => {
    const r = rig(BASE);
    const read = (i: number) => () => [
      scriptedLag(r.clock.t, { partitions: [{ committed: 100 + i, logEnd: 200 + i * 7 }, { committed: 50, logEnd: 300 }], members: 1 }, 'orders'),
      scriptedLag(r.clock.t, { partitions: [{ committed: 190 + i * 7, logEnd: 200 + i * 7 }, { committed: 290, logEnd: 300 }], members: 1 }, 'audit'),
    ];
    for (let i = 0; i < 20; i += 1) await r.check(read(i));
    const [orders, audit] = [r.monitor.historyOf('orders'), r.monitor.historyOf('audit')];
    expect(orders.map((s) => logEndHolder(s))).toEqual(audit.map((s) => logEndHolder(s)));
    expect(orders.every((s) => logEndHolder(s) !== null)).toBe(true);
    expect(orders.map((s) => [...s.logEnd])).toEqual(Array.from({ length: 20 }, (_, i) => [200 + i * 7, 300]));
    expect(orders.map((s) => s.committed[0])).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(audit.map((s) => s.committed[0])).toEqual(Array.from({ length: 20 }, (_, i) => 190 + i * 7));

    // After a restart the stored samples are held the same way, and the next check goes on from them.
    const restarted = rig(BASE, { clock: r.clock, store: r.store });
    await restarted.check(read(20));
    const [o, a] = [restarted.monitor.historyOf('orders'), restarted.monitor.historyOf('audit')];
    const offsets = (s: GroupSample) => [s.at, [...s.committed], [...s.logEnd]];
    expect(o.slice(0, 20).map(offsets)).toEqual(orders.map(offsets));
    expect(a.slice(0, 20).map(offsets)).toEqual(audit.map(offsets));
    expect([o[20], a[20]].map((s) => s && [...s.committed, ...s.logEnd])).toEqual([[120, 50, 340, 300], [330, 290, 340, 300]]);
    expect(o.map((s) => logEndHolder(s))).toEqual(a.map((s) => logEndHolder(s)));
    expect(o.every((s) => logEndHolder(s) !== null)).toBe(true);
    expect(a.at(-1)?.committed[0]).toBe(330);
  });

  it("follows, as a standby, the history the leader stores: the same samples, an hour's window, groups gone let go", async () => {
    const leader = rig(BASE);
    const standby = rig(BASE, { clock: leader.clock, store: leader.store });
    const offsets = (s: GroupSample) => [s.at, s.afterGap, s.totalLag, [...s.committed], [...s.logEnd]];
    const read = (i: number, groups = ['orders', 'audit']) => () =>
      groups.map((g, k) => scriptedLag(leader.clock.t, { partitions: [{ committed: 100 * i + k, logEnd: 300 * i }, { committed: 50, logEnd: 60 + i }], members: 1 }, g));

    // Nothing stored yet: nothing to follow.
    await standby.monitor.follow();
    expect(standby.monitor.historyOf('orders')).toEqual([]);
    for (let i = 0; i < 5; i += 1) await leader.check(read(i));
    await standby.monitor.follow();
    expect(standby.monitor.historyOf('orders').map(offsets)).toEqual(leader.monitor.historyOf('orders').map(offsets));
    // Each look reads only what is new: samples already held are not taken twice.
    for (let i = 5; i < 8; i += 1) {
      await leader.check(read(i));
      await standby.monitor.follow();
    }
    await standby.monitor.follow();
    expect(standby.monitor.historyOf('orders')).toHaveLength(8);
    expect(standby.monitor.historyOf('audit').map(offsets)).toEqual(leader.monitor.historyOf('audit').map(offsets));

    // An hour on, with audit no longer read: the standby keeps the same window as the leader, and lets audit go.
    for (let i = 8; i < 8 + 125; i += 1) await leader.check(read(i, ['orders']));
    await standby.monitor.follow();
    const held = standby.monitor.historyOf('orders');
    expect(held.map(offsets)).toEqual(leader.monitor.historyOf('orders').map(offsets));
    expect((held.at(-1)?.at ?? 0) - (held[0]?.at ?? 0)).toBeLessThanOrEqual(60 * 60_000);
    expect(standby.monitor.historyOf('audit')).toEqual([]);
  });

  it("shows, as a standby, the leader's standings of its latest check (the App Home tab), when replicas share them", async () => {
    const leader = rig(BASE, undefined, undefined, slackEffectsOf, { shareStandings: true });
    const standby = rig(BASE, { clock: leader.clock, store: leader.store }, undefined, slackEffectsOf, { shareStandings: true });
    const alone = rig(BASE, { clock: leader.clock, store: leader.store });
    await standby.monitor.follow();
    expect(standby.monitor.latestStandings()).toBeNull();
    await leader.check(() => [scriptedLag(leader.clock.t, lagOf(700_000), 'orders'), scriptedLag(leader.clock.t, lagOf(5), 'audit')]);
    await standby.monitor.follow();
    await alone.monitor.follow();
    expect(standby.monitor.latestStandings()).toEqual(leader.monitor.latestStandings());
    expect(standby.monitor.latestStandings()?.map((s) => [s.group, s.totalLag])).toEqual([['orders', 700_000], ['audit', 5]]);
    // Without sharing (one process on SQLite) standings are neither read nor kept.
    expect(alone.monitor.latestStandings()).toBeNull();
    const single = rig(BASE);
    await single.check(() => [scriptedLag(single.clock.t, lagOf(700_000), 'orders')]);
    expect(await single.store.state('standings:default')).toBeNull();
    expect(await leader.store.state('standings:default')).not.toBeNull();
    // Taking over keeps what it showed until its own first check.
    standby.monitor.resume();
    expect(standby.monitor.latestStandings()).toEqual(leader.monitor.latestStandings());
  });

  it('leads on from the history it followed: the samples the last leader stored after the last look are taken in once, the time since is a gap', async () => {
    const leader = rig(BASE);
    const standby = rig(BASE, { clock: leader.clock, store: leader.store });
    const read = (i: number) => () => [scriptedLag(leader.clock.t, { partitions: [{ committed: 1_000, logEnd: 1_000 + i * 500 }], members: 1 }, 'orders')];
    let i = 0;
    for (; i < 6; i += 1) await leader.check(read(i));
    await standby.monitor.follow();
    for (; i < 9; i += 1) await leader.check(read(i)); // 4 minutes of a standing offset; the last 3 checks not yet followed
    // The leader is lost; the standby leads from the next tick.
    standby.monitor.resume();
    const stalls: boolean[] = [];
    for (let k = 0; k < 3; k += 1, i += 1) {
      const report = await standby.check(read(i));
      stalls.push(report.ok && report.verdicts[0]?.evaluation.findings.some((f) => f.kind === 'stalled') === true);
    }
    const history = standby.monitor.historyOf('orders');
    expect(history.map((s) => s.logEnd[0])).toEqual(Array.from({ length: 12 }, (_, n) => 1_000 + n * 500));
    expect(new Set(history.map((s) => s.at)).size).toBe(12);
    // As after a restart: 4 min before + 0 for the takeover + 30 s + 30 s = 5 min of observed stall on the third check.
    expect(stalls).toEqual([false, false, true]);
  });

  it("reads the open incidents once per check, not once per group (a round trip each on PostgreSQL)", async () => {
    const store = openSqliteStore(':memory:');
    const reads = { all: 0, one: 0 };
    const counted = Object.assign(Object.create(store) as SqliteIncidentStore, {
      openIncidents: () => ((reads.all += 1), store.openIncidents()),
      openIncidentFor: (ref: { cluster: string; group: string }) => ((reads.one += 1), store.openIncidentFor(ref)),
    });
    const r = rig(BASE, { clock: { t: T0, now() { return this.t; } }, store }, undefined, slackEffectsOf, { store: counted });
    const read = () => Array.from({ length: 50 }, (_, i) => scriptedLag(r.clock.t, lagOf(i < 3 ? 700_000 : 10), `g-${i}`));
    await r.check(read);
    reads.all = reads.one = 0;
    const report = await r.check(read);
    expect(report.ok && report.verdicts.filter((v) => v.incident !== null).map((v) => v.group)).toEqual(['g-0', 'g-1', 'g-2']);
    expect(reads).toEqual({ all: 1, one: 0 });
  });

  it('keeps incidents per cluster and group', async () => {
    const r = rig(BASE);
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    expect((await r.store.openIncidentFor(orders))).not.toBeNull();
    expect((await r.store.openIncidentFor({ cluster: 'other', group: 'orders' }))).toBeNull();
  });

  it('opens incidents only for watched groups, in the channel their settings name', async () => {
    const r = rig(`${BASE}watch:\n  exclude: ["connect-*"]\ngroups:\n  - match: "payments-*"\n    channel: C0PAY\n`);
    await r.check(() => ['orders', 'payments-eu', 'connect-s3'].map((g) => scriptedLag(r.clock.t, lagOf(700_000), g)));
    expect((await r.store.openIncidents()).map((i) => [i.group, i.channel]).sort()).toEqual([
      ['orders', 'C0ALERTS'],
      ['payments-eu', 'C0PAY'],
    ]);
    expect((await r.posts()).filter((p) => p.startsWith('post-root')).map((p) => p.split(' ')[1]).sort()).toEqual(['C0ALERTS', 'C0PAY']);
  });

  it('evaluates but opens nothing when no channel is configured', async () => {
    const r = rig('');
    const report = await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    expect(report.ok && report.verdicts[0]).toMatchObject({ group: 'orders', alerting: false, evaluation: { ref: orders, severity: 'critical' } });
    expect((await r.store.openIncidents())).toEqual([]);
    expect((await r.posts())).toEqual([]);
  });

  it('applies a button click between checks and answers a repeated one', async () => {
    const r = rig(BASE);
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    const id = (await r.store.openIncidentFor(orders))?.id as string;
    expect((await r.monitor.act(id, 'U0SRE', { kind: 'acknowledge' })).notice).toBeNull();
    const posted = (await r.posts());
    expect(posted.slice(-2)).toEqual([expect.stringMatching(/^post-thread C0ALERTS .*Acknowledged by <@U0SRE>/), expect.stringMatching(/^update-root C0ALERTS /)]);
    expect((await r.monitor.act(id, 'U0B', { kind: 'acknowledge' })).notice).toEqual({ kind: 'already-acknowledged', by: 'U0SRE' });
    expect((await r.monitor.act('inc-missing', 'U0B', { kind: 'resolve' })).notice).toEqual({ kind: 'no-such-incident' });
    // The clicks that changed nothing queue nothing.
    expect((await r.posts())).toEqual(posted);
    expect((await r.store.incident(id))?.acknowledged?.by).toBe('U0SRE');
  });
});

describe('what the monitor tells the App Home tab', () => {
  it('keeps the headline of each group of the latest successful check', async () => {
    const r = rig(BASE);
    expect(r.monitor.latestStandings()).toBeNull();
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders'), scriptedLag(r.clock.t, lagOf(10), 'billing')]);
    expect(r.monitor.latestStandings()).toEqual([
      { cluster: 'default', group: 'orders', totalLag: 700_000, lagSeconds: null, lagSecondsMethod: null },
      { cluster: 'default', group: 'billing', totalLag: 10, lagSeconds: null, lagSecondsMethod: null },
    ]);
    // A failed check leaves the latest one standing.
    await r.check(down);
    expect(r.monitor.latestStandings()?.map((g) => g.group)).toEqual(['orders', 'billing']);
  });

  it('says an incident changed when it opens and is acknowledged, not when only its figures move', async () => {
    let told = 0;
    const r = rig(BASE, undefined, { incidentChanged: () => (told += 1) });
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    expect(told).toBe(1);
    for (const lag of [710_000, 720_000, 730_000]) await r.check(() => [scriptedLag(r.clock.t, lagOf(lag), 'orders')]);
    expect(told).toBe(1);
    const id = (await r.store.openIncidentFor(orders))?.id ?? '';
    await r.monitor.act(id, 'U0SRE', { kind: 'acknowledge' });
    expect(told).toBe(2);
    // A second click changes nothing, so nothing is told.
    await r.monitor.act(id, 'U0OTHER', { kind: 'acknowledge' });
    expect(told).toBe(2);
  });
});

describe('the postmortem', () => {
  /** The drafts queued (the charts are files too). */
  const files = async (store: SqliteIncidentStore) => (await store.outboxRows()).filter((row) => row.kind === 'post-file' && row.file?.kind === 'markdown');

  it('keeps every timeline entry of a check or a click, and drafts the postmortem when the incident resolves', async () => {
    const r = rig('alerting:\n  channel: C0ALERTS\n  resolveAfterMinutes: 1\n', undefined, undefined, (effects) => slackEffectsOf(effects, { timeZone: 'America/New_York' }));
    const at = (lag: number) => () => [scriptedLag(r.clock.t, lagOf(lag), 'orders')];
    await r.check(at(700_000));
    const id = (await r.store.openIncidentFor(orders))?.id as string;
    await r.monitor.act(id, 'U0SRE', { kind: 'acknowledge' });
    for (let i = 0; i < 3; i += 1) await r.check(at(100));
    expect((await r.store.incident(id))?.status).toBe('resolved');
    const timeline = (await r.store.timeline(id));
    expect(timeline.map((e) => e.kind)).toEqual(['opened', 'acknowledged', 'recovering', 'resolved']);
    // Each entry was also its own thread reply.
    expect((await r.store.outboxRows()).filter((row) => row.kind === 'post-thread')).toHaveLength(timeline.length);
    const [file, ...more] = (await files(r.store));
    expect(more).toEqual([]);
    expect(file).toMatchObject({ incidentId: id, channel: 'C0ALERTS', state: 'pending' });
    const resolvedAt = timeline[timeline.length - 1]!.at;
    expect(file?.file).toEqual({
      kind: 'markdown',
      filename: `postmortem-${id}.md`,
      title: 'Postmortem draft: orders',
      text: postmortemMarkdown((await r.store.incident(id))!, timeline, { timeZone: 'America/New_York', now: resolvedAt }),
    });
    // T0 is 03:00 UTC in July: 23:00 the day before in New York (EDT, UTC-4).
    expect(file?.file?.kind === 'markdown' && file.file.text).toContain('- **23:00:00** — Opened at CRITICAL');
    expect(file?.file?.kind === 'markdown' && file.file.text).toContain('Acknowledged by @U0SRE');
    // The draft comes after the resolved reply, the root edit and the resolved chart, in the same commit.
    expect((await r.store.outboxRows()).map((row) => (row.kind === 'post-file' ? `post-file:${row.file?.kind}` : row.kind)).slice(-4)).toEqual([
      'post-thread',
      'update-root',
      'post-file:chart',
      'post-file:markdown',
    ]);
  });

  it('drafts it when resolved by hand too, and again on demand; an unknown incident says so', async () => {
    const r = rig(BASE);
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    const id = (await r.store.openIncidentFor(orders))?.id as string;
    await r.monitor.act(id, 'U0SRE', { kind: 'resolve' });
    expect((await files(r.store))).toHaveLength(1);
    expect((await r.monitor.postmortem(id))).toBeNull();
    const [first, again] = (await files(r.store));
    expect(again?.file).toEqual(first?.file);
    expect(again?.file?.kind === 'markdown' && again.file.text).toContain('resolved by @U0SRE');
    const before = (await r.store.outboxRows()).length;
    expect((await r.monitor.postmortem('inc-missing'))).toEqual({ kind: 'no-such-incident' });
    expect((await r.store.outboxRows())).toHaveLength(before);
  });
});
