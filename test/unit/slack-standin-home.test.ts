import type { AddressInfo } from 'node:net';
import { App, LogLevel, SocketModeReceiver, webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';

const SIGNING_SECRET = 'standin-home-signing-secret';

let standin: SlackStandin | undefined;
let stopApp: (() => Promise<unknown>) | undefined;

afterEach(async () => {
  await stopApp?.();
  await standin?.stop();
  stopApp = undefined;
  standin = undefined;
});

const home = (text: string) => ({ type: 'home' as const, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });

/** A Bolt app that answers app_home_opened on the Home tab with a view naming the user. */
function listen(app: App, seen: unknown[]): void {
  app.event('app_home_opened', async ({ event, client }) => {
    seen.push(event);
    if (event.tab !== 'home') return;
    await client.views.publish({ user_id: event.user, view: home(`hello <@${event.user}>`) });
  });
}

describe('the stand-in App Home', () => {
  it('sends app_home_opened over HTTP, signed, and keeps the view the app publishes per user', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    const app = new App({
      token: standin.botToken,
      signingSecret: SIGNING_SECRET,
      botId: standin.bot.botId,
      botUserId: standin.bot.userId,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } },
    });
    const seen: unknown[] = [];
    listen(app, seen);
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    stopApp = () => app.stop();
    standin.setEventsUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);

    expect((await standin.openHome({ userId: 'U0ALICE' })).status).toBe(200);
    const first = await standin.waitFor(() => standin?.homeView('U0ALICE'));
    expect(first.view.type).toBe('home');
    expect(JSON.stringify(first.view.blocks)).toContain('hello <@U0ALICE>');
    expect(standin.homeView('U0BOB')).toBeUndefined();

    // Opening again carries the current view, as Slack's event does; the Messages tab fires it too.
    await standin.openHome({ userId: 'U0ALICE', tab: 'messages' });
    await standin.waitFor(() => seen.length === 2);
    expect(seen[1]).toMatchObject({ type: 'app_home_opened', user: 'U0ALICE', tab: 'messages', view: { id: first.id, type: 'home' } });

    // A forged signature never reaches the app.
    expect((await standin.openHome({ userId: 'U0ALICE', signature: 'v0=forged' })).status).toBe(401);
  });

  it('sends app_home_opened as an events_api envelope over Socket Mode', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    const receiver = new SocketModeReceiver({ appToken: standin.appToken, logLevel: LogLevel.ERROR, installerOptions: { clientOptions: { slackApiUrl: standin.apiUrl } } });
    const app = new App({ token: standin.botToken, receiver, botId: standin.bot.botId, botUserId: standin.bot.userId, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } } });
    listen(app, []);
    await app.start();
    stopApp = () => app.stop();
    await standin.waitForSocketConnection();
    const ack = await standin.openHomeOverSocket({ userId: 'U0CAROL' });
    expect(ack).toBeDefined();
    const record = await standin.waitFor(() => standin?.homeView('U0CAROL'));
    expect(JSON.stringify(record.view.blocks)).toContain('hello <@U0CAROL>');
    expect(standin.envelopes.at(-1)?.type).toBe('events_api');
  });

  it("refuses views.publish as Slack does: a view must be a home view of at most 100 blocks", async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    // The refusals are the point here: the client need not log them.
    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, setLevel: () => undefined, getLevel: () => LogLevel.ERROR, setName: () => undefined };
    const client = new webApi.WebClient(standin.botToken, { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
    const error = async (args: Record<string, unknown>): Promise<string> => {
      try {
        await client.apiCall('views.publish', args);
        return 'ok';
      } catch (err) {
        return (err as { data: { error: string } }).data.error;
      }
    };
    const blocks = (n: number) => Array.from({ length: n }, () => ({ type: 'divider' }));
    expect(await error({ user_id: 'U0ALICE', view: { type: 'modal', blocks: [] } })).toBe('invalid_arguments');
    expect(await error({ user_id: 'U0ALICE', view: { type: 'home', blocks: blocks(101) } })).toBe('invalid_arguments');
    expect(await error({ user_id: 'U0ALICE', view: { type: 'home', blocks: [{ text: 'no type' }] } })).toBe('invalid_arguments');
    expect(await error({ user_id: 'U0ALICE', view: 'not json' })).toBe('invalid_arguments');
    expect(await error({ view: { type: 'home', blocks: [] } })).toBe('invalid_arguments');
    expect(await error({ user_id: 'not-a-user', view: { type: 'home', blocks: [] } })).toBe('user_not_found');
    expect(standin.homeView('U0ALICE')).toBeUndefined();
    expect(await error({ user_id: 'U0ALICE', view: { type: 'home', blocks: blocks(100) } })).toBe('ok');
    expect(standin.homeView('U0ALICE')?.view.blocks).toHaveLength(100);
  });
});
