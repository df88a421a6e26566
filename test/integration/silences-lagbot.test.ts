import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import type { EphemeralMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, SECRET, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

/**
 * Silences in the whole lagbot (the composition `lagbot start` runs, checks every second):
 * a silence on the cluster keeps a paging group quiet, survives a restart, shows on
 * /metrics, and ends with its End now button, after which the incident opens and pages.
 */
describe('a cluster silence in a running lagbot', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let slack: SlackStandin;
  let rig: IncidentRig;
  let yaml: string;
  const topic = uniqueName('orders');
  const group = uniqueName('orders-consumer');
  const USER = 'U0SRE0314';

  const metric = async (name: string): Promise<number | null> => {
    const text = await (await fetch(`http://127.0.0.1:${rig.lagbot.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? null : Number(line.split(' ').at(-1));
  };
  const okChecks = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${rig.lagbot.port}/metrics`)).text();
    return Number(/lagbot_checks_total\{cluster="default",result="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const lag = async (text: string) => {
    const sent = await slack.sendSlashCommand({ command: '/lag', text, userId: USER });
    return readable((await slack.waitForResponse(sent.responseUrlId, 15_000)).body);
  };
  const root = () => slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [10]);
    slack = await startSlackStandin({ signingSecret: SECRET });
    yaml = fastIncidentYaml(group, await tempStorePath());
    rig = await startIncidentRig(yaml, slack);
  });

  afterAll(async () => {
    await rig?.stop();
    await slack?.stop();
    await consumer?.disconnect();
    await admin?.disconnect();
  });

  it('keeps a paging group on the silenced cluster from opening anything', async () => {
    expect(await lag('silence cluster:default 1h broker upgrade')).toContain('every group on `default`, by <@U0SRE0314>');
    expect(await metric('lagbot_silences_active')).toBe(1);
    consumer.pause([{ topic }]);
    await produce(kafka, topic, [5_000]);
    const from = await okChecks();
    await eventually(async () => (await okChecks()) >= from + 4, 'four checks that saw the lag', 20_000);
    expect(root()).toBeUndefined();
    expect(slack.callsOf('chat.postMessage').filter((c) => c.args.channel === ALERTS)).toEqual([]);
  });

  it('survives a restart', async () => {
    await rig.stop();
    rig = await startIncidentRig(yaml, slack);
    expect(await metric('lagbot_silences_active')).toBe(1);
    const text = await lag('silences');
    expect(text).toContain('*Silences* (1, times in UTC)');
    expect(text).toContain('every group on `default`, by <@U0SRE0314>, until ');
    expect(text).toContain('(broker upgrade)');
  });

  it('ends with End now: the next checks open the incident and page', async () => {
    const list = slack.ephemerals({ user: USER }).filter((m) => readable(m).includes('*Silences* (1')).at(-1) as EphemeralMessage;
    const click = await slack.clickButton({ message: list, actionId: ActionIds.endSilence, userId: 'U0LEAD' });
    expect(click.status).toBe(200);
    expect(readable((await slack.waitForResponse(click.responseUrlId, 15_000)).body)).toContain('No silences in force or scheduled.');
    expect(await metric('lagbot_silences_active')).toBe(0);
    await produce(kafka, topic, [500]);
    await eventually(async () => root(), 'the incident root message', 30_000);
    await eventually(async () => slack.thread(ALERTS, root()!.ts).some((m) => m.text.includes('<!subteam^S0ONCALL>')), 'the page to mention the on-call people', 15_000);
    const thread = slack.thread(ALERTS, root()!.ts).slice(1).filter((m) => !m.files?.length).map((m) => m.text);
    expect(thread[0]).toMatch(/Opened at PAGE: /);
    expect(thread[1]).toMatch(/Notified <!subteam\^S0ONCALL> \(level 1 of 1, round 1\): the incident paged/);
  });
});
