import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_VIEW_BLOCKS, decodeJsonFields, readContent, stringArg, truthy } from './content.js';
import type { Directory } from './directory.js';
import type { FileUploads } from './files.js';
import { historyPage, repliesPage } from './history.js';
import { isPlainObject, mediaType, parseRequestBody, readBodyOrRefuse, sendJson, sendText } from './http.js';
import type { Modals } from './modals.js';
import type { Memberships } from './memberships.js';
import type { MessageStore } from './store.js';
import type { ApiCall, Chaos, EphemeralMessage, Fault, StoredMessage, Team } from './types.js';

export interface BotIdentity {
  userId: string;
  botId: string;
  appId: string;
  name: string;
}

export interface WebApiDeps {
  store: MessageStore;
  directory: Directory;
  files: FileUploads;
  modals: Modals;
  memberships: Memberships;
  botToken: string;
  /** The app-level token (`xapp-...`) that `apps.connections.open` accepts. */
  appToken: string;
  /** A fresh Socket Mode URL for `apps.connections.open`. */
  openSocket: () => string;
  bot: BotIdentity;
  team: Team;
  /** The stand-in's base URL, ending in `/`; known only once the server listens. */
  baseUrl: () => string;
  clock: () => number;
  record: (call: ApiCall) => void;
}

type Args = Record<string, unknown>;
type ApiResult = { ok: boolean; [key: string]: unknown };
type Answer = { status: number; body: ApiResult | string; headers?: Record<string, string> };

const fail = (error: string, extra: Record<string, unknown> = {}): ApiResult => ({ ok: false, error, ...extra });

const missing = (field: string): ApiResult =>
  fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] missing required field: ${field}`] } });

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The message as Slack returns it from the API: no channel field, and none of the stand-in's bookkeeping. */
function apiView(message: StoredMessage | EphemeralMessage): Record<string, unknown> {
  const { channel: _channel, source: _source, ...rest } = message;
  return rest;
}

/** Methods that take the app-level token instead of the bot token. */
const APP_TOKEN_METHODS = new Set(['apps.connections.open']);

/** Queued faults per method, consumed in order before the real method runs. */
export class FaultPlan {
  private readonly queue = new Map<string, Fault[]>();

  add(method: string, fault: Fault, times: number): void {
    const list = this.queue.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.queue.set(method, list);
  }

  take(method: string): Fault | undefined {
    return this.queue.get(method)?.shift();
  }

  clear(): void {
    this.queue.clear();
  }
}

/** Serves `/api/<method>` the way slack.com does, for the methods lagbot uses. */
export class WebApi {
  readonly faults = new FaultPlan();
  /**
   * Answers held back after the method has taken effect: the window in which a client
   * that dies has done the work without hearing so (the "in doubt" case of an outbox).
   */
  readonly holds = new Map<string, Array<{ ms: number; when?: (args: Args) => boolean }>>();
  /** Decides, call by call, what a fault drill does to each Web API call. */
  chaos: Chaos | undefined;
  private readonly methods: Record<string, (args: Args) => ApiResult>;

  constructor(private readonly deps: WebApiDeps) {
    this.methods = {
      'apps.connections.open': () => ({ ok: true, url: this.deps.openSocket() }),
      'auth.test': () => this.authTest(),
      'chat.postMessage': (a) => this.postMessage(a),
      'chat.update': (a) => this.update(a),
      'chat.postEphemeral': (a) => this.postEphemeral(a),
      'chat.getPermalink': (a) => this.getPermalink(a),
      'conversations.info': (a) => this.conversationsInfo(a),
      'conversations.history': (a) => this.conversationsHistory(a),
      'conversations.replies': (a) => this.conversationsReplies(a),
      'conversations.members': (a) => this.deps.memberships.conversationsMembers(a),
      'usergroups.users.list': (a) => this.deps.memberships.usersList(a),
      'users.info': (a) => this.usersInfo(a),
      'views.publish': (a) => this.viewsPublish(a),
      'views.open': (a) => this.viewsOpen(a),
      'files.getUploadURLExternal': (a) => this.deps.files.getUploadURLExternal(a),
      'files.completeUploadExternal': (a) => this.deps.files.completeUploadExternal(a),
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams): Promise<void> {
    const at = this.deps.clock();
    const raw = await readBodyOrRefuse(req, res);
    if (raw === null) return;
    // Slack also answers GETs with query-string arguments; the SDK never does, but curl users do.
    const parsed = req.method === 'GET' ? { ok: true as const, value: Object.fromEntries(query) } : parseRequestBody(mediaType(req), raw);
    const fields = parsed.ok ? parsed.value : {};
    const bearer = bearerToken(req);
    const token = bearer ?? stringArg(fields, 'token');
    const { token: _token, ...withoutToken } = fields;
    const args = decodeJsonFields(withoutToken);

    const action = this.chaos?.({ method, args }) ?? { kind: 'ok' };
    if (action.kind === 'rate-limit' || action.kind === 'error-before' || action.kind === 'reset-before') {
      const fault: Answer = action.kind === 'rate-limit' ? faultAnswer({ status: 429, retryAfter: action.retryAfter }) : faultAnswer({ status: 500 });
      this.deps.record({ method, args, at, status: action.kind === 'reset-before' ? 0 : fault.status, response: action.kind });
      if (action.kind === 'reset-before') res.socket?.destroy();
      else if (typeof fault.body === 'string') sendText(res, fault.status, fault.body);
      else sendJson(res, fault.status, fault.body, fault.headers);
      return;
    }
    if (action.kind === 'late') await new Promise((r) => setTimeout(r, action.ms));

    const answer = this.answer(method, parsed.ok ? undefined : parsed.error, token, bearer !== undefined, args);
    this.deps.record({ method, args, at, status: answer.status, response: answer.body });
    const holds = this.holds.get(method) ?? [];
    const h = holds.findIndex((x) => !x.when || x.when(args));
    if (h >= 0) {
      const [hold] = holds.splice(h, 1);
      await new Promise((r) => setTimeout(r, hold?.ms));
    }
    if (action.kind === 'hold') await new Promise((r) => setTimeout(r, action.ms));
    if (action.kind === 'reset-after') {
      res.socket?.destroy();
      return;
    }
    if (action.kind === 'error-after') {
      sendText(res, 500, 'Internal Server Error');
      return;
    }
    if (res.destroyed || res.writableEnded) return;
    if (typeof answer.body === 'string') sendText(res, answer.status, answer.body);
    else sendJson(res, answer.status, answer.body, answer.headers);
  }

  private answer(method: string, parseError: string | undefined, token: string | undefined, viaHeader: boolean, args: Args): Answer {
    const fault = this.faults.take(method);
    if (fault) return faultAnswer(fault);
    const run = this.methods[method];
    if (!run) return { status: 200, body: fail('unknown_method') };
    if (parseError) return { status: 200, body: fail(parseError) };
    // Slack distinguishes "no token at all" from "a token it does not know".
    if (token === undefined) return { status: 200, body: fail('not_authed') };
    const refusal = APP_TOKEN_METHODS.has(method) ? this.appTokenRefusal(token, viaHeader) : token === this.deps.botToken ? undefined : 'invalid_auth';
    if (refusal) return { status: 200, body: fail(refusal) };
    return { status: 200, body: run(args) };
  }

  /**
   * What Slack says to a token on an app-level method: a bot or user token is the wrong
   * kind, and an app token counts only as a Bearer header (a `token` form field gets
   * `invalid_auth` even when the token is right).
   */
  private appTokenRefusal(token: string, viaHeader: boolean): string | undefined {
    if (!token.startsWith('xapp-')) return 'not_allowed_token_type';
    if (!viaHeader || token !== this.deps.appToken) return 'invalid_auth';
    return undefined;
  }

  private authTest(): ApiResult {
    const { bot, team } = this.deps;
    return {
      ok: true,
      url: this.deps.baseUrl(),
      team: team.domain,
      user: bot.name,
      team_id: team.id,
      user_id: bot.userId,
      bot_id: bot.botId,
      is_enterprise_install: false,
    };
  }

  private postMessage(args: Args): ApiResult {
    const { store, directory, bot, team } = this.deps;
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const channel = directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    const content = readContent(args);
    if (!content.ok) return fail(content.error);

    const threadArg = stringArg(args, 'thread_ts');
    let threadTs: string | undefined;
    if (threadArg !== undefined) {
      threadTs = store.threadRoot(channel.id, threadArg);
      // Real Slack accepts an unknown thread_ts and the reply vanishes; failing loudly is kinder to tests.
      if (threadTs === undefined) return fail('thread_not_found');
    }

    const message = store.post(
      compact({
        channel: channel.id,
        text: content.content.text ?? '',
        blocks: content.content.blocks,
        attachments: content.content.attachments,
        metadata: isPlainObject(args.metadata) ? args.metadata : undefined,
        thread_ts: threadTs,
        subtype: threadTs !== undefined && truthy(args.reply_broadcast) ? ('thread_broadcast' as const) : undefined,
        user: bot.userId,
        bot_id: bot.botId,
        app_id: bot.appId,
        team: team.id,
        source: 'web_api' as const,
      }),
    );
    return { ok: true, channel: channel.id, ts: message.ts, message: apiView(message) };
  }

  private update(args: Args): ApiResult {
    const { store, directory, bot } = this.deps;
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const ts = stringArg(args, 'ts');
    if (ts === undefined) return missing('ts');
    const channel = directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    const content = readContent(args);
    if (!content.ok) return fail(content.error);

    const patch = compact({ ...content.content, metadata: isPlainObject(args.metadata) ? args.metadata : undefined });
    const message = store.update(channel.id, ts, patch, bot.userId);
    if (!message) return fail('message_not_found');
    return { ok: true, channel: channel.id, ts: message.ts, text: message.text, message: apiView(message) };
  }

  private postEphemeral(args: Args): ApiResult {
    const { store, directory, bot } = this.deps;
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const userArg = stringArg(args, 'user');
    if (userArg === undefined) return missing('user');
    const channel = directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    const user = directory.resolveUser(userArg);
    if (!user) return fail('user_not_in_channel');
    const content = readContent(args);
    if (!content.ok) return fail(content.error);

    const message = store.postEphemeral(
      compact({
        channel: channel.id,
        user: user.id,
        text: content.content.text ?? '',
        blocks: content.content.blocks,
        attachments: content.content.attachments,
        thread_ts: stringArg(args, 'thread_ts'),
        bot_id: bot.botId,
        source: 'web_api' as const,
      }),
    );
    return { ok: true, message_ts: message.ts };
  }

  private getPermalink(args: Args): ApiResult {
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const ts = stringArg(args, 'message_ts');
    if (ts === undefined) return missing('message_ts');
    const channel = this.deps.directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    const message = this.deps.store.message(channel.id, ts);
    if (!message) return fail('message_not_found');

    let permalink = `${this.deps.baseUrl()}archives/${channel.id}/p${ts.replace('.', '')}`;
    if (message.thread_ts !== undefined && message.thread_ts !== message.ts) {
      permalink += `?thread_ts=${message.thread_ts}&cid=${channel.id}`;
    }
    return { ok: true, channel: channel.id, permalink };
  }

  private conversationsInfo(args: Args): ApiResult {
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const channel = this.deps.directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    return {
      ok: true,
      channel: {
        id: channel.id,
        name: channel.name,
        name_normalized: channel.name,
        is_channel: !channel.isIm && !channel.isPrivate,
        is_group: channel.isPrivate,
        is_im: channel.isIm,
        is_private: channel.isPrivate || channel.isIm,
        is_archived: false,
        is_member: true,
      },
    };
  }

  private conversationsHistory(args: Args): ApiResult {
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const channel = this.deps.directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    return historyPage(this.deps.store.messages(channel.id), args, apiView);
  }

  private conversationsReplies(args: Args): ApiResult {
    const channelArg = stringArg(args, 'channel');
    if (channelArg === undefined) return missing('channel');
    const ts = stringArg(args, 'ts');
    if (ts === undefined) return missing('ts');
    const channel = this.deps.directory.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    return repliesPage(this.deps.store.thread(channel.id, ts), args, apiView);
  }

  /** Slack answers a malformed view with invalid_arguments and says what is wrong. */
  private viewsPublish(args: Args): ApiResult {
    const invalid = (message: string): ApiResult => fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${message}`] } });
    const userArg = stringArg(args, 'user_id');
    if (userArg === undefined) return missing('user_id');
    const user = this.deps.directory.resolveUser(userArg);
    if (!user) return fail('user_not_found');
    const view = args.view;
    if (view === undefined || view === '') return missing('view');
    if (!isPlainObject(view)) return invalid('failed to match all allowed schemas [json-pointer:/view]');
    if (view.type !== 'home') return invalid('must be a home view [json-pointer:/view/type]');
    const blocks = view.blocks;
    if (!Array.isArray(blocks)) return invalid('missing required field: blocks [json-pointer:/view/blocks]');
    if (blocks.length > MAX_VIEW_BLOCKS) return invalid(`no more than ${MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]`);
    const bad = blocks.findIndex((b) => !isPlainObject(b) || typeof b.type !== 'string');
    if (bad !== -1) return invalid(`missing required field: type [json-pointer:/view/blocks/${bad}]`);
    const record = this.deps.store.publishHome(user.id, view as { type: 'home'; blocks: Array<Record<string, unknown>> });
    return {
      ok: true,
      view: { id: record.id, team_id: this.deps.team.id, type: 'home', blocks: record.view.blocks, app_id: this.deps.bot.appId, bot_id: this.deps.bot.botId },
    };
  }

  /** A modal, opened with the trigger_id of a click or command of the last 3 seconds (see modals.ts). */
  private viewsOpen(args: Args): ApiResult {
    const trigger = stringArg(args, 'trigger_id');
    if (trigger === undefined) return missing('trigger_id');
    if (args.view === undefined || args.view === '') return missing('view');
    const opened = this.deps.modals.openView(trigger, args.view);
    if (!opened.ok) return fail(opened.error, opened.messages ? { response_metadata: { messages: opened.messages } } : {});
    const { modal } = opened;
    const { bot, team } = this.deps;
    return {
      ok: true,
      view: {
        id: modal.id,
        team_id: team.id,
        ...modal.view,
        state: { values: {} },
        hash: modal.hash,
        root_view_id: modal.id,
        previous_view_id: null,
        app_id: bot.appId,
        bot_id: bot.botId,
      },
    };
  }

  private usersInfo(args: Args): ApiResult {
    const userArg = stringArg(args, 'user');
    if (userArg === undefined) return missing('user');
    const { bot, team } = this.deps;
    const isBot = userArg === bot.userId;
    const user = isBot ? { id: bot.userId, name: bot.name } : this.deps.directory.resolveUser(userArg);
    if (!user) return fail('user_not_found');
    return {
      ok: true,
      user: {
        id: user.id,
        team_id: team.id,
        name: user.name,
        real_name: user.name,
        deleted: false,
        is_bot: isBot,
        tz: 'UTC',
        tz_offset: 0,
        profile: { display_name: user.name, real_name: user.name, ...(isBot ? { bot_id: bot.botId } : {}) },
      },
    };
  }
}

function faultAnswer(fault: Fault): Answer {
  if ('error' in fault) return { status: 200, body: fail(fault.error) };
  if (fault.status === 429) {
    return { status: 429, body: fail('ratelimited'), headers: { 'Retry-After': String(fault.retryAfter) } };
  }
  return { status: 500, body: 'Internal Server Error' };
}

function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}
