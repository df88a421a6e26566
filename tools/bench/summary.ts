import type { RequestCounts, ScaleResult, SteadyMemory } from './run-scale.js';

export interface Target {
  what: string;
  target: string;
  value: string;
  met: boolean;
}

/** The live RSS figure a target is judged on: the highest sample (the process stays under the line throughout). */
function liveMax(m: SteadyMemory): number | null {
  return m.live?.maxMB ?? null;
}

function liveText(m: SteadyMemory): string {
  return m.live ? `${m.live.maxMB} MB max, ${m.live.medianMB} MB median live (${m.afterGc.rssMB} after forced GC)` : `no live samples (${m.afterGc.rssMB} MB after forced GC)`;
}

/** The issue's targets, for the scales they are stated at. */
export function targetsOf(r: ScaleResult): Target[] {
  const targets: Target[] = [];
  const { groups, partitions } = r.scale;
  const cycle = r.checkCycle.checkMs.medianMs;
  if (groups === 500 && partitions === 5_000) targets.push({ what: 'check cycle median', target: '< 1000 ms', value: `${cycle} ms`, met: cycle < 1_000 });
  if (groups === 1_000 && partitions === 10_000) targets.push({ what: 'check cycle median', target: '< 2000 ms', value: `${cycle} ms`, met: cycle < 2_000 });
  if (groups === 3_000 && partitions === 30_000) targets.push({ what: 'check cycle median', target: '< 3000 ms', value: `${cycle} ms`, met: cycle < 3_000 });
  if (r.ratio) targets.push({ what: 'vs kafka-consumer-groups', target: '>= 5x faster', value: `${r.ratio.toolOverCheckCycle}x`, met: r.ratio.toolOverCheckCycle >= 5 });
  const ref = r.reference;
  if (groups === 1_000 && partitions === 10_000 && ref?.javaCycles) {
    const j = ref.javaCycles;
    if (ref.requestRatio !== null) {
      targets.push({
        what: 'requests per check vs Java AdminClient',
        target: '<= 2x',
        value: `${ref.lagbot.totalRequests} vs ${j.totalRequests} (${ref.requestRatio}x)`,
        met: ref.lagbot.totalRequests <= 2 * j.totalRequests,
      });
    }
    targets.push({
      what: 'check cycle median vs Java AdminClient',
      target: '<= Java',
      value: `${ref.lagbot.checkMs.medianMs} vs ${j.cycleMs.medianMs} ms (${ref.cycleRatio}x)`,
      met: ref.lagbot.checkMs.medianMs <= j.cycleMs.medianMs,
    });
  }
  if (r.slashLag.partitions >= 1_000) {
    targets.push({ what: `/lag p99 alone (${r.slashLag.partitions} partitions)`, target: '< 300 ms', value: `${r.slashLag.alone.p99Ms} ms`, met: r.slashLag.alone.p99Ms < 300 });
    targets.push({
      what: `/lag p99, ${r.slashLag.inFlight.inFlight} in flight`,
      target: '< 1000 ms',
      value: `${r.slashLag.inFlight.p99Ms} ms`,
      met: r.slashLag.inFlight.p99Ms < 1_000,
    });
  }
  // The memory targets are stated for 10,000 partitions: an hour of history for each once, and for every group-partition of 1,000 groups.
  if (partitions === 10_000) {
    const one = r.memory.onePerPartition;
    const oneMax = one ? liveMax(one) : null;
    if (one && oneMax !== null) targets.push({ what: `live RSS, hour x ${one.partitionRows} partitions`, target: '< 200 MB', value: liveText(one), met: oneMax < 200 });
    const all = r.memory.fullHistory;
    const allMax = liveMax(all);
    if (groups === 1_000 && allMax !== null) targets.push({ what: `live RSS, hour x ${r.history.partitionRows} group-partitions`, target: '< 200 MB', value: liveText(all), met: allMax < 200 });
  }
  return targets;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

function requestLine(c: RequestCounts): string {
  if (Object.keys(c.requests).length === 0) return 'not counted (no proxy: --direct or an external cluster)';
  const apis = Object.entries(c.requestsByVersion).length > 0 ? c.requestsByVersion : c.requests;
  const low = Math.min(...c.perCycle);
  const high = Math.max(...c.perCycle);
  const range = c.perCycle.length > 0 && low !== high ? ` [${low}-${high} per cycle]` : '';
  return `${c.totalRequests}${range} (${Object.entries(apis).map(([api, n]) => `${api} ${n}`).join(', ')}), ${c.requestKB} KB sent, ${c.responseKB} KB answered`;
}

export function formatSummary(results: ScaleResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const s = r.scale;
    lines.push('');
    lines.push(`${s.groups} groups / ${s.topics} topics / ${s.partitions} partitions (${s.groupPartitions} group-partitions), Kafka ${r.kafka.version}, ${r.kafka.brokers} broker(s)`);
    const launched = r.lagbotProcess;
    lines.push(`  lagbot process: ${launched.launcher ? 'as bin/lagbot starts it' : 'plain node (--bare)'}; node ${launched.execArgv.join(' ') || 'without flags'}; GLIBC_TUNABLES ${launched.glibcTunables ?? 'unset'}`);
    lines.push(`  load average: ${r.loadAvg.start.map((l) => l.toFixed(2)).join(' ')} at the start, ${r.loadAvg.measured.map((l) => l.toFixed(2)).join(' ')} when measuring`);
    lines.push(`  state built in ${(r.build.totalMs / 1000).toFixed(1)} s (topics ${(r.build.createTopicsMs / 1000).toFixed(1)} s, produce ${(r.build.produceMs / 1000).toFixed(1)} s, commits ${(r.build.commitMs / 1000).toFixed(1)} s)`);
    const c = r.checkCycle;
    lines.push(`  check cycle (hour of history): median ${c.checkMs.medianMs} ms, p95 ${c.checkMs.p95Ms} ms; Kafka read median ${c.readMs.medianMs} ms`);
    lines.push(`  check cycle (short history):   median ${r.checkCycleShortHistory.checkMs.medianMs} ms, p95 ${r.checkCycleShortHistory.checkMs.p95Ms} ms`);
    lines.push(`  lagbot requests per check, ${c.countedAt}: ${requestLine(c)}`);
    if (c.lagbotSide) lines.push(`    the same counted on lagbot's side: ${requestLine(c.lagbotSide)}`);
    if (Object.keys(c.otherClients).length > 0) lines.push(`    other clients during lagbot's cycles: ${JSON.stringify(c.otherClients)}`);
    const ref = r.reference;
    if (ref?.javaCycles) {
      const j = ref.javaCycles;
      lines.push(`  alternating with Kafka's Java AdminClient (Java ${ref.java}, ${ref.warmup} warm-up cycles, ${j.cycles} cycles each):`);
      lines.push(`    lagbot: check cycle median ${ref.lagbot.checkMs.medianMs} ms (p95 ${ref.lagbot.checkMs.p95Ms}), read ${ref.lagbot.readMs.medianMs} ms; requests ${requestLine(ref.lagbot)}`);
      lines.push(
        `    Java:   cycle median ${j.cycleMs.medianMs} ms (p95 ${j.cycleMs.p95Ms}; listGroups ${j.listGroupsMs}, describe+offsets ${j.describeAndOffsetsMs}, listOffsets ${j.listOffsetsMs}, lag ${j.lagMs}); ` +
          `requests ${requestLine(j)}; its own count ${j.ownRequests}`,
      );
      lines.push(`    lagbot / Java: requests ${ref.requestRatio ?? '?'}x, cycle ${ref.cycleRatio ?? '?'}x; Java read ${j.groups} groups, ${j.partitions} partitions${ref.mismatches.length > 0 ? `, ${ref.mismatches.length} totals differ from the built state` : ', every total as built'}`);
    }
    const m = r.memory;
    lines.push(
      `  memory, every group watched: live RSS median ${m.fullHistory.live?.medianMB ?? '?'} MB, max ${m.fullHistory.live?.maxMB ?? '?'} MB (${m.fullHistory.live?.samples ?? 0} samples over ${m.fullHistory.over}); ` +
        `${m.fullHistory.afterGc.rssMB} MB after forced GC; peak ${m.fullHistory.peakRssMB} MB; ${r.history.samplesPerGroup} samples x ${r.history.partitionRows} group-partitions`,
    );
    if (m.onePerPartition) {
      lines.push(
        `  memory, one group per topic watched: live RSS median ${m.onePerPartition.live?.medianMB ?? '?'} MB, max ${m.onePerPartition.live?.maxMB ?? '?'} MB; ${m.onePerPartition.afterGc.rssMB} MB after forced GC; an hour of history x ${m.onePerPartition.partitionRows} partitions`,
      );
    }
    lines.push(
      `  /lag ${r.slashLag.group} (${r.slashLag.partitions} partitions): alone median ${r.slashLag.alone.medianMs} ms, p99 ${r.slashLag.alone.p99Ms} ms; ` +
        `${r.slashLag.inFlight.inFlight} in flight median ${r.slashLag.inFlight.medianMs} ms, p99 ${r.slashLag.inFlight.p99Ms} ms`,
    );
    if (r.kafkaTool && r.ratio) {
      lines.push(
        `  kafka-consumer-groups --describe --all-groups: median ${r.kafkaTool.allGroupsMs.medianMs} ms (one group: ${r.kafkaTool.oneGroupMs.medianMs} ms); ` +
          `lagbot/tool = ${r.ratio.checkCycleOverTool} (${r.ratio.toolOverCheckCycle}x faster)`,
      );
    }
    const wrong = r.correctness.lagMismatches.length + r.correctness.toolMismatches.length + (ref?.mismatches.length ?? 0);
    lines.push(`  answers: lagbot read ${r.correctness.groupsRead}/${r.correctness.groupsExpected} groups; ${wrong === 0 ? 'lagbot, the Java reference and the tool agree with the built state' : `${wrong} mismatches (see JSON)`}`);
    for (const t of targetsOf(r)) lines.push(`  ${t.met ? 'MET   ' : 'MISSED'} ${pad(t.what, 42)} ${pad(t.target, 10)} ${t.value}`);
    for (const [name, p] of Object.entries(r.profiles)) {
      lines.push(`  profile ${name}: ${p.byArea.slice(0, 6).map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    }
  }
  return lines.join('\n');
}
