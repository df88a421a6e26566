import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { appTokenProblem } from '../slack/tokens.js';
import { allAccessProblems } from './access.js';
import { AlertingSchema, clusterRuleProblems, escalationProblems, thresholdProblems, type AlertingConfig } from './alerting.js';
import { ClusterSchema, KafkaSchema, KafkaShape, resolveCluster, type ClusterConfig } from './clusters.js';
import { DEFAULT_CLUSTER } from '../core/protocol.js';

/**
 * lagbot's configuration: one YAML file (LAGBOT_CONFIG) for settings, environment
 * variables for secrets and for the few settings people pass on the command line.
 * Validation happens here, before anything connects, so a typo stops lagbot at start.
 */

const SlackSchema = z.strictObject({
  /** `http` (Events API over HTTP, needs the signing secret) or `socket` (Socket Mode, needs an app token). */
  mode: z.enum(['http', 'socket']).optional(),
  command: z.string().regex(/^\/[a-z0-9_-]{1,31}$/, 'a slash command such as /lag').default('/lag'),
  apiUrl: z.url().optional(),
  /** Least time between two posts to one channel (Slack allows about one a second). */
  postIntervalMs: z.number().int().min(0).default(1_000),
  /** chat.update budget per minute across all channels (Slack Tier 3 is about 50). */
  updatesPerMinute: z.number().int().min(1).default(50),
  /**
   * How long one Web API call may take. A message whose call got no answer is looked up in
   * Slack only after this, so a post that lands late is never sent twice.
   */
  requestTimeoutMs: z.number().int().min(1_000).max(120_000).default(10_000),
});

const HttpSchema = z.strictObject({
  port: z.number().int().min(0).max(65_535).default(3_000),
  host: z.string().default('0.0.0.0'),
});

/** Whether this runtime knows the time zone (Node ships the full IANA database). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const PostmortemSchema = z.strictObject({
  /** The zone the postmortem draft writes its times in: the team's own, for the write-up. */
  timeZone: z
    .string()
    .refine(isTimeZone, { error: (issue) => `"${String(issue.input)}" is not a time zone: use an IANA name such as UTC, Europe/Berlin or America/New_York` })
    .default('UTC'),
});

const FileSchema = z.strictObject({
  kafka: KafkaShape.partial({ brokers: true }).optional(),
  clusters: z.array(ClusterSchema).min(1, 'at least one cluster').optional(),
  slack: SlackSchema.optional(),
  http: HttpSchema.optional(),
  ...AlertingSchema.shape,
  postmortem: PostmortemSchema.optional(),
});

export interface SlackSecrets {
  botToken: string | undefined;
  signingSecret: string | undefined;
  appToken: string | undefined;
}

/** The configuration under the YAML file's own top-level names, validated and with defaults. */
export interface LagbotConfig extends AlertingConfig {
  /** Every cluster watched, in the file's order; the `kafka:` section is one named `default`. */
  clusters: ClusterConfig[];
  slack: z.infer<typeof SlackSchema> & { mode: 'http' | 'socket' } & SlackSecrets;
  http: z.infer<typeof HttpSchema>;
  postmortem: z.infer<typeof PostmortemSchema>;
  /** Where the settings came from, for the start-up log line. */
  source: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The keys a YAML mapping may have at `path`, read from the schema itself. */
function allowedKeysAt(path: readonly (string | number)[]): string[] | undefined {
  let node: z.ZodType = FileSchema;
  for (const step of [...path, null]) {
    // Look through optional/default wrappers to the object or array inside.
    for (;;) {
      if (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodNullable) {
        node = node.unwrap() as z.ZodType;
      } else break;
    }
    if (step === null) return node instanceof z.ZodObject ? Object.keys(node.shape) : undefined;
    if (node instanceof z.ZodArray && typeof step === 'number') node = node.element as z.ZodType;
    else if (node instanceof z.ZodObject && typeof step === 'string' && step in node.shape) node = node.shape[step] as z.ZodType;
    else return undefined;
  }
  return undefined;
}

/** One line per problem: the full key path, what is wrong, and what is allowed. */
function issuesText(error: z.ZodError, base: string[] = []): string {
  return error.issues
    .map((issue) => {
      const fullPath = [...base, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
      const path = fullPath.join('.');
      if (issue.code === 'unrecognized_keys') {
        const allowed = allowedKeysAt(fullPath);
        const hint = allowed ? ` (allowed: ${allowed.join(', ')})` : '';
        return `  ${path ? `${path}.` : ''}${issue.keys.join(', ')}: unknown key${hint}`;
      }
      return `  ${path || '(top level)'}: ${issue.message}`;
    })
    .join('\n');
}

type Env = Record<string, string | undefined>;

/**
 * Broken YAML, with the line to fix and a caret under the place. An unclosed bracket or
 * quote is only noticed where the text ends, so a position past the last line with text
 * is moved back to the end of that line: that is where the closing character belongs.
 */
function yamlProblem(source: string, text: string, error: unknown): string {
  if (!(error instanceof YAMLParseError)) return `${source}: not valid YAML: ${(error as Error).message.split('\n')[0]}`;
  const lines = text.split('\n');
  let line = error.linePos?.[0]?.line ?? 1;
  let col = error.linePos?.[0]?.col ?? 1;
  if ((lines[line - 1] ?? '').trim() === '') {
    while (line > 1 && (lines[line - 1] ?? '').trim() === '') line -= 1;
    col = (lines[line - 1] ?? '').trimEnd().length + 1;
  }
  const what = error.message.split(/ at line \d+, column \d+/)[0] ?? error.message;
  const gutter = String(line);
  return [
    `${source}: not valid YAML at line ${line}, column ${col}: ${what}`,
    `  ${gutter} | ${lines[line - 1] ?? ''}`,
    `  ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, col - 1))}^`,
  ].join('\n');
}

export interface ParseOptions {
  /** `lagbot start`: the Slack secrets for the chosen mode are required too, and checked with the rest. */
  requireSlack?: boolean;
}

/**
 * Build the configuration from YAML text (may be empty) and the environment. Every problem
 * found is reported at once, one line each, so a new user fixes them in one go.
 */
export function parseConfig(yamlText: string, env: Env, source = 'environment', options: ParseOptions = {}): LagbotConfig {
  let raw: unknown;
  try {
    raw = yamlText.trim() === '' ? {} : parseYaml(yamlText);
  } catch (error) {
    throw new ConfigError(yamlProblem(source, yamlText, error));
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${source}: expected a YAML mapping with keys such as clusters, kafka, slack, http`);
  }
  const file = FileSchema.safeParse(raw);
  if (!file.success) throw new ConfigError(`${source}:\n${issuesText(file.error)}`);

  const problems: string[] = [];
  const clusters = clustersOf(file.data, env, source, problems);
  const slackFile = SlackSchema.parse({ ...file.data.slack, ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}) });
  const secrets: SlackSecrets = {
    botToken: env.SLACK_BOT_TOKEN || undefined,
    signingSecret: env.SLACK_SIGNING_SECRET || undefined,
    appToken: env.SLACK_APP_TOKEN || undefined,
  };
  const mode = slackFile.mode ?? (secrets.appToken ? 'socket' : 'http');
  if (options.requireSlack) problems.push(...slackProblems(mode, secrets));

  const portText = env.PORT;
  const port = portText === undefined || portText === '' ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    problems.push(`PORT: expected a port number 0-65535, got "${portText}"`);
  }

  const { kafka: _kafka, clusters: _clusters, slack: _slack, http: _http, postmortem, ...alertingFile } = file.data;
  const alerting = AlertingSchema.parse(alertingFile);
  problems.push(...thresholdProblems(alerting).map((p) => `${source}: ${p}`));
  problems.push(...escalationProblems(alerting).map((p) => `${source}: ${p}`));
  problems.push(...allAccessProblems({ access: alerting.access, clusters, groups: alerting.groups }).map((p) => `${source}: ${p}`));
  if (clusters.length > 0) problems.push(...clusterRuleProblems(alerting, clusters.map((c) => c.name)).map((p) => `${source}: ${p}`));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));

  return {
    ...alerting,
    clusters,
    slack: { ...slackFile, mode, ...secrets },
    http: HttpSchema.parse({ ...file.data.http, ...(port !== undefined ? { port } : {}) }),
    postmortem: PostmortemSchema.parse(postmortem ?? {}),
    source,
  };
}

/**
 * The clusters: the `clusters:` list, or the first version's `kafka:` section (with
 * KAFKA_BROKERS) as one cluster named `default`. Both at once contradict each other.
 */
function clustersOf(file: z.infer<typeof FileSchema>, env: Env, source: string, problems: string[]): ClusterConfig[] {
  const envBrokers = env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  if (file.clusters) {
    if (file.kafka) problems.push(`${source}: kafka and clusters are both set: list every cluster under clusters (kafka is the one-cluster form)`);
    if (envBrokers) problems.push(`KAFKA_BROKERS is set, but ${source} lists clusters: set each cluster's brokers in the file (KAFKA_BROKERS is for the one-cluster form)`);
    const seen = new Set<string>();
    for (const c of file.clusters) {
      if (seen.has(c.name)) problems.push(`${source}: clusters: the name "${c.name}" is used twice; each cluster needs its own name`);
      seen.add(c.name);
    }
    return file.clusters.map((c, i) => resolveCluster(c, env, `${source}: clusters[${i}] (${c.name})`, problems, 'clusters'));
  }
  const kafka = KafkaSchema.safeParse({ ...file.kafka, ...(envBrokers ? { brokers: envBrokers } : {}) });
  if (!kafka.success) {
    const noBrokers = !envBrokers && !file.kafka?.brokers;
    problems.push(
      noBrokers
        ? 'No Kafka brokers: set KAFKA_BROKERS=host:port[,host:port], kafka.brokers or a clusters list in the LAGBOT_CONFIG file'
        : `${envBrokers ? 'KAFKA_BROKERS / ' : ''}${source}:\n${issuesText(kafka.error, ['kafka'])}`,
    );
    return [];
  }
  return [resolveCluster({ ...kafka.data, name: DEFAULT_CLUSTER }, env, `${source}: kafka`, problems, 'kafka')];
}

function slackProblems(mode: 'http' | 'socket', secrets: SlackSecrets): string[] {
  const missing: string[] = [];
  if (!secrets.botToken) missing.push('SLACK_BOT_TOKEN (xoxb-...)');
  if (mode === 'http' && !secrets.signingSecret) missing.push('SLACK_SIGNING_SECRET (HTTP mode)');
  if (mode === 'socket' && !secrets.appToken) missing.push('SLACK_APP_TOKEN (xapp-..., Socket Mode)');
  const problems = missing.length > 0 ? [`Missing for Slack ${mode} mode: ${missing.join(', ')}`] : [];
  const appToken = mode === 'socket' && secrets.appToken ? appTokenProblem(secrets.appToken) : null;
  if (appToken) problems.push(appToken);
  return problems;
}

/** Secrets the Slack app needs for the chosen mode; a clear list of what is missing. */
export function requireSlackSecrets(config: LagbotConfig): { botToken: string; signingSecret?: string; appToken?: string } {
  const { slack } = config;
  const problems = slackProblems(slack.mode, slack);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return {
    botToken: slack.botToken as string,
    ...(slack.signingSecret ? { signingSecret: slack.signingSecret } : {}),
    ...(slack.appToken ? { appToken: slack.appToken } : {}),
  };
}

/** Read LAGBOT_CONFIG (if set) and the environment. */
export async function loadConfig(env: Env = process.env, options: ParseOptions = {}): Promise<LagbotConfig> {
  const path = env.LAGBOT_CONFIG;
  if (!path) return parseConfig('', env, 'environment', options);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`LAGBOT_CONFIG=${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseConfig(text, env, path, options);
}
