import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { SlackFile } from '../../src/core/protocol.js';
import type { OutboxRow } from '../../src/store/outbox.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

/**
 * The postmortem, for real: a paused group on a real broker opens an incident, resumes and
 * resolves it; lagbot queues the draft as a file for the thread, and the "Postmortem"
 * button on the resolved root (a signed click through the real Bolt app) queues it again.
 * Delivery uploads it into the thread (the stand-in speaks Slack's upload flow), beside the
 * incident's charts.
 */
describe('the postmortem draft of a resolved incident', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let rig: IncidentRig;
  let storePath: string;
  let store: SqliteIncidentStore;
  const topic = uniqueName('payments');
  const group = uniqueName('payments-consumer');

  const root = (): StoredMessage | undefined => rig.slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));
  const threadText = (): string[] => {
    const r = root();
    // The timeline's replies; shared files (charts, drafts) are messages of their own.
    return r ? rig.slack.thread(ALERTS, r.ts).slice(1).filter((m) => !(m.files?.length)).map((m) => m.text) : [];
  };
  /** The postmortem drafts queued (the charts are files too). */
  const fileRows = async (): Promise<(OutboxRow & { file: SlackFile })[]> =>
    (await store.outboxRows()).filter((r): r is OutboxRow & { file: SlackFile } => r.kind === 'post-file' && r.file?.kind === 'markdown');
  const sharedDrafts = () => {
    const r = root();
    return r ? rig.slack.thread(ALERTS, r.ts).flatMap((m) => m.files ?? []).filter((f) => f.name.startsWith('postmortem-')) : [];
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [10, 10, 10]);
    storePath = await tempStorePath();
    rig = await startIncidentRig(fastIncidentYaml(group, storePath, 'postmortem:\n  timeZone: Europe/Paris\n'));
    // The running lagbot's own file, read beside it (WAL lets a second connection read).
    store = openSqliteStore(storePath);
  });

  afterAll(async () => {
    await store?.close();
    await rig?.stop();
    await consumer?.disconnect();
    await admin?.disconnect();
  });

  it('queues the draft as a file in the thread when the incident resolves', async () => {
    consumer.pause([{ topic }]);
    await produce(kafka, topic, [20, 1_500, 20]);
    await eventually(async () => root(), 'the incident root message', 30_000);
    consumer.resume([{ topic }]);
    await eventually(async () => threadText().some((t) => t.includes('Resolved:')), 'resolution', 30_000);
    await eventually(async () => readable(root()).includes('RESOLVED'), 'the root message to show RESOLVED', 10_000);

    const [incident] = (await store.listIncidents({ group }));
    expect(incident?.status).toBe('resolved');
    const timeline = (await store.timeline(incident!.id));
    expect(timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'recovering', 'resolved']));
    // Every entry was its own thread reply, and is in the draft.
    expect(threadText()).toHaveLength(timeline.length);

    const [draft, ...more] = (await fileRows());
    expect(more).toEqual([]);
    expect(draft).toMatchObject({ incidentId: incident!.id, channel: ALERTS });
    expect(draft!.file).toMatchObject({ kind: 'markdown', filename: `postmortem-${incident!.id}.md`, title: `Postmortem draft: ${group}` });
    const text = draft!.file.kind === 'markdown' ? draft!.file.text : '';
    expect(text).toContain(`# Postmortem draft: consumer lag of \`${group}\``);
    expect(text).toContain('Times in Europe/Paris.');
    expect(text.split('\n').filter((l) => /^- \*\*\d\d:\d\d:\d\d\*\* — /.test(l))).toHaveLength(timeline.length);
    expect(text).toContain('## Real-World Impact');
    expect(text).toContain(`- **Peak lag:** ${incident!.peakLag.toLocaleString('en-US')} messages`);
    expect(text).toContain('## Root-cause candidates');
    expect(text).toContain(`Hot partition \`${topic}-1\``);
    expect(text).toContain('## Key takeaways');
  });

  it('delivery uploads the draft into the thread; the Postmortem button on the resolved root posts it again', async () => {
    await eventually(async () => sharedDrafts().length === 1, 'the draft to be shared into the thread', 20_000);
    const [shared] = sharedDrafts();
    const [draft] = (await fileRows());
    expect(shared).toMatchObject({ name: draft!.file.filename, title: draft!.file.title });
    expect(rig.slack.fileBytes(shared!.id)?.toString('utf8')).toBe(draft!.file.kind === 'markdown' ? draft!.file.text : null);

    const resolvedRoot = root() as StoredMessage;
    expect(JSON.stringify(resolvedRoot.blocks)).toContain(ActionIds.postmortemIncident);
    const click = await rig.slack.clickButton({ message: resolvedRoot, actionId: ActionIds.postmortemIncident, userId: 'U0SRE' });
    expect(click.status).toBe(200);
    const answer = await rig.slack.waitForResponse(click.responseUrlId, 10_000);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', text: 'The postmortem draft is on its way into the thread, as a file.' });
    const rows = (await fileRows());
    expect(rows).toHaveLength(2);
    expect(rows[1]!.file).toEqual(rows[0]!.file);

    await eventually(async () => sharedDrafts().length === 2, 'the second copy of the draft in the thread', 20_000);
    // Shared is seen a moment before the row is marked delivered.
    await eventually(async () => (await fileRows()).every((r) => r.state === 'delivered'), 'both drafts marked delivered', 10_000);
    // Nothing failed, text or file.
    expect((await store.outboxRows()).filter((r) => r.state === 'failed')).toEqual([]);
  });

  it('answers a click whose value is not a lagbot incident without queueing anything', async () => {
    const before = (await store.outboxRows()).length;
    const click = await rig.slack.clickButton({ message: root() as StoredMessage, actionId: ActionIds.postmortemIncident, value: 'not-an-incident', userId: 'U0SRE' });
    const answer = await rig.slack.waitForResponse(click.responseUrlId, 10_000);
    expect(answer.body.text).toBe('This button does not belong to a lagbot incident.');
    const unknown = await rig.slack.clickButton({ message: root() as StoredMessage, actionId: ActionIds.postmortemIncident, value: 'inc-00000000-gone', userId: 'U0SRE' });
    expect((await rig.slack.waitForResponse(unknown.responseUrlId, 10_000)).body.text).toBe('This incident no longer exists.');
    expect((await store.outboxRows())).toHaveLength(before);
  });
});
