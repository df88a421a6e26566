import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startKafka, type KafkaTestbed } from '../kafka-testbed/broker.js';
import { startKafkaCluster } from '../kafka-testbed/cluster.js';
import { startSlackStandin } from '../slack-standin/standin.js';
import { compileJavaReference, JAVA_CLIENT_ID, JavaReference, REFERENCE_JVM_OPTIONS, type JavaCycle } from './java-reference.js';
import { runConsumerGroups, type ToolRun } from './kafka-tool.js';
import type { BenchOptions, Scale } from './options.js';
import { ProbeClient } from './probe-client.js';
import type { CycleResult, MemoryReading } from './probe-protocol.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { ProxyClient } from './proxy-client.js';
import { emptyClientCounts, type ClientCounts } from './request-proxy.js';
import { peakRssOf, RssSampler, type LiveRss } from './rss-sampler.js';
import { timeSlashLag } from './slash-lag.js';
import { buildState, expectedLag, layoutOf, OffsetMover, type BuildTimes } from './state.js';
import { mb, summarize, type Summary } from './stats.js';

/** lagbot's kafkajs client.id (the config's default), by which the proxy tells its requests from others'. */
export const LAGBOT_CLIENT_ID = 'lagbot';
/** The listener the broker advertises at the counting proxy's address. */
const BENCH_LISTENER = 'BENCH';

export interface KafkaTarget {
  brokers: string[];
  bootstrap: string;
  /** Kafka's jars, for kafka-consumer-groups; null when an external cluster is used without them. */
  classpath: string | null;
  version: string;
  external: boolean;
  /**
   * Requests counted at the broker's side: the counting proxy, and the addresses (one per
   * broker) the broker advertises on the listener behind it. null: --direct or an external cluster.
   */
  counted: { brokers: string[]; proxy: ProxyClient } | null;
}

/** One cycle's requests, counted at the broker's side (the proxy) or on lagbot's (its socketFactory). */
export interface RequestCounts {
  countedAt: 'broker side (proxy)' | "lagbot's side (socketFactory)";
  /** Median over cycles per API. */
  requests: Record<string, number>;
  /** Median over cycles per "API vN". */
  requestsByVersion: Record<string, number>;
  totalRequests: number;
  /** Each cycle's total, in order: a request sent only every few cycles shows here, not in the medians. */
  perCycle: number[];
  requestKB: number;
  responseKB: number;
  /** Median over cycles of each API's longest round trip in a cycle. */
  slowestMs: Record<string, number>;
}

export interface CyclePhase extends RequestCounts {
  cycles: number;
  checkMs: Summary;
  readMs: Summary;
  /** With both counts: lagbot's own side, to compare with the broker side's (they must agree). */
  lagbotSide: RequestCounts | null;
  /** Requests of other client ids seen at the proxy during lagbot's cycles (none expected). */
  otherClients: Record<string, number>;
  failures: string[];
}

export interface MemoryFigures {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  arrayBuffersMB: number;
}

/**
 * With an hour of history: the process's RSS sampled live from outside while it runs its
 * checks (no collection forced), then one reading after two forced full collections, which
 * shows what of the live figure is garbage not yet collected.
 */
export interface SteadyMemory {
  live: LiveRss | null;
  /** What the live samples were taken over. */
  over: string;
  afterGc: MemoryFigures;
  /** VmHWM: the highest RSS the process reached, history filling included. */
  peakRssMB: number;
}

/** Kafka's Java AdminClient doing the same read, alternated cycle by cycle with lagbot's. */
export interface ReferenceResult {
  java: string;
  jvmOptions: string[];
  warmup: number;
  /** lagbot's cycles of the alternation (an hour of history). */
  lagbot: CyclePhase;
  javaCycles: RequestCounts & {
    cycles: number;
    cycleMs: Summary;
    /** Medians of the steps. */
    listGroupsMs: number;
    describeAndOffsetsMs: number;
    listOffsetsMs: number;
    lagMs: number;
    /** Median of the AdminClient's own request-total over a cycle (a cross-check of the broker side's count). */
    ownRequests: number;
    groups: number;
    partitions: number;
    failures: string[];
  } | null;
  mismatches: string[];
  /** lagbot ÷ Java: requests per cycle and cycle medians. */
  requestRatio: number | null;
  cycleRatio: number | null;
}

export interface ScaleResult {
  scale: Scale & { groupPartitions: number; widePartitions: number; wideGroup: string };
  kafka: { version: string; brokers: number; heap: string | null; counting: string };
  /** How the measured lagbot process was started: node flags and glibc tunables. */
  lagbotProcess: { launcher: boolean; execArgv: string[]; glibcTunables: string | null };
  build: BuildTimes;
  loadAvg: { start: number[]; measured: number[]; end: number[] };
  correctness: { groupsRead: number; groupsExpected: number; lagMismatches: string[]; toolMismatches: string[] };
  /** After warm-up, history a few samples deep. */
  checkCycleShortHistory: CyclePhase;
  /** With a full hour of history for every group: lagbot's steady state. */
  checkCycle: CyclePhase;
  /** lagbot and Kafka's Java AdminClient alternating, cycle by cycle; null without Java or with --java-warmup 0. */
  reference: ReferenceResult | null;
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

async function steadyMemory(probe: ProbeClient, live: LiveRss | null, over: string): Promise<SteadyMemory> {
  const afterGc = await probe.memory(true);
  return { live, over, afterGc: memoryFigures(afterGc), peakRssMB: mb(peakRssOf(probe.pid) ?? afterGc.peakRssBytes) };
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/** A cycle's requests as either side counted them. */
interface Counted {
  requests: Record<string, number>;
  byVersion: Record<string, number>;
  totalRequests: number;
  requestBytes: number;
  responseBytes: number;
  slowestMs: Record<string, number>;
}

function requestCounts(countedAt: RequestCounts['countedAt'], cycles: Counted[]): RequestCounts {
  const median = (key: (c: Counted) => Record<string, number>) => {
    const names = [...new Set(cycles.flatMap((c) => Object.keys(key(c))))].sort();
    return Object.fromEntries(names.map((n) => [n, medianOf(cycles.map((c) => key(c)[n] ?? 0))]));
  };
  return {
    countedAt,
    requests: median((c) => c.requests),
    requestsByVersion: median((c) => c.byVersion),
    totalRequests: medianOf(cycles.map((c) => c.totalRequests)),
    perCycle: cycles.map((c) => c.totalRequests),
    requestKB: Math.round(medianOf(cycles.map((c) => c.requestBytes)) / 1024),
    responseKB: Math.round(medianOf(cycles.map((c) => c.responseBytes)) / 1024),
    slowestMs: Object.fromEntries(Object.entries(median((c) => c.slowestMs)).map(([api, ms]) => [api, Math.round(ms)])),
  };
}

/** A lagbot cycle with what the proxy counted for it (null without the proxy). */
type CountedCycle = CycleResult & { broker: ClientCounts | null; others: Record<string, number> };

function fromBroker(c: ClientCounts): Counted {
  return { requests: c.requests, byVersion: c.byVersion, totalRequests: c.totalRequests, requestBytes: c.requestBytes, responseBytes: c.responseBytes, slowestMs: c.slowestMs };
}

function phase(results: CountedCycle[]): CyclePhase {
  const ok = results.filter((r) => r.ok);
  const lagbotSide = ok.length > 0 && ok.every((r) => r.wire) ? requestCounts("lagbot's side (socketFactory)", ok.map((r) => ({ ...r, byVersion: {} }))) : null;
  const brokerSide = ok.length > 0 && ok.every((r) => r.broker) ? requestCounts('broker side (proxy)', ok.map((r) => fromBroker(r.broker as ClientCounts))) : null;
  const primary = brokerSide ?? lagbotSide ?? requestCounts("lagbot's side (socketFactory)", []);
  const others: Record<string, number> = {};
  for (const r of results) for (const [id, n] of Object.entries(r.others)) others[id] = (others[id] ?? 0) + n;
  return {
    cycles: results.length,
    checkMs: summarize(ok.map((r) => r.durationMs)),
    readMs: summarize(ok.map((r) => r.readMs)),
    ...primary,
    lagbotSide: brokerSide ? lagbotSide : null,
    otherClients: others,
    failures: results.filter((r) => !r.ok).map((r) => r.error ?? 'failed'),
  };
}

/** Requests per client id other than `own` in a take of the proxy. */
function othersIn(taken: Record<string, ClientCounts>, own: string): Record<string, number> {
  return Object.fromEntries(Object.entries(taken).filter(([id, c]) => id !== own && c.totalRequests > 0).map(([id, c]) => [id, c.totalRequests]));
}

/** lagbot's check cycles one at a time, each with the proxy's count of what reached the broker for it. */
async function countedCycles(probe: ProbeClient, proxy: ProxyClient | null, count: number, interval: number): Promise<CountedCycle[]> {
  const out: CountedCycle[] = [];
  for (let i = 0; i < count; i += 1) {
    if (proxy) await proxy.take();
    const [cycle] = await probe.cycles(1, interval);
    if (!cycle) throw new Error('no check cycle result');
    const taken = proxy ? await proxy.take() : null;
    out.push({ ...cycle, broker: taken ? (taken[LAGBOT_CLIENT_ID] ?? emptyClientCounts()) : null, others: taken ? othersIn(taken, LAGBOT_CLIENT_ID) : {} });
  }
  return out;
}

/** A Java reference cycle with what the proxy counted for it. */
type CountedJavaCycle = JavaCycle & { broker: ClientCounts | null };

async function javaCycle(reference: JavaReference, proxy: ProxyClient | null, totals = false): Promise<CountedJavaCycle> {
  if (proxy) await proxy.take();
  const cycle = await reference.cycle(totals);
  const taken = proxy ? await proxy.take() : null;
  return { ...cycle, broker: taken ? (taken[JAVA_CLIENT_ID] ?? emptyClientCounts()) : null };
}

function javaPhase(results: CountedJavaCycle[]): NonNullable<ReferenceResult['javaCycles']> {
  const ok = results.filter((r) => r.ok);
  const counts = ok.length > 0 && ok.every((r) => r.broker) ? requestCounts('broker side (proxy)', ok.map((r) => fromBroker(r.broker as ClientCounts))) : requestCounts('broker side (proxy)', []);
  return {
    ...counts,
    cycles: results.length,
    cycleMs: summarize(ok.map((r) => r.ms)),
    listGroupsMs: medianOf(ok.map((r) => r.listGroupsMs)),
    describeAndOffsetsMs: medianOf(ok.map((r) => r.describeAndOffsetsMs)),
    listOffsetsMs: medianOf(ok.map((r) => r.listOffsetsMs)),
    lagMs: medianOf(ok.map((r) => r.lagMs)),
    ownRequests: medianOf(ok.map((r) => r.ownRequests)),
    groups: medianOf(ok.map((r) => r.groups)),
    partitions: medianOf(ok.map((r) => r.partitions)),
    failures: results.filter((r) => !r.ok).map((r) => r.error ?? 'failed').slice(0, 5),
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
    const proxy = kafka.counted?.proxy ?? null;
    // lagbot (and the Java reference) bootstrap through the proxy; the state builder, the
    // offset mover and Kafka's tool use the broker's own listener, so the proxy sees only them.
    const lagbotBrokers = kafka.counted?.brokers ?? kafka.brokers;
    const countWire = options.countLagbotSide || !proxy;
    const probe = ProbeClient.start({ nodeOptions: options.nodeOptions, env: options.env, bare: options.bare });
    cleanups.push(() => probe.stop());
    const { port } = await probe.init({
      brokers: lagbotBrokers,
      slackApiUrl: slack.apiUrl,
      signingSecret,
      botToken: slack.botToken,
      storePath: join(work, 'lagbot.db'),
      countWire,
    });
    slack.setEventsUrl(`http://127.0.0.1:${port}/slack/events`);
    const launched = probe.launchedWith;
    log(
      `lagbot (pid ${probe.pid}) composed by startLagbot, checks driven by the benchmark; Bolt on :${port}; ` +
        `${options.bare ? 'plain node' : 'as bin/lagbot starts it'} (node ${launched.execArgv.join(' ') || 'without flags'}, GLIBC_TUNABLES ${launched.glibcTunables ?? 'unset'}); ` +
        (proxy ? `requests counted at the broker's side (proxy ${lagbotBrokers.join(',')})${countWire ? " and on lagbot's" : ''}` : "requests counted on lagbot's side"),
    );

    const interval = options.historyIntervalMs;
    const profiles: ScaleResult['profiles'] = {};
    const profiled = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      if (!options.cpuProf && !options.allocProf) return run();
      if (options.cpuProf) await probe.profileStart();
      if (options.allocProf) await probe.allocProfileStart();
      const value = await run();
      if (options.allocProf) {
        const file = resolve(options.allocProf, `${scale.groups}x${scale.partitions}-${name}.heapprofile`);
        await probe.allocProfileStop(file);
        log(`  allocation profile: ${file}`);
      }
      if (options.cpuProf) {
        const file = resolve(options.cpuProf, `${scale.groups}x${scale.partitions}-${name}.cpuprofile`);
        await probe.profileStop(file);
        profiles[name] = { file, ...(await summarizeProfile(file)) };
      }
      return value;
    };

    log(`Warm-up: ${options.warmup} check cycles`);
    const warm = await countedCycles(probe, proxy, Math.max(1, options.warmup), interval);
    const first = warm[0];
    if (first?.broker) log(`  first check (coordinators not known yet): ${first.broker.totalRequests} requests (${Object.entries(first.broker.byVersion).map(([a, n]) => `${a} ${n}`).join(', ')})`);
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
    const short = phase(await countedCycles(probe, proxy, options.cycles, interval));
    const beforeHistory = memoryFigures(await probe.memory());

    const movement = moves
      ? `each group committing other offsets every ${moves.every} checks`
      : options.commitEvery > 0
        ? 'offsets not moving: no OffsetCommit for this kafkajs'
        : 'offsets not moving (--commit-every 0)';
    log(`Filling ${options.historySamples} samples of history per group (real checks ${interval / 1000} s apart on the clock, ${movement})`);
    const fill = await fillHistory(probe, options.historySamples, interval, moves, layout.groups.map((_, g) => g));
    log(`  filled in ${(fill.ms / 1000).toFixed(1)} s`);

    // The Java reference starts and warms up before lagbot's measured cycles, so its JVM start
    // and JIT compilation are over when the two alternate.
    let reference: JavaReference | null = null;
    let javaVersion = '';
    const javaMismatches: string[] = [];
    if (kafka.classpath && options.javaWarmup > 0) {
      const classes = await compileJavaReference(kafka.classpath, kafka.version, log);
      const started = await JavaReference.start({ bootstrap: lagbotBrokers.join(','), classpath: kafka.classpath, classes });
      reference = started.reference;
      javaVersion = started.java;
      const javaRef = reference;
      cleanups.push(() => javaRef.stop());
      log(`Java reference (AdminClient, Java ${javaVersion}, pid ${reference.pid}): ${options.javaWarmup} warm-up cycles`);
      const check = await javaCycle(reference, proxy, true);
      if (!check.ok) throw new Error(`the Java reference failed: ${check.error ?? 'no answer'}`);
      for (const [group, lag] of expected) {
        if (check.totals?.[group] !== lag) javaMismatches.push(`${group}: Java ${String(check.totals?.[group])}, expected ${lag}`);
      }
      if (check.broker) log(`  first cycle: ${check.ms} ms, ${check.broker.totalRequests} requests (${Object.entries(check.broker.byVersion).map(([a, n]) => `${a} ${n}`).join(', ')}); ${javaMismatches.length === 0 ? 'every total lag as built' : `${javaMismatches.length} totals differ`}`);
      for (let i = 1; i < options.javaWarmup; i += 1) await reference.cycle();
    }

    if (proxy) await proxy.take();
    const loadMeasured = loadavg();
    // RSS sampled live from here to the end of the alternation: an hour of history throughout
    // (a profiled phase is left out: the profiler's own memory is not lagbot's).
    let sampler = options.cpuProf || options.allocProf ? null : new RssSampler(probe.pid).start();
    log(`Measuring ${options.cycles} check cycles with a full hour of history`);
    const full = phase(await profiled('check-cycles', () => countedCycles(probe, proxy, options.cycles, interval)));
    log(`  check cycle median ${full.checkMs.medianMs} ms, p95 ${full.checkMs.p95Ms} ms; ${full.totalRequests} Kafka requests (${full.countedAt})`);
    sampler ??= new RssSampler(probe.pid).start();

    let referenceResult: ReferenceResult | null = null;
    if (reference) {
      log(`lagbot and the Java reference alternating: ${options.cycles} cycles each`);
      const lagbotCycles: CountedCycle[] = [];
      const javaCycles: CountedJavaCycle[] = [];
      for (let i = 0; i < options.cycles; i += 1) {
        lagbotCycles.push(...(await countedCycles(probe, proxy, 1, interval)));
        javaCycles.push(await javaCycle(reference, proxy));
      }
      const lagbotPhase = phase(lagbotCycles);
      const java = javaPhase(javaCycles);
      referenceResult = {
        java: javaVersion,
        jvmOptions: REFERENCE_JVM_OPTIONS,
        warmup: options.javaWarmup,
        lagbot: lagbotPhase,
        javaCycles: java,
        mismatches: javaMismatches.slice(0, 20),
        requestRatio: proxy && java.totalRequests > 0 ? Math.round((lagbotPhase.totalRequests / java.totalRequests) * 100) / 100 : null,
        cycleRatio: java.cycleMs.medianMs > 0 ? Math.round((lagbotPhase.checkMs.medianMs / java.cycleMs.medianMs) * 100) / 100 : null,
      };
      log(
        `  lagbot: cycle median ${lagbotPhase.checkMs.medianMs} ms (read ${lagbotPhase.readMs.medianMs}), ${lagbotPhase.totalRequests} requests; ` +
          `Java: cycle median ${java.cycleMs.medianMs} ms, ${java.totalRequests} requests (its own count ${java.ownRequests})`,
      );
      await reference.stop();
    }
    const live = sampler.stop();
    const fullHistory = await steadyMemory(
      probe,
      live,
      `${options.cpuProf || options.allocProf ? '' : `${options.cycles} check cycles back to back, then `}${reference ? `${options.cycles} cycles alternating with the Java reference's` : ''}`.replace(/, then $/, ''),
    );
    log(`  RSS live: median ${live?.medianMB ?? '?'} MB, max ${live?.maxMB ?? '?'} MB over ${live?.seconds ?? '?'} s (${live?.samples ?? 0} samples); after forced GC ${fullHistory.afterGc.rssMB} MB`);
    if (options.heapSnapshot) {
      // After the RSS readings: the snapshot's own memory must not be counted as lagbot's.
      const file = await probe.heapSnapshot(join(options.heapSnapshot, `lagbot-${scale.groups}x${scale.partitions}.heapsnapshot`));
      log(`  heap snapshot: ${file}`);
    }

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
      const second = ProbeClient.start({ nodeOptions: options.nodeOptions, env: options.env, bare: options.bare });
      cleanups.push(() => second.stop());
      await second.init({
        brokers: kafka.brokers,
        slackApiUrl: slack.apiUrl,
        signingSecret,
        botToken: slack.botToken,
        storePath: join(work, 'lagbot-2.db'),
        watch: onePerTopic.map((g) => g.name),
        countWire: false,
      });
      await second.cycles(Math.max(1, options.warmup), interval);
      await fillHistory(second, options.historySamples, interval, moves, onePerTopic.map((g) => g.index));
      const secondSampler = new RssSampler(second.pid).start();
      const secondCycles = await second.cycles(options.cycles, interval);
      const failed = secondCycles.find((c) => !c.ok);
      if (failed) throw new Error(`check cycle failed: ${failed.error ?? 'no result'}`);
      const steady = await steadyMemory(second, secondSampler.stop(), `${options.cycles} check cycles back to back`);
      onePerPartition = { ...steady, watchedGroups: onePerTopic.length, partitionRows: scale.partitions };
      await second.stop();
      log(`  RSS live: median ${steady.live?.medianMB ?? '?'} MB, max ${steady.live?.maxMB ?? '?'} MB with ${scale.partitions} partitions x ${options.historySamples}+ samples; after forced GC ${steady.afterGc.rssMB} MB`);
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
    if (referenceResult && referenceResult.mismatches.length > 0) log(`  Java reference: ${referenceResult.mismatches.length} totals differ from the built state`);
    const partitionRows = fill.partitionRows;
    const result: ScaleResult = {
      scale: { ...scale, groupPartitions: layout.groupPartitions, widePartitions, wideGroup: layout.wideGroup },
      kafka: {
        version: kafka.version,
        brokers: kafka.brokers.length,
        heap: kafka.external ? null : brokerHeap(scale, options),
        counting: proxy ? `broker side: a proxy in front of each broker's ${BENCH_LISTENER} listener, advertised at the proxy's address` : "lagbot's side (socketFactory)",
      },
      lagbotProcess: { launcher: !options.bare, ...launched },
      build,
      loadAvg: { start: loadStart, measured: loadMeasured, end: loadavg() },
      correctness: { groupsRead, groupsExpected: expected.size, lagMismatches: lagMismatches.slice(0, 20), toolMismatches: toolMismatches.slice(0, 20) },
      checkCycleShortHistory: short,
      checkCycle: full,
      reference: referenceResult,
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
  const perBroker = scale.partitions / options.brokers;
  return options.brokerHeap ?? (perBroker > 5_000 ? '2g' : '1g');
}

/** The soft limit of open files this process (and the brokers it starts) has; null where unknown. */
function openFilesLimit(): number | null {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * A fresh broker (or cluster, --brokers N) per scale, so one scale's groups never weigh on
 * another's figures. Unless --direct, a counting proxy (its own process) stands in front of
 * each broker: each broker has a second plaintext listener, BENCH, advertised at its proxy's
 * port, so clients that bootstrap through the proxy reach every broker through it.
 */
export async function localBroker(scale: Scale, options: BenchOptions, log: (line: string) => void): Promise<{ kafka: KafkaTarget; stop: () => Promise<void> }> {
  const started = Date.now();
  const files = openFilesLimit();
  // A broker keeps every partition's log segment open: one file per partition at least.
  const perBroker = Math.ceil(scale.partitions / options.brokers) + 2_000;
  if (files !== null && perBroker > files) {
    throw new Error(
      `${scale.partitions} partitions on ${options.brokers} broker(s) need about ${perBroker} open files per broker; this machine allows ${files} (ulimit -n). ` +
        `Spread them over more brokers: --brokers ${Math.ceil(scale.partitions / (files - 2_000))}`,
    );
  }
  const proxy = options.direct ? null : ProxyClient.start();
  const proxyPorts: number[] = [];
  try {
    if (proxy) for (let i = 0; i < options.brokers; i += 1) proxyPorts.push(await proxy.listen());
    const heap = brokerHeap(scale, options);
    const quiet = (line: string) => {
      if (!line.startsWith('[kafka ')) log(line);
    };
    let kafka: Omit<KafkaTarget, 'counted'>;
    let listeners: string[] = [];
    let stop: () => Promise<void>;
    if (options.brokers === 1) {
      const tb: KafkaTestbed = await startKafka({
        heap,
        startTimeoutMs: 180_000,
        log: quiet,
        ...(proxy ? { listeners: [{ name: BENCH_LISTENER, protocol: 'PLAINTEXT' as const, advertisedPort: proxyPorts[0] as number }] } : {}),
      });
      log(`Kafka ${tb.version} on ${tb.bootstrap} (pid ${tb.pid}, heap ${heap}, up in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      kafka = { brokers: tb.brokers, bootstrap: tb.bootstrap, classpath: tb.classpath, version: tb.version, external: false };
      listeners = proxy ? [tb.listeners?.[BENCH_LISTENER] as string] : [];
      stop = () => tb.stop();
    } else {
      const cluster = await startKafkaCluster({
        brokers: options.brokers,
        heap,
        controllerHeap: scale.partitions > 10_000 ? '1g' : '512m',
        startTimeoutMs: 180_000,
        log: quiet,
        // The test bed's cluster runs C1 only, for quick test starts; a benchmark wants the broker's full JIT.
        jvmArgs: ['-XX:TieredStopAtLevel=4'],
        ...(proxy ? { listeners: [{ name: BENCH_LISTENER, advertisedPorts: proxyPorts }] } : {}),
      });
      log(`Kafka ${cluster.version} cluster of ${options.brokers} brokers on ${cluster.bootstrap} (controller pid ${cluster.controller.pid}, heap ${heap} each, up in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      kafka = { brokers: cluster.brokers, bootstrap: cluster.bootstrap, classpath: cluster.classpath, version: cluster.version, external: false };
      listeners = proxy ? (cluster.listeners[BENCH_LISTENER] ?? []) : [];
      stop = () => cluster.stop();
    }
    if (proxy) {
      if (listeners.length !== proxyPorts.length) throw new Error(`expected ${proxyPorts.length} ${BENCH_LISTENER} listeners, got ${listeners.length}`);
      for (const [i, port] of proxyPorts.entries()) await proxy.route(port, listeners[i] as string);
    }
    return {
      kafka: { ...kafka, counted: proxy ? { brokers: proxyPorts.map((p) => `127.0.0.1:${p}`), proxy } : null },
      stop: async () => {
        await stop();
        await proxy?.stop();
      },
    };
  } catch (error) {
    await proxy?.stop();
    throw error;
  }
}
