import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { CheckScheduler } from '../../src/monitor/scheduler.js';

describe('CheckScheduler', () => {
  it('never runs a check while the previous one is still running', async () => {
    let running = 0;
    let most = 0;
    let started = 0;
    // Every second, with a check that takes 1.5 s: ticks arrive while a check runs.
    const scheduler = new CheckScheduler('* * * * * *', async () => {
      started += 1;
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 1_500));
      running -= 1;
    }, createLogger('silent'));
    scheduler.start();
    await new Promise((r) => setTimeout(r, 4_200));
    await scheduler.stop();
    expect(started).toBeGreaterThanOrEqual(2);
    expect(most).toBe(1);
    expect(running).toBe(0); // stop() waited for the check in progress
  }, 15_000);

  it('refuses an invalid schedule', () => {
    expect(() => new CheckScheduler('every minute', async () => undefined, createLogger('silent'))).toThrow('invalid check schedule "every minute"');
  });
});
