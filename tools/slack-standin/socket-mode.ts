import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { isPlainObject, MAX_BODY_BYTES } from './http.js';

/** Slack drops an envelope the app has not acknowledged within 3 seconds. */
export const SOCKET_ACK_TIMEOUT_MS = 3_000;

/**
 * Slack pings every connection; @slack/socket-mode only starts watching for server pings
 * after the first one arrives and then allows 30 s between them, so any shorter interval works.
 */
const SERVER_PING_INTERVAL_MS = 10_000;

/**
 * How long a close handshake the stand-in started may take before the TCP connection is cut;
 * ws would wait 30 s, which would hold up stop().
 */
const CLOSE_GRACE_MS = 1_000;

/** Envelope types Slack uses in Socket Mode; lagbot only receives the first two. */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export type CloseInitiator = 'app' | 'standin' | 'network';

export interface SocketConnectionRecord {
  id: string;
  /** The single-use ticket from `apps.connections.open` the app connected with. */
  ticket: string;
  openedAt: number;
  closedAt?: number;
  /** 1000 for a clean close; 1006 when the TCP connection went away without a close frame. */
  closeCode?: number;
  closeReason?: string;
  closedBy?: CloseInitiator;
  /** Every text message the app sent on this connection, acks included, parsed when it was JSON. */
  received: unknown[];
  pingsFromApp: number;
  pongsFromApp: number;
}

export interface EnvelopeRecord {
  envelopeId: string;
  type: EnvelopeType;
  connectionId: string;
  payload: Record<string, unknown>;
  acceptsResponsePayload: boolean;
  sentAt: number;
  ackedAt?: number;
  /** The `payload` of the app's ack; Bolt sends `{}` for a bare `ack()`. */
  ack?: Record<string, unknown>;
  /** Why the envelope was never acknowledged. */
  failure?: 'timeout' | 'connection_closed';
}

export interface SocketAck {
  envelopeId: string;
  connectionId: string;
  /** The `payload` of the app's ack (`{}` when it sent none). */
  ack: Record<string, unknown>;
  /** Wall-clock time from sending the envelope to receiving the ack. */
  ackMs: number;
}

export interface SocketModeDeps {
  appId: string;
  /** The stand-in's base URL, ending in `/`; known only once the server listens. */
  baseUrl: () => string;
  clock: () => number;
  /** Protocol violations by the client: they point at a bug on one side or the other. */
  onError: (err: unknown) => void;
}

/**
 * ws does not expose the status code it closes with after a protocol error, only the error's
 * documented `WS_ERR_*` code; everything not listed here closes with 1002.
 */
const WS_ERROR_CLOSE_CODES: Record<string, number> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
};

function refuse(socket: Duplex, status: number, text: string): void {
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

interface LiveConnection {
  record: SocketConnectionRecord;
  ws: WebSocket;
  closed: Promise<void>;
  pinger: NodeJS.Timeout;
  /** Set once the stand-in starts closing, so the record keeps its own code whatever the app echoes. */
  closing?: { code: number; reason: string };
  graceTimer?: NodeJS.Timeout;
}

interface PendingAck {
  envelope: EnvelopeRecord;
  startedMs: number;
  timer: NodeJS.Timeout;
  resolve: (ack: SocketAck) => void;
  reject: (err: Error) => void;
}

/**
 * Slack's Socket Mode edge: hands out single-use connection URLs, greets each connection
 * with `hello`, delivers envelopes and waits for the app to acknowledge them.
 */
export class SocketModeServer {
  readonly connections: SocketConnectionRecord[] = [];
  readonly envelopes: EnvelopeRecord[] = [];
  private readonly tickets = new Set<string>();
  private readonly live = new Map<string, LiveConnection>();
  // `live` already tracks the connections.
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: MAX_BODY_BYTES });
  private readonly pending = new Map<string, PendingAck>();

  constructor(private readonly deps: SocketModeDeps) {}

  /** For `apps.connections.open`: a fresh URL whose ticket works for one connection, as Slack's do. */
  issueUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    const base = this.deps.baseUrl().replace(/^http/, 'ws');
    return `${base}link/?ticket=${ticket}&app_id=${encodeURIComponent(this.deps.appId)}`;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.deps.baseUrl());
    if (url.pathname !== '/link/' && url.pathname !== '/link') return refuse(socket, 404, 'Not Found');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (!this.tickets.has(ticket)) return refuse(socket, 401, 'Unauthorized');
    // ws answers a malformed handshake with 400 and never calls back, so only a connection spends the ticket.
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // Another upgrade may have spent the ticket while this one was in ws's hands.
      if (this.tickets.delete(ticket)) this.accept(ws, ticket);
      else ws.terminate();
    });
  }

  private accept(ws: WebSocket, ticket: string): void {
    const record: SocketConnectionRecord = {
      id: randomUUID(),
      ticket,
      openedAt: this.deps.clock(),
      received: [],
      pingsFromApp: 0,
      pongsFromApp: 0,
    };
    this.connections.push(record);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const pinger = setInterval(() => ws.ping(), SERVER_PING_INTERVAL_MS);
    pinger.unref();
    const live: LiveConnection = { record, ws, closed, pinger };
    this.live.set(record.id, live);

    ws.on('message', (data, isBinary) => {
      // Socket Mode is JSON text both ways; a binary message means the client is confused.
      if (isBinary) {
        this.deps.onError(new Error('Slack stand-in: binary messages are not part of Socket Mode'));
        this.close(live, 1003, 'binary messages are not part of Socket Mode');
        return;
      }
      // With the default binaryType a message always arrives as one Buffer.
      this.onText(record, (data as Buffer).toString('utf8'));
    });
    ws.on('ping', () => {
      record.pingsFromApp += 1;
    });
    ws.on('pong', () => {
      record.pongsFromApp += 1;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      this.deps.onError(err);
      // ws has sent its own close frame and stops reading, so the app's echo never reaches 'close'.
      live.closing ??= { code: WS_ERROR_CLOSE_CODES[err.code ?? ''] ?? 1002, reason: err.message };
      this.cutAfterGrace(live);
    });
    ws.on('close', (code, reason) => this.onClosed(live, code, reason.toString('utf8')));

    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.live.size,
        debug_info: { host: 'applink-standin', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.deps.appId },
      }),
    );
  }

  /** Connections still open, oldest first. */
  openConnections(): SocketConnectionRecord[] {
    return this.open().map((c) => c.record);
  }

  /** Sends the envelope on the newest open connection; resolves with the ack, rejects without one in 3 s. */
  async deliver(type: EnvelopeType, payload: Record<string, unknown>, acceptsResponsePayload: boolean): Promise<SocketAck> {
    const target = this.open().at(-1);
    if (!target) throw new Error('Slack stand-in: no open Socket Mode connection; has the app called apps.connections.open and connected?');
    const envelope: EnvelopeRecord = {
      envelopeId: randomUUID(),
      type,
      connectionId: target.record.id,
      payload,
      acceptsResponsePayload,
      sentAt: this.deps.clock(),
    };
    this.envelopes.push(envelope);
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelope.envelopeId);
        envelope.failure = 'timeout';
        reject(new Error(`Slack stand-in: the app did not acknowledge ${type} envelope ${envelope.envelopeId} within ${SOCKET_ACK_TIMEOUT_MS} ms`));
      }, SOCKET_ACK_TIMEOUT_MS);
      this.pending.set(envelope.envelopeId, { envelope, startedMs: Date.now(), timer, resolve, reject });
      target.ws.send(JSON.stringify({ envelope_id: envelope.envelopeId, type, accepts_response_payload: acceptsResponsePayload, payload }));
    });
  }

  /** Tells every open connection to reconnect, as Slack does before recycling a server; returns how many were told. */
  requestRefresh(reason = 'refresh_requested'): number {
    const open = this.open();
    for (const { ws } of open) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-standin' } }));
    return open.length;
  }

  async closeAll(): Promise<void> {
    this.tickets.clear();
    const live = [...this.live.values()];
    for (const c of live) this.close(c, 1001, 'stand-in stopping');
    await Promise.all(live.map((c) => c.closed));
  }

  private open(): LiveConnection[] {
    return [...this.live.values()].filter((c) => c.ws.readyState === WebSocket.OPEN);
  }

  private close(live: LiveConnection, code: number, reason: string): void {
    // A close the app already started stays the app's.
    if (live.ws.readyState === WebSocket.OPEN) live.closing ??= { code, reason };
    live.ws.close(code, reason);
    this.cutAfterGrace(live);
  }

  private cutAfterGrace(live: LiveConnection): void {
    if (live.graceTimer) return;
    live.graceTimer = setTimeout(() => live.ws.terminate(), CLOSE_GRACE_MS);
    live.graceTimer.unref();
  }

  private onText(record: SocketConnectionRecord, text: string): void {
    let message: unknown = text;
    try {
      message = JSON.parse(text) as unknown;
    } catch {
      // kept as text in `received`; Slack ignores what it cannot parse
    }
    record.received.push(message);
    if (!isPlainObject(message) || typeof message.envelope_id !== 'string') return;
    // Late and repeated acks match nothing here and stay visible only in `received`.
    const waiting = this.pending.get(message.envelope_id);
    if (!waiting) return;
    this.pending.delete(message.envelope_id);
    clearTimeout(waiting.timer);
    const ack = isPlainObject(message.payload) ? message.payload : {};
    waiting.envelope.ackedAt = this.deps.clock();
    waiting.envelope.ack = ack;
    waiting.resolve({ envelopeId: waiting.envelope.envelopeId, connectionId: record.id, ack, ackMs: Date.now() - waiting.startedMs });
  }

  /** `code` and `reason` are what the app sent, or 1006 and '' when TCP went away without a close frame. */
  private onClosed(live: LiveConnection, code: number, reason: string): void {
    const { record, closing } = live;
    clearInterval(live.pinger);
    clearTimeout(live.graceTimer);
    this.live.delete(record.id);
    record.closedAt = this.deps.clock();
    record.closeCode = closing?.code ?? code;
    record.closeReason = closing?.reason ?? reason;
    record.closedBy = closing ? 'standin' : code === 1006 ? 'network' : 'app';
    for (const [id, waiting] of this.pending) {
      if (waiting.envelope.connectionId !== record.id) continue;
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.envelope.failure = 'connection_closed';
      waiting.reject(new Error(`Slack stand-in: the Socket Mode connection closed before envelope ${id} was acknowledged`));
    }
  }
}
