import kafkajs from 'kafkajs';
import type { TopicPartitions } from '../core/protocol.js';

const { AssignerProtocol } = kafkajs;

/**
 * Decode a classic consumer member's assignment (the ConsumerProtocol bytes the leader
 * sent in SyncGroup). Non-consumer groups (Connect) use other formats and an empty
 * buffer means "not assigned yet" (mid-rebalance): both give no partitions.
 */
export function decodeAssignment(protocolType: string, bytes: Buffer | null | undefined): TopicPartitions[] {
  if (protocolType !== 'consumer' || !bytes || bytes.length === 0) return [];
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(bytes);
    if (!decoded) return [];
    return Object.entries(decoded.assignment)
      .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  } catch {
    return [];
  }
}
