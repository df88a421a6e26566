import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { writeLogConfigs } from './broker.js';
import { javaBinary, missingToolsMessage, pdeathsigWrapper } from './jars.js';

export interface KafkaToolTarget {
  bootstrap: string;
  classpath: string;
}

export interface RunToolOptions {
  timeoutMs?: number;
  /** More JVM options, e.g. -D system properties a client's security setting needs. */
  jvmArgs?: string[];
}

export const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand';

// Tools log to stderr so stdout is only the tool's own output, which is what gets parsed.
// One fixed folder per user, rewritten atomically and never removed: test workers are often
// killed without running exit handlers, and a per-process folder would pile up in /tmp.
let logArgs: Promise<string[]> | undefined;
function toolLogArgs(): Promise<string[]> {
  logArgs ??= (async () => {
    const dir = join(tmpdir(), `lagbot-kafka-tools-${userInfo().uid}`);
    await mkdir(dir, { recursive: true });
    return (await writeLogConfigs(dir, { stream: 'stderr' })).jvmArgs;
  })();
  return logArgs;
}

/**
 * Runs a Kafka CLI main class from the test bed's jars and resolves with its stdout. Rejects
 * with stderr (and stdout, where some tools print their errors) on a non-zero exit.
 */
export async function runKafkaClass(
  classpath: string,
  mainClass: string,
  args: string[],
  opts: RunToolOptions = {},
): Promise<string> {
  const java = javaBinary();
  if (!java) throw new Error(missingToolsMessage(['java']));
  // Short-lived JVMs: C1 only and a small heap start noticeably faster on a 2-core box.
  const jvm = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', ...(await toolLogArgs()), ...(opts.jvmArgs ?? [])];
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolveP, reject) => {
    const [cmd, ...pre] = [...pdeathsigWrapper(), java];
    const child = spawn(cmd as string, [...pre, ...jvm, '-cp', classpath, mainClass, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`Could not run ${mainClass}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolveP(out);
      const name = mainClass.split('.').pop();
      const why = timedOut ? `timed out after ${timeoutMs / 1000}s` : `exit ${code ?? signal}`;
      reject(
        new Error(
          `${name} ${args.join(' ')} failed (${why}):\n${err.trim()}${out.trim() ? `\n--- stdout ---\n${out.trim()}` : ''}`,
        ),
      );
    });
  });
}

export interface RunningKafkaClass {
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the JVM is gone. */
  stop(graceMs?: number): Promise<void>;
  /** What it printed so far on stdout and stderr, for a failing test's message. */
  output(): string;
}

/**
 * Starts a Kafka main class that runs until stopped (a console consumer that stays a group
 * member, for instance). The caller must stop it; the JVM also dies with this process.
 */
export async function startKafkaClass(classpath: string, mainClass: string, args: string[], opts: Omit<RunToolOptions, 'timeoutMs'> = {}): Promise<RunningKafkaClass> {
  const java = javaBinary();
  if (!java) throw new Error(missingToolsMessage(['java']));
  const jvm = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', ...(await toolLogArgs()), ...(opts.jvmArgs ?? [])];
  const [cmd, ...pre] = [...pdeathsigWrapper(), java];
  const child = spawn(cmd as string, [...pre, ...jvm, '-cp', classpath, mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<void>((resolveP) => {
    child.on('close', () => resolveP());
    child.on('error', () => resolveP());
  });
  return {
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    output: () => out,
  };
}

/**
 * `kafka-consumer-groups.sh --bootstrap-server <tb.bootstrap> ...args`, run from the jars.
 * Beware: for an unknown group the command prints "Error: ..." on stdout and still exits 0, so
 * this resolves; check consumerGroupErrors() when rows are expected.
 */
export function kafkaConsumerGroups(tb: KafkaToolTarget, args: string[], opts?: RunToolOptions): Promise<string> {
  return runKafkaClass(tb.classpath, CONSUMER_GROUP_COMMAND, ['--bootstrap-server', tb.bootstrap, ...args], opts);
}

// ---------------------------------------------------------------------------------------------
// Parsers for ConsumerGroupCommand output. Tables are whitespace-aligned, but columns are padded
// to a minimum width only, so a long value shifts everything after it: split on whitespace, not
// by character position. Verified against 3.9.2 and 4.1.2 output (see the quirks noted below).
// ---------------------------------------------------------------------------------------------

export interface OffsetsRow {
  group: string;
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number | null;
  lag: number | null;
  consumerId: string | null;
  /** As printed, e.g. "/127.0.0.1". */
  host: string | null;
  clientId: string | null;
  /** Only with --verbose on 4.x (LEADER-EPOCH column); null otherwise. */
  leaderEpoch: number | null;
}

export interface TopicAssignment {
  /** null where Kafka 3.7–3.9 print partitions without their topic ("(0,1), (0,1,2)"). */
  topic: string | null;
  partitions: number[];
}

export interface MemberRow {
  group: string;
  consumerId: string;
  host: string;
  clientId: string;
  partitions: number;
  /** ASSIGNMENT (3.9) or CURRENT-ASSIGNMENT (4.x); empty unless --verbose was given. */
  assignment: TopicAssignment[];
  /** 4.x --verbose only; null for classic-protocol groups ("-") and on 3.9. */
  currentEpoch: number | null;
  targetEpoch: number | null;
  targetAssignment: TopicAssignment[] | null;
}

export interface StateRow {
  group: string;
  /** "host:port  (id)" as printed, e.g. "127.0.0.1:39401  (1)". */
  coordinator: string;
  /** null when none: 4.x prints "-", 3.9 leaves the cell blank. */
  assignmentStrategy: string | null;
  state: string;
  members: number;
  /** 4.x --verbose only (consumer-protocol groups; "-" for classic ones). */
  groupEpoch: number | null;
  targetAssignmentEpoch: number | null;
}

interface RawTable {
  cols: string[];
  rows: string[];
}

function headerColumns(line: string): string[] {
  const cols: string[] = [];
  for (const tok of line.trim().split(/\s+/)) {
    // "COORDINATOR (ID)" is the one header with a space in it.
    if (tok === '(ID)' && cols.length > 0) cols[cols.length - 1] += ' (ID)';
    else cols.push(tok);
  }
  return cols;
}

function readTables(text: string, isHeader: (cols: string[]) => boolean): RawTable[] {
  const tables: RawTable[] = [];
  let current: RawTable | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    // Blank lines separate groups on 4.x; 3.9 --all-groups offsets tables follow each other
    // directly, so a header line also starts a new table.
    if (line.trim() === '' || /^(Error|Warning):/.test(line) || /^Consumer group '.*'.*\.$/.test(line)) {
      current = null;
      continue;
    }
    const cols = headerColumns(line);
    if (cols[0] === 'GROUP' && isHeader(cols)) {
      current = { cols, rows: [] };
      tables.push(current);
    } else if (current) {
      current.rows.push(line);
    }
  }
  return tables;
}

/**
 * Maps a row onto the header. The last column takes the rest of the line (3.9's ASSIGNMENT holds
 * spaces) and may be blank (3.9 prints nothing for a member without partitions).
 */
function cells(cols: string[], line: string): Map<string, string> {
  const toks = line.trim().split(/\s+/);
  if (toks.length < cols.length - 1) {
    throw new Error(`Row has ${toks.length} cells, header has ${cols.length} (${cols.join(' ')}): ${line}`);
  }
  const m = new Map<string, string>();
  cols.forEach((c, i) => m.set(c, i === cols.length - 1 ? toks.slice(i).join(' ') : (toks[i] ?? '')));
  return m;
}

function str(v: string | undefined): string | null {
  return v === undefined || v === '' || v === '-' ? null : v;
}

function num(v: string | undefined, what: string): number | null {
  const s = str(v);
  if (s === null) return null;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`Expected a number for ${what}, got "${s}"`);
  return n;
}

function need<T>(v: T | null, what: string, line: string): T {
  if (v === null) throw new Error(`Missing ${what} in row: ${line}`);
  return v;
}

/** `--describe` (offsets view), for one group or --all-groups. */
export function parseDescribeOffsets(text: string): OffsetsRow[] {
  const out: OffsetsRow[] = [];
  for (const t of readTables(text, (c) => c.includes('TOPIC') && c.includes('PARTITION'))) {
    for (const line of t.rows) {
      const c = cells(t.cols, line);
      out.push({
        group: need(str(c.get('GROUP')), 'GROUP', line),
        topic: need(str(c.get('TOPIC')), 'TOPIC', line),
        partition: need(num(c.get('PARTITION'), 'PARTITION'), 'PARTITION', line),
        currentOffset: num(c.get('CURRENT-OFFSET'), 'CURRENT-OFFSET'),
        logEndOffset: num(c.get('LOG-END-OFFSET'), 'LOG-END-OFFSET'),
        lag: num(c.get('LAG'), 'LAG'),
        consumerId: str(c.get('CONSUMER-ID')),
        host: str(c.get('HOST')),
        clientId: str(c.get('CLIENT-ID')),
        leaderEpoch: num(c.get('LEADER-EPOCH'), 'LEADER-EPOCH'),
      });
    }
  }
  return out;
}

/**
 * An assignment cell in any of the formats Kafka has printed:
 * 4.x "orders:0,1,2;other:0,1", 2.x–3.6 "orders(0,1,2), other(0,1)", 3.7–3.9 "(0,1), (0,1,2)"
 * (topic names lost in the Java port of the command), and "-" or blank for none.
 */
export function parseAssignment(cell: string): TopicAssignment[] {
  const s = cell.trim();
  if (s === '' || s === '-') return [];
  const parts = (list: string) =>
    list
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .map((p) => {
        const n = Number(p);
        if (!Number.isInteger(n)) throw new Error(`Bad partition "${p}" in assignment "${cell}"`);
        return n;
      });
  if (!s.includes('(')) {
    return s.split(';').map((entry) => {
      const i = entry.lastIndexOf(':');
      if (i < 0) throw new Error(`Unrecognised assignment "${cell}"`);
      return { topic: entry.slice(0, i).trim(), partitions: parts(entry.slice(i + 1)) };
    });
  }
  const out: TopicAssignment[] = [];
  for (const m of s.matchAll(/([A-Za-z0-9._-]*)\(([^)]*)\)/g)) {
    out.push({ topic: m[1] ? m[1] : null, partitions: parts(m[2] ?? '') });
  }
  if (out.length === 0) throw new Error(`Unrecognised assignment "${cell}"`);
  return out;
}

/** `--describe --members [--verbose]`. */
export function parseDescribeMembers(text: string): MemberRow[] {
  const out: MemberRow[] = [];
  for (const t of readTables(text, (c) => c.includes('CONSUMER-ID') && c.includes('#PARTITIONS') && !c.includes('TOPIC'))) {
    const assignCol = t.cols.includes('CURRENT-ASSIGNMENT') ? 'CURRENT-ASSIGNMENT' : 'ASSIGNMENT';
    for (const line of t.rows) {
      const c = cells(t.cols, line);
      const target = c.get('TARGET-ASSIGNMENT');
      out.push({
        group: need(str(c.get('GROUP')), 'GROUP', line),
        consumerId: need(str(c.get('CONSUMER-ID')), 'CONSUMER-ID', line),
        host: c.get('HOST') ?? '',
        clientId: c.get('CLIENT-ID') ?? '',
        partitions: need(num(c.get('#PARTITIONS'), '#PARTITIONS'), '#PARTITIONS', line),
        assignment: parseAssignment(c.get(assignCol) ?? ''),
        currentEpoch: num(c.get('CURRENT-EPOCH'), 'CURRENT-EPOCH'),
        targetEpoch: num(c.get('TARGET-EPOCH'), 'TARGET-EPOCH'),
        targetAssignment: target === undefined || target.trim() === '-' ? null : parseAssignment(target),
      });
    }
  }
  return out;
}

/** `--describe --state [--verbose]`. */
export function parseDescribeState(text: string): StateRow[] {
  const out: StateRow[] = [];
  for (const t of readTables(text, (c) => c.includes('COORDINATOR (ID)'))) {
    const si = t.cols.indexOf('ASSIGNMENT-STRATEGY');
    // Columns right of the strategy never hold blanks or spaces, so they are read from the right;
    // whatever lies between the coordinator and them is the strategy (blank on 3.9 when none).
    const right = si >= 0 ? t.cols.slice(si + 1) : t.cols.slice(2);
    for (const line of t.rows) {
      const toks = line.trim().split(/\s+/);
      const group = toks[0];
      let i = 1;
      let coordinator = toks[i++] ?? '';
      if (/^\(.*\)$/.test(toks[i] ?? '')) coordinator += `  ${toks[i++]}`;
      const tail = toks.length - right.length;
      if (group === undefined || tail < i) throw new Error(`Unrecognised --state row: ${line}`);
      const c = new Map(right.map((col, k) => [col, toks[tail + k]]));
      out.push({
        group,
        coordinator,
        assignmentStrategy: str(toks.slice(i, tail).join(' ')),
        state: need(str(c.get('STATE')), 'STATE', line),
        members: need(num(c.get('#MEMBERS'), '#MEMBERS'), '#MEMBERS', line),
        groupEpoch: num(c.get('GROUP-EPOCH'), 'GROUP-EPOCH'),
        targetAssignmentEpoch: num(c.get('TARGET-ASSIGNMENT-EPOCH'), 'TARGET-ASSIGNMENT-EPOCH'),
      });
    }
  }
  return out;
}

/**
 * "Error: ..." lines. ConsumerGroupCommand prints them on stdout and still exits 0 (e.g. for a
 * group that does not exist), so a caller expecting rows should check this.
 */
export function consumerGroupErrors(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.startsWith('Error:'))
    .map((l) => l.slice('Error:'.length).trim());
}
