import { Reader, Writer } from './wire.js';

/**
 * Every request lagbot encodes itself, for what kafkajs 2.2.4 cannot ask: many groups per
 * FindCoordinator and OffsetFetch, KIP-848 members, group types. Field layouts follow Kafka's
 * message definitions (clients/src/main/resources/common/message); a body starts with the
 * request header's tagged fields, because kafkajs writes header v1 and a flexible request
 * needs v2, which is v1 followed by them. A response body starts with the response header's.
 *
 * Which version goes to which broker is decided from its ApiVersions (see `pickVersion`).
 */

export const API = {
  ListOffsets: 2,
  OffsetFetch: 9,
  FindCoordinator: 10,
  ListGroups: 16,
  ConsumerGroupDescribe: 69,
  ShareGroupDescribe: 77,
  DescribeShareGroupOffsets: 90,
} as const;

export type ApiKey = (typeof API)[keyof typeof API];

/** The versions lagbot can speak, per request. OffsetFetch stops at 9: v10 names topics by id. */
export const SPOKEN: Readonly<Record<ApiKey, { min: number; max: number }>> = {
  // v7: MAX_TIMESTAMP (KIP-734); v10 adds a timeout for tiered storage reads.
  [API.ListOffsets]: { min: 7, max: 10 },
  [API.OffsetFetch]: { min: 8, max: 9 },
  [API.FindCoordinator]: { min: 4, max: 4 },
  [API.ListGroups]: { min: 5, max: 5 },
  [API.ConsumerGroupDescribe]: { min: 0, max: 0 },
  // v0 was Kafka 4.0's early access, removed in 4.1.
  [API.ShareGroupDescribe]: { min: 1, max: 1 },
  // v1 adds each partition's lag as the broker counts it.
  [API.DescribeShareGroupOffsets]: { min: 0, max: 1 },
};

/** Kafka releases that first answer each request at lagbot's lowest version, for the log line that says a broker lacks one. */
export const FIRST_KAFKA: Readonly<Record<ApiKey, string>> = {
  [API.ListOffsets]: '3.0',
  [API.OffsetFetch]: '3.0',
  [API.FindCoordinator]: '3.0',
  [API.ListGroups]: '3.8',
  [API.ConsumerGroupDescribe]: '3.8',
  [API.ShareGroupDescribe]: '4.1',
  [API.DescribeShareGroupOffsets]: '4.1',
};

/** The Kafka release whose brokers report share-partition lag (DescribeShareGroupOffsets v1). */
export const SHARE_LAG_KAFKA = '4.2';

export type BrokerVersions = Readonly<Record<number, { minVersion: number; maxVersion: number } | undefined>>;

/** The highest version both sides speak, or null when the broker speaks none of lagbot's. */
export function pickVersion(versions: BrokerVersions, api: ApiKey): number | null {
  const theirs = versions[api];
  const ours = SPOKEN[api];
  if (!theirs) return null;
  const top = Math.min(theirs.maxVersion, ours.max);
  return top >= ours.min && top >= theirs.minVersion ? top : null;
}

export interface FlexibleRequest<T> {
  apiKey: ApiKey;
  apiName: string;
  apiVersion: number;
  body: Buffer;
  decode(body: Buffer): T;
}

function request<T>(apiKey: ApiKey, apiName: string, apiVersion: number, write: (w: Writer) => void, read: (r: Reader) => T): FlexibleRequest<T> {
  const w = new Writer().noTaggedFields();
  write(w);
  w.noTaggedFields();
  return {
    apiKey,
    apiName,
    apiVersion,
    body: w.toBuffer(),
    decode(body) {
      const r = new Reader(body);
      r.taggedFields();
      const result = read(r);
      r.taggedFields();
      return result;
    },
  };
}

const readInt32s = (r: Reader): number[] => r.compactArray((x) => x.int32());

// FindCoordinator v4: many keys in one request (KIP-699).

export interface CoordinatorAnswer {
  key: string;
  nodeId: number;
  errorCode: number;
  errorMessage: string | null;
}

export function findCoordinators(groupIds: readonly string[], version: number): FlexibleRequest<CoordinatorAnswer[]> {
  return request(
    API.FindCoordinator,
    'FindCoordinator',
    version,
    (w) => {
      w.int8(0); // key type: group
      w.compactArray(groupIds, (x, id) => x.compactString(id));
    },
    (r) => {
      r.int32(); // throttle time
      return r.compactArray((x) => {
        const key = x.compactString();
        const nodeId = x.int32();
        x.compactString(); // host: kafkajs' metadata knows it
        x.int32(); // port
        const errorCode = x.int16();
        const errorMessage = x.compactNullableString();
        x.taggedFields();
        return { key, nodeId, errorCode, errorMessage };
      });
    },
  );
}

// OffsetFetch v8/v9: many groups in one request (KIP-709), every topic of each (topics null).

/**
 * A group's committed offsets, as lagbot holds them (offset null where the broker says -1,
 * no commit): decoded straight into that shape, one object per partition, since an answer
 * for 1,000 groups holds 50,000 of them every check.
 */
export interface GroupOffsetsAnswer {
  groupId: string;
  errorCode: number;
  /** The first partition's error code that is not 0; 0 when none failed. */
  partitionErrorCode: number;
  committed: Array<{ topic: string; partition: number; offset: number | null }>;
}

export function fetchGroupOffsets(groupIds: readonly string[], version: number): FlexibleRequest<GroupOffsetsAnswer[]> {
  return request(
    API.OffsetFetch,
    'OffsetFetch',
    version,
    (w) => {
      w.compactArray(groupIds, (x, id) => {
        x.compactString(id);
        if (version >= 9) {
          // Not a member: no member id, epoch -1 (what an admin client sends).
          x.compactNullableString(null);
          x.int32(-1);
        }
        x.compactNullableArray(null, () => undefined);
        x.noTaggedFields();
      });
      w.bool(false); // require_stable: an admin read wants what is committed now
    },
    (r) => {
      r.int32(); // throttle time
      return r.compactArray((g) => {
        const groupId = g.compactString();
        const committed: GroupOffsetsAnswer['committed'] = [];
        let partitionErrorCode = 0;
        g.compactArray((t) => {
          const topic = t.compactString();
          t.compactArray((p) => {
            const partition = p.int32();
            const offset = p.int64();
            p.int32(); // committed leader epoch
            p.compactNullableString(); // metadata
            const errorCode = p.int16();
            p.taggedFields();
            if (partitionErrorCode === 0) partitionErrorCode = errorCode;
            committed.push({ topic, partition, offset: offset >= 0 ? offset : null });
          });
          t.taggedFields();
        });
        const errorCode = g.int16();
        g.taggedFields();
        return { groupId, errorCode, partitionErrorCode, committed };
      });
    },
  );
}

// ListGroups v5: the group type beside each group (KIP-848).

export interface ListedGroupAnswer {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}

export function listGroups(version: number): FlexibleRequest<{ errorCode: number; groups: ListedGroupAnswer[] }> {
  return request(
    API.ListGroups,
    'ListGroups',
    version,
    (w) => {
      w.compactArray([], () => undefined); // every state
      w.compactArray([], () => undefined); // every type
    },
    (r) => {
      r.int32(); // throttle time
      const errorCode = r.int16();
      const groups = r.compactArray((g) => {
        const groupId = g.compactString();
        const protocolType = g.compactString();
        const state = g.compactString();
        const type = g.compactString();
        g.taggedFields();
        return { groupId, protocolType, state, type };
      });
      return { errorCode, groups };
    },
  );
}

// ConsumerGroupDescribe v0 (API key 69): KIP-848 groups, their members and assignments.

export interface AssignedPartitions {
  topic: string;
  partitions: number[];
}

export interface ConsumerGroupMemberAnswer {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopics: string[];
  assignment: AssignedPartitions[];
  targetAssignment: AssignedPartitions[];
}

export interface ConsumerGroupAnswer {
  groupId: string;
  errorCode: number;
  errorMessage: string | null;
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  members: ConsumerGroupMemberAnswer[];
}

function readAssignment(r: Reader): AssignedPartitions[] {
  const topics = r.compactArray((t) => {
    t.uuid(); // topic id: the name beside it is what lagbot shows
    const topic = t.compactString();
    const partitions = readInt32s(t);
    t.taggedFields();
    return { topic, partitions };
  });
  r.taggedFields();
  return topics;
}

/**
 * ConsumerGroupDescribe and ShareGroupDescribe: the same request (group ids, no authorized
 * operations), and answers whose groups start alike and differ in their members.
 */
function describeGroupsOfItsProtocol<M>(apiKey: ApiKey, apiName: string, groupIds: readonly string[], version: number, readMember: (m: Reader) => M) {
  return request(
    apiKey,
    apiName,
    version,
    (w) => {
      w.compactArray(groupIds, (x, id) => x.compactString(id));
      w.bool(false); // authorized operations: not needed
    },
    (r) => {
      r.int32(); // throttle time
      return r.compactArray((g) => {
        const head = {
          errorCode: g.int16(),
          errorMessage: g.compactNullableString(),
          groupId: g.compactString(),
          state: g.compactString(),
          groupEpoch: g.int32(),
          assignmentEpoch: g.int32(),
          assignor: g.compactString(),
        };
        const members = g.compactArray((m) => {
          const member = readMember(m);
          m.taggedFields();
          return member;
        });
        g.int32(); // authorized operations
        g.taggedFields();
        return { ...head, members };
      });
    },
  );
}

export function describeConsumerGroups(groupIds: readonly string[], version: number): FlexibleRequest<ConsumerGroupAnswer[]> {
  return describeGroupsOfItsProtocol(API.ConsumerGroupDescribe, 'ConsumerGroupDescribe', groupIds, version, (m): ConsumerGroupMemberAnswer => {
    const member = {
      memberId: m.compactString(),
      instanceId: m.compactNullableString(),
      rackId: m.compactNullableString(),
      memberEpoch: m.int32(),
      clientId: m.compactString(),
      clientHost: m.compactString(),
      subscribedTopics: m.compactArray((s) => s.compactString()),
    };
    m.compactNullableString(); // subscribed topic regex
    const assignment = readAssignment(m);
    return { ...member, assignment, targetAssignment: readAssignment(m) };
  });
}

// ShareGroupDescribe v1 (API key 77): KIP-932 share groups and their members.

export interface ShareGroupAnswer {
  groupId: string;
  errorCode: number;
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  members: Array<{ memberId: string; memberEpoch: number; clientId: string; clientHost: string; assignment: AssignedPartitions[] }>;
}

export function describeShareGroups(groupIds: readonly string[], version: number): FlexibleRequest<ShareGroupAnswer[]> {
  return describeGroupsOfItsProtocol(API.ShareGroupDescribe, 'ShareGroupDescribe', groupIds, version, (m): ShareGroupAnswer['members'][number] => {
    const memberId = m.compactString();
    m.compactNullableString(); // rack
    const memberEpoch = m.int32();
    const clientId = m.compactString();
    const clientHost = m.compactString();
    m.compactArray((s) => s.compactString()); // subscribed topics
    return { memberId, memberEpoch, clientId, clientHost, assignment: readAssignment(m) };
  });
}

// DescribeShareGroupOffsets v0/v1 (API key 90): each share-partition's start offset, and from v1 its lag.

export interface ShareOffsetsAnswer {
  groupId: string;
  errorCode: number;
  topics: Array<{
    topic: string;
    /** lag is null where the broker does not report it (v0, or -1). */
    partitions: Array<{ partition: number; startOffset: number; lag: number | null; errorCode: number }>;
  }>;
}

export function describeShareGroupOffsets(groupIds: readonly string[], version: number): FlexibleRequest<ShareOffsetsAnswer[]> {
  return request(
    API.DescribeShareGroupOffsets,
    'DescribeShareGroupOffsets',
    version,
    (w) => {
      w.compactArray(groupIds, (x, id) => {
        x.compactString(id);
        x.compactNullableArray(null, () => undefined); // every topic
        x.noTaggedFields();
      });
    },
    (r) => {
      r.int32(); // throttle time
      return r.compactArray((g) => {
        const groupId = g.compactString();
        const topics = g.compactArray((t) => {
          const topic = t.compactString();
          t.uuid();
          const partitions = t.compactArray((p) => {
            const partition = p.int32();
            const startOffset = p.int64();
            p.int32(); // leader epoch
            const lag = version >= 1 ? p.int64() : -1;
            const errorCode = p.int16();
            p.compactNullableString();
            p.taggedFields();
            return { partition, startOffset, lag: lag >= 0 ? lag : null, errorCode };
          });
          t.taggedFields();
          return { topic, partitions };
        });
        const errorCode = g.int16();
        g.compactNullableString();
        g.taggedFields();
        return { groupId, errorCode, topics };
      });
    },
  );
}

// ListOffsets v7-v10 (API key 2): offsets by timestamp, MAX_TIMESTAMP (-3) among them (KIP-734).

/** ListOffsets' special timestamps. 0 is an ordinary one: the first record with a timestamp at or after 0. */
export const MAX_TIMESTAMP = -3;
/** READ_COMMITTED: a read-committed consumer's view, as every other read of lagbot. */
const READ_COMMITTED = 1;
/** v10's wait for offsets held in remote (tiered) storage; within a read's deadline. */
const REMOTE_TIMEOUT_MS = 5_000;

export interface ListedOffsetAnswer {
  partition: number;
  errorCode: number;
  /** -1 with offset -1 when no record matches (an empty log). */
  timestamp: number;
  offset: number;
}

export function listOffsets(
  topics: ReadonlyArray<{ topic: string; partitions: readonly number[] }>,
  timestamp: number,
  version: number,
): FlexibleRequest<Array<{ topic: string; partitions: ListedOffsetAnswer[] }>> {
  return request(
    API.ListOffsets,
    'ListOffsets',
    version,
    (w) => {
      w.int32(-1); // replica id: a client, not a follower
      w.int8(READ_COMMITTED);
      w.compactArray(topics, (t, { topic, partitions }) => {
        t.compactString(topic);
        t.compactArray(partitions, (p, partition) => {
          p.int32(partition);
          p.int32(-1); // current leader epoch: not known, not fenced
          p.int64(timestamp);
          p.noTaggedFields();
        });
        t.noTaggedFields();
      });
      if (version >= 10) w.int32(REMOTE_TIMEOUT_MS);
    },
    (r) => {
      r.int32(); // throttle time
      return r.compactArray((t) => {
        const topic = t.compactString();
        const partitions = t.compactArray((p) => {
          const answer = { partition: p.int32(), errorCode: p.int16(), timestamp: p.int64(), offset: p.int64() };
          p.int32(); // leader epoch
          p.taggedFields();
          return answer;
        });
        t.taggedFields();
        return { topic, partitions };
      });
    },
  );
}
