import { describe, expect, it } from 'vitest';
import { diagnose, hotPartition } from '../../src/core/hints.js';
import { computeGroupLag } from '../../src/core/lag.js';
import type { GroupSnapshot } from '../../src/core/protocol.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';

const lagOf = (overrides: Partial<GroupSnapshot> = {}) => computeGroupLag(caseStudySnapshot(overrides), caseStudyOffsets(), 0);
const kinds = (overrides: Partial<GroupSnapshot> = {}) => diagnose(lagOf(overrides)).map((h) => h.kind);

describe('diagnose', () => {
  it('names the hot partition, its share, owner and host (the smoking gun)', () => {
    const [hint] = diagnose(lagOf());
    expect(hint?.kind).toBe('hot-partition');
    expect(hint?.text).toContain('user-events-1 holds 87% of the lag (4,442,768 of 5,095,533)');
    expect(hint?.text).toContain('consumer-2-def456 on 10.0.1.15');
  });

  it('finds no hot partition when lag is spread evenly', () => {
    const snapshot = caseStudySnapshot({
      committed: [
        { topic: 'user-events', partition: 0, offset: 8_901_134 },
        { topic: 'user-events', partition: 1, offset: 12_543_110 },
        { topic: 'user-events', partition: 2, offset: 9_187_343 },
      ],
    });
    expect(hotPartition(computeGroupLag(snapshot, caseStudyOffsets(), 0))).toBeNull();
  });

  it('finds no hot partition in a group without lag or with a single partition', () => {
    expect(hotPartition(lagOf({ committed: [{ topic: 'user-events', partition: 1, offset: 1 }], members: [] }))).toBeNull();
  });

  it('says when a hot partition has no owner', () => {
    const text = diagnose(lagOf({ members: [], state: 'Empty' })).find((h) => h.kind === 'hot-partition')?.text;
    expect(text).toContain('no owner');
  });

  it('reports a rebalancing group and does not call its empty assignments idle', () => {
    const members = caseStudySnapshot().members.map((m) => ({ ...m, assignment: [] }));
    const found = kinds({ state: 'PreparingRebalance', members });
    expect(found).toContain('rebalancing');
    expect(found).not.toContain('idle-members');
    expect(found).not.toContain('unowned-partitions');
  });

  it('reports idle members when there are more consumers than partitions', () => {
    const idle = { memberId: 'consumer-4-jkl', clientId: 'consumer-4', host: '10.0.1.17', assignment: [] };
    const hint = diagnose(lagOf({ members: [...caseStudySnapshot().members, idle] })).find((h) => h.kind === 'idle-members');
    expect(hint?.text).toMatch(/^1 of 4 members have no partitions/);
  });

  it('reports partitions with offsets but no owner in a live group', () => {
    const members = caseStudySnapshot().members.slice(0, 2);
    const hint = diagnose(lagOf({ members })).find((h) => h.kind === 'unowned-partitions');
    expect(hint?.text).toContain('user-events-2');
  });

  it('says a group with no members is not consuming', () => {
    expect(kinds({ state: 'Empty', members: [] })).toContain('no-members');
  });

  it('never calls a KIP-848 group dead; says members are not visible', () => {
    const found = kinds({ protocol: 'consumer', state: 'Unknown', members: [], membersVisible: false });
    expect(found).toContain('members-not-visible');
    expect(found).not.toContain('no-members');
  });

  it('explains a committed offset below the log start', () => {
    const offsets = caseStudyOffsets();
    const t = offsets.get('user-events');
    if (t?.exists) t.partitions[2] = { partition: 2, logEndOffset: 9_187_443, logStartOffset: 9_100_000 };
    const hints = diagnose(computeGroupLag(caseStudySnapshot(), offsets, 0));
    expect(hints.find((h) => h.kind === 'offset-below-log-start')?.text).toContain('Retention deleted 76,989 messages');
  });
});
