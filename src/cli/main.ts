import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { AlertingPolicy, storeName, storeTarget } from '../config/alerting.js';
import { ConfigError, loadConfig } from '../config/config.js';
import type { LagRequest } from '../core/command.js';
import { answerLag } from '../core/lag-query.js';
import { LagUnavailableError, systemClock } from '../core/ports.js';
import { openClusters, unknownClusterText } from '../app/clusters.js';
import { createLogger } from '../log/logger.js';
import { groupJson } from '../views/json.js';
import { isNamed } from '../views/text-style.js';
import { clusterListText, groupText, membersText } from '../views/terminal.js';
import { chartThresholds } from '../core/chart.js';
import { storedChart, writeChart } from './chart.js';
import { storedHistories } from './stored-history.js';
import { runCheck } from './check.js';
import { CLI_INCIDENT_USAGE, IncidentLookupError, runIncident } from './incident.js';
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
      [--chart PATH]         with GROUP: a PNG of its last hour, from the store's history
      [--cluster NAME]       one cluster only (every configured cluster by default)
  check [--samples N] [--interval SECONDS] [--json] [--cluster NAME]
                             one evaluation pass over every watched group: what would alert
                             (reads Kafka only, never Slack)
  incident list [--json] [--all | --since AGE] [--status S] [--cluster NAME] [--group GROUP]
                             open and recent incidents from the store (reads the store only)
  incident report INCIDENT_ID
                             the incident's postmortem draft, in Markdown
  --version                  the lagbot version

environment: KAFKA_BROKERS=host:port[,...], LAGBOT_CONFIG=path/to/lagbot.yaml,
             SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, SLACK_API_URL, PORT`;

export const CLI_LAG_USAGE = `usage: lagbot lag [GROUP] [--json | --members | --chart PATH] [--cluster NAME]

  lagbot lag                 every group, largest total lag first, by cluster
  lagbot lag GROUP           lag per partition with owners, members, and what the numbers suggest,
                             in every cluster that has GROUP
  lagbot lag GROUP --members the members view (kafka-consumer-groups --members --verbose)
  lagbot lag [GROUP] --json  the same as JSON (see README: a stable interface)
  lagbot lag GROUP --chart out.png
                             a chart of the group's last hour (lag, produce and consume rates,
                             threshold lines) from the history a running lagbot keeps in store.path
  --cluster NAME             read that cluster only`;

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
function lagRequestOf(args: string[]): { request: LagRequest; json: boolean; chart?: string } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        members: { type: 'boolean', default: false },
        chart: { type: 'string' },
        cluster: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
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
  if (values.cluster !== undefined && values.cluster.trim() === '') throw new UsageError('--cluster needs a cluster name', CLI_LAG_USAGE);
  if (values.chart !== undefined) {
    if (group === undefined) throw new UsageError('--chart needs a GROUP', CLI_LAG_USAGE);
    if (values.chart.trim() === '') throw new UsageError('--chart needs a file name, e.g. --chart lag.png', CLI_LAG_USAGE);
    if (values.json || values.members) throw new UsageError('--chart goes alone: not with --json or --members', CLI_LAG_USAGE);
  }
  const where = values.cluster === undefined ? {} : { cluster: values.cluster };
  const request: LagRequest = group === undefined ? { kind: 'list', ...where } : { kind: 'group', group, view: values.members ? 'members' : 'partitions', ...where };
  return { request, json: values.json, ...(values.chart !== undefined ? { chart: values.chart } : {}) };
}

async function runLag(args: string[], io: CliIo): Promise<number> {
  const asked = lagRequestOf(args);
  if (asked === 'help') {
    io.stdout(CLI_LAG_USAGE);
    return EXIT.ok;
  }
  const config = await loadConfig(io.env);
  const logger = createLogger(io.env.LOG_LEVEL ?? 'silent');
  const only = asked.request.kind === 'help' ? undefined : asked.request.cluster;
  const clusters = openClusters(config.clusters, systemClock, logger, { env: io.env, ...(only === undefined ? {} : { only }) });
  try {
    const policy = new AlertingPolicy(config, config.clusters);
    // A running lagbot's last hour, where this config's store has one: rates, findings that look
    // back, and lag in seconds read from it as in Slack.
    const histories = await storedHistories(storeTarget(config.store), systemClock.now() - policy.historyMs, clusters.sources.map((s) => s.cluster));
    const answer = await answerLag(asked.request, {
      sources: clusters.sources,
      clock: systemClock,
      history: (ref) => histories.of(ref),
      findingSettings: policy.findingSettings,
      staleness: policy.forGroup({ cluster: clusters.sources[0]?.cluster ?? '', group: '' }).rules.staleness,
      recordTimes: clusters.recordTimes,
      onRecordTimesError: (cluster, err) => io.stderr(`lagbot: record timestamps of cluster ${cluster} could not be read (${err instanceof Error ? err.message : String(err)}); lag in seconds is estimated`),
    });
    switch (answer.kind) {
      case 'list': {
        const groups = answer.clusters.flatMap((c) => c.groups);
        io.stdout(asked.json ? JSON.stringify(groups.map(groupJson), null, 2) : clusterListText(answer.clusters));
        return reportProblems(answer.unavailable, io);
      }
      case 'group': {
        // The shape depends on the question, never on the answer: one cluster read (one configured,
        // or --cluster) gives one object; several give an array, one object per cluster that has the group.
        const single = clusters.sources.length === 1 ? answer.found[0] : undefined;
        if (asked.chart !== undefined) {
          // A group in several clusters: the first configured one; --cluster picks another.
          const { lag } = answer.found[0] as (typeof answer.found)[number];
          const outcome = storedChart(histories, storeName(storeTarget(config.store)), lag, chartThresholds(policy.forGroup(lag).rules.thresholds));
          if (!outcome.ok) {
            io.stderr(`lagbot: ${outcome.reason}`);
            return EXIT.failure;
          }
          await writeChart(asked.chart, outcome.chart);
          const span = `${new Date(outcome.chart.from).toISOString().slice(11, 16)}–${new Date(outcome.chart.to).toISOString().slice(11, 16)} UTC`;
          io.stdout(`wrote a chart of ${lag.group}${isNamed(lag.cluster) ? ` on ${lag.cluster}` : ''} (${outcome.chart.points.length} samples, ${span}) to ${asked.chart}`);
          return reportProblems(answer.unavailable, io);
        }
        if (asked.json) io.stdout(JSON.stringify(single ? groupJson(single.lag) : answer.found.map((f) => groupJson(f.lag)), null, 2));
        else io.stdout(answer.found.map((f) => (answer.view === 'members' ? membersText(f.lag) : groupText(f.lag, f.findings, f.rates))).join('\n\n'));
        return reportProblems(answer.unavailable, io);
      }
      case 'unknown-group': {
        const { group, suggestions, searched } = answer;
        const where = searched.length > 1 || answer.unavailable.length > 0 ? ` in ${searched.join(', ') || 'any reachable cluster'}` : '';
        io.stderr(`lagbot: no such group "${group}"${where}${suggestions.length ? ` (did you mean ${suggestions.join(', ')}?)` : ''}`);
        reportProblems(answer.unavailable, io);
        return EXIT.failure;
      }
      case 'unknown-cluster':
        throw new UsageError(unknownClusterText(answer.cluster, answer.known), CLI_LAG_USAGE);
      case 'unavailable':
        return reportProblems(answer.problems, io);
      case 'help':
        io.stdout(CLI_LAG_USAGE);
        return EXIT.ok;
    }
  } finally {
    await clusters.stop();
  }
}

/** Clusters that could not be read, one line each on stderr; any makes the exit code a failure. */
function reportProblems(problems: ReadonlyArray<{ cluster: string; detail: string }>, io: CliIo): number {
  for (const p of problems) io.stderr(`lagbot: ${isNamed(p.cluster) ? `${p.cluster}: ` : ''}${p.detail}`);
  return problems.length > 0 ? EXIT.failure : EXIT.ok;
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
      case 'incident':
        return await runIncident(rest, io, (m) => new UsageError(m, CLI_INCIDENT_USAGE));
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
    if (error instanceof IncidentLookupError) {
      io.stderr(`lagbot: ${error.message}`);
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
