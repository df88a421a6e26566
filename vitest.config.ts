import { defineConfig } from 'vitest/config';

// Four projects: core tests are the pure core and its views (no network, file or timer, about a
// second); unit tests are the adapters on their own (SQLite files, HTTP servers, fake timers);
// integration tests get a real Kafka broker
// from the global setup (or KAFKA_BROKERS), started once for the whole run; browser
// tests drive Debian's Chromium (playwright-core) against the Slack playground and the demo.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print one "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        test: {
          name: 'core',
          include: ['test/core/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/core/no-io.ts'],
          // Pure functions share nothing between files: one thread pool without per-file isolation
          // keeps the whole core run near a second.
          pool: 'threads',
          isolate: false,
        },
      },
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          // The demo starts its own broker; the Slack-side page tests need none.
          testTimeout: 240_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
