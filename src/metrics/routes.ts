import type { CustomRoute } from '@slack/bolt';
import { clustersHealth, type HealthState } from './health.js';
import type { LagMetrics } from './metrics.js';

export type Role = 'leader' | 'standby';

/**
 * `GET /metrics` (Prometheus text) and `GET /healthz` (JSON per cluster and this replica's
 * role; 503 when no cluster is healthy), as Bolt custom routes. A standby runs no checks,
 * so its clusters are not its health: it answers 200 with `status: standby`.
 */
export function metricsRoutes(metrics: LagMetrics, health: ReadonlyMap<string, HealthState>, now: () => number, role: () => Role = () => 'leader'): CustomRoute[] {
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
        const replica = role();
        const report = replica === 'leader' ? { role: replica, ...clustersHealth(health, now()) } : { role: replica, ok: true, status: 'standby', reason: null, now: now() };
        res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(report));
      },
    },
  ];
}
