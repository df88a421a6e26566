import { describe, expect, it } from 'vitest';
import { computeGroupLag } from '../../src/core/lag.js';
import type { GroupSnapshot } from '../../src/core/protocol.js';
import kafkajs from 'kafkajs';
import { offsetsOfTopics } from '../../src/kafka/cluster-reads.js';
import { isTransient } from '../../src/kafka/lag-reader.js';

/**
 * How the batched reader turns what the partition leaders answered into log offsets, when
 * one leader did not answer (down but not yet fenced, unreachable, or just elected): its
 * partitions are unknown, never 0 and never a number from an earlier read.
 */

const leaders = new Map([
  [
    'orders',
    [
      { partition: 0, leader: 1 },
      { partition: 1, leader: 2 },
      { partition: 2, leader: 3 },
      { partition: 3, leader: -1 },
    ],
  ],
]);

const snapshot: GroupSnapshot = {
  cluster: 'prod',
  group: 'billing',
  state: 'Empty',
  protocol: 'classic',
  protocolType: 'consumer',
  assignmentStrategy: null,
  membersVisible: true,
  members: [],
  committed: [0, 1, 2, 3].map((partition) => ({ topic: 'orders', partition, offset: 100 })),
};

describe('log offsets from partition leaders', () => {
  it('leaves out the partitions of a leader that did not answer and of a partition without a leader', () => {
    // Broker 2 did not answer: nothing of its partition 1 was recorded.
    const answers = new Map([
      [
        'orders',
        new Map([
          [0, { end: 500, start: 0 }],
          [2, { end: 300, start: 0 }],
        ]),
      ],
    ]);
    const offsets = offsetsOfTopics(['orders', 'gone'], leaders, answers);
    expect(offsets.get('orders')).toEqual({
      topic: 'orders',
      exists: true,
      partitions: [
        { partition: 0, logEndOffset: 500, logStartOffset: 0 },
        { partition: 2, logEndOffset: 300, logStartOffset: 0 },
      ],
    });
    expect(offsets.get('gone')).toEqual({ topic: 'gone', exists: false });

    const lag = computeGroupLag(snapshot, offsets, 1_000);
    expect(lag.partitions.map((p) => [p.partition, p.logEndOffset, p.lag])).toEqual([
      [0, 500, 400],
      [2, 300, 200],
      [1, null, null],
      [3, null, null],
    ]);
    // The known partitions only; the topic says how many are unknown.
    expect(lag.totalLag).toBe(600);
    expect(lag.topics).toEqual([{ topic: 'orders', lag: 600, partitions: 4, unknownLagPartitions: 2 }]);
  });

  it('needs both log end and log start of a partition', () => {
    const offsets = offsetsOfTopics(['orders'], leaders, new Map([['orders', new Map([[0, { end: 500 }]])]]));
    expect(offsets.get('orders')).toEqual({ topic: 'orders', exists: true, partitions: [] });
    const lag = computeGroupLag(snapshot, offsets, 1_000);
    expect(lag.partitions.every((p) => p.lag === null && p.logEndOffset === null)).toBe(true);
    expect(lag.totalLag).toBeNull();
  });
});

describe('errors that are the cluster changing under a read', () => {
  const { KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError } = kafkajs;
  // As kafkajs makes them from an error code (its typings take only a message).
  const protocolError = (type: string, code: number, retriable: boolean) =>
    new KafkaJSProtocolError({ type, code, retriable, message: type } as unknown as Error);
  const loading = protocolError('COORDINATOR_LOAD_IN_PROGRESS', 14, true);

  it("are Kafka's retriable protocol errors, also wrapped in kafkajs' retries", () => {
    expect(isTransient(loading)).toBe(true);
    expect(isTransient(new KafkaJSNumberOfRetriesExceeded(loading, { retryCount: 2, retryTime: 200 }))).toBe(true);
  });

  it('are not errors that a retry would not cure', () => {
    expect(isTransient(protocolError('GROUP_AUTHORIZATION_FAILED', 30, false))).toBe(false);
    expect(isTransient(new KafkaJSNonRetriableError('bad request'))).toBe(false);
    expect(isTransient(new TypeError('a bug'))).toBe(false);
  });
});
