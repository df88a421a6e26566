import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Directory } from './directory.js';
import { FileUploads } from './files.js';
import { Modals, pickerState } from './modals.js';
import type { OpenModal } from './modals.js';
import { isPlainObject, sendJson } from './http.js';
import { actionTs, deliverSigned, deliverSignedJson, eventId, findButton, triggerId } from './requests.js';
import type { DeliveryResult, SignOverrides } from './requests.js';
import { ResponseUrls } from './response-urls.js';
import { SocketModeServer } from './socket-mode.js';
import type { EnvelopeRecord, SocketAck, SocketConnectionRecord } from './socket-mode.js';
import { Memberships } from './memberships.js';
import { MessageStore } from './store.js';
import { Playground } from './playground/playground.js';
import type { PlaygroundOptions } from './playground/playground.js';
import type { StoreSnapshot } from './store.js';
import type {
  SlackFileObject,
  ApiCall,
  Block,
  Chaos,
  ChannelInfo,
  EphemeralMessage,
  Fault,
  HomeViewRecord,
  ResponseRecord,
  StandinEvents,
  StoredMessage,
  Team,
  UserInfo,
} from './types.js';
import { WebApi } from './web-api.js';
import type { BotIdentity } from './web-api.js';

export interface SlackStandinOptions {
  signingSecret: string;
  /** The only bot token the Web API accepts. */
  botToken?: string;
  /** The only app-level token `apps.connections.open` accepts (Socket Mode); must start with `xapp-`. */
  appToken?: string;
  /** Where the Bolt app's `/slack/events` listens; may also be set later with `setEventsUrl`. */
  eventsUrl?: string;
  team?: Team;
  botUserId?: string;
  botId?: string;
  appId?: string;
  botName?: string;
  /** Channels known by name up front (IDs work without declaring them). */
  channels?: ChannelInfo[];
  users?: UserInfo[];
  /**
   * Time source in ms for response_url expiry, `at` stamps and message ts values. Request
   * signatures always use the real clock, since Bolt checks them against it.
   */
  clock?: () => number;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. A fixed port lets an open playground page reconnect after a restart. */
  port?: number;
  /** Serve the browser playground (`GET /`) onto this channel. */
  playground?: PlaygroundOptions;
}

export const STANDIN_DEFAULTS = {
  botToken: 'xoxb-standin-0000000000-lagbot',
  appToken: 'xapp-1-A0LAGBOT-0000000000-standin',
  team: { id: 'T0LAGBOT', domain: 'lagbot-dev' },
  botUserId: 'U0LAGBOT',
  botId: 'B0LAGBOT',
  appId: 'A0LAGBOT',
  botName: 'lagbot',
  /** The legacy verification token sent in payloads; Bolt ignores it. */
  verificationToken: 'standin-verification-token',
  user: { id: 'U0TESTER', name: 'tester' },
  channel: { id: 'C0GENERAL', name: 'general' },
} as const;

export interface SlashCommandInput extends SignOverrides {
  command: string;
  text: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
}

export interface DeliveredRequest extends DeliveryResult {
  /** The `<id>` of the `/response/<id>` URL sent with the request. */
  responseUrlId: string;
  triggerId: string;
}

/** Socket Mode is authenticated by the app token, so there is nothing to sign or forge. */
export type SocketSlashCommandInput = Omit<SlashCommandInput, keyof SignOverrides>;

/** An acknowledged envelope: `ack` is the payload the app acked with (`{}` for a bare `ack()`). */
export interface DeliveredOverSocket extends SocketAck {
  /** The `<id>` of the `/response/<id>` URL sent in the payload. */
  responseUrlId: string;
  triggerId: string;
}

/** A message as the clicking user sees it: a stored one, or just enough to locate and render it. */
export type ClickableMessage =
  | StoredMessage
  | EphemeralMessage
  | { ts: string; channel: string; blocks?: Block[]; text?: string; thread_ts?: string; ephemeral?: boolean };

export interface ButtonClickInput extends SignOverrides {
  message: ClickableMessage;
  actionId: string;
  /** Defaults to the button's own value. */
  value?: string;
  /** Defaults to the block holding the button. */
  blockId?: string;
  userId?: string;
  userName?: string;
}

export type SocketButtonClickInput = Omit<ButtonClickInput, keyof SignOverrides>;

export interface ModalSubmitInput extends SignOverrides {
  /** The open modal's view id. */
  viewId: string;
  /** Who submits; the user the modal was opened for by default. */
  userId?: string;
  /** The users picked in the modal's user pickers. */
  users: readonly string[];
}

export interface ModalSubmitResult extends DeliveryResult {
  /** The app answered with an empty ack: Slack closes the modal. */
  closed: boolean;
  /** The app's `response_action: errors`, by block_id: the modal stays open showing them. */
  errors: Record<string, string> | null;
}

export interface OpenHomeInput extends SignOverrides {
  userId?: string;
  userName?: string;
  /** `home` (the default) or `messages`: Slack sends the event for either tab. */
  tab?: 'home' | 'messages';
}

export type SocketOpenHomeInput = Omit<OpenHomeInput, keyof SignOverrides>;

export type Predicate<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/** Polls `predicate` until it returns something truthy; a throwing predicate counts as "not yet". */
export async function waitFor<T>(predicate: Predicate<T>, timeoutMs = 5000, intervalMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms${reason}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A local Slack: the Web API, response_url endpoints, and signed deliveries of slash commands
 * and button clicks to a Bolt app. Slack is replaced only at its HTTP boundary.
 */
export class SlackStandin {
  readonly url: string;
  readonly apiUrl: string;
  readonly signingSecret: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly team: Team;
  readonly bot: BotIdentity;
  /** Every Web API request, in arrival order. */
  readonly calls: ApiCall[] = [];
  /** Every post to a response_url, refused ones included (see `status`/`error`). */
  readonly responses: ResponseRecord[] = [];
  /** Unexpected failures inside the stand-in (each also produced a 500), and WebSocket protocol violations. */
  readonly errors: unknown[] = [];
  /** Every Socket Mode connection, closed ones included, oldest first. */
  readonly socketConnections: SocketConnectionRecord[];
  /** Every envelope sent over Socket Mode, with the app's ack once it came. */
  readonly envelopes: EnvelopeRecord[];
  /** The browser page, when the `playground` option was given. */
  readonly playground: Playground | undefined;

  private eventsUrlValue: string | undefined;
  private readonly store: MessageStore;
  private readonly directory: Directory;
  /** Who is in which user group and channel (usergroups.users.list, conversations.members); tests change it as an admin would. */
  readonly memberships: Memberships;
  private readonly webApi: WebApi;
  private readonly uploads: FileUploads;
  private readonly modals: Modals;
  private readonly responseUrls: ResponseUrls;
  private readonly socketMode: SocketModeServer;
  private readonly clock: () => number;

  /** Use `startSlackStandin`; the constructor needs a listening server. */
  constructor(
    private readonly server: Server,
    opts: SlackStandinOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/`;
    this.apiUrl = `${this.url}api/`;
    this.signingSecret = opts.signingSecret;
    this.botToken = opts.botToken ?? STANDIN_DEFAULTS.botToken;
    this.appToken = opts.appToken ?? STANDIN_DEFAULTS.appToken;
    this.team = { ...(opts.team ?? STANDIN_DEFAULTS.team) };
    this.bot = {
      userId: opts.botUserId ?? STANDIN_DEFAULTS.botUserId,
      botId: opts.botId ?? STANDIN_DEFAULTS.botId,
      appId: opts.appId ?? STANDIN_DEFAULTS.appId,
      name: opts.botName ?? STANDIN_DEFAULTS.botName,
    };
    this.eventsUrlValue = opts.eventsUrl;
    this.clock = opts.clock ?? Date.now;
    this.store = new MessageStore(this.clock);
    this.socketMode = new SocketModeServer({
      appId: this.bot.appId,
      baseUrl: () => this.url,
      clock: this.clock,
      onError: (err) => this.errors.push(err),
    });
    this.socketConnections = this.socketMode.connections;
    this.envelopes = this.socketMode.envelopes;
    this.directory = new Directory([STANDIN_DEFAULTS.channel, ...(opts.channels ?? [])], [STANDIN_DEFAULTS.user, ...(opts.users ?? [])]);
    this.modals = new Modals(this.clock, (change) => this.store.events.emit('modal', change));
    this.memberships = new Memberships(this.directory, this.bot.userId);
    this.uploads = new FileUploads({ store: this.store, directory: this.directory, bot: this.bot, team: this.team, baseUrl: () => this.url, clock: this.clock });
    this.webApi = new WebApi({
      store: this.store,
      directory: this.directory,
      files: this.uploads,
      modals: this.modals,
      memberships: this.memberships,
      botToken: this.botToken,
      appToken: this.appToken,
      openSocket: () => this.socketMode.issueUrl(),
      bot: this.bot,
      team: this.team,
      baseUrl: () => this.url,
      clock: this.clock,
      record: (call) => {
        this.calls.push(call);
        this.store.events.emit('call', call);
      },
    });
    this.responseUrls = new ResponseUrls({
      store: this.store,
      bot: this.bot,
      team: this.team,
      clock: this.clock,
      onResponse: (record) => {
        this.responses.push(record);
        this.store.events.emit('response', record);
      },
    });
    this.playground = opts.playground && this.createPlayground(opts.playground);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.route(req, res).catch((err: unknown) => {
        this.errors.push(err);
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error' });
        else res.destroy();
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.socketMode.handleUpgrade(req, socket, head));
  }

  get eventsUrl(): string | undefined {
    return this.eventsUrlValue;
  }

  setEventsUrl(url: string): void {
    this.eventsUrlValue = url;
  }

  /** Shows `text` as a banner above the playground's channel; null removes it. */
  setBanner(text: string | null): void {
    this.requirePlayground('setBanner').setBanner(text);
  }

  /** Adds a demo note above the playground's channel (newest first, the oldest fall off). */
  addNote(text: string): void {
    this.requirePlayground('addNote').addNote(text);
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Every Web API call from now on goes through `chaos` (undefined: back to normal). */
  setChaos(chaos: Chaos | undefined): void {
    this.webApi.chaos = chaos;
  }

  /** The next `times` calls to `method` get `fault` instead of an answer. */
  failNext(method: string, fault: Fault, times = 1): void {
    this.webApi.faults.add(method, fault, times);
  }

  /**
   * Carry out the next call of `method` (the next one whose arguments pass `when`, if
   * given) at once, but answer only after `ms`.
   */
  holdNext(method: string, ms: number, when?: (args: Record<string, unknown>) => boolean): void {
    const list = this.webApi.holds.get(method) ?? [];
    list.push(when ? { ms, when } : { ms });
    this.webApi.holds.set(method, list);
  }

  async sendSlashCommand(input: SlashCommandInput): Promise<DeliveredRequest> {
    const { fields, responseUrlId, trigger } = this.slashCommand(input);
    const result = await deliverSigned(this.requireEventsUrl(), this.signingSecret, new URLSearchParams(fields), input);
    return { ...result, responseUrlId, triggerId: trigger };
  }

  /** The same slash command as an envelope on the newest Socket Mode connection; resolves once acked. */
  async sendSlashCommandOverSocket(input: SocketSlashCommandInput): Promise<DeliveredOverSocket> {
    const { fields, responseUrlId, trigger } = this.slashCommand(input);
    const ack = await this.socketMode.deliver('slash_commands', fields, true);
    return { ...ack, responseUrlId, triggerId: trigger };
  }

  private slashCommand(input: SocketSlashCommandInput): { fields: Record<string, string>; responseUrlId: string; trigger: string } {
    const user = this.user(input.userId, input.userName);
    const channel = this.channel(input.channelId, input.channelName);
    const responseUrlId = this.responseUrls.create({ channel: channel.id, userId: user.id });
    const trigger = this.issueTrigger(user.id);
    const fields = {
      token: STANDIN_DEFAULTS.verificationToken,
      team_id: this.team.id,
      team_domain: this.team.domain,
      channel_id: channel.id,
      channel_name: channel.name,
      user_id: user.id,
      user_name: user.name,
      command: input.command.startsWith('/') ? input.command : `/${input.command}`,
      text: input.text,
      api_app_id: this.bot.appId,
      is_enterprise_install: 'false',
      response_url: this.responseUrl(responseUrlId),
      trigger_id: trigger,
    };
    return { fields, responseUrlId, trigger };
  }

  async clickButton(input: ButtonClickInput): Promise<DeliveredRequest> {
    const { payload, responseUrlId, trigger } = this.blockActions(input);
    const form = new URLSearchParams({ payload: JSON.stringify(payload) });
    const result = await deliverSigned(this.requireEventsUrl(), this.signingSecret, form, input);
    return { ...result, responseUrlId, triggerId: trigger };
  }

  /** The same click as an `interactive` envelope; the payload travels as an object, not a form field. */
  async clickButtonOverSocket(input: SocketButtonClickInput): Promise<DeliveredOverSocket> {
    const { payload, responseUrlId, trigger } = this.blockActions(input);
    const ack = await this.socketMode.deliver('interactive', payload, false);
    return { ...ack, responseUrlId, triggerId: trigger };
  }

  private blockActions(input: SocketButtonClickInput): { payload: Record<string, unknown>; responseUrlId: string; trigger: string } {
    const { message } = input;
    const ephemeral = this.isEphemeral(message);
    const blocks = message.blocks ?? [];
    const button = findButton(blocks, input.actionId);
    if (!button) throw new Error(`no button with action_id "${input.actionId}" in message ${message.ts}`);

    const recipient = ephemeral && 'user' in message && typeof message.user === 'string' ? message.user : undefined;
    const user = this.user(input.userId ?? recipient, input.userName);
    const channel = this.channel(message.channel);
    const responseUrlId = this.responseUrls.create({
      channel: channel.id,
      userId: user.id,
      origin: { channel: channel.id, ts: message.ts, ephemeral },
    });
    const trigger = this.issueTrigger(user.id);
    const value = input.value ?? (typeof button.element.value === 'string' ? button.element.value : undefined);

    const payload: Record<string, unknown> = {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: this.team.id },
      api_app_id: this.bot.appId,
      token: STANDIN_DEFAULTS.verificationToken,
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: channel.id,
        is_ephemeral: ephemeral,
        ...(message.thread_ts !== undefined ? { thread_ts: message.thread_ts } : {}),
      },
      trigger_id: trigger,
      team: { ...this.team },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channel.name },
      // Slack leaves the message out of payloads from ephemeral messages.
      ...(ephemeral ? {} : { message: this.payloadMessage(message) }),
      state: { values: {} },
      response_url: this.responseUrl(responseUrlId),
      actions: [
        {
          action_id: input.actionId,
          block_id: input.blockId ?? button.blockId,
          text: button.element.text ?? { type: 'plain_text', text: '' },
          ...(value !== undefined ? { value } : {}),
          ...(typeof button.element.style === 'string' ? { style: button.element.style } : {}),
          type: 'button',
          action_ts: actionTs(),
        },
      ],
    };
    return { payload, responseUrlId, trigger };
  }

  /** Modals the app opened with views.open and that are still open, oldest first; of one user when given. */
  openModals(userId?: string): OpenModal[] {
    return this.modals.list(userId);
  }

  /** The user dismisses an open modal (Cancel): Slack closes it without telling an app that did not ask (notify_on_close). */
  closeModal(viewId: string): void {
    this.modals.close(viewId);
  }

  /**
   * The user submits an open modal with `users` picked: a signed `view_submission`
   * interactivity payload, as Slack sends it. An empty ack closes the modal; an answer with
   * `response_action: errors` keeps it open.
   */
  async submitModal(input: ModalSubmitInput): Promise<ModalSubmitResult> {
    const modal = this.modals.get(input.viewId);
    if (!modal) throw new Error(`Slack stand-in: no open modal ${input.viewId}`);
    const user = this.user(input.userId ?? modal.user, undefined);
    const { view } = modal;
    const payload = {
      type: 'view_submission',
      team: { id: this.team.id, domain: this.team.domain },
      user: { id: user.id, username: user.name, name: user.name, team_id: this.team.id },
      api_app_id: this.bot.appId,
      token: STANDIN_DEFAULTS.verificationToken,
      trigger_id: this.issueTrigger(user.id),
      view: {
        id: modal.id,
        team_id: this.team.id,
        type: 'modal',
        blocks: view.blocks,
        private_metadata: view.private_metadata ?? '',
        callback_id: view.callback_id ?? '',
        state: { values: pickerState(view, input.users) },
        hash: modal.hash,
        title: view.title,
        clear_on_close: false,
        notify_on_close: false,
        close: view.close ?? null,
        submit: view.submit ?? null,
        previous_view_id: null,
        root_view_id: modal.id,
        app_id: this.bot.appId,
        external_id: '',
        app_installed_team_id: this.team.id,
        bot_id: this.bot.botId,
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const result = await deliverSigned(this.requireEventsUrl(), this.signingSecret, new URLSearchParams({ payload: JSON.stringify(payload) }), input);
    const answer = isPlainObject(result.json) ? result.json : null;
    const errors = answer?.response_action === 'errors' && isPlainObject(answer.errors) ? (answer.errors as Record<string, string>) : null;
    const closed = result.status === 200 && (answer === null || answer.response_action === undefined || answer.response_action === 'clear');
    if (closed) this.modals.close(modal.id);
    else this.modals.showErrors(modal.id, errors);
    return { ...result, closed, errors };
  }

  /** A user opens the app's Home tab: an `app_home_opened` event, signed, over HTTP. */
  openHome(input: OpenHomeInput = {}): Promise<DeliveryResult> {
    return deliverSignedJson(this.requireEventsUrl(), this.signingSecret, this.appHomeOpened(input), input);
  }

  /** The same event as an `events_api` envelope on the newest Socket Mode connection. */
  openHomeOverSocket(input: SocketOpenHomeInput = {}): Promise<SocketAck> {
    return this.socketMode.deliver('events_api', this.appHomeOpened(input), false);
  }

  /** The user's Home tab as last published, if ever. */
  homeView(userId: string = STANDIN_DEFAULTS.user.id): HomeViewRecord | undefined {
    return this.store.home(userId);
  }

  private appHomeOpened(input: SocketOpenHomeInput): Record<string, unknown> {
    const user = this.user(input.userId, input.userName);
    const now = this.clock();
    const current = this.store.home(user.id);
    return {
      token: STANDIN_DEFAULTS.verificationToken,
      team_id: this.team.id,
      api_app_id: this.bot.appId,
      event: {
        type: 'app_home_opened',
        user: user.id,
        // The app's direct-message channel with this user.
        channel: `D${user.id.slice(1)}`,
        tab: input.tab ?? 'home',
        ...(current ? { view: { id: current.id, team_id: this.team.id, ...current.view } } : {}),
        event_ts: (now / 1000).toFixed(6),
      },
      type: 'event_callback',
      event_id: eventId(),
      event_time: Math.floor(now / 1000),
      authorizations: [{ enterprise_id: null, team_id: this.team.id, user_id: this.bot.userId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    };
  }

  /** Socket Mode connections that are still open, oldest first. */
  openSocketConnections(): SocketConnectionRecord[] {
    return this.socketMode.openConnections();
  }

  /** The newest open Socket Mode connection opened after `after` (a `clock()` value), once there is one. */
  waitForSocketConnection(timeoutMs = 5000, after = -Infinity): Promise<SocketConnectionRecord> {
    return waitFor(() => this.socketMode.openConnections().filter((c) => c.openedAt > after).at(-1), timeoutMs);
  }

  /** Sends `{"type":"disconnect"}` on every open connection, as Slack does before recycling a server. */
  requestSocketRefresh(reason = 'refresh_requested'): number {
    return this.socketMode.requestRefresh(reason);
  }

  waitFor<T>(predicate: Predicate<T>, timeoutMs = 5000): Promise<T> {
    return waitFor(predicate, timeoutMs);
  }

  /** The first post to `/response/<id>`, once it arrives. */
  waitForResponse(responseUrlId: string, timeoutMs = 5000): Promise<ResponseRecord> {
    return waitFor(() => this.responses.find((r) => r.id === responseUrlId), timeoutMs);
  }

  /** The channel as users see it: top-level messages (and broadcast replies), oldest first. */
  messages(channel: string): StoredMessage[] {
    return this.store.messages(channel);
  }

  /** A thread's parent followed by its replies; `ts` may be the parent's or any reply's. */
  thread(channel: string, ts: string): StoredMessage[] {
    return this.store.thread(channel, ts);
  }

  /** Every file uploaded and completed, shared or private, oldest first. */
  files(): SlackFileObject[] {
    return this.uploads.files();
  }

  /** The bytes uploaded for a file id. */
  fileBytes(id: string): Buffer | undefined {
    return this.uploads.bytesOf(id);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.store.message(channel, ts);
  }

  ephemerals(filter: { user?: string; channel?: string } = {}): EphemeralMessage[] {
    return this.store.ephemerals(filter);
  }

  /** Everything stored, as plain JSON-ready data. */
  snapshot(): StoreSnapshot {
    return this.store.snapshot();
  }

  on<K extends keyof StandinEvents>(event: K, listener: (...args: StandinEvents[K]) => void): this {
    this.store.events.on(event, listener as never);
    return this;
  }

  off<K extends keyof StandinEvents>(event: K, listener: (...args: StandinEvents[K]) => void): this {
    this.store.events.off(event, listener as never);
    return this;
  }

  async stop(): Promise<void> {
    this.playground?.close();
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
    // Upgraded sockets are no longer the HTTP server's to close, yet close() waits for them.
    await this.socketMode.closeAll();
    this.server.closeAllConnections();
    await closed;
    this.store.events.removeAllListeners();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const api = /^\/api\/([^/]+)$/.exec(url.pathname);
    if (api?.[1] !== undefined && (req.method === 'POST' || req.method === 'GET')) {
      await this.webApi.handle(req, res, decodeURIComponent(api[1]), url.searchParams);
      return;
    }
    const upload = /^\/upload\/([^/]+)$/.exec(url.pathname);
    if (upload?.[1] !== undefined && req.method === 'POST') {
      await this.uploads.handleUpload(req, res, decodeURIComponent(upload[1]));
      return;
    }
    const file = /^\/files\/([^/]+)\/[^/]+$/.exec(url.pathname);
    if (file?.[1] !== undefined && req.method === 'GET') {
      req.resume();
      this.uploads.serve(res, decodeURIComponent(file[1]));
      return;
    }
    const response = /^\/response\/([^/]+)$/.exec(url.pathname);
    if (response?.[1] !== undefined && req.method === 'POST') {
      await this.responseUrls.handle(req, res, response[1]);
      return;
    }
    if (this.playground && (await this.playground.handle(req, res, url))) return;
    req.resume();
    sendJson(res, 404, { ok: false, error: 'not_found' });
  }

  private createPlayground(options: PlaygroundOptions): Playground {
    return new Playground(
      {
        store: this.store,
        channel: this.channel(options.channel),
        user: this.user(options.userId, options.userName),
        bot: this.bot,
        clock: this.clock,
        userName: (id) => this.directory.resolveUser(id)?.name,
        hasEventsUrl: () => this.eventsUrlValue !== undefined,
        sendSlashCommand: (input) => this.sendSlashCommand(input),
        clickButton: (input) => this.clickButton(input),
        openHome: (input) => this.openHome(input),
        modalOf: (userId) => this.modals.list(userId).at(-1),
        people: () => this.directory.knownUsers(),
        submitModal: (input) => this.submitModal(input),
        closeModal: (viewId) => this.closeModal(viewId),
      },
      options,
    );
  }

  private requirePlayground(method: string): Playground {
    if (!this.playground) throw new Error(`Slack stand-in: ${method}() needs the playground option`);
    return this.playground;
  }

  /** A trigger_id for an interaction of `user`: it can open one modal within 3 seconds. */
  private issueTrigger(user: string): string {
    const trigger = triggerId();
    this.modals.issueTrigger(trigger, user);
    return trigger;
  }

  private responseUrl(id: string): string {
    return `${this.url}response/${id}`;
  }

  private requireEventsUrl(): string {
    if (this.eventsUrlValue === undefined) throw new Error('Slack stand-in: no events URL; call setEventsUrl() first');
    return this.eventsUrlValue;
  }

  private user(id: string | undefined, name: string | undefined): UserInfo {
    const userId = id ?? STANDIN_DEFAULTS.user.id;
    if (name !== undefined) this.directory.addUser({ id: userId, name });
    const known = this.directory.resolveUser(userId);
    if (!known) throw new Error(`Slack stand-in: "${userId}" is not a user ID (U... or W...)`);
    return known;
  }

  private channel(id: string | undefined, name?: string): ChannelInfo {
    const channelId = id ?? STANDIN_DEFAULTS.channel.id;
    if (name !== undefined) this.directory.addChannel({ id: channelId, name });
    const known = this.directory.resolveChannel(channelId);
    if (!known) throw new Error(`Slack stand-in: unknown channel "${channelId}"`);
    return { id: known.id, name: known.name };
  }

  private isEphemeral(message: ClickableMessage): boolean {
    if ('ephemeral' in message && typeof message.ephemeral === 'boolean') return message.ephemeral;
    // ts values are unique across the workspace, so whichever list holds it decides.
    return this.store.message(message.channel, message.ts) === undefined && this.store.ephemeral(message.channel, message.ts) !== undefined;
  }

  private payloadMessage(message: ClickableMessage): Record<string, unknown> {
    const { channel: _channel, ...rest } = message as Record<string, unknown> & { channel: string };
    delete rest.source;
    delete rest.ephemeral;
    return {
      type: 'message',
      user: this.bot.userId,
      bot_id: this.bot.botId,
      app_id: this.bot.appId,
      team: this.team.id,
      text: '',
      ...rest,
    };
  }
}

export async function startSlackStandin(opts: SlackStandinOptions): Promise<SlackStandin> {
  if (opts.appToken !== undefined && !opts.appToken.startsWith('xapp-')) {
    throw new Error('Slack stand-in: appToken must start with "xapp-", as app-level tokens do');
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port ?? 0, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    return new SlackStandin(server, opts);
  } catch (err) {
    // A bad option (say, an unknown playground channel) must not leave the port open.
    server.close();
    throw err;
  }
}

export type {
  ApiCall,
  Block,
  Chaos,
  ChannelInfo,
  EphemeralMessage,
  Fault,
  HomeViewRecord,
  ResponseBody,
  ResponseRecord,
  StandinEvents,
  StoredMessage,
  Team,
  UserInfo,
} from './types.js';
export type { StoreSnapshot } from './store.js';
export type { DeliveryResult, SignOverrides } from './requests.js';
export type { EnvelopeRecord, EnvelopeType, SocketAck, SocketConnectionRecord } from './socket-mode.js';
export { SOCKET_ACK_TIMEOUT_MS } from './socket-mode.js';
export { RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL_MS } from './response-urls.js';
export type { PlaygroundOptions } from './playground/playground.js';
export type { ModalView, OpenModal } from './modals.js';
export { TRIGGER_TTL_MS } from './modals.js';
export type { PlaygroundState } from './playground/snapshot.js';
