import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, SECRET, fastIncidentYaml, spawnLagbot, tempStorePath, type LagbotProcess } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

/**
 * lagbot killed with SIGKILL in the middle of an incident, at the worst moment: Slack
 * has posted a timeline entry but lagbot never heard back. The restarted process must
 * continue the same incident in the same thread, with nothing lost or repeated, while
 * Slack answers 500 and 429 for a while.
 */
describe('a restart in the middle of an incident', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let slack: SlackStandin;
  let first: LagbotProcess | undefined;
  let second: LagbotProcess | undefined;
  let yaml: string;
  const topic = uniqueName('payments');
  const group = uniqueName('payments-consumer');

  const roots = () => slack.messages(ALERTS).filter((m) => readable(m).includes(`consumer lag · ${group}`));
  const thread = () => {
    const [root] = roots();
    return root ? slack.thread(ALERTS, root.ts).slice(1) : [];
  };
  // The timeline's text replies; shared files (charts, the postmortem draft) are messages of their own.
  const texts = () => thread().filter((m: StoredMessage) => !m.files?.length).map((m: StoredMessage) => m.text);

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [5, 5]);
    slack = await startSlackStandin({ signingSecret: SECRET });
    yaml = fastIncidentYaml(group, await tempStorePath());
    first = await spawnLagbot(yaml, slack);
  });

  afterAll(async () => {
    await first?.stop().catch(() => undefined);
    await second?.stop().catch(() => undefined);
    await consumer?.disconnect();
    await admin?.disconnect();
    await slack?.stop();
  });

  it('continues the same thread after kill -9, with no lost or repeated entry', async () => {
    consumer.pause([{ topic }]);
    await produce(kafka, topic, [100, 1_400]); // critical: over 1,000
    await eventually(async () => texts().some((t) => /Opened at CRITICAL|Escalated to CRITICAL/.test(t)), 'a critical incident', 30_000);

    // The next post reaches Slack but its answer is held: lagbot dies not knowing it landed.
    slack.holdNext('chat.postMessage', 60_000, (args) => String(args.text).includes('Escalated to PAGE'));
    await produce(kafka, topic, [200, 3_000]); // page: over 3,000
    await eventually(async () => slack.calls.some((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('Escalated to PAGE')), 'the page entry to reach Slack', 45_000);
    await first?.kill9();
    expect(texts().filter((t) => t.includes('Escalated to PAGE'))).toHaveLength(1);

    // Slack has a bad minute when lagbot comes back.
    slack.failNext('chat.postMessage', { status: 500 }, 2);
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 2);
    second = await spawnLagbot(yaml, slack);
    consumer.resume([{ topic }]);
    await eventually(async () => texts().some((t) => t.includes('Resolved:')), 'the incident to resolve after the restart', 60_000);

    expect(roots()).toHaveLength(1);
    const all = texts();
    expect(all.filter((t) => t.includes('Escalated to PAGE'))).toHaveLength(1);
    expect(new Set(all).size).toBe(all.length);
    const order = ['Escalated to PAGE', 'Recovering', 'Resolved:'].map((k) => all.findIndex((t) => t.includes(k)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The in-doubt entry was looked up rather than sent again.
    expect(slack.callsOf('conversations.replies').length).toBeGreaterThan(0);
    await eventually(async () => readable(roots()[0]).includes('RESOLVED'), 'the root message to show RESOLVED', 15_000);
    // The files too: the postmortem draft once, and no file shared twice across the restart.
    await eventually(async () => thread().some((m) => m.files?.some((f) => f.name.startsWith('postmortem-'))), 'the postmortem draft', 20_000);
    const files = thread().flatMap((m) => m.files ?? []);
    expect(new Set(files.map((f) => f.id)).size).toBe(files.length);
    expect(files.filter((f) => f.name.startsWith('postmortem-'))).toHaveLength(1);
  });
});
