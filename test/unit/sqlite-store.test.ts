import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../src/core/incident.js';
import type { Incident, SlackEffect } from '../../src/core/protocol.js';
import { SCHEMA_VERSION, migrate } from '../../src/store/sqlite-schema.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { effects, incidentFixture, markdownFile, message } from '../support/incident-fixture.js';

const CHANNEL = 'C0LAGALERT';

const incident = (id: string, group: string, overrides: Partial<Incident> = {}): Incident =>
  incidentFixture(id, group, { channel: CHANNEL, openingConsumePerSec: 120, ...overrides });
const root = (incidentId: string, text = 'root'): SlackEffect => effects.postRoot(incidentId, CHANNEL, text);
const update = (incidentId: string, text: string): SlackEffect => effects.updateRoot(incidentId, CHANNEL, text);
const entry = (incidentId: string, text: string): SlackEffect => effects.postThread(incidentId, CHANNEL, text);

let store: SqliteIncidentStore;
let dir: string;
let now = 1_700_000_000_000;
const clock = { now: () => now };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lagbot-store-'));
  store = openSqliteStore(join(dir, 'lagbot.db'), { clock });
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteIncidentStore', () => {
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
    await expect(store.commit({ incident: incident('i-2', 'orders'), effects: [root('i-2'), entry('i-2', 'x')], state: { checks: 2 } })).rejects.toThrow(/UNIQUE/);

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
    await expect(store.commit({ incident: incident('i-4', 'payments') })).rejects.toThrow(/UNIQUE/);
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
    const path = join(dir, 'lagbot.db');
    await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), entry('i-1', 'a'), entry('i-1', 'b')], state: { cursor: { at: 5 } } });
    const [rootRow, a] = (await store.outboxRows());
    await store.markSending(rootRow!.seq);
    await store.markDelivered(rootRow!.seq, '1700000000.000100');
    await store.markSending(a!.seq);
    const before = (await store.outboxRows());
    await store.close();

    store = openSqliteStore(path, { clock });
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

  it('opens the file in WAL mode with full sync, at the current schema version', async () => {
    const path = join(dir, 'lagbot.db');
    await store.close();
    store = openSqliteStore(path, { clock });
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('brings an outbox from before files forward: rows, states and the sequence kept, files then accepted', async () => {
    const path = join(dir, 'v5.db');
    const db = new Database(path);
    migrate(db, 5);
    const insert = db.prepare(`INSERT INTO outbox (incident_id, channel, kind, message, state, next_attempt_at, created_at) VALUES ('i-1', ?, ?, ?, ?, 1, 1)`);
    insert.run(CHANNEL, 'post-root', JSON.stringify(message('root')), 'delivered');
    insert.run(CHANNEL, 'post-thread', JSON.stringify(message('gone')), 'delivered');
    insert.run(CHANNEL, 'post-thread', JSON.stringify(message('waiting')), 'sending');
    // The newest row was pruned: its seq must not come back.
    insert.run(CHANNEL, 'post-thread', JSON.stringify(message('pruned')), 'delivered');
    db.prepare(`DELETE FROM outbox WHERE seq IN (2, 4)`).run();
    db.close();

    const old = openSqliteStore(path, { clock });
    try {
      expect((await old.outboxRows()).map((r) => [r.seq, r.kind, r.state, r.message.text, r.file])).toEqual([
        [1, 'post-root', 'delivered', 'root', null],
        [3, 'post-thread', 'sending', 'waiting', null],
      ]);
      await old.commit({ effects: [markdownFile('i-1', CHANNEL, '# Postmortem')] });
      const file = (await old.outboxRows()).at(-1)!;
      expect(file).toMatchObject({ seq: 5, kind: 'post-file', state: 'pending', slackFileId: null, file: { kind: 'markdown', text: '# Postmortem' } });
      await old.markFileUploaded(5, 'F0001');
      expect((await old.outboxRow(5))?.slackFileId).toBe('F0001');
    } finally {
      await old.close();
    }
  });

  it('keeps files in a stream of their own: a file waiting does not hold up the thread', async () => {
    await store.commit({ incident: incident('i-1', 'orders'), effects: [root('i-1'), markdownFile('i-1', CHANNEL, 'x'), entry('i-1', 'after the file')] });
    const rootRow = (await store.outboxHeads(10))[0]!;
    await store.markSending(rootRow.seq);
    await store.markDelivered(rootRow.seq, '1.000100');
    expect((await store.outboxHeads(10)).map((r) => r.kind)).toEqual(['post-file', 'post-thread']);
  });

  it('refuses a database from a newer lagbot', async () => {
    const path = join(dir, 'newer.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/newer than this lagbot/);
  });

  it('works in memory, and removes a state key set to undefined', async () => {
    const memory = openSqliteStore(':memory:');
    try {
      await memory.commit({ state: { a: 1, b: 'x' } });
      await memory.commit({ state: { a: undefined } });
      expect(await memory.state('a')).toBeNull();
      expect(await memory.state('b')).toBe('x');
    } finally {
      await memory.close();
    }
  });
});

describe('SqliteIncidentStore: the lag history', () => {
  const record = (at: number, committed: number, afterGap = false) => ({
    at,
    afterGap,
    state: 'Stable' as const,
    memberIds: ['m-1'],
    totalLag: 5,
    keys: ['orders\u00000', 'orders\u00001'],
    values: new Float64Array([committed, Number.NaN, committed + 5, 10]),
  });

  it('keeps what it is given, unknown offsets included, and forgets what is older than asked', async () => {
    const store = openSqliteStore(':memory:');
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
    await store.close();
  });
});

describe('SqliteIncidentStore: timelines and the incident list', () => {
  const opened = (at: number): TimelineEntry => ({ at, mention: false, kind: 'opened', severity: 'warning', reasons: [{ rule: 'growing', lag: 60_000, line: 50_000, forMs: 300_000 }] });
  const acked = (at: number): TimelineEntry => ({ at, mention: false, kind: 'acknowledged', user: 'U0SRE', severity: 'warning', afterMs: at - now });

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
    await expect(store.commit({ incident: incident('inc-2', 'orders'), timeline: [opened(now + 1)] })).rejects.toThrow(/UNIQUE/);
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

  it('brings a database of the previous schema forward: its outbox rows and seq counter kept, files and timelines then stored', async () => {
    const path = join(dir, 'v5.db');
    const old = new Database(path);
    migrate(old, 5);
    const insert = old.prepare(`INSERT INTO outbox (incident_id, channel, kind, message, next_attempt_at, created_at) VALUES ('inc-1', ?, ?, ?, 1, 1)`);
    insert.run(CHANNEL, 'post-root', JSON.stringify(message('root')));
    insert.run(CHANNEL, 'post-thread', JSON.stringify(message('opened')));
    insert.run(CHANNEL, 'post-thread', JSON.stringify(message('pruned')));
    old.prepare(`DELETE FROM outbox WHERE seq = 3`).run();
    old.prepare(`INSERT INTO incidents (id, cluster, group_name, status, channel, opened_at, json) VALUES ('inc-1', 'default', 'orders', 'open', ?, ?, ?)`).run(CHANNEL, now, JSON.stringify(incident('inc-1', 'orders')));
    await old.close();

    const migrated = openSqliteStore(path, { clock });
    try {
      expect((await migrated.outboxRows()).map((r) => [r.seq, r.kind, r.message.text])).toEqual([
        [1, 'post-root', 'root'],
        [2, 'post-thread', 'opened'],
      ]);
      expect(await migrated.timeline('inc-1')).toEqual([]);
      await migrated.commit({
        incident: incident('inc-1', 'orders'),
        timeline: [acked(now)],
        effects: [{ kind: 'post-file', incidentId: 'inc-1', channel: CHANNEL, file: { kind: 'markdown', filename: 'p.md', title: 'p', text: 'x' } }],
      });
      // Seq 3 was used and pruned: it is never handed out again.
      expect((await migrated.outboxRows()).map((r) => [r.seq, r.kind])).toEqual([
        [1, 'post-root'],
        [2, 'post-thread'],
        [4, 'post-file'],
      ]);
      expect(await migrated.timeline('inc-1')).toEqual([acked(now)]);
      // Files are a stream of their own: the file is a head beside the thread's first row.
      expect((await migrated.outboxHeads(10)).map((r) => r.seq)).toEqual([1, 4]);
    } finally {
      await migrated.close();
    }
  });
});
