import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { repoRoot } from '../repo-root.js';

/** What `bin/lagbot` runs node with: its node flags (before the script) and its environment. */
export interface LauncherSettings {
  execArgv: string[];
  env: Record<string, string>;
}

const ENV_MARK = '--lagbot-bench-env--';

/**
 * Asks the launcher itself rather than repeating its settings here: `bin/lagbot ARGS` runs
 * with a stand-in `node` first on PATH, which prints the arguments and environment it was
 * given instead of running anything. `nodeOptions` go in as NODE_OPTIONS, so the launcher
 * leaves out what they already set, as it does for an operator.
 */
export function launcherSettings(args: readonly string[], env: Readonly<Record<string, string | undefined>>, nodeOptions: readonly string[]): LauncherSettings {
  const dir = mkdtempSync(join(tmpdir(), 'lagbot-launcher-'));
  try {
    const stub = join(dir, 'node');
    writeFileSync(stub, `#!/bin/sh\nprintf '%s\\0' "$@" '${ENV_MARK}'\nexec env -0\n`);
    chmodSync(stub, 0o755);
    const asked: Record<string, string | undefined> = { ...env, PATH: `${dir}${delimiter}${env.PATH ?? ''}` };
    if (nodeOptions.length > 0) asked.NODE_OPTIONS = [env.NODE_OPTIONS ?? '', ...nodeOptions].join(' ').trim();
    const run = spawnSync(join(repoRoot(), 'bin', 'lagbot'), [...args], { env: asked, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bin/lagbot did not run the stand-in node (${run.status ?? run.signal}): ${run.stderr}`);
    const parts = run.stdout.split('\0');
    const mark = parts.indexOf(ENV_MARK);
    const argv = parts.slice(0, mark);
    const script = argv.findIndex((a) => a.endsWith('lagbot.js'));
    if (mark < 0 || script < 0) throw new Error(`bin/lagbot ran node with neither lagbot.js nor an environment: ${JSON.stringify(argv)}`);
    const out: Record<string, string> = {};
    for (const pair of parts.slice(mark + 1)) {
      const eq = pair.indexOf('=');
      if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    // The stand-in's PATH and the NODE_OPTIONS used to ask are the question's, not the launcher's.
    if (env.PATH === undefined) delete out.PATH;
    else out.PATH = env.PATH;
    if (env.NODE_OPTIONS === undefined) delete out.NODE_OPTIONS;
    else out.NODE_OPTIONS = env.NODE_OPTIONS;
    return { execArgv: argv.slice(0, script), env: out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
