import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Charts for real: a paused group on the real broker opens an incident, whose thread gets a
 * PNG chart uploaded through the real Bolt app's delivery; `/lag GROUP chart` answers with
 * an image of the monitor's history; a group nobody watches has no history, and says so.
 */
describe('lag charts in Slack', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let rig: IncidentRig;
  const topic = uniqueName('charts');
  const group = uniqueName('charts-consumer');

  const root = (): StoredMessage | undefined => rig.slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));
  const threadFiles = () => {
    const r = root();
    return r ? rig.slack.thread(ALERTS, r.ts).flatMap((m) => m.files ?? []) : [];
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [5, 5]);
    rig = await startIncidentRig(fastIncidentYaml(group, await tempStorePath()));
  });

  afterAll(async () => {
    await rig?.stop();
    await consumer?.disconnect();
    await admin?.disconnect();
  });

  it('posts a PNG chart into the thread when the incident opens', async () => {
    consumer.pause([{ topic }]);
    await produce(kafka, topic, [400, 900]);
    await eventually(async () => root(), 'the incident root message', 30_000);
    await eventually(async () => threadFiles().length > 0, 'a chart in the incident thread', 30_000);

    const [file] = threadFiles();
    expect(file).toMatchObject({ mimetype: 'image/png', filetype: 'png' });
    expect(file!.title).toMatch(new RegExp(`^Lag of ${group}: (WARNING|CRITICAL|PAGE) opened$`));
    expect(file!.name).toMatch(/^lag-charts-consumer-.*\.png$/);
    const bytes = rig.slack.fileBytes(file!.id)!;
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    // The text timeline is all there too, the file beside it, not in its way.
    const thread = rig.slack.thread(ALERTS, root()!.ts);
    expect(thread.some((m) => /Opened at/.test(m.text))).toBe(true);
    expect(rig.slack.callsOf('files.completeUploadExternal')[0]?.args).toMatchObject({ channel_id: ALERTS, thread_ts: root()!.ts });
  });

  it('answers `/lag GROUP chart` with an image of the last hour, uploaded privately', async () => {
    const before = rig.slack.files().length;
    const ask = async () => {
      const sent = await rig.slack.sendSlashCommand({ command: '/lag', text: `${group} chart` });
      return rig.slack.waitForResponse(sent.responseUrlId, 20_000);
    };
    const imageOf = (r: Awaited<ReturnType<typeof ask>>) => (r.body.blocks ?? []).find((b) => b.type === 'image') as { slack_file?: { id?: string } } | undefined;
    // The incident may open at the first check: a chart needs a second sample of the group.
    let response = await ask();
    for (let tries = 0; !imageOf(response) && /no history of it/.test(String(response.body.text)) && tries < 10; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      response = await ask();
    }
    expect(response.status).toBe(200);
    const image = imageOf(response);
    expect(image?.slack_file?.id, String(response.body.text)).toBeDefined();
    const uploaded = rig.slack.files().slice(before);
    expect(uploaded.map((f) => f.id)).toEqual([image!.slack_file!.id]);
    expect(uploaded[0]).toMatchObject({ is_public: false, mimetype: 'image/png', title: `Lag of ${group}, last hour` });
    expect([...rig.slack.fileBytes(uploaded[0]!.id)!.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    // Private: shared in no channel.
    expect(rig.slack.callsOf('files.completeUploadExternal').at(-1)?.args.channel_id).toBeUndefined();
    expect(response.body.response_type).toBe('ephemeral');
  });

  it('says so when the group has no history yet, and shows a sparkline in `/lag GROUP`', async () => {
    const unwatched = uniqueName('unwatched');
    const other = kafka.consumer({ groupId: unwatched });
    await other.connect();
    await other.subscribe({ topics: [topic], fromBeginning: true });
    await other.run({ autoCommitInterval: 100, eachMessage: async () => undefined });
    try {
      await eventually(async () => {
        const [offsets] = await admin.fetchOffsets({ groupId: unwatched, topics: [topic] });
        return offsets?.partitions.some((p) => Number(p.offset) > 0);
      }, 'the unwatched group to commit');
      const sent = await rig.slack.sendSlashCommand({ command: '/lag', text: `${unwatched} chart` });
      const response = await rig.slack.waitForResponse(sent.responseUrlId, 20_000);
      expect(response.body.text).toMatch(/No chart of .* yet: lagbot has no history of it/);
    } finally {
      await other.disconnect();
    }

    const sent = await rig.slack.sendSlashCommand({ command: '/lag', text: group });
    const response = await rig.slack.waitForResponse(sent.responseUrlId, 20_000);
    expect(JSON.stringify(response.body.blocks)).toMatch(/Last hour `[▁▂▃▄▅▆▇█ ]+` peak/);
  });
});
