import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLagbot, type LagbotDeps, type RunningLagbot } from '../../src/app/lagbot.js';
import { parseConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/ports.js';
import { createLogger } from '../../src/log/logger.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';
import { eventually, testbed } from './kafka.js';

export const ALERTS = 'C0ALERTS';
export const SECRET = 'incident-test-signing-secret';

/**
 * A configuration for fast incidents: checks every second, thresholds and windows
 * scaled down from the case study's so a whole incident plays in seconds.
 */
export function fastIncidentYaml(
  group: string,
  storePath: string,
  extra = '',
  options: { resolveAfterMinutes?: number; degradedAfterFailures?: number; slack?: string } = {},
): string {
  return `
check:
  schedule: "* * * * * *"
  rateWindowMinutes: 0.05
  degradedAfterFailures: ${options.degradedAfterFailures ?? 2}
watch:
  include: [${JSON.stringify(group)}]
alerting:
  channel: ${ALERTS}
  oncall: [S0ONCALL]
  renotifyMinutes: 60
  resolveAfterMinutes: ${options.resolveAfterMinutes ?? 0.05}
  deescalateAfterMinutes: 0.02
  rootRefreshSeconds: 1
thresholds:
  warning: { lag: 200, growingForMinutes: 0.03 }
  critical: { lag: 1000, doublingWithinMinutes: 0.01 }
  page: { lag: 3000 }
store:
  path: ${JSON.stringify(storePath)}
slack:
  postIntervalMs: 20
${options.slack ?? ''}
${extra}`;
}

export async function tempStorePath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'lagbot-store-')), 'lagbot.db');
}

export interface IncidentRig {
  slack: SlackStandin;
  lagbot: RunningLagbot;
  stop(): Promise<void>;
}

/**
 * lagbot in-process (the same composition `lagbot start` runs) against a Slack stand-in.
 * `deps.schedule: false` leaves the checks (and a standby's follows) to the test.
 */
export async function startIncidentRig(yaml: string, slack?: SlackStandin, deps: Pick<LagbotDeps, 'schedule'> = {}): Promise<IncidentRig> {
  const standin = slack ?? (await startSlackStandin({ signingSecret: SECRET }));
  const config = parseConfig(yaml, {
    // A YAML that lists its clusters names their brokers itself.
    ...(/^clusters:/m.test(yaml) ? {} : { KAFKA_BROKERS: testbed().bootstrap }),
    SLACK_BOT_TOKEN: standin.botToken,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: standin.apiUrl,
    PORT: '0',
  });
  const lagbot = await startLagbot({ ...config, http: { ...config.http, host: '127.0.0.1' } }, { clock: systemClock, logger: createLogger('silent'), ...deps });
  standin.setEventsUrl(`http://127.0.0.1:${lagbot.port}/slack/events`);
  return {
    slack: standin,
    lagbot,
    stop: async () => {
      await lagbot.stop();
      if (!slack) await standin.stop();
    },
  };
}

export interface LagbotProcess {
  port: number;
  child: ChildProcess;
  output: () => string;
  /** kill -9: no shutdown code runs. */
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  signingSecret?: string;
  /** KAFKA_BROKERS; the shared test broker by default. */
  brokers?: string;
  /** Ready once /healthz answers 200 (the default), or once it answers at all: a lagbot started while Kafka is down is up but unhealthy. */
  ready?: 'healthy' | 'listening';
  /** More environment, such as PGPASSWORD for a store on PostgreSQL. */
  env?: Record<string, string>;
}

/**
 * `lagbot start` as a separate process (the built bin), configured by a YAML file, or
 * by the environment alone when `yaml` is null. It runs in a fresh folder, where the
 * default ./lagbot.db lands.
 */
export async function spawnLagbot(yaml: string | null, slack: SlackStandin, options: SpawnOptions = {}): Promise<LagbotProcess> {
  const signingSecret = options.signingSecret ?? SECRET;
  const dir = await mkdtemp(join(tmpdir(), 'lagbot-proc-'));
  if (yaml !== null) await writeFile(join(dir, 'lagbot.yaml'), yaml);
  const [port] = (await freePorts(1)) as [number];
  const child = spawn(process.execPath, [new URL('../../bin/lagbot.js', import.meta.url).pathname, 'start'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      ...(yaml !== null ? { LAGBOT_CONFIG: join(dir, 'lagbot.yaml') } : {}),
      KAFKA_BROKERS: options.brokers ?? testbed().bootstrap,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const up = async (): Promise<boolean> => {
    if (child.exitCode !== null) return false;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    return options.ready === 'listening' || health.ok;
  };
  await eventually(up, `lagbot on port ${port}`, 30_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${output}`);
  });
  slack.setEventsUrl(`http://127.0.0.1:${port}/slack/events`);
  const exited = once(child, 'exit') as Promise<[number | null]>;
  return {
    port,
    child,
    output: () => output,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}
