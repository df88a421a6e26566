import pg from 'pg';
import { AlertingPolicy } from '../../src/config/alerting.js';
import type { Refusal } from '../../src/core/access.js';
import { parseConfig } from '../../src/config/config.js';
import type { Clock, Commit, IncidentStore, OpenIncidentList } from '../../src/core/ports.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { LagMonitor } from '../../src/monitor/monitor.js';
import { slackEffectsOf } from '../../src/views/incident-message.js';
import { CHECK_MS, T0, lagOf, scriptedLag } from '../support/scripted.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../tools/slack-standin/standin.js';
import type { PostgresServer } from '../../tools/postgres-testbed/server.js';
import { createLogger } from '../../src/log/logger.js';
import { PostgresLeadership } from '../../src/store/postgres-leadership.js';
import { PostgresOutboxWatch } from '../../src/store/postgres-outbox-watch.js';
import { openPostgresStore, type PostgresIncidentStore } from '../../src/store/postgres-store.js';
import { NotLeaderError } from '../../src/store/store.js';
import { effects, incidentFixture } from '../support/incident-fixture.js';
import { startTestPostgres } from '../support/postgres.js';

const INTERVAL_MS = 200;
const CHANNEL = 'C0LAGALERT';

let server: PostgresServer;
const opened: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  server = await startTestPostgres();
}, 60_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.stop()));
});

afterAll(async () => {
  await server?.stop();
});

/** A replica as far as leadership goes: its store, fenced by its own leadership. */
async function replica(url: string, name: string): Promise<{ store: PostgresIncidentStore; leadership: PostgresLeadership; changes: boolean[] }> {
  const store = await openPostgresStore(url);
  const leadership = new PostgresLeadership(url, { intervalMs: INTERVAL_MS, logger: createLogger('silent'), holder: name });
  store.fenceWith(() => leadership.epoch());
  const changes: boolean[] = [];
  leadership.onChange((leader) => void changes.push(leader));
  opened.push({ stop: async () => (await leadership.stop(), await store.close()) });
  return { store, leadership, changes };
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('leadership through a PostgreSQL advisory lock', () => {
  it('gives the lock to exactly one replica, and to the other when the leader stops', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([replica(url, 'a'), replica(url, 'b')]);
    a.leadership.start();
    await waitFor(() => a.leadership.isLeader(), 5_000);
    b.leadership.start();
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    expect([a.leadership.isLeader(), b.leadership.isLeader()]).toEqual([true, false]);
    expect(a.leadership.epoch()).toBe(1);

    await a.leadership.stop();
    expect(a.changes).toEqual([true, false]);
    const started = Date.now();
    await waitFor(() => b.leadership.isLeader(), 5_000);
    expect(Date.now() - started).toBeLessThan(2 * INTERVAL_MS + 150);
    expect(b.leadership.epoch()).toBe(2);
    expect(await sql(url, 'SELECT epoch, holder FROM lagbot_leader')).toEqual([{ epoch: '2', holder: 'b' }]);
  });

  it('fences a leader whose connection was cut: its checks and Slack calls are refused, a click it records is kept', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([replica(url, 'a'), replica(url, 'b')]);
    a.leadership.start();
    await waitFor(() => a.leadership.isLeader(), 5_000);
    b.leadership.start();
    await a.store.commit({ incident: incidentFixture('inc-1', 'orders', { channel: CHANNEL }), effects: [effects.postRoot('inc-1', CHANNEL, 'root')], asLeader: true });

    // The leader's lock connection is cut, as an operator or a failing network would.
    const [{ pid } = { pid: 0 }] = await sql<{ pid: number }>(url, `SELECT pid FROM pg_stat_activity WHERE application_name = 'lagbot leader a'`);
    const cutAt = Date.now();
    await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(() => b.leadership.isLeader(), 5_000);
    const takeover = Date.now() - cutAt;
    expect(takeover).toBeLessThan(2 * INTERVAL_MS + 150);
    expect(a.leadership.isLeader()).toBe(false);

    // Whatever a still tries as leader, through its pool's other connections, is refused.
    const check = { incident: incidentFixture('inc-1', 'orders', { channel: CHANNEL, severity: 'critical' }), effects: [effects.postThread('inc-1', CHANNEL, 'late check')], asLeader: true };
    await expect(a.store.commit(check)).rejects.toThrow(NotLeaderError);
    const [row] = await a.store.outboxRows();
    await expect(a.store.markSending(row!.seq)).rejects.toThrow(NotLeaderError);
    // A click is recorded by whichever replica receives it.
    await a.store.commit({ incident: incidentFixture('inc-1', 'orders', { channel: CHANNEL, acknowledged: { by: 'U0SRE', at: 1, severity: 'warning' } }) });
    expect((await b.store.incident('inc-1'))?.acknowledged?.by).toBe('U0SRE');

    // The new leader's are not.
    expect(await b.store.markSending(row!.seq)).toBe(true);
    await b.store.commit({ effects: [effects.postThread('inc-1', CHANNEL, 'check of the new leader')], asLeader: true });
    expect((await b.store.outboxRows()).map((r) => r.message.text)).toEqual(['root', 'check of the new leader']);
  });

  it('leads again only once the work its lost term started has stopped: no check of the old term runs in the new one', async () => {
    const url = await server.createDatabase();
    const a = await replica(url, 'a');
    let checksStopped: () => void = () => undefined;
    const stopping = new Promise<void>((resolve) => (checksStopped = resolve));
    a.leadership.onChange((leader) => (leader ? undefined : stopping));
    a.leadership.start();
    await waitFor(() => a.leadership.isLeader(), 5_000);

    const [{ pid } = { pid: 0 }] = await sql<{ pid: number }>(url, `SELECT pid FROM pg_stat_activity WHERE application_name = 'lagbot leader a'`);
    await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(() => !a.leadership.isLeader(), 5_000);
    // The lock is free and no one else wants it, but a's last check is still finishing.
    await new Promise((r) => setTimeout(r, 6 * INTERVAL_MS));
    expect(a.leadership.isLeader()).toBe(false);
    checksStopped();
    await waitFor(() => a.leadership.isLeader(), 5_000);
    expect(a.leadership.epoch()).toBe(2);
    expect(a.changes).toEqual([true, false, true]);
  });

  it('fences a replica that never led', async () => {
    const url = await server.createDatabase();
    const a = await replica(url, 'a');
    await expect(a.store.commit({ effects: [effects.postChannel(CHANNEL, 'x')], asLeader: true })).rejects.toThrow(/does not lead/);
    await a.store.commit({ effects: [effects.postChannel(CHANNEL, 'click')] });
    expect(await a.store.outboxRows()).toHaveLength(1);
  });
});

describe('the outbox watch (LISTEN/NOTIFY)', () => {
  it('tells a replica at once of rows another replica queued, not of commits that queued none, and again once its cut connection is back', async () => {
    const url = await server.createDatabase();
    const standby = await openPostgresStore(url);
    opened.push({ stop: () => standby.close() });
    let told = 0;
    const watch = new PostgresOutboxWatch(url, { logger: createLogger('silent'), retryMs: 100, name: 'lagbot outbox a' });
    opened.push({ stop: () => watch.stop() });
    watch.start(() => void (told += 1));
    // Listening, it looks once for rows queued before it listened.
    await waitFor(() => told === 1, 5_000);

    await standby.commit({ effects: [effects.postChannel(CHANNEL, 'a click on the standby')] });
    await waitFor(() => told === 2, 2_000);
    await standby.commit({ state: { 'monitoring:default': { consecutiveFailures: 0, degraded: false } } });
    await new Promise((r) => setTimeout(r, 300));
    expect(told).toBe(2);

    const [{ pid } = { pid: 0 }] = await sql<{ pid: number }>(url, `SELECT pid FROM pg_stat_activity WHERE application_name = 'lagbot outbox a'`);
    await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(() => told === 3, 5_000);
    await standby.commit({ effects: [effects.postChannel(CHANNEL, 'a click after the cut')] });
    await waitFor(() => told === 4, 2_000);
  });

  it('says nothing of a commit that rolled back', async () => {
    const url = await server.createDatabase();
    const a = await replica(url, 'a');
    let told = 0;
    const watch = new PostgresOutboxWatch(url, { logger: createLogger('silent'), name: 'lagbot outbox b' });
    opened.push({ stop: () => watch.stop() });
    watch.start(() => void (told += 1));
    await waitFor(() => told === 1, 5_000);
    // a never led: its check's commit is fenced, inside the transaction that would have notified.
    await expect(a.store.commit({ effects: [effects.postChannel(CHANNEL, 'x')], asLeader: true })).rejects.toThrow(NotLeaderError);
    await new Promise((r) => setTimeout(r, 300));
    expect(told).toBe(1);
  });
});

describe('a click recorded on a standby while the leader checks', () => {
  const YAML = 'alerting:\n  channel: C0ALERTS\n';
  const orders = { cluster: 'default', group: 'orders' };

  /** A replica's monitor on its own connection pool; `beforeCommit` runs inside the leader's commits. */
  async function monitorOn(url: string, clock: Clock & { t: number }, beforeCommit?: (change: Commit) => Promise<void>) {
    const store = await openPostgresStore(url, { clock });
    opened.push({ stop: () => store.close() });
    const config = parseConfig(YAML, { KAFKA_BROKERS: 'k:9092' });
    let ids = 0;
    let lag: GroupLag[] = [];
    const seen: IncidentStore & OpenIncidentList = {
      openIncidents: () => store.openIncidents(),
      openIncidentFor: (ref) => store.openIncidentFor(ref),
      incident: (id) => store.incident(id),
      timeline: (id) => store.timeline(id),
      state: (key) => store.state(key),
      commit: async (change) => {
        await beforeCommit?.(change);
        await store.commit(change);
      },
    };
    const monitor = new LagMonitor({
      source: { cluster: 'default', readAllGroups: async () => lag },
      store: seen,
      policy: new AlertingPolicy(config, config.clusters),
      clock,
      logger: createLogger('silent'),
      render: slackEffectsOf,
      newId: () => `inc-${++ids}`,
    });
    return { store, monitor, check: async (groups: GroupLag[]) => ((lag = groups), await monitor.check()) };
  }

  it('is kept: the check that read the incident before the click takes its step again from the stored one', async () => {
    const url = await server.createDatabase();
    const clock = { t: T0, now() { return this.t; } };
    let clickDuringCommit: (() => Promise<void>) | null = null;
    const leader = await monitorOn(url, clock, async (change) => {
      const click = clickDuringCommit;
      clickDuringCommit = null;
      if (change.asLeader && change.basedOn && click) await click();
    });
    const standby = await monitorOn(url, clock);

    await leader.check([scriptedLag(clock.t, lagOf(700_000), 'orders')]);
    const first = await leader.store.openIncidentFor(orders);
    const id = first?.id as string;
    clock.t += CHECK_MS;
    // The leader's next check has read the incident and is about to commit when the standby records an acknowledgement.
    clickDuringCommit = async () => void (await standby.monitor.act(id, 'U0SRE', { kind: 'acknowledge' }));
    const report = await leader.check([scriptedLag(clock.t, lagOf(900_000), 'orders')]);

    expect(report.ok).toBe(true);
    expect(clickDuringCommit).toBeNull();
    const stored = await leader.store.incident(id);
    expect(stored?.acknowledged?.by).toBe('U0SRE');
    // And the check's own step is in too: the figures of its read, not the first check's.
    expect(stored?.figures.at).toBeGreaterThan(first?.figures.at ?? Infinity);
    const texts = (await leader.store.outboxRows()).filter((r) => r.kind === 'post-thread').map((r) => r.message.text);
    expect(texts.filter((t) => t.includes('Acknowledged by <@U0SRE>'))).toHaveLength(1);
  });

  it('keeps a refused click the standby recorded mid-check, and leaves its thread reply in the outbox for the leader to deliver', async () => {
    const url = await server.createDatabase();
    const clock = { t: T0, now() { return this.t; } };
    let clickDuringCommit: (() => Promise<void>) | null = null;
    const leader = await monitorOn(url, clock, async (change) => {
      const click = clickDuringCommit;
      clickDuringCommit = null;
      if (change.asLeader && change.basedOn && click) await click();
    });
    const standby = await monitorOn(url, clock);

    await leader.check([scriptedLag(clock.t, lagOf(700_000), 'orders')]);
    const first = await leader.store.openIncidentFor(orders);
    const id = first?.id as string;
    clock.t += CHECK_MS;
    const refusal: Refusal = { allowed: false, rule: 'access.reassign', grantees: [], unreadable: [] };
    clickDuringCommit = () => standby.monitor.refused(id, 'U0EVE', 'reassign', refusal);
    const report = await leader.check([scriptedLag(clock.t, lagOf(900_000), 'orders')]);

    expect(report.ok).toBe(true);
    expect(clickDuringCommit).toBeNull();
    const kinds = (await leader.store.timeline(id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'refused')).toHaveLength(1);
    expect((await leader.store.incident(id))?.figures.at).toBeGreaterThan(first?.figures.at ?? Infinity);
    const texts = (await leader.store.outboxRows()).filter((r) => r.kind === 'post-thread').map((r) => r.message.text);
    expect(texts.filter((t) => t.includes('<@U0EVE> tried to reassign'))).toHaveLength(1);
  });
});
