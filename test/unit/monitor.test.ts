import { describe, expect, it } from 'vitest';
import { AlertingPolicy } from '../../src/config/alerting.js';
import { parseConfig } from '../../src/config/config.js';
import type { Clock, GroupLag } from '../../src/core/protocol.js';
import { KafkaUnavailableError } from '../../src/kafka/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { LagMonitor } from '../../src/monitor/monitor.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { CHECK_MS, T0, lagOf, scriptedLag } from '../support/scripted.js';

/**
 * The check loop with a scripted lag source (a port double: the Kafka adapter has its
 * own integration tests) and a real in-memory SQLite store.
 */
function rig(yaml: string) {
  const clock: Clock & { t: number } = { t: T0, now() { return this.t; } };
  let next: (() => GroupLag[]) | Error = () => [];
  const store = openSqliteStore(':memory:', { clock });
  const policy = new AlertingPolicy(parseConfig(yaml, { KAFKA_BROKERS: 'k:9092' }).alerting);
  let ids = 0;
  const monitor = new LagMonitor({
    lagSource: { readAllGroups: async () => { if (next instanceof Error) throw next; return next(); } },
    store,
    policy,
    clock,
    logger: createLogger('silent'),
    newId: () => `inc-${++ids}`,
  });
  const check = async (source: (() => GroupLag[]) | Error) => {
    next = source;
    const report = await monitor.check();
    clock.t += CHECK_MS;
    return report;
  };
  const posts = () => store.outboxRows().map((r) => `${r.kind} ${r.channel} ${r.message.text.slice(0, 60)}`);
  return { clock, store, monitor, check, posts };
}

const BASE = 'alerting:\n  channel: C0ALERTS\ncheck:\n  degradedAfterFailures: 3\n';
const down = new KafkaUnavailableError('Cannot reach Kafka at k:9092', ['k:9092']);

describe('the check loop', () => {
  it('says once that monitoring is degraded after N failed checks, and once that it recovered', async () => {
    const r = rig(BASE);
    for (let i = 0; i < 2; i += 1) await r.check(down);
    expect(r.posts()).toEqual([]);
    const third = await r.check(down);
    expect(third).toMatchObject({ ok: false, consecutiveFailures: 3 });
    await r.check(down);
    expect(r.posts()).toEqual(['post-channel C0ALERTS :warning: Monitoring degraded: 3 checks in a row could not r']);
    await r.check(() => []);
    expect(r.posts()[1]).toContain('post-channel C0ALERTS :white_check_mark: Monitoring recovered');
    await r.check(() => []);
    expect(r.posts()).toHaveLength(2);
  });

  it('neither opens nor resolves incidents while Kafka cannot be read', async () => {
    const r = rig(BASE);
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    const incident = r.store.openIncidentFor('orders');
    expect(incident?.severity).toBe('critical');
    for (let i = 0; i < 30; i += 1) await r.check(down);
    expect(r.store.openIncidentFor('orders')).toMatchObject({ id: incident?.id, status: 'open' });
  });

  it('opens incidents only for watched groups, in the channel their settings name', async () => {
    const r = rig(`${BASE}watch:\n  exclude: ["connect-*"]\ngroups:\n  - match: "payments-*"\n    channel: C0PAY\n`);
    await r.check(() => ['orders', 'payments-eu', 'connect-s3'].map((g) => scriptedLag(r.clock.t, lagOf(700_000), g)));
    expect(r.store.openIncidents().map((i) => [i.group, i.channel]).sort()).toEqual([
      ['orders', 'C0ALERTS'],
      ['payments-eu', 'C0PAY'],
    ]);
    expect(r.posts().filter((p) => p.startsWith('post-root')).map((p) => p.split(' ')[1]).sort()).toEqual(['C0ALERTS', 'C0PAY']);
  });

  it('evaluates but opens nothing when no channel is configured', async () => {
    const r = rig('');
    const report = await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    expect(report.ok && report.verdicts[0]).toMatchObject({ group: 'orders', alerting: false, evaluation: { severity: 'critical' } });
    expect(r.store.openIncidents()).toEqual([]);
    expect(r.posts()).toEqual([]);
  });

  it('applies a button click between checks and answers a repeated one', async () => {
    const r = rig(BASE);
    await r.check(() => [scriptedLag(r.clock.t, lagOf(700_000), 'orders')]);
    const id = r.store.openIncidentFor('orders')?.id as string;
    expect(r.monitor.act(id, 'U0SRE', { kind: 'acknowledge' }).notice).toBeNull();
    expect(r.monitor.act(id, 'U0B', { kind: 'acknowledge' }).notice?.text).toContain('Already acknowledged');
    expect(r.monitor.act('inc-missing', 'U0B', { kind: 'resolve' }).notice?.text).toBe('This incident no longer exists.');
    expect(r.store.incident(id)?.acknowledged?.by).toBe('U0SRE');
  });
});
