import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_INCIDENT_USAGE } from '../../src/cli/incident.js';
import { EXIT, USAGE, main, type CliIo } from '../../src/cli/main.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { postmortemMarkdown } from '../../src/views/postmortem.js';
import { incidentFixture } from '../support/incident-fixture.js';
import { Scenario, T0, ramp } from '../support/scripted.js';

/**
 * `lagbot incident list|report` against a store file written by the real store, with the
 * timeline of a real state-machine run. Kafka is configured at a port nobody listens on:
 * the commands must not need it.
 */

const H = 3_600_000;
let dir: string;
let env: Record<string, string>;
let night: Scenario;

async function lagbot(args: string[], withEnv: Record<string, string | undefined> = env) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: withEnv };
  const code = await main(args, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lagbot-incident-cli-'));
  const path = join(dir, 'lagbot.db');
  await writeFile(join(dir, 'lagbot.yaml'), `kafka:\n  brokers: [127.0.0.1:1]\nstore:\n  path: ${JSON.stringify(path)}\npostmortem:\n  timeZone: Asia/Tokyo\n`);
  env = { LAGBOT_CONFIG: join(dir, 'lagbot.yaml') };

  // A night through the real state machine: opened, acknowledged, resolved by hand.
  night = new Scenario();
  night.checks(ramp(51_000, 90_000, 11));
  night.checks([2_500_000]);
  night.click({ kind: 'acknowledge', user: 'U0SRE' });
  night.checks([1_800_000]);
  night.click({ kind: 'resolve', user: 'U0SRE' });
  const store = openSqliteStore(path);
  await store.commit({ incident: night.incident!, timeline: night.timeline });
  // Incidents written directly: one long resolved, one open now, one on another cluster.
  const now = Date.now();
  await store.commit({ incident: incidentFixture('inc-ancient', 'orders', { openedAt: now - 30 * 24 * H, status: 'resolved', resolved: { by: null, at: now - 30 * 24 * H + H } }) });
  await store.commit({ incident: incidentFixture('inc-recent', 'payments', { openedAt: now - 2 * H, status: 'resolved', resolved: { by: null, at: now - H }, peakLag: 120_000 }) });
  await store.commit({
    incident: incidentFixture('inc-open', 'billing', {
      cluster: 'prod-eu',
      openedAt: now - 20 * 60_000,
      severity: 'warning',
      peakSeverity: 'critical',
      peakLag: 650_000,
      peakLagSeconds: 45,
      acknowledged: { by: 'U0ONCALL', at: now - 10 * 60_000, severity: 'critical' },
    }),
  });
  await store.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lagbot incident list', () => {
  it('prints open incidents and those resolved in the last 7 days, newest first, as a table', async () => {
    const { code, stdout, stderr } = await lagbot(['incident', 'list']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+CLUSTER\s+GROUP\s+STATUS\s+SEVERITY\s+PEAK-LAG\s+OPENED\s+DURATION\s+ACKNOWLEDGED-BY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['inc-open', 'inc-recent']);
    expect(lines[1]).toMatch(/^inc-open\s+prod-eu\s+billing\s+open\s+WARNING \(peak CRITICAL\)\s+650,000\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+20 min so far\s+U0ONCALL$/);
    expect(lines[2]).toMatch(/^inc-recent\s+default\s+payments\s+resolved\s+WARNING\s+120,000\s+.* UTC\s+1 h\s+-$/);
  });

  it('--all lists every incident; --since, --status, --cluster and --group narrow it', async () => {
    const ids = async (...args: string[]) => (await lagbot(['incident', 'list', '--json', ...args])).stdout;
    const parsed = async (...args: string[]) => (JSON.parse(await ids(...args)) as { id: string }[]).map((i) => i.id);
    expect(await parsed('--all')).toEqual(['inc-open', 'inc-recent', 'inc-ancient', night.incident!.id]);
    expect(await parsed('--since', '31d')).toEqual(['inc-open', 'inc-recent', 'inc-ancient']);
    expect(await parsed('--since', '30m')).toEqual(['inc-open']);
    expect(await parsed('--all', '--status', 'resolved', '--group', 'orders')).toEqual(['inc-ancient']);
    expect(await parsed('--cluster', 'prod-eu')).toEqual(['inc-open']);
    expect(await parsed('--since', '2024-07-01')).toEqual(['inc-open', 'inc-recent', 'inc-ancient', night.incident!.id]);
  });

  it('--json prints an array with stable field names', async () => {
    const { code, stdout } = await lagbot(['incident', 'list', '--json', '--cluster', 'prod-eu']);
    expect(code).toBe(EXIT.ok);
    const [open] = JSON.parse(stdout) as Record<string, unknown>[];
    expect(Object.keys(open!)).toEqual([
      'id',
      'cluster',
      'group',
      'channel',
      'status',
      'severity',
      'peakSeverity',
      'peakLag',
      'peakLagAt',
      'peakLagSeconds',
      'openedAt',
      'resolvedAt',
      'durationMs',
      'acknowledgedBy',
      'acknowledgedAt',
      'resolvedBy',
    ]);
    expect(open).toMatchObject({ id: 'inc-open', cluster: 'prod-eu', group: 'billing', status: 'open', severity: 'warning', peakSeverity: 'critical', peakLag: 650_000, peakLagSeconds: 45, resolvedAt: null, acknowledgedBy: 'U0ONCALL', resolvedBy: null });
    expect(open!.durationMs).toBeGreaterThanOrEqual(20 * 60_000);
    const resolved = (JSON.parse((await lagbot(['incident', 'list', '--json', '--all', '--group', 'user-events-consumer'])).stdout) as Record<string, unknown>[])[0];
    expect(resolved).toMatchObject({ status: 'resolved', peakSeverity: 'page', peakLagSeconds: null, acknowledgedBy: 'U0SRE', resolvedBy: 'U0SRE', openedAt: new Date(night.incident!.openedAt).toISOString() });
  });

  it('refuses arguments that cannot work, with the incident usage', async () => {
    for (const [args, message] of [
      [['--all', '--since', '1d'], '--all and --since do not go together'],
      [['--since', 'yesterday'], '--since takes an age such as 30m, 12h or 7d'],
      [['--status', 'closed'], '--status is open or resolved, got "closed"'],
      [['--jsn'], "Unknown option '--jsn'"],
      [['--group', ' '], '--group needs a name'],
    ] as const) {
      const { code, stderr } = await lagbot(['incident', 'list', ...args]);
      expect(code).toBe(EXIT.usage);
      expect(stderr).toContain(message);
      expect(stderr).toContain(CLI_INCIDENT_USAGE);
    }
    const unknown = await lagbot(['incident', 'show']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain('unknown incident command "show": list or report');
  });

  it('says where it looked when there is no store, and creates none', async () => {
    const elsewhere = join(dir, 'nowhere');
    await writeFile(join(dir, 'missing.yaml'), `kafka:\n  brokers: [127.0.0.1:1]\nstore:\n  path: ${JSON.stringify(join(elsewhere, 'lagbot.db'))}\n`);
    for (const command of [['list'], ['report', 'inc-open']]) {
      const { code, stdout, stderr } = await lagbot(['incident', ...command], { LAGBOT_CONFIG: join(dir, 'missing.yaml') });
      expect(code).toBe(EXIT.usage);
      expect(stdout).toBe('');
      expect(stderr).toBe(`lagbot: no lagbot store at ${join(elsewhere, 'lagbot.db')} (store.path in ${join(dir, 'missing.yaml')}): run this where lagbot start keeps its store, or set store.path`);
    }
    expect(existsSync(elsewhere)).toBe(false);
  });
});

describe('lagbot incident report', () => {
  it("prints the incident's postmortem draft in the configured time zone", async () => {
    const id = night.incident!.id;
    const { code, stdout, stderr } = await lagbot(['incident', 'report', id]);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(stdout).toBe(postmortemMarkdown(night.incident!, night.timeline, { timeZone: 'Asia/Tokyo', now: Date.now() }));
    // T0 is 03:00 UTC: 12:00 in Tokyo; every entry of the night is there.
    expect(stdout).toContain('Times in Asia/Tokyo.');
    expect(stdout.split('\n').filter((l) => /^- \*\*\d\d:\d\d:\d\d\*\* — /.test(l))).toHaveLength(night.timeline.length);
    expect(stdout).toContain(`- **12:05:00** — Opened at WARNING`);
    expect(new Date(T0).toISOString()).toBe('2024-07-23T03:00:00.000Z');
  });

  it('names close ids for an unknown one, and exits 2', async () => {
    const { code, stdout, stderr } = await lagbot(['incident', 'report', 'inc-opn']);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toBe(`lagbot: no incident "inc-opn" in ${join(dir, 'lagbot.db')} (did you mean inc-open?)`);
    const far = await lagbot(['incident', 'report', 'zzzzzzzzzzzzzzzzzz']);
    expect(far.stderr).toContain('lagbot incident list --all shows them');
  });

  it('takes exactly one id', async () => {
    for (const args of [[], ['a', 'b'], ['--json']]) {
      const { code, stderr } = await lagbot(['incident', 'report', ...args]);
      expect(code).toBe(EXIT.usage);
      expect(stderr).toContain('lagbot incident report takes one INCIDENT_ID');
    }
  });

  it('is in the usage text', () => {
    expect(USAGE).toContain('incident list [--json]');
    expect(USAGE).toContain('incident report INCIDENT_ID');
  });
});
