import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { LagMonitor } from '../../src/monitor/monitor.js';
import type { PostgresServer } from '../../tools/postgres-testbed/server.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, SECRET, fastIncidentYaml, startIncidentRig, type IncidentRig } from '../support/lagbot.js';
import { startTestPostgres } from '../support/postgres.js';
import { readable } from '../support/slack.js';

/**
 * Two lagbots in one process on one PostgreSQL, real Kafka and the real Bolt app behind the
 * Slack stand-in, their checks and a standby's follows driven by the test (no schedule): a
 * standby answers /lag from the history the leader stored, and a click it records reaches
 * Slack through the leader at once, with no check in between and before the delivery's poll.
 */
describe('two replicas: what the standby answers and records', () => {
  let server: PostgresServer;
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let slack: SlackStandin;
  let leader: IncidentRig;
  let standby: IncidentRig;
  const topic = uniqueName('replicas');
  const group = uniqueName('replicas-consumer');

  const monitor = (rig: IncidentRig) => rig.lagbot.monitors.byCluster.get('default') as LagMonitor;
  const eventsOf = (rig: IncidentRig) => `http://127.0.0.1:${rig.lagbot.port}/slack/events`;
  const root = () => slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));
  const replies = () => {
    const r = root();
    return r ? slack.thread(ALERTS, r.ts).slice(1).filter((m: StoredMessage) => !m.files?.length).map((m: StoredMessage) => m.text) : [];
  };

  beforeAll(async () => {
    server = await startTestPostgres();
    const url = await server.createDatabase();
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [5, 5]);
    slack = await startSlackStandin({ signingSecret: SECRET });
    const yaml = fastIncidentYaml(group, 'unused').replace(/store:\n {2}path: .*\n/, `store:\n  url: ${url}\n`);
    leader = await startIncidentRig(yaml, slack, { schedule: false });
    await eventually(async () => leader.lagbot.leadership.isLeader(), 'the first replica to lead', 10_000);
    standby = await startIncidentRig(yaml, slack, { schedule: false });
  }, 120_000);

  afterAll(async () => {
    await standby?.stop();
    await leader?.stop();
    await consumer?.disconnect();
    await admin?.disconnect();
    await slack?.stop();
    await server?.stop();
  });

  it('answers /lag on the standby with the rates of the history the leader stored', async () => {
    expect(standby.lagbot.leadership.isLeader()).toBe(false);
    consumer.pause([{ topic }]);
    for (let i = 0; i < 6 && !root(); i += 1) {
      await produce(kafka, topic, [150, 600]);
      await monitor(leader).check();
      await new Promise((r) => setTimeout(r, 400));
    }
    await eventually(async () => root() !== undefined, 'the incident root message', 15_000);

    // Before following, the standby knows Kafka's figures only; after, the leader's history too.
    slack.setEventsUrl(eventsOf(standby));
    const ask = async () => {
      const sent = await slack.sendSlashCommand({ command: '/lag', text: group, userId: 'U0SRE' });
      return readable((await slack.waitForResponse(sent.responseUrlId, 15_000)).body);
    };
    expect(await ask()).not.toContain('IN/S');
    await monitor(standby).follow();
    const answer = await ask();
    expect(answer).toContain('IN/S');
    expect(monitor(standby).historyOf(group).map((s) => s.at)).toEqual(monitor(leader).historyOf(group).map((s) => s.at));
    expect(standby.lagbot.monitors.standingsOf('default')).toEqual(leader.lagbot.monitors.standingsOf('default'));
  });

  it("records a click on the standby, and the leader posts its effect at once (LISTEN/NOTIFY), not at its 5-second poll or next check", async () => {
    const message = root() as StoredMessage;
    await eventually(async () => (await leader.lagbot.delivery?.status())?.pending === 0, 'the outbox delivered', 10_000);
    slack.setEventsUrl(eventsOf(standby));
    const clickedAt = Date.now();
    const click = await slack.clickButton({ message, actionId: ActionIds.acknowledgeIncident, userId: 'U0SRE0314' });
    expect(click.status).toBe(200);
    await eventually(async () => replies().some((t) => t.includes('Acknowledged by <@U0SRE0314>')), 'the acknowledgement in the thread', 10_000);
    const ms = Date.now() - clickedAt;
    await eventually(async () => readable(root()).includes('<@U0SRE0314>'), 'the root message to show who acknowledged', 5_000);
    console.log(`replicas: a click on the standby reached the thread through the leader in ${ms} ms`);
    expect(ms).toBeLessThan(2_500);
    expect(replies().filter((t) => t.includes('Acknowledged by <@U0SRE0314>'))).toHaveLength(1);
  });
});
