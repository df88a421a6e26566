import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http.js';
import { findButton } from '../requests.js';
import type { ModalView, OpenModal } from '../modals.js';
import type { ButtonClickInput, DeliveredRequest, ModalSubmitInput, ModalSubmitResult, OpenHomeInput, SlashCommandInput } from '../standin.js';
import type { MessageStore } from '../store.js';
import type { ApiCall, ChannelInfo, EphemeralMessage, HomeViewRecord, StoredMessage, UserInfo } from '../types.js';
import type { BotIdentity } from '../web-api.js';
import { checkClick, checkCommand, checkModal, readJsonObject } from './bodies.js';
import type { Checked } from './bodies.js';
import { Board } from './board.js';
import { EventFeed } from './feed.js';
import { Liveness } from './liveness.js';
import { playgroundPage } from './page.js';
import { buildSnapshot } from './snapshot.js';
import type { PlaygroundModal, PlaygroundState } from './snapshot.js';
import { unreachableReason } from './unreachable.js';

export interface PlaygroundOptions {
  /** The one channel the page shows: an ID, or the name of a channel the stand-in knows. */
  channel: string;
  /** Who sits at the page; defaults to the stand-in's default user. */
  userId?: string;
  userName?: string;
  /** Shown as the workspace name and the page title. */
  title?: string;
}

/** What the playground needs from the stand-in it lives in. */
export interface PlaygroundHost {
  store: MessageStore;
  channel: ChannelInfo;
  user: UserInfo;
  bot: BotIdentity;
  clock: () => number;
  userName(id: string): string | undefined;
  hasEventsUrl(): boolean;
  sendSlashCommand(input: SlashCommandInput): Promise<DeliveredRequest>;
  clickButton(input: ButtonClickInput): Promise<DeliveredRequest>;
  openHome(input: OpenHomeInput): Promise<{ status: number }>;
  /** The user's newest open modal. */
  modalOf(userId: string): OpenModal | undefined;
  people(): UserInfo[];
  submitModal(input: ModalSubmitInput): Promise<ModalSubmitResult>;
  closeModal(viewId: string): void;
}

const plain = (value: unknown): string | null => (value && typeof value === 'object' && typeof (value as { text?: unknown }).text === 'string' ? (value as { text: string }).text : null);

/** A modal as the page draws it: the playground knows modals with one user picker (lagbot's). */
function pageModal(modal: OpenModal, people: UserInfo[]): PlaygroundModal {
  const view: ModalView = modal.view;
  const input = view.blocks.find((b) => b.type === 'input');
  const element = (input?.element ?? {}) as { type?: unknown };
  return {
    id: modal.id,
    title: view.title.text,
    submit: plain(view.submit) ?? 'Submit',
    close: plain(view.close) ?? 'Cancel',
    label: plain(input?.label) ?? '',
    hint: plain(input?.hint),
    multiple: element.type === 'multi_users_select',
    error: modal.errors ? Object.values(modal.errors).join(' ') : null,
    people,
  };
}

export const DEFAULT_TITLE = 'lagbot playground';
const COMMAND = '/lag';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** What Slack's client does to typed text before a command leaves it. */
function escapeTyped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function refuse(res: ServerResponse, failed: Extract<Checked<unknown>, { ok: false }>): void {
  sendJson(res, failed.status, { ok: false, error: failed.error });
}

/** A browser page onto one channel of the stand-in, live over Server-Sent Events. */
export class Playground {
  readonly title: string;
  private readonly board: Board;
  private readonly liveness: Liveness;
  private readonly feed = new EventFeed();
  private readonly routes: Record<string, { method: string; run: Handler }>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly host: PlaygroundHost,
    options: PlaygroundOptions,
  ) {
    this.title = options.title ?? DEFAULT_TITLE;
    this.board = new Board(host.clock);
    this.liveness = new Liveness(host.clock);
    this.routes = {
      '/': { method: 'GET', run: (_req, res) => this.page(res) },
      '/playground/state': { method: 'GET', run: (_req, res) => sendJson(res, 200, this.state(), { 'Cache-Control': 'no-store' }) },
      '/playground/events': { method: 'GET', run: (req, res) => this.feed.attach(req, res) },
      '/playground/command': { method: 'POST', run: (req, res) => this.command(req, res) },
      '/playground/click': { method: 'POST', run: (req, res) => this.click(req, res) },
      '/playground/home': { method: 'POST', run: (req, res) => this.openHome(req, res) },
      '/playground/modal': { method: 'POST', run: (req, res) => this.modal(req, res, true) },
      '/playground/modal/close': { method: 'POST', run: (req, res) => this.modal(req, res, false) },
    };
    this.unsubscribe = this.follow();
  }

  /** Serves the request if it is one of the playground's; false leaves it to the stand-in. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const route = this.routes[url.pathname];
    if (!route) return false;
    if (req.method !== route.method) {
      req.resume();
      sendJson(res, 405, { ok: false, error: `${url.pathname} takes ${route.method}` }, { Allow: route.method });
      return true;
    }
    await route.run(req, res);
    return true;
  }

  state(): PlaygroundState {
    const { store, channel, user, bot } = this.host;
    return buildSnapshot({
      title: this.title,
      channel,
      user,
      bot: { userId: bot.userId, name: bot.name },
      banner: this.board.banner,
      notes: this.board.notes,
      lagbot: this.liveness.status(),
      now: this.host.clock(),
      messages: (c) => store.messages(c),
      thread: (c, ts) => store.thread(c, ts),
      ephemerals: (f) => store.ephemerals(f),
      userName: (id) => this.host.userName(id),
      home: (id) => store.home(id),
      modal: this.viewerModal(),
    });
  }

  setBanner(text: string | null): void {
    this.board.setBanner(text);
    this.feed.send({ type: 'banner' });
  }

  addNote(text: string): void {
    this.board.addNote(text);
    this.feed.send({ type: 'notes' });
  }

  /** Ends every open event stream, as a restart would; pages reconnect and re-sync. */
  disconnectClients(): void {
    this.feed.disconnectAll();
  }

  close(): void {
    this.unsubscribe();
    this.feed.disconnectAll();
  }

  private page(res: ServerResponse): void {
    // A fresh nonce per page: only the page's own script and style run, even if some
    // message text ever made it into the document as markup.
    const nonce = randomBytes(16).toString('base64');
    const html = playgroundPage({ title: this.title, nonce });
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(html),
      'Cache-Control': 'no-store',
      'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(html);
  }

  private async command(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonObject(req);
    if (!body.ok) return refuse(res, body);
    const command = checkCommand(body.value);
    if (!command.ok) return refuse(res, command);
    const { user, channel } = this.host;
    await this.deliver(res, () =>
      this.host.sendSlashCommand({ command: COMMAND, text: escapeTyped(command.value.text), userId: user.id, userName: user.name, channelId: channel.id }),
    );
  }

  private async click(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonObject(req);
    if (!body.ok) return refuse(res, body);
    const click = checkClick(body.value);
    if (!click.ok) return refuse(res, click);
    const { channel, ts, actionId, value, ephemeral } = click.value;
    const message = this.visibleMessage(channel, ts, ephemeral);
    if (!message) {
      sendJson(res, 404, { ok: false, error: 'that message is gone (deleted or replaced)' });
      return;
    }
    if (!findButton(message.blocks, actionId)) {
      sendJson(res, 400, { ok: false, error: `that message has no button "${actionId}"` });
      return;
    }
    const { user } = this.host;
    await this.deliver(res, () =>
      this.host.clickButton({ message, actionId, userId: user.id, userName: user.name, ...(value !== undefined ? { value } : {}) }),
    );
  }

  /** The viewer opened lagbot's Home tab: Slack tells the app (app_home_opened), the app publishes it. */
  private async openHome(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const { user } = this.host;
    await this.deliver(res, () => this.host.openHome({ userId: user.id, userName: user.name }));
  }

  private viewerModal(): PlaygroundModal | null {
    const modal = this.host.modalOf(this.host.user.id);
    return modal ? pageModal(modal, this.host.people().filter((p) => p.id !== this.host.bot.userId)) : null;
  }

  /** The viewer submits the modal with the people picked (signed view_submission), or cancels it. */
  private async modal(req: IncomingMessage, res: ServerResponse, submitting: boolean): Promise<void> {
    const body = await readJsonObject(req);
    if (!body.ok) return refuse(res, body);
    const checked = checkModal(body.value, submitting);
    if (!checked.ok) return refuse(res, checked);
    const open = this.host.modalOf(this.host.user.id);
    if (!open || open.id !== checked.value.viewId) {
      sendJson(res, 404, { ok: false, error: 'that form is no longer open' });
      return;
    }
    if (!submitting) {
      this.host.closeModal(open.id);
      sendJson(res, 200, { ok: true });
      return;
    }
    const { users } = checked.value;
    await this.deliver(res, () => this.host.submitModal({ viewId: open.id, userId: this.host.user.id, users }));
  }

  /** A message the viewer can see: in the channel, or ephemeral and theirs. */
  private visibleMessage(channel: string, ts: string, ephemeral: boolean | undefined): StoredMessage | EphemeralMessage | undefined {
    const { store, user } = this.host;
    const stored = ephemeral === true ? undefined : store.message(channel, ts);
    if (stored || ephemeral === false) return stored;
    const own = store.ephemeral(channel, ts);
    return own?.user === user.id ? own : undefined;
  }

  /** Sends to lagbot and says how it went; a lagbot that is down is an answer, not a crash. */
  private async deliver(res: ServerResponse, send: () => Promise<{ status: number }>): Promise<void> {
    if (!this.host.hasEventsUrl()) {
      sendJson(res, 503, { ok: false, error: 'lagbot is not connected yet (the stand-in has no events URL)' });
      return;
    }
    let status: number;
    try {
      ({ status } = await send());
    } catch (err) {
      this.liveness.unreachable();
      this.feed.send({ type: 'lagbot' });
      sendJson(res, 502, { ok: false, error: unreachableReason(err) });
      return;
    }
    this.liveness.heard();
    this.feed.send({ type: 'lagbot' });
    if (status >= 200 && status < 300) sendJson(res, 200, { ok: true, status });
    else sendJson(res, 502, { ok: false, status, error: `lagbot answered HTTP ${status}` });
  }

  /** Store changes in the page's channel become events; lagbot's own calls show it is alive. */
  private follow(): () => void {
    const { store, channel, user } = this.host;
    const mine = (c: string): boolean => c === channel.id;
    const onMessage = (m: StoredMessage): void => {
      if (mine(m.channel)) this.feed.send({ type: 'message', channel: m.channel, ts: m.ts });
    };
    const onUpdate = (m: StoredMessage | EphemeralMessage): void => {
      if (mine(m.channel)) this.feed.send({ type: 'update', channel: m.channel, ts: m.ts });
    };
    const onDelete = (d: { channel: string; ts: string }): void => {
      if (mine(d.channel)) this.feed.send({ type: 'delete', channel: d.channel, ts: d.ts });
    };
    const onEphemeral = (m: EphemeralMessage): void => {
      if (mine(m.channel) && m.user === user.id) this.feed.send({ type: 'ephemeral', channel: m.channel, ts: m.ts });
    };
    const onCall = (call: ApiCall): void => {
      if ((call.response as { ok?: unknown } | undefined)?.ok === true) this.liveness.heard();
    };
    const onResponse = (): void => this.liveness.heard();
    const onHome = (h: HomeViewRecord): void => {
      if (h.user === user.id) this.feed.send({ type: 'home' });
    };
    const onModal = (m: { user: string }): void => {
      if (m.user === user.id) this.feed.send({ type: 'modal' });
    };
    store.events.on('home', onHome);
    store.events.on('modal', onModal);
    store.events.on('message', onMessage);
    store.events.on('update', onUpdate);
    store.events.on('delete', onDelete);
    store.events.on('ephemeral', onEphemeral);
    store.events.on('call', onCall);
    store.events.on('response', onResponse);
    return () => {
      store.events.off('message', onMessage);
      store.events.off('update', onUpdate);
      store.events.off('delete', onDelete);
      store.events.off('ephemeral', onEphemeral);
      store.events.off('call', onCall);
      store.events.off('response', onResponse);
      store.events.off('home', onHome);
      store.events.off('modal', onModal);
    };
  }
}
