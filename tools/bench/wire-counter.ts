/**
 * Counts the Kafka requests lagbot sends, on the wire: a kafkajs `socketFactory` (kafkajs'
 * documented client option) that opens the socket the way kafkajs' default factory does and
 * reads the bytes going through it. Every Kafka request is a 4-byte big-endian size followed
 * by api_key (int16), api_version (int16) and correlation_id (int32); every response is a
 * 4-byte size followed by the correlation_id it answers. So requests are counted per API as
 * they are written, and each response is matched to its request for bytes and round trip.
 * Nothing is changed on the way: lagbot reads the same bytes it would without the counter.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ISocketFactory } from 'kafkajs';

/** The APIs a lag reader (lagbot, or Kafka's AdminClient for reference) and its connection set-up may send. */
const API_NAMES: Readonly<Record<number, string>> = {
  0: 'Produce',
  1: 'Fetch',
  2: 'ListOffsets',
  3: 'Metadata',
  8: 'OffsetCommit',
  9: 'OffsetFetch',
  10: 'FindCoordinator',
  11: 'JoinGroup',
  12: 'Heartbeat',
  13: 'LeaveGroup',
  14: 'SyncGroup',
  15: 'DescribeGroups',
  16: 'ListGroups',
  17: 'SaslHandshake',
  18: 'ApiVersions',
  19: 'CreateTopics',
  32: 'DescribeConfigs',
  36: 'SaslAuthenticate',
  60: 'DescribeCluster',
  69: 'ConsumerGroupDescribe',
  71: 'GetTelemetrySubscriptions',
  72: 'PushTelemetry',
  75: 'DescribeTopicPartitions',
};

export function apiName(apiKey: number): string {
  return API_NAMES[apiKey] ?? `ApiKey${apiKey}`;
}

/** What went over the wire between two `take()` calls. */
export interface WireCounts {
  /** Requests written, by API name. */
  requests: Record<string, number>;
  totalRequests: number;
  /** Bytes of the requests written, size prefixes included. */
  requestBytes: number;
  /** Responses received (matched to a request by correlation id). */
  responses: number;
  /** Bytes of the responses received, size prefixes included. */
  responseBytes: number;
  /** Longest round trip of each API: request written until the last byte of its response arrived. */
  slowestMs: Record<string, number>;
}

function emptyCounts(): WireCounts {
  return { requests: {}, totalRequests: 0, requestBytes: 0, responses: 0, responseBytes: 0, slowestMs: {} };
}

/**
 * Splits a byte stream into Kafka frames (4-byte size, then that many bytes), keeping the
 * first `headerBytes` of each frame (size included) and skipping the rest without copying.
 */
export class FrameScanner {
  private readonly header: Buffer;
  /** Header bytes of the current frame read so far. */
  private have = 0;
  /** Bytes of the current frame still to come after its header. */
  private remaining = 0;
  private broken = false;

  constructor(
    private readonly headerBytes: number,
    private readonly onFrame: (header: Buffer, frameBytes: number) => void,
  ) {
    this.header = Buffer.alloc(headerBytes);
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.have < this.headerBytes) {
        const n = Math.min(this.headerBytes - this.have, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.have);
        this.have += n;
        i += n;
        if (this.have < this.headerBytes) return;
        this.remaining = 4 + this.header.readInt32BE(0) - this.headerBytes;
        // A frame shorter than the header is not a Kafka message (raw SASL v0 tokens could
        // be): stop reading this stream rather than count garbage.
        if (this.remaining < 0) this.broken = true;
        else if (this.remaining === 0) this.done();
        continue;
      }
      const skip = Math.min(this.remaining, chunk.length - i);
      i += skip;
      this.remaining -= skip;
      if (this.remaining === 0) this.done();
    }
  }

  private done(): void {
    const frameBytes = 4 + this.header.readInt32BE(0);
    this.have = 0;
    this.remaining = 0;
    this.onFrame(this.header, frameBytes);
  }
}

type SocketFactoryMaker = () => ISocketFactory;

/** kafkajs' own default factory (src/network/socketFactory.js): TLS or plain, keep-alive on. */
function kafkajsDefaultSocketFactory(): ISocketFactory {
  const require = createRequire(import.meta.url);
  return (require('kafkajs/src/network/socketFactory') as SocketFactoryMaker)();
}

/** The counter; pass `socketFactory` to the Kafka client whose requests are to be counted. */
export class WireCounter {
  private counts = emptyCounts();
  private readonly open = new Set<Socket>();
  readonly socketFactory: ISocketFactory;

  constructor(inner: ISocketFactory = kafkajsDefaultSocketFactory()) {
    this.socketFactory = (args) => this.instrument(inner(args));
  }

  /** Counts since the last call (or since the start), and a fresh window from now. */
  take(): WireCounts {
    const counts = this.counts;
    this.counts = emptyCounts();
    return counts;
  }

  /** Sockets open now (connections to brokers). */
  get connections(): number {
    return this.open.size;
  }

  private instrument(socket: Socket): Socket {
    const sent = new Map<number, { api: string; at: number }>();
    // Request header: size, api_key, api_version, correlation_id.
    const requests = new FrameScanner(12, (header, bytes) => {
      const api = apiName(header.readInt16BE(4));
      const c = this.counts;
      c.requests[api] = (c.requests[api] ?? 0) + 1;
      c.totalRequests += 1;
      c.requestBytes += bytes;
      sent.set(header.readInt32BE(8), { api, at: performance.now() });
    });
    // Response header: size, correlation_id.
    const responses = new FrameScanner(8, (header, bytes) => {
      const correlationId = header.readInt32BE(4);
      const request = sent.get(correlationId);
      sent.delete(correlationId);
      const c = this.counts;
      c.responses += 1;
      c.responseBytes += bytes;
      if (request) c.slowestMs[request.api] = Math.max(c.slowestMs[request.api] ?? 0, performance.now() - request.at);
    });

    // kafkajs writes each request with socket.write(buffer); the counter sees it first.
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk === 'string') requests.push(Buffer.from(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8'));
      else if (chunk instanceof Uint8Array) requests.push(chunk);
      return write(chunk, ...rest);
    }) as Socket['write'];
    // A second 'data' listener beside kafkajs' own: the socket already flows, nothing is taken away.
    socket.on('data', (chunk: Buffer) => responses.push(chunk));
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      sent.clear();
    });
    return socket;
  }
}
