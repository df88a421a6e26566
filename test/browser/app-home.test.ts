import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { homeOf, type GroupStanding } from '../../src/core/home.js';
import type { Incident } from '../../src/core/protocol.js';
import { systemClock } from '../../src/core/ports.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { createLogger } from '../../src/log/logger.js';
import { startSlackApp, type RunningSlackApp } from '../../src/slack/app.js';
import { HomeTab } from '../../src/slack/home-tab.js';
import { homeView } from '../../src/views/home.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { launchChromium, skipWithoutChromium } from '../support/browser.js';
import { incidentFixture } from '../support/incident-fixture.js';

const WHAT = 'the playground Home tab browser test';
const SIGNING_SECRET = 'playground-home-signing-secret';
const CHANNEL = 'C0LAGALERT';
const SCREENSHOT = 'test-results/playground-home.png';

/**
 * The playground's Home tab: clicking it fires app_home_opened at the real Bolt app, whose
 * HomeTab publishes lagbot's Home view through views.publish, and the page renders it; a
 * change republishes it and the open page follows.
 */
describe.skipIf(skipWithoutChromium(WHAT))('the playground Home tab in Chromium', () => {
  let slack: SlackStandin;
  let lagbot: RunningSlackApp;
  let home: HomeTab;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let incident: Incident = incidentFixture('inc-1', 'user-events-consumer', {
    severity: 'critical',
    figures: { ...incidentFixture('x', 'x').figures, totalLag: 4_442_768, lagSeconds: 45, lagSecondsMethod: 'estimated' },
  });
  const standings: GroupStanding[] = [
    { cluster: 'default', group: 'user-events-consumer', totalLag: 4_442_768, lagSeconds: 45, lagSecondsMethod: 'estimated' },
    { cluster: 'default', group: 'billing-consumer', totalLag: 12, lagSeconds: null, lagSecondsMethod: null },
  ];

  beforeAll(async () => {
    slack = await startSlackStandin({
      signingSecret: SIGNING_SECRET,
      channels: [{ id: CHANNEL, name: 'lag-alerts' }],
      users: [{ id: 'U0SRE0314', name: 'sre-on-call' }],
      playground: { channel: CHANNEL, userId: 'U0YOU', userName: 'you' },
    });
    const client = new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    home = new HomeTab({
      publish: async (user, view) => {
        await client.views.publish({ user_id: user, view });
      },
      view: () => homeView(homeOf(['default'], [incident], () => standings, Date.now())),
      clock: systemClock,
      logger: createLogger('silent'),
      debounceMs: 100,
    });
    lagbot = await startSlackApp({
      mode: 'http',
      botToken: slack.botToken,
      signingSecret: SIGNING_SECRET,
      apiUrl: slack.apiUrl,
      command: '/lag',
      port: 0,
      host: '127.0.0.1',
      query: { sources: [], clock: systemClock, findingSettings: DEFAULT_RULES.signals },
      logger: createLogger('silent'),
      home,
    });
    slack.setEventsUrl(`http://127.0.0.1:${lagbot.port}/slack/events`);

    browser = await launchChromium(WHAT);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(slack.url);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await home?.stop();
    await lagbot?.stop();
    await slack?.stop();
  });

  it('opens Home: the app gets app_home_opened and the page shows the view it published', async () => {
    expect(slack.homeView('U0YOU')).toBeUndefined();
    await page.getByTestId('home-tab').click();
    await expect.poll(() => page.getByTestId('home').isVisible()).toBe(true);
    const blocks = page.getByTestId('home-blocks');
    await expect.poll(() => blocks.textContent(), { timeout: 10_000 }).toContain('Open incidents (1)');
    const text = (await blocks.textContent()) ?? '';
    expect(text).toContain('Kafka consumer lag');
    expect(text).toContain('CRITICAL user-events-consumer · lag 4,442,768 · staleness 45s (estimated) · not acknowledged');
    expect(text).toContain('1. user-events-consumer · staleness 45s (estimated) · lag 4,442,768');
    expect(text).toContain('2. billing-consumer · staleness — · lag 12');
    expect(await page.getByTestId('home-empty').isHidden()).toBe(true);
    expect(slack.homeView('U0YOU')?.view.type).toBe('home');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('follows a republish live: the acknowledgement appears without reopening', async () => {
    incident = { ...incident, acknowledged: { by: 'U0SRE0314', at: Date.now(), severity: 'critical' } };
    home.changed();
    await expect.poll(() => page.getByTestId('home-blocks').textContent(), { timeout: 10_000 }).toContain('acknowledged by @sre-on-call');
  });

  it('goes back to the channel', async () => {
    await page.getByTestId('channel-tab').click();
    await expect.poll(() => page.getByTestId('home').isHidden()).toBe(true);
    expect(await page.getByTestId('channel-name').textContent()).toBe('# lag-alerts');
    expect(pageErrors).toEqual([]);
  });
});
