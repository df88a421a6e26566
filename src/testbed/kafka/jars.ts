import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Kafka version the test bed runs when nothing else is asked for: the newest patch release of
 * the 4.1 line. CI also runs the lag tests with LAGBOT_KAFKA_VERSION=3.9.x, the last 3.x line.
 */
export const DEFAULT_KAFKA_VERSION = '4.1.2';

/** Pinned: without a version Maven 3.8 falls back to its own, much older, default of the plugin. */
export const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const MARKER = '.complete';
// mvn on a cold ~/.m2 pulls ~100 jars; a lock held longer than this is from a process that hung.
const LOCK_STALE_MS = 20 * 60_000;
const LOCK_WAIT_MS = 25 * 60_000;

export interface ResolveJarsOptions {
  cacheDir?: string;
  log?: (line: string) => void;
}

export function kafkaVersionFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const v = env['LAGBOT_KAFKA_VERSION']?.trim();
  return v ? v : DEFAULT_KAFKA_VERSION;
}

/** Major/minor of a Kafka version string such as "4.1.2" or "3.9.1". */
export function parseKafkaVersion(version: string): { major: number; minor: number } {
  // Strict on purpose: the version becomes a folder name under the cache dir.
  const m = /^(\d+)\.(\d+)(?:\.\d+)?(?:-[A-Za-z0-9.]+)?$/.exec(version.trim());
  if (!m) throw new Error(`Not a Kafka version: "${version}" (expected something like 4.1.2 or 3.9.1)`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Walks up from this module to the folder holding package.json, so src/ and dist/ agree. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function defaultCacheDir(): string {
  return join(repoRoot(), '.cache', 'kafka');
}

function onPath(cmd: string): string | null {
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not in this PATH entry
    }
  }
  return null;
}

/** The java binary to run: JAVA_HOME wins, as it does for mvn, so both use the same JDK. */
export function javaBinary(): string | null {
  const home = process.env['JAVA_HOME'];
  if (home) {
    const p = join(home, 'bin', 'java');
    if (existsSync(p)) return p;
  }
  return onPath('java');
}

/**
 * Names of the tools missing for a local broker: "java" and/or "mvn". Empty when all is there.
 * Kept separate from the error so callers holding KAFKA_BROKERS can degrade instead of failing.
 */
export function missingTools(opts: { needMaven?: boolean } = {}): string[] {
  const missing: string[] = [];
  if (!javaBinary()) missing.push('java');
  if (opts.needMaven !== false && !onPath('mvn')) missing.push('mvn');
  return missing;
}

export function missingToolsMessage(missing: string[]): string {
  const what = missing.map((m) => (m === 'java' ? 'java (not on PATH, JAVA_HOME unset or wrong)' : 'mvn (not on PATH)'));
  return (
    `Cannot run a local Kafka test broker: missing ${what.join(' and ')}. ` +
    'Install Java 17+ and Maven 3.8+ (e.g. `apt-get install openjdk-17-jdk-headless maven`), ' +
    'or set KAFKA_BROKERS=host:port to use an existing cluster.'
  );
}

function log4jVersionFor(version: string): string {
  const { major, minor } = parseKafkaVersion(version);
  // 4.0 and 4.1 were built against 2.24.3; 4.2+ moved to 2.25.x (4.4 brings 2.25.5 itself).
  return major === 4 && minor <= 1 ? '2.24.3' : '2.25.5';
}

/** The throwaway POM whose runtime closure is the broker plus Kafka's CLI tools. */
export function kafkaPom(version: string): string {
  const { major } = parseKafkaVersion(version);
  const dep = (g: string, a: string, v: string) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  const deps = [dep('org.apache.kafka', 'kafka_2.13', version), dep('org.apache.kafka', 'kafka-tools', version)];
  if (major >= 4) {
    // Kafka 4 publishes no SLF4J binding. Its slf4j-api is still 1.7.x, which only binds through
    // log4j-slf4j-impl (the slf4j2 variant would be silently ignored -> NOP logger, no output).
    // Declared after Kafka so Kafka's slf4j-api version wins the nearest-first tie.
    const l4j = log4jVersionFor(version);
    deps.push(
      dep('org.apache.logging.log4j', 'log4j-slf4j-impl', l4j),
      dep('org.apache.logging.log4j', 'log4j-core', l4j),
      dep('org.apache.logging.log4j', 'log4j-api', l4j),
    );
  }
  // 3.9.x needs nothing more: kafka-tools 3.9 brings slf4j-reload4j + reload4j.
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by lagbot's test bed (src/testbed/kafka/jars.ts); safe to delete. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lagbot.testbed</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${deps.join('\n')}
  </dependencies>
</project>
`;
}

/**
 * Returns a folder with every runtime jar of Apache Kafka `version` (broker + CLI tools), downloading
 * them through Maven on first use. The result is usable as `-cp '<folder>/*'`.
 */
export async function resolveKafkaJars(rawVersion: string, opts: ResolveJarsOptions = {}): Promise<string> {
  const version = rawVersion.trim();
  parseKafkaVersion(version);
  const log = opts.log ?? (() => {});
  const dir = resolve(opts.cacheDir ?? defaultCacheDir(), version);
  const libs = join(dir, 'libs');
  if (await isComplete(dir)) return libs;

  const missing = missingTools();
  if (missing.length > 0) throw new Error(missingToolsMessage(missing));

  await mkdir(dir, { recursive: true });
  const release = await acquireLock(join(dir, '.lock'), log);
  try {
    // Another process may have finished while we waited for the lock.
    if (await isComplete(dir)) return libs;
    const started = Date.now();
    log(`Downloading Apache Kafka ${version} jars with Maven into ${libs} (first run only)...`);
    // Staging folders left by a killed downloader; holding the lock, nobody else writes them.
    for (const f of await readdir(dir)) {
      if (f.startsWith('libs.tmp-')) await rm(join(dir, f), { recursive: true, force: true });
    }
    const pom = join(dir, 'pom.xml');
    await writeFile(pom, kafkaPom(version));
    // A unique staging folder, renamed into place only when complete, so a reader never sees
    // a half-copied libs/ and a crash leaves nothing that looks finished.
    const staging = join(dir, `libs.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await runMaven(
        [
          '-q',
          '-B',
          // Retry artifacts whose absence Maven cached from an earlier failed attempt.
          '-U',
          '-f',
          pom,
          `${DEPENDENCY_PLUGIN}:copy-dependencies`,
          '-DincludeScope=runtime',
          `-DoutputDirectory=${staging}`,
        ],
        version,
      );
      const jars = (await readdir(staging)).filter((f) => f.endsWith('.jar'));
      if (!jars.some((j) => j.startsWith('kafka_2.13-')) || !jars.some((j) => j.startsWith('kafka-tools-'))) {
        throw new Error(`Maven finished but ${staging} lacks the Kafka jars (${jars.length} jars copied)`);
      }
      if (existsSync(libs)) await rm(libs, { recursive: true, force: true });
      await rename(staging, libs);
      await writeFile(
        join(dir, MARKER),
        JSON.stringify({ version, jars: jars.length, at: new Date().toISOString() }) + '\n',
      );
      log(`Kafka ${version}: ${jars.length} jars ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return libs;
  } finally {
    await release();
  }
}

/** True when `version`'s jars are already downloaded, so Maven is not needed to use them. */
export function kafkaJarsCached(version: string, cacheDir?: string): Promise<boolean> {
  return isComplete(resolve(cacheDir ?? defaultCacheDir(), version));
}

async function isComplete(dir: string): Promise<boolean> {
  try {
    await stat(join(dir, MARKER));
    return (await stat(join(dir, 'libs'))).isDirectory();
  } catch {
    return false;
  }
}

let setprivPath: string | null | undefined;
/**
 * On Linux, `setpriv --pdeathsig KILL` makes the kernel kill a child JVM (broker, mvn) if this
 * Node process dies by a signal that skips 'exit' handlers (SIGKILL, an unhandled SIGTERM).
 */
export function pdeathsigWrapper(): string[] {
  if (setprivPath === undefined) {
    setprivPath = null;
    if (process.platform === 'linux') {
      for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) if (existsSync(p)) setprivPath = p;
    }
  }
  return setprivPath ? [setprivPath, '--pdeathsig', 'KILL'] : [];
}

function runMaven(args: string[], version: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const [cmd, ...pre] = [...pdeathsigWrapper(), 'mvn'];
    const child = spawn(cmd as string, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (b: Buffer) => {
      out += b.toString();
      if (out.length > 64_000) out = out.slice(-32_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new Error(`Could not run mvn: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolvePromise();
      // Keep Maven's real complaint, not its boilerplate pointers to -e/-X and wiki pages.
      const lines = out
        // eslint-disable-next-line no-control-regex
        .replace(/\x1b\[[0-9;]*m/g, '')
        .split('\n')
        .map((l) => l.trimEnd())
        .filter((l) => l !== '' && l !== '[ERROR]' && !/^\[ERROR\] (\[Help \d|To see the full|Re-run Maven|For more information)/.test(l));
      const tail = lines.slice(-30).join('\n');
      reject(
        new Error(
          `mvn could not fetch Apache Kafka ${version} (exit ${code ?? signal}). ` +
            `Is ${version} a released version and Maven Central reachable?\n${tail}`,
        ),
      );
    });
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireLock(path: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${token}\n`);
      await fh.close();
      return async () => {
        // Only remove the lock if it is still ours (a waiter may have judged it stale).
        const now = await readFile(path, 'utf8').catch(() => '');
        if (now.trim() === token) await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const [content, st] = await Promise.all([
      readFile(path, 'utf8').catch(() => ''),
      stat(path).catch(() => null),
    ]);
    const holder = Number(content.split(' ')[0]);
    const stale =
      st !== null &&
      ((Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) || Date.now() - st.mtimeMs > LOCK_STALE_MS);
    if (stale) {
      await unlink(path).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${path} (held by pid ${content.trim() || '?'}); delete it if stale`);
    }
    if (!told) {
      log(`Waiting for another process (pid ${holder || '?'}) to finish downloading Kafka jars...`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
