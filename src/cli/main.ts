import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { systemClock } from '../core/protocol.js';
import { closestNames } from '../core/suggest.js';
import { createKafkaLag } from '../kafka/connect.js';
import { KafkaUnavailableError } from '../kafka/errors.js';
import { createLogger } from '../log/logger.js';
import { groupJson } from '../views/json.js';
import { groupText, listText, membersText } from '../views/terminal.js';
import { listingOf, sortListings } from '../core/lag.js';
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

environment: KAFKA_BROKERS=host:port[,...], LAGBOT_CONFIG=path/to/lagbot.yaml,
             SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, SLACK_API_URL, PORT`;

/** Exit codes: 0 ok, 1 Kafka or runtime failure, 2 bad input or configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

class UsageError extends Error {}

async function runLag(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, members: { type: 'boolean', default: false } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length > 1) throw new UsageError(`lagbot lag takes at most one group, got: ${parsed.positionals.join(' ')}`);
  const group = parsed.positionals[0];
  if (parsed.values.members && group === undefined) throw new UsageError('--members needs a GROUP');

  const config = await loadConfig(io.env);
  const logger = createLogger(io.env.LOG_LEVEL ?? 'silent');
  const kafka = createKafkaLag(config.kafka, systemClock, logger);
  try {
    if (group === undefined) {
      const groups = await kafka.reader.readAllGroups();
      if (parsed.values.json) io.stdout(JSON.stringify(groups.map(groupJson), null, 2));
      else io.stdout(listText(sortListings(groups.map(listingOf))));
      return EXIT.ok;
    }
    const lag = await kafka.reader.readGroup(group);
    if (!lag) {
      const suggestions = closestNames(group, await kafka.reader.listGroupNames());
      io.stderr(`lagbot: no such group "${group}"${suggestions.length ? ` (did you mean ${suggestions.join(', ')}?)` : ''}`);
      return EXIT.failure;
    }
    if (parsed.values.json) io.stdout(JSON.stringify(groupJson(lag), null, 2));
    else io.stdout(parsed.values.members ? membersText(lag) : groupText(lag));
    return EXIT.ok;
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
      io.stderr(`lagbot: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.stderr(`lagbot: configuration error: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof KafkaUnavailableError) {
      io.stderr(`lagbot: ${error.message}`);
      return EXIT.failure;
    }
    io.stderr(`lagbot: ${(error as Error).message ?? String(error)}`);
    return EXIT.failure;
  }
}
