import { describe, expect, it } from 'vitest';
import { FINDING_KINDS, findingIdentity, findingsOf, type Finding } from '../../src/core/findings.js';
import { computeGroupLag } from '../../src/core/lag.js';
import type { GroupMember, GroupSnapshot } from '../../src/core/protocol.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
import { KIP848_MEMBERS, describedShareSnapshot, kip848Offsets, kip848Settled, kip848Snapshot, shareSnapshot } from './kip848-fixture.js';

const lagOf = (overrides: Partial<GroupSnapshot> = {}) => computeGroupLag(caseStudySnapshot(overrides), caseStudyOffsets(), 0);
const findings = (overrides: Partial<GroupSnapshot> = {}) => findingsOf({ lag: lagOf(overrides), history: [], settings: DEFAULT_RULES.signals });
const kinds = (overrides: Partial<GroupSnapshot> = {}) => findings(overrides).map((f) => f.kind);
const ofKind = <K extends Finding['kind']>(list: Finding[], kind: K) => list.find((f): f is Extract<Finding, { kind: K }> => f.kind === kind);

describe('the findings of one read (what /lag shows)', () => {
  it('names the hot partition, its share, owner and host (the smoking gun)', () => {
    const [hot] = findings();
    expect(hot).toEqual({
      kind: 'hot-partition',
      topic: 'user-events',
      partition: 1,
      lag: 4_442_768,
      share: 4_442_768 / 5_095_533,
      totalLag: 5_095_533,
      owner: { memberId: 'consumer-2-def456', clientId: 'consumer-2', host: '10.0.1.15' },
    });
  });

  it('finds no hot partition when lag is spread evenly', () => {
    const spread = kinds({
      committed: [
        { topic: 'user-events', partition: 0, offset: 8_901_134 },
        { topic: 'user-events', partition: 1, offset: 12_543_110 },
        { topic: 'user-events', partition: 2, offset: 9_187_343 },
      ],
    });
    expect(spread).not.toContain('hot-partition');
  });

  it('finds no hot partition in a group with a single partition', () => {
    expect(kinds({ committed: [{ topic: 'user-events', partition: 1, offset: 1 }], members: [] })).not.toContain('hot-partition');
  });

  it('says when a hot partition has no owner', () => {
    expect(ofKind(findings({ members: [], state: 'Empty' }), 'hot-partition')?.owner).toBeNull();
  });

  it('reports a rebalancing group and does not call its empty assignments idle', () => {
    const members = caseStudySnapshot().members.map((m) => ({ ...m, assignment: [] }));
    const found = kinds({ state: 'PreparingRebalance', members });
    expect(found).toContain('rebalancing');
    expect(found).not.toContain('idle-members');
    expect(found).not.toContain('unowned-partitions');
  });

  it('has one definition of idle members: members holding no partition', () => {
    const idle = { memberId: 'consumer-4-jkl', clientId: 'consumer-4', host: '10.0.1.17', assignment: [] };
    expect(ofKind(findings({ members: [...caseStudySnapshot().members, idle] }), 'idle-members')).toEqual({ kind: 'idle-members', idle: 1, members: 4, partitions: 3 });
  });

  it('reports partitions with offsets but no owner in a live group, and that it is under-scaled', () => {
    const found = findings({ members: caseStudySnapshot().members.slice(0, 2) });
    expect(ofKind(found, 'unowned-partitions')?.partitions).toEqual([{ topic: 'user-events', partition: 2 }]);
    expect(ofKind(found, 'under-scaled')).toEqual({ kind: 'under-scaled', members: 2, partitions: 3 });
  });

  it('says a group with no members is stopped', () => {
    expect(ofKind(findings({ state: 'Empty', members: [] }), 'stopped')).toEqual({ kind: 'stopped', totalLag: 5_095_533, partitions: 3 });
  });

  it('never calls a KIP-848 group stopped; says members are not visible', () => {
    const found = kinds({ protocol: 'consumer', state: 'Unknown', members: [], membersVisible: false });
    expect(found).toContain('members-not-visible');
    expect(found).not.toContain('stopped');
  });

  it('counts what retention deleted below the committed offset', () => {
    const offsets = caseStudyOffsets();
    const t = offsets.get('user-events');
    if (t?.exists) t.partitions[2] = { partition: 2, logEndOffset: 9_187_443, logStartOffset: 9_100_000 };
    const found = findingsOf({ lag: computeGroupLag(caseStudySnapshot(), offsets, 0), history: [], settings: DEFAULT_RULES.signals });
    expect(ofKind(found, 'retention-loss')).toEqual({ kind: 'retention-loss', partitions: [{ topic: 'user-events', partition: 2 }], lost: 76_989 });
  });

  it('reports them in catalogue order', () => {
    const found = kinds({ members: caseStudySnapshot().members.slice(0, 2) });
    expect(found).toEqual([...found].sort((a, b) => FINDING_KINDS.indexOf(a) - FINDING_KINDS.indexOf(b)));
  });
});

describe('the findings of a KIP-848 group, members visible', () => {
  const kip848 = (snapshot: GroupSnapshot) => findingsOf({ lag: computeGroupLag(snapshot, kip848Offsets(), 0), history: [], settings: DEFAULT_RULES.signals });
  const kinds848 = (snapshot: GroupSnapshot) => kip848(snapshot).map((f) => f.kind);
  const [one, two, three] = KIP848_MEMBERS.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.host }));

  it('names each partition on its way to another member: from whom, to whom, with its lag', () => {
    expect(ofKind(kip848(kip848Snapshot()), 'reconciling')).toEqual({
      kind: 'reconciling',
      moving: [{ topic: 'orders', partition: 3, lag: 90_000, from: two, to: three }],
      membersBehind: 2,
      members: 3,
      assignmentEpoch: 12,
    });
  });

  it('says none where no member has a partition now, or none will have it', () => {
    const [a, b] = KIP848_MEMBERS as [GroupMember, GroupMember];
    const members: GroupMember[] = [
      // orders-0 was let go by its owner and is not yet taken; orders-1 is unsubscribed, in no target.
      { ...a, assignment: [{ topic: 'orders', partitions: [1] }], targetAssignment: [] },
      { ...b, assignment: [{ topic: 'orders', partitions: [2, 3] }], targetAssignment: [{ topic: 'orders', partitions: [0, 2, 3] }] },
    ];
    const moving = ofKind(kip848(kip848Snapshot({ members })), 'reconciling')?.moving;
    expect(moving).toEqual([
      { topic: 'orders', partition: 1, lag: 20, from: one, to: null },
      { topic: 'orders', partition: 0, lag: 10, from: null, to: two },
    ]);
  });

  it('lists the moves largest lag first, unknown lag last', () => {
    const [a, b, c] = KIP848_MEMBERS as [GroupMember, GroupMember, GroupMember];
    const members: GroupMember[] = [
      { ...a, assignment: [{ topic: 'orders', partitions: [0, 1] }], targetAssignment: [] },
      { ...b, assignment: [{ topic: 'orders', partitions: [3] }, { topic: 'audit', partitions: [0] }], targetAssignment: [] },
      { ...c, assignment: [], targetAssignment: [{ topic: 'orders', partitions: [0, 1, 3] }, { topic: 'audit', partitions: [0] }] },
    ];
    const moving = ofKind(kip848(kip848Snapshot({ members })), 'reconciling')?.moving ?? [];
    expect(moving.map((m) => [`${m.topic}-${m.partition}`, m.lag])).toEqual([['orders-3', 90_000], ['orders-1', 20], ['orders-0', 10], ['audit-0', null]]);
  });

  it('finds nothing moving once every member holds its target, in any order', () => {
    expect(kinds848(kip848Settled())).not.toContain('reconciling');
    const reordered = kip848Settled().members.map((m) => ({ ...m, targetAssignment: [...(m.targetAssignment ?? [])].reverse().map((t) => ({ ...t, partitions: [...t.partitions].reverse() })) }));
    expect(kinds848(kip848Snapshot({ state: 'Stable', members: reordered }))).not.toContain('reconciling');
  });

  it('never reads a classic group (no targets) as reconciling', () => {
    expect(kinds({ state: 'CompletingRebalance' })).not.toContain('reconciling');
    expect(kinds()).not.toContain('reconciling');
  });

  it('treats Assigning and Reconciling as rebalancing, so empty assignments mid-move are not idle or unowned', () => {
    for (const state of ['Assigning', 'Reconciling'] as const) {
      const found = kinds848(kip848Snapshot({ state }));
      expect(found).toContain('rebalancing');
      expect(found).not.toContain('idle-members');
      expect(found).not.toContain('unowned-partitions');
    }
  });

  it('reads a settled KIP-848 group like a classic one: hot partition with its owner, no members-not-visible', () => {
    const found = kip848(kip848Settled());
    expect(ofKind(found, 'hot-partition')?.owner).toEqual(three);
    expect(found.map((f) => f.kind)).not.toContain('members-not-visible');
    expect(found.map((f) => f.kind)).not.toContain('rebalancing');
  });

  it('calls an Empty KIP-848 group with lag stopped: its members are visible, and there are none', () => {
    const found = kip848(kip848Snapshot({ state: 'Empty', members: [] }));
    expect(ofKind(found, 'stopped')).toEqual({ kind: 'stopped', totalLag: 90_060, partitions: 4 });
    expect(found.map((f) => f.kind)).not.toContain('members-not-visible');
  });

  it('says members are not visible only when they were not read, and for which type', () => {
    expect(ofKind(kip848(kip848Snapshot({ state: 'Unknown', membersVisible: false, members: [] })), 'members-not-visible')).toEqual({ kind: 'members-not-visible', protocol: 'consumer' });
    expect(ofKind(kip848(kip848Snapshot({ protocol: 'other', state: 'Unknown', membersVisible: false, members: [] })), 'members-not-visible')).toEqual({ kind: 'members-not-visible', protocol: 'other' });
  });

  it('finds nothing in a share group without partitions: not stopped, not dead, no members-not-visible', () => {
    expect(kinds848(shareSnapshot())).toEqual([]);
  });

  it('never tells a described share group to scale to one consumer per partition: its members share them', () => {
    const one = describedShareSnapshot();
    expect(kinds848({ ...one, members: one.members.slice(0, 1) })).not.toContain('under-scaled');
    const crowd = Array.from({ length: 5 }, (_, i) => ({ ...(one.members[0] as GroupMember), memberId: `m-${i}`, assignment: i === 0 ? one.members[0]?.assignment ?? [] : [] }));
    expect(kinds848({ ...one, members: crowd })).not.toContain('idle-members');
    for (const kind of ['under-scaled', 'idle-members', 'reconciling', 'members-not-visible', 'stopped', 'unowned-partitions'] as const) expect(kinds848(one)).not.toContain(kind);
    // The same shapes in a consumer group are what those findings are for.
    expect(kinds848(kip848Settled())).toContain('under-scaled');
  });
});

describe('finding identity (what makes a finding worth telling again)', () => {
  const hot = (memberId: string, clientId: string, host: string, partition = 1): Finding => ({
    kind: 'hot-partition',
    topic: 'user-events',
    partition,
    lag: 1,
    share: 1,
    totalLag: 1,
    owner: { memberId, clientId, host },
  });

  it('stays the same when only the member id changes (a flapping group rejoining)', () => {
    expect(findingIdentity(hot('consumer-2-aaa', 'consumer-2', '10.0.1.15'))).toBe(findingIdentity(hot('consumer-2-bbb', 'consumer-2', '10.0.1.15')));
  });

  it('tells a reconciliation once per target assignment, not at each partition that arrives', () => {
    const move = { topic: 'orders', partition: 3, lag: 1, from: null, to: { memberId: 'm', clientId: 'orders-3', host: '10.0.2.13' } };
    const at = (epoch: number | null, moving = [move, { ...move, partition: 2 }]): Finding => ({ kind: 'reconciling', moving, membersBehind: 1, members: 2, assignmentEpoch: epoch });
    expect(findingIdentity(at(12))).toBe(findingIdentity(at(12, [move])));
    expect(findingIdentity(at(13))).not.toBe(findingIdentity(at(12)));
    expect(findingIdentity(at(null))).not.toBe(findingIdentity(at(null, [move])));
  });

  it('changes with another partition, another client or another host', () => {
    const base = findingIdentity(hot('m', 'consumer-2', '10.0.1.15'));
    expect(findingIdentity(hot('m', 'consumer-2', '10.0.1.15', 2))).not.toBe(base);
    expect(findingIdentity(hot('m', 'consumer-3', '10.0.1.15'))).not.toBe(base);
    expect(findingIdentity(hot('m', 'consumer-2', '10.0.1.16'))).not.toBe(base);
  });
});
