import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GROUP, DemoWorld } from '../../tools/demo/world.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import { eventually, lagReader, testbed } from '../support/kafka.js';

/** The demo's rebalance storm must come from the slow member, as in the case study. */
describe('the demo world', () => {
  let world: DemoWorld;
  let kafka: KafkaLag;

  beforeAll(async () => {
    world = new DemoWorld(testbed().brokers);
    await world.start();
    kafka = lagReader();
  });

  afterAll(async () => {
    await world?.stop();
    await kafka?.stop();
  });

  /** The client id owning partition 1 once the group is stable with three members. */
  async function settledOwnerOfSlowPartition(): Promise<string> {
    return eventually(async () => {
      const lag = await kafka.reader.readGroup(DEMO_GROUP);
      const p1 = lag?.partitions.find((p) => p.partition === 1);
      if (lag?.state !== 'Stable' || lag.members.length !== 3 || !p1?.clientId) return null;
      return p1.clientId;
    }, 'a stable group of three members', 60_000);
  }

  it('kicks out the member that owns the slow partition, every time, whoever that is after a rebalance', async () => {
    world.setSlow({ partition: 1, delayMs: 25 });
    for (let round = 0; round < 3; round += 1) {
      const owner = await settledOwnerOfSlowPartition();
      const kicked = await world.kickSlowOwner();
      expect(kicked).not.toBeNull();
      expect(`user-events-worker-${kicked}`).toBe(owner);
      await world.rejoinKicked();
    }
  }, 240_000);
});
