import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/cli/main.js';
import { freePorts, startKafka, type KafkaTestbed } from '../../tools/kafka-testbed/broker.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { createTopic, eventually, kafkaClient, produce, testbed, uniqueName } from '../support/kafka.js';
import { ALERTS, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';
import { readable } from '../support/slack.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One lagbot, two real clusters and a third that is down: the same group id lives on both
 * live clusters, each cluster's incident goes to its own channel, `/lag` answers for both,
 * and the dead cluster degrades only itself.
 */
const PROD_CHANNEL = 'C0PRODEU';
const STAGING_CHANNEL = 'C0STAGING';

describe('one lagbot watching several clusters', () => {
  let staging: KafkaTestbed;
  let prodKafka: Kafka;
  let stagingKafka: Kafka;
  let prodAdmin: Admin;
  let stagingAdmin: Admin;
  let rig: IncidentRig;
  let yaml: string;
  let deadPort: number;
  const topic = uniqueName('orders');
  const group = uniqueName('orders-consumer');

  /** Committed at 0 with `count` records behind it on each of 3 partitions' first: a lag that stays put. */
  async function groupWithLag(kafka: Kafka, admin: Admin, counts: number[]): Promise<void> {
    await createTopic(admin, topic, 3);
    await produce(kafka, topic, counts);
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })) });
  }

  const rootIn = (channel: string): StoredMessage | undefined => rig.slack.messages(channel).find((m) => readable(m).includes(`consumer lag · ${group}`));

  async function lag(text: string): Promise<string> {
    const sent = await rig.slack.sendSlashCommand({ command: '/lag', text });
    expect(sent.status).toBe(200);
    const response = await rig.slack.waitForResponse(sent.responseUrlId, 20_000);
    return readable(response.body);
  }

  beforeAll(async () => {
    staging = await startKafka();
    prodKafka = kafkaClient();
    stagingKafka = new kafkajs.Kafka({ brokers: staging.brokers, clientId: 'lagbot-test', logLevel: kafkajs.logLevel.NOTHING });
    prodAdmin = prodKafka.admin();
    stagingAdmin = stagingKafka.admin();
    await Promise.all([prodAdmin.connect(), stagingAdmin.connect()]);
    // Critical on prod-eu (over 1,000), a page on staging (over 3,000).
    await groupWithLag(prodKafka, prodAdmin, [100, 1_200, 100]);
    await groupWithLag(stagingKafka, stagingAdmin, [100, 3_500, 100]);
    [deadPort] = (await freePorts(1)) as [number];
    yaml = fastIncidentYaml(
      group,
      await tempStorePath(),
      `clusters:
  - name: prod-eu
    brokers: [${testbed().bootstrap}]
    channel: ${PROD_CHANNEL}
  - name: staging
    brokers: [${staging.bootstrap}]
    channel: ${STAGING_CHANNEL}
  - name: dr
    brokers: [127.0.0.1:${deadPort}]
    connectionTimeoutMs: 500
    readDeadlineMs: 2000
`,
    );
    rig = await startIncidentRig(yaml);
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
    await Promise.all([prodAdmin?.disconnect(), stagingAdmin?.disconnect()]);
    await staging?.stop();
  });

  it('opens an incident on each cluster, in that cluster\'s channel, named by its cluster', async () => {
    const prodRoot = await eventually(async () => rootIn(PROD_CHANNEL), 'the prod-eu incident', 30_000);
    const stagingRoot = await eventually(async () => rootIn(STAGING_CHANNEL), 'the staging incident', 30_000);
    expect(readable(prodRoot)).toContain(`consumer lag · ${group} on prod-eu`);
    expect(prodRoot.text).toMatch(/ CRITICAL: consumer lag 1,400 on `.*` on prod-eu$/);
    expect(readable(stagingRoot)).toContain(`consumer lag · ${group} on staging`);
    expect(stagingRoot.text).toMatch(/PAGE: consumer lag 3,700 on `.*` on staging$/);
    // Neither incident leaks into the other's channel or the global one.
    expect(rootIn(ALERTS)).toBeUndefined();
    expect(rig.slack.messages(PROD_CHANNEL).filter((m) => readable(m).includes('on staging'))).toEqual([]);
  });

  it('degrades only the cluster it cannot reach, and says which', async () => {
    const notice = await eventually(async () => rig.slack.messages(ALERTS).find((m) => m.text.includes('Monitoring degraded')), 'the degraded notice for dr', 30_000);
    expect(notice.text).toMatch(/^:warning: Monitoring degraded on dr: \d+ checks in a row could not read Kafka/);
    expect(rig.slack.messages(ALERTS).filter((m) => m.text.includes('Monitoring degraded'))).toHaveLength(1);
    const health = await fetch(`http://127.0.0.1:${rig.lagbot.port}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; clusters: Record<string, { status: string }> };
    expect(body.status).toBe('degraded');
    expect(Object.fromEntries(Object.entries(body.clusters).map(([name, r]) => [name, r.status]))).toEqual({ 'prod-eu': 'ok', staging: 'ok', dr: 'failing' });
    const metrics = await (await fetch(`http://127.0.0.1:${rig.lagbot.port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`kafka_consumergroup_lag_total\\{cluster="prod-eu",group="${group}"\\} 1400`));
    expect(metrics).toMatch(new RegExp(`kafka_consumergroup_lag_total\\{cluster="staging",group="${group}"\\} 3700`));
    expect(metrics).toMatch(/lagbot_check_failures_consecutive\{cluster="dr"\} [1-9]/);
    expect(metrics).toMatch(/lagbot_check_failures_consecutive\{cluster="prod-eu"\} 0/);
  });

  it('answers /lag GROUP for both clusters, one section each, and names the one it could not read', async () => {
    const both = await lag(group);
    expect(both).toContain('Found in 2 clusters');
    expect(both).toMatch(/\*prod-eu\*: total lag 1,400 over 3 partitions/);
    expect(both).toMatch(/\*staging\*: total lag 3,700 over 3 partitions/);
    expect(both).toContain('*dr* could not be read');
    const one = await lag(`${group} in staging`);
    expect(one).toContain(`Consumer lag: ${group} on staging`);
    expect(one).not.toContain('prod-eu');
    expect(await lag(`${group} in prod-us`)).toContain('Known clusters: `prod-eu`, `staging`, `dr`');
    const list = await lag('list');
    expect(list).toContain('*prod-eu*, largest total lag first');
    expect(list).toContain('*staging*, largest total lag first');
  });

  it('lagbot lag --json and --cluster read the same clusters from the same file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lagbot-clusters-'));
    await writeFile(join(dir, 'lagbot.yaml'), yaml);
    const run = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { LAGBOT_CONFIG: join(dir, 'lagbot.yaml') } };
      const code = await main(args, io);
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const both = await run(['lag', group, '--json']);
    // Found on two clusters: an array, one object each; dr could not be read, so the exit code says the answer is partial.
    expect(both.code).toBe(1);
    const parsed = JSON.parse(both.out) as Array<{ cluster: string; totalLag: number }>;
    expect(parsed.map((g) => [g.cluster, g.totalLag])).toEqual([
      ['prod-eu', 1_400],
      ['staging', 3_700],
    ]);
    expect(both.err).toMatch(/^lagbot: dr: Cannot reach Kafka at 127\.0\.0\.1:\d+/);
    const one = await run(['lag', group, '--json', '--cluster', 'staging']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out)).toMatchObject({ cluster: 'staging', group, totalLag: 3_700 });
    const unknown = await run(['lag', group, '--cluster', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no cluster named "nope"; known clusters: prod-eu, staging, dr');
  });
});
