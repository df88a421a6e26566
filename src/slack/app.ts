import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type CustomRoute, type Logger as BoltLogger, type webApi } from '@slack/bolt';
import { OPEN_ACCESS, type AccessRules } from '../core/access.js';
import type { LagQueryDeps } from '../core/lag-query.js';
import type { Clock } from '../core/ports.js';
import type { IncidentActions } from '../monitor/cluster-monitors.js';
import type { Logger } from '../log/logger.js';
import { AccessGuard, type AccessWhere } from './access-guard.js';
import { verifyBotToken } from './bot-identity.js';
import { MembershipCache, webMemberships } from './memberships.js';
import type { HomeOpened } from './home-tab.js';
import type { SilenceActions } from './listeners/silences.js';
import { appTokenProblem } from './tokens.js';
import { registerListeners, type ListenerDeps } from './register.js';

export interface SlackAppOptions {
  mode: 'http' | 'socket';
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  /** Web API base URL (SLACK_API_URL), e.g. a local stand-in; ends with `/`. */
  apiUrl?: string;
  command: string;
  port: number;
  host?: string;
  query: LagQueryDeps;
  logger: Logger;
  /** Extra HTTP routes served beside /slack/events (health, metrics). */
  routes?: CustomRoute[];
  /** When incidents are on, their buttons act through it. */
  incidents?: IncidentActions;
  /** When given, the App Home tab is published through it on app_home_opened. */
  home?: HomeOpened;
  /** Who may act and read; everyone reads and the incident channel's members act when absent. */
  access?: AccessGuard;
  /** When given, `/lag silence`, `/lag silences`, `/lag unsilence` and End now act through it. */
  silences?: SilenceActions;
}

export interface RunningSlackApp {
  app: App;
  /** The port the HTTP server listens on (0 is resolved to the real port). */
  port: number | null;
  stop(): Promise<void>;
}

/** Bolt logs through lagbot's logger so there is one log stream. */
function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const child = logger.child({ component: 'bolt' });
  return {
    debug: (...msg: unknown[]) => child.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => child.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => child.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** The guard of the access rules, reading memberships through `client`. */
export function accessGuard(rules: AccessRules, client: webApi.WebClient, options: { clock: Clock; logger: Logger; membershipCacheMs: number; where: AccessWhere }): AccessGuard {
  const memberships = new MembershipCache(webMemberships(client), options.clock, options.membershipCacheMs);
  return new AccessGuard(rules, memberships, options.logger.child({ component: 'access' }), options.where);
}

/** A minute, as the configuration's default: a user removed from a group keeps access at most this long. */
const DEFAULT_MEMBERSHIP_CACHE_MS = 60_000;

function listenerDeps(options: SlackAppOptions, app: App): ListenerDeps {
  const where = { clusters: options.query.sources.map((s) => s.cluster), channelOf: () => null };
  const access = options.access ?? accessGuard(OPEN_ACCESS, app.client, { clock: options.query.clock, logger: options.logger, membershipCacheMs: DEFAULT_MEMBERSHIP_CACHE_MS, where });
  return { query: options.query, logger: options.logger, access, ...(options.incidents ? { incidents: options.incidents } : {}), ...(options.home ? { home: options.home } : {}), ...(options.silences ? { silences: options.silences } : {}) };
}

/** Slack's replay window: a request signed more than this far from now, either way, is refused. */
const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/**
 * Bolt refuses requests signed too long ago but not those signed in the future, which a
 * captured request replayed later would also be. The receiver's request listener is its
 * public hook, so the check goes in front of it; Bolt still verifies the signature.
 */
function refuseFutureTimestamps(receiver: HTTPReceiver, clock: Clock): void {
  const next = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    const stamp = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(stamp) && stamp - clock.now() / 1000 > SIGNATURE_WINDOW_SECONDS) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('request timestamp is too far in the future\n');
      return;
    }
    next(req, res);
  };
}

/** Build and start the Bolt app in HTTP mode (signed requests) or Socket Mode. */
export async function startSlackApp(options: SlackAppOptions): Promise<RunningSlackApp> {
  const logger = boltLogger(options.logger);
  const wrongToken = options.mode === 'socket' && options.appToken ? appTokenProblem(options.appToken) : null;
  if (wrongToken) throw new Error(wrongToken);
  const identity = await verifyBotToken(options.botToken, options.apiUrl ? { apiUrl: options.apiUrl } : {});
  // The Web API client never retries: its answers go to people through respond(), and a
  // retry loop of Bolt's default half hour would hide a Slack outage behind silence.
  const clientOptions = { ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}), retryConfig: { retries: 0 } };
  const appOptions = { token: options.botToken, ...identity, tokenVerificationEnabled: false, logger, clientOptions };
  const routes = options.routes ?? [];

  if (options.mode === 'http') {
    if (!options.signingSecret) throw new Error('HTTP mode needs SLACK_SIGNING_SECRET');
    const receiver = new HTTPReceiver({
      signingSecret: options.signingSecret,
      endpoints: '/slack/events',
      customRoutes: routes,
      logger,
      // Ack goes out before the handler finishes: Slack's 3-second limit holds even
      // when Kafka is slow, and the answer follows through response_url.
      processBeforeResponse: false,
    });
    refuseFutureTimestamps(receiver, options.query.clock);
    const app = new App({ ...appOptions, receiver });
    registerListeners(app, listenerDeps(options, app), options.command);
    const server = (await receiver.start({ port: options.port, host: options.host ?? '0.0.0.0' })) as Server;
    const port = (server.address() as AddressInfo).port;
    return { app, port, stop: () => receiver.stop() };
  }

  if (!options.appToken) throw new Error('Socket Mode needs SLACK_APP_TOKEN');
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    logger,
    customRoutes: routes,
    installerOptions: { port: options.port, clientOptions },
  });
  const app = new App({ ...appOptions, receiver });
  registerListeners(app, listenerDeps(options, app), options.command);
  try {
    await receiver.start();
  } catch (err) {
    // The custom-routes server may already be listening and would keep the process alive.
    await receiver.stop();
    throw socketStartError(err);
  }
  return { app, port: routes.length > 0 ? options.port : null, stop: () => receiver.stop() };
}

/** Names the token when Slack refused it; the SDK's own message is just "An API error occurred: invalid_auth". */
function socketStartError(err: unknown): Error {
  const data = typeof err === 'object' && err !== null && 'data' in err ? (err.data as { error?: unknown } | undefined) : undefined;
  const detail =
    typeof data?.error === 'string'
      ? `apps.connections.open answered ${data.error}; check SLACK_APP_TOKEN`
      : err instanceof Error
        ? err.message
        : String(err);
  return new Error(`Socket Mode could not connect to Slack: ${detail}`, { cause: err });
}
