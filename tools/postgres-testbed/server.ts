import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePorts } from '../kafka-testbed/broker.js';

/**
 * A real PostgreSQL server for the tests: initdb in a temp dir, started on a free 127.0.0.1
 * port, stopped and removed after. The binaries are Debian's `postgresql` package (under
 * /usr/lib/postgresql/VERSION/bin), or wherever LAGBOT_POSTGRES_BIN points. The server runs
 * as `postgres` when the tests run as root, since PostgreSQL refuses to run as root.
 *
 * The superuser has a password (scram-sha-256, as a production server would have), which
 * lagbot and the tests read from PGPASSWORD like any libpq client.
 */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The server's major version, e.g. 15. */
  version: number;
  /** A postgres:// URL of a database on this server (no password in it). */
  urlOf(database: string): string;
  /** Creates an empty database and answers its URL. */
  createDatabase(name?: string): Promise<string>;
  /** The process id of the server (the postmaster): tests may signal it. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const USER = 'lagbot';
const READY_TIMEOUT_MS = 30_000;

/** Where initdb and postgres are: LAGBOT_POSTGRES_BIN, else the newest Debian install. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['LAGBOT_POSTGRES_BIN']?.trim();
  if (configured) {
    if (!existsSync(join(configured, 'postgres'))) throw new Error(`LAGBOT_POSTGRES_BIN=${configured} has no postgres binary`);
    return configured;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error('PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql) or set LAGBOT_POSTGRES_BIN to the directory holding initdb and postgres');
  }
  return join(root, versions[0], 'bin');
}

/** uid/gid to run the server as: ours, unless we are root. */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) throw new Error('running as root, and there is no postgres user to run PostgreSQL as (Debian\'s postgresql package creates it)');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(options: { log?: (line: string) => void } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const runAs = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'lagbot-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(dir, runAs.uid, runAs.gid);
    chownSync(pwfile, runAs.uid, runAs.gid);
  }
  const asServer = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};

  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync'], {
    encoding: 'utf8',
    cwd: dir,
    ...asServer,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${(init.stderr || init.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  }
  const version = Number(/(\d+)/.exec(spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 0);

  const [port] = (await freePorts(1)) as [number];
  // Durability settings off: this server holds test data only, and the tests run faster.
  const child: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-c', `listen_addresses=${HOST}`, '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...asServer },
  );
  const tail: string[] = [];
  const onLine = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      options.log?.(line);
    }
  };
  child.stdout?.on('data', onLine);
  child.stderr?.on('data', onLine);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  let running = true;
  void exited.then(() => (running = false));

  const urlOf = (database: string) => `postgres://${USER}@${HOST}:${port}/${database}`;
  const admin = () => new pg.Client({ host: HOST, port, user: USER, password, database: 'postgres' });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!running) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL exited during start: ${tail.slice(-5).join(' | ')}`);
    }
    const client = admin();
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${tail.slice(-5).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  let created = 0;
  let stopped: Promise<void> | undefined;
  return {
    host: HOST,
    port,
    user: USER,
    password,
    version,
    urlOf,
    get pid() {
      return child.pid;
    },
    async createDatabase(name = `lagbot_test_${process.pid}_${++created}_${randomBytes(3).toString('hex')}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = admin();
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    stop() {
      stopped ??= (async () => {
        if (running) {
          // SIGINT is PostgreSQL's fast shutdown: sessions are cut, nothing waits for clients.
          child.kill('SIGINT');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
