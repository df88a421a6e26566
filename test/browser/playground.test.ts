import { mkdir } from 'node:fs/promises';
import type { BlockButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds, ModalIds } from '../../src/core/action-ids.js';
import { computeGroupLag } from '../../src/core/lag.js';
import type { GroupLag } from '../../src/core/protocol.js';
import type { LagSource } from '../../src/core/ports.js';
import type { RunningSlackApp } from '../../src/slack/app.js';
import type { SlackStandin } from '../../tools/slack-standin/standin.js';
import { incidentRootMessage, timelineMessage } from '../../src/views/incident-message.js';
import { peopleModal } from '../../src/views/incident-modals.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
import { launchChromium, skipWithoutChromium } from '../support/browser.js';
import { Scenario, ramp } from '../support/scripted.js';
import { startSlackRig } from '../support/slack.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';

const WHAT = 'the Slack playground browser test';

const CHANNEL = 'C0LAGALERT';
const SCREENSHOT = 'test-results/playground.png';

/** The Slack side only: lagbot answers from the case study's numbers, no Kafka needed. */
function fakeLagSource(): LagSource {
  const read = (): GroupLag => computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), Date.now());
  return {
    cluster: 'default',
    readGroup: async (group) => (group === 'user-events-consumer' ? read() : null),
    readAllGroups: async () => [read()],
    listGroupNames: async () => ['user-events-consumer'],
  };
}

/** A port nothing listens on: the shape of a lagbot that is down. */
async function closedPort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/** An incident at PAGE severity, with its timeline, built by lagbot's own state machine. */
function pagedIncident(): Scenario {
  const s = new Scenario();
  s.checks(ramp(51_000, 90_000, 11));
  s.checks([2_500_000]);
  return s;
}

describe.skipIf(skipWithoutChromium(WHAT))('Slack playground in Chromium', () => {
  let slack: SlackStandin;
  let lagbot: RunningSlackApp;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const incident = pagedIncident();
  const submissions: string[][] = [];
  let incidentTs = '';

  beforeAll(async () => {
    ({ slack, lagbot } = await startSlackRig(fakeLagSource(), {
      channels: [{ id: CHANNEL, name: 'lag-alerts' }],
      playground: { channel: CHANNEL, userId: 'U0YOU', userName: 'you', title: 'lagbot playground' },
    }));
    // Incidents are off in this app, so the test plays their buttons' part: each click
    // moves the scripted incident on and edits the root, as the real monitor does.
    for (const kind of ['acknowledge', 'resolve'] as const) {
      const actionId = kind === 'acknowledge' ? ActionIds.acknowledgeIncident : ActionIds.resolveIncident;
      lagbot.app.action<BlockButtonAction>(actionId, async ({ ack, body, client }) => {
        await ack();
        incident.click({ kind, user: body.user.id });
        const root = incidentRootMessage(incident.incident!);
        await client.chat.update({ channel: CHANNEL, ts: body.message?.ts ?? '', text: root.text, blocks: root.blocks });
      });
    }

    // "Add responder" opens lagbot's own form; its submission is recorded here.
    lagbot.app.action<BlockButtonAction>(ActionIds.addResponder, async ({ ack, body, client, action }) => {
      await ack();
      await client.views.open({ trigger_id: body.trigger_id, view: peopleModal('add-responders', action.value ?? '') });
    });
    lagbot.app.view<ViewSubmitAction>(ModalIds.addResponder, async ({ ack, view }) => {
      submissions.push(view.state.values[ModalIds.peopleBlock]?.[ModalIds.peopleInput]?.selected_users ?? []);
      await ack();
    });

    browser = await launchChromium(WHAT);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      // The one refused command is meant to fail; Chromium logs every failed fetch.
      if (msg.type() === 'error' && !/status of 502/.test(msg.text())) pageErrors.push(msg.text());
    });
    await page.goto(slack.url);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await lagbot?.stop();
    await slack?.stop();
  });

  const messages = (): Locator => page.locator('#messages > [data-testid="message"]');
  const messageWith = (text: string): Locator => messages().filter({ hasText: text });

  async function post(args: Record<string, unknown>): Promise<string> {
    const res = await lagbot.app.client.chat.postMessage({ channel: CHANNEL, ...args } as Parameters<typeof lagbot.app.client.chat.postMessage>[0]);
    return res.ts as string;
  }

  it('shows the channel, the banner and the notes, live', async () => {
    await expect.poll(() => page.getByTestId('channel-name').textContent()).toBe('# lag-alerts');
    slack.setBanner('Demo: thresholds scaled down; *nothing* here is a real page.');
    slack.addNote('03:12 consumer-2 stops polling: partition 1 starts to lag');
    slack.addNote('03:14 lag crosses the `warning` line');
    await expect.poll(() => page.getByTestId('banner').textContent()).toBe('Demo: thresholds scaled down; nothing here is a real page.');
    await expect.poll(() => page.getByTestId('banner').locator('b').count()).toBe(1);
    await expect.poll(() => page.getByTestId('note').allTextContents()).toEqual([
      expect.stringContaining('03:14 lag crosses the warning line'),
      expect.stringContaining('03:12 consumer-2 stops polling'),
    ]);
  });

  it('says inline when lagbot is not answering', async () => {
    const eventsUrl = slack.eventsUrl as string;
    slack.setEventsUrl(`http://127.0.0.1:${await closedPort()}/slack/events`);
    try {
      await page.getByTestId('composer').fill('/lag list');
      await page.getByTestId('composer').press('Enter');
      const note = page.getByTestId('composer-note');
      await expect.poll(() => note.getAttribute('data-kind')).toBe('error');
      expect(await note.textContent()).toBe('lagbot is not answering (is it restarting?)');
      await expect.poll(() => page.getByTestId('lagbot-status').getAttribute('data-state')).toBe('down');
    } finally {
      slack.setEventsUrl(eventsUrl);
    }
  });

  it('hints at /lag when something else is typed', async () => {
    await page.getByTestId('composer').fill('hello lagbot');
    await page.getByTestId('composer').press('Enter');
    const note = page.getByTestId('composer-note');
    await expect.poll(() => note.getAttribute('data-kind')).toBe('hint');
    expect(await note.textContent()).toContain('Only /lag works here');
    expect(slack.responses).toHaveLength(0);
  });

  it('answers /lag user-events-consumer privately with the partition table', async () => {
    await page.getByTestId('composer').fill('/lag user-events-consumer');
    await page.getByTestId('composer').press('Enter');
    const answer = messageWith('Consumer lag: user-events-consumer');
    await answer.waitFor();
    expect(await answer.getAttribute('data-ephemeral')).toBe('true');
    expect(await answer.getByTestId('ephemeral-marker').textContent()).toContain('Only visible to you');
    const table = (await answer.locator('pre').allTextContents()).join('\n');
    expect(table).toMatch(/user-events-1\s+4,442,768\s+-\s+8,100,442\s+12,543,210/);
    expect(await answer.locator('.b-header').textContent()).toBe('Consumer lag: user-events-consumer');
    expect(await answer.locator('.b-field').first().textContent()).toBe('State\nStable');
    expect(await answer.locator('.emoji').first().textContent()).toBe('🔥');
    expect(await answer.getByTestId('button').getAttribute('data-action-id')).toBe(ActionIds.postLagToChannel);
    expect(await page.getByTestId('composer').inputValue()).toBe('');
    await expect.poll(() => page.getByTestId('lagbot-status').getAttribute('data-state')).toBe('answering');
  });

  it("clicks a button on the private answer: lagbot shares it in the channel and removes the private copy", async () => {
    const answer = messageWith('Consumer lag: user-events-consumer').and(page.locator('[data-ephemeral="true"]'));
    await answer.getByTestId('button').click();
    const shared = messageWith('Shared by @you');
    await shared.waitFor();
    expect(await shared.getAttribute('data-ephemeral')).toBeNull();
    expect(await shared.locator('pre').first().textContent()).toContain('user-events-1');
    await expect.poll(() => page.locator('[data-ephemeral="true"]').filter({ hasText: 'Consumer lag: user-events-consumer' }).count()).toBe(0);
  });

  it('clicks a button: the handler edits the message in place, after a confirm where asked', async () => {
    const root = incidentRootMessage(incident.incident!);
    incidentTs = await post({ text: root.text, blocks: root.blocks });
    const message = messages().and(page.locator(`[data-ts="${incidentTs}"]`));
    await message.waitFor();
    expect(await message.locator('.b-header').textContent()).toBe('PAGE · consumer lag · user-events-consumer');
    const ack = message.locator(`[data-action-id="${ActionIds.acknowledgeIncident}"]`);
    expect(await ack.getAttribute('class')).toBe('btn btn-primary');
    expect(await message.locator(`[data-action-id="${ActionIds.resolveIncident}"]`).getAttribute('class')).toBe('btn btn-danger');

    const indexBefore = await messages().evaluateAll((els, ts) => els.findIndex((e) => e.getAttribute('data-ts') === ts), incidentTs);
    await ack.click();
    await expect.poll(() => message.getByTestId('edited').count()).toBe(1);
    expect(await message.textContent()).toMatch(/Acknowledged\n@you at \d\d:\d\d:\d\d UTC/);
    expect(await messages().evaluateAll((els, ts) => els.findIndex((e) => e.getAttribute('data-ts') === ts), incidentTs)).toBe(indexBefore);

    // Saying no to the confirm dialog sends nothing.
    const clicksBefore = slack.callsOf('chat.update').length;
    page.once('dialog', (dialog) => void dialog.dismiss());
    await message.locator(`[data-action-id="${ActionIds.resolveIncident}"]`).click();
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.callsOf('chat.update')).toHaveLength(clicksBefore);
    expect(await message.locator('.b-header').textContent()).toContain('PAGE');
  });

  it("draws lagbot's Add responder form, and submits the people picked", async () => {
    const message = messages().and(page.locator(`[data-ts="${incidentTs}"]`));
    await message.locator(`[data-action-id="${ActionIds.addResponder}"]`).click();
    const modal = page.getByTestId('modal');
    await modal.waitFor();
    expect(await page.getByTestId('modal-title').textContent()).toBe('Add responders');
    await page.getByTestId('modal-people').selectOption(['U0TESTER']);
    await page.getByTestId('modal-submit').click();
    await expect.poll(() => modal.isHidden()).toBe(true);
    expect(submissions).toEqual([['U0TESTER']]);
  });

  it('opens a thread and shows new replies there live', async () => {
    const [first, second] = incident.timeline;
    for (const entry of [first, second]) {
      const reply = timelineMessage(entry!);
      await post({ text: reply.text, blocks: reply.blocks, thread_ts: incidentTs });
    }
    const root = messages().and(page.locator(`[data-ts="${incidentTs}"]`));
    await expect.poll(() => root.getByTestId('thread-link').textContent()).toBe('2 replies');
    await root.getByTestId('thread-link').click();
    const panel = page.getByTestId('thread-panel');
    await panel.waitFor();
    await expect.poll(() => panel.getByTestId('reply').count()).toBe(2);
    expect(await panel.getByTestId('thread-root').getAttribute('data-ts')).toBe(incidentTs);

    const third = timelineMessage(incident.timeline[2]!);
    const ts = await post({ text: third.text, blocks: third.blocks, thread_ts: incidentTs });
    await panel.locator(`[data-testid="reply"][data-ts="${ts}"]`).waitFor();
    expect(await panel.getByTestId('reply').count()).toBe(3);
    expect(await panel.textContent()).toMatch(/🚨|⬆️/);
  });

  it('shows text that looks like HTML as text', async () => {
    const evil = '&lt;script&gt;window.pwned = 1&lt;/script&gt; &lt;img src=x onerror="window.pwned = 2"&gt; group &lt;!channel&gt;';
    await post({
      text: evil,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '&lt;b&gt;not bold&lt;/b&gt;' } },
        { type: 'section', text: { type: 'mrkdwn', text: evil } },
      ],
    });
    const message = messageWith('window.pwned = 1');
    await message.waitFor();
    expect(await message.locator('.b-header').textContent()).toBe('<b>not bold</b>');
    expect(await message.locator('.content').textContent()).toContain('<script>window.pwned = 1</script> <img src=x onerror="window.pwned = 2"> group <!channel>');
    expect(await message.locator('img, script, .b-header b').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned)).toBeUndefined();
  });

  it('re-syncs after its event stream drops, as after a restart', async () => {
    slack.playground!.disconnectClients();
    // Posted while no page is listening: only the re-sync on reconnect can bring it.
    await post({ text: 'posted while the page was away' });
    await messageWith('posted while the page was away').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('live');
  });

  it('reads well (screenshot) and logged no page errors', async () => {
    await mkdir('test-results', { recursive: true });
    await page.getByTestId('composer').fill('');
    await page.mouse.move(0, 0);
    // Tall enough to show the whole channel at once, /lag answer included.
    await page.setViewportSize({ width: 1440, height: 1700 });
    await page.locator('#scroller').evaluate((el) => el.scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
    expect(slack.errors).toEqual([]);
  });
});
