import type { HomeView } from '@slack/types';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { HomeTab, type HomeTabOptions } from '../../src/slack/home-tab.js';

/** The Home tab's refresh policy, with fake timers: debounce, coalescing, bounds, failures. */
describe('HomeTab', () => {
  let now = 0;
  let version = 0;
  let published: Array<{ user: string; version: number }>;
  let tab: HomeTab;
  const view = (): HomeView => ({ type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `v${version}` } }] });
  const versionOf = (v: HomeView): number => Number(JSON.stringify(v.blocks).match(/v(\d+)/)?.[1]);

  const make = (overrides: Partial<HomeTabOptions> = {}): HomeTab =>
    new HomeTab({
      publish: async (user, v) => {
        published.push({ user, version: versionOf(v) });
      },
      view,
      clock: { now: () => now },
      logger: createLogger('silent'),
      debounceMs: 1_000,
      viewerTtlMs: 60_000,
      maxViewers: 3,
      publishMinTimeMs: 10,
      ...overrides,
    });

  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    version = 0;
    published = [];
    tab = make();
  });
  afterEach(async () => {
    await tab.stop();
    vi.useRealTimers();
  });

  it('publishes at once when a user opens Home', async () => {
    const done = tab.opened('U1');
    await vi.advanceTimersByTimeAsync(50);
    await done;
    expect(published).toEqual([{ user: 'U1', version: 0 }]);
  });

  it('coalesces a burst of changes into one publish per recent viewer, with the newest view', async () => {
    await Promise.all([tab.opened('U1'), tab.opened('U2'), vi.advanceTimersByTimeAsync(50)]);
    published = [];
    for (let i = 1; i <= 20; i++) {
      version = i;
      tab.changed();
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(published).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(published).toEqual([
      { user: 'U1', version: 20 },
      { user: 'U2', version: 20 },
    ]);
  });

  it('forgets users who opened Home too long ago, and keeps only the most recent few', async () => {
    await Promise.all([tab.opened('U1'), vi.advanceTimersByTimeAsync(50)]);
    now = 50_000;
    await Promise.all([tab.opened('U2'), tab.opened('U3'), tab.opened('U4'), vi.advanceTimersByTimeAsync(100)]);
    expect(tab.recentViewers()).toEqual(['U2', 'U3', 'U4']);
    now = 60_000;
    await Promise.all([tab.opened('U1'), vi.advanceTimersByTimeAsync(50)]);
    expect(tab.recentViewers()).toEqual(['U3', 'U4', 'U1']);
    now = 115_000;
    expect(tab.recentViewers()).toEqual(['U1']);
  });

  it('logs a refused publish and keeps going', async () => {
    const warn = vi.fn();
    const logger = { ...createLogger('silent'), warn } as unknown as HomeTabOptions['logger'];
    await tab.stop();
    let fail = true;
    tab = make({
      logger,
      publish: async (user, v) => {
        if (fail) throw Object.assign(new Error('An API error occurred: invalid_arguments'), { data: { error: 'invalid_arguments' } });
        published.push({ user, version: versionOf(v) });
      },
    });
    await Promise.all([tab.opened('U1'), vi.advanceTimersByTimeAsync(50)]);
    expect(warn).toHaveBeenCalledWith({ err: 'views.publish answered invalid_arguments', user: 'U1' }, 'could not publish the App Home tab');
    fail = false;
    tab.changed();
    await vi.advanceTimersByTimeAsync(1_100);
    expect(published).toEqual([{ user: 'U1', version: 0 }]);
  });

  it('publishes nothing after stop', async () => {
    await Promise.all([tab.opened('U1'), vi.advanceTimersByTimeAsync(50)]);
    published = [];
    tab.changed();
    await tab.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    await tab.opened('U2');
    expect(published).toEqual([]);
  });
});
