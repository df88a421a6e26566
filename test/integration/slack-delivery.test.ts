import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LagChart } from '../../src/core/chart.js';
import type { Incident, SlackEffect } from '../../src/core/protocol.js';
import { chartRenderer, stopChartRenderer } from '../../src/charts/renderer.js';
import { createLogger } from '../../src/log/logger.js';
import { SlackDelivery, createDeliveryClient, type SlackDeliveryOptions } from '../../src/slack/delivery.js';
import { outboxMetadata } from '../../src/slack/delivery-lookup.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import { startSlackStandin, waitFor, type ApiCall, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { effects, incidentFixture, markdownFile, type MessageEffect } from '../support/incident-fixture.js';

const CHANNEL = 'C0LAGALERT';

/** Short pacing so the whole file stays well under half a minute. */
const FAST: Partial<SlackDeliveryOptions> = { postMinTimeMs: 30, backoffInitialMs: 100, backoffMaxMs: 400, pollIntervalMs: 200 };

function incident(id: string, group: string, channel = CHANNEL): Incident {
  return incidentFixture(id, group, { channel, openedAt: Date.now(), peakLag: 1_000, lastState: null, lastMemberIds: null });
}

const postRoot = (incidentId: string, text: string, channel = CHANNEL): MessageEffect => effects.postRoot(incidentId, channel, text);
const updateRoot = (incidentId: string, text: string): MessageEffect => effects.updateRoot(incidentId, CHANNEL, text);
const postThread = (incidentId: string, text: string, channel = CHANNEL): MessageEffect => effects.postThread(incidentId, channel, text);
const postChannel = (channel: string, text: string): MessageEffect => effects.postChannel(channel, text);

interface Rig {
  delivery: SlackDelivery;
  store: SqliteIncidentStore;
}

let slack: SlackStandin;
let dir: string;
const running: Rig[] = [];

beforeEach(async () => {
  slack = await startSlackStandin({ signingSecret: 'delivery-tests-sign-nothing' });
  dir = await mkdtemp(join(tmpdir(), 'lagbot-delivery-'));
});

afterEach(async () => {
  for (const { delivery, store } of running.splice(0)) {
    await delivery.stop();
    await store.close();
  }
  await slack.stop();
  await rm(dir, { recursive: true, force: true });
});

function startDelivery(path = join(dir, 'lagbot.db'), options: Partial<SlackDeliveryOptions> = {}): Rig {
  const store = openSqliteStore(path);
  const client = createDeliveryClient(slack.botToken, { slackApiUrl: slack.apiUrl, timeoutMs: options.callTimeoutMs ?? 5_000 });
  const delivery = new SlackDelivery({ store, client, logger: createLogger('silent'), ...FAST, ...options });
  delivery.start();
  running.push({ delivery, store });
  return { delivery, store };
}

/** What the core does: commit, then kick. */
async function commit(rig: Rig, change: Parameters<SqliteIncidentStore['commit']>[0]): Promise<void> {
  await rig.store.commit(change);
  rig.delivery.kick();
}

function settled(store: SqliteIncidentStore, timeoutMs = 10_000): Promise<true> {
  return waitFor(async () => {
    const c = (await store.outboxCounts());
    return c.pending === 0 && c.sending === 0;
  }, timeoutMs);
}

const texts = (messages: { text: string }[]): string[] => messages.map((m) => m.text);
const posts = (): ApiCall[] => slack.callsOf('chat.postMessage');
const okPosts = (): ApiCall[] => posts().filter((c) => c.status === 200 && (c.response as { ok?: boolean }).ok === true);

describe('Slack delivery from the outbox, against the Slack stand-in', () => {
  it('posts one root and its timeline in order, in the root thread', async () => {
    const rig = startDelivery();
    const entries = Array.from({ length: 10 }, (_, i) => postThread('i-a', `entry ${i + 1}`));
    await commit(rig, { incident: incident('i-a', 'orders'), effects: [postRoot('i-a', 'orders lagging'), ...entries] });
    await settled(rig.store);

    const channel = slack.messages(CHANNEL);
    expect(texts(channel)).toEqual(['orders lagging']);
    const root = channel[0]!;
    const rootRow = (await rig.store.outboxRows())[0]!;
    expect(root.metadata).toEqual({ event_type: 'lagbot_outbox', event_payload: { store: rig.store.outboxStamp, seq: rootRow.seq, incident_id: 'i-a' } });
    expect(texts(slack.thread(CHANNEL, root.ts))).toEqual(['orders lagging', ...entries.map((e) => e.message.text)]);
    expect(posts()).toHaveLength(11);
    expect(posts().slice(1).every((c) => c.args.thread_ts === root.ts)).toBe(true);

    expect((await rig.store.rootMessage('i-a'))).toEqual({ channel: CHANNEL, ts: root.ts });
    const replies = slack.thread(CHANNEL, root.ts).slice(1);
    expect((await rig.store.outboxRows()).slice(1).map((r) => r.slackTs)).toEqual(replies.map((m) => m.ts));
    expect((await rig.delivery.status())).toMatchObject({ pending: 0, inDoubt: 0, failed: 0, lastError: null });
    expect((await rig.delivery.status()).lastDeliveredAt).not.toBeNull();
  });

  it('rides out 429s and 500s: every entry exactly once, in order, Retry-After honoured', async () => {
    const rig = startDelivery();
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 1);
    slack.failNext('chat.postMessage', { status: 500 }, 2);
    await commit(rig, { incident: incident('i-b', 'orders'), effects: [postRoot('i-b', 'root')] });
    const root = await waitFor(async () => (await rig.store.rootMessage('i-b')), 10_000);

    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 1);
    slack.failNext('chat.postMessage', { status: 500 }, 2);
    const entries = Array.from({ length: 5 }, (_, i) => postThread('i-b', `entry ${i + 1}`));
    await commit(rig, { effects: entries });
    await settled(rig.store, 15_000);

    expect(texts(slack.messages(CHANNEL))).toEqual(['root']);
    expect(texts(slack.thread(CHANNEL, root.ts))).toEqual(['root', ...entries.map((e) => e.message.text)]);
    expect(okPosts()).toHaveLength(6);

    const all = posts();
    expect(all.map((c) => c.status)).toEqual([429, 500, 500, 200, 429, 500, 500, 200, 200, 200, 200, 200]);
    for (const [i, call] of all.entries()) {
      const next = all[i + 1];
      if (call.status === 429 && next) expect(next.at - call.at).toBeGreaterThanOrEqual(1_000);
      // A 500 leaves the outcome unknown: Slack is read back before the post is tried again.
      if (call.status === 500 && next) expect(next.at - call.at).toBeGreaterThanOrEqual(100);
    }
    expect(slack.callsOf('conversations.history').length).toBeGreaterThanOrEqual(2);
    expect(slack.callsOf('conversations.replies').length).toBeGreaterThanOrEqual(2);
    expect((await rig.delivery.status())).toMatchObject({ pending: 0, inDoubt: 0, failed: 0 });
  });

  it('paces posts per channel while another channel goes on in between', async () => {
    const minTime = 300;
    const rig = startDelivery(undefined, { postMinTimeMs: minTime });
    const paced = Array.from({ length: 5 }, (_, i) => postChannel('C0PACED', `paced ${i + 1}`));
    const other = Array.from({ length: 5 }, (_, i) => postChannel('C0OTHER', `other ${i + 1}`));
    await commit(rig, { effects: [...paced, ...other] });
    await settled(rig.store);

    const pacedCalls = posts().filter((c) => c.args.channel === 'C0PACED');
    const otherCalls = posts().filter((c) => c.args.channel === 'C0OTHER');
    expect(texts(slack.messages('C0PACED'))).toEqual(paced.map((e) => e.message.text));
    expect(texts(slack.messages('C0OTHER'))).toEqual(other.map((e) => e.message.text));
    // Bottleneck spaces the starts of the calls. Their arrival shifts by each request's own
    // latency, which on a loaded machine is tens of milliseconds either way, so the pace is
    // read over the whole run: a late arrival shortens one gap and lengthens the next.
    const first = pacedCalls[0]!.at;
    const last = pacedCalls.at(-1)!.at;
    expect(pacedCalls).toHaveLength(5);
    expect(last - first).toBeGreaterThanOrEqual(4 * minTime - 40);
    expect(otherCalls.filter((c) => c.at > first && c.at < last).length).toBeGreaterThanOrEqual(3);
  });

  it('never holds the thread behind a root edit that waits for the chat.update budget', async () => {
    // One edit a minute: the second edit waits for the budget; the replies queued after it must not.
    const rig = startDelivery(undefined, { updatesPerWindow: 1, updateWindowMs: 60_000 });
    await commit(rig, { incident: incident('i-u', 'orders'), effects: [postRoot('i-u', 'root'), updateRoot('i-u', 'edit 1')] });
    const root = await waitFor(async () => (await rig.store.rootMessage('i-u')));
    await waitFor(async () => slack.message(CHANNEL, root.ts)?.text === 'edit 1');
    const queuedAt = Date.now();
    await commit(rig, { effects: [updateRoot('i-u', 'edit 2'), postThread('i-u', 'reply 1'), postThread('i-u', 'reply 2')] });
    await waitFor(async () => slack.thread(CHANNEL, root.ts).length === 3);
    expect(Date.now() - queuedAt).toBeLessThan(5_000);
    expect(texts(slack.thread(CHANNEL, root.ts))).toEqual(['edit 1', 'reply 1', 'reply 2']);
    // The edit is still owed, not lost: it waits for the next minute's budget.
    expect((await rig.store.outboxRows()).filter((r) => r.message.text === 'edit 2').map((r) => r.state)).toEqual(['pending']);
  });

  it('holds a root edit until its root message is posted, then sends it', async () => {
    const rig = startDelivery();
    slack.holdNext('chat.postMessage', 800);
    await commit(rig, { incident: incident('i-w', 'orders'), effects: [postRoot('i-w', 'root'), updateRoot('i-w', 'edited')] });
    await settled(rig.store);
    const root = (await rig.store.rootMessage('i-w'))!;
    expect(slack.message(CHANNEL, root.ts)?.text).toBe('edited');
    expect((await rig.store.outboxRows()).map((r) => [r.message.text, r.state])).toEqual([
      ['root', 'delivered'],
      ['edited', 'delivered'],
    ]);
  });

  it('coalesces root edits queued while Slack fails: only the latest content is sent', async () => {
    const rig = startDelivery();
    await commit(rig, { incident: incident('i-d', 'orders'), effects: [postRoot('i-d', 'v0')] });
    const root = await waitFor(async () => (await rig.store.rootMessage('i-d')));

    slack.failNext('chat.update', { status: 500 }, 2);
    await commit(rig, { effects: [updateRoot('i-d', 'v1')] });
    const v1 = (await rig.store.outboxRows()).at(-1)!;
    await waitFor(async () => {
      const row = (await rig.store.outboxRow(v1.seq));
      return row?.state === 'pending' && row.lastError === 'HTTP 500';
    });
    for (const v of ['v2', 'v3', 'v4', 'v5']) await commit(rig, { effects: [updateRoot('i-d', v)] });
    await settled(rig.store);

    const updates = slack.callsOf('chat.update');
    expect(updates.map((c) => [c.args.text, c.status])).toEqual([
      ['v1', 500],
      ['v5', 500],
      ['v5', 200],
    ]);
    expect(slack.message(CHANNEL, root.ts)?.text).toBe('v5');
    expect((await rig.store.outboxRows()).map((r) => [r.message.text, r.state])).toEqual([
      ['v0', 'delivered'],
      ['v1', 'superseded'],
      ['v2', 'superseded'],
      ['v3', 'superseded'],
      ['v4', 'superseded'],
      ['v5', 'delivered'],
    ]);
  });

  it('keeps replies within 15 s of their events while Slack answers at least every other request, in order', async () => {
    // The product's own backoff (1 s doubling to 60 s), not the test's fast one.
    const rig = startDelivery(join(dir, 'flaky.db'), { backoffInitialMs: 1_000, backoffMaxMs: 60_000, postMinTimeMs: 200 });
    await commit(rig, { incident: incident('i-flaky', 'orders'), effects: [postRoot('i-flaky', 'flaky root')] });
    const root = await waitFor(async () => (await rig.store.rootMessage('i-flaky')));
    // Each reply fails its first two posts; everything else (another channel's posts, the
    // lookups) goes through. Slack answers far more than every other request, but the
    // thread keeps drawing the failures: a backoff kept per row grows 1, 2 s for each reply
    // while the replies behind it wait, and the thread falls further behind with each one.
    const attempts = new Map<string, number>();
    const outcomes = { ok: 0, failed: 0 };
    slack.setChaos(({ method, args }) => {
      if (method !== 'chat.postMessage' || typeof args.thread_ts !== 'string') {
        outcomes.ok += 1;
        return undefined;
      }
      const text = String(args.text);
      const n = (attempts.get(text) ?? 0) + 1;
      attempts.set(text, n);
      if (n > 2) {
        outcomes.ok += 1;
        return undefined;
      }
      outcomes.failed += 1;
      return { kind: 'error-before' };
    });
    let filling = true;
    const filler = (async () => {
      for (let i = 0; filling; i += 1) {
        await commit(rig, { effects: [postChannel('C0FILLER', `filler ${i}`)] });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      const queuedAt = new Map<string, number>();
      for (let i = 1; i <= 10; i += 1) {
        const text = `event ${i}`;
        queuedAt.set(text, Date.now());
        await commit(rig, { effects: [postThread('i-flaky', text)] });
        await new Promise((r) => setTimeout(r, 1_500));
      }
      await waitFor(async () => (slack.thread(CHANNEL, root.ts).length === 11 ? true : null), 60_000);
      filling = false;
      await filler;
      const replies = slack.thread(CHANNEL, root.ts).slice(1);
      expect(texts(replies)).toEqual(Array.from({ length: 10 }, (_, i) => `event ${i + 1}`));
      expect(outcomes.ok).toBeGreaterThanOrEqual(outcomes.failed);
      const lateness = replies.map((m) => Number(m.ts) * 1000 - (queuedAt.get(m.text ?? '') ?? 0));
      console.log(`replies behind their events, ms: ${lateness.map((ms) => Math.round(ms)).join(', ')}`);
      expect(Math.max(...lateness)).toBeLessThan(15_000);
    } finally {
      filling = false;
      slack.setChaos(undefined);
    }
  }, 90_000);

  it('after a crash mid-call, finds what reached Slack and sends only what did not', async () => {
    const path = join(dir, 'crashed.db');
    const first = startDelivery(path);
    await commit(first, { incident: incident('i-e', 'orders'), effects: [postRoot('i-e', 'root e')] });
    const rootE = await waitFor(async () => (await first.store.rootMessage('i-e')));
    await first.delivery.stop();

    // The crash: each row is marked sending; some calls reached Slack, one never did.
    const client = createDeliveryClient(slack.botToken, { slackApiUrl: slack.apiUrl });
    await first.store.commit({
      incident: incident('i-f', 'payments'),
      effects: [postThread('i-e', 'reached Slack (thread)'), postThread('i-e', 'queued behind it'), postRoot('i-f', 'root f reached Slack')],
    });
    await first.store.commit({ incident: incident('i-g', 'billing'), effects: [postRoot('i-g', 'root g never reached Slack')] });
    const [, threadRow, , rootF, rootG] = (await first.store.outboxRows());
    for (const row of [threadRow!, rootF!, rootG!]) (await first.store.markSending(row.seq));
    const crashedAt = Date.now();
    const threadPosted = await client.chat.postMessage({
      channel: CHANNEL,
      text: 'reached Slack (thread)',
      thread_ts: rootE.ts,
      metadata: outboxMetadata(first.store.outboxStamp, threadRow!.seq, 'i-e'),
    });
    const rootFPosted = await client.chat.postMessage({
      channel: CHANNEL,
      text: 'root f reached Slack',
      metadata: outboxMetadata(first.store.outboxStamp, rootF!.seq, 'i-f'),
    });
    const postsBeforeRestart = posts().length;

    // The calls cut off by the crash could still land until their timeout: no lookup before it.
    const second = startDelivery(path, { callTimeoutMs: 1_500 });
    expect((await second.delivery.status()).inDoubt).toBe(3);
    await settled(second.store);
    const lookups = [...slack.callsOf('conversations.history'), ...slack.callsOf('conversations.replies')];
    expect(lookups.length).toBeGreaterThan(0);
    for (const call of lookups) expect(call.at).toBeGreaterThanOrEqual(crashedAt + 1_500);

    expect(texts(slack.messages(CHANNEL))).toEqual(['root e', 'root f reached Slack', 'root g never reached Slack']);
    expect(texts(slack.thread(CHANNEL, rootE.ts))).toEqual(['root e', 'reached Slack (thread)', 'queued behind it']);
    // The two are in different streams, so either may go first.
    expect(posts().slice(postsBeforeRestart).map((c) => String(c.args.text)).sort()).toEqual(['queued behind it', 'root g never reached Slack']);

    expect((await second.store.outboxRow(threadRow!.seq))).toMatchObject({ state: 'delivered', slackTs: threadPosted.ts });
    expect((await second.store.outboxRow(rootF!.seq))).toMatchObject({ state: 'delivered', slackTs: rootFPosted.ts });
    expect((await second.store.rootMessage('i-f'))).toEqual({ channel: CHANNEL, ts: rootFPosted.ts });
    expect((await second.store.rootMessage('i-g'))?.ts).toBe(slack.messages(CHANNEL)[2]!.ts);
    expect(slack.callsOf('conversations.replies').map((c) => c.args)).toContainEqual(
      expect.objectContaining({ channel: CHANNEL, ts: rootE.ts, include_all_metadata: 'true' }),
    );
    expect(slack.callsOf('conversations.history')).toHaveLength(2);
    expect((await second.delivery.status())).toMatchObject({ pending: 0, inDoubt: 0, failed: 0 });
  });

  it('does not take another store\'s message with the same seq for its own', async () => {
    // Another lagbot (or this one before its store was deleted) posted its own notice #1 here.
    const client = createDeliveryClient(slack.botToken, { slackApiUrl: slack.apiUrl });
    await client.chat.postMessage({ channel: CHANNEL, text: 'another store\'s notice', metadata: outboxMetadata('another-store', 1, null) });
    const path = join(dir, 'fresh.db');
    const first = startDelivery(path);
    await first.delivery.stop();
    await first.store.commit({ effects: [postChannel(CHANNEL, 'our notice')] });
    const [row] = (await first.store.outboxRows());
    expect(row!.seq).toBe(1);
    // In doubt, as after a crash mid-call: the lookup finds a seq-1 notice, but not ours.
    await first.store.markSending(row!.seq);
    const second = startDelivery(path, { callTimeoutMs: 0 });
    await settled(second.store);
    expect(texts(slack.messages(CHANNEL))).toEqual(["another store's notice", 'our notice']);
    const ours = slack.messages(CHANNEL)[1]!;
    expect((await second.store.outboxRow(1))).toMatchObject({ state: 'delivered', slackTs: ours.ts });
    expect(ours.metadata).toEqual({ event_type: 'lagbot_outbox', event_payload: { store: second.store.outboxStamp, seq: 1 } });
  });

  it('fails a row Slack refuses for good, with its thread, and goes on with the rest', async () => {
    const rig = startDelivery();
    slack.failNext('chat.postMessage', { error: 'channel_not_found' }, 1);
    await commit(rig, {
      incident: incident('i-x', 'orders', 'C0GONE'),
      effects: [
        postRoot('i-x', 'root x', 'C0GONE'),
        postThread('i-x', 'x 1', 'C0GONE'),
        postThread('i-x', 'x 2', 'C0GONE'),
        postChannel('C0GONE', 'same channel, later'),
      ],
    });
    await waitFor(async () => (await rig.store.outboxRows())[0]?.state === 'failed');
    await commit(rig, { effects: [postChannel('C0LIVE', 'other channel, later')] });
    await settled(rig.store);

    const rows = (await rig.store.outboxRows());
    expect(rows.map((r) => [r.message.text, r.state])).toEqual([
      ['root x', 'failed'],
      ['x 1', 'failed'],
      ['x 2', 'failed'],
      ['same channel, later', 'delivered'],
      ['other channel, later', 'delivered'],
    ]);
    expect(rows[0]!.lastError).toBe('channel_not_found');
    expect(rows[1]!.lastError).toMatch(/root message .* failed: channel_not_found/);
    expect(texts(slack.messages('C0LIVE'))).toEqual(['other channel, later']);
    expect(texts(slack.messages('C0GONE'))).toEqual(['same channel, later']);
    expect(posts().filter((c) => String(c.args.text).startsWith('x '))).toEqual([]);
    expect((await rig.delivery.status())).toMatchObject({ pending: 0, inDoubt: 0, failed: 3 });
    expect((await rig.delivery.status()).lastError).toMatch(/channel_not_found/);
  });

  it('stop() waits for the call in flight, is idempotent, and leaves the rest queued', async () => {
    const rig = startDelivery(undefined, { postMinTimeMs: 2_000 });
    await commit(rig, { effects: [postChannel(CHANNEL, 'one'), postChannel(CHANNEL, 'two')] });
    await waitFor(async () => posts().length === 1);
    await Promise.all([rig.delivery.stop(), rig.delivery.stop()]);

    expect((await rig.store.outboxRows()).map((r) => r.state)).toEqual(['delivered', 'pending']);
    expect(texts(slack.messages(CHANNEL))).toEqual(['one']);
  });
});

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chartFile(incidentId: string, group = 'orders'): SlackEffect {
  const t0 = Date.now() - 10 * 60_000;
  const chart: LagChart = {
    cluster: 'default',
    group,
    from: t0,
    to: t0 + 9 * 60_000,
    points: Array.from({ length: 10 }, (_, i) => ({ at: t0 + i * 60_000, lag: i * 10_000, producePerSec: 500, consumePerSec: 400 })),
    thresholds: [{ severity: 'warning', lag: 50_000 }],
    marks: [{ kind: 'opened', at: t0 + 5 * 60_000, severity: 'warning', by: null }],
  };
  return { kind: 'post-file', incidentId, channel: CHANNEL, file: { kind: 'chart', filename: `lag-${group}.png`, title: `Lag of ${group}`, chart } };
}

/** The files shared in a thread, by name. */
const threadFiles = (rootTs: string): string[] => slack.thread(CHANNEL, rootTs).flatMap((m) => (m.files ?? []).map((f) => f.name));

describe('files in the incident thread, against the Slack stand-in', () => {
  it('renders a chart to PNG and uploads it into the thread: upload URL, bytes, completion', async () => {
    const rig = startDelivery();
    await commit(rig, { incident: incident('i-f', 'orders'), effects: [postRoot('i-f', 'root'), chartFile('i-f'), postThread('i-f', 'after the chart')] });
    await settled(rig.store);

    const root = (await rig.store.rootMessage('i-f'))!;
    expect(threadFiles(root.ts)).toEqual(['lag-orders.png']);
    const shared = slack.thread(CHANNEL, root.ts).find((m) => m.files)!;
    const file = shared.files![0]!;
    expect(file).toMatchObject({ title: 'Lag of orders', mimetype: 'image/png', filetype: 'png' });
    expect(file.original_w).toBeGreaterThan(1000);
    const bytes = slack.fileBytes(file.id)!;
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const ticket = slack.callsOf('files.getUploadURLExternal')[0]!;
    expect(ticket.args).toMatchObject({ filename: 'lag-orders.png', length: String(bytes.length) });
    expect(slack.callsOf('files.completeUploadExternal')[0]!.args).toMatchObject({ channel_id: CHANNEL, thread_ts: root.ts, files: [{ id: file.id, title: 'Lag of orders' }] });
    // No metadata can ride on a file: the row records the file id, looked up by it when in doubt.
    const row = (await rig.store.outboxRows()).find((r) => r.kind === 'post-file')!;
    expect(row).toMatchObject({ state: 'delivered', slackFileId: file.id });
    expect(slack.callsOf('conversations.replies')).toEqual([]);
  });

  it('uploads a markdown file (the postmortem) as a .md file in the thread', async () => {
    const rig = startDelivery();
    await commit(rig, { incident: incident('i-m', 'orders'), effects: [postRoot('i-m', 'root'), markdownFile('i-m', CHANNEL, '# Postmortem\n\n## Timeline\n')] });
    await settled(rig.store);
    const root = (await rig.store.rootMessage('i-m'))!;
    expect(threadFiles(root.ts)).toEqual(['postmortem.md']);
    const file = slack.files()[0]!;
    expect(file.mimetype).toBe('text/markdown');
    expect(slack.fileBytes(file.id)?.toString('utf8')).toBe('# Postmortem\n\n## Timeline\n');
  });

  it('never lets a failing or slow upload hold up the timeline text; a refused one is failed with its reason', async () => {
    const rig = startDelivery();
    // The first file: Slack is down for its upload for a while. The second: refused for good.
    slack.failNext('files.getUploadURLExternal', { status: 500 }, 3);
    await commit(rig, { incident: incident('i-s', 'orders'), effects: [postRoot('i-s', 'root'), chartFile('i-s'), postThread('i-s', 'entry 1')] });
    const root = await waitFor(async () => (await rig.store.rootMessage('i-s')), 10_000);
    await waitFor(async () => texts(slack.thread(CHANNEL, root.ts)).includes('entry 1'), 10_000);
    // The text reply went out while the chart was still failing.
    expect(slack.callsOf('files.completeUploadExternal')).toEqual([]);
    await commit(rig, { effects: [postThread('i-s', 'entry 2')] });
    await waitFor(async () => texts(slack.thread(CHANNEL, root.ts)).includes('entry 2'), 10_000);
    await settled(rig.store, 15_000);
    expect(threadFiles(root.ts)).toEqual(['lag-orders.png']);
    expect(slack.callsOf('files.getUploadURLExternal').map((c) => c.status)).toEqual([500, 500, 500, 200]);

    slack.failNext('files.completeUploadExternal', { error: 'invalid_arguments' }, 1);
    await commit(rig, { effects: [chartFile('i-s'), postThread('i-s', 'entry 3')] });
    await settled(rig.store);
    expect(texts(slack.thread(CHANNEL, root.ts)).slice(-1)).toEqual(['entry 3']);
    const failed = (await rig.store.outboxRows()).filter((r) => r.state === 'failed');
    expect(failed.map((r) => [r.kind, r.lastError])).toEqual([['post-file', 'invalid_arguments']]);
    expect(threadFiles(root.ts)).toEqual(['lag-orders.png']);
    expect((await rig.delivery.status()).lastError).toMatch(/post-file .*invalid_arguments/);
  });

  it('fails a chart that cannot be rendered without a Slack call, and the thread goes on', async () => {
    const rig = startDelivery();
    const broken = chartFile('i-r') as Extract<SlackEffect, { kind: 'post-file' }>;
    const chart = broken.file.kind === 'chart' ? broken.file.chart : null;
    // What a corrupt row would hold: points that are not points.
    const bad = { ...broken, file: { ...broken.file, chart: { ...chart, points: null } } } as unknown as SlackEffect;
    await commit(rig, { incident: incident('i-r', 'orders'), effects: [postRoot('i-r', 'root'), bad, postThread('i-r', 'entry')] });
    await settled(rig.store);
    const row = (await rig.store.outboxRows()).find((r) => r.kind === 'post-file')!;
    expect(row.state).toBe('failed');
    expect(row.lastError).toMatch(/cannot render chart file lag-orders.png/);
    expect(slack.callsOf('files.getUploadURLExternal')).toEqual([]);
    expect(texts(slack.thread(CHANNEL, (await rig.store.rootMessage('i-r'))!.ts)).slice(-1)).toEqual(['entry']);
  });

  it('retries a chart whose renderer died while drawing it, and shares it once', async () => {
    // A renderer still warm from the charts before would draw this one before the kill lands.
    stopChartRenderer();
    const rig = startDelivery();
    await commit(rig, { incident: incident('i-k', 'orders'), effects: [postRoot('i-k', 'root'), chartFile('i-k'), postThread('i-k', 'entry')] });
    // The renderer process is started for this chart; killed while it still loads its libraries.
    const pid = await waitFor(() => chartRenderer().pid, 10_000);
    process.kill(pid, 'SIGKILL');
    await settled(rig.store, 20_000);
    const row = (await rig.store.outboxRows()).find((r) => r.kind === 'post-file')!;
    expect(row.state).toBe('delivered');
    expect((await rig.delivery.status()).lastError).toMatch(/chart renderer exited \(SIGKILL\)/);
    expect(threadFiles((await rig.store.rootMessage('i-k'))!.ts)).toEqual(['lag-orders.png']);
    expect(chartRenderer().pid).not.toBe(pid);
  });

  it('a completion whose answer never came is looked up by its file id, not shared twice', async () => {
    // A client that gives up after 1 s, while Slack shares the file at once and answers after 2.5 s.
    const again = startDelivery(undefined, { callTimeoutMs: 1_000 });
    await commit(again, { incident: incident('i-d', 'orders'), effects: [postRoot('i-d', 'root')] });
    const root = await waitFor(async () => (await again.store.rootMessage('i-d')), 10_000);
    slack.holdNext('files.completeUploadExternal', 2_500);
    await commit(again, { effects: [chartFile('i-d')] });
    await waitFor(async () => threadFiles(root.ts).length === 1, 10_000);
    await settled(again.store, 15_000);
    expect(threadFiles(root.ts)).toEqual(['lag-orders.png']);
    expect(slack.callsOf('files.completeUploadExternal')).toHaveLength(1);
    expect(slack.callsOf('conversations.replies').length).toBeGreaterThanOrEqual(1);
    const row = (await again.store.outboxRows()).find((r) => r.kind === 'post-file')!;
    expect(row.state).toBe('delivered');
    expect(row.slackTs).toBe(slack.thread(CHANNEL, root.ts).find((m) => m.files)!.ts);
  });
});
