import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import { systemClock } from '../../src/core/ports.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import type { LagSource } from '../../src/core/ports.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { createLogger } from '../../src/log/logger.js';
import { startSlackApp, type RunningSlackApp } from '../../src/slack/app.js';
import { SOCKET_ACK_TIMEOUT_MS, startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { createTopic, kafkaClient, lagReader, produce, uniqueName } from '../support/kafka.js';
import { readable } from '../support/slack.js';
import { homeOf, standingOf, type GroupStanding } from '../../src/core/home.js';
import { HomeTab, type HomeOpened } from '../../src/slack/home-tab.js';
import { homeView } from '../../src/views/home.js';
import { webApi } from '@slack/bolt';

// The stand-in insists on a signing secret; Socket Mode never uses it, the app token authenticates.
const UNUSED_SIGNING_SECRET = 'socket-mode-signs-nothing';

function startSocketLagbot(slack: SlackStandin, lagSource: LagSource, appToken: string = slack.appToken, home?: HomeOpened): Promise<RunningSlackApp> {
  return startSlackApp({
    ...(home ? { home } : {}),
    mode: 'socket',
    appToken,
    botToken: slack.botToken,
    apiUrl: slack.apiUrl,
    command: '/lag',
    port: 0,
    query: { sources: [lagSource], clock: systemClock, findingSettings: DEFAULT_RULES.signals },
    logger: createLogger('silent'),
  });
}

/** `/lag` through the real Bolt app over Socket Mode, reading a real broker. */
describe('/lag in Slack over Socket Mode', () => {
  let kafka: Kafka;
  let admin: Admin;
  let reader: KafkaLag;
  let slack: SlackStandin;
  let lagbot: RunningSlackApp;
  let home: HomeTab;
  let standings: GroupStanding[] = [];
  const topic = uniqueName('payments');
  const group = uniqueName('payments-consumer');

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 3);
    await produce(kafka, topic, [300, 2_000, 700]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '250' }, { partition: 1, offset: '800' }, { partition: 2, offset: '700' }] });
    reader = lagReader();
    slack = await startSlackStandin({ signingSecret: UNUSED_SIGNING_SECRET });
    const client = new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    home = new HomeTab({
      publish: async (user, view) => {
        await client.views.publish({ user_id: user, view });
      },
      view: () => homeView(homeOf(['default'], [], () => standings, Date.now())),
      clock: systemClock,
      logger: createLogger('silent'),
    });
    lagbot = await startSocketLagbot(slack, reader.reader, slack.appToken, home);
  });

  afterAll(async () => {
    // lagbot first: a stand-in that vanished under a live client would send it reconnecting.
    await home?.stop();
    await lagbot?.stop();
    await slack?.stop();
    await reader?.stop();
    await admin?.disconnect();
  });

  it('connects with the app token, is greeted, and needs no HTTP endpoint', () => {
    const opens = slack.callsOf('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]?.response).toMatchObject({ ok: true, url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/) });
    expect(slack.openSocketConnections()).toHaveLength(1);
    expect(slack.eventsUrl).toBeUndefined();
    expect(lagbot.port).toBeNull();
  });

  it('acks /lag GROUP at once and answers privately through response_url with the numbers', async () => {
    const sent = await slack.sendSlashCommandOverSocket({ command: '/lag', text: group });
    expect(sent.ack).toEqual({});
    expect(sent.ackMs).toBeLessThan(SOCKET_ACK_TIMEOUT_MS);
    expect(slack.envelopes.find((e) => e.envelopeId === sent.envelopeId)).toMatchObject({
      type: 'slash_commands',
      acceptsResponsePayload: true,
      payload: { command: '/lag', text: group },
      ack: {},
    });

    const response = await slack.waitForResponse(sent.responseUrlId, 15_000);
    const text = readable(response.body);
    expect(response.body.response_type).toBe('ephemeral');
    expect(text).toContain(`\`${group}\`: total lag 1,250 over 3 partitions`);
    expect(text).toContain(`Hot partition \`${topic}-1\` holds 96% of the lag (1,200 of 1,250)`);
    expect(text).toMatch(new RegExp(`${topic}-1\\s+1,200\\s+-\\s+800\\s+2,000\\s+-`));
    expect(text).toMatch(new RegExp(`${topic}-0\\s+50\\s+-\\s+250\\s+300\\s+-`));
    expect(JSON.stringify(response.body.blocks)).toContain(ActionIds.postLagToChannel);
  });

  it('shares the answer in the channel when the button is clicked over the socket', async () => {
    const sent = await slack.sendSlashCommandOverSocket({ command: '/lag', text: group });
    await slack.waitForResponse(sent.responseUrlId, 15_000);
    const ephemeral = slack.ephemerals().find((m) => readable(m).includes(`\`${group}\`: total lag`));
    expect(ephemeral).toBeDefined();
    const shown = ephemeral as NonNullable<typeof ephemeral>;

    const click = await slack.clickButtonOverSocket({ message: shown, actionId: ActionIds.postLagToChannel, value: group, userId: 'U0ONCALL7' });
    expect(click.ack).toEqual({});
    expect(slack.envelopes.find((e) => e.envelopeId === click.envelopeId)).toMatchObject({
      type: 'interactive',
      acceptsResponsePayload: false,
      payload: { type: 'block_actions', actions: [{ action_id: ActionIds.postLagToChannel, value: group }] },
    });

    const posted = await slack.waitFor(() => slack.messages('C0GENERAL').find((m) => readable(m).includes('Shared by <@U0ONCALL7>')), 15_000);
    expect(readable(posted)).toContain(`\`${group}\`: total lag 1,250`);
    expect(JSON.stringify(posted.blocks)).not.toContain(ActionIds.postLagToChannel);
    await slack.waitFor(() => !slack.ephemerals().some((m) => m.ts === shown.ts), 5_000);
  });

  it('publishes the Home tab when app_home_opened arrives over the socket', async () => {
    const lag = await reader.reader.readGroup(group);
    standings = lag ? [standingOf(lag)] : [];
    const sent = await slack.openHomeOverSocket({ userId: 'U0SOCKET' });
    expect(sent.ack).toEqual({});
    const published = await slack.waitFor(() => slack.homeView('U0SOCKET'), 10_000);
    expect(readable(published.view.blocks)).toContain(`1. \`${group}\` · staleness — · lag 1,250`);
  });

  it('rejects an envelope nobody acknowledges within 3 seconds', async () => {
    // Bolt acks only what a listener handles; lagbot registers /lag alone.
    await expect(slack.sendSlashCommandOverSocket({ command: '/not-lagbot', text: '' })).rejects.toThrow(
      new RegExp(`did not acknowledge slash_commands envelope \\S+ within ${SOCKET_ACK_TIMEOUT_MS} ms`),
    );
    expect(slack.envelopes.at(-1)).toMatchObject({ payload: { command: '/not-lagbot' }, failure: 'timeout' });
    expect(slack.envelopes.at(-1)?.ack).toBeUndefined();
  });

  it('reconnects with a new ticket when Slack asks it to refresh, and keeps answering', async () => {
    const [old] = slack.openSocketConnections();
    expect(old).toBeDefined();
    const first = old as NonNullable<typeof old>;
    expect(slack.requestSocketRefresh()).toBe(1);

    const fresh = await slack.waitForSocketConnection(20_000, first.openedAt);
    expect(fresh.ticket).not.toBe(first.ticket);
    expect(first).toMatchObject({ closedBy: 'app', closeCode: 1000 });
    expect(slack.callsOf('apps.connections.open')).toHaveLength(2);

    const sent = await slack.sendSlashCommandOverSocket({ command: '/lag', text: 'help' });
    expect(sent.connectionId).toBe(fresh.id);
    const response = await slack.waitForResponse(sent.responseUrlId, 15_000);
    expect(readable(response.body)).toContain('/lag GROUP members');
  });

  it('stays connected while the stand-in answers its pings', async () => {
    // @slack/socket-mode pings every ~1.7 s and hangs up after four pings without a pong.
    const [current] = slack.openSocketConnections();
    expect(current).toBeDefined();
    const live = current as NonNullable<typeof current>;
    await slack.waitFor(() => live.pingsFromApp >= 5, 15_000);
    expect(live.closedAt).toBeUndefined();
    expect(slack.openSocketConnections()).toEqual([live]);
    expect(slack.errors).toEqual([]);
  });
});

describe('Socket Mode with a wrong app token', () => {
  let slack: SlackStandin;
  const neverRead: LagSource = {
    cluster: 'default',
    readGroup: () => Promise.reject(new Error('not expected: lagbot never connected')),
    readAllGroups: () => Promise.reject(new Error('not expected: lagbot never connected')),
    listGroupNames: () => Promise.reject(new Error('not expected: lagbot never connected')),
  };

  beforeAll(async () => {
    slack = await startSlackStandin({ signingSecret: UNUSED_SIGNING_SECRET });
  });

  afterAll(async () => {
    await slack?.stop();
  });

  it('fails start-up with a clear error when Slack refuses the token', async () => {
    const before = slack.callsOf('apps.connections.open').length;
    await expect(startSocketLagbot(slack, neverRead, 'xapp-1-A0LAGBOT-0000000000-revoked')).rejects.toThrow(
      'Socket Mode could not connect to Slack: apps.connections.open answered invalid_auth; check SLACK_APP_TOKEN',
    );
    expect(slack.callsOf('apps.connections.open').slice(before).map((c) => c.response)).toEqual([{ ok: false, error: 'invalid_auth' }]);
    expect(slack.socketConnections).toEqual([]);
  });

  it('refuses a bot token given as the app token, which Slack would make the SDK retry forever', async () => {
    const before = slack.callsOf('apps.connections.open').length;
    await expect(startSocketLagbot(slack, neverRead, slack.botToken)).rejects.toThrow(
      'SLACK_APP_TOKEN must be an app-level token (xapp-...), not a bot or user token',
    );
    expect(slack.callsOf('apps.connections.open')).toHaveLength(before);
  });

  it('answers apps.connections.open the way Slack does for each kind of token', async () => {
    const open = async (headers: Record<string, string>, body = '') => {
      const res = await fetch(`${slack.apiUrl}apps.connections.open`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
      return (await res.json()) as { ok: boolean; error?: string; url?: string };
    };
    expect(await open({})).toEqual({ ok: false, error: 'not_authed' });
    expect(await open({ Authorization: `Bearer ${slack.botToken}` })).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect(await open({}, `token=${slack.appToken}`)).toEqual({ ok: false, error: 'invalid_auth' });
    const granted = await open({ Authorization: `Bearer ${slack.appToken}` });
    expect(granted).toMatchObject({ ok: true, url: expect.stringContaining('/link/?ticket=') });
  });

  it('refuses a WebSocket upgrade without a valid ticket', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${slack.url}link/?ticket=made-up`, {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        reject(new Error('the stand-in accepted a made-up ticket'));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
    expect(slack.socketConnections).toEqual([]);
  });
});
