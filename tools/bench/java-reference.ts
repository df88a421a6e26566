/**
 * Kafka's Java AdminClient doing a lag check's read (JavaReference.java), as the reference
 * lagbot's requests and cycle are compared with: compiled at benchmark time with the JDK's
 * javac against the test bed's Kafka jars into .cache/bench/java-reference/<version> (nothing
 * compiled is committed), then run in one JVM that stays up, so its cycles are warm.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { run, writeLogConfigs } from '../kafka-testbed/broker.js';
import { javaBinary, pdeathsigWrapper } from '../kafka-testbed/jars.js';
import { repoRoot } from '../repo-root.js';
import { TOOL_JVM_OPTIONS } from './kafka-tool.js';

export const JAVA_CLIENT_ID = 'lagbot-bench-java-reference';

/**
 * kafka-run-class.sh's options, as for Kafka's tool, but a 512 MB heap instead of 256 MB so
 * that 3,000 groups' offsets never make the reference wait on its collector.
 */
export const REFERENCE_JVM_OPTIONS = TOOL_JVM_OPTIONS.map((o) => (o.startsWith('-Xmx') ? '-Xmx512M' : o));

export interface JavaCycle {
  ok: boolean;
  error?: string;
  ms: number;
  listGroupsMs: number;
  describeAndOffsetsMs: number;
  listOffsetsMs: number;
  lagMs: number;
  groups: number;
  described: number;
  partitions: number;
  rows: number;
  /** The AdminClient's own request-total metric over the cycle. */
  ownRequests: number;
  totals?: Record<string, number>;
}

function javac(): string | null {
  const home = process.env['JAVA_HOME'];
  if (home && existsSync(join(home, 'bin', 'javac'))) return join(home, 'bin', 'javac');
  const java = javaBinary();
  if (!java) return null;
  const beside = join(dirname(realpathSync(java)), 'javac');
  return existsSync(beside) ? beside : null;
}

/** The source sits beside this module's TypeScript source: tools/bench/JavaReference.java. */
function sourceFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'JavaReference.java'), join(repoRoot(), 'tools', 'bench', 'JavaReference.java')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`JavaReference.java not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Compiles JavaReference.java unless its class is newer; returns the classes directory. */
export async function compileJavaReference(classpath: string, version: string, log: (line: string) => void): Promise<string> {
  const source = sourceFile();
  const out = join(repoRoot(), '.cache', 'bench', 'java-reference', version);
  const cls = join(out, 'JavaReference.class');
  if (existsSync(cls) && statSync(cls).mtimeMs >= statSync(source).mtimeMs) return out;
  const compiler = javac();
  if (!compiler) throw new Error('javac (a JDK) is needed for the Java reference; only a JRE was found');
  await mkdir(out, { recursive: true });
  const started = Date.now();
  const r = await run(compiler, ['-nowarn', '-cp', classpath, '-d', out, source], 180_000);
  if (r.code !== 0) throw new Error(`javac JavaReference.java failed (exit ${r.code}):\n${r.out.slice(-3000)}`);
  log(`  JavaReference.java compiled against Kafka ${version}'s jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
}

/** One JVM running JavaReference; each cycle() is one full read. */
export class JavaReference {
  private readonly waiting: Array<(line: string) => void> = [];
  private readonly lines: Interface;
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly workDir: string,
  ) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-4000);
    });
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ ok: false, error: `the Java reference exited: ${this.stderr.trim().slice(-1000)}` }));
    });
  }

  static async start(o: { bootstrap: string; classpath: string; classes: string }): Promise<{ reference: JavaReference; java: string }> {
    const java = javaBinary();
    if (!java) throw new Error('java is needed for the Java reference');
    const workDir = await mkdtemp(join(tmpdir(), 'lagbot-bench-java-'));
    const { jvmArgs } = await writeLogConfigs(workDir, { stream: 'stderr' });
    const [cmd, ...pre] = [...pdeathsigWrapper(), java];
    const argv = [...pre, ...REFERENCE_JVM_OPTIONS, ...jvmArgs, '-cp', `${o.classes}:${o.classpath}`, 'JavaReference', o.bootstrap, JAVA_CLIENT_ID];
    const child = spawn(cmd as string, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const reference = new JavaReference(child, workDir);
    const ready = JSON.parse(await reference.next()) as { ready?: boolean; java?: string; error?: string };
    if (!ready.ready) throw new Error(`the Java reference did not start: ${ready.error ?? reference.stderr}`);
    return { reference, java: ready.java ?? 'unknown' };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private next(): Promise<string> {
    if (this.exited) return Promise.resolve(JSON.stringify({ ok: false, error: 'the Java reference is not running' }));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async cycle(totals = false): Promise<JavaCycle> {
    const answer = this.next();
    this.child.stdin.write(totals ? 'cycle totals\n' : 'cycle\n');
    return JSON.parse(await answer) as JavaCycle;
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.stdin.end('quit\n');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    this.lines.close();
    await rm(this.workDir, { recursive: true, force: true });
  }
}
