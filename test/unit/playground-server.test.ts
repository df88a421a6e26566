import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import type { BlockButtonAction } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_NOTES } from '../../tools/slack-standin/playground/board.js';
import type { PlaygroundEvent } from '../../tools/slack-standin/playground/feed.js';
import { startSlackStandin } from '../../tools/slack-standin/standin.js';
import type { PlaygroundState, SlackStandin, UserInfo } from '../../tools/slack-standin/standin.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';

const SIGNING_SECRET = 'playground-test-signing-secret';
const CHANNEL = 'C0PLAY';

let standin: SlackStandin | undefined;
let app: App | undefined;
const streams: Array<() => void> = [];

afterEach(async () => {
  for (const close of streams.splice(0)) close();
  await app?.stop();
  await standin?.stop();
  app = undefined;
  standin = undefined;
});

async function start(users: UserInfo[] = []): Promise<SlackStandin> {
  standin = await startSlackStandin({
    signingSecret: SIGNING_SECRET,
    channels: [{ id: CHANNEL, name: 'lag-alerts' }],
    users,
    playground: { channel: 'lag-alerts', userId: 'U0ME', userName: 'me', title: 'test playground' },
  });
  return standin;
}

/** A real Bolt app behind the stand-in, as lagbot would be. */
async function startApp(slack: SlackStandin, setup: (app: App) => void): Promise<App> {
  app = new App({
    token: slack.botToken,
    signingSecret: SIGNING_SECRET,
    botId: slack.bot.botId,
    botUserId: slack.bot.userId,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
  });
  setup(app);
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  slack.setEventsUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
  return app;
}

async function postJson(slack: SlackStandin, path: string, body: unknown, contentType = 'application/json') {
  const res = await fetch(new URL(path, slack.url), {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { ok: boolean; error?: string; status?: number } };
}

async function state(slack: SlackStandin): Promise<PlaygroundState> {
  const res = await fetch(new URL('playground/state', slack.url));
  expect(res.status).toBe(200);
  return (await res.json()) as PlaygroundState;
}

async function api(slack: SlackStandin, method: string, args: Record<string, unknown>): Promise<{ ok: boolean; ts?: string; message_ts?: string }> {
  const res = await fetch(`${slack.apiUrl}${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${slack.botToken}`, 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(args),
  });
  return (await res.json()) as { ok: boolean; ts?: string; message_ts?: string };
}

/** An open /playground/events stream, read frame by frame. */
async function openEvents(slack: SlackStandin) {
  const abort = new AbortController();
  const res = await fetch(new URL('playground/events', slack.url), { signal: abort.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const close = () => abort.abort();
  streams.push(close);
  const frame = async (): Promise<string | null> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return text;
      }
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += value;
    }
  };
  return {
    first: frame,
    /** The next event with data, skipping comments and the retry line. */
    async next(): Promise<PlaygroundEvent> {
      for (;;) {
        const text = await frame();
        if (text === null) throw new Error('event stream ended');
        const data = text.split('\n').filter((l) => l.startsWith('data: '));
        if (data.length > 0) return JSON.parse(data.map((l) => l.slice(6)).join('\n')) as PlaygroundEvent;
      }
    },
    /** Resolves once the server ends the stream. */
    async ended(): Promise<void> {
      while ((await frame()) !== null);
    },
    close,
  };
}

/** A port nothing listens on: the shape of a lagbot that is down. */
async function closedPort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

const BUTTON_BLOCKS = [
  { type: 'section', text: { type: 'mrkdwn', text: '*orders-consumer* lag 1200' } },
  { type: 'actions', elements: [{ type: 'button', action_id: 'ack', value: 'orders', text: { type: 'plain_text', text: 'Acknowledge' } }] },
];

describe('playground routes', () => {
  it('serves the page with a nonce-only script policy, and nothing without the option', async () => {
    const slack = await start();
    const res = await fetch(slack.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonce).toBeDefined();
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('test playground');
    expect((await fetch(new URL('playground/state', slack.url), { method: 'DELETE' })).status).toBe(405);

    const plain = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    try {
      expect((await fetch(plain.url)).status).toBe(404);
      expect((await fetch(new URL('playground/state', plain.url))).status).toBe(404);
      expect(() => plain.setBanner('x')).toThrow(/playground option/);
    } finally {
      await plain.stop();
    }
  });

  it('refuses an unknown playground channel without keeping the port', async () => {
    await expect(startSlackStandin({ signingSecret: SIGNING_SECRET, playground: { channel: 'no-such-channel' } })).rejects.toThrow(/unknown channel/);
  });

  it('answers the state: channel, messages with their replies, the viewer’s ephemerals, banner and notes', async () => {
    const slack = await start();
    const root = await api(slack, 'chat.postMessage', { channel: CHANNEL, text: 'root <@U0ALICE>' });
    await api(slack, 'chat.postMessage', { channel: CHANNEL, text: 'reply', thread_ts: root.ts });
    await api(slack, 'chat.postMessage', { channel: 'C0ELSEWHERE', text: 'not here' });
    await api(slack, 'chat.postEphemeral', { channel: CHANNEL, user: 'U0ME', text: 'for me' });
    await api(slack, 'chat.postEphemeral', { channel: CHANNEL, user: 'U0OTHER', text: 'not for me' });
    slack.setBanner('Demo *banner*');
    for (let i = 1; i <= MAX_NOTES + 2; i++) slack.addNote(`note ${i}`);

    const s = await state(slack);
    expect(s.title).toBe('test playground');
    expect(s.channel).toEqual({ id: CHANNEL, name: 'lag-alerts' });
    expect(s.user).toEqual({ id: 'U0ME', name: 'me' });
    expect(s.messages.map((m) => m.text)).toEqual(['root <@U0ALICE>']);
    expect(s.messages[0]?.replies.map((m) => m.text)).toEqual(['reply']);
    expect(s.ephemerals.map((m) => m.text)).toEqual(['for me']);
    expect(s.users).toMatchObject({ U0ME: 'me', U0LAGBOT: 'lagbot', U0ALICE: 'u0alice' });
    expect(s.banner).toBe('Demo *banner*');
    expect(s.notes.map((n) => n.text)).toEqual([7, 6, 5, 4, 3].map((i) => `note ${i}`));
    expect(s.lagbot).toMatchObject({ recent: true, failedAt: null });

    slack.setBanner(null);
    expect((await state(slack)).banner).toBeNull();
  });

  it('pushes an event for every change in the channel, and for banner and notes', async () => {
    const slack = await start();
    const events = await openEvents(slack);
    expect(await events.first()).toMatch(/^retry: \d+/);

    await api(slack, 'chat.postMessage', { channel: 'C0ELSEWHERE', text: 'elsewhere' });
    const posted = await api(slack, 'chat.postMessage', { channel: CHANNEL, text: 'hello' });
    expect(await events.next()).toEqual({ type: 'message', channel: CHANNEL, ts: posted.ts });

    await api(slack, 'chat.update', { channel: CHANNEL, ts: posted.ts, text: 'hello again' });
    expect(await events.next()).toEqual({ type: 'update', channel: CHANNEL, ts: posted.ts });

    await api(slack, 'chat.postEphemeral', { channel: CHANNEL, user: 'U0OTHER', text: 'not mine' });
    const mine = await api(slack, 'chat.postEphemeral', { channel: CHANNEL, user: 'U0ME', text: 'mine' });
    expect(await events.next()).toEqual({ type: 'ephemeral', channel: CHANNEL, ts: mine.message_ts });

    slack.setBanner('up');
    expect(await events.next()).toEqual({ type: 'banner' });
    slack.addNote('a note');
    expect(await events.next()).toEqual({ type: 'notes' });
  });

  it('ends the streams on disconnectClients() and on stop()', async () => {
    const slack = await start();
    const first = await openEvents(slack);
    await first.first();
    slack.playground?.disconnectClients();
    await first.ended();

    const second = await openEvents(slack);
    await second.first();
    await slack.stop();
    await second.ended();
  });
});

describe('playground commands and clicks', () => {
  it('refuses bodies that are not small JSON objects of the right shape', async () => {
    const slack = await start();
    const cases: Array<[string, unknown, string, number, RegExp]> = [
      ['playground/command', { text: 'x' }, 'text/plain', 400, /Content-Type: application\/json/],
      ['playground/command', '{"text":', 'application/json', 400, /not valid JSON/],
      ['playground/command', '[1]', 'application/json', 400, /JSON object/],
      ['playground/command', { text: 42 }, 'application/json', 400, /"text" must be a string/],
      ['playground/command', { text: 'x'.repeat(20_000) }, 'application/json', 413, /larger than/],
      ['playground/click', { channel: CHANNEL, ts: 'yesterday', actionId: 'ack' }, 'application/json', 400, /"ts"/],
      ['playground/click', { channel: CHANNEL, ts: '1.000001', actionId: '' }, 'application/json', 400, /"actionId"/],
      ['playground/click', { channel: CHANNEL, ts: '1.000001', actionId: 'a', ephemeral: 'yes' }, 'application/json', 400, /"ephemeral"/],
      ['playground/click', { channel: CHANNEL, ts: '1.000001', actionId: 'a', value: 7 }, 'application/json', 400, /"value"/],
    ];
    for (const [path, body, type, status, error] of cases) {
      const res = await postJson(slack, path, body, type);
      expect(res.status, `${path} ${JSON.stringify(body).slice(0, 60)}`).toBe(status);
      expect(res.json.ok).toBe(false);
      expect(res.json.error).toMatch(error);
    }
    expect((await fetch(new URL('playground/command', slack.url))).status).toBe(405);
    expect(slack.errors).toEqual([]);
  });

  it('refuses clicks on messages that are gone, buttons that are not there, and ephemerals of others', async () => {
    const slack = await start();
    const posted = await api(slack, 'chat.postMessage', { channel: CHANNEL, text: 'x', blocks: BUTTON_BLOCKS });
    const theirs = await api(slack, 'chat.postEphemeral', { channel: CHANNEL, user: 'U0OTHER', text: 'x', blocks: BUTTON_BLOCKS });
    expect((await postJson(slack, 'playground/click', { channel: CHANNEL, ts: '1.000001', actionId: 'ack' })).status).toBe(404);
    const noButton = await postJson(slack, 'playground/click', { channel: CHANNEL, ts: posted.ts, actionId: 'nope' });
    expect(noButton).toEqual({ status: 400, json: { ok: false, error: 'that message has no button "nope"' } });
    expect((await postJson(slack, 'playground/click', { channel: CHANNEL, ts: theirs.message_ts, actionId: 'ack', ephemeral: true })).status).toBe(404);
  });

  it('says so, without crashing, when lagbot is not there', async () => {
    const slack = await start();
    const none = await postJson(slack, 'playground/command', { text: 'list' });
    expect(none.status).toBe(503);
    expect(none.json.error).toMatch(/not connected yet/);

    slack.setEventsUrl(`http://127.0.0.1:${await closedPort()}/slack/events`);
    const refused = await postJson(slack, 'playground/command', { text: 'user-events-consumer' });
    expect(refused).toEqual({ status: 502, json: { ok: false, error: 'lagbot is not answering (is it restarting?)' } });
    const posted = await api(slack, 'chat.postMessage', { channel: CHANNEL, text: 'x', blocks: BUTTON_BLOCKS });
    const click = await postJson(slack, 'playground/click', { channel: CHANNEL, ts: posted.ts, actionId: 'ack' });
    expect(click.json.error).toBe('lagbot is not answering (is it restarting?)');

    const s = await state(slack);
    expect(s.lagbot.failedAt).not.toBeNull();
    expect(s.lagbot.recent).toBe(false);
    expect(slack.errors).toEqual([]);
    expect((await fetch(slack.url)).status).toBe(200);
  });

  it('sends /lag as the viewer, escaped as Slack escapes typed text, and the answer shows up', async () => {
    const slack = await start();
    const seen: Array<{ text: string; user: string; channel: string }> = [];
    await startApp(slack, (a) =>
      a.command('/lag', async ({ command, ack, respond }) => {
        seen.push({ text: command.text, user: command.user_id, channel: command.channel_id });
        await ack();
        await respond({ response_type: 'ephemeral', text: `lag of ${command.text}` });
      }),
    );
    const events = await openEvents(slack);
    const sent = await postJson(slack, 'playground/command', { text: 'a<b> & c' });
    expect(sent).toEqual({ status: 200, json: { ok: true, status: 200 } });
    expect(seen).toEqual([{ text: 'a&lt;b&gt; &amp; c', user: 'U0ME', channel: CHANNEL }]);
    // The answer may come back before or after the command's own HTTP answer.
    const types = [(await events.next()).type, (await events.next()).type].sort();
    expect(types).toEqual(['ephemeral', 'lagbot']);
    const s = await state(slack);
    expect(s.ephemerals.map((m) => m.text)).toEqual(['lag of a&lt;b&gt; &amp; c']);
  });

  it('clicks a button on a stored message; the app updates it in place', async () => {
    const slack = await start();
    await startApp(slack, (a) =>
      a.action<BlockButtonAction>('ack', async ({ ack, body, action, client }) => {
        await ack();
        await client.chat.update({ channel: body.channel?.id ?? '', ts: body.message?.ts ?? '', text: `acknowledged ${action.value} by <@${body.user.id}>`, blocks: [] });
      }),
    );
    const posted = await api(slack, 'chat.postMessage', { channel: CHANNEL, text: 'x', blocks: BUTTON_BLOCKS });
    const click = await postJson(slack, 'playground/click', { channel: CHANNEL, ts: posted.ts, actionId: 'ack', value: 'orders' });
    expect(click).toEqual({ status: 200, json: { ok: true, status: 200 } });
    const updated = await slack.waitFor(() => slack.message(CHANNEL, posted.ts ?? '')?.edited && slack.message(CHANNEL, posted.ts ?? ''));
    expect(updated.text).toBe('acknowledged orders by <@U0ME>');
  });
});

describe('the playground modals', () => {
  it("draws the modal an app opened for the viewer, submits the people picked as a signed view_submission, shows the app's errors, and cancels", async () => {
    const slack = await start([{ id: 'U0BAD', name: 'bad' }]);
    const submitted: string[][] = [];
    /** The page's state once it shows a modal (views.open may land just after the click's ack). */
    const modalShown = async () => {
      for (let i = 0; i < 200; i += 1) {
        const { modal } = await state(slack);
        if (modal) return modal;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('no modal in the playground state');
    };
    await startApp(slack, (a) => {
      a.action<BlockButtonAction>('ack', async ({ ack, body, client }) => {
        await ack();
        await client.views.open({
          trigger_id: body.trigger_id,
          view: {
            type: 'modal',
            callback_id: 'pick',
            title: { type: 'plain_text', text: 'Add responders' },
            submit: { type: 'plain_text', text: 'Notify' },
            blocks: [{ type: 'input', block_id: 'people', label: { type: 'plain_text', text: 'Who should help?' }, element: { type: 'multi_users_select', action_id: 'picked' } }],
          },
        });
      });
      a.view('pick', async ({ ack, view }) => {
        const users = view.state.values.people?.picked?.selected_users ?? [];
        submitted.push(users);
        if (users.includes('U0BAD')) await ack({ response_action: 'errors', errors: { people: 'Not that one.' } });
        else await ack();
      });
    });
    const posted = await api(slack, 'chat.postMessage', { channel: CHANNEL, text: 'x', blocks: BUTTON_BLOCKS });
    expect((await state(slack)).modal).toBeNull();
    await postJson(slack, 'playground/click', { channel: CHANNEL, ts: posted.ts, actionId: 'ack', value: 'orders' });
    const modal = await modalShown();
    expect(modal).toMatchObject({ title: 'Add responders', submit: 'Notify', close: 'Cancel', label: 'Who should help?', multiple: true, error: null });
    expect(modal.people.map((p) => p.id)).toEqual(expect.arrayContaining(['U0ME', 'U0BAD']));

    expect(await postJson(slack, 'playground/modal', { viewId: modal.id, users: ['U0BAD'] })).toEqual({ status: 200, json: { ok: true, status: 200 } });
    expect((await state(slack)).modal).toMatchObject({ id: modal.id, error: 'Not that one.' });
    expect(await postJson(slack, 'playground/modal', { viewId: modal.id, users: ['U0ME'] })).toEqual({ status: 200, json: { ok: true, status: 200 } });
    expect((await state(slack)).modal).toBeNull();
    expect(submitted).toEqual([['U0BAD'], ['U0ME']]);
    expect(await postJson(slack, 'playground/modal', { viewId: modal.id, users: ['U0ME'] })).toEqual({ status: 404, json: { ok: false, error: 'that form is no longer open' } });

    await postJson(slack, 'playground/click', { channel: CHANNEL, ts: posted.ts, actionId: 'ack', value: 'orders' });
    const second = await modalShown();
    expect(await postJson(slack, 'playground/modal', { viewId: second.id, users: ['not a user'] })).toMatchObject({ status: 400 });
    expect(await postJson(slack, 'playground/modal/close', { viewId: second.id })).toEqual({ status: 200, json: { ok: true } });
    expect((await state(slack)).modal).toBeNull();
    expect(submitted).toHaveLength(2);
  });
});

describe('the playground Home tab', () => {
  it('fires app_home_opened for the viewer, and the state carries only their published Home view', async () => {
    const slack = await start();
    expect(await postJson(slack, 'playground/home', {})).toEqual({ status: 503, json: { ok: false, error: 'lagbot is not connected yet (the stand-in has no events URL)' } });
    await startApp(slack, (a) =>
      a.event('app_home_opened', async ({ event, client }) => {
        await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `home of <@${event.user}>` } }] } });
      }),
    );
    expect((await state(slack)).home).toBeNull();
    // Another user's Home is not the viewer's.
    await slack.openHome({ userId: 'U0OTHER' });
    await slack.waitFor(() => slack.homeView('U0OTHER'));
    expect((await state(slack)).home).toBeNull();

    expect(await postJson(slack, 'playground/home', {})).toEqual({ status: 200, json: { ok: true, status: 200 } });
    await slack.waitFor(() => slack.homeView('U0ME'));
    const { home, users } = await state(slack);
    expect(JSON.stringify(home?.blocks)).toContain('home of <@U0ME>');
    expect(users.U0ME).toBe('me');
  });
});
