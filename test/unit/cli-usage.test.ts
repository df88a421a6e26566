import { describe, expect, it } from 'vitest';
import { EXIT, CLI_LAG_USAGE, main, type CliIo } from '../../src/cli/main.js';

/** What the CLI says before it reads any configuration or talks to Kafka. */
async function lagbot(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {} };
  const code = await main(args, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('lagbot usage', () => {
  it('lagbot lag --help and -h print the lag usage, not an "Unknown option" error', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await lagbot(['lag', flag]);
      expect(code).toBe(EXIT.ok);
      expect(stdout).toBe(CLI_LAG_USAGE);
      expect(stderr).toBe('');
    }
  });

  it('has --version', async () => {
    const { code, stdout } = await lagbot(['--version']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('calls an empty group name a usage error, not "no such group"', async () => {
    const { code, stderr } = await lagbot(['lag', '']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('the group name is empty');
    expect(stderr).toContain('usage: lagbot lag');
  });

  it('refuses --json with --members instead of ignoring --members', async () => {
    const { code, stderr } = await lagbot(['lag', 'g', '--json', '--members']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('--members and --json do not go together');
  });

  it('names an unknown lag option and shows the lag usage', async () => {
    const { code, stderr } = await lagbot(['lag', '--jsn']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain("Unknown option '--jsn'");
    expect(stderr).toContain('usage: lagbot lag');
  });
});

describe('cluster settings that cannot work', () => {
  it('a missing TLS file is bad configuration (exit 2), named by cluster and key, before anything connects', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'lagbot-cli-'));
    const missing = join(dir, 'no-such-ca.pem');
    await writeFile(join(dir, 'lagbot.yaml'), `clusters:\n  - name: prod-eu\n    brokers: [127.0.0.1:1]\n    ssl: { ca: ${JSON.stringify(missing)} }\n`);
    for (const command of [['lag'], ['check']]) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(command, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { LAGBOT_CONFIG: join(dir, 'lagbot.yaml') } });
      expect(code).toBe(EXIT.usage);
      expect(err.join('\n')).toBe(`lagbot: configuration error: cluster prod-eu: ssl.ca ${missing} cannot be read (ENOENT)`);
    }
  });

  it('an unknown --cluster lists the known ones', async () => {
    const { code, stderr } = await (async () => {
      const err: string[] = [];
      const c = await main(['check', '--cluster', 'prod-us'], { stdout: () => undefined, stderr: (t) => err.push(t), env: { KAFKA_BROKERS: '127.0.0.1:1' } });
      return { code: c, stderr: err.join('\n') };
    })();
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('no cluster named "prod-us"; known clusters: default');
  });
});
