import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLagbot, type RunningLagbot } from '../../src/app/lagbot.js';
import { parseConfig } from '../../src/config/config.js';
import { ActionIds } from '../../src/core/action-ids.js';
import type { Clock } from '../../src/core/ports.js';
import { createLogger } from '../../src/log/logger.js';
import { startSlackStandin, type SlackStandin, type StoredMessage } from '../../tools/slack-standin/standin.js';
import { eventually, kafkaClient, produce, testbed, uniqueName } from '../support/kafka.js';
import { tempStorePath } from '../support/lagbot.js';
import { committingGroup, type CommittingGroup } from '../support/monitor-on-clock.js';
import { readable } from '../support/slack.js';

/**
 * An escalation policy for real: a group on a real broker whose lag the test sets, the lagbot
 * composition (`lagbot start`'s) with its checks on an injected clock, the real Bolt app and
 * the Slack stand-in. The policy notifies its first level when the incident reaches CRITICAL,
 * its second when nobody acknowledges within 5 minutes; an acknowledgement stops it, and the
 * escalation to PAGE restarts it from the first level. "Add responder" and "Reassign" open
 * a modal whose submission reaches the incident as a signed view_submission.
 */
const SECRET = 'escalation-test-signing-secret';
const ALERTS = 'C0ALERTS';
const MIN = 60_000;

function escalationYaml(group: string, storePath: string): string {
  return `
check:
  schedule: "*/30 * * * * *"
  # The test produces in bursts, minutes of the injected clock apart: no partition is idle.
  idleAfterMinutes: 1000
watch:
  include: [${JSON.stringify(group)}]
alerting:
  channel: ${ALERTS}
  rootRefreshSeconds: 1
  escalation:
    startsAt: critical
    repeat: 0
    levels:
      - notify: [S0PRIMARY]
        waitMinutes: 5
      - notify: [U0LEAD, here]
        waitMinutes: 10
thresholds:
  warning: { lag: 100 }
  critical: { lag: 400 }
  page: { lag: 3000 }
store:
  path: ${JSON.stringify(storePath)}
slack:
  postIntervalMs: 20
`;
}

describe('an escalation policy through Slack, Kafka and the real Bolt app', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: CommittingGroup;
  let slack: SlackStandin;
  let lagbot: RunningLagbot;
  const topic = uniqueName('orders');
  const group = uniqueName('orders-consumer');
  let now = Date.now();
  const clock: Clock = { now: () => now };

  const root = (): StoredMessage | undefined => slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));
  const threadText = (): string[] => {
    const r = root();
    return r ? slack.thread(ALERTS, r.ts).slice(1).filter((m) => !m.files?.length).map((m) => m.text) : [];
  };
  const notified = (): string[] => threadText().filter((t) => t.includes(':loudspeaker: Notified'));
  /** One check of every cluster at `now`, then the thread as Slack shows it once delivery has caught up. */
  const checkAt = async (at: number): Promise<void> => {
    now = at;
    await lagbot.monitors.checkAll();
    await eventually(async () => (await lagbot.delivery?.status())?.pending === 0, 'delivery to catch up', 10_000);
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await committingGroup(admin, topic, group, 1);
    slack = await startSlackStandin({ signingSecret: SECRET });
    // The people who click are in the incident channel, whose members may act by default (access rules).
    slack.memberships.setChannelMembers(ALERTS, ['U0MARIA', 'U0LEAD']);
    const config = parseConfig(escalationYaml(group, await tempStorePath()), {
      KAFKA_BROKERS: testbed().bootstrap,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: '0',
    });
    lagbot = await startLagbot({ ...config, http: { ...config.http, host: '127.0.0.1' } }, { clock, logger: createLogger('silent'), schedule: false });
    slack.setEventsUrl(`http://127.0.0.1:${lagbot.port}/slack/events`);
  });

  afterAll(async () => {
    await lagbot?.stop();
    await slack?.stop();
    await consumer?.consumer.disconnect();
    await admin?.disconnect();
  });

  it('notifies the first level when the incident reaches CRITICAL, the second after 5 minutes without an acknowledgement', async () => {
    await produce(kafka, topic, [600]);
    await consumer.commit([0]);
    const t0 = now;
    await checkAt(t0);
    await eventually(async () => root(), 'the incident root message', 10_000);
    expect(threadText()[0]).toMatch(/:rotating_light: Opened at CRITICAL: total lag 600 &gt; 400/);
    expect(notified()).toEqual([expect.stringMatching(/Notified <!subteam\^S0PRIMARY> \(level 1 of 2, round 1 of 1\): the incident reached CRITICAL; total lag 600(; staleness [^.]+)?\.$/)]);

    await checkAt(t0 + 4.5 * MIN);
    expect(notified()).toHaveLength(1);
    await checkAt(t0 + 5 * MIN);
    expect(notified()).toHaveLength(2);
    expect(notified()[1]).toMatch(/Notified <@U0LEAD>, <!here> \(level 2 of 2, round 1 of 1\): no acknowledgement after 5 min; total lag 600(; staleness [^.]+)?\.$/);
  });

  it('stops on an acknowledgement, and restarts from the first level when the incident escalates to PAGE', async () => {
    const click = await slack.clickButton({ message: root() as StoredMessage, actionId: ActionIds.acknowledgeIncident, userId: 'U0MARIA' });
    expect(click.status).toBe(200);
    await eventually(async () => threadText().some((t) => t.includes('Acknowledged by <@U0MARIA> at CRITICAL')), 'the acknowledgement in the thread', 10_000);

    await checkAt(now + 20 * MIN);
    expect(notified()).toHaveLength(2);

    await produce(kafka, topic, [3_000]);
    await checkAt(now + 30_000);
    const texts = threadText();
    expect(texts.some((t) => /Escalated to PAGE: total lag 3,600 &gt; 3,000/.test(t))).toBe(true);
    expect(notified()).toHaveLength(3);
    expect(notified()[2]).toMatch(/Notified <!subteam\^S0PRIMARY> \(level 1 of 2, round 1 of 1\): restarted after escalation to PAGE; total lag 3,600(; staleness [^.]+)?\.$/);
    // The restart runs the policy again: its second level, then the end of the policy.
    const restartedAt = now;
    await checkAt(restartedAt + 5 * MIN);
    expect(notified()[3]).toMatch(/Notified <@U0LEAD>, <!here> \(level 2 of 2, round 1 of 1\): no acknowledgement after 5 min/);
    await checkAt(restartedAt + 15 * MIN);
    expect(threadText().at(-1)).toMatch(/:no_bell: Escalation policy stopped: 1 round of 2 levels went unacknowledged \(the last level waited 10 min\)/);
    await checkAt(restartedAt + 45 * MIN);
    expect(notified()).toHaveLength(4);
  });

  /** Clicks a root button that opens a modal, and the modal lagbot opened for it. */
  const openModal = async (actionId: string, userId: string) => {
    const before = new Set(slack.openModals(userId).map((m) => m.id));
    const click = await slack.clickButton({ message: root() as StoredMessage, actionId, userId });
    expect(click.status).toBe(200);
    const modal = await eventually(async () => slack.openModals(userId).find((m) => !before.has(m.id)), `the modal of ${actionId}`, 10_000);
    // Opened with the trigger of this very click (the stand-in refuses any other, or one older than 3 s).
    expect(slack.callsOf('views.open').at(-1)?.args.trigger_id).toBe(click.triggerId);
    return modal;
  };

  it('"Add responder" opens a user picker with the click\'s trigger_id; its submission notifies the people picked in the thread', async () => {
    const modal = await openModal(ActionIds.addResponder, 'U0MARIA');
    expect(modal.view).toMatchObject({ type: 'modal', callback_id: 'incident_add_responder_modal', title: { text: 'Add responders' } });
    expect(JSON.parse(modal.view.private_metadata ?? '{}')).toEqual({ incidentId: expect.stringMatching(/^inc-/) });
    const viewsOpen = slack.callsOf('views.open').at(-1);
    expect(viewsOpen?.response).toMatchObject({ ok: true });

    // A submission whose signature does not hold is refused by Bolt and changes nothing.
    const forged = await slack.submitModal({ viewId: modal.id, users: ['U0EVE'], signature: 'v0=00' });
    expect(forged.status).toBe(401);
    expect(forged.closed).toBe(false);

    const submitted = await slack.submitModal({ viewId: modal.id, users: ['U0DBA', 'U0NET'] });
    expect(submitted).toMatchObject({ status: 200, closed: true, errors: null });
    await eventually(async () => threadText().some((t) => t.includes('Notified <@U0DBA>, <@U0NET>: added as responders by <@U0MARIA>.')), 'the responders in the thread', 10_000);
    expect(threadText().some((t) => t.includes('U0EVE'))).toBe(false);
    await eventually(async () => readable(root()).includes('Responders: <@U0DBA>, <@U0NET>'), 'the responders on the root', 10_000);
  });

  it('"Reassign" makes the person picked the assignee on the root and notifies them; the same person again keeps the modal open and says why', async () => {
    const modal = await openModal(ActionIds.reassignIncident, 'U0MARIA');
    expect(modal.view.blocks).toMatchObject([{ type: 'input', element: { type: 'users_select' } }]);
    expect(await slack.submitModal({ viewId: modal.id, users: ['U0BOB'] })).toMatchObject({ closed: true });
    await eventually(async () => readable(root()).includes('*Assignee*\n<@U0BOB> (by <@U0MARIA>'), 'the assignee on the root', 10_000);
    expect(threadText().filter((t) => t.includes('Notified <@U0BOB>: reassigned to them by <@U0MARIA>.'))).toHaveLength(1);

    const again = await openModal(ActionIds.reassignIncident, 'U0LEAD');
    const refused = await slack.submitModal({ viewId: again.id, users: ['U0BOB'] });
    expect(refused).toMatchObject({ status: 200, closed: false, errors: { people: 'Already assigned to @U0BOB; nothing changed.' } });
    expect(slack.openModals('U0LEAD').map((m) => m.id)).toContain(again.id);
    expect(threadText().filter((t) => t.includes('reassigned to them'))).toHaveLength(1);

    // Someone outside the channel opens no form: the gate refuses them privately and the thread says so.
    const eve = await slack.clickButton({ message: root() as StoredMessage, actionId: ActionIds.reassignIncident, userId: 'U0EVE' });
    expect(eve.status).toBe(200);
    await eventually(async () => threadText().some((t) => t.includes('<@U0EVE> tried to reassign')), 'the refusal in the thread', 10_000);
    expect(slack.openModals('U0EVE')).toEqual([]);
  });

  it('on a resolved incident, opens no modal and answers the clicker privately', async () => {
    const stale = root() as StoredMessage;
    await slack.clickButton({ message: stale, actionId: ActionIds.resolveIncident, userId: 'U0MARIA' });
    await eventually(async () => readable(root()).includes('RESOLVED'), 'the root to show RESOLVED', 10_000);
    const opens = slack.callsOf('views.open').length;
    const late = await slack.clickButton({ message: stale, actionId: ActionIds.addResponder, userId: 'U0LATE' });
    expect((await slack.waitForResponse(late.responseUrlId, 10_000)).body).toMatchObject({ response_type: 'ephemeral', text: 'Already resolved by <@U0MARIA>; nothing changed.' });
    expect(slack.callsOf('views.open')).toHaveLength(opens);
  });
});
