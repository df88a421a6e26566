import { describe, expect, it } from 'vitest';
import { computeGroupLag, listingOf } from '../../src/core/lag.js';
import { groupText, listText, membersText } from '../../src/views/terminal.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
import { findingsOfRead } from '../support/findings.js';
import { kip848Offsets, kip848Snapshot, shareSnapshot } from './kip848-fixture.js';

describe('lagbot lag GROUP in the terminal', () => {
  const kip848 = computeGroupLag(kip848Snapshot(), kip848Offsets(), 0);

  it('keeps the classic group line as it was', () => {
    const lag = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0);
    expect(groupText(lag, []).split('\n')[1]).toBe('state Stable, protocol classic, strategy range, members 3');
    expect(membersText(lag)).toMatch(/CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+ASSIGNMENT\n/);
  });

  it('gives a KIP-848 group its state, type, assignor and epochs, and counts its members', () => {
    expect(groupText(kip848, []).split('\n')[1]).toBe(
      'state Reconciling, protocol consumer (KIP-848), assignor uniform, group epoch 12, assignment epoch 12, members 3',
    );
  });

  it('shows KIP-848 members with epoch and the target where it differs, in both views', () => {
    for (const text of [groupText(kip848, []), membersText(kip848)]) {
      expect(text).toMatch(/CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+EPOCH\s+ASSIGNMENT\s+TARGET-ASSIGNMENT\n/);
      expect(text).toMatch(/Jx1AbCdEfGhIjKlMnOpQrS\s+10\.0\.2\.11\s+orders-1\s+2\s+12\s+orders\(0,1\)\s+\(same\)\n/);
      expect(text).toMatch(/Kq2ZyXwVuTsRqPoNmLkJiH\s+10\.0\.2\.12\s+orders-2\s+2\s+11\s+orders\(2,3\)\s+orders\(2\)\n/);
      expect(text).not.toContain('not visible');
    }
  });

  it('calls a target the same whatever order its topics and partitions come in', () => {
    const member = {
      memberId: 'm-1',
      clientId: 'c-1',
      host: 'h-1',
      assignment: [{ topic: 'audit', partitions: [0] }, { topic: 'orders', partitions: [1, 0] }],
      memberEpoch: 3,
      targetAssignment: [{ topic: 'orders', partitions: [0, 1] }, { topic: 'audit', partitions: [0] }],
    };
    const text = membersText(computeGroupLag(kip848Snapshot({ members: [member] }), kip848Offsets(), 0));
    expect(text).toMatch(/m-1\s+h-1\s+c-1\s+3\s+3\s+audit\(0\),orders\(0,1\)\s+\(same\)$/m);
  });

  it('prints the partition owner and the move in the findings', () => {
    const text = groupText(kip848, findingsOfRead(kip848));
    expect(text).toMatch(/orders\s+3\s+1,000\s+91,000\s+90,000\s+-\s+Kq2ZyXwVuTsRqPoNmLkJiH\s+10\.0\.2\.12/);
    expect(text).toContain('* 2 of 3 members have not reached target assignment epoch 12 (KIP-848): 1 partition is moving: orders-3 (lag 90,000) from orders-2 on 10.0.2.12 to orders-3 on 10.0.2.13.');
  });

  it('says why members are missing: the broker for KIP-848, the type for others', () => {
    const fallback = computeGroupLag(kip848Snapshot({ state: 'Unknown', membersVisible: false, members: [], assignmentStrategy: null, epochs: undefined }), kip848Offsets(), 0);
    expect(groupText(fallback, []).split('\n')[1]).toBe('state Unknown, protocol consumer (KIP-848), members not visible');
    expect(membersText(fallback)).toContain('reading them takes ConsumerGroupDescribe (Kafka 3.8+)');
    const other = computeGroupLag(kip848Snapshot({ protocol: 'other', state: 'Unknown', membersVisible: false, members: [], assignmentStrategy: null, epochs: undefined }), kip848Offsets(), 0);
    expect(membersText(other)).toContain('lagbot does not read the members of this group type');
  });

  it('gives a share group its line instead of a lag it does not have', () => {
    const share = computeGroupLag(shareSnapshot(), new Map(), 0);
    const text = groupText(share, findingsOfRead(share));
    expect(text.split('\n').slice(0, 4)).toEqual([
      'GROUP orders-share: share group, no consumer lag',
      'state Unknown, protocol share (KIP-932), members not read (share group)',
      '',
      'Share group (KIP-932): it consumes without committed offsets, so it has no consumer lag; kafka-share-groups --describe shows it per partition.',
    ]);
    expect(text).not.toMatch(/Dead|stopped|No active members|KIP-848/);
    expect(membersText(share)).toContain('Share group (KIP-932)');
  });

  it('lists each group with its type', () => {
    const listings = [kip848Snapshot(), shareSnapshot()].map((s) => listingOf(computeGroupLag(s, kip848Offsets(), 0)));
    expect(listText(listings).split('\n')).toEqual([
      'GROUP            STATE        MEMBERS  PARTITIONS  TOTAL-LAG  TYPE',
      'orders-consumer  Reconciling        3           4     90,060  consumer',
      'orders-share     Unknown            ?           0          -  share',
    ]);
  });
});
