import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeLogConfigs } from '../kafka-testbed/broker.js';
import { javaBinary, pdeathsigWrapper } from '../kafka-testbed/jars.js';
import { CONSUMER_GROUP_COMMAND, parseDescribeOffsets } from '../kafka-testbed/tools.js';

/**
 * The JVM options bin/kafka-consumer-groups.sh runs with (kafka-run-class.sh defaults:
 * KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS), so the comparison is with the tool as
 * people run it, not with the test bed's C1-only quick-start settings.
 */
export const TOOL_JVM_OPTIONS = [
  '-Xmx256M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

export interface ToolRun {
  wallMs: number;
  rows: number;
  /** Total lag per group as the tool printed it (null when no row had a lag). */
  totals: Map<string, number | null>;
}

/** `kafka-consumer-groups --bootstrap-server B ...args`, timed from process start to exit. */
export async function runConsumerGroups(bootstrap: string, classpath: string, args: string[], timeoutMs = 600_000): Promise<ToolRun> {
  const java = javaBinary();
  if (!java) throw new Error('java is needed to run kafka-consumer-groups');
  const dir = await mkdtemp(join(tmpdir(), 'lagbot-bench-tool-'));
  try {
    const { jvmArgs } = await writeLogConfigs(dir, { stream: 'stderr' });
    const [cmd, ...pre] = [...pdeathsigWrapper(), java];
    const argv = [...pre, ...TOOL_JVM_OPTIONS, ...jvmArgs, '-cp', classpath, CONSUMER_GROUP_COMMAND, '--bootstrap-server', bootstrap, ...args];
    const started = performance.now();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(cmd as string, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (b: Buffer) => chunks.push(b));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
        else reject(new Error(`kafka-consumer-groups ${args.join(' ')} failed (${code ?? signal}): ${err.trim().slice(-2000)}`));
      });
    });
    const wallMs = performance.now() - started;
    const rows = parseDescribeOffsets(out);
    const totals = new Map<string, number | null>();
    for (const row of rows) {
      const before = totals.get(row.group) ?? null;
      totals.set(row.group, row.lag === null ? before : (before ?? 0) + row.lag);
    }
    return { wallMs, rows: rows.length, totals };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
