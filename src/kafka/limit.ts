/** Runs at most `concurrency` tasks at once; the rest wait in order. */
export interface Limiter {
  schedule<T>(task: () => Promise<T>): Promise<T>;
}

/**
 * A plain promise queue. Bottleneck (used here before) starts every job through a
 * setTimeout, even with no rate limit: with 500 OffsetFetch per check that alone cost
 * about a second (2 ms a job), ten times what the broker took to answer them.
 */
export function createLimiter(concurrency: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    active -= 1;
    queue.shift()?.();
  };
  return {
    schedule<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const run = () => {
          active += 1;
          let running: Promise<T>;
          try {
            running = task();
          } catch (error) {
            running = Promise.reject(error);
          }
          running.then(resolve, reject).finally(next);
        };
        if (active < concurrency) run();
        else queue.push(run);
      });
    },
  };
}
