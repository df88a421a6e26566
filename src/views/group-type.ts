import type { GroupLag, GroupProtocol } from '../core/protocol.js';

/**
 * The words every view uses for a group's type and for what its type keeps from view, so
 * `/lag`, `/lag GROUP members` and `lagbot lag` say the same.
 */

/** `classic`, `consumer (KIP-848)`, `share (KIP-932)`, `other`. */
export function typeText(protocol: GroupProtocol): string {
  switch (protocol) {
    case 'classic':
      return 'classic';
    case 'consumer':
      return 'consumer (KIP-848)';
    case 'share':
      return 'share (KIP-932)';
    case 'other':
      return 'other';
  }
}

/**
 * A share group without partition rows: it commits no offsets, so there is no consumer lag
 * to show, and the views say so instead of calling it dead or stopped.
 */
export const isLaglessShare = (lag: Pick<GroupLag, 'protocol' | 'partitions'>): boolean => lag.protocol === 'share' && lag.partitions.length === 0;

/** A share group's line, in place of lag it does not have: it is neither dead nor stopped. */
export const SHARE_GROUP_NOTE =
  'Share group (KIP-932): it consumes without committed offsets, so it has no consumer lag; kafka-share-groups --describe shows it per partition.';

/** The member count, or why there is none to show. */
export function memberCountText(lag: Pick<GroupLag, 'membersVisible' | 'members' | 'protocol'>): string {
  if (lag.membersVisible) return String(lag.members.length);
  return lag.protocol === 'share' ? 'not read (share group)' : 'not visible';
}

/** Why the members view has no table, for a group whose members were not read. */
export function membersUnreadText(protocol: GroupProtocol): string {
  switch (protocol) {
    case 'share':
      return 'lagbot does not read the members of share groups (KIP-932).';
    case 'other':
      return 'lagbot does not read the members of this group type (e.g. Kafka Streams groups, KIP-1071).';
    case 'classic':
    case 'consumer':
      return (
        'Members not visible: reading them takes ConsumerGroupDescribe (Kafka 3.8+), which this cluster did not answer ' +
        "(or the cluster's flexibleRequests is off). kafka-consumer-groups --describe --members shows them."
      );
  }
}

/** KIP-848 and share groups are assigned by the group coordinator: their strategy is its assignor (`uniform`, `simple`). */
export const serverAssigned = (lag: Pick<GroupLag, 'protocol'>): boolean => lag.protocol === 'consumer' || lag.protocol === 'share';

/** `group epoch 12, assignment epoch 12` (KIP-848 and share groups; null otherwise). */
export function epochsText(lag: Pick<GroupLag, 'epochs'>): string | null {
  return lag.epochs ? `group epoch ${lag.epochs.group}, assignment epoch ${lag.epochs.assignment}` : null;
}
