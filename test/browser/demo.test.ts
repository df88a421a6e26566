import { mkdir } from 'node:fs/promises';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo, type RunningDemo } from '../../tools/demo/run.js';
import { launchChromium, skipWithoutChromium } from '../support/browser.js';

const WHAT = 'the demo browser test';
const SCREENSHOT = 'test-results/demo-incident.png';

/**
 * `npm run demo` as a person sees it: the real broker, consumer group and lagbot
 * process, driven through the Slack playground in Chromium. It plays the case study
 * to the resolution and its postmortem draft (about three minutes).
 */
describe.skipIf(skipWithoutChromium(WHAT))('the demo in a browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;
  const log: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium(WHAT);
    demo = await runDemo({ log: (line) => log.push(line) });
    page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(demo.url);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  const channelMessages = (): Locator => page.locator('#messages > [data-testid="message"]');
  const incidentRoot = (): Locator => channelMessages().filter({ hasText: 'consumer lag · user-events-consumer' }).first();

  it('answers /lag user-events-consumer with the partition table, privately', async () => {
    await page.getByTestId('composer').fill('/lag user-events-consumer');
    await page.getByTestId('composer').press('Enter');
    const answer = channelMessages().filter({ hasText: 'Consumer lag: user-events-consumer' }).last();
    await answer.waitFor({ timeout: 20_000 });
    await expect.poll(() => answer.textContent()).toMatch(/PARTITION\s+LAG\s+STALE\s+(IN\/S\s+OUT\/S\s+)?COMMITTED\s+LOG-END\s+OWNER/);
    for (const p of [0, 1, 2]) expect(await answer.textContent()).toContain(`user-events-${p}`);
    expect(await answer.getByTestId('ephemeral-marker').count()).toBe(1);
    expect(await answer.textContent()).toMatch(/Members\s*3/);
  });

  it('opens an incident when partition 1 slows down, and escalates it', async () => {
    await incidentRoot().waitFor({ timeout: 90_000 });
    await expect.poll(() => incidentRoot().textContent(), { timeout: 120_000, interval: 1_000 }).toMatch(/(CRITICAL|PAGE) · consumer lag/);
    await incidentRoot().getByTestId('thread-link').click();
    const thread = page.getByTestId('thread-panel');
    await expect.poll(() => thread.textContent(), { timeout: 30_000 }).toMatch(/Opened at (WARNING|CRITICAL)/);
    await expect.poll(() => thread.textContent(), { timeout: 30_000 }).toContain('Hot partition user-events-1');
    await expect.poll(() => thread.textContent(), { timeout: 30_000 }).toMatch(/Escalated to (CRITICAL|PAGE)/);
    // How stale the group is, and why: the slow owner of partition 1, named by its rates.
    expect(await incidentRoot().textContent()).toMatch(/Staleness\s*~?\d+(\.\d+)?\s?(s|min)/);
    const told = async () => `${await incidentRoot().textContent()}\n${await thread.textContent()}`;
    await expect.poll(told, { timeout: 60_000, interval: 1_000 }).toMatch(/user-events-1.{0,40} is consumed at/);
    // The opening chart, shared into the thread, loads as an image.
    const chart = thread.getByTestId('file-image').first();
    await chart.waitFor({ timeout: 30_000 });
    await expect.poll(() => chart.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('takes an Acknowledge click: the root message and the thread show who', async () => {
    await incidentRoot().locator('[data-testid="button"][data-action-id="incident_acknowledge"]').click();
    await expect.poll(() => incidentRoot().textContent(), { timeout: 20_000 }).toMatch(/Acknowledged\s*@you at/);
    await expect.poll(() => page.getByTestId('thread-panel').textContent(), { timeout: 20_000 }).toMatch(/Acknowledged by @you at (WARNING|CRITICAL|PAGE)/);
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  it('keeps working when lagbot is killed: the demo restarts it and the same incident goes on', async () => {
    const pid = demo.lagbot.pid as number;
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => demo.lagbot.pid !== pid, { timeout: 20_000 }).toBe(true);
    await demo.lagbot.ready();
    await page.getByTestId('composer').fill('/lag user-events-consumer members');
    await page.getByTestId('composer').press('Enter');
    const answer = channelMessages().filter({ hasText: 'Members: user-events-consumer' }).last();
    await answer.waitFor({ timeout: 20_000 });
    expect(await answer.textContent()).toContain('user-events-worker-');
    // Still one incident, and its thread keeps growing after the restart.
    const replies = await page.getByTestId('thread-panel').getByTestId('reply').count();
    await expect.poll(() => page.getByTestId('thread-panel').getByTestId('reply').count(), { timeout: 60_000, interval: 1_000 }).toBeGreaterThan(replies);
    expect(await channelMessages().filter({ hasText: 'consumer lag · user-events-consumer' }).count()).toBe(1);
  });

  it('resolves when the fix goes out, with its postmortem draft in the thread', async () => {
    await expect.poll(() => incidentRoot().textContent(), { timeout: 180_000, interval: 2_000 }).toMatch(/RESOLVED/);
    const thread = page.getByTestId('thread-panel');
    await expect.poll(() => thread.getByTestId('file').filter({ hasText: /^postmortem-.*\.md$/ }).count(), { timeout: 30_000 }).toBe(1);
  });
});
