import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareTs } from '../../tools/slack-standin/history.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';

const CHANNEL = 'C0HISTORY';
const META = { event_type: 'lagbot_outbox', event_payload: { seq: 7, incident_id: 'i-1' } };

let standin: SlackStandin;
let client: webApi.WebClient;

beforeEach(async () => {
  standin = await startSlackStandin({ signingSecret: 'history-tests' });
  client = new webApi.WebClient(standin.botToken, { slackApiUrl: standin.apiUrl, retryConfig: { retries: 0 }, logLevel: webApi.LogLevel.ERROR });
});

afterEach(async () => {
  await standin.stop();
});

async function post(text: string, extra: { thread_ts?: string; metadata?: typeof META } = {}): Promise<string> {
  const answer = await client.chat.postMessage({ channel: CHANNEL, text, ...extra });
  return answer.ts!;
}

const texts = (messages: unknown[] | undefined): string[] => (messages ?? []).map((m) => (m as { text: string }).text);

describe('Slack stand-in: conversations.history and conversations.replies', () => {
  it('reads the channel newest first, without thread replies, with metadata only on request', async () => {
    const first = await post('one', { metadata: META });
    await post('reply', { thread_ts: first });
    await post('two');

    const plain = await client.conversations.history({ channel: CHANNEL });
    expect(texts(plain.messages)).toEqual(['two', 'one']);
    expect(plain.messages?.[1]).not.toHaveProperty('metadata');
    expect(plain).toMatchObject({ ok: true, has_more: false, response_metadata: { next_cursor: '' } });
    expect(plain.messages?.[1]).toMatchObject({ ts: first, thread_ts: first, reply_count: 1 });

    const withMeta = await client.conversations.history({ channel: CHANNEL, include_all_metadata: true });
    expect(withMeta.messages?.[1]?.metadata).toEqual(META);
  });

  it('pages with cursors and honours the oldest/latest window', async () => {
    const ts: string[] = [];
    for (const t of ['a', 'b', 'c', 'd', 'e']) ts.push(await post(t));

    const page1 = await client.conversations.history({ channel: CHANNEL, limit: 2 });
    expect(texts(page1.messages)).toEqual(['e', 'd']);
    expect(page1.has_more).toBe(true);
    const page2 = await client.conversations.history({ channel: CHANNEL, limit: 2, cursor: page1.response_metadata!.next_cursor! });
    expect(texts(page2.messages)).toEqual(['c', 'b']);
    const page3 = await client.conversations.history({ channel: CHANNEL, limit: 2, cursor: page2.response_metadata!.next_cursor! });
    expect(texts(page3.messages)).toEqual(['a']);
    expect(page3.has_more).toBe(false);

    const window = await client.conversations.history({ channel: CHANNEL, oldest: ts[1]!, latest: ts[3]! });
    expect(texts(window.messages)).toEqual(['c']);
    const inclusive = await client.conversations.history({ channel: CHANNEL, oldest: ts[1]!, latest: ts[3]!, inclusive: true });
    expect(texts(inclusive.messages)).toEqual(['d', 'c', 'b']);

    await expect(client.conversations.history({ channel: CHANNEL, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({
      data: { error: 'invalid_cursor' },
    });
  });

  it('reads a thread parent first, replies oldest first, from the parent or any reply', async () => {
    const parent = await post('parent');
    const r1 = await post('r1', { thread_ts: parent, metadata: META });
    await post('r2', { thread_ts: parent });

    const all = await client.conversations.replies({ channel: CHANNEL, ts: parent, include_all_metadata: true });
    expect(texts(all.messages)).toEqual(['parent', 'r1', 'r2']);
    expect(all.messages?.[1]?.metadata).toEqual(META);
    expect(texts((await client.conversations.replies({ channel: CHANNEL, ts: r1 })).messages)).toEqual(['parent', 'r1', 'r2']);

    // The parent heads the first page whatever the window says.
    expect(texts((await client.conversations.replies({ channel: CHANNEL, ts: parent, oldest: r1 })).messages)).toEqual(['parent', 'r2']);

    const page1 = await client.conversations.replies({ channel: CHANNEL, ts: parent, limit: 2 });
    expect(texts(page1.messages)).toEqual(['parent', 'r1']);
    const page2 = await client.conversations.replies({ channel: CHANNEL, ts: parent, limit: 2, cursor: page1.response_metadata!.next_cursor! });
    expect(texts(page2.messages)).toEqual(['r2']);

    await expect(client.conversations.replies({ channel: CHANNEL, ts: '1.000100' })).rejects.toMatchObject({ data: { error: 'thread_not_found' } });
  });

  it('compares ts values exactly, beyond double precision', () => {
    expect(compareTs('1700000000.000101', '1700000000.000100')).toBe(1);
    expect(compareTs('1700000000.0001', '1700000000.000100')).toBe(0);
    expect(compareTs('1699999999.999999', '1700000000.000000')).toBe(-1);
  });
});
