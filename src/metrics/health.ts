import type { Clock } from '../core/ports.js';

/** What is known about the last lag check. */
export interface HealthSnapshot {
  /** The last check succeeded; false before the first check. */
  ok: boolean;
  lastCheckAt: number | null;
  lastSuccessAt: number | null;
  consecutiveFailures: number;
  lastError: string | null;
}

export type HealthStatus = 'starting' | 'ok' | 'failing' | 'stale';

/** The verdict served on /healthz. */
export interface HealthReport extends Omit<HealthSnapshot, 'ok'> {
  /** Healthy: HTTP 200. True while starting too. */
  ok: boolean;
  status: HealthStatus;
  /** Why lagbot is unhealthy; null when it is healthy or starting. */
  reason: string | null;
  now: number;
  staleAfterMs: number;
}

export interface HealthStateOptions {
  clock: Clock;
  /** Unhealthy once the last success is older than this; about 3 check intervals. */
  staleAfterMs: number;
}

/**
 * Health of the lag checks. A failed check makes lagbot unhealthy at once, and so does a
 * checker that silently stopped (no success for `staleAfterMs`), which failure counting
 * alone never notices.
 */
export class HealthState {
  private readonly clock: Clock;
  readonly staleAfterMs: number;
  private readonly startedAt: number;
  private state: HealthSnapshot = {
    ok: false,
    lastCheckAt: null,
    lastSuccessAt: null,
    consecutiveFailures: 0,
    lastError: null,
  };

  constructor(options: HealthStateOptions) {
    if (!(options.staleAfterMs > 0)) throw new Error(`staleAfterMs must be positive, got ${options.staleAfterMs}`);
    this.clock = options.clock;
    this.staleAfterMs = options.staleAfterMs;
    this.startedAt = options.clock.now();
  }

  recordSuccess(at: number = this.clock.now()): void {
    this.state = { ok: true, lastCheckAt: at, lastSuccessAt: at, consecutiveFailures: 0, lastError: null };
  }

  recordFailure(error: unknown, at: number = this.clock.now()): void {
    this.state = {
      ...this.state,
      ok: false,
      lastCheckAt: at,
      consecutiveFailures: this.state.consecutiveFailures + 1,
      lastError: error instanceof Error ? error.message : String(error),
    };
  }

  snapshot(): HealthSnapshot {
    return { ...this.state };
  }

  report(): HealthReport {
    const now = this.clock.now();
    const { ok: _lastOk, ...facts } = this.state;
    const verdict = (status: HealthStatus, reason: string | null): HealthReport => ({
      ok: status === 'ok' || status === 'starting',
      status,
      reason,
      ...facts,
      now,
      staleAfterMs: this.staleAfterMs,
    });
    const stale = `stale after ${seconds(this.staleAfterMs)}`;

    if (this.state.lastCheckAt === null) {
      // A fresh process is not unhealthy, but a first check that never ends must not hide
      // behind "starting" forever.
      const waited = now - this.startedAt;
      if (waited <= this.staleAfterMs) return verdict('starting', null);
      return verdict('stale', `no check has completed in ${seconds(waited)} since start (${stale})`);
    }
    if (!this.state.ok) {
      const n = this.state.consecutiveFailures;
      const since =
        this.state.lastSuccessAt === null ? 'no successful check yet' : `last success ${seconds(now - this.state.lastSuccessAt)} ago`;
      return verdict('failing', `last check failed: ${this.state.lastError} (${n} in a row; ${since})`);
    }
    const age = now - (this.state.lastSuccessAt ?? this.state.lastCheckAt);
    if (age > this.staleAfterMs) return verdict('stale', `last successful check was ${seconds(age)} ago (${stale})`);
    return verdict('ok', null);
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** `/healthz`: each cluster's verdict, and one for lagbot. */
export interface ClustersHealthReport {
  /** HTTP 200 unless no cluster is healthy: one unreachable cluster degrades that cluster only. */
  ok: boolean;
  /** `degraded`: some clusters are unhealthy, others fine. */
  status: HealthStatus | 'degraded';
  reason: string | null;
  now: number;
  clusters: Record<string, HealthReport>;
}

export function clustersHealth(byCluster: ReadonlyMap<string, HealthState>, now: number): ClustersHealthReport {
  const clusters = Object.fromEntries([...byCluster].map(([name, health]) => [name, health.report()]));
  const reports = Object.entries(clusters);
  const unhealthy = reports.filter(([, r]) => !r.ok);
  const reason = unhealthy.length === 0 ? null : unhealthy.map(([name, r]) => `${name}: ${r.reason}`).join('; ');
  if (unhealthy.length === 0) {
    const status = reports.every(([, r]) => r.status === 'starting') ? 'starting' : 'ok';
    return { ok: true, status, reason, now, clusters };
  }
  if (unhealthy.length < reports.length) return { ok: true, status: 'degraded', reason, now, clusters };
  // Every cluster is unhealthy: lagbot as a whole is, in the worst way any of them is.
  const status = unhealthy.some(([, r]) => r.status === 'failing') ? 'failing' : 'stale';
  return { ok: false, status, reason, now, clusters };
}
