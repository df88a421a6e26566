import type { GroupMember, GroupSnapshot, TopicOffsets } from '../../src/core/protocol.js';

/**
 * A KIP-848 group at 03:14, reconciling to target assignment epoch 12: orders-3 joined, so
 * orders-2 is to hand the hot partition orders-3 over to it. orders-1 has reached its target.
 */
export const KIP848_MEMBERS: GroupMember[] = [
  {
    memberId: 'Jx1AbCdEfGhIjKlMnOpQrS',
    clientId: 'orders-1',
    host: '10.0.2.11',
    assignment: [{ topic: 'orders', partitions: [0, 1] }],
    memberEpoch: 12,
    targetAssignment: [{ topic: 'orders', partitions: [0, 1] }],
  },
  {
    memberId: 'Kq2ZyXwVuTsRqPoNmLkJiH',
    clientId: 'orders-2',
    host: '10.0.2.12',
    assignment: [{ topic: 'orders', partitions: [2, 3] }],
    memberEpoch: 11,
    targetAssignment: [{ topic: 'orders', partitions: [2] }],
  },
  {
    memberId: 'Lp3MnBvCxZaSdFgHjKlQwE',
    clientId: 'orders-3',
    host: '10.0.2.13',
    assignment: [],
    memberEpoch: 12,
    targetAssignment: [{ topic: 'orders', partitions: [3] }],
  },
];

export function kip848Snapshot(overrides: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return {
    cluster: 'default',
    group: 'orders-consumer',
    state: 'Reconciling',
    protocol: 'consumer',
    protocolType: 'consumer',
    assignmentStrategy: 'uniform',
    membersVisible: true,
    members: KIP848_MEMBERS,
    epochs: { group: 12, assignment: 12 },
    committed: [0, 1, 2, 3].map((partition) => ({ topic: 'orders', partition, offset: 1_000 })),
    ...overrides,
  };
}

/** Lag 10, 20, 30 and 90,000 on orders-0..3: orders-3 is the hot one. */
export function kip848Offsets(): Map<string, TopicOffsets> {
  const ends = [1_010, 1_020, 1_030, 91_000];
  return new Map([
    ['orders', { topic: 'orders', exists: true, partitions: ends.map((logEndOffset, partition) => ({ partition, logEndOffset, logStartOffset: 0 })) }],
  ]);
}

/** The same group once every member has reached its target. */
export function kip848Settled(): GroupSnapshot {
  return kip848Snapshot({
    state: 'Stable',
    members: KIP848_MEMBERS.map((m) => ({ ...m, memberEpoch: 12, assignment: m.targetAssignment ?? [] })),
  });
}

/** A share group (KIP-932) as the reader gives it: no committed offsets, so no partitions and no members. */
export function shareSnapshot(overrides: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return {
    cluster: 'default',
    group: 'orders-share',
    state: 'Unknown',
    protocol: 'share',
    protocolType: 'share',
    assignmentStrategy: null,
    membersVisible: false,
    members: [],
    committed: [],
    ...overrides,
  };
}

/**
 * A share group as a 4.2+ broker describes it (ShareGroupDescribe, DescribeShareGroupOffsets):
 * two members sharing both partitions, epochs but no targets, start offsets and the broker's lag.
 */
export function describedShareSnapshot(): GroupSnapshot {
  const both = [{ topic: 'orders', partitions: [0, 1] }];
  return shareSnapshot({
    state: 'Stable',
    assignmentStrategy: 'simple',
    membersVisible: true,
    members: [
      { memberId: 'Sh1AbCdEfGhIjKlMnOpQrS', clientId: 'share-1', host: '10.0.3.11', assignment: both, memberEpoch: 4 },
      { memberId: 'Sh2AbCdEfGhIjKlMnOpQrS', clientId: 'share-2', host: '10.0.3.12', assignment: both, memberEpoch: 4 },
    ],
    epochs: { group: 4, assignment: 4 },
    committed: [
      { topic: 'orders', partition: 0, offset: 1_000, reportedLag: 6 },
      { topic: 'orders', partition: 1, offset: 1_000, reportedLag: 6 },
    ],
  });
}
