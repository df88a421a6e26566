import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/ports.js';
import { HealthState, clustersHealth } from '../../src/metrics/health.js';

function fakeClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const INTERVAL = 30_000;

describe('HealthState', () => {
  it('goes starting → ok → failing → ok → stale', () => {
    const clock = fakeClock();
    const health = new HealthState({ clock, staleAfterMs: 3 * INTERVAL });

    expect(health.report()).toMatchObject({ ok: true, status: 'starting', reason: null, lastCheckAt: null, lastSuccessAt: null });
    expect(health.snapshot()).toEqual({ ok: false, lastCheckAt: null, lastSuccessAt: null, consecutiveFailures: 0, lastError: null });

    clock.advance(5_000);
    health.recordSuccess();
    const firstSuccess = clock.now();
    expect(health.report()).toMatchObject({ ok: true, status: 'ok', reason: null, lastSuccessAt: firstSuccess, consecutiveFailures: 0 });

    clock.advance(INTERVAL);
    health.recordFailure(new Error('KafkaJSConnectionError: Connection timeout'));
    clock.advance(INTERVAL);
    health.recordFailure('broker down');
    const failing = health.report();
    expect(failing).toMatchObject({
      ok: false,
      status: 'failing',
      lastCheckAt: clock.now(),
      lastSuccessAt: firstSuccess,
      consecutiveFailures: 2,
      lastError: 'broker down',
    });
    expect(failing.reason).toBe('last check failed: broker down (2 in a row; last success 60s ago)');
    expect(health.snapshot().ok).toBe(false);

    clock.advance(INTERVAL);
    health.recordSuccess();
    expect(health.report()).toMatchObject({ ok: true, status: 'ok', consecutiveFailures: 0, lastError: null });

    // The checker stops without a word: no failure is ever recorded.
    clock.advance(3 * INTERVAL);
    expect(health.report().status).toBe('ok');
    clock.advance(1);
    const stale = health.report();
    expect(stale).toMatchObject({ ok: false, status: 'stale', consecutiveFailures: 0 });
    expect(stale.reason).toBe('last successful check was 90s ago (stale after 90s)');
  });

  it('fails before any success with a reason saying so', () => {
    const clock = fakeClock();
    const health = new HealthState({ clock, staleAfterMs: 3 * INTERVAL });
    health.recordFailure(new Error('SASL authentication failed'));
    expect(health.report()).toMatchObject({
      ok: false,
      status: 'failing',
      reason: 'last check failed: SASL authentication failed (1 in a row; no successful check yet)',
      lastSuccessAt: null,
    });
  });

  it('stops reporting starting when the first check never completes', () => {
    const clock = fakeClock();
    const health = new HealthState({ clock, staleAfterMs: 3 * INTERVAL });
    clock.advance(3 * INTERVAL);
    expect(health.report().status).toBe('starting');
    clock.advance(10_000);
    expect(health.report()).toMatchObject({
      ok: false,
      status: 'stale',
      reason: 'no check has completed in 100s since start (stale after 90s)',
    });
  });

  it('takes explicit check times', () => {
    const clock = fakeClock(0);
    const health = new HealthState({ clock, staleAfterMs: 1_000 });
    health.recordSuccess(500);
    clock.advance(1_400);
    expect(health.report().status).toBe('ok');
    clock.advance(200);
    expect(health.report().status).toBe('stale');
  });

  it('rejects a non-positive staleness limit', () => {
    expect(() => new HealthState({ clock: fakeClock(), staleAfterMs: 0 })).toThrow(/staleAfterMs/);
  });
});

describe('/healthz over clusters', () => {
  it('degrades for one unreachable cluster, and fails only when none is healthy', () => {
    const clock = fakeClock();
    const prod = new HealthState({ clock, staleAfterMs: 3 * INTERVAL });
    const staging = new HealthState({ clock, staleAfterMs: 3 * INTERVAL });
    const both = new Map([
      ['prod-eu', prod],
      ['staging', staging],
    ]);
    expect(clustersHealth(both, clock.now())).toMatchObject({ ok: true, status: 'starting', reason: null });
    prod.recordSuccess();
    staging.recordFailure(new Error('cluster staging: connection refused'));
    const one = clustersHealth(both, clock.now());
    expect(one).toMatchObject({ ok: true, status: 'degraded', clusters: { 'prod-eu': { status: 'ok' }, staging: { status: 'failing', consecutiveFailures: 1 } } });
    expect(one.reason).toMatch(/^staging: last check failed: cluster staging: connection refused/);
    prod.recordFailure('timeout');
    expect(clustersHealth(both, clock.now())).toMatchObject({ ok: false, status: 'failing' });
    prod.recordSuccess();
    staging.recordSuccess();
    expect(clustersHealth(both, clock.now())).toMatchObject({ ok: true, status: 'ok', reason: null });
  });
});
