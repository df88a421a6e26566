import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupLagJson } from '../../src/views/json.js';
import { createTopic, kafkaClient, produce, testbed, uniqueName } from '../support/kafka.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Resolves on any exit code, so a failing child's output can be the assertion message. */
function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

// tsc reports errors on stdout, npm on stderr: a failure needs both to be read.
const transcript = (r: Run) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

function defined(names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (process.env[n] === undefined ? [] : [[n, process.env[n]]])));
}

// Only what a user's shell would have: nothing from the repo or from vitest may leak in.
// HOME brings ~/.npmrc and the npm cache; the network settings let npm reach the registry.
const userEnv = defined(['PATH', 'HOME']);
const npmEnv = {
  ...userEnv,
  ...defined(['NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']),
};

describe('the npm tarball, installed into an empty folder', () => {
  let packDir: string;
  let appDir: string;
  let packed: { filename: string; files: Array<{ path: string }> };
  let admin: Admin | undefined;
  const topic = uniqueName('pack-events');
  const group = uniqueName('pack-consumer');

  beforeAll(async () => {
    packDir = await mkdtemp(join(tmpdir(), 'lagbot-pack-'));
    appDir = await mkdtemp(join(tmpdir(), 'lagbot-app-'));

    // `prepare` builds dist/ first; its output goes to stderr, so stdout stays pure JSON.
    const pack = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: repoRoot, env: process.env, timeout: 180_000 });
    expect(pack.code, `npm pack: ${transcript(pack)}`).toBe(0);
    [packed] = JSON.parse(pack.stdout) as [typeof packed];

    // A package.json of its own stops npm from walking up to some enclosing project.
    await writeFile(join(appDir, 'package.json'), `${JSON.stringify({ name: 'lagbot-pack-test', version: '1.0.0', private: true }, null, 2)}\n`);
    // better-sqlite3 may have no prebuilt binary for this platform and compile from source.
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packDir, packed.filename)],
      { cwd: appDir, env: npmEnv, timeout: 540_000 },
    );
    expect(install.code, `npm install: ${transcript(install)}`).toBe(0);

    const kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 2);
    await produce(kafka, topic, [10, 7]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '5' }] });
  }, 600_000);

  afterAll(async () => {
    await admin?.disconnect();
    await Promise.all([packDir, appDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const lagbot = (args: string[], env: Record<string, string> = {}) =>
    run(join(appDir, 'node_modules', '.bin', 'lagbot'), args, { cwd: appDir, env: { ...userEnv, ...env }, timeout: 60_000 });

  it('ships the CLI and its compiled code, none of the repo tooling or build state', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('bin/lagbot');
    expect(paths).toContain('bin/lagbot.js');
    expect(paths).toContain('dist/cli/main.js');
    expect(paths.filter((p) => /^(tools|test|src|build)\//.test(p))).toEqual([]);
    expect(paths).not.toContain('dist/.tsbuildinfo');
  });

  it('lagbot --help prints the usage', async () => {
    const help = await lagbot(['--help']);
    expect(help.code, transcript(help)).toBe(0);
    expect(help.stdout).toContain('usage: lagbot');
    expect(help.stdout).toMatch(/^\s+lag \[GROUP\]/m);
  });

  it('lagbot lag --json reads the broker with the installed dependencies', async () => {
    const lag = await lagbot(['lag', '--json'], { KAFKA_BROKERS: testbed().bootstrap });
    expect(lag.code, transcript(lag)).toBe(0);
    const groups = JSON.parse(lag.stdout) as GroupLagJson[];
    expect(Array.isArray(groups)).toBe(true);
    // The broker is shared with the other test files, so their groups are listed too.
    expect(groups.find((g) => g.group === group)).toMatchObject({ group, totalLag: 10 - 3 + (7 - 5) });
  }, 120_000);

  it('installs a working SQLite store (the native module lagbot start needs)', async () => {
    const probe = await run(process.execPath, ['-e', "const D = require('better-sqlite3'); const db = new D(':memory:'); console.log(db.prepare('select 1 + 1 as n').get().n)"], {
      cwd: appDir,
      env: userEnv,
      timeout: 60_000,
    });
    expect(probe.code, transcript(probe)).toBe(0);
    expect(probe.stdout.trim()).toBe('2');
  });
});
