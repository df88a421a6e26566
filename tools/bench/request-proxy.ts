/**
 * Counts Kafka requests at the broker's side of the connection: a TCP proxy in front of a
 * broker listener that the broker advertises at the proxy's address (broker.ts
 * `advertisedPort`, cluster.ts `advertisedPorts`), so a client that bootstraps through the
 * proxy makes every later connection (per broker, per coordinator) through it too. Nothing
 * of the client is instrumented: the proxy reads the byte stream the broker receives.
 *
 * Each Kafka request is a frame: int32 size, then the request header — int16 api_key, int16
 * api_version, int32 correlation_id, nullable string client_id (int16 length, bytes; the same
 * in header v1 and the flexible v2). Requests are counted per client.id, per API and per API
 * version as they reach the proxy, before they are forwarded; responses (int32 size, int32
 * correlation_id) are matched to their request for bytes and the broker-side round trip.
 * Bytes are forwarded unchanged.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { apiName } from './wire-counter.js';

/** What one client.id sent and was answered between two take() calls. */
export interface ClientCounts {
  /** Requests by API name. */
  requests: Record<string, number>;
  /** Requests by "API vN". */
  byVersion: Record<string, number>;
  totalRequests: number;
  requestBytes: number;
  responses: number;
  responseBytes: number;
  /** Connections the client opened. */
  connections: number;
  /** Longest round trip per API seen at the proxy: request received until its whole response passed. */
  slowestMs: Record<string, number>;
}

/** By client.id ("(none)" for a null client id). */
export type ProxyCounts = Record<string, ClientCounts>;

export function emptyClientCounts(): ClientCounts {
  return { requests: {}, byVersion: {}, totalRequests: 0, requestBytes: 0, responses: 0, responseBytes: 0, connections: 0, slowestMs: {} };
}

/**
 * Splits a byte stream into Kafka frames, handing on the first `maxHead` bytes of each (size
 * prefix included; fewer for a shorter frame) and skipping the rest without copying.
 */
export class HeadScanner {
  private readonly head: Buffer;
  private have = 0;
  /** Head bytes wanted for the current frame: 4 until the size is read. */
  private want = 4;
  private size = -1;
  /** Bytes of the current frame after its head still to come. */
  private remaining = 0;
  broken = false;

  constructor(
    private readonly maxHead: number,
    private readonly onFrame: (head: Buffer, frameBytes: number) => void,
  ) {
    this.head = Buffer.alloc(maxHead);
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.have < this.want) {
        const n = Math.min(this.want - this.have, chunk.length - i);
        chunk.copy(this.head, this.have, i, i + n);
        this.have += n;
        i += n;
        if (this.have < this.want) return;
        if (this.size < 0) {
          this.size = this.head.readInt32BE(0);
          // Not a Kafka frame (or a raw SASL v0 token): stop counting this stream rather than count garbage.
          if (this.size < 0 || this.size > 1 << 30) {
            this.broken = true;
            return;
          }
          this.want = 4 + Math.min(this.size, this.maxHead - 4);
          this.remaining = this.size - (this.want - 4);
          if (this.have < this.want) continue;
        }
        if (this.remaining === 0) this.finish();
        continue;
      }
      const skip = Math.min(this.remaining, chunk.length - i);
      i += skip;
      this.remaining -= skip;
      if (this.remaining === 0) this.finish();
    }
  }

  private finish(): void {
    const head = this.head.subarray(0, this.want);
    const bytes = 4 + this.size;
    this.have = 0;
    this.want = 4;
    this.size = -1;
    this.remaining = 0;
    this.onFrame(head, bytes);
  }
}

/** api_key, api_version, correlation_id and client_id of a request head (size prefix included). */
export function parseRequestHead(head: Buffer): { apiKey: number; apiVersion: number; correlationId: number; clientId: string | null } | null {
  if (head.length < 12) return null;
  const apiKey = head.readInt16BE(4);
  const apiVersion = head.readInt16BE(6);
  const correlationId = head.readInt32BE(8);
  let clientId: string | null = null;
  if (head.length >= 14) {
    const len = head.readInt16BE(12);
    if (len >= 0 && head.length >= 14 + len) clientId = head.toString('utf8', 14, 14 + len);
    else if (len >= 0) clientId = `${head.toString('utf8', 14)}…`;
  }
  return { apiKey, apiVersion, correlationId, clientId };
}

const NO_CLIENT_ID = '(none)';

interface Route {
  server: Server;
  target: { host: string; port: number } | null;
}

export class RequestProxy {
  private counts = new Map<string, ClientCounts>();
  private readonly routes = new Map<number, Route>();
  private readonly sockets = new Set<Socket>();

  /** Opens a listening port (on 127.0.0.1) whose connections go to the target set with route(). */
  async listen(): Promise<number> {
    const server = createServer((client) => this.accept(client, route));
    const route: Route = { server, target: null };
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.routes.set(port, route);
    return port;
  }

  route(port: number, target: { host: string; port: number }): void {
    const route = this.routes.get(port);
    if (!route) throw new Error(`the proxy does not listen on ${port}`);
    route.target = target;
  }

  take(): ProxyCounts {
    const counts = Object.fromEntries(this.counts);
    this.counts = new Map();
    return counts;
  }

  private of(clientId: string): ClientCounts {
    let c = this.counts.get(clientId);
    if (!c) {
      c = emptyClientCounts();
      this.counts.set(clientId, c);
    }
    return c;
  }

  private accept(client: Socket, route: Route): void {
    if (!route.target) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = createConnection({ ...route.target, noDelay: true });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const sent = new Map<number, { api: string; at: number }>();
    let clientId: string | null = null;

    const requests = new HeadScanner(14 + 256, (head, bytes) => {
      const r = parseRequestHead(head);
      if (!r) return;
      const first = clientId === null;
      clientId = r.clientId ?? NO_CLIENT_ID;
      const c = this.of(clientId);
      if (first) c.connections += 1;
      const api = apiName(r.apiKey);
      c.requests[api] = (c.requests[api] ?? 0) + 1;
      const v = `${api} v${r.apiVersion}`;
      c.byVersion[v] = (c.byVersion[v] ?? 0) + 1;
      c.totalRequests += 1;
      c.requestBytes += bytes;
      sent.set(r.correlationId, { api, at: performance.now() });
    });
    const responses = new HeadScanner(8, (head, bytes) => {
      if (head.length < 8) return;
      const correlationId = head.readInt32BE(4);
      const request = sent.get(correlationId);
      sent.delete(correlationId);
      const c = this.of(clientId ?? NO_CLIENT_ID);
      c.responses += 1;
      c.responseBytes += bytes;
      if (request) c.slowestMs[request.api] = Math.max(c.slowestMs[request.api] ?? 0, performance.now() - request.at);
    });

    // Counted before forwarding: once the client has an answer, its request is in the counts.
    client.on('data', (chunk: Buffer) => {
      requests.push(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      responses.push(chunk);
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([...this.routes.values()].map((r) => new Promise((resolve) => r.server.close(resolve))));
    this.routes.clear();
  }
}
