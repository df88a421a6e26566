import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/findings.js';
import type { Clock } from '../../src/core/ports.js';
import type { CheckReport } from '../../src/monitor/monitor.js';
import { findingText } from '../../src/views/finding-text.js';
import { kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { committingGroup, monitorOnClock, type CommittingGroup, type MonitorOnClock } from '../support/monitor-on-clock.js';

/**
 * A traffic spike and a rewind on a real broker: a group that keeps up with steady traffic
 * until producers send five times as much while it consumes at its usual rate, then has
 * partition 0's committed offset moved back. A LagMonitor's checks, 30 s apart on an
 * injected clock, read it all from Kafka.
 */
const CHECK_MS = 30_000;
/** Messages per partition per check in the steady state: 2/s. */
const STEADY = 60;
const SPIKE = 5 * STEADY;

describe('a traffic spike, then a rewind', () => {
  let kafka: Kafka;
  let admin: Admin;
  let group$: CommittingGroup;
  let rig: MonitorOnClock;
  const topic = uniqueName('clicks');
  const group = uniqueName('clicks-consumer');
  let now = Date.now();
  const clock: Clock = { now: () => now };
  let committed: [number, number] = [0, 0];

  const check = async (produced: number, consumed: number): Promise<Finding[]> => {
    await produce(kafka, topic, [produced, produced]);
    committed = [committed[0] + consumed, committed[1] + consumed];
    await group$.commit(committed);
    const report: CheckReport = await rig.monitor.check();
    now += CHECK_MS;
    if (!report.ok) throw new Error(`the check failed: ${JSON.stringify(report)}`);
    return report.verdicts.find((v) => v.group === group)?.evaluation.findings ?? [];
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    group$ = await committingGroup(admin, topic, group, 2);
    rig = monitorOnClock(`check:\n  rateWindowMinutes: 1\nwatch:\n  include: [${JSON.stringify(group)}]\nalerting:\n  channel: C0ALERTS\n`, clock);
  });

  afterAll(async () => {
    await group$?.consumer.disconnect();
    await rig?.stop();
    await admin?.disconnect();
  });

  it('names the spike against the produce rate of the last minutes, consumers at their usual rate', async () => {
    // Five minutes of keeping up: the baseline.
    for (let i = 0; i < 10; i += 1) expect((await check(STEADY, STEADY)).map((f) => f.kind)).not.toContain('traffic-spike');
    let findings: Finding[] = [];
    for (let i = 0; i < 3; i += 1) findings = await check(SPIKE, STEADY);
    const spike = findings.find((f): f is Extract<Finding, { kind: 'traffic-spike' }> => f.kind === 'traffic-spike');
    expect(spike, JSON.stringify(findings)).toBeDefined();
    // Group totals: 2 partitions at 10/s against a baseline of 2 partitions at 2/s.
    expect(spike).toMatchObject({ producePerSec: 20, baselinePerSec: 4, ratio: 5, consumePerSec: 4, usualConsumePerSec: 4, members: 1, partitions: 2 });
    // Every partition equally outrun: traffic, not one slow consumer.
    expect(findings.map((f) => f.kind)).not.toContain('slow-consumer');
    expect(findingText(spike!)).toContain('produce rate 5.0x');
  });

  it('names a committed offset moved back, with where from and where to', async () => {
    const before = committed[0] + STEADY;
    await check(STEADY, STEADY);
    committed = [before - 200, committed[1]];
    const findings = await check(0, 0);
    const rewind = findings.find((f): f is Extract<Finding, { kind: 'rewind' }> => f.kind === 'rewind');
    expect(rewind, JSON.stringify(findings)).toMatchObject({ topic, partition: 0, from: before, to: before - 200 });
    expect(findings.filter((f) => f.kind === 'rewind')).toHaveLength(1);
  });
});
