/**
 * The lagbot process the benchmark measures: the same parts `lagbot start` composes (Kafka
 * reader, check loop with histories and rules, SQLite store, metrics, the Bolt app over
 * HTTP), in a process of its own so its resident memory is lagbot's alone. Driven by the
 * benchmark over Node IPC; run with --expose-gc so memory is read after a full collection.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AlertingPolicy } from '../../src/config/alerting.js';
import { parseConfig } from '../../src/config/config.js';
import type { Clock, GroupLag } from '../../src/core/protocol.js';
import { createKafkaLag, type KafkaLag } from '../../src/kafka/connect.js';
import type { LagSource } from '../../src/kafka/lag-reader.js';
import { createLogger } from '../../src/log/logger.js';
import { HealthState } from '../../src/metrics/health.js';
import { LagMetrics } from '../../src/metrics/metrics.js';
import { metricsRoutes } from '../../src/metrics/routes.js';
import { LagMonitor } from '../../src/monitor/monitor.js';
import { startSlackApp, type RunningSlackApp } from '../../src/slack/app.js';
import { openSqliteStore, type SqliteIncidentStore } from '../../src/store/sqlite-store.js';
import type { CycleResult, FillResult, InitResult, MemoryReading, ProbeEnvelope, ProbeRequest, TotalsResult } from './probe-protocol.js';

/** Wall time plus an offset the benchmark moves forward, so an hour of checks takes seconds. */
class BenchClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

/**
 * Real reads, or one real read replayed at the current (advanced) time with every offset
 * moved forward, which is how an hour of history is filled without an hour of checks.
 * Offsets move so no sample equals the one before it, as in a live cluster. The replayed
 * read is let go afterwards: memory is measured on what lagbot itself keeps.
 */
class BenchSource implements LagSource {
  replayOf: GroupLag[] | null = null;
  /** Offsets grow by this much per replayed sample: consumers keeping up, lag steady. */
  replayStep = 10;
  replays = 0;
  lastReadMs = 0;

  constructor(
    private readonly real: LagSource,
    private readonly clock: Clock,
  ) {}

  async readAllGroups(): Promise<GroupLag[]> {
    if (this.replayOf) {
      this.replays += 1;
      return replayed(this.replayOf, this.replays * this.replayStep, this.clock.now());
    }
    const started = performance.now();
    const groups = await this.real.readAllGroups();
    this.lastReadMs = performance.now() - started;
    return groups;
  }

  readGroup(group: string): Promise<GroupLag | null> {
    return this.real.readGroup(group);
  }

  listGroupNames(): Promise<string[]> {
    return this.real.listGroupNames();
  }
}

function replayed(groups: readonly GroupLag[], delta: number, at: number): GroupLag[] {
  const move = (n: number | null) => (n === null ? null : n + delta);
  return groups.map((g) => ({
    ...g,
    readAt: at,
    partitions: g.partitions.map((p) => ({ ...p, committedOffset: move(p.committedOffset), logEndOffset: move(p.logEndOffset) })),
  }));
}

interface Running {
  clock: BenchClock;
  kafka: KafkaLag;
  source: BenchSource;
  monitor: LagMonitor;
  store: SqliteIncidentStore;
  slack: RunningSlackApp;
}

let running: Running | null = null;
let profiler: Session | null = null;

function need(): Running {
  if (!running) throw new Error('probe not initialised');
  return running;
}

async function init(request: Extract<ProbeRequest, { kind: 'init' }>): Promise<InitResult> {
  // No alerting channel: rules are evaluated for every group, but no incident is posted,
  // so Slack deliveries do not run inside the measured cycles.
  const yaml = `
kafka:
  requestTimeoutMs: 30000
  readDeadlineMs: 300000
check:
  schedule: "*/30 * * * * *"
  historyMinutes: 60
${request.watch ? `watch:\n  include: ${JSON.stringify(request.watch)}\n  exclude: []` : ''}
store:
  path: ${JSON.stringify(request.storePath)}
`;
  const config = parseConfig(yaml, {
    KAFKA_BROKERS: request.brokers.join(','),
    SLACK_BOT_TOKEN: request.botToken,
    SLACK_SIGNING_SECRET: request.signingSecret,
    SLACK_API_URL: request.slackApiUrl,
    PORT: '0',
  });
  const clock = new BenchClock();
  const logger = createLogger('silent');
  const policy = new AlertingPolicy(config.alerting);
  const metrics = request.metrics ? new LagMetrics() : undefined;
  const health = new HealthState({ clock, staleAfterMs: 90_000 });
  const store = openSqliteStore(config.alerting.store.path, { clock });
  const kafka = createKafkaLag(config.kafka, clock, logger, { readPath: request.readPath });
  const source = new BenchSource(kafka.reader, clock);
  const monitor = new LagMonitor({ lagSource: source, store, policy, clock, logger, health, ...(metrics ? { metrics } : {}) });
  const slack = await startSlackApp({
    mode: 'http',
    botToken: request.botToken,
    signingSecret: request.signingSecret,
    apiUrl: request.slackApiUrl,
    command: '/lag',
    port: 0,
    host: '127.0.0.1',
    lagSource: kafka.reader,
    clock,
    logger,
    monitor,
    ...(metrics ? { routes: metricsRoutes(metrics, health) } : {}),
    webApiRetries: 0,
  });
  running = { clock, kafka, source, monitor, store, slack };
  return { port: slack.port ?? 0, readPath: kafka.readPath() };
}

async function cycles(count: number, advanceMs: number): Promise<CycleResult[]> {
  const { clock, kafka, source, monitor } = need();
  const results: CycleResult[] = [];
  for (let i = 0; i < count; i += 1) {
    clock.offsetMs += advanceMs;
    const requests: Record<string, number> = {};
    const slowestMs: Record<string, number> = {};
    let total = 0;
    let bytes = 0;
    const off = kafka.onRequest((event) => {
      requests[event.apiName] = (requests[event.apiName] ?? 0) + 1;
      slowestMs[event.apiName] = Math.max(slowestMs[event.apiName] ?? 0, event.durationMs);
      total += 1;
      bytes += event.size;
    });
    const started = performance.now();
    const report = await monitor.check();
    const durationMs = performance.now() - started;
    off();
    results.push({
      ok: report.ok,
      ...(report.ok ? {} : { error: report.error }),
      durationMs,
      readMs: source.lastReadMs,
      groups: report.ok ? report.verdicts.length : 0,
      requests,
      totalRequests: total,
      responseBytes: bytes,
      slowestMs,
    });
  }
  return results;
}

async function fillHistory(samples: number, intervalMs: number, step: number): Promise<FillResult> {
  const { clock, kafka, source, monitor } = need();
  const base = await kafka.reader.readAllGroups();
  const started = performance.now();
  source.replayOf = base;
  source.replayStep = step;
  try {
    for (let i = 0; i < samples; i += 1) {
      clock.offsetMs += intervalMs;
      const report = await monitor.check();
      if (!report.ok) throw new Error(`replayed check failed: ${report.error}`);
    }
  } finally {
    source.replayOf = null;
  }
  return {
    ms: performance.now() - started,
    groups: base.length,
    partitionRows: base.reduce((sum, g) => sum + g.partitions.length, 0),
    samplesAdded: samples,
  };
}

function memory(): MemoryReading {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  let hwm: string | undefined;
  try {
    hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    // not Linux: no high-water mark, the current RSS stands in
  }
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
    peakRssBytes: hwm ? Number(hwm) * 1024 : m.rss,
  };
}

async function totals(): Promise<TotalsResult> {
  const groups = await need().kafka.reader.readAllGroups();
  return {
    totals: Object.fromEntries(groups.map((g) => [g.group, g.totalLag])),
    partitions: Object.fromEntries(groups.map((g) => [g.group, g.partitions.length])),
  };
}

async function profileStart(): Promise<null> {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  // 100 µs, V8's --cpu-prof default is 1 ms; finer sampling for short phases.
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
  await profiler.post('Profiler.start');
  return null;
}

async function profileStop(file: string): Promise<string> {
  if (!profiler) throw new Error('no profile running');
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = null;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(profile));
  return file;
}

async function heapSnapshot(file: string): Promise<string> {
  const session = new Session();
  session.connect();
  const chunks: string[] = [];
  session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
  await session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  session.disconnect();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, chunks.join(''));
  return file;
}

async function stop(): Promise<null> {
  if (running) {
    await running.slack.stop();
    await running.kafka.stop();
    running.store.close();
    running = null;
  }
  return null;
}

async function handle(request: ProbeRequest): Promise<unknown> {
  switch (request.kind) {
    case 'init':
      return init(request);
    case 'cycles':
      return cycles(request.count, request.advanceMs);
    case 'fill-history':
      return fillHistory(request.samples, request.intervalMs, request.step);
    case 'memory':
      return memory();
    case 'totals':
      return totals();
    case 'profile-start':
      return profileStart();
    case 'profile-stop':
      return profileStop(request.file);
    case 'heap-snapshot':
      return heapSnapshot(request.file);
    case 'stop':
      return stop();
  }
}

process.on('message', (message: ProbeEnvelope) => {
  handle(message.request).then(
    (result) => process.send?.({ id: message.id, ok: true, result }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
// The benchmark going away (crash, Ctrl-C) must not leave this process behind.
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
