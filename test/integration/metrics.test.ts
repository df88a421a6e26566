import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLagbot, type RunningLagbot } from '../../src/app/lagbot.js';
import { parseConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/ports.js';
import { createLogger } from '../../src/log/logger.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { createTopic, eventually, kafkaClient, produce, testbed, uniqueName } from '../support/kafka.js';
import { SECRET, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';

/** The case study's exporter, built in: /metrics and /healthz in both Slack modes. */
describe('/metrics and /healthz', () => {
  let admin: Admin;
  const topic = uniqueName('clicks');
  const group = uniqueName('clicks-consumer');
  const lagLine = (partition: number, lag: number) =>
    `kafka_consumer_lag{cluster="default",group="${group}",topic="${topic}",partition="${partition}"} ${lag}`;

  beforeAll(async () => {
    const kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 2);
    await produce(kafka, topic, [30, 90]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '30' }, { partition: 1, offset: '40' }] });
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  async function scrape(port: number | null) {
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    return { status: metrics.status, type: metrics.headers.get('content-type'), text: await metrics.text() };
  }

  describe('in HTTP mode, on the Bolt server', () => {
    let rig: IncidentRig;
    beforeAll(async () => {
      rig = await startIncidentRig(fastIncidentYaml(group, await tempStorePath()));
    });
    afterAll(async () => rig?.stop());

    it('exports lag per partition after a check, with the group totals and check counters', async () => {
      const text = await eventually(async () => {
        const m = await scrape(rig.lagbot.port);
        return m.text.includes(lagLine(1, 50)) ? m.text : null;
      }, 'the lag series');
      expect(text).toContain(lagLine(0, 0));
      expect(text).toContain(`kafka_consumergroup_lag_total{cluster="default",group="${group}"} 50`);
      expect(text).toMatch(/lagbot_checks_total\{cluster="default",result="ok"\} [1-9]/);
      expect((await scrape(rig.lagbot.port)).type).toContain('text/plain');
      const health = await fetch(`http://127.0.0.1:${rig.lagbot.port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, status: 'ok', clusters: { default: { ok: true, status: 'ok', consecutiveFailures: 0 } } });
    });
  });

  describe('in Socket Mode, on a small server of its own', () => {
    let slack: SlackStandin;
    let lagbot: RunningLagbot;
    let port: number;
    beforeAll(async () => {
      slack = await startSlackStandin({ signingSecret: SECRET });
      [port] = (await freePorts(1)) as [number];
      const config = parseConfig(fastIncidentYaml(group, await tempStorePath(), 'http:\n  host: 127.0.0.1\n').replace('slack:\n', 'slack:\n  mode: socket\n'), {
        KAFKA_BROKERS: testbed().bootstrap,
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_APP_TOKEN: slack.appToken,
        SLACK_API_URL: slack.apiUrl,
        PORT: String(port),
      });
      lagbot = await startLagbot(config, { clock: systemClock, logger: createLogger('silent') });
    });
    afterAll(async () => {
      await lagbot?.stop();
      await slack?.stop();
    });

    it('serves the same metrics and health on PORT', async () => {
      expect(slack.openSocketConnections().length).toBe(1);
      await eventually(async () => (await scrape(port)).text.includes(lagLine(1, 50)), 'the lag series over Socket Mode');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    });
  });
});
