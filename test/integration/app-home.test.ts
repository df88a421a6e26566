import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

/**
 * The App Home tab, for real: a group on the real broker lags, lagbot's checks open an
 * incident, a user opens lagbot's Home tab in the stand-in and gets the incident and the
 * group; an Acknowledge click republishes the tab, unasked, with who acknowledged.
 */
describe('the App Home tab', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let rig: IncidentRig;
  const topic = uniqueName('payments');
  const group = uniqueName('payments-consumer');
  const viewer = 'U0HOMEVIEW';
  let producing = true;
  let producer: Promise<void> | undefined;

  const root = (): StoredMessage | undefined => rig.slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));
  const home = (): string => readable(rig.slack.homeView(viewer)?.view.blocks ?? []);

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [10, 10, 10]);
    rig = await startIncidentRig(fastIncidentYaml(group, await tempStorePath()));
  });

  afterAll(async () => {
    producing = false;
    await producer?.catch(() => undefined);
    await rig?.stop();
    await consumer?.disconnect();
    await admin?.disconnect();
  });

  it('shows a user who opens Home the open incident and the lagging group', async () => {
    consumer.pause([{ topic }]);
    producer = (async () => {
      while (producing) {
        await produce(kafka, topic, [20, 250, 20]);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await eventually(async () => root(), 'the incident root message', 30_000);

    const opened = await rig.slack.openHome({ userId: viewer });
    expect(opened.status).toBe(200);
    await eventually(async () => home().includes(`\`${group}\``), 'the Home tab published for the viewer', 10_000);
    const text = home();
    expect(text).toContain('*Open incidents (1)*');
    expect(text).toMatch(new RegExp(`(WARNING|CRITICAL|PAGE) \`${group}\` · lag [\\d,]+ · staleness .+ · not acknowledged`));
    expect(text).toMatch(new RegExp(`\\*Most stale of 1 group\\*\\n1\\. \`${group}\` · staleness .+ · lag [\\d,]+`));
    const publish = rig.slack.callsOf('views.publish').find((c) => c.args.user_id === viewer);
    expect(publish?.status).toBe(200);
    expect((publish?.response as { ok: boolean }).ok).toBe(true);
  });

  it('republishes the Home tab with who acknowledged when the incident is acknowledged', async () => {
    const before = rig.slack.callsOf('views.publish').length;
    const click = await rig.slack.clickButton({ message: root() as StoredMessage, actionId: ActionIds.acknowledgeIncident, userId: 'U0SRE0314' });
    expect(click.status).toBe(200);
    await eventually(async () => home().includes('acknowledged by <@U0SRE0314>'), 'the Home tab to show the acknowledgement', 15_000);
    expect(rig.slack.callsOf('views.publish').length).toBeGreaterThan(before);
    // Every publish went to someone who opened Home, never to anyone else.
    expect(new Set(rig.slack.callsOf('views.publish').map((c) => c.args.user_id))).toEqual(new Set([viewer]));
    expect(rig.lagbot.home.recentViewers()).toEqual([viewer]);
  });

  it('does not republish for every check: new figures alone leave the tab as it is', async () => {
    producing = false;
    await producer;
    const count = () => rig.slack.callsOf('views.publish').length;
    const thread = () => rig.slack.thread(ALERTS, (root() as StoredMessage).ts);
    const [before, threadBefore] = [count(), thread().length];
    // Checks run every second: five of them, each with new figures and root edits.
    await new Promise((r) => setTimeout(r, 5_000));
    const severityChanges = thread()
      .slice(threadBefore)
      .filter((m) => /Escalated|De-escalated|Resolved/.test(m.text)).length;
    expect(count() - before).toBeLessThanOrEqual(severityChanges);
  });
});
