/**
 * The counting proxy (request-proxy.ts) in a process of its own, so that neither the
 * benchmark's own work (the Slack stand-in, the state builder) nor lagbot's delays what it
 * forwards. Driven over Node IPC by ProxyClient.
 */
import { RequestProxy } from './request-proxy.js';

export type ProxyRequest =
  | { kind: 'listen' }
  | { kind: 'route'; port: number; target: { host: string; port: number } }
  | { kind: 'take' }
  | { kind: 'stop' };

export interface ProxyEnvelope {
  id: number;
  request: ProxyRequest;
}

export type ProxyReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

const proxy = new RequestProxy();

async function handle(request: ProxyRequest): Promise<unknown> {
  switch (request.kind) {
    case 'listen':
      return proxy.listen();
    case 'route':
      proxy.route(request.port, request.target);
      return null;
    case 'take':
      return proxy.take();
    case 'stop':
      await proxy.close();
      return null;
  }
}

process.on('message', (message: ProxyEnvelope) => {
  handle(message.request).then(
    (result) => process.send?.({ id: message.id, ok: true, result }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on('disconnect', () => {
  void proxy.close().finally(() => process.exit(0));
});
