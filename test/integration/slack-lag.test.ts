import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';
import { createTopic, kafkaClient, lagReader, produce, uniqueName } from '../support/kafka.js';
import { readable, startSlackRig, type SlackRig } from '../support/slack.js';

/** `/lag` through the real Bolt app over signed HTTP, reading a real broker. */
describe('/lag in Slack', () => {
  let kafka: Kafka;
  let admin: Admin;
  let reader: KafkaLag;
  let rig: SlackRig;
  const topic = uniqueName('user-events');
  const group = uniqueName('user-events-consumer');
  const evilGroup = `<!channel>-${uniqueName('x')}`;

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 3);
    await produce(kafka, topic, [600, 5_000, 400]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '500' }, { partition: 1, offset: '1000' }, { partition: 2, offset: '390' }] });
    await admin.setOffsets({ groupId: evilGroup, topic, partitions: [{ partition: 0, offset: '1' }] });
    reader = lagReader();
    rig = await startSlackRig(reader.reader);
  });

  afterAll(async () => {
    await rig?.stop();
    await reader?.stop();
    await admin?.disconnect();
  });

  async function lag(text: string) {
    const sent = await rig.slack.sendSlashCommand({ command: '/lag', text });
    expect(sent.status).toBe(200);
    const response = await rig.slack.waitForResponse(sent.responseUrlId, 15_000);
    return { sent, response, text: readable(response.body) };
  }

  it('answers /lag GROUP privately with the numbers, the hot partition and a share button', async () => {
    const { response, text } = await lag(group);
    expect(response.body.response_type).toBe('ephemeral');
    expect(text).toContain(`\`${group}\`: total lag 4,110 over 3 partitions`);
    // The staleness sits between the lag and the offsets: STALE.
    expect(text).toMatch(/PARTITION\s+LAG\s+STALE\s+COMMITTED/);
    expect(text).toContain(`Hot partition \`${topic}-1\` holds 97% of the lag (4,000 of 4,110)`);
    expect(text).toMatch(new RegExp(`${topic}-1\\s+4,000\\s+[^\\n]+?\\s+1,000\\s+5,000\\s+-`));
    expect(text).toMatch(new RegExp(`${topic}-0\\s+100\\s+[^\\n]+?\\s+500\\s+600\\s+-`));
    expect(text).toContain('No active members');
    expect(JSON.stringify(response.body.blocks)).toContain(ActionIds.postLagToChannel);
  });

  it('lists every group, largest lag first', async () => {
    const { text } = await lag('list');
    expect(text).toContain('Consumer groups');
    expect(text).toMatch(new RegExp(`${group}\\s+Empty\\s+0\\s+3\\s+4,110`));
  });

  it('answers an unknown group with the closest names', async () => {
    const { text } = await lag(group.slice(0, -1));
    expect(text).toContain(`No such group \`${group.slice(0, -1)}\``);
    expect(text).toContain(`\`${group}\``);
  });

  it('answers malformed input with a short error and usage, and help with usage', async () => {
    expect((await lag(`${group} partitons`)).text).toContain(`Unknown view "partitons"`);
    expect((await lag('a b c')).text).toContain('Too many words');
    expect((await lag('help')).text).toContain('/lag GROUP members');
  });

  it('escapes Kafka-derived text: a group named <!channel> pings no one', async () => {
    // Slack escapes what the user typed the same way before it reaches lagbot.
    const { text } = await lag(evilGroup.replace('<', '&lt;').replace('>', '&gt;'));
    expect(text).toContain(`&lt;!channel&gt;-x-`);
    expect(text).toContain('total lag 599');
    expect(text).not.toContain('<!channel>');
    const list = await lag('list');
    expect(list.text).toContain('&lt;!channel&gt;-x-');
    expect(list.text).not.toContain('<!channel>');
    const typo = await lag('&lt;!channel&gt; &lt;!here&gt;');
    expect(typo.text).toContain('Unknown view');
    expect(typo.text).not.toMatch(/<!channel>|<!here>/);
  });

  it('posts the answer to the channel when the button is clicked, credited to the clicker', async () => {
    const { sent, response } = await lag(group);
    const ephemeral = rig.slack.ephemerals().find((m) => readable(m).includes(`\`${group}\`: total lag`));
    expect(ephemeral).toBeDefined();
    const click = await rig.slack.clickButton({
      message: ephemeral as NonNullable<typeof ephemeral>,
      actionId: ActionIds.postLagToChannel,
      value: group,
      userId: 'U0SRE0314',
    });
    expect(click.status).toBe(200);
    const posted = await rig.slack.waitFor(() => rig.slack.messages('C0GENERAL').find((m) => readable(m).includes(`Shared by <@U0SRE0314>`)), 15_000);
    expect(readable(posted)).toContain(`\`${group}\`: total lag 4,110`);
    expect(JSON.stringify(posted.blocks)).not.toContain(ActionIds.postLagToChannel);
    // The private copy is removed once it has been shared.
    const shown = ephemeral as NonNullable<typeof ephemeral>;
    await rig.slack.waitFor(() => !rig.slack.ephemerals().some((m) => m.ts === shown.ts), 5_000);
    expect(sent.responseUrlId).toBe(response.id);
  });

  it('rejects forged and stale signatures without running the command', async () => {
    const before = rig.slack.responses.length;
    const forged = await rig.slack.sendSlashCommand({ command: '/lag', text: group, signature: `v0=${'0'.repeat(64)}` });
    const stale = await rig.slack.sendSlashCommand({ command: '/lag', text: group, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const future = await rig.slack.sendSlashCommand({ command: '/lag', text: group, timestamp: Math.floor(Date.now() / 1000) + 6 * 60 });
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    // Slack's rule is "more than five minutes from now, in either direction"; Bolt checks only the past.
    expect(future.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(rig.slack.responses.length).toBe(before);
  });

  it('accepts a correctly signed request from a clock a few minutes ahead', async () => {
    const ahead = await rig.slack.sendSlashCommand({ command: '/lag', text: group, timestamp: Math.floor(Date.now() / 1000) + 4 * 60 });
    expect(ahead.status).toBe(200);
    const response = await rig.slack.waitForResponse(ahead.responseUrlId, 15_000);
    expect(readable(response.body)).toContain(`\`${group}\`: total lag`);
  });
});

describe('/lag with the cluster down', () => {
  it('acknowledges at once and says within seconds that Kafka cannot be reached', async () => {
    const [port] = await freePorts(1);
    const dead = lagReader([`127.0.0.1:${port}`]);
    const rig = await startSlackRig(dead.reader);
    try {
      const sent = await rig.slack.sendSlashCommand({ command: '/lag', text: 'user-events-consumer' });
      expect(sent.status).toBe(200);
      const response = await rig.slack.waitForResponse(sent.responseUrlId, 20_000);
      expect(readable(response.body)).toContain(`Could not read from Kafka`);
      expect(readable(response.body)).toContain(`127.0.0.1:${port}`);
    } finally {
      await rig.stop();
      await dead.stop();
    }
  });
});
