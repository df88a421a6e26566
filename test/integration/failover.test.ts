import type { Admin, Consumer, Kafka } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import type { PostgresServer } from '../../tools/postgres-testbed/server.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, SECRET, fastIncidentYaml, spawnLagbot, type LagbotProcess } from '../support/lagbot.js';
import { startTestPostgres } from '../support/postgres.js';
import { readable } from '../support/slack.js';

/** The fast incident configuration checks every second. */
const CHECK_INTERVAL_MS = 1_000;

/**
 * Two `lagbot start` replicas on one PostgreSQL, real Kafka, the Slack stand-in. The leader
 * is killed with SIGKILL at random moments of an incident (and, once, has its database
 * connection cut instead); each time the standby must take over within two check intervals
 * and carry on in the same thread, with no timeline entry lost or posted twice and one root.
 */
describe('failover between two replicas on PostgreSQL', () => {
  let server: PostgresServer;
  let url: string;
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let slack: SlackStandin;
  let yaml: string;
  const replicas: LagbotProcess[] = [];
  /** Every replica started, killed ones too: their logs (info: who led when) are printed when the test fails. */
  const started: LagbotProcess[] = [];
  const topic = uniqueName('failover');
  const group = uniqueName('failover-consumer');

  const roots = () => slack.messages(ALERTS).filter((m) => readable(m).includes(`consumer lag · ${group}`));
  const thread = () => {
    const [root] = roots();
    return root ? slack.thread(ALERTS, root.ts).slice(1) : [];
  };
  const texts = () => thread().filter((m: StoredMessage) => !m.files?.length).map((m: StoredMessage) => m.text);
  const role = async (p: LagbotProcess): Promise<string | null> => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return null;
    try {
      return ((await (await fetch(`http://127.0.0.1:${p.port}/healthz`)).json()) as { role?: string }).role ?? null;
    } catch {
      return null;
    }
  };
  const leader = async (): Promise<LagbotProcess> => {
    let found: LagbotProcess | undefined;
    await eventually(async () => {
      const roles = await Promise.all(replicas.map(role));
      const leaders = replicas.filter((_, i) => roles[i] === 'leader');
      if (leaders.length > 1) throw new Error(`${leaders.length} replicas say they lead`);
      found = leaders[0];
      return found !== undefined;
    }, 'a leader', 15_000);
    return found as LagbotProcess;
  };
  const sql = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  const spawn = async () => {
    const replica = await spawnLagbot(yaml, slack, { env: { PGPASSWORD: server.password, LOG_LEVEL: 'info' } });
    replicas.push(replica);
    started.push(replica);
    return replica;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

  /** Fails the leader one way, times until the other replica leads, and starts a fresh standby. */
  const takeovers: { how: string; ms: number }[] = [];
  const failLeader = async (how: 'SIGKILL' | 'connection cut'): Promise<void> => {
    const old = await leader();
    const others = replicas.filter((r) => r !== old);
    const at = Date.now();
    if (how === 'SIGKILL') {
      await old.kill9();
      replicas.splice(replicas.indexOf(old), 1);
    } else {
      const backends = await sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'lagbot leader %:' || $1`, [String(old.child.pid)]);
      expect(backends).toHaveLength(1);
      await sql('SELECT pg_terminate_backend($1)', [backends[0]?.pid]);
    }
    let next: LagbotProcess | undefined;
    await eventually(async () => {
      for (const r of others) if ((await role(r)) === 'leader') next = r;
      return next !== undefined;
    }, `a standby to take over after ${how}`, 10_000);
    takeovers.push({ how, ms: Date.now() - at });
    if (how === 'SIGKILL') await spawn();
  };

  beforeAll(async () => {
    server = await startTestPostgres();
    url = await server.createDatabase();
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [5, 5]);
    slack = await startSlackStandin({ signingSecret: SECRET });
    // In-doubt posts are looked up once their call's timeout is over: a short one keeps the test short.
    yaml = fastIncidentYaml(group, 'unused', '', { slack: '  requestTimeoutMs: 2000' }).replace(/store:\n {2}path: .*\n/, `store:\n  url: ${url}\n`);
    await spawn();
    await spawn();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
    await consumer?.disconnect();
    await admin?.disconnect();
    await slack?.stop();
    await server?.stop();
  });

  it('takes over within two check intervals at every kill, and keeps one thread with every entry once', async () => {
    try {
      await failovers();
    } catch (err) {
      for (const [i, r] of started.entries()) console.log(`--- replica ${i} (pid ${r.child.pid}) ---\n${r.output()}`);
      throw err;
    }
  }, 300_000);

  async function failovers(): Promise<void> {
    expect((await Promise.all(replicas.map(role))).sort()).toEqual(['leader', 'standby']);
    const current = await leader();

    consumer.pause([{ topic }]);
    // Warning: over 200 and growing. The lag keeps growing until the incident opens: one step up
    // is seen growing for 1.8 s only if the new leader's history already reached back that far.
    await produce(kafka, topic, [100, 150]);
    const opened = () => texts().some((t) => /Opened at/.test(t));
    for (let lag = 250; lag < 900 && !opened(); lag += 40) {
      await produce(kafka, topic, [10, 30]);
      await sleep(300);
    }
    await eventually(async () => opened(), 'an incident', 30_000);
    // The standby answers /lag from the history the leader stores: rates per partition, as the leader would.
    const standby = replicas.find((r) => r !== current);
    expect(await role(standby as LagbotProcess)).toBe('standby');
    slack.setEventsUrl(`http://127.0.0.1:${(standby as LagbotProcess).port}/slack/events`);
    const sent = await slack.sendSlashCommand({ command: '/lag', text: group, userId: 'U0SRE' });
    const answer = readable((await slack.waitForResponse(sent.responseUrlId, 15_000)).body);
    expect(answer).toContain('IN/S');
    await sleep(random(0, 1_500));
    await failLeader('SIGKILL');

    await produce(kafka, topic, [100, 1_400]); // critical: over 1,000
    await sleep(random(200, 2_000));
    await failLeader('SIGKILL');
    await eventually(async () => texts().some((t) => /CRITICAL/.test(t)), 'the escalation to critical', 30_000);

    await produce(kafka, topic, [200, 3_000]); // page: over 3,000
    await sleep(random(0, 1_000));
    await failLeader('SIGKILL');
    await eventually(async () => texts().some((t) => t.includes('Escalated to PAGE')), 'the page', 30_000);

    // During the page the root is edited every second: kills land between and inside those calls.
    for (let i = 0; i < 2; i++) {
      await sleep(random(300, 2_500));
      await failLeader('SIGKILL');
    }
    await sleep(random(300, 1_500));
    await failLeader('connection cut');

    consumer.resume([{ topic }]);
    await eventually(async () => texts().some((t) => t.includes('Recovering')), 'the recovery', 60_000);
    await sleep(random(0, 1_000));
    await failLeader('SIGKILL');
    await eventually(async () => texts().some((t) => t.includes('Resolved:')), 'the resolution', 60_000);
    await eventually(async () => readable(roots()[0]).includes('RESOLVED'), 'the root message to show RESOLVED', 20_000);

    // What the store says was posted, against what Slack has: each timeline post exactly once.
    const [incident] = await sql<{ id: string }>(`SELECT id FROM incidents WHERE group_name = $1`, [group]);
    await eventually(
      async () => (await sql(`SELECT 1 FROM outbox WHERE incident_id = $1 AND kind = 'post-thread' AND state <> 'delivered'`, [incident?.id])).length === 0,
      'every timeline post delivered',
      30_000,
    );
    const posts = await sql<{ slack_ts: string; message: string }>(`SELECT slack_ts, message FROM outbox WHERE incident_id = $1 AND kind = 'post-thread' ORDER BY seq`, [incident?.id]);
    const replies = texts();
    const lost = posts.filter((p) => !thread().some((m) => m.ts === p.slack_ts)).length;
    const twice = replies.length - new Set(replies).size;
    const entries = (await sql(`SELECT 1 FROM incident_timeline WHERE incident_id = $1`, [incident?.id])).length;

    console.log(
      `failover: ${takeovers.length} takeovers (${takeovers.filter((t) => t.how === 'SIGKILL').length} SIGKILL, ${takeovers.filter((t) => t.how !== 'SIGKILL').length} connection cut), ` +
        `takeover ms ${takeovers.map((t) => `${t.how === 'SIGKILL' ? 'kill' : 'cut'}:${t.ms}`).join(' ')}; ` +
        `roots ${roots().length}, timeline entries ${entries}, thread posts ${posts.length}, replies in Slack ${replies.length}, lost ${lost}, posted twice ${twice}`,
    );
    expect(takeovers.filter((t) => t.how === 'SIGKILL').length).toBeGreaterThanOrEqual(5);
    for (const t of takeovers) expect(t.ms).toBeLessThan(2 * CHECK_INTERVAL_MS);
    expect(roots()).toHaveLength(1);
    expect(lost).toBe(0);
    expect(twice).toBe(0);
    expect(replies).toHaveLength(posts.length);
    const order = ['Opened at', 'Escalated to PAGE', 'Recovering', 'Resolved:'].map((k) => replies.findIndex((t) => t.includes(k)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  }
});
