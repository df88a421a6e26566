import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Silence } from '../../src/core/silence.js';
import { SCHEMA_VERSION, migrate } from '../../src/store/sqlite-schema.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { silenceFixture } from '../support/silence-fixture.js';

const T0 = 1_700_000_000_000;

const silence = (id: string, overrides: Partial<Silence> = {}): Silence => silenceFixture(id, T0, overrides);

let dir: string;
let path: string;
let store: SqliteIncidentStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lagbot-silences-'));
  path = join(dir, 'lagbot.db');
  store = openSqliteStore(path);
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

// What both stores do with silences is in the store contract (store-contract.test.ts); this
// is SQLite's own: its older files.
describe('the SQLite store of silences', () => {
  it('adds the silences table to a database an older lagbot left, keeping its incidents', async () => {
    await store.close();
    const older = join(dir, 'older.db');
    const db = new Database(older);
    migrate(db, SCHEMA_VERSION - 1);
    db.prepare(`INSERT INTO incidents (id, group_name, status, channel, opened_at, json) VALUES ('inc-1', 'orders', 'resolved', 'C0A', 1, '{}')`).run();
    db.close();
    store = openSqliteStore(older);
    await store.addSilence(silence('sil-aaaa'));
    expect((await store.silencesSince(0)).map((s) => s.id)).toEqual(['sil-aaaa']);
    const check = new Database(older, { readonly: true });
    try {
      expect(check.prepare(`SELECT COUNT(*) AS n FROM incidents`).get()).toEqual({ n: 1 });
    } finally {
      check.close();
    }
  });
});
