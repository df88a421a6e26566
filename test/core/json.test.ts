import { describe, expect, it } from 'vitest';
import { computeGroupLag } from '../../src/core/lag.js';
import { groupJson } from '../../src/views/json.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
import { describedShareSnapshot, kip848Offsets, kip848Snapshot, shareSnapshot } from './kip848-fixture.js';

describe('lagbot lag --json', () => {
  it('keeps every field it had and adds type, epochs and, per member, memberEpoch and targetAssignment', () => {
    const json = groupJson(computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0));
    expect(Object.keys(json).sort()).toEqual(['assignmentEpoch', 'cluster', 'group', 'groupEpoch', 'lagSeconds', 'lagSecondsMethod', 'members', 'membersVisible', 'partitions', 'protocol', 'state', 'totalLag', 'type']);
    expect(Object.keys(json.members[0] ?? {}).sort()).toEqual(['assignment', 'clientId', 'host', 'memberEpoch', 'memberId', 'targetAssignment']);
    expect(Object.keys(json.partitions[0] ?? {}).sort()).toEqual(['clientId', 'committedOffset', 'host', 'lag', 'lagSeconds', 'lagSecondsMethod', 'lagSecondsSkipped', 'logEndOffset', 'logStartOffset', 'memberId', 'partition', 'topic']);
  });

  it('gives classic groups null epochs and null KIP-848 member fields', () => {
    const json = groupJson(computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0));
    expect(json).toMatchObject({ protocol: 'classic', type: 'classic', groupEpoch: null, assignmentEpoch: null, membersVisible: true });
    for (const m of json.members) expect(m).toMatchObject({ memberEpoch: null, targetAssignment: null });
  });

  it('gives KIP-848 groups their epochs and each member its epoch and full target assignment', () => {
    const json = groupJson(computeGroupLag(kip848Snapshot(), kip848Offsets(), 0));
    expect(json).toMatchObject({ state: 'Reconciling', protocol: 'consumer', type: 'consumer', groupEpoch: 12, assignmentEpoch: 12 });
    expect(json.members).toEqual([
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
      { memberId: 'Lp3MnBvCxZaSdFgHjKlQwE', clientId: 'orders-3', host: '10.0.2.13', assignment: [], memberEpoch: 12, targetAssignment: [{ topic: 'orders', partitions: [3] }] },
    ]);
    expect(json.partitions.find((p) => p.partition === 3)).toMatchObject({ lag: 90_000, memberId: 'Kq2ZyXwVuTsRqPoNmLkJiH', clientId: 'orders-2', host: '10.0.2.12' });
  });

  it('does not share arrays with the read it came from', () => {
    const lag = computeGroupLag(kip848Snapshot(), kip848Offsets(), 0);
    const json = groupJson(lag);
    json.members[1]?.targetAssignment?.[0]?.partitions.push(99);
    expect(lag.members[1]?.targetAssignment?.[0]?.partitions).toEqual([2]);
  });

  it('gives a described share group its epochs and each member its epoch, with no target', () => {
    const json = groupJson(computeGroupLag(describedShareSnapshot(), kip848Offsets(), 0));
    expect(json).toMatchObject({ type: 'share', protocol: 'share', groupEpoch: 4, assignmentEpoch: 4, totalLag: 12 });
    expect(json.members.map((m) => [m.memberEpoch, m.targetAssignment])).toEqual([
      [4, null],
      [4, null],
    ]);
  });

  it('types a share group, with no epochs, members or lag', () => {
    expect(groupJson(computeGroupLag(shareSnapshot(), new Map(), 0))).toEqual({
      cluster: 'default',
      group: 'orders-share',
      state: 'Unknown',
      protocol: 'share',
      type: 'share',
      groupEpoch: null,
      assignmentEpoch: null,
      membersVisible: false,
      members: [],
      partitions: [],
      totalLag: null,
      lagSeconds: null,
      lagSecondsMethod: null,
    });
  });
});
