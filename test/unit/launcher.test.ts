import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const launcher = new URL('../../bin/lagbot', import.meta.url).pathname;
const script = new URL('../../bin/lagbot.js', import.meta.url).pathname;

// A stand-in `node` first on PATH prints what the launcher ran it with instead of running lagbot.
const dir = mkdtempSync(join(tmpdir(), 'lagbot-launcher-test-'));
writeFileSync(join(dir, 'node'), '#!/bin/sh\nprintf "%s\\n" "TUNABLES=${GLIBC_TUNABLES-}" "$@"\n');
chmodSync(join(dir, 'node'), 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function launch(args: string[], env: Record<string, string> = {}, path = launcher): { tunables: string; argv: string[] } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['GLIBC_TUNABLES', 'MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'NODE_OPTIONS'].includes(k)));
  const run = spawnSync(path, args, { env: { ...clean, ...env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` }, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const [first, ...argv] = run.stdout.trimEnd().split('\n');
  return { tunables: (first as string).slice('TUNABLES='.length), argv };
}

describe('bin/lagbot, the launcher', () => {
  it('runs bin/lagbot.js with the arguments, glibc tunables and, for start, a smaller young generation', () => {
    expect(launch(['start'])).toEqual({
      tunables: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072',
      argv: ['--max-semi-space-size=8', script, 'start'],
    });
    expect(launch(['lag', 'orders', '--json']).argv).toEqual([script, 'lag', 'orders', '--json']);
  });

  it('leaves each setting the operator made alone, theirs winning', () => {
    expect(launch(['start'], { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' }).tunables).toBe('glibc.malloc.mmap_threshold=65536:glibc.malloc.arena_max=2');
    expect(launch(['start'], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=8:glibc.malloc.tcache_count=0' }).tunables).toBe(
      'glibc.malloc.arena_max=8:glibc.malloc.tcache_count=0:glibc.malloc.mmap_threshold=131072',
    );
    expect(launch(['start'], { MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '262144' }).tunables).toBe('');
    expect(launch(['start'], { NODE_OPTIONS: '--max-old-space-size=300 --max-semi-space-size=16' }).argv).toEqual([script, 'start']);
    expect(launch(['start'], { NODE_OPTIONS: '--max-old-space-size=300' }).argv).toEqual(['--max-semi-space-size=8', script, 'start']);
  });

  it('finds bin/lagbot.js through the symbolic link npm installs', () => {
    const bin = join(dir, '.bin');
    spawnSync('mkdir', ['-p', bin]);
    symlinkSync(launcher, join(bin, 'lagbot'));
    const { argv } = launch(['--version'], {}, join(bin, 'lagbot'));
    expect(argv).toEqual([script, '--version']);
  });
});
