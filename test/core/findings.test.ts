import { describe, expect, it } from 'vitest';
import { FINDING_KINDS, findingIdentity, findingsOf, type Finding } from '../../src/core/findings.js';
import { computeGroupLag } from '../../src/core/lag.js';
import type { GroupSnapshot } from '../../src/core/protocol.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';

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

  it('changes with another partition, another client or another host', () => {
    const base = findingIdentity(hot('m', 'consumer-2', '10.0.1.15'));
    expect(findingIdentity(hot('m', 'consumer-2', '10.0.1.15', 2))).not.toBe(base);
    expect(findingIdentity(hot('m', 'consumer-3', '10.0.1.15'))).not.toBe(base);
    expect(findingIdentity(hot('m', 'consumer-2', '10.0.1.16'))).not.toBe(base);
  });
});
