import { parseArgs } from 'node:util';
import { AlertingPolicy } from '../config/alerting.js';
import { loadConfig } from '../config/config.js';
import type { Severity } from '../core/protocol.js';
import { isNamed } from '../views/text-style.js';
import { systemClock } from '../core/ports.js';
import type { Evaluation } from '../core/rules.js';
import { openClusters } from '../app/clusters.js';
import { createLogger } from '../log/logger.js';
import { GroupHistories } from '../monitor/histories.js';
import { findingText } from '../views/finding-text.js';
import { formatCount } from '../views/format.js';
import { renderTable } from '../views/table.js';
import { reasonsText } from '../views/timeline-text.js';

export interface CheckIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

const RANK: Record<Severity, number> = { page: 3, critical: 2, warning: 1 };

/** The group, with its cluster when the cluster has a name of its own. */
const groupName = (e: Evaluation): string => (isNamed(e.ref.cluster) ? `${e.ref.cluster}/${e.ref.group}` : e.ref.group);

function report(evaluations: Evaluation[], samples: number): string {
  const alerting = evaluations.filter((e) => e.severity !== null).sort((a, b) => RANK[b.severity as Severity] - RANK[a.severity as Severity]);
  const lines = [
    `${evaluations.length} watched group${evaluations.length === 1 ? '' : 's'}, ${alerting.length} would alert (${samples} sample${samples === 1 ? '' : 's'}).`,
  ];
  if (samples < 2) lines.push('One sample sees the lag thresholds only; growth, doubling and stall rules need --samples/--interval.');
  if (alerting.length > 0) {
    lines.push(
      '',
      ...renderTable(
        [
          { header: 'GROUP', align: 'left' },
          { header: 'SEVERITY', align: 'left' },
          { header: 'TOTAL-LAG', align: 'right' },
          { header: 'WHY', align: 'left' },
        ],
        alerting.map((e) => [groupName(e), (e.severity as Severity).toUpperCase(), formatCount(e.figures.totalLag), reasonsText(e.reasons)]),
      ),
    );
  }
  const evidence = evaluations.flatMap((e) => e.findings.map((f) => `  ${groupName(e)}: ${findingText(f)}`));
  if (evidence.length > 0) lines.push('', 'Evidence:', ...evidence);
  return lines.join('\n');
}

/**
 * `lagbot check`: one evaluation pass (or a few samples apart), printing what would
 * alert. Reads Kafka only; Slack is never touched.
 */
export async function runCheck(args: string[], io: CheckIo, usageError: (m: string) => Error): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { samples: { type: 'string', default: '1' }, interval: { type: 'string', default: '30' }, json: { type: 'boolean', default: false }, cluster: { type: 'string' } },
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const samples = Number(values.samples);
  const intervalSec = Number(values.interval);
  if (!Number.isInteger(samples) || samples < 1 || samples > 1_000) throw usageError(`--samples must be a whole number 1-1000, got "${values.samples}"`);
  if (!Number.isFinite(intervalSec) || intervalSec <= 0) throw usageError(`--interval must be seconds > 0, got "${values.interval}"`);

  const config = await loadConfig(io.env);
  const policy = new AlertingPolicy(config, config.clusters);
  const clusters = openClusters(config.clusters, systemClock, createLogger(io.env.LOG_LEVEL ?? 'silent'), { env: io.env, ...(values.cluster === undefined ? {} : { only: values.cluster }) });
  const histories = new GroupHistories(policy);
  try {
    let evaluations: Evaluation[] = [];
    let unreadable: string[] = [];
    for (let i = 0; i < samples; i += 1) {
      if (i > 0) await new Promise((r) => setTimeout(r, intervalSec * 1000));
      // As the scheduled checks do: each cluster on its own, so a dead one costs only its own groups.
      const reads = await Promise.allSettled(clusters.sources.map((source) => source.readAllGroups()));
      unreadable = reads.flatMap((r, n) => (r.status === 'rejected' ? [`${clusters.sources[n]?.cluster}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
      const groups = reads.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])).filter((g) => policy.watches(g));
      histories.record(groups);
      evaluations = groups.map((g) => histories.observe(g));
    }
    if (values.json) {
      io.stdout(
        JSON.stringify(
          evaluations.map((e) => ({
            cluster: e.ref.cluster,
            group: e.ref.group,
            severity: e.severity,
            totalLag: e.figures.totalLag,
            reasons: e.reasons.map((r) => reasonsText([r])),
            evidence: e.findings.map((f) => findingText(f)),
          })),
          null,
          2,
        ),
      );
    } else {
      io.stdout(report(evaluations, samples));
    }
    // The rest is printed; a cluster left out makes the answer partial, and the exit code says so.
    for (const line of unreadable) io.stderr(`lagbot: ${line}`);
    return unreadable.length > 0 ? 1 : 0;
  } finally {
    await clusters.stop();
  }
}
