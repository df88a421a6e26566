import { describe, expect, it } from 'vitest';
import { HEALTHY, onCheck, type MonitoringState } from '../../src/core/monitoring.js';

const fail = { ok: false as const, error: 'Connection refused' };

function run(outcomes: Parameters<typeof onCheck>[1][], degradeAfter = 3, silenced: (check: number) => boolean = () => false) {
  let state: MonitoringState = HEALTHY;
  return outcomes.map((o, i) => {
    const next = onCheck(state, o, degradeAfter, silenced(i));
    state = next.state;
    return next;
  });
}

describe('the monitoring state machine', () => {
  it('degrades once after N failures in a row, and says so once', () => {
    const steps = run([fail, fail, fail, fail, fail]);
    expect(steps.map((s) => s.change?.kind ?? null)).toEqual([null, null, 'degraded', null, null]);
    expect(steps[2]?.change).toEqual({ kind: 'degraded', failures: 3, error: 'Connection refused' });
    expect(steps[4]?.state).toEqual({ consecutiveFailures: 5, degraded: true });
  });

  it('recovers on the first good check after degrading, once', () => {
    const steps = run([fail, fail, fail, { ok: true, groups: 7 }, { ok: true, groups: 7 }]);
    expect(steps.map((s) => s.change?.kind ?? null)).toEqual([null, null, 'degraded', 'recovered', null]);
    expect(steps[3]?.change).toEqual({ kind: 'recovered', groups: 7 });
    expect(steps[3]?.state).toEqual(HEALTHY);
  });

  it('under a silence of the cluster keeps the degradation unsaid, and says it at the first failed check after the silence', () => {
    const steps = run([fail, fail, fail, fail, fail, fail], 3, (i) => i < 4);
    expect(steps.map((s) => s.change?.kind ?? null)).toEqual([null, null, null, null, 'degraded', null]);
    expect(steps[3]?.state).toEqual({ consecutiveFailures: 4, degraded: true, unsaid: true });
    expect(steps[4]?.change).toEqual({ kind: 'degraded', failures: 5, error: 'Connection refused' });
    expect(steps[5]?.state).toEqual({ consecutiveFailures: 6, degraded: true });
  });

  it('says no recovery of a degradation it never said; a said one recovers aloud even under a silence', () => {
    const quiet = run([fail, fail, fail, { ok: true, groups: 2 }], 3, () => true);
    expect(quiet.map((s) => s.change?.kind ?? null)).toEqual([null, null, null, null]);
    expect(quiet[3]?.state).toEqual(HEALTHY);
    const said = run([fail, fail, fail, fail, { ok: true, groups: 2 }], 3, (i) => i >= 3);
    expect(said.map((s) => s.change?.kind ?? null)).toEqual([null, null, 'degraded', null, 'recovered']);
  });

  it('says nothing for failures that never reach the limit', () => {
    const steps = run([fail, fail, { ok: true, groups: 1 }, fail, fail, { ok: true, groups: 1 }]);
    expect(steps.every((s) => s.change === null)).toBe(true);
  });
});
