import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartThresholds, incidentChart } from '../../src/core/chart.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { createLogger } from '../../src/log/logger.js';
import { SlackDelivery, createDeliveryClient } from '../../src/slack/delivery.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { chartFile } from '../../src/views/chart-file.js';
import { effectsOf } from '../../src/views/incident-message.js';
import { startSlackStandin, waitFor, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { launchChromium, skipWithoutChromium } from '../support/browser.js';
import { Scenario, ramp } from '../support/scripted.js';

const WHAT = 'the playground chart browser test';
const CHANNEL = 'C0ALERTS';

/**
 * An incident's chart, as lagbot's own delivery uploads it to the stand-in, seen in the
 * playground's thread as an image that a browser actually loaded.
 */
describe.skipIf(skipWithoutChromium(WHAT))('charts in the playground thread, in Chromium', () => {
  let slack: SlackStandin;
  let store: SqliteIncidentStore;
  let delivery: SlackDelivery;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    slack = await startSlackStandin({
      signingSecret: 'playground-charts',
      channels: [{ id: CHANNEL, name: 'lag-alerts' }],
      playground: { channel: CHANNEL, userId: 'U0YOU', userName: 'you', title: 'lagbot playground' },
    });
    store = openSqliteStore(':memory:');
    delivery = new SlackDelivery({ store, client: createDeliveryClient(slack.botToken, { slackApiUrl: slack.apiUrl }), logger: createLogger('silent'), postMinTimeMs: 20, pollIntervalMs: 200 });
    delivery.start();
    browser = await launchChromium(WHAT);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(slack.url);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await delivery?.stop();
    await store?.close();
    await slack?.stop();
  });

  it('shows the chart posted into an incident thread as a loaded image', async () => {
    const s = new Scenario();
    s.checks(ramp(51_000, 90_000, 11));
    const opened = s.steps.at(-1)!;
    const effects = effectsOf(opened, chartThresholds(DEFAULT_RULES.thresholds));
    expect(effects.map((e) => e.kind)).toContain('post-file');
    await store.commit({ incident: opened.incident!, effects });
    delivery.kick();
    await waitFor(async () => (await store.outboxCounts()).pending === 0 && (await store.outboxCounts()).sending === 0, 20_000);

    const root = page.locator('#messages > [data-testid="message"]').first();
    await root.getByTestId('thread-link').click();
    const panel = page.getByTestId('thread-panel');
    const image = panel.getByTestId('file-image');
    await image.waitFor();
    await expect.poll(() => image.evaluate((img) => {
      // The DOM's HTMLImageElement, typed by hand: this project's TypeScript has no DOM lib.
      const loaded = img as unknown as { complete: boolean; naturalWidth: number };
      return loaded.complete ? loaded.naturalWidth : 0;
    }), { timeout: 10_000 }).toBeGreaterThan(1000);
    expect(await image.getAttribute('alt')).toMatch(/^Lag of user-events-consumer: WARNING opened$/);
    expect(await panel.locator('.file-title').textContent()).toBe('Lag of user-events-consumer: WARNING opened');
    // The same chart data, rendered again, is the same file name scheme.
    expect(chartFile(incidentChart(opened.incident!, []), 'x').filename).toMatch(/^lag-user-events-consumer-\d{8}-\d{4}\.png$/);
    await page.screenshot({ path: 'test-results/playground-chart.png' });
  });
});
