import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';
import type { HealthState } from './health.js';
import type { LagMetrics } from './metrics.js';

/** `GET /metrics` (Prometheus text) and `GET /healthz` (JSON; 503 when unhealthy), as Bolt custom routes. */
export function metricsRoutes(metrics: LagMetrics, health: HealthState): CustomRoute[] {
  return [
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req, res) => {
        metrics.metricsText().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
            res.end(text);
          },
          (err: unknown) => {
            // A failing collector must not leave the scrape hanging until Prometheus times out.
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
            res.end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
          },
        );
      },
    },
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        const report = health.report();
        res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(report));
      },
    },
  ];
}

export interface MetricsServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  routes: CustomRoute[];
}

export interface RunningMetricsServer {
  /** The real port, also when 0 was asked. */
  port: number;
  stop(): Promise<void>;
}

/**
 * Serves the same routes on a plain node:http server, for when they should not depend on a
 * Bolt receiver: Socket Mode (no HTTP server of ours) or no Slack app at all. Paths match
 * exactly: these routes have no parameters, so Bolt's path patterns are not needed.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningMetricsServer> {
  const byPath = new Map<string, Map<string, CustomRoute['handler']>>();
  for (const route of options.routes) {
    const methods = byPath.get(route.path) ?? new Map<string, CustomRoute['handler']>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) methods.set(m.toUpperCase(), route.handler);
    byPath.set(route.path, methods);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const methods = byPath.get(path);
    if (!methods) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    const handler = methods.get((req.method ?? 'GET').toUpperCase());
    if (!handler) {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: [...methods.keys()].join(', ') });
      res.end('method not allowed\n');
      return;
    }
    try {
      handler(Object.assign(req, { params: {} }), res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() waits for open connections; idle keep-alive ones would hold it up.
        server.closeIdleConnections();
      }),
  };
}
