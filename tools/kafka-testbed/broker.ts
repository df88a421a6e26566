import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  javaBinary,
  kafkaVersionFromEnv,
  missingToolsMessage,
  parseKafkaVersion,
  pdeathsigWrapper,
  pidAlive,
  resolveKafkaJars,
} from './jars.js';

export interface KafkaTestbed {
  /** "127.0.0.1:PORT" */
  bootstrap: string;
  brokers: string[];
  version: string;
  /** A -cp value ("<libs>/*") with the broker's jars, reusable for Kafka's CLI tools. */
  classpath: string;
  /** "127.0.0.1:PORT" of each extra listener asked for in StartKafkaOptions.listeners, by name. */
  listeners?: Record<string, string>;
  /** The running JVM's pid; a new one after restart(). */
  readonly pid: number;
  /** Settles when the running broker JVM exits, whether through stop(), kill() or a crash. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** SIGKILL, as a crash: no shutdown runs, and the data stays for restart(). */
  kill(): Promise<void>;
  /** Kills the broker if it runs, then starts it again on the same ports and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartKafkaOptions {
  version?: string;
  cacheDir?: string;
  log?: (line: string) => void;
  /** Extra or overriding server.properties entries. */
  brokerProps?: Record<string, string>;
  startTimeoutMs?: number;
  /** JVM -Xmx of the broker, e.g. "2g"; thousands of partitions need more than the default. */
  heap?: string;
  /**
   * Listeners besides PLAINTEXT (which stays the inter-broker one), each on a free port; their
   * settings (certificates, JAAS) go in brokerProps as listener.name.<name>.* entries.
   */
  listeners?: ExtraListener[];
  /** Extra `kafka-storage format` arguments, e.g. --add-scram for SCRAM users. */
  formatArgs?: string[];
  /** More options for the broker JVM, e.g. -D system properties a listener's setting needs. */
  jvmArgs?: string[];
}

export interface ExtraListener {
  /** Upper case, e.g. SASL_SSL or MTLS. */
  name: string;
  protocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  /**
   * Port advertised for this listener instead of the one it binds, e.g. a proxy's in front of
   * it (the benchmark counts requests in one): clients then make every connection there.
   */
  advertisedPort?: number;
}

const HOST = '127.0.0.1';
// Log line printed once the broker is unfenced and serving; a bare TCP accept comes earlier
// because the listener socket is bound before request processing is enabled.
const STARTED_RE = /Kafka ?Server started/;
const TAIL_LINES = 60;

/** Distinct free ports on 127.0.0.1; all are held open together so none is handed out twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolveP, reject) => {
          const srv = createServer();
          srv.once('error', reject);
          srv.listen(0, HOST, () => resolveP(srv));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveP) => {
    const sock = createConnection({ host: HOST, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolveP(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, as Kafka's Uuid prints it.
 * Made here rather than with `StorageTool random-uuid` to save a JVM start; a leading '-' is
 * avoided for the same reason Kafka avoids it (the CLI would read it as an option).
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function brokerProperties(opts: {
  version: string;
  port: number;
  controllerPort: number;
  logDir: string;
  extra?: Record<string, string>;
  listeners?: Array<ExtraListener & { port: number }>;
}): Record<string, string> {
  const { major } = parseKafkaVersion(opts.version);
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    // A static voter set works for both 3.9 and 4.x and needs no --standalone at format time.
    'controller.quorum.voters': `1@${HOST}:${opts.controllerPort}`,
    listeners: `PLAINTEXT://${HOST}:${opts.port},CONTROLLER://${HOST}:${opts.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${opts.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': opts.logDir,
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    // Tests create groups and expect them to settle at once, not after the default 3s delay.
    'group.initial.rebalance.delay.ms': '0',
    // The cleaner reserves this buffer up front (128 MiB by default): too much for a test JVM.
    'log.cleaner.dedupe.buffer.size': '2097152',
  };
  for (const l of opts.listeners ?? []) {
    props['listeners'] += `,${l.name}://${HOST}:${l.port}`;
    props['advertised.listeners'] += `,${l.name}://${HOST}:${l.advertisedPort ?? l.port}`;
    props['listener.security.protocol.map'] += `,${l.name}:${l.protocol}`;
  }
  if (major >= 4) {
    props['share.coordinator.state.topic.replication.factor'] = '1';
    props['share.coordinator.state.topic.min.isr'] = '1';
  }
  return { ...props, ...(opts.extra ?? {}) };
}

export function toProperties(props: Record<string, string>): string {
  // Backslashes are escapes in .properties files; paths here are POSIX so none is expected.
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\')}`)
    .join('\n');
}

/**
 * Logging for Kafka JVMs: warnings only, except the line announcing the broker is up. Both the
 * log4j2 (Kafka 4.x) and reload4j (3.9) files are written; each backend reads only its own.
 */
export async function writeLogConfigs(
  dir: string,
  opts: { stream: 'stdout' | 'stderr' },
): Promise<{ log4j2: string; log4j1: string; jvmArgs: string[] }> {
  const log4j2 = join(dir, 'log4j2.properties');
  const log4j1 = join(dir, 'log4j.properties');
  const target = opts.stream === 'stdout' ? 'SYSTEM_OUT' : 'SYSTEM_ERR';
  await writeAtomic(
    log4j2,
    [
      'status = warn',
      'appender.console.type = Console',
      'appender.console.name = CONSOLE',
      `appender.console.target = ${target}`,
      'appender.console.layout.type = PatternLayout',
      'appender.console.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = WARN',
      'rootLogger.appenderRef.console.ref = CONSOLE',
      'logger.raftserver.name = kafka.server.KafkaRaftServer',
      'logger.raftserver.level = INFO',
      '',
    ].join('\n'),
  );
  await writeAtomic(
    log4j1,
    [
      'log4j.rootLogger=WARN, console',
      'log4j.appender.console=org.apache.log4j.ConsoleAppender',
      `log4j.appender.console.Target=System.${opts.stream === 'stdout' ? 'out' : 'err'}`,
      'log4j.appender.console.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.console.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.server.KafkaRaftServer=INFO',
      '',
    ].join('\n'),
  );
  return {
    log4j2,
    log4j1,
    jvmArgs: [`-Dlog4j2.configurationFile=${log4j2}`, `-Dlog4j.configuration=file:${log4j1}`],
  };
}

/** Readers sharing the file (concurrent test processes) never see it half-written. */
async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

export const WORK_PREFIX = 'lagbot-kafka-';
export const OWNER_FILE = 'owner.pid';

/**
 * Removes work dirs of brokers whose Node owner died without cleaning up (killed by a signal).
 * The JVM itself is gone by then (pdeathsig / exit handler); only its data dir is left.
 */
export async function sweepStaleWorkDirs(): Promise<void> {
  const base = tmpdir();
  const names = await readdir(base).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(WORK_PREFIX) && !n.startsWith(`${WORK_PREFIX}tools`))
      .map(async (n) => {
        const dir = join(base, n);
        const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
        if (owner > 0) {
          if (pidAlive(owner)) return;
        } else {
          // No owner file yet: maybe another process is just creating it, so only old ones go.
          const st = await stat(dir).catch(() => null);
          if (!st || Date.now() - st.mtimeMs < 10 * 60_000) return;
        }
        await rm(dir, { recursive: true, force: true }).catch(() => {});
      }),
  );
}

export function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveP({ code, out });
    });
  });
}

/** Starts a fresh single-node KRaft broker+controller on free 127.0.0.1 ports. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaTestbed> {
  return withKafkaJars(opts, 'the broker', (ctx) => startOnce({ ...ctx, opts }));
}

export interface JarsContext {
  version: string;
  java: string;
  classpath: string;
  log: (line: string) => void;
}

/**
 * Java and the jars of the version asked for, stale work dirs swept, then `start`. A port
 * found free can be taken by another process before the JVM binds it (parallel test runs on
 * one machine), so a bind failure gets fresh ports rather than failing the run.
 */
export async function withKafkaJars<T>(
  opts: { version?: string; cacheDir?: string; log?: (line: string) => void },
  what: string,
  start: (ctx: JarsContext) => Promise<T>,
): Promise<T> {
  const version = opts.version ?? kafkaVersionFromEnv();
  const log = opts.log ?? (() => {});
  const java = javaBinary();
  if (!java) throw new Error(missingToolsMessage(['java']));
  const libs = await resolveKafkaJars(version, { cacheDir: opts.cacheDir, log });
  const classpath = join(libs, '*');
  await sweepStaleWorkDirs();
  for (let attempt = 1; ; attempt++) {
    try {
      return await start({ version, java, classpath, log });
    } catch (err) {
      if (attempt >= 3 || !/BindException|Address already in use/.test(String(err))) throw err;
      log(`Kafka ${version}: a port was taken before ${what} bound it; retrying with new ports`);
    }
  }
}

async function startOnce(args: {
  version: string;
  java: string;
  classpath: string;
  log: (line: string) => void;
  opts: StartKafkaOptions;
}): Promise<KafkaTestbed> {
  const { version, java, classpath, log, opts } = args;
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), WORK_PREFIX));
  await writeFile(join(work, OWNER_FILE), `${process.pid}\n`);
  let current: BrokerProcess | undefined;
  const onExit = () => {
    // Synchronous only: this runs inside process 'exit'.
    try {
      current?.child.kill('SIGKILL');
    } catch {
      // already gone
    }
    rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  try {
    const [port, controllerPort, ...extraPorts] = (await freePorts(2 + (opts.listeners?.length ?? 0))) as [number, number, ...number[]];
    const listeners = (opts.listeners ?? []).map((l, i) => ({ ...l, port: extraPorts[i] as number }));
    const propsFile = join(work, 'server.properties');
    await writeFile(
      propsFile,
      toProperties(
        brokerProperties({ version, port, controllerPort, logDir: join(work, 'data'), extra: opts.brokerProps, listeners }),
      ) + '\n',
    );
    const logCfg = await writeLogConfigs(work, { stream: 'stdout' });
    const toolJvm = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', ...logCfg.jvmArgs, '-cp', classpath];

    const clusterId = randomClusterId();
    const fmt = await run(
      java,
      [...toolJvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile, ...(opts.formatArgs ?? [])],
      60_000,
    );
    if (fmt.code !== 0) {
      throw new Error(`Formatting the Kafka ${version} log dir failed (exit ${fmt.code}):\n${lastLines(fmt.out, 30)}`);
    }

    const launchArgs = [
      `-Xmx${opts.heap ?? '512m'}`,
      '-XX:+UseSerialGC',
      '-Djava.awt.headless=true',
      ...logCfg.jvmArgs,
      ...(opts.jvmArgs ?? []),
      '-cp',
      classpath,
      'kafka.Kafka',
      propsFile,
    ];
    const launchOptions = { version, java, args: launchArgs, port, log, timeoutMs: opts.startTimeoutMs ?? 90_000 };
    current = await launchBroker(launchOptions);
    log(`Kafka ${version} ready on ${HOST}:${port} in ${((Date.now() - started) / 1000).toFixed(1)}s (pid ${current.child.pid})`);

    let stopping: Promise<void> | null = null;
    const bootstrap = `${HOST}:${port}`;
    const live = (): BrokerProcess => {
      if (!current) throw new Error('no Kafka broker process');
      return current;
    };
    const kill = async (): Promise<void> => {
      const proc = live();
      if (proc.state.exited === null) proc.child.kill('SIGKILL');
      await proc.exited;
    };
    return {
      bootstrap,
      brokers: [bootstrap],
      version,
      classpath,
      listeners: Object.fromEntries(listeners.map((l) => [l.name, `${HOST}:${l.port}`])),
      get pid() {
        return live().child.pid ?? -1;
      },
      get exited() {
        return live().exited;
      },
      kill,
      async restart() {
        if (stopping) throw new Error('the Kafka broker was stopped; it cannot restart');
        await kill();
        const again = Date.now();
        // Same ports, same log dir: a restart after a crash, with its log recovery.
        current = await launchBroker(launchOptions);
        log(`Kafka ${version} restarted on ${HOST}:${port} in ${((Date.now() - again) / 1000).toFixed(1)}s (pid ${current.child.pid})`);
      },
      stop() {
        stopping ??= (async () => {
          const proc = live();
          if (proc.state.exited === null) {
            proc.child.kill('SIGTERM');
            if (!(await exitsWithin(proc.exited, 10_000))) {
              log(`Kafka ${version} did not stop within 10s of SIGTERM; killing it`);
              proc.child.kill('SIGKILL');
              await proc.exited;
            }
          }
          process.off('exit', onExit);
          await rm(work, { recursive: true, force: true, maxRetries: 3 });
        })();
        return stopping;
      },
    };
  } catch (err) {
    const c = current?.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
    process.off('exit', onExit);
    await rm(work, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  }
}

export interface BrokerProcess {
  child: ChildProcess;
  state: { exited: { code: number | null; signal: string | null } | null };
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Spawns the broker JVM and waits until it serves; a JVM that fails to get there is killed. */
export async function launchBroker(o: {
  version: string;
  java: string;
  args: string[];
  port: number;
  log: (line: string) => void;
  timeoutMs: number;
}): Promise<BrokerProcess> {
  const { version, port, log } = o;
  const [cmd, ...pre] = [...pdeathsigWrapper(), o.java];
  const proc = spawn(cmd as string, [...pre, ...o.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const state = {
    sawStarted: false,
    exited: null as { code: number | null; signal: string | null } | null,
    spawnError: null as Error | null,
  };
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolveP) => {
    proc.on('exit', (code, signal) => {
      state.exited = { code, signal };
      resolveP(state.exited);
    });
  });
  proc.on('error', (err) => {
    state.spawnError = err;
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      if (STARTED_RE.test(line)) state.sawStarted = true;
      log(`[kafka ${version}] ${line}`);
    });
  }

  try {
    const deadline = Date.now() + o.timeoutMs;
    let connectableSince: number | null = null;
    for (;;) {
      if (state.spawnError) throw new Error(`Could not start java: ${state.spawnError.message}`);
      if (state.exited !== null) {
        throw new Error(
          `Kafka ${version} broker exited during startup (${state.exited.code ?? state.exited.signal}). Last output:\n${tail.join('\n')}`,
        );
      }
      if (await canConnect(port)) {
        connectableSince ??= Date.now();
        // The started line is the real signal; the fallback covers a log config that hides it.
        if (state.sawStarted || Date.now() - connectableSince > 15_000) break;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Kafka ${version} broker did not become ready on ${HOST}:${port} within ${o.timeoutMs / 1000}s. ` +
            `Last output:\n${tail.join('\n')}`,
        );
      }
      await sleep(200);
    }
  } catch (err) {
    if (state.exited === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    throw err;
  }
  return { child: proc, state, exited };
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function exitsWithin(exit: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([exit.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
