import type { ScaleResult } from './run-scale.js';

export interface Target {
  what: string;
  target: string;
  value: string;
  met: boolean;
}

/** The issue's targets, for the scales they are stated at. */
export function targetsOf(r: ScaleResult): Target[] {
  const targets: Target[] = [];
  const { groups, partitions } = r.scale;
  const cycle = r.checkCycle.checkMs.medianMs;
  if (groups === 500 && partitions === 5_000) targets.push({ what: 'check cycle median', target: '< 1000 ms', value: `${cycle} ms`, met: cycle < 1_000 });
  if (groups === 1_000 && partitions === 10_000) targets.push({ what: 'check cycle median', target: '< 2000 ms', value: `${cycle} ms`, met: cycle < 2_000 });
  if (r.ratio) targets.push({ what: 'vs kafka-consumer-groups', target: '>= 5x faster', value: `${r.ratio.toolOverCheckCycle}x`, met: r.ratio.toolOverCheckCycle >= 5 });
  if (r.slashLag.partitions >= 1_000) {
    targets.push({ what: `/lag p99 alone (${r.slashLag.partitions} partitions)`, target: '< 300 ms', value: `${r.slashLag.alone.p99Ms} ms`, met: r.slashLag.alone.p99Ms < 300 });
    targets.push({
      what: `/lag p99, ${r.slashLag.inFlight.inFlight} in flight`,
      target: '< 1000 ms',
      value: `${r.slashLag.inFlight.p99Ms} ms`,
      met: r.slashLag.inFlight.p99Ms < 1_000,
    });
  }
  if (partitions >= 10_000) {
    const one = r.memory.onePerPartition;
    if (one) targets.push({ what: `RSS, hour of history x ${one.partitionRows} partitions`, target: '< 200 MB', value: `${one.rssMB} MB (max ${one.rssMaxMB})`, met: one.rssMB < 200 });
    const all = r.memory.fullHistory;
    targets.push({ what: `RSS, hour x ${r.history.partitionRows} group-partitions`, target: '< 200 MB', value: `${all.rssMB} MB (max ${all.rssMaxMB})`, met: all.rssMB < 200 });
  }
  return targets;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function formatSummary(results: ScaleResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const s = r.scale;
    lines.push('');
    lines.push(`${s.groups} groups / ${s.topics} topics / ${s.partitions} partitions (${s.groupPartitions} group-partitions), Kafka ${r.kafka.version}`);
    lines.push(`  state built in ${(r.build.totalMs / 1000).toFixed(1)} s (topics ${(r.build.createTopicsMs / 1000).toFixed(1)} s, produce ${(r.build.produceMs / 1000).toFixed(1)} s, commits ${(r.build.commitMs / 1000).toFixed(1)} s)`);
    const c = r.checkCycle;
    lines.push(`  check cycle (hour of history): median ${c.checkMs.medianMs} ms, p95 ${c.checkMs.p95Ms} ms; Kafka read median ${c.readMs.medianMs} ms`);
    lines.push(`  check cycle (short history):   median ${r.checkCycleShortHistory.checkMs.medianMs} ms, p95 ${r.checkCycleShortHistory.checkMs.p95Ms} ms`);
    lines.push(`  Kafka requests per cycle (on the wire): ${c.totalRequests} (${Object.entries(c.requests).map(([api, n]) => `${api} ${n}`).join(', ')}), ${c.requestKB} KB sent, ${c.responseKB} KB answered`);
    const m = r.memory;
    lines.push(
      `  memory: RSS ${m.fullHistory.rssMB} MB (max ${m.fullHistory.rssMaxMB}, peak ${m.fullHistory.peakRssMB}) with ${r.history.samplesPerGroup} samples x ${r.history.partitionRows} group-partitions; ` +
        `before history ${m.beforeHistory.rssMB} MB, after /lag ${m.afterSlashLag.rssMB} MB`,
    );
    if (m.onePerPartition) {
      lines.push(`  memory, one group per topic watched: RSS ${m.onePerPartition.rssMB} MB (max ${m.onePerPartition.rssMaxMB}) with an hour of history x ${m.onePerPartition.partitionRows} partitions`);
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
    const wrong = r.correctness.lagMismatches.length + r.correctness.toolMismatches.length;
    lines.push(`  answers: lagbot read ${r.correctness.groupsRead}/${r.correctness.groupsExpected} groups; ${wrong === 0 ? 'lagbot and the tool agree with the built state' : `${wrong} mismatches (see JSON)`}`);
    for (const t of targetsOf(r)) lines.push(`  ${t.met ? 'MET   ' : 'MISSED'} ${pad(t.what, 40)} ${pad(t.target, 12)} ${t.value}`);
    for (const [name, p] of Object.entries(r.profiles)) {
      lines.push(`  profile ${name}: ${p.byArea.slice(0, 6).map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    }
  }
  return lines.join('\n');
}
