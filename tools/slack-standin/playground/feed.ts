import type { IncomingMessage, ServerResponse } from 'node:http';

export type PlaygroundEventType = 'message' | 'update' | 'delete' | 'ephemeral' | 'banner' | 'notes' | 'lagbot' | 'home' | 'modal';

/** Just enough for the page to know it should fetch the state again. */
export interface PlaygroundEvent {
  type: PlaygroundEventType;
  channel?: string;
  ts?: string;
}

export const PING_INTERVAL_MS = 15_000;
/** Sent to browsers as `retry:`: after a demo restart the page is back within a second or so. */
export const RECONNECT_MS = 1_000;

/** Server-Sent Events to every open page. */
export class EventFeed {
  private readonly clients = new Set<ServerResponse>();
  private ping: NodeJS.Timeout | undefined;

  constructor(private readonly pingMs = PING_INTERVAL_MS) {}

  get size(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Proxies that buffer would hold events back until the buffer fills.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
    this.clients.add(res);
    const drop = (): void => this.detach(res);
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    this.startPing();
  }

  send(event: PlaygroundEvent): void {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const res of this.clients) this.write(res, frame);
  }

  /** Ends every stream; browsers reconnect on their own, as after a restart. */
  disconnectAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stopPing();
  }

  private detach(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stopPing();
  }

  private write(res: ServerResponse, frame: string): void {
    if (res.destroyed || res.writableEnded) {
      this.detach(res);
      return;
    }
    res.write(frame);
  }

  // A comment line now and then keeps idle connections from being cut by proxies and
  // lets a dead peer surface as a write error.
  private startPing(): void {
    if (this.ping) return;
    this.ping = setInterval(() => {
      for (const res of this.clients) this.write(res, ': ping\n\n');
    }, this.pingMs);
    this.ping.unref();
  }

  private stopPing(): void {
    clearInterval(this.ping);
    this.ping = undefined;
  }
}
