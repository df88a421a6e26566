import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { AlertingPolicy } from '../config/alerting.js';
import { ConfigError, loadConfig } from '../config/config.js';
import type { LagRequest } from '../core/command.js';
import { answerLag } from '../core/lag-query.js';
import { LagUnavailableError, systemClock } from '../core/ports.js';
import { createKafkaLag } from '../kafka/connect.js';
import { createLogger } from '../log/logger.js';
import { groupJson } from '../views/json.js';
import { groupText, listText, membersText } from '../views/terminal.js';
import { runCheck } from './check.js';
import { runStart } from './start.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
};

export const USAGE = `usage: lagbot <command> [options]

commands:
  start                      run the Slack bot (HTTP or Socket Mode, see README)
  lag [GROUP] [--json]       lag per partition and members of GROUP; without GROUP, every group
      [--members]            with GROUP: the member view only
  check [--samples N] [--interval SECONDS] [--json]
                             one evaluation pass over every watched group: what would alert
                             (reads Kafka only, never Slack)
  --version                  the lagbot version

environment: KAFKA_BROKERS=host:port[,...], LAGBOT_CONFIG=path/to/lagbot.yaml,
             SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, SLACK_API_URL, PORT`;

export const CLI_LAG_USAGE = `usage: lagbot lag [GROUP] [--json | --members]

  lagbot lag                 every group, largest total lag first
  lagbot lag GROUP           lag per partition with owners, members, and what the numbers suggest
  lagbot lag GROUP --members the members view (kafka-consumer-groups --members --verbose)
  lagbot lag [GROUP] --json  the same as JSON (see README: a stable interface)`;

/** Exit codes: 0 ok, 1 Kafka or runtime failure, 2 bad input or configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string = USAGE,
  ) {
    super(message);
  }
}

function version(): string {
  // dist/cli/main.js and src/cli/main.ts both sit two folders below package.json.
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return pkg.version;
}

/** `lagbot lag` arguments as a lag request, or a usage error that says what is wrong. */
function lagRequestOf(args: string[]): { request: LagRequest; json: boolean } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, members: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message, CLI_LAG_USAGE);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`lagbot lag takes at most one group, got: ${positionals.join(' ')}`, CLI_LAG_USAGE);
  const group = positionals[0];
  if (group !== undefined && group.trim() === '') throw new UsageError('the group name is empty', CLI_LAG_USAGE);
  if (values.members && group === undefined) throw new UsageError('--members needs a GROUP', CLI_LAG_USAGE);
  if (values.members && values.json) throw new UsageError('--members and --json do not go together: the JSON already holds the members', CLI_LAG_USAGE);
  const request: LagRequest = group === undefined ? { kind: 'list' } : { kind: 'group', group, view: values.members ? 'members' : 'partitions' };
  return { request, json: values.json };
}

async function runLag(args: string[], io: CliIo): Promise<number> {
  const asked = lagRequestOf(args);
  if (asked === 'help') {
    io.stdout(CLI_LAG_USAGE);
    return EXIT.ok;
  }
  const config = await loadConfig(io.env);
  const logger = createLogger(io.env.LOG_LEVEL ?? 'silent');
  const kafka = createKafkaLag(config.clusters[0]!, systemClock, logger);
  try {
    const answer = await answerLag(asked.request, { source: kafka.reader, clock: systemClock, findingSettings: new AlertingPolicy(config).findingSettings });
    switch (answer.kind) {
      case 'list':
        io.stdout(asked.json ? JSON.stringify(answer.groups.map(groupJson), null, 2) : listText(answer.listings));
        return EXIT.ok;
      case 'group':
        if (asked.json) io.stdout(JSON.stringify(groupJson(answer.lag), null, 2));
        else io.stdout(answer.view === 'members' ? membersText(answer.lag) : groupText(answer.lag, answer.findings));
        return EXIT.ok;
      case 'unknown-group': {
        const { group, suggestions } = answer;
        io.stderr(`lagbot: no such group "${group}"${suggestions.length ? ` (did you mean ${suggestions.join(', ')}?)` : ''}`);
        return EXIT.failure;
      }
      case 'unavailable':
        io.stderr(`lagbot: ${answer.detail}`);
        return EXIT.failure;
      case 'help':
        io.stdout(CLI_LAG_USAGE);
        return EXIT.ok;
    }
  } finally {
    await kafka.stop();
  }
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'lag':
        return await runLag(rest, io);
      case 'start':
        return await runStart(io.env);
      case 'check':
        return await runCheck(rest, io, (m) => new UsageError(m));
      case '--version':
      case '-v':
      case 'version':
        io.stdout(version());
        return EXIT.ok;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`lagbot: ${error.message}\n\n${error.usage}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.stderr(`lagbot: configuration error: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof LagUnavailableError) {
      io.stderr(`lagbot: ${error.message}`);
      return EXIT.failure;
    }
    io.stderr(`lagbot: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failure;
  }
}
