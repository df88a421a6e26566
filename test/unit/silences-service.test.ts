import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { LagMetrics } from '../../src/metrics/metrics.js';
import { Silences } from '../../src/monitor/silences.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 3, 1, 0);

let now = T0;
const clock = { now: () => now };
let store: SqliteIncidentStore;
let silences: Silences;
let ids = 0;

beforeEach(() => {
  now = T0;
  store = openSqliteStore(':memory:');
  silences = new Silences({ store, clock, clusters: ['prod-eu'], logger: createLogger('silent'), newId: () => `sil-${String(++ids).padStart(4, '0')}` });
});

afterEach(() => store.close());

const gauge = async (metrics: LagMetrics): Promise<number> => {
  const text = await metrics.registry.metrics();
  return Number(/^lagbot_silences_active (\S+)$/m.exec(text)?.[1]);
};

describe('Silences', () => {
  it('keeps what the core planned, and refuses what it refused without keeping it', async () => {
    const plan = await silences.create({ target: { kind: 'cluster', cluster: 'prod-eu' }, durationMs: 2 * H, from: null, reason: null }, 'U0SRE');
    expect(plan.ok).toBe(true);
    const refused = await silences.create({ target: { kind: 'cluster', cluster: 'staging' }, durationMs: 2 * H, from: null, reason: null }, 'U0SRE');
    expect(refused).toMatchObject({ ok: false, problem: { kind: 'unknown-cluster' } });
    expect((await store.silencesSince(0)).map((s) => s.target)).toEqual([{ kind: 'cluster', cluster: 'prod-eu' }]);
  });

  it('counts the silences in force at scrape time: they start and expire with the clock alone', async () => {
    const metrics = new LagMetrics({ defaultMetrics: false });
    metrics.countSilencesWith(() => silences.activeNow());
    await silences.create({ target: { kind: 'groups', pattern: 'a-*', cluster: null }, durationMs: H, from: null, reason: null }, 'U0SRE');
    await silences.create({ target: { kind: 'groups', pattern: 'b-*', cluster: null }, durationMs: H, from: T0 + 30 * 60_000, reason: null }, 'U0SRE');
    expect(await gauge(metrics)).toBe(1);
    now = T0 + 30 * 60_000;
    expect(await gauge(metrics)).toBe(2);
    now = T0 + H;
    expect(await gauge(metrics)).toBe(1);
    now = T0 + 2 * H;
    expect(await gauge(metrics)).toBe(0);
  });

  it('tells of each silence set or ended here (the Home tab republishes), not of a refused one', async () => {
    let changes = 0;
    const told = new Silences({ store, clock, clusters: ['prod-eu'], logger: createLogger('silent'), changed: () => void (changes += 1) });
    const plan = await told.create({ target: { kind: 'cluster', cluster: 'prod-eu' }, durationMs: H, from: null, reason: null }, 'U0SRE');
    await told.create({ target: { kind: 'cluster', cluster: 'staging' }, durationMs: H, from: null, reason: null }, 'U0SRE');
    expect(changes).toBe(1);
    if (!plan.ok) throw new Error('refused');
    await told.end(plan.silence.id, 'U0SRE');
    await told.end(plan.silence.id, 'U0SRE');
    expect(changes).toBe(2);
  });

  it('ends a silence once: a second End now is told it is already over', async () => {
    const plan = await silences.create({ target: { kind: 'groups', pattern: 'a-*', cluster: null }, durationMs: H, from: null, reason: null }, 'U0SRE');
    if (!plan.ok) throw new Error('refused');
    now += 1000;
    const [first, second] = await Promise.all([silences.end(plan.silence.id, 'U0ONE'), silences.end(plan.silence.id, 'U0TWO')]);
    expect([first.kind, second.kind].sort()).toEqual(['already-over', 'ended']);
    expect((await store.silence(plan.silence.id))?.endedEarly).toMatchObject({ at: T0 + 1000 });
    expect(await silences.current()).toEqual([]);
    expect(await silences.end('sil-none', 'U0ONE')).toEqual({ kind: 'no-such-silence', id: 'sil-none' });
  });

  it('forgets silences over for a week', async () => {
    await silences.create({ target: { kind: 'groups', pattern: 'a-*', cluster: null }, durationMs: H, from: null, reason: null }, 'U0SRE');
    now = T0 + 8 * 24 * H;
    await silences.forCheck(now);
    expect(await store.silencesSince(0)).toEqual([]);
  });
});
