import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../src/core/incident.js';
import type { Incident } from '../../src/core/protocol.js';
import { SCHEMA_VERSION, migrate } from '../../src/store/sqlite-schema.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { incidentFixture, markdownFile, message } from '../support/incident-fixture.js';

const CHANNEL = 'C0LAGALERT';

const incident = (id: string, group: string, overrides: Partial<Incident> = {}): Incident =>
  incidentFixture(id, group, { channel: CHANNEL, openingConsumePerSec: 120, ...overrides });

let store: SqliteIncidentStore;
let dir: string;
const now = 1_700_000_000_000;
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


  it('refuses a database from a newer lagbot', async () => {
    const path = join(dir, 'newer.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/newer than this lagbot/);
  });

});

describe('SqliteIncidentStore: timelines and the incident list', () => {
  const acked = (at: number): TimelineEntry => ({ at, mention: false, kind: 'acknowledged', user: 'U0SRE', severity: 'warning', afterMs: at - now });





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
    old.close();

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
