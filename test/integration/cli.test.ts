import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main, type CliIo } from '../../src/cli/main.js';
import type { GroupLagJson } from '../../src/views/json.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';
import { existsSync, readFileSync } from 'node:fs';
import { recordOf, sampleOf, type GroupSample } from '../../src/core/history.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { createTopic, kafkaClient, produce, testbed, uniqueName } from '../support/kafka.js';
import { scriptedLag } from '../support/scripted.js';

const run = promisify(execFile);

async function lagbot(args: string[], env: Record<string, string | undefined> = { KAFKA_BROKERS: testbed().bootstrap }) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env };
  const code = await main(args, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('lagbot lag', () => {
  let kafka: Kafka;
  let admin: Admin;
  const topic = uniqueName('user-events');
  const group = uniqueName('user-events-consumer');

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 3);
    await produce(kafka, topic, [30, 700, 20]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '25' }, { partition: 1, offset: '100' }] });
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('prints exactly the documented JSON object, unknown values as null', async () => {
    const { code, stdout } = await lagbot(['lag', group, '--json']);
    expect(code).toBe(EXIT.ok);
    const json = JSON.parse(stdout) as GroupLagJson;
    expect(Object.keys(json).sort()).toEqual(['assignmentEpoch', 'cluster', 'group', 'groupEpoch', 'lagSeconds', 'lagSecondsMethod', 'members', 'membersVisible', 'partitions', 'protocol', 'state', 'totalLag', 'type']);
    expect(json).toMatchObject({ cluster: 'default', group, state: 'Empty', protocol: 'classic', type: 'classic', groupEpoch: null, assignmentEpoch: null, membersVisible: true, members: [], totalLag: 605 });
    expect(json.partitions.map(({ lagSeconds: _s, lagSecondsMethod: _m, lagSecondsSkipped: _k, ...row }) => row)).toEqual([
      { topic, partition: 1, committedOffset: 100, logEndOffset: 700, logStartOffset: 0, lag: 600, memberId: null, clientId: null, host: null },
      { topic, partition: 0, committedOffset: 25, logEndOffset: 30, logStartOffset: 0, lag: 5, memberId: null, clientId: null, host: null },
    ]);
    // The CLI keeps no history: its staleness is the record at the committed offset, read from the broker.
    for (const p of json.partitions) expect(p).toMatchObject({ lagSecondsMethod: 'exact', lagSecondsSkipped: null, lagSeconds: expect.any(Number) });
    expect(json.lagSecondsMethod).toBe('exact');
  });

  it('--chart writes a PNG of the last hour from the store a running lagbot keeps, and says when there is none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lagbot-chart-'));
    const storePath = join(dir, 'lagbot.db');
    const config = join(dir, 'lagbot.yaml');
    await writeFile(config, `store:\n  path: ${JSON.stringify(storePath)}\n`);
    const env = { KAFKA_BROKERS: testbed().bootstrap, LAGBOT_CONFIG: config };

    const none = await lagbot(['lag', group, '--chart', join(dir, 'none.png')], env);
    expect(none.code).toBe(EXIT.failure);
    expect(none.stderr).toMatch(/no lag history: the store .* does not exist/);
    expect(existsSync(join(dir, 'none.png'))).toBe(false);

    // What a running lagbot would have stored: a sample of the group each check for ten minutes.
    const store = openSqliteStore(storePath);
    let previous: GroupSample | undefined;
    const now = Date.now();
    for (let i = 0; i < 20; i++) {
      const sample = sampleOf(scriptedLag(now - (20 - i) * 30_000, { partitions: [{ committed: 1_000, logEnd: 1_000 + i * 500 }], members: 1 }, group), previous);
      await store.appendSamples('default', [{ group, record: recordOf(sample) }], 0);
      previous = sample;
    }
    await store.close();

    const out = join(dir, 'out.png');
    const { code, stdout, stderr } = await lagbot(['lag', group, '--chart', out], env);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(new RegExp(`^wrote a chart of ${group} \\(20 samples, \\d\\d:\\d\\d–\\d\\d:\\d\\d UTC\\) to ${out}$`));
    expect([...readFileSync(out).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);

    // The table reads the same history: rates columns appear (the stored samples are of another
    // topic, so this group's own partitions have no rates: '-').
    const table = await lagbot(['lag', group], env);
    expect(table.code).toBe(EXIT.ok);
    expect(table.stdout).toMatch(/LAG\s+STALENESS\s+IN\/S\s+OUT\/S\s+CONSUMER-ID/);
    const bare = await lagbot(['lag', group]);
    expect(bare.stdout).not.toContain('IN/S');

    const usage = await lagbot(['lag', '--chart', out], env);
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stderr).toContain('--chart needs a GROUP');
  });

  it('prints a table with the hot partition first and the hints', async () => {
    const { code, stdout } = await lagbot(['lag', group]);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain(`GROUP ${group}: total lag 605 over 2 partitions, staleness `);
    expect(stdout).toMatch(new RegExp(`${topic}\\s+1\\s+100\\s+700\\s+600\\s+[^\\n]+?\\*\\s+-\\s+-`));
    expect(stdout).toContain(`Hot partition ${topic}-1 holds 99% of the lag`);
  });

  it('lists every group without a GROUP argument', async () => {
    const { code, stdout } = await lagbot(['lag']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(new RegExp(`${group}\\s+Empty\\s+0\\s+2\\s+605`));
  });

  it('exits non-zero with one line for an unknown group, suggesting close names', async () => {
    const { code, stderr } = await lagbot(['lag', `${group}x`]);
    expect(code).toBe(EXIT.failure);
    // Other test files' groups are on the same broker and may be suggested too.
    expect(stderr).toMatch(new RegExp(`^lagbot: no such group "${group}x" \\(did you mean ${group}(, [^,]+){0,2}\\?\\)$`));
  });

  it('exits 2 on bad input and bad configuration', async () => {
    expect((await lagbot(['lag', 'a', 'b'])).code).toBe(EXIT.usage);
    expect((await lagbot(['lag', '--jsn'])).stderr).toContain("Unknown option '--jsn'");
    expect((await lagbot(['lagg'])).stderr).toContain('unknown command "lagg"');
    const noBrokers = await lagbot(['lag'], {});
    expect(noBrokers).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('set KAFKA_BROKERS') });
  });

  it('exits 1 within seconds with one line when the cluster is unreachable', async () => {
    const [port] = await freePorts(1);
    const { code, stderr } = await lagbot(['lag', group], { KAFKA_BROKERS: `127.0.0.1:${port}` });
    expect(code).toBe(EXIT.failure);
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toContain(`127.0.0.1:${port}`);
  });

  it('lagbot check prints what would alert, reading Kafka only', async () => {
    const hot = uniqueName('hot-consumer');
    await admin.setOffsets({ groupId: hot, topic, partitions: [{ partition: 1, offset: '0' }] });
    const dir = await mkdtemp(join(tmpdir(), 'lagbot-check-'));
    await writeFile(join(dir, 'lagbot.yaml'), `watch:\n  include: [${JSON.stringify(hot)}, ${JSON.stringify(group)}]\nthresholds:\n  warning: { lag: 100 }\n  critical: { lag: 650 }\n`);
    const { code, stdout } = await lagbot(['check'], { KAFKA_BROKERS: testbed().bootstrap, LAGBOT_CONFIG: join(dir, 'lagbot.yaml') });
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain('2 watched groups, 1 would alert (1 sample).');
    expect(stdout).toMatch(new RegExp(`${hot}\\s+CRITICAL\\s+700\\s+total lag 700 > 650`));
    expect(stdout).not.toMatch(new RegExp(`${group}\\s+(WARNING|CRITICAL|PAGE)`));
    const json = await lagbot(['check', '--json'], { KAFKA_BROKERS: testbed().bootstrap, LAGBOT_CONFIG: join(dir, 'lagbot.yaml') });
    expect(JSON.parse(json.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ group: hot, severity: 'critical', totalLag: 700 })]),
    );
    expect((await lagbot(['check', '--samples', '0'])).stderr).toContain('--samples must be a whole number 1-1000');
    await writeFile(join(dir, 'one.yaml'), `watch:\n  include: [${JSON.stringify(hot)}]\n`);
    const one = await lagbot(['check'], { KAFKA_BROKERS: testbed().bootstrap, LAGBOT_CONFIG: join(dir, 'one.yaml') });
    expect(one.stdout).toContain('1 watched group, 0 would alert (1 sample).');
  });

  it('runs as the installed bin (compiled by npm run build)', async () => {
    const bin = new URL('../../bin/lagbot.js', import.meta.url).pathname;
    const { stdout } = await run(process.execPath, [bin, 'lag', group, '--json'], { env: { ...process.env, KAFKA_BROKERS: testbed().bootstrap } });
    expect((JSON.parse(stdout) as GroupLagJson).totalLag).toBe(605);
    await expect(run(process.execPath, [bin, 'lag', 'x', 'y'])).rejects.toMatchObject({ code: EXIT.usage });
  });
});
