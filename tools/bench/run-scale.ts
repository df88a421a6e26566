import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startKafka, type KafkaTestbed } from '../kafka-testbed/broker.js';
import { startSlackStandin } from '../slack-standin/standin.js';
import { runConsumerGroups, type ToolRun } from './kafka-tool.js';
import type { BenchOptions, Scale } from './options.js';
import { ProbeClient } from './probe-client.js';
import type { CycleResult, MemoryReading } from './probe-protocol.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { timeSlashLag } from './slash-lag.js';
import { buildState, expectedLag, layoutOf, OffsetMover, type BuildTimes } from './state.js';
import { mb, summarize, type Summary } from './stats.js';

export interface KafkaTarget {
  brokers: string[];
  bootstrap: string;
  /** Kafka's jars, for kafka-consumer-groups; null when an external cluster is used without them. */
  classpath: string | null;
  version: string;
  external: boolean;
}

export interface CyclePhase {
  cycles: number;
  checkMs: Summary;
  readMs: Summary;
  /** Requests of one cycle by API, counted on the wire (the same every cycle at steady state; the median is given). */
  requests: Record<string, number>;
  totalRequests: number;
  requestKB: number;
  responseKB: number;
  /** Median over cycles of each API's longest round trip in a cycle (request written to response received). */
  slowestMs: Record<string, number>;
  failures: string[];
}

export interface MemoryFigures {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  arrayBuffersMB: number;
}

/** Read after each of several check cycles (each after a full GC): RSS moves with V8's heap sizing. */
export interface SteadyMemory extends MemoryFigures {
  rssReadingsMB: number[];
  rssMaxMB: number;
  /** VmHWM: the highest RSS the process reached, history filling included. */
  peakRssMB: number;
}

export interface ScaleResult {
  scale: Scale & { groupPartitions: number; widePartitions: number; wideGroup: string };
  kafka: { version: string; brokers: number; heap: string | null };
  build: BuildTimes;
  loadAvg: { start: number[]; measured: number[]; end: number[] };
  correctness: { groupsRead: number; groupsExpected: number; lagMismatches: string[]; toolMismatches: string[] };
  /** After warm-up, history a few samples deep. */
  checkCycleShortHistory: CyclePhase;
  /** With a full hour of history for every group: lagbot's steady state. */
  checkCycle: CyclePhase;
  /** commitEvery: checks between two commits of a group while history was filled; 0 when offsets did not move. */
  history: { samplesPerGroup: number; partitionRows: number; partitionSamples: number; fillMs: number; commitEvery: number; how: string };
  memory: {
    beforeHistory: MemoryFigures;
    /** Every group watched: history for every group-partition. */
    fullHistory: SteadyMemory;
    afterSlashLag: MemoryFigures;
    /** A second lagbot process watching one group per topic: an hour of history for each partition once. */
    onePerPartition: null | (SteadyMemory & { watchedGroups: number; partitionRows: number });
  };
  slashLag: { group: string; partitions: number; alone: Summary & { failures: string[] }; inFlight: Summary & { inFlight: number; failures: string[] } };
  kafkaTool: null | { jvmOptions: string; oneGroupMs: Summary; allGroupsMs: Summary; rows: number; groups: number };
  ratio: null | { checkCycleOverTool: number; readOverTool: number; toolOverCheckCycle: number };
  profiles: Record<string, ProfileSummary & { file: string }>;
}

function memoryFigures(m: MemoryReading): MemoryFigures {
  return { rssMB: mb(m.rssBytes), heapUsedMB: mb(m.heapUsedBytes), heapTotalMB: mb(m.heapTotalBytes), externalMB: mb(m.externalBytes), arrayBuffersMB: mb(m.arrayBuffersBytes) };
}

async function steadyMemory(probe: ProbeClient, readings: number, interval: number): Promise<SteadyMemory> {
  const all: MemoryReading[] = [];
  for (let i = 0; i < readings; i += 1) {
    const [cycle] = await probe.cycles(1, interval);
    if (!cycle?.ok) throw new Error(`check cycle failed: ${cycle?.error ?? 'no result'}`);
    all.push(await probe.memory());
  }
  const sorted = [...all].sort((a, b) => a.rssBytes - b.rssBytes);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as MemoryReading;
  return {
    ...memoryFigures(median),
    rssReadingsMB: all.map((m) => mb(m.rssBytes)),
    rssMaxMB: mb((sorted[sorted.length - 1] as MemoryReading).rssBytes),
    peakRssMB: mb(Math.max(...all.map((m) => m.peakRssBytes))),
  };
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

function phase(results: CycleResult[]): CyclePhase {
  const ok = results.filter((r) => r.ok);
  const apis = new Set(ok.flatMap((r) => Object.keys(r.requests)));
  const requests: Record<string, number> = {};
  for (const api of [...apis].sort()) requests[api] = medianOf(ok.map((r) => r.requests[api] ?? 0));
  return {
    cycles: results.length,
    checkMs: summarize(ok.map((r) => r.durationMs)),
    readMs: summarize(ok.map((r) => r.readMs)),
    requests,
    totalRequests: medianOf(ok.map((r) => r.totalRequests)),
    requestKB: Math.round(medianOf(ok.map((r) => r.requestBytes)) / 1024),
    responseKB: Math.round(medianOf(ok.map((r) => r.responseBytes)) / 1024),
    slowestMs: Object.fromEntries(Object.keys(requests).map((api) => [api, Math.round(medianOf(ok.map((r) => r.slowestMs[api] ?? 0)))])),
    failures: results.filter((r) => !r.ok).map((r) => r.error ?? 'failed'),
  };
}

interface FillResult {
  ms: number;
  /** Partition rows of the watched groups in one check (sum over groups). */
  partitionRows: number;
}

/**
 * An hour of history the way lagbot builds it: real checks, the clock `interval` further
 * each time. Before each check some of the watched groups commit other offsets than
 * before, each group every `commitEvery` checks (see OffsetMover; 0: nothing moves); the
 * built offsets are committed again at the end.
 */
async function fillHistory(
  probe: ProbeClient,
  samples: number,
  interval: number,
  moves: { mover: OffsetMover; every: number } | null,
  groups: readonly number[],
): Promise<FillResult> {
  const started = performance.now();
  let partitionRows = 0;
  for (let i = 0; i < samples; i += 1) {
    await moves?.mover.step(groups, i, moves.every);
    const [cycle] = await probe.cycles(1, interval);
    if (!cycle?.ok) throw new Error(`check failed while filling history: ${cycle?.error ?? 'no result'}`);
    partitionRows = cycle.partitionRows;
  }
  await moves?.mover.restore();
  return { ms: performance.now() - started, partitionRows };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const MEMORY_READINGS = 8;

export async function runScale(
  scale: Scale,
  options: BenchOptions,
  target: () => Promise<{ kafka: KafkaTarget; stop: () => Promise<void> }>,
  log: (line: string) => void,
): Promise<ScaleResult> {
  const loadStart = loadavg();
  const layout = layoutOf(scale, options.widePartitions);
  log(`\n== ${scale.groups} groups, ${scale.topics} topics, ${scale.partitions} partitions (${layout.groupPartitions} group-partitions) ==`);

  const { kafka, stop: stopKafka } = await target();
  const cleanups: Array<() => Promise<void>> = [stopKafka];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  };
  try {
    log(`Building the cluster state on ${kafka.bootstrap}...`);
    const build = await buildState(kafka.brokers, layout, log);
    const expected = expectedLag(layout);
    const mover = options.commitEvery > 0 ? OffsetMover.open(kafka.brokers, layout) : null;
    if (mover) cleanups.push(() => mover.close());
    const moves = mover ? { mover, every: options.commitEvery } : null;

    const signingSecret = 'lagbot-bench-signing-secret';
    const slack = await startSlackStandin({ signingSecret });
    cleanups.push(() => slack.stop());
    const work = await mkdtemp(join(tmpdir(), 'lagbot-bench-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const probe = ProbeClient.start(options.nodeOptions);
    cleanups.push(() => probe.stop());
    const { port } = await probe.init({
      brokers: kafka.brokers,
      slackApiUrl: slack.apiUrl,
      signingSecret,
      botToken: slack.botToken,
      storePath: join(work, 'lagbot.db'),
    });
    slack.setEventsUrl(`http://127.0.0.1:${port}/slack/events`);
    log(`lagbot (pid ${probe.pid}) composed by startLagbot, checks driven by the benchmark; Bolt on :${port}`);

    const interval = options.historyIntervalMs;
    const profiles: ScaleResult['profiles'] = {};
    const profiled = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      if (!options.cpuProf) return run();
      await probe.profileStart();
      const value = await run();
      const file = resolve(options.cpuProf, `${scale.groups}x${scale.partitions}-${name}.cpuprofile`);
      await probe.profileStop(file);
      profiles[name] = { file, ...(await summarizeProfile(file)) };
      return value;
    };

    log(`Warm-up: ${options.warmup} check cycles`);
    const warm = await probe.cycles(Math.max(1, options.warmup), interval);
    const firstFailure = warm.find((c) => !c.ok);
    if (firstFailure) throw new Error(`check cycle failed during warm-up: ${firstFailure.error}`);

    const { totals, partitions } = await probe.totals();
    const lagMismatches: string[] = [];
    for (const [group, lag] of expected) {
      if (totals[group] !== lag) lagMismatches.push(`${group}: lagbot ${String(totals[group])}, expected ${lag}`);
    }
    const groupsRead = Object.keys(totals).length;
    log(`lagbot read ${groupsRead} groups; ${lagMismatches.length === 0 ? 'every total lag as built' : `${lagMismatches.length} totals differ from the built state`}`);

    log(`Measuring ${options.cycles} check cycles (short history)`);
    const short = phase(await probe.cycles(options.cycles, interval));
    const beforeHistory = memoryFigures(await probe.memory());

    const movement = moves
      ? `each group committing other offsets every ${moves.every} checks`
      : options.commitEvery > 0
        ? 'offsets not moving: no OffsetCommit for this kafkajs'
        : 'offsets not moving (--commit-every 0)';
    log(`Filling ${options.historySamples} samples of history per group (real checks ${interval / 1000} s apart on the clock, ${movement})`);
    const fill = await fillHistory(probe, options.historySamples, interval, moves, layout.groups.map((_, g) => g));
    log(`  filled in ${(fill.ms / 1000).toFixed(1)} s`);
    const loadMeasured = loadavg();
    log(`Measuring ${options.cycles} check cycles with a full hour of history`);
    const full = phase(await profiled('check-cycles', () => probe.cycles(options.cycles, interval)));
    const fullHistory = await steadyMemory(probe, MEMORY_READINGS, interval);
    log(`  check cycle median ${full.checkMs.medianMs} ms, p95 ${full.checkMs.p95Ms} ms; ${full.totalRequests} Kafka requests; RSS ${fullHistory.rssMB} MB (max ${fullHistory.rssMaxMB} MB)`);

    const widePartitions = partitions[layout.wideGroup] ?? layout.widePartitions;
    log(`/lag ${layout.wideGroup} (${widePartitions} partitions): warm-up, ${options.lagAlone} alone, ${options.lagConcurrent} with ${options.inFlight} in flight`);
    await timeSlashLag(slack, layout.wideGroup, { count: 5, inFlight: 1 });
    const alone = await profiled('slash-lag-alone', () => timeSlashLag(slack, layout.wideGroup, { count: options.lagAlone, inFlight: 1 }));
    const concurrent = await profiled('slash-lag-in-flight', () =>
      timeSlashLag(slack, layout.wideGroup, { count: options.lagConcurrent, inFlight: options.inFlight }),
    );
    const afterSlashLag = memoryFigures(await probe.memory());
    await probe.stop();
    const aloneSummary = summarize(alone.latenciesMs);
    const concurrentSummary = summarize(concurrent.latenciesMs);
    log(`  alone: median ${aloneSummary.medianMs} ms, p99 ${aloneSummary.p99Ms} ms; ${options.inFlight} in flight: median ${concurrentSummary.medianMs} ms, p99 ${concurrentSummary.p99Ms} ms`);

    // The issue's premise is an hour of history per partition; with several groups on each
    // topic lagbot holds one per group-partition (above). This lagbot watches one group per
    // topic, which covers every partition exactly once.
    const onePerTopic = layout.groups
      .map((g, index) => ({ ...g, index }))
      .filter((g) => g.topics.length === 1)
      .slice(0, layout.topics.length);
    let onePerPartition: ScaleResult['memory']['onePerPartition'] = null;
    if (onePerTopic.length === layout.topics.length) {
      log(`Memory with history for each partition once: a second lagbot watching ${onePerTopic.length} groups (one per topic)`);
      const second = ProbeClient.start(options.nodeOptions);
      cleanups.push(() => second.stop());
      await second.init({
        brokers: kafka.brokers,
        slackApiUrl: slack.apiUrl,
        signingSecret,
        botToken: slack.botToken,
        storePath: join(work, 'lagbot-2.db'),
        watch: onePerTopic.map((g) => g.name),
      });
      await second.cycles(Math.max(1, options.warmup), interval);
      await fillHistory(second, options.historySamples, interval, moves, onePerTopic.map((g) => g.index));
      const steady = await steadyMemory(second, MEMORY_READINGS, interval);
      onePerPartition = { ...steady, watchedGroups: onePerTopic.length, partitionRows: scale.partitions };
      await second.stop();
      log(`  RSS ${steady.rssMB} MB (max ${steady.rssMaxMB} MB) with ${scale.partitions} partitions x ${options.historySamples}+ samples`);
    }

    let kafkaTool: ScaleResult['kafkaTool'] = null;
    let ratio: ScaleResult['ratio'] = null;
    const toolMismatches: string[] = [];
    if (kafka.classpath && options.toolRuns > 0) {
      const classpath = kafka.classpath;
      log(`kafka-consumer-groups --describe --all-groups: ${options.toolRuns} runs (plus ${options.toolRuns} of one group)`);
      const one: ToolRun[] = [];
      const all: ToolRun[] = [];
      for (let i = 0; i < options.toolRuns; i += 1) {
        one.push(await runConsumerGroups(kafka.bootstrap, classpath, ['--describe', '--group', layout.groups[1]?.name ?? layout.wideGroup]));
        all.push(await runConsumerGroups(kafka.bootstrap, classpath, ['--describe', '--all-groups']));
      }
      const last = all[all.length - 1] as ToolRun;
      for (const [group, lag] of expected) {
        if (last.totals.get(group) !== lag) toolMismatches.push(`${group}: tool ${String(last.totals.get(group))}, expected ${lag}`);
      }
      const allMs = summarize(all.map((r) => r.wallMs));
      kafkaTool = {
        jvmOptions: 'kafka-run-class.sh defaults (-Xmx256M, G1)',
        oneGroupMs: summarize(one.map((r) => r.wallMs)),
        allGroupsMs: allMs,
        rows: last.rows,
        groups: last.totals.size,
      };
      ratio = {
        checkCycleOverTool: Math.round((full.checkMs.medianMs / allMs.medianMs) * 1000) / 1000,
        readOverTool: Math.round((full.readMs.medianMs / allMs.medianMs) * 1000) / 1000,
        toolOverCheckCycle: round1(allMs.medianMs / full.checkMs.medianMs),
      };
      log(`  tool median ${allMs.medianMs} ms (${last.rows} rows); lagbot check cycle is ${ratio.toolOverCheckCycle}x faster`);
    } else {
      log('kafka-consumer-groups skipped (no Kafka jars for an external cluster, or --tool-runs 0)');
    }

    const samplesPerGroup = Math.min(options.historySamples + options.cycles + options.warmup + options.cycles, Math.floor(3_600_000 / interval) + 1);
    const partitionRows = fill.partitionRows;
    const result: ScaleResult = {
      scale: { ...scale, groupPartitions: layout.groupPartitions, widePartitions, wideGroup: layout.wideGroup },
      kafka: { version: kafka.version, brokers: kafka.brokers.length, heap: kafka.external ? null : brokerHeap(scale, options) },
      build,
      loadAvg: { start: loadStart, measured: loadMeasured, end: loadavg() },
      correctness: { groupsRead, groupsExpected: expected.size, lagMismatches: lagMismatches.slice(0, 20), toolMismatches: toolMismatches.slice(0, 20) },
      checkCycleShortHistory: short,
      checkCycle: full,
      history: {
        samplesPerGroup,
        partitionRows,
        partitionSamples: samplesPerGroup * partitionRows,
        fillMs: Math.round(fill.ms),
        commitEvery: moves?.every ?? 0,
        how: `${options.historySamples} real checks (monitor.check()), the clock ${interval / 1000} s further each time, ${movement} (its built offsets and one message away in turn); real checks continue on top`,
      },
      memory: { beforeHistory, fullHistory, afterSlashLag, onePerPartition },
      slashLag: {
        group: layout.wideGroup,
        partitions: widePartitions,
        alone: { ...aloneSummary, failures: alone.failures.slice(0, 5) },
        inFlight: { ...concurrentSummary, inFlight: options.inFlight, failures: concurrent.failures.slice(0, 5) },
      },
      kafkaTool,
      ratio,
      profiles,
    };
    return result;
  } finally {
    await cleanup();
  }
}

export function brokerHeap(scale: Scale, options: BenchOptions): string {
  return options.brokerHeap ?? (scale.partitions > 5_000 ? '2g' : '1g');
}

/** A fresh single-node broker per scale, so one scale's groups never weigh on another's figures. */
export async function localBroker(scale: Scale, options: BenchOptions, log: (line: string) => void): Promise<{ kafka: KafkaTarget; stop: () => Promise<void> }> {
  const started = Date.now();
  const tb: KafkaTestbed = await startKafka({
    heap: brokerHeap(scale, options),
    startTimeoutMs: 180_000,
    log: (line) => {
      if (!line.startsWith('[kafka ')) log(line);
    },
  });
  log(`Kafka ${tb.version} on ${tb.bootstrap} (pid ${tb.pid}, heap ${brokerHeap(scale, options)}, up in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return {
    kafka: { brokers: tb.brokers, bootstrap: tb.bootstrap, classpath: tb.classpath, version: tb.version, external: false },
    stop: () => tb.stop(),
  };
}
