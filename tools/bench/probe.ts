/**
 * The lagbot process the benchmark measures: lagbot composed by `startLagbot`, the same
 * function `lagbot start` uses (Kafka reader, check loop with histories and rules, SQLite
 * store, Slack delivery, metrics, the Bolt app over HTTP), with scheduled checks off so the
 * benchmark drives `monitor.check()`. Kafka requests are counted outside it, at the broker's
 * side of the connection (request-proxy.ts); only with `countWire` (a cross-check, or an
 * external cluster) does it get kafkajs' socketFactory that counts them on lagbot's side
 * (wire-counter.ts). In a process of its own so its resident memory is lagbot's alone, read
 * live from outside (rss-sampler.ts); driven by the benchmark over Node IPC. It runs with the
 * node flags and environment the launcher `bin/lagbot start` gives lagbot (launcher.ts; plain
 * node with --bare), plus what --node-options and --env ask for, and sets the V8 heap growth
 * `lagbot start` sets (limitHeapGrowth); a collection is forced only for the one after-GC
 * reading asked for by name.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { limitHeapGrowth } from '../../src/app/heap-growth.js';
import { startLagbot, type RunningLagbot } from '../../src/app/lagbot.js';
import { parseConfig } from '../../src/config/config.js';
import type { Clock } from '../../src/core/ports.js';
import { DEFAULT_CLUSTER } from '../../src/core/protocol.js';
import { createLogger } from '../../src/log/logger.js';
import type { CheckReport } from '../../src/monitor/monitor.js';
import type { CycleResult, InitResult, MemoryReading, ProbeEnvelope, ProbeRequest, TotalsResult } from './probe-protocol.js';
import { WireCounter } from './wire-counter.js';

/** Wall time plus an offset the benchmark moves forward, so an hour of checks takes a minute or two. */
class BenchClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

interface Running {
  clock: BenchClock;
  wire: WireCounter | null;
  lagbot: RunningLagbot;
  /** The last successful check, for the totals lagbot read. */
  last: Extract<CheckReport, { ok: true }> | null;
}

let running: Running | null = null;

// What `lagbot start` does before it starts (src/cli/start.ts); --node-options can override it.
limitHeapGrowth();
let profiler: Session | null = null;

function need(): Running {
  if (!running) throw new Error('probe not initialised');
  return running;
}

async function init(request: Extract<ProbeRequest, { kind: 'init' }>): Promise<InitResult> {
  // No alerting channel: rules are evaluated for every group, but no incident is opened or
  // posted, so Slack deliveries do not run inside the measured cycles.
  const yaml = `
kafka:
  requestTimeoutMs: 30000
  readDeadlineMs: 300000
slack:
  mode: http
http:
  host: 127.0.0.1
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
  const wire = request.countWire ? new WireCounter() : null;
  const lagbot = await startLagbot(config, {
    clock,
    logger: createLogger('silent'),
    schedule: false,
    ...(wire ? { socketFactory: wire.socketFactory } : {}),
  });
  running = { clock, wire, lagbot, last: null };
  return { port: lagbot.port ?? 0 };
}

/** One `monitor.check()` with the clock `advanceMs` further, measured. */
async function cycle(run: Running, advanceMs: number): Promise<CycleResult> {
  const { clock, wire, lagbot } = run;
  clock.offsetMs += advanceMs;
  wire?.take();
  const startedAt = clock.now();
  const started = performance.now();
  const report = await lagbot.monitors.of(DEFAULT_CLUSTER).check();
  const durationMs = performance.now() - started;
  const counts = wire?.take() ?? { requests: {}, totalRequests: 0, requestBytes: 0, responses: 0, responseBytes: 0, slowestMs: {} };
  if (report.ok) run.last = report;
  return {
    ok: report.ok,
    ...(report.ok ? {} : { error: report.error }),
    wire: wire !== null,
    durationMs,
    // The monitor takes `at` from the clock as soon as the read returns: read time to the ms.
    readMs: report.ok ? report.at - startedAt : durationMs,
    groups: report.ok ? report.verdicts.length : 0,
    partitionRows: report.ok ? report.verdicts.reduce((sum, v) => sum + v.evaluation.figures.partitions, 0) : 0,
    requests: counts.requests,
    totalRequests: counts.totalRequests,
    requestBytes: counts.requestBytes,
    responses: counts.responses,
    responseBytes: counts.responseBytes,
    slowestMs: counts.slowestMs,
  };
}

async function cycles(count: number, advanceMs: number): Promise<CycleResult[]> {
  const run = need();
  const results: CycleResult[] = [];
  for (let i = 0; i < count; i += 1) results.push(await cycle(run, advanceMs));
  return results;
}

/** gc() made on first use, so the process runs without --expose-gc until a collection is asked for. */
let forcedGc: (() => void) | null = null;

function memory(collect: boolean): MemoryReading {
  if (collect) {
    if (!forcedGc) {
      setFlagsFromString('--expose-gc');
      forcedGc = runInNewContext('gc') as () => void;
    }
    forcedGc();
    forcedGc();
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

/** Total lag and partitions of every group as lagbot's last check read them. */
async function totals(): Promise<TotalsResult> {
  const last = need().last;
  if (!last) throw new Error('no successful check yet');
  return {
    totals: Object.fromEntries(last.verdicts.map((v) => [v.group, v.evaluation.figures.totalLag])),
    partitions: Object.fromEntries(last.verdicts.map((v) => [v.group, v.evaluation.figures.partitions])),
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

let allocProfiler: Session | null = null;

async function allocProfileStart(): Promise<null> {
  allocProfiler = new Session();
  allocProfiler.connect();
  // Every 8 KB allocated on average, garbage included: the profile of what a check allocates,
  // not of what it keeps.
  await allocProfiler.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return null;
}

async function allocProfileStop(file: string): Promise<string> {
  if (!allocProfiler) throw new Error('no allocation profile running');
  const { profile } = await allocProfiler.post('HeapProfiler.stopSampling');
  allocProfiler.disconnect();
  allocProfiler = null;
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
    const { lagbot } = running;
    running = null;
    await lagbot.stop();
  }
  return null;
}

async function handle(request: ProbeRequest): Promise<unknown> {
  switch (request.kind) {
    case 'init':
      return init(request);
    case 'cycles':
      return cycles(request.count, request.advanceMs);
    case 'memory':
      return memory(request.gc);
    case 'totals':
      return totals();
    case 'profile-start':
      return profileStart();
    case 'profile-stop':
      return profileStop(request.file);
    case 'heap-snapshot':
      return heapSnapshot(request.file);
    case 'alloc-profile-start':
      return allocProfileStart();
    case 'alloc-profile-stop':
      return allocProfileStop(request.file);
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
