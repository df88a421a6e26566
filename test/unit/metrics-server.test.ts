import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/protocol.js';
import { HealthState } from '../../src/metrics/health.js';
import { LagMetrics } from '../../src/metrics/metrics.js';
import { metricsRoutes, startMetricsServer, type RunningMetricsServer } from '../../src/metrics/routes.js';

let server: RunningMetricsServer | null = null;

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(clock: Clock) {
  const metrics = new LagMetrics();
  const health = new HealthState({ clock, staleAfterMs: 90_000 });
  server = await startMetricsServer({ port: 0, host: '127.0.0.1', routes: metricsRoutes(metrics, health) });
  return { metrics, health, base: `http://127.0.0.1:${server.port}` };
}

describe('startMetricsServer', () => {
  it('serves /metrics and /healthz, and answers 503 once checks fail', async () => {
    let now = 1_000_000;
    const { metrics, health, base } = await start({ now: () => now });
    expect(server?.port).toBeGreaterThan(0);

    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scrape.text();
    expect(text).toContain('# TYPE kafka_consumer_lag gauge');
    expect(text).toContain('lagbot_process_cpu_user_seconds_total');

    let healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(healthz.headers.get('content-type')).toBe('application/json');
    expect(await healthz.json()).toMatchObject({ ok: true, status: 'starting' });

    health.recordSuccess();
    metrics.recordCheck([], now);
    healthz = await fetch(`${base}/healthz?verbose=1`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toMatchObject({ ok: true, status: 'ok' });

    now += 30_000;
    health.recordFailure(new Error('Connection timeout'));
    healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(503);
    expect(await healthz.json()).toMatchObject({ ok: false, status: 'failing', lastError: 'Connection timeout' });
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const { base } = await start({ now: () => 0 });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('stops listening on stop()', async () => {
    const { base } = await start({ now: () => 0 });
    await server?.stop();
    server = null;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
