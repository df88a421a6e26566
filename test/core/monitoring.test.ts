import { describe, expect, it } from 'vitest';
import { HEALTHY, onCheck, type MonitoringState } from '../../src/core/monitoring.js';

const fail = { ok: false as const, error: 'Connection refused' };

function run(outcomes: Parameters<typeof onCheck>[1][], degradeAfter = 3) {
  let state: MonitoringState = HEALTHY;
  return outcomes.map((o) => {
    const next = onCheck(state, o, degradeAfter);
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

  it('says nothing for failures that never reach the limit', () => {
    const steps = run([fail, fail, { ok: true, groups: 1 }, fail, fail, { ok: true, groups: 1 }]);
    expect(steps.every((s) => s.change === null)).toBe(true);
  });
});
