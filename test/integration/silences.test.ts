import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { Clock } from '../../src/core/ports.js';
import type { Incident } from '../../src/core/protocol.js';
import { createLogger } from '../../src/log/logger.js';
import type { CheckReport } from '../../src/monitor/monitor.js';
import { Silences } from '../../src/monitor/silences.js';
import { startSlackApp, type RunningSlackApp } from '../../src/slack/app.js';
import type { OutboxRow } from '../../src/store/outbox.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import type { EphemeralMessage } from '../../tools/slack-standin/types.js';
import { kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { committingGroup, monitorOnClock, type CommittingGroup, type MonitorOnClock } from '../support/monitor-on-clock.js';
import { readable } from '../support/slack.js';

/**
 * Silences end to end on a real broker, through the real Bolt app and signed requests from
 * the Slack stand-in, with the monitor's checks on an injected clock: a glob silence keeps a
 * paging group from opening anything until End now; a maintenance window scheduled ahead
 * starts on its own over an open incident, which keeps its timeline without mentions, and
 * ends on its own, when the on-call people hear of the page again.
 */
const SECRET = 'silences-test-secret';
const CHECK_MS = 30_000;
const MIN = 60_000;
const SRE = 'U0SRE0314';
const LEAD = 'U0LEAD';

describe('silences and maintenance windows', () => {
  let kafka: Kafka;
  let admin: Admin;
  let rig: MonitorOnClock;
  let slack: SlackStandin;
  let app: RunningSlackApp;
  const prefix = uniqueName('payments');
  const paymentsTopic = `${prefix}-events`;
  const payments = `${prefix}-consumer`;
  const eventsTopic = uniqueName('user-events');
  const events = uniqueName('user-events-consumer');
  let paymentsGroup: CommittingGroup;
  let eventsGroup: CommittingGroup;
  let now = Date.now();
  const clock: Clock = { now: () => now };
  let silenceId = '';
  let windowStart = 0;

  /**
   * One check of both groups, 30 s of the injected clock. The tests write to a group's topic
   * before each check that must keep its incident: a topic nothing is written to goes idle
   * after 5 minutes, and idle lag alone resolves.
   */
  const check = async (): Promise<Extract<CheckReport, { ok: true }>> => {
    const report = await rig.monitor.check();
    if (!report.ok) throw new Error(`check failed: ${report.error}`);
    now += CHECK_MS;
    return report;
  };
  const openIncident = (group: string): Promise<Incident | null> => rig.store.openIncidentFor({ cluster: 'default', group });
  const rowsOf = async (incident: Incident | null): Promise<OutboxRow[]> => (await rig.store.outboxRows()).filter((r) => incident !== null && r.incidentId === incident.id);
  const threadTexts = async (incident: Incident | null): Promise<string[]> => (await rowsOf(incident)).filter((r) => r.kind === 'post-thread').map((r) => r.message.text);
  const lastRoot = async (incident: Incident | null): Promise<string> => readable((await rowsOf(incident)).filter((r) => r.kind === 'post-root' || r.kind === 'update-root').at(-1)?.message);

  /** `/lag TEXT` from `user`, and the private answer it got. */
  const lag = async (text: string, user = SRE) => {
    const sent = await slack.sendSlashCommand({ command: '/lag', text, userId: user });
    expect(sent.status).toBe(200);
    return (await slack.waitForResponse(sent.responseUrlId, 15_000)).body;
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    paymentsGroup = await committingGroup(admin, paymentsTopic, payments, 1);
    eventsGroup = await committingGroup(admin, eventsTopic, events, 1);
    await paymentsGroup.commit([0]);
    await eventsGroup.commit([0]);
    const yaml = `
watch:
  include: [${JSON.stringify(payments)}, ${JSON.stringify(events)}]
alerting:
  channel: C0ALERTS
  oncall: [S0ONCALL]
  renotifyMinutes: 2
thresholds:
  warning: { lag: 100 }
  critical: { lag: 500 }
  page: { lag: 3000 }
`;
    let silences: Silences | undefined;
    rig = monitorOnClock(yaml, clock, (store) => ({ silences: (silences = new Silences({ store, clock, clusters: ['default'], logger: createLogger('silent') })) }));
    slack = await startSlackStandin({ signingSecret: SECRET });
    app = await startSlackApp({
      mode: 'http',
      botToken: slack.botToken,
      signingSecret: SECRET,
      apiUrl: slack.apiUrl,
      command: '/lag',
      port: 0,
      host: '127.0.0.1',
      query: { sources: [rig.reader.reader], clock, findingSettings: rig.policy.findingSettings },
      logger: rig.logger,
      ...(silences ? { silences } : {}),
    });
    slack.setEventsUrl(`http://127.0.0.1:${app.port}/slack/events`);
  });

  afterAll(async () => {
    await app?.stop();
    await slack?.stop();
    await paymentsGroup?.consumer.disconnect();
    await eventsGroup?.consumer.disconnect();
    await rig?.stop();
    await admin?.disconnect();
  });

  it('silences every group a glob matches: a paging group opens nothing', async () => {
    const answer = await lag(`silence ${prefix}-* 1h deploy of payments v2`);
    expect(answer.response_type).toBe('ephemeral');
    const text = readable(answer);
    expect(text).toContain(`:no_bell: Silenced: \``);
    expect(text).toContain(`the groups matching \`${prefix}-*\`, by <@${SRE}>, until `);
    expect(text).toContain('(deploy of payments v2)');
    silenceId = /`(sil-[a-z0-9]+)`/.exec(text)?.[1] ?? '';
    expect(silenceId).toMatch(/^sil-/);

    await produce(kafka, paymentsTopic, [4_000]);
    const report = await check();
    const verdict = report.verdicts.find((v) => v.group === payments);
    expect(verdict?.evaluation.severity).toBe('page');
    expect(verdict?.incident).toBeNull();
    expect(await openIncident(payments)).toBeNull();
    expect((await rig.store.outboxRows()).filter((r) => readable(r.message).includes(payments))).toEqual([]);
  });

  it('refuses what it cannot do, saying why', async () => {
    expect(readable(await lag('silence cluster:nowhere 1h'))).toContain('lagbot watches no cluster `nowhere`; it knows `default`.');
    expect(readable(await lag(`silence ${events} 2h from 2020-01-01T00:00Z`))).toContain('That start, 2020-01-01 00:00:00 UTC, is in the past');
    expect(readable(await lag(`silence ${events} 2h from 2030-01-01T02:00 reason`))).toContain('with the zone');
    expect(readable(await lag(`silence ${events} 30d`))).toContain('A silence lasts at most 7 d (asked: 30 d)');
    expect(readable(await lag(`silence ${events} soon`))).toContain('`soon` is not a duration');
  });

  it('schedules a maintenance window ahead of time; the group pages as usual until it starts', async () => {
    windowStart = Math.ceil((now + 5 * MIN) / MIN) * MIN;
    const from = new Date(windowStart).toISOString().slice(0, 16) + 'Z';
    const text = readable(await lag(`silence ${events} 10m from ${from} increase partitions`));
    expect(text).toContain(':calendar: Maintenance window scheduled');
    expect(text).toContain(`from ${new Date(windowStart).toISOString().replace('T', ' ').slice(0, 19)} UTC until ${new Date(windowStart + 10 * MIN).toISOString().replace('T', ' ').slice(0, 19)} UTC`);
    expect(text).toContain('(increase partitions)');

    await produce(kafka, eventsTopic, [1_000]);
    await check();
    const incident = await openIncident(events);
    expect(incident?.severity).toBe('critical');
    expect(incident?.silence ?? null).toBeNull();
  });

  it('lists the silence in force and the window scheduled: who, what, from, until, why, each with a button', async () => {
    await lag('silences');
    const list = slack.ephemerals({ user: SRE }).filter((m) => readable(m).includes('*Silences* (2')).at(-1) as EphemeralMessage;
    const text = readable(list);
    expect(text).toContain(`:no_bell: \`${silenceId}\`: the groups matching \`${prefix}-*\`, by <@${SRE}>, until `);
    expect(text).toContain(`the group \`${events}\`, by <@${SRE}>, from `);
    expect(text).toContain('(increase partitions)');
    const buttons = JSON.stringify(list.blocks).match(/"action_id":"silence_end"/g) ?? [];
    expect(buttons).toHaveLength(2);
    expect(text).toContain('End now');
    expect(text).toContain('Cancel');
  });

  it('ends the glob silence early with its button: the next check opens the payments incident, paging', async () => {
    const list = slack.ephemerals({ user: SRE }).filter((m) => readable(m).includes('*Silences* (2')).at(-1) as EphemeralMessage;
    const click = await slack.clickButton({ message: list, actionId: ActionIds.endSilence, value: silenceId, userId: LEAD });
    expect(click.status).toBe(200);
    const answer = await slack.waitForResponse(click.responseUrlId, 15_000);
    expect(answer.body.replace_original).toBe(true);
    const replaced = readable(slack.ephemerals({ user: SRE }).find((m) => m.ts === list.ts));
    expect(replaced).toContain(`Ended \`${silenceId}\``);
    expect(replaced).toContain('*Silences* (1');
    expect(replaced).not.toContain(`:no_bell: \`${silenceId}\``);

    expect(readable(await lag(`unsilence ${silenceId}`))).toContain(`\`${silenceId}\` is already over`);

    await produce(kafka, paymentsTopic, [100]);
    await check();
    const incident = await openIncident(payments);
    expect(incident?.severity).toBe('page');
    expect((await threadTexts(incident))[0]).toMatch(/Opened at PAGE: /);
    expect((await threadTexts(incident))[1]).toMatch(/Notified <!subteam\^S0ONCALL> \(level 1 of 1, round 1\): the incident paged/);
  });

  it('starts the window by itself over the open incident: it says so on the root and in the thread, and pages no one', async () => {
    now = windowStart;
    await produce(kafka, paymentsTopic, [50]);
    await produce(kafka, eventsTopic, [3_000]);
    await check();
    const incident = await openIncident(events);
    expect(incident?.severity).toBe('page');
    expect(incident?.silence).toMatchObject({ by: SRE, until: windowStart + 10 * MIN, reason: 'increase partitions', endedAt: null });
    const texts = await threadTexts(incident);
    const silenced = texts.find((t) => t.includes(':no_bell:')) as string;
    expect(silenced).toContain(`Silenced by <@${SRE}> until ${new Date(windowStart + 10 * MIN).toISOString().slice(11, 19)} UTC (the group \`${events}\`): increase partitions.`);
    // The escalation is in the thread, without the mention it would have had.
    const escalated = texts.find((t) => t.includes('Escalated to PAGE')) as string;
    expect(escalated).toBeDefined();
    expect(escalated).not.toContain('<!subteam^');
    expect(await lastRoot(incident)).toContain(`:no_bell: Silenced by <@${SRE}> until ${new Date(windowStart + 10 * MIN).toISOString().slice(11, 19)} UTC: increase partitions`);
  });

  it('keeps recording the timeline while silenced, and re-notifies no one though the page stays unacknowledged', async () => {
    const before = (await threadTexts(await openIncident(events))).length;
    // 9 minutes of checks: past the 2-minute re-notification interval several times over. The
    // producers keep writing (a topic nothing is written to goes idle, and its lag alone would resolve).
    for (let i = 0; i < 18; i += 1) {
      if (i === 6) await eventsGroup.consumer.stop();
      await produce(kafka, eventsTopic, [50]);
      await produce(kafka, paymentsTopic, [50]);
      await check();
    }
    const during = (await threadTexts(await openIncident(events))).slice(before);
    expect(during.some((t) => t.includes('Members changed'))).toBe(true);
    expect(during.filter((t) => t.includes('<!subteam^'))).toEqual([]);
    expect(during.filter((t) => t.includes('Notified'))).toEqual([]);
  });

  it('ends by itself: the thread says so and pages again, and the root says the silence is over', async () => {
    now = windowStart + 10 * MIN;
    await produce(kafka, eventsTopic, [50]);
    await produce(kafka, paymentsTopic, [50]);
    await check();
    const incident = await openIncident(events);
    expect(incident?.silence).toMatchObject({ endedAt: windowStart + 10 * MIN, endedBy: null });
    const texts = await threadTexts(incident);
    const ended = texts.findIndex((t) => t.includes(':bell:'));
    expect(texts[ended]).toContain(`Silence by <@${SRE}> is over. Still unacknowledged: the escalation policy starts again from its first level.`);
    expect(texts[ended + 1]).toMatch(/Notified <!subteam\^S0ONCALL> \(level 1 of 1, round 1\): the silence ended, the policy starts again/);
    expect(await lastRoot(incident)).toContain(`:bell: Silence by <@${SRE}> ended at ${new Date(windowStart + 10 * MIN).toISOString().slice(11, 19)} UTC`);
    const text = readable(await lag('silences'));
    expect(text).toContain('No silences in force or scheduled.');
  });

  it('silences an incident already open at once: recorded, not mentioned, and /lag unsilence brings the page back', async () => {
    const incident = await openIncident(payments);
    expect(incident?.severity).toBe('page');
    const text = readable(await lag(`silence ${payments} 30m looking into it`));
    const id = /`(sil-[a-z0-9]+)`/.exec(text)?.[1] ?? '';
    const before = (await threadTexts(incident)).length;
    // Past the 2-minute re-notification interval; the producers keep the topic from going idle.
    for (let i = 0; i < 8; i += 1) {
      await produce(kafka, paymentsTopic, [50]);
      await check();
    }
    const during = (await threadTexts(await openIncident(payments))).slice(before);
    expect(during[0]).toContain(`Silenced by <@${SRE}> until `);
    expect(during[0]).toContain(': looking into it.');
    expect(during.filter((t) => t.includes('<!subteam^') || t.includes('Notified'))).toEqual([]);

    expect(readable(await lag(`unsilence ${id}`, LEAD))).toContain(`Ended \`${id}\``);
    await produce(kafka, paymentsTopic, [50]);
    await check();
    const after = (await threadTexts(await openIncident(payments))).slice(before + during.length);
    expect(after).toHaveLength(2);
    expect(after[0]).toContain(`Silence by <@${SRE}> ended early by <@${LEAD}>. Still unacknowledged: the escalation policy starts again from its first level.`);
    expect(after[1]).toMatch(/Notified <!subteam\^S0ONCALL> \(level 1 of 1, round 1\): the silence ended/);
    expect(await lastRoot(await openIncident(payments))).toContain(`:bell: Silence by <@${SRE}> ended at `);
  });
});
