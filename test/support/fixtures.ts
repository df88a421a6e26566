import type { GroupMember, GroupSnapshot, TopicOffsets } from '../../src/core/protocol.js';

/** The case study's group at 03:31: partition 1 holds the lag, consumer-2 owns it. */
export function caseStudySnapshot(overrides: Partial<GroupSnapshot> = {}): GroupSnapshot {
  const member = (n: number, suffix: string, partition: number): GroupMember => ({
    memberId: `consumer-${n}-${suffix}`,
    clientId: `consumer-${n}`,
    host: `10.0.1.${13 + n}`,
    assignment: [{ topic: 'user-events', partitions: [partition] }],
  });
  return {
    cluster: 'default',
    group: 'user-events-consumer',
    state: 'Stable',
    protocol: 'classic',
    protocolType: 'consumer',
    assignmentStrategy: 'range',
    membersVisible: true,
    members: [member(1, 'abc123', 0), member(2, 'def456', 1), member(3, 'ghi789', 2)],
    committed: [
      { topic: 'user-events', partition: 0, offset: 8_412_901 },
      { topic: 'user-events', partition: 1, offset: 8_100_442 },
      { topic: 'user-events', partition: 2, offset: 9_023_011 },
    ],
    ...overrides,
  };
}

export function caseStudyOffsets(): Map<string, TopicOffsets> {
  return new Map([
    [
      'user-events',
      {
        topic: 'user-events',
        exists: true,
        partitions: [
          { partition: 0, logEndOffset: 8_901_234, logStartOffset: 0 },
          { partition: 1, logEndOffset: 12_543_210, logStartOffset: 0 },
          { partition: 2, logEndOffset: 9_187_443, logStartOffset: 0 },
        ],
      },
    ],
  ]);
}
