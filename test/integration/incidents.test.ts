import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

/**
 * The whole incident, for real: a consumer group on a real broker is paused while
 * producers keep writing, lagbot's scheduled checks open an incident in the channel,
 * escalate it to a page, take a signed Acknowledge click, see the group recover once
 * it resumes, and resolve with the impact summary.
 */
describe('an incident from first lag to resolution', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let rig: IncidentRig;
  const topic = uniqueName('orders');
  const group = uniqueName('orders-consumer');
  let producing = true;
  let producer: Promise<void>;

  const root = (): StoredMessage | undefined => rig.slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));
  const thread = (): StoredMessage[] => {
    const r = root();
    return r ? rig.slack.thread(ALERTS, r.ts).slice(1) : [];
  };
  // The timeline's text replies; shared files (charts, the postmortem draft) are messages of their own.
  const threadText = () => thread().filter((m) => !m.files?.length).map((m) => m.text);
  /** The root message as first posted, buttons and all: what a client that missed the edits still shows. */
  const staleRoot = (): StoredMessage => {
    const firstPost = rig.slack.callsOf('chat.postMessage').find((c) => c.args.channel === ALERTS && !c.args.thread_ts);
    return { ...(root() as StoredMessage), blocks: firstPost?.args.blocks as StoredMessage['blocks'] };
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [10, 10, 10]);
    rig = await startIncidentRig(fastIncidentYaml(group, await tempStorePath()));
    // Everyone who clicks is in the incident channel: its members may act (the default access rule).
    rig.slack.memberships.setChannelMembers(ALERTS, ['U0SRE0314', 'U0OTHER', 'U0LATE']);
  });

  afterAll(async () => {
    producing = false;
    await producer?.catch(() => undefined);
    await rig?.stop();
    await consumer?.disconnect();
    await admin?.disconnect();
  });

  it('opens one incident when lag builds up while the group is paused, and escalates to a page', async () => {
    consumer.pause([{ topic }]);
    producer = (async () => {
      // About 600 messages a second, mostly to partition 1: the case study's hot partition.
      while (producing) {
        await produce(kafka, topic, [20, 250, 20]);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await eventually(async () => root(), 'the incident root message', 30_000);
    await eventually(async () => threadText().some((t) => t.includes('Escalated to PAGE')), 'the page escalation', 30_000);
    producing = false;
    await producer;

    const texts = threadText();
    expect(texts[0]).toMatch(/Opened at (WARNING|CRITICAL)/);
    const page = texts.findIndex((t) => t.includes('Escalated to PAGE'));
    // oncall is a one-level policy from PAGE: the escalation's own reply is followed by the one that notifies.
    expect(texts[page + 1]).toMatch(/:loudspeaker: Notified <!subteam\^S0ONCALL> \(level 1 of 1, round 1\): the incident paged/);
    expect(texts.some((t) => t.includes(`Hot partition \`${topic}-1\``))).toBe(true);
    expect(rig.slack.messages(ALERTS).filter((m) => readable(m).includes(`consumer lag · ${group}`))).toHaveLength(1);
    await eventually(async () => readable(root()).includes('PAGE · consumer lag'), 'the root message edited to PAGE', 10_000);
  });

  it('takes a signed Acknowledge click: root and thread show who, a second click changes nothing', async () => {
    const click = await rig.slack.clickButton({ message: root() as StoredMessage, actionId: ActionIds.acknowledgeIncident, userId: 'U0SRE0314' });
    expect(click.status).toBe(200);
    await eventually(async () => readable(root()).includes('*Acknowledged*\n<@U0SRE0314>'), 'the root message to show the acknowledgement', 10_000);
    expect(threadText().filter((t) => t.includes('Acknowledged by <@U0SRE0314> at PAGE'))).toHaveLength(1);

    // The button is gone from the edited root; a client showing the old copy can still click it.
    expect(JSON.stringify(root()?.blocks)).not.toContain(ActionIds.acknowledgeIncident);
    const again = await rig.slack.clickButton({ message: staleRoot(), actionId: ActionIds.acknowledgeIncident, userId: 'U0OTHER' });
    const answer = await rig.slack.waitForResponse(again.responseUrlId, 10_000);
    expect(answer.body.text).toBe('Already acknowledged by <@U0SRE0314>; nothing changed.');
    expect(answer.body.response_type).toBe('ephemeral');
  });

  it('recovers when the group resumes, then resolves with an impact summary', async () => {
    consumer.resume([{ topic }]);
    await eventually(async () => threadText().some((t) => t.includes('Recovering')), 'recovery', 30_000);
    await eventually(async () => threadText().some((t) => t.includes('Resolved:')), 'resolution', 30_000);
    await eventually(async () => readable(root()).includes('RESOLVED'), 'the root message to show RESOLVED', 10_000);

    const resolved = thread().find((m) => m.text.includes('Resolved:')) as StoredMessage;
    const summary = readable(resolved);
    expect(summary).toContain('*Impact*');
    expect(summary).toMatch(/\*Peak lag\*\n[\d,]+ at \d\d:\d\d:\d\d UTC/);
    expect(summary).toContain('*Peak severity*\nPAGE');
    expect(summary).toMatch(/\*Time to acknowledge\*\n.+\(<@U0SRE0314>\)/);
    // Of the buttons only the postmortem stays.
    const buttons = [...JSON.stringify(root()?.blocks ?? []).matchAll(/"action_id":"([^"]+)"/g)].map((m) => m[1]);
    expect(buttons).toEqual([ActionIds.postmortemIncident]);

    const late = await rig.slack.clickButton({
      message: staleRoot(),
      actionId: ActionIds.resolveIncident,
      userId: 'U0LATE',
    });
    expect((await rig.slack.waitForResponse(late.responseUrlId, 10_000)).body.text).toBe('Already resolved automatically; nothing changed.');
  });

  it('left a clean record: one root, its edits, and the thread in order', async () => {
    await eventually(async () => thread().some((m) => m.files?.some((f) => f.name.startsWith('postmortem-'))), 'the postmortem draft in the thread', 20_000);
    const posts = rig.slack.callsOf('chat.postMessage').filter((c) => c.status === 200 && c.args.channel === ALERTS);
    const roots = posts.filter((c) => !c.args.thread_ts);
    expect(roots).toHaveLength(1);
    const rootTs = (root() as StoredMessage).ts;
    expect(posts.filter((c) => c.args.thread_ts).every((c) => c.args.thread_ts === rootTs)).toBe(true);
    expect(rig.slack.callsOf('chat.update').every((c) => c.args.ts === rootTs)).toBe(true);
    expect(rig.slack.callsOf('chat.update').length).toBeGreaterThan(1);

    const kinds = threadText().map((t) => /:([a-z_]+): /.exec(t)?.[1]);
    const order = ['rotating_light', 'eyes', 'chart_with_downwards_trend', 'white_check_mark'].map((k) => kinds.indexOf(k));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(new Set(threadText()).size).toBe(threadText().length);
    // The files shared into the thread: the opening chart, the resolved chart, the postmortem draft.
    const files = thread().flatMap((m) => m.files ?? []).map((f) => f.name);
    expect(files.filter((n) => n.endsWith('.png')).length).toBeGreaterThanOrEqual(2);
    expect(files.filter((n) => /^postmortem-.*\.md$/.test(n))).toHaveLength(1);
  });
});
