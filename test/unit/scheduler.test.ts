import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { CheckScheduler } from '../../src/monitor/scheduler.js';

describe('CheckScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-12-01T03:14:00.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never runs a check while the previous one is still running, and stop() waits for it', async () => {
    let running = 0;
    let most = 0;
    let started = 0;
    // Every second, with a check that takes 1.5 s: ticks arrive while a check runs.
    const scheduler = new CheckScheduler(
      '* * * * * *',
      async () => {
        started += 1;
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 1_500));
        running -= 1;
      },
      createLogger('silent'),
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(4_200);
    const stopping = scheduler.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    await stopping;
    expect(started).toBeGreaterThanOrEqual(2);
    expect(started).toBeLessThanOrEqual(3);
    expect(most).toBe(1);
    expect(running).toBe(0);
  });

  it('runs a check at each tick of its schedule', async () => {
    let started = 0;
    const scheduler = new CheckScheduler('*/30 * * * * *', async () => void (started += 1), createLogger('silent'));
    scheduler.start();
    await vi.advanceTimersByTimeAsync(95_000);
    await scheduler.stop();
    expect(started).toBe(3);
  });

  it('refuses an invalid schedule', () => {
    expect(() => new CheckScheduler('every minute', async () => undefined, createLogger('silent'))).toThrow('invalid check schedule "every minute"');
  });
});
