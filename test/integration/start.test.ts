import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
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
    bot = await spawnLagbot(null, slack, { signingSecret: SECRET });
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
    expect(readable(response.body)).toContain(`\`${group}\`: total lag 10 over 2 partitions`);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await bot.stop()).toBe(0);
  });
});

/** The built bin's `lagbot start`, with a signal sent after `signalAfterMs` if given. */
/** `signal`: SIGTERM after that many ms, or as soon as the condition holds (at most 20 s), so a slow start under load still gets its signal at the moment the test means. */
async function start(env: Record<string, string>, signal?: number | (() => boolean)) {
  const child = spawn(process.execPath, [new URL('../../bin/lagbot.js', import.meta.url).pathname, 'start'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const began = Date.now();
  let signalledAt: number | null = null;
  const terminate = () => ((signalledAt = Date.now()), child.kill('SIGTERM'));
  let timer: NodeJS.Timeout | undefined;
  if (typeof signal === 'number') timer = setTimeout(terminate, signal);
  else if (signal) {
    const until = Date.now() + 20_000;
    timer = setInterval(() => {
      if (!signal() && Date.now() < until) return;
      clearInterval(timer);
      terminate();
    }, 50);
  }
  const [code, exitSignal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  clearInterval(timer);
  const ended = Date.now();
  return { code, signal: exitSignal, err, out, ms: ended - began, afterSignalMs: signalledAt === null ? null : ended - signalledAt };
}

async function tempDir(): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  return mkdtemp(`${tmpdir()}/lagbot-start-`);
}

describe('lagbot start when Slack cannot be reached or refuses the token', () => {
  let slack: SlackStandin;
  beforeAll(async () => {
    slack = await startSlackStandin({ signingSecret: SECRET });
  });
  afterAll(async () => {
    await slack?.stop();
  });

  const base = async () => ({ KAFKA_BROKERS: '127.0.0.1:1', SLACK_SIGNING_SECRET: SECRET, LAGBOT_CONFIG: await storeConfig() });
  async function storeConfig(): Promise<string> {
    const { writeFile } = await import('node:fs/promises');
    const dir = await tempDir();
    await writeFile(`${dir}/lagbot.yaml`, `store:\n  path: ${dir}/lagbot.db\n`);
    return `${dir}/lagbot.yaml`;
  }

  it('says in one line that Slack cannot be reached, and exits 1 within seconds', async () => {
    const { freePorts } = await import('../../tools/kafka-testbed/broker.js');
    const [port] = await freePorts(1);
    const run = await start({ ...(await base()), SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: `http://127.0.0.1:${port}/api/` });
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(10_000);
    expect(run.err.trim().split('\n')).toEqual([expect.stringMatching(/^lagbot: Slack cannot be reached at http:\/\/127\.0\.0\.1:\d+\/api\/ /)]);
    expect(run.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('says in one line that Slack refused the token', async () => {
    const run = await start({ ...(await base()), SLACK_BOT_TOKEN: 'xoxb-not-the-real-one', SLACK_API_URL: slack.apiUrl });
    expect(run.code).toBe(1);
    expect(run.err.trim()).toBe('lagbot: Slack refused SLACK_BOT_TOKEN (auth.test answered invalid_auth): check the Bot User OAuth Token');
  });

  it('stops within seconds on SIGTERM while Slack holds its answer at start-up', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      // The signal comes while lagbot waits on Slack's answer, however long its start took to get there.
      const run = await start({ ...(await base()), SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: `http://127.0.0.1:${port}/api/` }, () => held.length > 0);
      expect(held.length).toBeGreaterThan(0); // it was waiting on Slack when the signal came
      expect(run.signal).toBeNull();
      expect(run.code).toBe(0);
      expect(run.afterSignalMs).toBeLessThan(3_500);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});

describe('lagbot start with bad configuration', () => {
  it('stops at once, naming what is missing', async () => {
    const { code, err } = await start({ KAFKA_BROKERS: '127.0.0.1:1' });
    expect(code).toBe(2);
    expect(err).toContain('SLACK_BOT_TOKEN');
    expect(err).toContain('SLACK_SIGNING_SECRET');
  });

  it('with nothing configured, reports the missing brokers and the missing Slack settings in one run', async () => {
    const { code, err } = await start({});
    expect(code).toBe(2);
    expect(err).toContain('No Kafka brokers: set KAFKA_BROKERS');
    expect(err).toContain('Missing for Slack http mode: SLACK_BOT_TOKEN (xoxb-...), SLACK_SIGNING_SECRET (HTTP mode)');
  });

  it('refuses a bot token given as the app token with exit 2, before it opens anything', async () => {
    const { writeFile } = await import('node:fs/promises');
    const { existsSync } = await import('node:fs');
    const dir = await tempDir();
    await writeFile(`${dir}/lagbot.yaml`, `store:\n  path: ${dir}/lagbot.db\n`);
    const run = await start({ KAFKA_BROKERS: '127.0.0.1:1', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-2', LAGBOT_CONFIG: `${dir}/lagbot.yaml` });
    expect(run.code).toBe(2);
    expect(run.err).toContain('SLACK_APP_TOKEN must be an app-level token (xapp-...)');
    expect(existsSync(`${dir}/lagbot.db`)).toBe(false);
  });

  it('refuses thresholds that contradict each other, naming the keys', async () => {
    const { writeFile } = await import('node:fs/promises');
    const dir = await tempDir();
    await writeFile(
      `${dir}/lagbot.yaml`,
      'thresholds:\n  warning: { lag: 600000 }\ngroups:\n  - match: "payments-*"\n    thresholds: { critical: { lag: 40000 } }\n',
    );
    const run = await start({ KAFKA_BROKERS: '127.0.0.1:1', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: SECRET, LAGBOT_CONFIG: `${dir}/lagbot.yaml` });
    expect(run.code).toBe(2);
    expect(run.err).toContain('thresholds.warning.lag (600,000) must be below the default critical line (500,000)');
    expect(run.err).toContain('thresholds.warning.lag (600,000) must be below groups[0] (match "payments-*") thresholds.critical.lag (40,000)');
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
