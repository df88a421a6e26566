import { describe, expect, it } from 'vitest';
import { API, describeConsumerGroups, describeShareGroupOffsets, fetchGroupOffsets, findCoordinators, listGroups, pickVersion } from '../../src/kafka/flexible/requests.js';
import { Reader, WireError, Writer } from '../../src/kafka/flexible/wire.js';

/** A tagged field as a broker may add one: tag, byte length, bytes. */
const tagged = (fields: Array<[number, number[]]>): number[] => [fields.length, ...fields.flatMap(([tag, bytes]) => [tag, bytes.length, ...bytes])];
const str = (s: string): number[] => [s.length + 1, ...Buffer.from(s)];
const i16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const i32 = (n: number): number[] => [...Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])];
const i64 = (n: number): number[] => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return [...b];
};

describe('the wire primitives of flexible versions', () => {
  it('writes and reads unsigned varints across their byte boundaries', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 28 - 1, 2 ** 31 - 1]) {
      expect(new Reader(new Writer().uvarint(n).toBuffer()).uvarint(), String(n)).toBe(n);
    }
    expect([...new Writer().uvarint(300).toBuffer()]).toEqual([0xac, 0x02]);
  });

  it('writes compact strings as length + 1, null as 0, and reads them back (UTF-8 included)', () => {
    const buffer = new Writer().compactString('orders-ü').compactNullableString(null).compactString('').toBuffer();
    expect(buffer[0]).toBe(Buffer.byteLength('orders-ü') + 1);
    const r = new Reader(buffer);
    expect([r.compactString(), r.compactNullableString(), r.compactString()]).toEqual(['orders-ü', null, '']);
    expect(r.remaining).toBe(0);
  });

  it('skips tagged fields by their length, so a field the broker adds never shifts what follows', () => {
    // kafkajs' reader would read each field's length as compact bytes (length + 1) and stop one byte short.
    const r = new Reader(Buffer.from([...tagged([[0, [1, 2, 3]], [5, []]]), ...i32(42)]));
    r.taggedFields();
    expect(r.int32()).toBe(42);
  });

  it('reads int64 as Number(BigInt) would, beyond 2^53 and below zero included', () => {
    const values = [0n, 1n, -1n, 4_294_967_295n, 4_294_967_296n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 62n + 12_345n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 40n) - 7n];
    const buffer = Buffer.alloc(8 * values.length);
    values.forEach((v, i) => buffer.writeBigInt64BE(v, 8 * i));
    const r = new Reader(buffer);
    for (const v of values) expect(r.int64(), String(v)).toBe(Number(v));
    expect(r.remaining).toBe(0);
  });

  it('says so when an answer ends early instead of reading garbage', () => {
    expect(() => new Reader(Buffer.from([0, 0])).int32()).toThrow(WireError);
    expect(() => new Reader(Buffer.from([5, 0x61])).compactString()).toThrow(/early/);
  });
});

describe('which version goes to a broker', () => {
  it('takes the highest both speak, and never OffsetFetch v10 (topics by id)', () => {
    expect(pickVersion({ [API.OffsetFetch]: { minVersion: 1, maxVersion: 10 } }, API.OffsetFetch)).toBe(9);
    expect(pickVersion({ [API.OffsetFetch]: { minVersion: 0, maxVersion: 8 } }, API.OffsetFetch)).toBe(8);
  });

  it('falls back (null) where the broker is older or lacks the request', () => {
    expect(pickVersion({ [API.OffsetFetch]: { minVersion: 0, maxVersion: 7 } }, API.OffsetFetch)).toBeNull();
    expect(pickVersion({}, API.ConsumerGroupDescribe)).toBeNull();
    expect(pickVersion({ [API.ListGroups]: { minVersion: 0, maxVersion: 4 } }, API.ListGroups)).toBeNull();
    // A broker that dropped old versions below ours (KIP-896) is fine; one that dropped ours is not.
    expect(pickVersion({ [API.FindCoordinator]: { minVersion: 5, maxVersion: 6 } }, API.FindCoordinator)).toBeNull();
  });
});

describe('requests lagbot encodes itself', () => {
  it('OffsetFetch v8: every group, all topics (null), not stable-only, in request header v2', () => {
    const { body, apiKey, apiVersion } = fetchGroupOffsets(['a', 'bc'], 8);
    expect([apiKey, apiVersion]).toEqual([9, 8]);
    expect([...body]).toEqual([0, 3, ...str('a'), 0, 0, ...str('bc'), 0, 0, 0, 0]);
  });

  it('OffsetFetch v9 adds a null member id and epoch -1 per group', () => {
    expect([...fetchGroupOffsets(['a'], 9).body]).toEqual([0, 2, ...str('a'), 0, ...i32(-1), 0, 0, 0, 0]);
  });

  it('decodes OffsetFetch v8 answers per group, -1 for no commit, past tagged fields', () => {
    const answer = Buffer.from([
      ...tagged([]), // response header
      ...i32(0), // throttle
      2, // one group
      ...str('orders'),
      2, // one topic
      ...str('t'),
      3, // two partitions
      ...i32(0), ...i64(1234), ...i32(-1), 0, ...i16(0), ...tagged([[1, [9, 9]]]),
      ...i32(1), ...i64(-1), ...i32(-1), 0, ...i16(0), ...tagged([]),
      ...tagged([]),
      ...i16(0),
      ...tagged([]),
      ...tagged([]),
    ]);
    expect(fetchGroupOffsets(['orders'], 8).decode(answer)).toEqual([
      { groupId: 'orders', errorCode: 0, partitionErrorCode: 0, committed: [{ topic: 't', partition: 0, offset: 1234 }, { topic: 't', partition: 1, offset: null }] },
    ]);
  });

  it('decodes OffsetFetch v8: the first failed partition of a group is told beside its offsets', () => {
    const answer = Buffer.from([
      ...tagged([]),
      ...i32(0),
      2,
      ...str('orders'),
      3, // two topics
      ...str('a'),
      2,
      ...i32(0), ...i64(7), ...i32(-1), 0, ...i16(0), ...tagged([]),
      ...tagged([]),
      ...str('b'),
      3,
      ...i32(4), ...i64(-1), ...i32(-1), 0, ...i16(16), ...tagged([]),
      ...i32(5), ...i64(9), ...i32(-1), 0, ...i16(3), ...tagged([]),
      ...tagged([]),
      ...i16(0),
      ...tagged([]),
      ...tagged([]),
    ]);
    expect(fetchGroupOffsets(['orders'], 8).decode(answer)).toEqual([
      {
        groupId: 'orders',
        errorCode: 0,
        partitionErrorCode: 16,
        committed: [
          { topic: 'a', partition: 0, offset: 7 },
          { topic: 'b', partition: 4, offset: null },
          { topic: 'b', partition: 5, offset: 9 },
        ],
      },
    ]);
  });

  it('FindCoordinator v4: key type group, many keys; answers with their node or error', () => {
    const request = findCoordinators(['g1', 'g2'], 4);
    expect([...request.body]).toEqual([0, 0, 3, ...str('g1'), ...str('g2'), 0]);
    const answer = Buffer.from([
      0, ...i32(0), 3,
      ...str('g1'), ...i32(2), ...str('b2'), ...i32(9092), ...i16(0), 0, 0,
      ...str('g2'), ...i32(-1), ...str(''), ...i32(-1), ...i16(15), ...str('loading'), 0,
      0,
    ]);
    expect(request.decode(answer)).toEqual([
      { key: 'g1', nodeId: 2, errorCode: 0, errorMessage: null },
      { key: 'g2', nodeId: -1, errorCode: 15, errorMessage: 'loading' },
    ]);
  });

  it('ListGroups v5 asks for every state and type, and reads each group\'s type', () => {
    const request = listGroups(5);
    expect([...request.body]).toEqual([0, 1, 1, 0]);
    const answer = Buffer.from([0, ...i32(0), ...i16(0), 3, ...str('a'), ...str('consumer'), ...str('Stable'), ...str('consumer'), 0, ...str('s'), ...str('share'), ...str('Empty'), ...str('share'), 0, 0]);
    expect(request.decode(answer).groups).toEqual([
      { groupId: 'a', protocolType: 'consumer', state: 'Stable', type: 'consumer' },
      { groupId: 's', protocolType: 'share', state: 'Empty', type: 'share' },
    ]);
  });

  it('DescribeShareGroupOffsets: start offsets, and lag from v1 only (-1 and v0 are "not reported")', () => {
    const uuid = Array.from({ length: 16 }, () => 7);
    const partition = (index: number, start: number, lag: number | null) => [...i32(index), ...i64(start), ...i32(0), ...(lag === null ? [] : i64(lag)), ...i16(0), 0, 0];
    const answer = (withLag: boolean) =>
      Buffer.from([
        0, ...i32(0), 2,
        ...str('workers'), 2, ...str('jobs'), ...uuid, 3, ...partition(0, 40, withLag ? 20 : null), ...partition(1, -1, withLag ? -1 : null), 0,
        ...i16(0), 0, 0,
        0,
      ]);
    const v1 = describeShareGroupOffsets(['workers'], 1);
    expect([...v1.body]).toEqual([0, 2, ...str('workers'), 0, 0, 0]);
    expect(v1.decode(answer(true))[0]?.topics[0]?.partitions).toEqual([
      { partition: 0, startOffset: 40, lag: 20, errorCode: 0 },
      { partition: 1, startOffset: -1, lag: null, errorCode: 0 },
    ]);
    expect(describeShareGroupOffsets(['workers'], 0).decode(answer(false))[0]?.topics[0]?.partitions.map((p) => p.lag)).toEqual([null, null]);
  });

  it('ConsumerGroupDescribe v0: members with epochs, current and target assignments by topic name', () => {
    const uuid = Array.from({ length: 16 }, (_, i) => i);
    const assignment = (partitions: number[]) => [2, ...uuid, ...str('orders'), partitions.length + 1, ...partitions.flatMap(i32), 0, 0];
    const answer = Buffer.from([
      0, ...i32(0), 2,
      ...i16(0), 0, ...str('live'), ...str('Reconciling'), ...i32(7), ...i32(7), ...str('uniform'),
      2,
      ...str('m-1'), 0, 0, ...i32(6), ...str('client-a'), ...str('/10.0.0.5'), 2, ...str('orders'), 0, ...assignment([0, 1]), ...assignment([1]), 0,
      ...i32(-2147483648),
      0,
      0,
    ]);
    const [group] = describeConsumerGroups(['live'], 0).decode(answer);
    expect(group).toEqual({
      groupId: 'live',
      errorCode: 0,
      errorMessage: null,
      state: 'Reconciling',
      groupEpoch: 7,
      assignmentEpoch: 7,
      assignor: 'uniform',
      members: [
        {
          memberId: 'm-1',
          instanceId: null,
          rackId: null,
          memberEpoch: 6,
          clientId: 'client-a',
          clientHost: '/10.0.0.5',
          subscribedTopics: ['orders'],
          assignment: [{ topic: 'orders', partitions: [0, 1] }],
          targetAssignment: [{ topic: 'orders', partitions: [1] }],
        },
      ],
    });
  });
});
