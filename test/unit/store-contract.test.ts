import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../src/core/incident.js';
import { IncidentChangedError } from '../../src/core/ports.js';
import type { Incident, SlackEffect } from '../../src/core/protocol.js';
import type { Silence } from '../../src/core/silence.js';
import { POSTGRES_SCHEMA_VERSION } from '../../src/store/postgres-schema.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { LagbotStore } from '../../src/store/store.js';
import type { PostgresServer } from '../../tools/postgres-testbed/server.js';
import { effects, incidentFixture, markdownFile, message } from '../support/incident-fixture.js';
import { startTestPostgres } from '../support/postgres.js';
import { silenceFixture } from '../support/silence-fixture.js';

/**
 * One contract, two stores: every case runs against SQLite (a file) and PostgreSQL (a fresh
 * database on the test bed's server), so the replicas' store means what the single
 * process's does. What only one store has (SQLite's WAL and old schemas, PostgreSQL's
 * concurrent replicas) is tested beside it.
 */

const CHANNEL = 'C0LAGALERT';

const incident = (id: string, group: string, overrides: Partial<Incident> = {}): Incident =>
  incidentFixture(id, group, { channel: CHANNEL, openingConsumePerSec: 120, ...overrides });
const root = (incidentId: string, text = 'root'): SlackEffect => effects.postRoot(incidentId, CHANNEL, text);
const update = (incidentId: string, text: string): SlackEffect => effects.updateRoot(incidentId, CHANNEL, text);
const entry = (incidentId: string, text: string): SlackEffect => effects.postThread(incidentId, CHANNEL, text);
const opened = (at: number): TimelineEntry => ({ at, mention: false, kind: 'opened', severity: 'warning', reasons: [{ rule: 'growing', lag: 60_000, line: 50_000, forMs: 300_000 }] });
const acked = (at: number): TimelineEntry => ({ at, mention: false, kind: 'acknowledged', user: 'U0SRE', severity: 'warning', afterMs: at - now });
const record = (at: number, committed: number, afterGap = false) => ({
  at,
  afterGap,
  state: 'Stable' as const,
  memberIds: ['m-1'],
  totalLag: 5,
  keys: ['orders\u00000', 'orders\u00001'],
  values: new Float64Array([committed, Number.NaN, committed + 5, 10]),
});

let now = 1_700_000_000_000;
const clock = { now: () => now };

let server: PostgresServer;
let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lagbot-contract-'));
  server = await startTestPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A new, empty store of each kind; the function it answers opens that same store again. */
const kinds: { name: string; fresh(): Promise<() => Promise<LagbotStore>> }[] = [
  {
    name: 'SQLite',
    fresh: async () => {
      const path = join(dir, `lagbot-${++files}.db`);
      return async () => openSqliteStore(path, { clock });
    },
  },
  {
    name: 'PostgreSQL',
    fresh: async () => {
      const url = await server.createDatabase();
      return () => openPostgresStore(url, { clock });
    },
  },
];

describe.each(kinds)('$name store', (kind) => {
  let store: LagbotStore;
  let reopen: () => Promise<LagbotStore>;

  beforeEach(async () => {
    reopen = await kind.fresh();
    store = await reopen();
  });

  afterEach(async () => {
    await store.close();
  });

    it('commits an incident, its effects and monitor state together', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), entry('i-1', 'opened')], state: { failedChecks: 2 } });

      expect((await store.openIncidentFor({ cluster: 'default', group: 'orders' }))?.id).toBe('i-1');
      expect((await store.outboxRows()).map((r) => [r.kind, r.state, r.message.text])).toEqual([
        ['post-root', 'pending', 'root'],
        ['post-thread', 'pending', 'opened'],
      ]);
      expect((await store.state<number>('failedChecks'))).toBe(2);
    });

    it('rolls the whole commit back when any part fails', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1')], state: { checks: 1 } });

      // A second open incident for the same group breaks the one-open-per-group rule.
      await expect(store.commit({ incident: incident('i-2', 'orders'), effects: [root('i-2'), entry('i-2', 'x')], state: { checks: 2 } })).rejects.toThrow(/unique/i);

      expect((await store.incident('i-2'))).toBeNull();
      expect((await store.outboxRows())).toHaveLength(1);
      expect((await store.state<number>('checks'))).toBe(1);
    });

    it('keeps one open incident per group, any number of resolved ones', async () => {
      await store.commit({ incident: incident('i-1', 'orders') });
      await store.commit({ incident: incident('i-1', 'orders', { status: 'resolved', resolved: { by: null, at: now } }) });
      await store.commit({ incident: incident('i-2', 'orders') });
      await store.commit({ incident: incident('i-3', 'payments') });

      expect((await store.openIncidentFor({ cluster: 'default', group: 'orders' }))?.id).toBe('i-2');
      expect((await store.openIncidents()).map((i) => i.id).sort()).toEqual(['i-2', 'i-3']);
      expect((await store.incident('i-1'))?.status).toBe('resolved');
      await expect(store.commit({ incident: incident('i-4', 'payments') })).rejects.toThrow(/unique/i);
    });

    it('coalesces root edits: a newer one supersedes older unsent ones, in the same or a later commit', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), update('i-1', 'v1'), entry('i-1', 'e1'), update('i-1', 'v2')] });
      await store.commit({ effects: [update('i-1', 'v3')] });

      expect((await store.outboxRows()).map((r) => [r.message.text, r.state])).toEqual([
        ['root', 'pending'],
        ['v1', 'superseded'],
        ['e1', 'pending'],
        ['v2', 'superseded'],
        ['v3', 'pending'],
      ]);
    });

    it('lets an edit that is in flight finish, and supersedes it if it has to be retried', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), update('i-1', 'v1')] });
      const [rootRow, v1] = (await store.outboxRows());
      await store.markSending(rootRow!.seq);
      await store.markDelivered(rootRow!.seq, '1700000000.000100');
      expect((await store.markSending(v1!.seq))).toBe(true);

      await store.commit({ effects: [update('i-1', 'v2')] });
      expect((await store.outboxRow(v1!.seq))?.state).toBe('sending');

      await store.markRetry(v1!.seq, { nextAttemptAt: now + 1000, error: 'HTTP 500', outcomeUnknown: true });
      expect((await store.outboxRow(v1!.seq))?.state).toBe('superseded');
      expect((await store.outboxHeads(10)).map((r) => r.message.text)).toEqual(['v2']);
    });

    it('offers only the oldest unfinished row of each incident, and standalone rows per channel', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1', 'r1'), entry('i-1', 'a')] });
      await store.commit({ incident: incident('i-2', 'payments'), effects: [root('i-2', 'r2'), entry('i-2', 'b')] });
      await store.commit({
        effects: [
          { kind: 'post-channel', channel: CHANNEL, message: message('degraded') },
          { kind: 'post-channel', channel: CHANNEL, message: message('recovered') },
          { kind: 'post-channel', channel: 'C0OTHER', message: message('elsewhere') },
        ],
      });

      expect((await store.outboxHeads(10)).map((r) => r.message.text)).toEqual(['r1', 'r2', 'degraded', 'elsewhere']);

      const [r1] = (await store.outboxHeads(1));
      await store.markSending(r1!.seq);
      // Sending is still unfinished: nothing behind it moves.
      expect((await store.outboxHeads(10)).map((r) => r.message.text)).toEqual(['r1', 'r2', 'degraded', 'elsewhere']);
      await store.markDelivered(r1!.seq, '1700000000.000100');
      expect((await store.outboxHeads(10)).map((r) => r.message.text)).toEqual(['a', 'r2', 'degraded', 'elsewhere']);
      const rows = (await store.outboxRows());
      expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((x, y) => x - y));
    });

    it('records delivery: the Slack ts, and the root message of the incident', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1')] });
      const [row] = (await store.outboxRows());
      now += 5_000;
      await store.markSending(row!.seq);
      await store.markDelivered(row!.seq, '1700000005.000100', 'C0LAGALERT');

      expect((await store.outboxRow(row!.seq))).toMatchObject({ state: 'delivered', slackTs: '1700000005.000100', deliveredAt: now, attempts: 1 });
      expect((await store.rootMessage('i-1'))).toEqual({ channel: 'C0LAGALERT', ts: '1700000005.000100' });
      expect((await store.outboxCounts())).toEqual({ pending: 0, sending: 0, failed: 0, lastDeliveredAt: now });
    });

    it('fails the rest of an incident with its root post, and nothing else', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), entry('i-1', 'a'), update('i-1', 'v1')] });
      await store.commit({ effects: [{ kind: 'post-channel', channel: CHANNEL, message: message('degraded') }] });
      const [rootRow] = (await store.outboxRows());

      await store.markSending(rootRow!.seq);
      await store.markFailed(rootRow!.seq, 'channel_not_found');

      const rows = (await store.outboxRows());
      expect(rows.map((r) => [r.message.text, r.state])).toEqual([
        ['root', 'failed'],
        ['a', 'failed'],
        ['v1', 'failed'],
        ['degraded', 'pending'],
      ]);
      expect(rows[1]?.lastError).toBe(`root message (outbox #${rootRow!.seq}) failed: channel_not_found`);
      expect((await store.outboxCounts())).toMatchObject({ pending: 1, failed: 3 });
    });

    it('keeps a row of unknown outcome in sending, and lists it as in doubt', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1')] });
      const [row] = (await store.outboxRows());
      await store.markSending(row!.seq);
      await store.markRetry(row!.seq, { nextAttemptAt: now + 2_000, error: 'HTTP 503', outcomeUnknown: true });

      expect((await store.inDoubt()).map((r) => [r.seq, r.state, r.lastError, r.nextAttemptAt])).toEqual([[row!.seq, 'sending', 'HTTP 503', now + 2_000]]);
      await store.markRetry(row!.seq, { nextAttemptAt: now, error: 'ratelimited', outcomeUnknown: false });
      expect((await store.inDoubt())).toEqual([]);
      expect((await store.outboxRow(row!.seq))?.state).toBe('pending');
    });

    it('does not touch a row that has finished', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1')] });
      const [row] = (await store.outboxRows());
      await store.markSending(row!.seq);
      await store.markDelivered(row!.seq, '1700000000.000100');

      expect((await store.markSending(row!.seq))).toBe(false);
      await store.markFailed(row!.seq, 'late');
      await store.markRetry(row!.seq, { nextAttemptAt: now, error: 'late', outcomeUnknown: false });
      expect((await store.outboxRow(row!.seq))).toMatchObject({ state: 'delivered', lastError: null });
    });

    it('keeps everything across a reopen of the same file', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), entry('i-1', 'a'), entry('i-1', 'b')], state: { cursor: { at: 5 } } });
      const [rootRow, a] = (await store.outboxRows());
      await store.markSending(rootRow!.seq);
      await store.markDelivered(rootRow!.seq, '1700000000.000100');
      await store.markSending(a!.seq);
      const before = (await store.outboxRows());
      await store.close();

      store = await reopen();
      expect((await store.openIncidentFor({ cluster: 'default', group: 'orders' }))).toEqual(incident('i-1', 'orders'));
      expect((await store.rootMessage('i-1'))).toEqual({ channel: CHANNEL, ts: '1700000000.000100' });
      expect((await store.outboxRows())).toEqual(before);
      expect((await store.inDoubt()).map((r) => r.message.text)).toEqual(['a']);
      expect((await store.state('cursor'))).toEqual({ at: 5 });

      // Sequence numbers keep growing after a reopen and a prune: a seq in Slack metadata is never reused.
      const lastSeq = before.at(-1)!.seq;
      await store.pruneOutbox(Number.MAX_SAFE_INTEGER);
      await store.commit({ effects: [entry('i-1', 'c')] });
      expect((await store.outboxRows()).at(-1)!.seq).toBeGreaterThan(lastSeq);
    });

    it('keeps files in a stream of their own: a file waiting does not hold up the thread', async () => {
      await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), markdownFile('i-1', CHANNEL, 'x'), entry('i-1', 'after the file')] });
      const rootRow = (await store.outboxHeads(10))[0]!;
      await store.markSending(rootRow.seq);
      await store.markDelivered(rootRow.seq, '1.000100');
      expect((await store.outboxHeads(10)).map((r) => r.kind)).toEqual(['post-file', 'post-thread']);
    });

    it('removes a state key set to undefined', async () => {
      await store.commit({ state: { a: 1, b: 'x' } });
      await store.commit({ state: { a: undefined } });
      expect(await store.state('a')).toBeNull();
      expect(await store.state('b')).toBe('x');
    });

    it('keeps what it is given, unknown offsets included, and forgets what is older than asked', async () => {
      await store.appendSamples('default', [{ group: 'g', record: record(1_000, 100) }], 0);
      await store.appendSamples('default', [{ group: 'g', record: record(2_000, 101, true) }, { group: 'h', record: record(2_000, 7) }], 0);
      await store.appendSamples('other', [{ group: 'g', record: record(2_000, 9) }], 0);
      const loaded = (await store.loadSamples('default', 0));
      expect(loaded.map((s) => [s.group, s.record.at, s.record.afterGap])).toEqual([
        ['g', 1_000, false],
        ['g', 2_000, true],
        ['h', 2_000, false],
      ]);
      expect([...(loaded[1]?.record.values ?? [])]).toEqual([101, Number.NaN, 106, 10]);
      expect(loaded[0]?.record.keys).toBe(loaded[1]?.record.keys); // one key list, shared
      await store.appendSamples('default', [], 1_500);
      expect((await store.loadSamples('default', 0)).map((s) => s.record.at)).toEqual([2_000, 2_000]);
      expect((await store.loadSamples('other', 0))).toHaveLength(1);
    });

    it('keeps every timeline entry as data, in order, committed with its incident', async () => {
      await store.commit({ incident: incident('inc-1', 'orders'), timeline: [opened(now)], effects: [root('inc-1')] });
      await store.commit({ incident: incident('inc-2', 'payments'), timeline: [opened(now + 1)] });
      await store.commit({ incident: incident('inc-1', 'orders', { acknowledged: { by: 'U0SRE', at: now + 60_000, severity: 'warning' } }), timeline: [acked(now + 60_000)] });
      expect((await store.timeline('inc-1'))).toEqual([opened(now), acked(now + 60_000)]);
      expect((await store.timeline('inc-2'))).toEqual([opened(now + 1)]);
      expect((await store.timeline('inc-none'))).toEqual([]);
    });

    it('rolls the entries back with the rest of a failed commit, and refuses entries without their incident', async () => {
      await store.commit({ incident: incident('inc-1', 'orders'), timeline: [opened(now)] });
      await expect(store.commit({ incident: incident('inc-2', 'orders'), timeline: [opened(now + 1)] })).rejects.toThrow(/unique/i);
      expect((await store.timeline('inc-2'))).toEqual([]);
      await expect(store.commit({ timeline: [acked(now)] })).rejects.toThrow('timeline entries are committed with their incident');
      expect((await store.timeline('inc-1'))).toEqual([opened(now)]);
    });

    it('lists incidents newest first: open ones always, the others since a time, narrowed by cluster, group and status', async () => {
      const h = 3_600_000;
      await store.commit({ incident: incident('inc-old', 'orders', { openedAt: now - 48 * h, status: 'resolved', resolved: { by: null, at: now - 47 * h } }) });
      await store.commit({ incident: incident('inc-open-long', 'billing', { openedAt: now - 72 * h }) });
      await store.commit({ incident: incident('inc-recent', 'orders', { openedAt: now - 3 * h, status: 'resolved', resolved: { by: 'U0SRE', at: now - 2 * h } }) });
      await store.commit({ incident: incident('inc-eu', 'orders', { cluster: 'prod-eu', openedAt: now - h }) });
      const ids = (list: Incident[]) => list.map((i) => i.id);
      expect(ids((await store.listIncidents()))).toEqual(['inc-eu', 'inc-recent', 'inc-old', 'inc-open-long']);
      expect(ids((await store.listIncidents({ since: now - 24 * h })))).toEqual(['inc-eu', 'inc-recent', 'inc-open-long']);
      expect(ids((await store.listIncidents({ status: 'open' })))).toEqual(['inc-eu', 'inc-open-long']);
      expect(ids((await store.listIncidents({ group: 'orders', cluster: 'default' })))).toEqual(['inc-recent', 'inc-old']);
      expect(ids((await store.listIncidents({ limit: 2 })))).toEqual(['inc-eu', 'inc-recent']);
      expect((await store.incidentIds())).toEqual(['inc-eu', 'inc-recent', 'inc-old', 'inc-open-long']);
    });

    it('queues a file as its own outbox row, keeping the file as data', async () => {
      const file = { kind: 'markdown' as const, filename: 'postmortem-inc-1.md', title: 'Postmortem draft: orders', text: '# Postmortem draft\n' };
      await store.commit({ incident: incident('inc-1', 'orders'), effects: [root('inc-1'), { kind: 'post-file', incidentId: 'inc-1', channel: CHANNEL, file }] });
      const rows = (await store.outboxRows());
      expect(rows.map((r) => [r.kind, r.file])).toEqual([
        ['post-root', null],
        ['post-file', file],
      ]);
      expect(rows[1]?.message.text).toBe('Postmortem draft: orders');
    });
  it('refuses a commit based on an incident that changed since, keeping none of it, and takes one based on the stored one', async () => {
    const read = incident('i-1', 'orders');
    await store.commit({ incident: read, effects: [root('i-1')] });
    const acknowledged = incident('i-1', 'orders', { acknowledged: { by: 'U0SRE', at: now, severity: 'warning' } });
    await store.commit({ incident: acknowledged, timeline: [acked(now)], basedOn: read });

    const stale = incident('i-1', 'orders', { severity: 'critical' });
    await expect(store.commit({ incident: stale, timeline: [opened(now)], effects: [entry('i-1', 'escalated')], state: { checks: 1 }, basedOn: read })).rejects.toThrow(IncidentChangedError);
    expect((await store.incident('i-1'))?.acknowledged?.by).toBe('U0SRE');
    expect((await store.timeline('i-1'))).toEqual([acked(now)]);
    expect((await store.outboxRows()).map((r) => r.message.text)).toEqual(['root']);
    expect(await store.state('checks')).toBeNull();

    await store.commit({ incident: { ...acknowledged, severity: 'critical' }, effects: [entry('i-1', 'escalated')], basedOn: (await store.incident('i-1'))! });
    expect((await store.incident('i-1'))).toMatchObject({ severity: 'critical', acknowledged: { by: 'U0SRE' } });
  });

  describe('silences', () => {
    const T0 = 1_700_000_000_000;
    const H = 3_600_000;
    const silence = (id: string, overrides: Partial<Silence> = {}): Silence => silenceFixture(id, T0, overrides);

    it('keeps silences across a reopen, as they were', async () => {
      await store.addSilence(silence('sil-aaaa'));
      await store.addSilence(silence('sil-bbbb', { target: { kind: 'cluster', cluster: 'prod-us' }, reason: null, startsAt: T0 + H, endsAt: T0 + 3 * H, createdAt: T0 + 1 }));
      await store.close();
      store = await reopen();
      expect(await store.silence('sil-aaaa')).toEqual(silence('sil-aaaa'));
      expect(await store.silence('sil-bbbb')).toEqual(silence('sil-bbbb', { target: { kind: 'cluster', cluster: 'prod-us' }, reason: null, startsAt: T0 + H, endsAt: T0 + 3 * H, createdAt: T0 + 1 }));
      expect((await store.silencesSince(T0)).map((s) => s.id)).toEqual(['sil-aaaa', 'sil-bbbb']);
      expect(await store.silence('sil-none')).toBeNull();
    });

    it('lists what is not over before the time asked, counting an early end', async () => {
      await store.addSilence(silence('sil-over', { startsAt: T0 - 3 * H, endsAt: T0 - H }));
      await store.addSilence(silence('sil-on'));
      await store.addSilence(silence('sil-cut'));
      expect(await store.endSilenceEarly('sil-cut', 'U0LEAD', T0 + 10)).toBe(true);
      expect((await store.silencesSince(T0 - H)).map((s) => s.id)).toEqual(['sil-cut', 'sil-on', 'sil-over']);
      expect((await store.silencesSince(T0 + 11)).map((s) => s.id)).toEqual(['sil-on']);
      expect((await store.silence('sil-cut'))?.endedEarly).toEqual({ by: 'U0LEAD', at: T0 + 10 });
    });

    it('ends a silence early once, also when two end it at once, and never one already over', async () => {
      await store.addSilence(silence('sil-aaaa'));
      const both = await Promise.all([store.endSilenceEarly('sil-aaaa', 'U0ONE', T0 + H), store.endSilenceEarly('sil-aaaa', 'U0TWO', T0 + H)]);
      expect(both.filter(Boolean)).toHaveLength(1);
      const winner = both[0] ? 'U0ONE' : 'U0TWO';
      expect((await store.silence('sil-aaaa'))?.endedEarly).toEqual({ by: winner, at: T0 + H });
      expect(await store.endSilenceEarly('sil-aaaa', 'U0THREE', T0 + H + 1)).toBe(false);
      await store.addSilence(silence('sil-bbbb'));
      expect(await store.endSilenceEarly('sil-bbbb', 'U0ONE', T0 + 2 * H)).toBe(false);
      expect(await store.endSilenceEarly('sil-none', 'U0ONE', T0)).toBe(false);
    });

    it('prunes silences over before a time, and keeps the others', async () => {
      await store.addSilence(silence('sil-old', { startsAt: T0 - 10 * H, endsAt: T0 - 9 * H }));
      await store.addSilence(silence('sil-cut', { startsAt: T0 - 10 * H, endsAt: T0 + H }));
      await store.endSilenceEarly('sil-cut', 'U0ONE', T0 - 8 * H);
      await store.addSilence(silence('sil-new'));
      expect(await store.pruneSilences(T0 - H)).toBe(2);
      expect((await store.silencesSince(0)).map((s) => s.id)).toEqual(['sil-new']);
    });

    it('refuses a second silence with the same id, a silence ending before it starts, and one already ended', async () => {
      await store.addSilence(silence('sil-aaaa'));
      await expect(store.addSilence(silence('sil-aaaa'))).rejects.toThrow(/unique/i);
      await expect(store.addSilence(silence('sil-bbbb', { endsAt: T0 }))).rejects.toThrow(/check/i);
      await expect(store.addSilence(silence('sil-cccc', { endedEarly: { by: 'U0ONE', at: T0 } }))).rejects.toThrow(/before anyone ends it/);
      expect((await store.silencesSince(0)).map((s) => s.id)).toEqual(['sil-aaaa']);
    });
  });
});

describe('PostgreSQL store: migrations and replicas', () => {
  const versions = async (url: string): Promise<number[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<{ version: number }>('SELECT version FROM lagbot_schema ORDER BY version')).rows.map((r) => r.version);
    } finally {
      await client.end();
    }
  };
  const all = Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1);

  it('migrates an empty database on open, and a second open finds nothing to do and keeps the data', async () => {
    const url = await server.createDatabase();
    const first = await openPostgresStore(url, { clock });
    await first.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1')] });
    const stamp = first.outboxStamp;
    await first.close();
    expect(await versions(url)).toEqual(all);

    const again = await openPostgresStore(url, { clock });
    try {
      expect(await versions(url)).toEqual(all);
      expect(again.outboxStamp).toBe(stamp);
      expect((await again.openIncidentFor({ cluster: 'default', group: 'orders' }))?.id).toBe('i-1');
    } finally {
      await again.close();
    }
  });

  it('lets replicas that start at once on an empty database migrate it once between them', async () => {
    const url = await server.createDatabase();
    const replicas = await Promise.all([1, 2, 3].map(() => openPostgresStore(url, { clock })));
    try {
      expect(await versions(url)).toEqual(all);
      expect(new Set(replicas.map((r) => r.outboxStamp)).size).toBe(1);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it('adds the silences table to a database an older lagbot left, keeping its incidents', async () => {
    const url = await server.createDatabase();
    const older = await openPostgresStore(url, { clock, migrateUpTo: POSTGRES_SCHEMA_VERSION - 1 });
    await older.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1')] });
    await older.close();
    expect(await versions(url)).toEqual(all.slice(0, -1));

    const store = await openPostgresStore(url, { clock });
    try {
      expect(await versions(url)).toEqual(all);
      await store.addSilence({ id: 'sil-aaaa', target: { kind: 'cluster', cluster: 'default' }, by: 'U0SRE', reason: null, createdAt: now, startsAt: now, endsAt: now + 60_000, endedEarly: null });
      expect((await store.silencesSince(0)).map((s) => s.id)).toEqual(['sil-aaaa']);
      expect((await store.incident('i-1'))?.id).toBe('i-1');
    } finally {
      await store.close();
    }
  });

  it('refuses a database from a newer lagbot', async () => {
    const url = await server.createDatabase();
    await (await openPostgresStore(url, { clock })).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('INSERT INTO lagbot_schema (version) VALUES ($1)', [POSTGRES_SCHEMA_VERSION + 1]);
    await client.end();
    await expect(openPostgresStore(url, { clock })).rejects.toThrow(/newer than this lagbot/);
  });

  it('keeps a stream in commit order when two replicas commit to it at once: a head never goes back', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([openPostgresStore(url, { clock }), openPostgresStore(url, { clock })]);
    try {
      await a.commit({ incident: incident('i-1', 'orders') });
      const writes = [a, b].map(async (replica, n) => {
        // Several rows per commit: the time between taking a seq and committing it is what a lock must cover.
        for (let i = 0; i < 10; i++) await replica.commit({ effects: Array.from({ length: 8 }, (_, k) => entry('i-1', `${n}-${i}-${k}`)) });
      });
      // Deliver heads as they come up, as delivery would, while the commits go on.
      const delivered: number[] = [];
      let done = false;
      const all = Promise.all(writes).then(() => (done = true));
      while (!done || (await a.outboxHeads(10)).length > 0) {
        for (const head of await a.outboxHeads(10)) {
          await a.markSending(head.seq);
          await a.markDelivered(head.seq, `1.${head.seq}`);
          delivered.push(head.seq);
        }
      }
      await all;
      expect(delivered).toHaveLength(160);
      expect(delivered).toEqual([...delivered].sort((x, y) => x - y));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
