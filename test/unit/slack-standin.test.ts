import type { AddressInfo } from 'node:net';
import { App, LogLevel, webApi } from '@slack/bolt';
import type { BlockAction, ButtonAction } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandin } from '../../tools/slack-standin/standin.js';
import type { SlackStandin, SlackStandinOptions, StoredMessage } from '../../tools/slack-standin/standin.js';

const SIGNING_SECRET = 'standin-test-signing-secret';
const CHANNEL = 'C0LAGALERT';

let standin: SlackStandin | undefined;
let app: App | undefined;

async function setup(
  clientOptions: webApi.WebClientOptions = {},
  standinOptions: Partial<SlackStandinOptions> = {},
): Promise<{ standin: SlackStandin; app: App }> {
  standin = await startSlackStandin({ signingSecret: SIGNING_SECRET, ...standinOptions });
  app = new App({
    token: standin.botToken,
    signingSecret: SIGNING_SECRET,
    // Both given, so Bolt skips auth.test and the call log holds only what handlers did.
    botId: standin.bot.botId,
    botUserId: standin.bot.userId,
    processBeforeResponse: true,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 }, ...clientOptions },
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const { port } = server.address() as AddressInfo;
  standin.setEventsUrl(`http://127.0.0.1:${port}/slack/events`);
  return { standin, app };
}

afterEach(async () => {
  await app?.stop();
  await standin?.stop();
  app = undefined;
  standin = undefined;
});

const STATUS_BLOCKS = [
  { type: 'section', text: { type: 'mrkdwn', text: '*orders-consumer* lag 1200' } },
  {
    type: 'actions',
    block_id: 'incident',
    elements: [{ type: 'button', action_id: 'x', value: 'ack:orders', text: { type: 'plain_text', text: 'Acknowledge' } }],
  },
];

describe('Slack stand-in driving a real Bolt app', () => {
  it('delivers a slash command; respond() and client calls reach the stand-in', async () => {
    const { standin, app } = await setup();
    app.command('/echo', async ({ command, ack, respond, client }) => {
      await ack();
      await respond({ text: `hi ${command.text}`, response_type: 'ephemeral' });
      await client.chat.postMessage({ channel: command.channel_id, text: `echo: ${command.text}` });
    });

    const sent = await standin.sendSlashCommand({ command: '/echo', text: 'there', userId: 'U0ALICE', userName: 'alice', channelId: CHANNEL });

    expect(sent.status).toBe(200);
    const response = await standin.waitForResponse(sent.responseUrlId);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ text: 'hi there', response_type: 'ephemeral' });
    expect(standin.ephemerals({ user: 'U0ALICE' })).toMatchObject([{ channel: CHANNEL, text: 'hi there', source: 'response_url' }]);

    const [call] = standin.callsOf('chat.postMessage');
    expect(call).toMatchObject({ status: 200, args: { channel: CHANNEL, text: 'echo: there' }, response: { ok: true } });
    expect(standin.messages(CHANNEL)).toMatchObject([{ text: 'echo: there', user: standin.bot.userId, bot_id: standin.bot.botId }]);
  });

  it('rejects a forged signature with 401 and never runs the handler', async () => {
    const { standin, app } = await setup();
    let ran = false;
    app.command('/echo', async ({ ack }) => {
      ran = true;
      await ack();
    });

    const sent = await standin.sendSlashCommand({ command: '/echo', text: 'x', signature: `v0=${'0'.repeat(64)}` });

    expect(sent.status).toBe(401);
    expect(ran).toBe(false);
    expect(standin.responses).toEqual([]);
  });

  it('rejects a correctly signed request whose timestamp is six minutes old', async () => {
    const { standin, app } = await setup();
    let ran = false;
    app.command('/echo', async ({ ack }) => {
      ran = true;
      await ack();
    });

    const sent = await standin.sendSlashCommand({ command: '/echo', text: 'x', timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });

    expect(sent.status).toBe(401);
    expect(ran).toBe(false);
  });

  it('sends the exact form content type Bolt needs; a charset suffix would make Bolt answer 400', async () => {
    const { standin, app } = await setup();
    let ran = 0;
    app.command('/echo', async ({ ack }) => {
      ran += 1;
      await ack();
    });

    const withCharset = await standin.sendSlashCommand({ command: '/echo', text: 'x', contentType: 'application/x-www-form-urlencoded; charset=utf-8' });
    const exact = await standin.sendSlashCommand({ command: '/echo', text: 'x' });

    expect(withCharset.status).toBe(400);
    expect(exact.status).toBe(200);
    expect(ran).toBe(1);
  });

  it('delivers a button click to app.action with the clicking user, and respond() can replace the message', async () => {
    const { standin, app } = await setup();
    const posted = await app.client.chat.postMessage({ channel: CHANNEL, text: 'lag alert', blocks: STATUS_BLOCKS });
    const message = standin.message(CHANNEL, String(posted.ts));
    if (!message) throw new Error('message was not stored');

    const seen: Array<{ user: string; value: string | undefined; blockId: string; channel: string | undefined }> = [];
    app.action<BlockAction<ButtonAction>>('x', async ({ ack, body, action, respond }) => {
      await ack();
      seen.push({ user: body.user.id, value: action.value, blockId: action.block_id, channel: body.channel?.id });
      await respond({ replace_original: true, text: `acknowledged by <@${body.user.id}>` });
    });

    const sent = await standin.clickButton({ message, actionId: 'x', userId: 'U0BOB', userName: 'bob' });

    expect(sent.status).toBe(200);
    expect(seen).toEqual([{ user: 'U0BOB', value: 'ack:orders', blockId: 'incident', channel: CHANNEL }]);
    const [replaced] = standin.messages(CHANNEL);
    expect(replaced).toMatchObject({ ts: message.ts, text: 'acknowledged by <@U0BOB>', edited: { user: standin.bot.userId } });
    // Blocks survive because the response did not send new ones.
    expect(replaced?.blocks).toHaveLength(2);
  });

  it('passes an injected 429 with its Retry-After to the client', async () => {
    // Without rejectRateLimitedCalls the client sleeps Retry-After seconds and then throws a
    // generic request error; rejecting at once is what surfaces the rate-limit error itself.
    const { standin, app } = await setup({ rejectRateLimitedCalls: true });
    let caught: unknown;
    app.command('/post', async ({ ack, client, command }) => {
      await ack();
      try {
        await client.chat.postMessage({ channel: command.channel_id, text: 'will be limited' });
      } catch (err) {
        caught = err;
      }
    });
    standin.failNext('chat.postMessage', { status: 429, retryAfter: 7 });

    await standin.sendSlashCommand({ command: '/post', text: '', channelId: CHANNEL });

    expect(caught).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 7 });
    expect((caught as { code: string }).code).toBe('slack_webapi_rate_limited_error');
    expect(standin.callsOf('chat.postMessage')).toMatchObject([{ status: 429, response: { ok: false, error: 'ratelimited' } }]);
    expect(standin.messages(CHANNEL)).toEqual([]);
  });

  it('lets a retrying client through once the fault is used up', async () => {
    const { standin, app } = await setup({ retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    standin.failNext('chat.postMessage', { status: 429, retryAfter: 1 });

    const result = await app.client.chat.postMessage({ channel: CHANNEL, text: 'second time lucky' });

    expect(result.ok).toBe(true);
    expect(standin.callsOf('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
  });

  it('edits a message in place with chat.update', async () => {
    const { standin, app } = await setup();
    const first = await app.client.chat.postMessage({ channel: CHANNEL, text: 'lag 100', blocks: STATUS_BLOCKS });
    const second = await app.client.chat.postMessage({ channel: CHANNEL, text: 'another' });
    const updates: StoredMessage[] = [];
    standin.on('update', (m) => {
      if ('source' in m && m.source === 'web_api') updates.push(m as StoredMessage);
    });

    const updated = await app.client.chat.update({ channel: CHANNEL, ts: String(first.ts), text: 'lag 5', blocks: [] });

    expect(updated).toMatchObject({ ok: true, channel: CHANNEL, ts: first.ts, text: 'lag 5' });
    const stored = standin.messages(CHANNEL);
    expect(stored.map((m) => [m.ts, m.text])).toEqual([
      [first.ts, 'lag 5'],
      [second.ts, 'another'],
    ]);
    expect(stored[0]?.blocks).toBeUndefined();
    expect(updates).toHaveLength(1);

    const missing = await app.client.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: webApi.ErrorCode.PlatformError, data: { error: 'message_not_found' } });
  });
});

/** A raw Web API request, to check the HTTP edge without an SDK smoothing things over. */
async function api(s: SlackStandin, method: string, body: Record<string, string> | object, opts: { token?: string | null; json?: boolean } = {}) {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? s.botToken : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let payload: string;
  if (opts.json) {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    payload = JSON.stringify(body);
  } else {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(body as Record<string, string>).toString();
  }
  const res = await fetch(`${s.apiUrl}${method}`, { method: 'POST', headers, body: payload });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined };
}

describe('Slack stand-in Web API edge', () => {
  it('answers like Slack for unknown methods and bad tokens', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET, botToken: 'xoxb-right' });
    expect(await api(standin, 'chat.frobnicate', {})).toMatchObject({ status: 200, json: { ok: false, error: 'unknown_method' } });
    expect(await api(standin, 'auth.test', {}, { token: 'xoxb-wrong' })).toMatchObject({ json: { ok: false, error: 'invalid_auth' } });
    expect(await api(standin, 'auth.test', {}, { token: null })).toMatchObject({ json: { ok: false, error: 'not_authed' } });
    // The token may also travel as a form field.
    expect(await api(standin, 'auth.test', { token: 'xoxb-right' }, { token: null })).toMatchObject({
      json: { ok: true, user_id: standin.bot.userId, bot_id: standin.bot.botId, team_id: standin.team.id },
    });
    expect(standin.calls.map((c) => c.method)).toEqual(['chat.frobnicate', 'auth.test', 'auth.test', 'auth.test']);
    expect(standin.calls[3]?.args).toEqual({});
  });

  it('validates message content', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    const block = { type: 'section', text: { type: 'mrkdwn', text: 'hi' } };
    const error = async (body: Record<string, string>) => (await api(standin as SlackStandin, 'chat.postMessage', body)).json?.error;

    expect(await error({ text: 'no channel' })).toBe('invalid_arguments');
    expect(await error({ channel: CHANNEL })).toBe('no_text');
    expect(await error({ channel: CHANNEL, text: '' })).toBe('no_text');
    expect(await error({ channel: CHANNEL, blocks: '{"type":"section"}' })).toBe('invalid_blocks');
    expect(await error({ channel: CHANNEL, blocks: 'not json' })).toBe('invalid_blocks');
    expect(await error({ channel: CHANNEL, blocks: JSON.stringify(Array(51).fill(block)) })).toBe('invalid_blocks');
    expect(await error({ channel: CHANNEL, text: 'x'.repeat(40_001) })).toBe('msg_too_long');
    expect(await error({ channel: '#no-such-channel', text: 'x' })).toBe('channel_not_found');
    expect(await error({ channel: CHANNEL, text: 'x', thread_ts: '1.000001' })).toBe('thread_not_found');

    const ok = await api(standin, 'chat.postMessage', { channel: CHANNEL, blocks: JSON.stringify(Array(50).fill(block)) });
    expect(ok.json).toMatchObject({ ok: true, channel: CHANNEL });
    expect(standin.messages(CHANNEL)).toHaveLength(1);
    // Recorded args carry blocks decoded from the form's JSON string.
    expect(standin.callsOf('chat.postMessage').at(-1)?.args.blocks).toHaveLength(50);
  });

  it('accepts JSON bodies, resolves channel names, and threads replies under the parent', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET, channels: [{ id: CHANNEL, name: 'lag-alerts' }] });
    const parent = await api(standin, 'chat.postMessage', { channel: '#lag-alerts', text: 'incident opened' }, { json: true });
    expect(parent.json).toMatchObject({ ok: true, channel: CHANNEL });
    const parentTs = String(parent.json?.ts);

    const reply = await api(standin, 'chat.postMessage', { channel: CHANNEL, text: 'lag rising', thread_ts: parentTs }, { json: true });
    const replyTs = String(reply.json?.ts);
    // Replying to a reply lands in the parent's thread, as in Slack.
    await api(standin, 'chat.postMessage', { channel: CHANNEL, text: 'resolved', thread_ts: replyTs, reply_broadcast: 'true' });

    expect(replyTs > parentTs).toBe(true);
    expect(standin.thread(CHANNEL, parentTs).map((m) => m.text)).toEqual(['incident opened', 'lag rising', 'resolved']);
    expect(standin.thread(CHANNEL, replyTs)).toHaveLength(3);
    const [top, broadcast] = standin.messages(CHANNEL);
    expect(top).toMatchObject({ text: 'incident opened', thread_ts: parentTs, reply_count: 2 });
    expect(broadcast).toMatchObject({ text: 'resolved', subtype: 'thread_broadcast', thread_ts: parentTs });
    expect(standin.messages(CHANNEL)).toHaveLength(2);

    const link = await api(standin, 'chat.getPermalink', { channel: CHANNEL, message_ts: replyTs });
    expect(link.json?.permalink).toBe(`${standin.url}archives/${CHANNEL}/p${replyTs.replace('.', '')}?thread_ts=${parentTs}&cid=${CHANNEL}`);
    expect((await api(standin, 'chat.getPermalink', { channel: CHANNEL, message_ts: '1.000001' })).json?.error).toBe('message_not_found');
  });

  it('serves postEphemeral, conversations.info and users.info', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET, users: [{ id: 'U0ALICE', name: 'alice' }] });
    const eph = await api(standin, 'chat.postEphemeral', { channel: CHANNEL, user: 'U0ALICE', text: 'only you' });
    expect(eph.json).toMatchObject({ ok: true, message_ts: expect.any(String) as string });
    expect(standin.ephemerals({ user: 'U0ALICE' })).toMatchObject([{ channel: CHANNEL, text: 'only you', ts: eph.json?.message_ts }]);
    expect(standin.messages(CHANNEL)).toEqual([]);

    expect((await api(standin, 'conversations.info', { channel: CHANNEL })).json).toMatchObject({
      ok: true,
      channel: { id: CHANNEL, is_channel: true, is_member: true },
    });
    expect((await api(standin, 'users.info', { user: 'U0ALICE' })).json).toMatchObject({ ok: true, user: { id: 'U0ALICE', name: 'alice', is_bot: false } });
    expect((await api(standin, 'users.info', { user: 'nobody' })).json?.error).toBe('user_not_found');
  });

  it('serves usergroups.users.list and a paged conversations.members, with membership tests can change', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    expect((await api(standin, 'usergroups.users.list', { usergroup: 'S0SRE' })).json).toEqual({ ok: false, error: 'no_such_subteam' });
    standin.memberships.setUsergroup('S0SRE', ['U0ALICE', 'U0BOB']);
    expect((await api(standin, 'usergroups.users.list', { usergroup: 'S0SRE' })).json).toEqual({ ok: true, users: ['U0ALICE', 'U0BOB'] });
    standin.memberships.removeFromUsergroup('S0SRE', 'U0BOB');
    expect((await api(standin, 'usergroups.users.list', { usergroup: 'S0SRE' })).json).toEqual({ ok: true, users: ['U0ALICE'] });

    // Slack's WebClient follows the cursor like any caller: three pages of two, then an empty cursor.
    standin.memberships.setChannelMembers(CHANNEL, ['U0A', 'U0B', 'U0C', 'U0D', 'U0E']);
    const client = new webApi.WebClient(standin.botToken, { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 } });
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.conversations.members({ channel: CHANNEL, limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.members ?? []);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    expect(pages).toEqual([['U0A', 'U0B'], ['U0C', 'U0D'], ['U0E', standin.bot.userId]]);
    expect((await api(standin, 'conversations.members', { channel: CHANNEL, cursor: 'bm9wZQ==' })).json).toEqual({ ok: false, error: 'invalid_cursor' });
    expect((await api(standin, 'conversations.members', { channel: '#nowhere' })).json).toEqual({ ok: false, error: 'channel_not_found' });
  });

  it('injects faults in order and then behaves normally', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    standin.failNext('chat.postMessage', { error: 'not_in_channel' });
    standin.failNext('chat.postMessage', { status: 500 });
    standin.failNext('chat.postMessage', { status: 429, retryAfter: 3 }, 2);
    const body = { channel: CHANNEL, text: 'x' };

    expect(await api(standin, 'chat.postMessage', body)).toMatchObject({ status: 200, json: { ok: false, error: 'not_in_channel' } });
    expect((await api(standin, 'chat.postMessage', body)).status).toBe(500);
    expect(await api(standin, 'chat.postMessage', body)).toMatchObject({ status: 429, retryAfter: '3' });
    expect(await api(standin, 'chat.postMessage', body)).toMatchObject({ status: 429, retryAfter: '3' });
    expect(await api(standin, 'chat.postMessage', body)).toMatchObject({ status: 200, json: { ok: true } });
    expect(standin.calls.map((c) => c.status)).toEqual([200, 500, 429, 429, 200]);
    expect(standin.messages(CHANNEL)).toHaveLength(1);
  });

  it('emits live events with plain, serializable data', async () => {
    standin = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    const seen: string[] = [];
    standin.on('message', (m) => seen.push(`message:${m.text}`));
    standin.on('update', (m) => seen.push(`update:${m.text}`));
    standin.on('call', (c) => seen.push(`call:${c.method}`));

    const posted = await api(standin, 'chat.postMessage', { channel: CHANNEL, text: 'a' });
    await api(standin, 'chat.update', { channel: CHANNEL, ts: String(posted.json?.ts), text: 'b' });

    expect(seen).toEqual(['message:a', 'call:chat.postMessage', 'update:b', 'call:chat.update']);
    const snapshot = standin.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot.channels[CHANNEL]).toMatchObject([{ text: 'b' }]);
  });
});

describe('Slack stand-in response_url', () => {
  async function postTo(s: SlackStandin, id: string, body: object) {
    const res = await fetch(`${s.url}response/${id}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { ok: boolean; error?: string } };
  }

  it('allows five uses, then answers 404 used_url', async () => {
    const { standin, app } = await setup();
    app.command('/lag', async ({ ack }) => ack());
    const { responseUrlId } = await standin.sendSlashCommand({ command: '/lag', text: '', channelId: CHANNEL });

    for (let i = 1; i <= 5; i++) {
      expect((await postTo(standin, responseUrlId, { text: `update ${i}`, response_type: 'in_channel' })).status).toBe(200);
    }
    expect(await postTo(standin, responseUrlId, { text: 'one too many' })).toEqual({ status: 404, json: { ok: false, error: 'used_url' } });
    // in_channel answers are channel messages; the refused one left no trace but the record.
    expect(standin.messages(CHANNEL).map((m) => m.text)).toEqual(['update 1', 'update 2', 'update 3', 'update 4', 'update 5']);
    expect(standin.responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 404]);
    expect(standin.responses.at(-1)?.error).toBe('used_url');
  });

  it('expires after 30 minutes, and Bolt surfaces the failure from respond()', async () => {
    let now = Date.now();
    const { standin, app } = await setup({}, { clock: () => now });
    let respondError: unknown;
    app.command('/lag', async ({ ack, respond }) => {
      await ack();
      now += 31 * 60 * 1000;
      await respond('too late').catch((err: unknown) => {
        respondError = err;
      });
    });

    const { responseUrlId } = await standin.sendSlashCommand({ command: '/lag', text: '' });

    expect(respondError).toMatchObject({ code: 'slack_bolt_respond_error', statusCode: 404 });
    expect(standin.responses).toMatchObject([{ id: responseUrlId, status: 404, error: 'expired_url' }]);
    expect(await postTo(standin, 'no-such-id', { text: 'x' })).toMatchObject({ status: 404, json: { error: 'invalid_url' } });
  });

  it('replaces and deletes an ephemeral message whose button was clicked', async () => {
    const { standin, app } = await setup();
    await app.client.chat.postEphemeral({ channel: CHANNEL, user: 'U0ALICE', text: 'pick one', blocks: STATUS_BLOCKS });
    const [eph] = standin.ephemerals({ user: 'U0ALICE' });
    if (!eph) throw new Error('ephemeral not stored');
    const bodies: Array<Record<string, unknown>> = [];
    app.action('x', async ({ ack, body, respond }) => {
      await ack();
      bodies.push(body as unknown as Record<string, unknown>);
      await respond({ delete_original: true });
    });

    await standin.clickButton({ message: eph, actionId: 'x' });

    expect(bodies[0]).toMatchObject({ user: { id: 'U0ALICE' }, container: { is_ephemeral: true, message_ts: eph.ts } });
    expect(bodies[0]?.message).toBeUndefined();
    expect(standin.ephemerals({ user: 'U0ALICE' })).toEqual([]);
  });

  it('refuses to click a button that is not in the message', async () => {
    const { standin } = await setup();
    await expect(standin.clickButton({ message: { ts: '1.000100', channel: CHANNEL, blocks: STATUS_BLOCKS }, actionId: 'nope' })).rejects.toThrow(
      /no button with action_id "nope"/,
    );
  });
});
