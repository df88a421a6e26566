import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { createTopic, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { spawnLagbot, type LagbotProcess } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

const SECRET = 'start-test-signing-secret';

/** `lagbot start` as a user runs it: the built bin, configured by environment only. */
describe('lagbot start (HTTP mode)', () => {
  let admin: Admin;
  let slack: SlackStandin;
  let bot: LagbotProcess;
  const topic = uniqueName('orders');
  const group = uniqueName('orders-consumer');

  beforeAll(async () => {
    const kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 2);
    await produce(kafka, topic, [50, 70]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '40' }, { partition: 1, offset: '70' }] });
    slack = await startSlackStandin({ signingSecret: SECRET });
    bot = await spawnLagbot(null, slack, SECRET);
  });

  afterAll(async () => {
    await bot?.kill9();
    await slack?.stop();
    await admin?.disconnect();
  });

  it('checks its token with Slack at start and answers /healthz', async () => {
    expect(slack.callsOf('auth.test').length).toBeGreaterThan(0);
    const health = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
    expect(await health.json()).toMatchObject({ ok: true, status: expect.stringMatching(/^(starting|ok)$/) });
  });

  it('answers a signed /lag from Slack', async () => {
    const sent = await slack.sendSlashCommand({ command: '/lag', text: group });
    expect(sent.status).toBe(200);
    const response = await slack.waitForResponse(sent.responseUrlId, 15_000);
    expect(readable(response.body)).toContain(`${group}: total lag 10 over 2 partitions`);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await bot.stop()).toBe(0);
  });
});

describe('lagbot start with bad configuration', () => {
  async function start(env: Record<string, string>) {
    const child = spawn(process.execPath, [new URL('../../bin/lagbot.js', import.meta.url).pathname, 'start'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, err };
  }

  it('stops at once, naming what is missing', async () => {
    const { code, err } = await start({ KAFKA_BROKERS: '127.0.0.1:1' });
    expect(code).toBe(2);
    expect(err).toContain('SLACK_BOT_TOKEN');
    expect(err).toContain('SLACK_SIGNING_SECRET');
  });

  it('names a wrong key in the config file and what is allowed', async () => {
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/lagbot-config-`);
    await writeFile(`${dir}/lagbot.yaml`, 'kafka:\n  brokers: [127.0.0.1:1]\n  clientID: x\n');
    const { code, err } = await start({ LAGBOT_CONFIG: `${dir}/lagbot.yaml` });
    expect(code).toBe(2);
    expect(err).toContain('kafka.clientID: unknown key (allowed: brokers, clientId,');
  });
});
