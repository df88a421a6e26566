import type { Silence } from '../../src/core/silence.js';

const H = 3_600_000;

/** A two-hour silence of payments-* on prod-eu from `at`, set by U0SRE for a deploy. */
export function silenceFixture(id: string, at: number, overrides: Partial<Silence> = {}): Silence {
  return {
    id,
    target: { kind: 'groups', pattern: 'payments-*', cluster: 'prod-eu' },
    by: 'U0SRE',
    reason: 'deploy',
    createdAt: at,
    startsAt: at,
    endsAt: at + 2 * H,
    endedEarly: null,
    ...overrides,
  };
}
