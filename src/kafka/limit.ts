import pLimit from 'p-limit';

/** Runs at most `concurrency` tasks at once; the rest wait in order. */
export interface Limiter {
  schedule<T>(task: () => Promise<T>): Promise<T>;
}

/**
 * Concurrency only, no rate: reads are bounded so a check does not open hundreds of
 * requests at once. Bottleneck (used here before) starts every job through a timer even
 * without a rate limit; with 500 OffsetFetch per check that alone cost about a second
 * (2 ms a job), so reads use p-limit, which starts a queued task as soon as a slot frees.
 */
export function createLimiter(concurrency: number): Limiter {
  const limit = pLimit(concurrency);
  return { schedule: (task) => limit(task) };
}
