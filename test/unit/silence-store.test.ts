import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Silence } from '../../src/core/silence.js';
import { SCHEMA_VERSION, migrate } from '../../src/store/sqlite-schema.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';

const T0 = 1_700_000_000_000;
const H = 3_600_000;

const silence = (id: string, overrides: Partial<Silence> = {}): Silence => ({
  id,
  target: { kind: 'groups', pattern: 'payments-*', cluster: 'prod-eu' },
  by: 'U0SRE',
  reason: 'deploy',
  createdAt: T0,
  startsAt: T0,
  endsAt: T0 + 2 * H,
  endedEarly: null,
  ...overrides,
});

let dir: string;
let path: string;
let store: SqliteIncidentStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lagbot-silences-'));
  path = join(dir, 'lagbot.db');
  store = openSqliteStore(path);
});

afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the SQLite store of silences', () => {
  it('keeps silences across a restart, as they were', async () => {
    await store.addSilence(silence('sil-aaaa'));
    await store.addSilence(silence('sil-bbbb', { target: { kind: 'cluster', cluster: 'prod-us' }, reason: null, startsAt: T0 + H, endsAt: T0 + 3 * H, createdAt: T0 + 1 }));
    store.close();
    store = openSqliteStore(path);
    expect(await store.silence('sil-aaaa')).toEqual(silence('sil-aaaa'));
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

  it('ends a silence early once, and never one already over', async () => {
    await store.addSilence(silence('sil-aaaa'));
    expect(await store.endSilenceEarly('sil-aaaa', 'U0ONE', T0 + H)).toBe(true);
    expect(await store.endSilenceEarly('sil-aaaa', 'U0TWO', T0 + H)).toBe(false);
    expect((await store.silence('sil-aaaa'))?.endedEarly).toEqual({ by: 'U0ONE', at: T0 + H });
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

  it('refuses a second silence with the same id, and a silence ending before it starts', async () => {
    await store.addSilence(silence('sil-aaaa'));
    await expect(store.addSilence(silence('sil-aaaa'))).rejects.toThrow(/UNIQUE/);
    await expect(store.addSilence(silence('sil-bbbb', { endsAt: T0 }))).rejects.toThrow(/CHECK/);
  });

  it('adds the silences table to a database an older lagbot left, keeping its incidents', async () => {
    store.close();
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
