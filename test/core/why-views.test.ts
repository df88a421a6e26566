import { describe, expect, it } from 'vitest';
import { appendSample, partitionRates, sampleOf, type GroupSample } from '../../src/core/history.js';
import { computeGroupLag } from '../../src/core/lag.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { incidentRootMessage } from '../../src/views/incident-message.js';
import { groupLagMessage, lagAnswerMessage } from '../../src/views/lag-message.js';
import { groupText } from '../../src/views/terminal.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
import { findingsOfRead } from '../support/findings.js';
import { readable } from '../support/readable.js';
import { CHECK_MS, Scenario, T0, type GroupScript } from '../support/scripted.js';

/** The rates and the diagnosis where people read them: `/lag`, `lagbot lag`, the incident's root. */

/** The case study's group read twice, 2 minutes apart: partitions 0 and 2 consumed at 14,200/s, partition 1 at 800/s. */
function caseStudyTwice(): { lag: GroupLag; history: GroupSample[] } {
  const then = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), T0);
  const snapshot = caseStudySnapshot();
  const consumed = [14_200, 800, 14_200];
  const later = computeGroupLag(
    { ...snapshot, committed: snapshot.committed.map((c) => ({ ...c, offset: (c.offset ?? 0) + (consumed[c.partition] as number) * 120 })) },
    new Map(
      [...caseStudyOffsets()].map(([topic, t]) => [topic, t.exists ? { ...t, partitions: t.partitions.map((p) => ({ ...p, logEndOffset: p.logEndOffset + 14_200 * 120 })) } : t]),
    ),
    T0 + 120_000,
  );
  const first = sampleOf(then);
  const history = appendSample([first], sampleOf(later, first), 3_600_000);
  return { lag: later, history };
}

describe('rates in /lag GROUP and lagbot lag GROUP', () => {
  it('adds IN/S and OUT/S after the lag in Slack once there is history', () => {
    const { lag, history } = caseStudyTwice();
    const rates = partitionRates(history, 120_000);
    const table = readable(groupLagMessage(lag, findingsOfRead(lag), { rates }));
    expect(table).toMatch(/PARTITION\s+LAG\s+STALE\s+IN\/S\s+OUT\/S\s+COMMITTED\s+LOG-END\s+OWNER/);
    expect(table).toMatch(/user-events-1\s+6,050,768\s+-\s+14,200\s+800\s+/);
    expect(table).toMatch(/user-events-0\s+[\d,]+\s+-\s+14,200\s+14,200\s+/);
  });

  it('leaves the Slack table as it was without history', () => {
    const lag = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), T0);
    const table = readable(groupLagMessage(lag, findingsOfRead(lag)));
    expect(table).toMatch(/PARTITION\s+LAG\s+STALE\s+COMMITTED\s+LOG-END\s+OWNER/);
    expect(table).not.toContain('IN/S');
  });

  it('carries the answer\'s rates into the /lag GROUP view', () => {
    const { lag, history } = caseStudyTwice();
    const message = lagAnswerMessage({ kind: 'group', view: 'partitions', unavailable: [], found: [{ lag, findings: [], rates: partitionRates(history, 120_000) }] });
    expect(readable(message)).toMatch(/user-events-1\s+6,050,768\s+-\s+14,200\s+800\s+/);
  });

  it('adds IN/S and OUT/S after LAG in the terminal, `-` for a partition the history does not know', () => {
    const { lag, history } = caseStudyTwice();
    const rates = partitionRates(history, 120_000);
    const text = groupText(lag, [], rates);
    expect(text).toMatch(/TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+STALENESS\s+IN\/S\s+OUT\/S\s+CONSUMER-ID\s+HOST/);
    expect(text).toMatch(/user-events\s+1\s+[\d,]+\s+[\d,]+\s+6,050,768\s+-\s+14,200\s+800\s+consumer-2/);
    const unknown = groupText(lag, [], rates && { ...rates, keys: rates.keys.map((k) => `x${k}`) });
    expect(unknown).toMatch(/6,050,768\s+-\s+-\s+-\s+consumer-2/);
    expect(groupText(lag, [])).not.toContain('IN/S');
  });
});

describe("the incident's root names the current diagnosis", () => {
  function slowPartitionIncident(): Scenario {
    const s = new Scenario();
    const SEC = CHECK_MS / 1000;
    for (let i = 0; i < 14; i += 1) {
      const script: GroupScript = {
        partitions: [30_000, 4_000, 30_000].map((consume) => ({ committed: 1_000_000 + consume * SEC * i, logEnd: 1_065_000 + 30_000 * SEC * i })),
      };
      s.check(script);
    }
    return s;
  }

  it('shows the headline finding with its icon and figures', () => {
    const s = slowPartitionIncident();
    const text = readable(incidentRootMessage(s.incident!));
    expect(text).toContain('*Diagnosis:* :turtle: `user-events-1` is consumed at 4,000/s, the other partitions at 30,000/s');
    expect(text).toContain('its owner `consumer-2` on `10.0.1.15` is slow: profile it.');
  });

  it('has no diagnosis line for an incident without one (or stored before diagnoses)', () => {
    const s = slowPartitionIncident();
    const base = s.incident!;
    const { diagnosis: _dropped, ...older } = base.figures;
    expect(readable(incidentRootMessage({ ...base, figures: older }))).not.toContain('Diagnosis');
    expect(readable(incidentRootMessage({ ...base, figures: { ...base.figures, diagnosis: null } }))).not.toContain('Diagnosis');
  });

  it('escapes Kafka names in the diagnosis', () => {
    const s = slowPartitionIncident();
    const base = s.incident!;
    const diagnosis = { kind: 'rewind' as const, topic: '<!channel>', partition: 0, from: 9, to: 1, at: T0, owner: { memberId: 'm', clientId: '<@U0X>', host: 'h' } };
    const text = readable(incidentRootMessage({ ...base, figures: { ...base.figures, diagnosis } }));
    expect(text).toContain(':rewind:');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<@U0X>');
  });
});
