import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { OutboxJanitor } from '../../src/store/outbox-janitor.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const DAY = 86_400_000;

describe('OutboxJanitor', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('prunes delivered rows past the retention at start and then every hour, never unfinished ones', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 1) });
    const clock = { now: () => Date.now() };
    const store = openSqliteStore(':memory:', { clock });
    const post = (text: string) => store.commit({ effects: [{ kind: 'post-channel', channel: 'C0LAG', message: { text, blocks: [] } }] });
    await post('old, delivered');
    await post('old, never delivered');
    const [delivered] = (await store.outboxRows());
    await store.markDelivered(delivered?.seq as number, '1.000001');

    const janitor = new OutboxJanitor(store, { retentionMs: 7 * DAY, clock, logger: createLogger('silent') });
    janitor.start();
    expect((await store.outboxRows())).toHaveLength(2); // nothing is 7 days old yet

    vi.setSystemTime(Date.now() + 7 * DAY + 1);
    await post('new, delivered');
    const newest = (await store.outboxRows()).at(-1);
    await store.markDelivered(newest?.seq as number, '2.000001');
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect((await store.outboxRows()).map((r) => r.message.text)).toEqual(['old, never delivered', 'new, delivered']);

    janitor.stop();
    await store.close();
  });
});
