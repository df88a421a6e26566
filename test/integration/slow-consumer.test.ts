import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/findings.js';
import type { Clock } from '../../src/core/ports.js';
import type { CheckReport } from '../../src/monitor/monitor.js';
import { startSlackApp, type RunningSlackApp } from '../../src/slack/app.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { committingGroup, monitorOnClock, type CommittingGroup, type MonitorOnClock } from '../support/monitor-on-clock.js';
import { readable } from '../support/slack.js';

/**
 * The case study's slow consumer on a real broker: three partitions produced steadily, a
 * group whose consumer commits partition 1 slowly while it keeps up with 0 and 2. A
 * LagMonitor's checks, 30 s apart on an injected clock, see the slow-consumer finding for
 * partition 1 and its owner; `/lag GROUP` through the real Bolt app shows the rates.
 */
const SIGNING_SECRET = 'slow-consumer-test-secret';
const CHECK_MS = 30_000;
/** Messages per partition per check: 10/s at 30 s a check. */
const PER_CHECK = 300;
/** What partition 1's consumer gets through per check: 1/s. */
const SLOW_PER_CHECK = 30;

describe('a slow consumer on one partition', () => {
  let kafka: Kafka;
  let admin: Admin;
  let group$: CommittingGroup;
  let rig: MonitorOnClock;
  let slack: SlackStandin;
  let app: RunningSlackApp;
  const topic = uniqueName('user-events');
  const group = uniqueName('user-events-consumer');
  const clientId = uniqueName('consumer-2');
  let now = Date.now();
  const clock: Clock = { now: () => now };
  const reports: CheckReport[] = [];
  /** What the consumer has got through on partitions 0, 1 and 2. */
  let committed: [number, number, number] = [0, 0, 0];

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    // The offsets are the test's to commit: what the consumer "got through" each check.
    group$ = await committingGroup(admin, topic, group, 3, clientId);
    rig = monitorOnClock(`check:\n  rateWindowMinutes: 2\nwatch:\n  include: [${JSON.stringify(group)}]\nalerting:\n  channel: C0ALERTS\n`, clock);
    const { reader, policy, logger, monitor } = rig;

    slack = await startSlackStandin({ signingSecret: SIGNING_SECRET });
    app = await startSlackApp({
      mode: 'http',
      botToken: slack.botToken,
      signingSecret: SIGNING_SECRET,
      apiUrl: slack.apiUrl,
      command: '/lag',
      port: 0,
      host: '127.0.0.1',
      query: { sources: [reader.reader], clock, findingSettings: policy.findingSettings, history: (ref) => monitor.historyOf(ref.group) },
      logger,
    });
    slack.setEventsUrl(`http://127.0.0.1:${app.port}/slack/events`);
  });

  afterAll(async () => {
    await app?.stop();
    await slack?.stop();
    await group$?.consumer.disconnect();
    await rig?.stop();
    await admin?.disconnect();
  });

  it('names partition 1 and its owner after the checks of a few minutes', async () => {
    for (let check = 0; check < 7; check += 1) {
      await produce(kafka, topic, [PER_CHECK, PER_CHECK, PER_CHECK]);
      committed = [committed[0] + PER_CHECK, committed[1] + SLOW_PER_CHECK, committed[2] + PER_CHECK];
      await group$.commit(committed);
      reports.push(await rig.monitor.check());
      now += CHECK_MS;
    }
    const last = reports.at(-1);
    if (!last?.ok) throw new Error(`the last check failed: ${JSON.stringify(last)}`);
    const verdict = last.verdicts.find((v) => v.group === group);
    const findings = verdict?.evaluation.findings ?? [];
    const slow = findings.filter((f): f is Extract<Finding, { kind: 'slow-consumer' }> => f.kind === 'slow-consumer');
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({
      topic,
      partition: 1,
      consumePerSec: SLOW_PER_CHECK / 30,
      producePerSec: PER_CHECK / 30,
      siblingsConsumePerSec: PER_CHECK / 30,
      siblings: 2,
      owner: { clientId },
    });
    expect(slow[0]?.owner?.host).toMatch(/\S/);
    // Slow, not stalled and not stopped: the offset moves, and the consumer is there.
    expect(findings.map((f) => f.kind)).not.toContain('stalled');
    expect(findings.map((f) => f.kind)).not.toContain('stopped');
    expect(verdict?.evaluation.figures.diagnosis?.kind).toBe('slow-consumer');
  });

  it('shows the rates per partition in /lag GROUP', async () => {
    const sent = await slack.sendSlashCommand({ command: '/lag', text: group });
    expect(sent.status).toBe(200);
    const text = readable((await slack.waitForResponse(sent.responseUrlId, 15_000)).body);
    expect(text).toMatch(/PARTITION\s+LAG\s+STALE\s+IN\/S\s+OUT\/S\s+COMMITTED\s+LOG-END\s+OWNER/);
    expect(text).toMatch(new RegExp(`${topic}-1\\s+[\\d,]+\\s+.+?\\s+10\\s+1\\s+`));
    expect(text).toMatch(new RegExp(`${topic}-0\\s+0\\s+\\S+\\s+10\\s+10\\s+`));
    expect(text).toContain(`\`${topic}-1\` is consumed at 1/s, the other partitions at 10/s`);
    expect(text).toContain(`its owner \`${clientId}\` on`);
  });
});
